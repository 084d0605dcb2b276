//! The contactless priority card on a PC/SC reader.
//!
//! - [`watcher`]: a [`crate::card::CardSource`] that watches one reader
//!   through `pcscd` (libpcsclite) and reports each card's UID;
//! - [`backend`]: the PC/SC calls the watcher makes, as a trait: the real
//!   [`PcscLite`] or a scripted fake (a reader that can be unplugged);
//! - [`vcard`]: a virtual card for `vsmartcard-vpcd`, for tests and demos.
//!
//! UIDs are not personal data by themselves, but logs only ever show them
//! masked ([`mask_uid`]).

pub mod backend;
pub mod vcard;
pub mod watcher;

pub use backend::{PcscBackend, PcscCard, PcscContext, PcscLite, ReaderWatch};
pub use watcher::{probe, probe_with, PcscConfig, PcscError, PcscWatcher};

pub use crate::card::mask_uid;

#[cfg(test)]
mod tests {
    use super::mask_uid;

    #[test]
    fn masks_uids() {
        assert_eq!(mask_uid(&[0x04, 0xA2, 0x3B, 0x11]), "04a2…");
        assert_eq!(mask_uid(&[0x08]), "08…");
        assert_eq!(mask_uid(&[]), "…");
    }
}
