//! The PC/SC calls the watcher makes, behind a small trait.
//!
//! [`PcscLite`] is the real backend (the `pcsc` crate over libpcsclite and
//! `pcscd`). Tests substitute a scripted backend, because a real `pcscd`
//! with `vsmartcard-vpcd` cannot unplug a reader or pull a card from a
//! real reader in the middle of an APDU.
//!
//! The types mirror PC/SC closely (`SCardEstablishContext`,
//! `SCardListReaders`, `SCardGetStatusChange`, `SCardConnect`,
//! `SCardTransmit`, `SCardDisconnect`) and the errors are the `pcsc`
//! crate's, so a fake must answer what pcscd answers; the watcher's
//! decisions stay in [`super::watcher`].

use std::ffi::CString;
use std::time::Duration;

use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

/// The name of PC/SC's pseudo-reader whose state changes when a reader is
/// plugged in or unplugged (`\\?PnP?\Notification`).
pub const PNP_NOTIFICATION: &str = "\\\\?PnP?\\Notification";

/// Opens PC/SC contexts. Shared between the watcher and its card-read
/// threads, hence `Send + Sync`.
pub trait PcscBackend: Send + Sync {
    /// `SCardEstablishContext`: fails with [`pcsc::Error::NoService`] when
    /// the PC/SC service is not running.
    fn establish(&self) -> Result<Box<dyn PcscContext>, pcsc::Error>;
}

/// One PC/SC context. After the service stops or restarts, a context stays
/// unusable: every call fails and the watcher establishes a new one.
pub trait PcscContext: Send {
    /// `SCardListReaders`: [`pcsc::Error::NoReadersAvailable`] when there
    /// are none.
    fn list_readers(&self) -> Result<Vec<String>, pcsc::Error>;

    /// `SCardGetStatusChange`: returns as soon as one of `readers` is in a
    /// state other than its current state (setting its event state), or
    /// [`pcsc::Error::Timeout`] after `timeout`.
    fn get_status_change(
        &self,
        timeout: Duration,
        readers: &mut [ReaderWatch],
    ) -> Result<(), pcsc::Error>;

    /// `SCardConnect` to the card in `reader`, shared, any protocol.
    fn connect(&self, reader: &str) -> Result<Box<dyn PcscCard>, pcsc::Error>;
}

/// A connected card.
pub trait PcscCard: Send {
    /// `SCardTransmit`: one command APDU, its response APDU.
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, pcsc::Error>;

    /// `SCardDisconnect`, leaving the card as it is.
    fn disconnect(self: Box<Self>) -> Result<(), pcsc::Error>;
}

/// One entry of `SCardGetStatusChange`'s reader list (the `pcsc` crate's
/// `ReaderState` without its FFI layout): a reader name, the state the
/// caller knows and the state PC/SC reports. Like PC/SC, the upper 16 bits
/// of a state hold the reader's event count (card insertions and
/// removals) or, for [`PNP_NOTIFICATION`], the number of readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderWatch {
    name: String,
    current: State,
    event: State,
}

impl ReaderWatch {
    /// A reader (or [`PNP_NOTIFICATION`]) whose state the caller presumes
    /// to be `current` (usually [`State::UNAWARE`]).
    pub fn new(name: impl Into<String>, current: State) -> Self {
        Self {
            name: name.into(),
            current,
            event: State::UNAWARE,
        }
    }

    /// The reader's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The state the caller knows, flags only.
    pub fn current_state(&self) -> State {
        State::from_bits_truncate(self.current.bits())
    }

    /// The event count in the state the caller knows.
    pub fn current_count(&self) -> u32 {
        upper_bits(self.current)
    }

    /// The state reported by the last `get_status_change`, flags only.
    pub fn event_state(&self) -> State {
        State::from_bits_truncate(self.event.bits())
    }

    /// The event count reported by the last `get_status_change`.
    pub fn event_count(&self) -> u32 {
        upper_bits(self.event)
    }

    /// Sets the reported state: `flags` and the event count `count`. For
    /// backends.
    pub fn set_event(&mut self, flags: State, count: u32) {
        self.event = flags | State::from_bits_retain(pcsc::ffi::DWORD::from(count & 0xFFFF) << 16);
    }

    /// Takes the reported state (count included) as the known one.
    pub fn sync_current_state(&mut self) {
        self.current = self.event;
    }
}

fn upper_bits(s: State) -> u32 {
    // The mask keeps 16 bits: the cast cannot truncate.
    ((s.bits() & 0xFFFF_0000) >> 16) as u32
}

/// The real backend: libpcsclite talking to `pcscd`, user scope.
#[derive(Debug, Clone, Copy, Default)]
pub struct PcscLite;

impl PcscBackend for PcscLite {
    fn establish(&self) -> Result<Box<dyn PcscContext>, pcsc::Error> {
        Ok(Box::new(LiteContext(Context::establish(Scope::User)?)))
    }
}

struct LiteContext(Context);

impl PcscContext for LiteContext {
    fn list_readers(&self) -> Result<Vec<String>, pcsc::Error> {
        Ok(self
            .0
            .list_readers_owned()?
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect())
    }

    fn get_status_change(
        &self,
        timeout: Duration,
        readers: &mut [ReaderWatch],
    ) -> Result<(), pcsc::Error> {
        let mut states = readers
            .iter()
            .map(|r| {
                let name = CString::new(r.name.as_str()).map_err(|_| pcsc::Error::InvalidValue)?;
                // The count bits of the known state go to pcscd as they are.
                Ok(ReaderState::new(name, r.current))
            })
            .collect::<Result<Vec<_>, pcsc::Error>>()?;
        self.0.get_status_change(timeout, &mut states)?;
        for (r, s) in readers.iter_mut().zip(&states) {
            r.set_event(s.event_state(), s.event_count());
        }
        Ok(())
    }

    fn connect(&self, reader: &str) -> Result<Box<dyn PcscCard>, pcsc::Error> {
        let name = CString::new(reader).map_err(|_| pcsc::Error::InvalidValue)?;
        let card = self.0.connect(&name, ShareMode::Shared, Protocols::ANY)?;
        Ok(Box::new(LiteCard(card)))
    }
}

struct LiteCard(pcsc::Card);

impl PcscCard for LiteCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, pcsc::Error> {
        // A short APDU's longest answer: 256 data bytes and the status word.
        let mut buf = [0u8; 258];
        Ok(self.0.transmit(apdu, &mut buf)?.to_vec())
    }

    fn disconnect(self: Box<Self>) -> Result<(), pcsc::Error> {
        self.0
            .disconnect(Disposition::LeaveCard)
            .map_err(|(_, e)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_watch_keeps_the_event_count_apart_from_the_flags() {
        let mut r = ReaderWatch::new("r", State::UNAWARE);
        r.set_event(State::PRESENT | State::CHANGED, 7);
        assert_eq!(r.event_state(), State::PRESENT | State::CHANGED);
        assert_eq!(r.event_count(), 7);
        assert_eq!(r.current_state(), State::UNAWARE);
        r.sync_current_state();
        assert_eq!(r.current_state(), State::PRESENT | State::CHANGED);
        assert_eq!(r.current_count(), 7);
    }

    #[test]
    fn pnp_name_is_pcsc_s() {
        assert_eq!(pcsc::PNP_NOTIFICATION().to_str().unwrap(), PNP_NOTIFICATION);
    }
}
