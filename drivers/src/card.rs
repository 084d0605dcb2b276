//! Card sources: devices that turn a card on a reader into [`CardEvent`]s.
//!
//! Each source runs on its own thread (its drivers are blocking) and pushes
//! events into a [`CardSink`]. The trait is object safe: the daemon holds
//! `Box<dyn CardSource>`s from [`crate::sources::open_card_source`] and
//! hands each one to [`spawn_card_source`]. This module knows no driver:
//! the list of sources lives apart, in [`crate::sources`] (as probe-rs
//! keeps its probe list apart from the probe trait).
//!
//! Why a [`CardSink`] rather than a bare `mpsc::Sender`: the daemon can pass a
//! closure that forwards straight into a tokio channel (`blocking_send` or
//! `UnboundedSender::send`), with no forwarding thread; a
//! `std::sync::mpsc::Sender<CardEvent>` is a sink as it is.

use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crate::document::CardRead;

/// Something that happened at a card source. `Debug` never shows personal
/// data (see [`CardRead`]); a priority card's UID shows masked.
#[derive(Clone, PartialEq, Eq)]
pub enum CardEvent {
    /// An ID card (or permit) was placed and read. Sent once per placement.
    IdCard(CardRead),
    /// A contactless priority card was presented.
    PriorityCard {
        /// The card's UID.
        uid: Vec<u8>,
    },
    /// A card was placed but could not be read. Sent at most once per
    /// placement.
    ReadFailed {
        /// Source name.
        device: String,
        /// Why (the kiosk words it for the resident).
        reason: ReadFailure,
    },
    /// The card that produced `IdCard`/`ReadFailed` was taken away.
    Removed {
        /// Source name.
        device: String,
    },
    /// The device is unplugged, unreadable or mute; the source keeps trying.
    DeviceError {
        /// Source name.
        device: String,
        /// What is wrong (the kiosk words it for residents and staff).
        fault: DeviceFault,
    },
    /// The device answers again after a `DeviceError`.
    Reconnected {
        /// Source name.
        device: String,
    },
}

/// Why a card placed on a reader could not be read. The `String`s are
/// technical details for the log (English), never shown to a resident:
/// the kiosk words each kind for the screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadFailure {
    /// The card was read, but what it holds is not a usable card (an
    /// invalid identity number, a date that does not exist, a missing
    /// field). Rereading the same card will not help.
    #[error("not a usable card: {0}")]
    BadCard(String),
    /// The reader could not read the card, after retrying (a damaged
    /// reply, a timeout, the card moved).
    #[error("card could not be read: {0}")]
    Unreadable(String),
    /// A contactless card that gives no UID: not a priority card.
    #[error("not a priority card: {0}")]
    NotAPriorityCard(String),
}

/// Why a card reader is out of service. The `String`s are technical
/// details for the log and for ops (English).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceFault {
    /// The device cannot be opened, or it went away (unplugged, device
    /// node gone, port failure).
    #[error("disconnected: {0}")]
    Disconnected(String),
    /// The device is there but does not answer.
    #[error("no answer: {0}")]
    NoAnswer(String),
    /// The reader's security module (SAM) reports a fault: cards cannot be
    /// read although the reader answers.
    #[error("security module fault: {0}")]
    ModuleFault(String),
    /// The platform service the reader needs is unavailable (pcscd).
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    /// No matching reader is plugged in.
    #[error("no reader found: {0}")]
    NotFound(String),
}

/// A UID for logs: the first two bytes in hex, then `…` (e.g. `04a2…`).
pub fn mask_uid(uid: &[u8]) -> String {
    let mut out: String = uid.iter().take(2).map(|b| format!("{b:02x}")).collect();
    out.push('…');
    out
}

/// Where a source delivers its events.
pub trait CardSink: Send {
    /// Delivers one event; `false` once the receiver is gone (the source
    /// then stops).
    fn send(&mut self, event: CardEvent) -> bool;
}

impl CardSink for Sender<CardEvent> {
    fn send(&mut self, event: CardEvent) -> bool {
        Sender::send(self, event).is_ok()
    }
}

impl<F: FnMut(CardEvent) -> bool + Send> CardSink for F {
    fn send(&mut self, event: CardEvent) -> bool {
        self(event)
    }
}

/// A device that reports cards. Object safe.
pub trait CardSource: Send {
    /// Name used in events and logs, e.g. `idcard:/dev/ttyUSB0`.
    fn name(&self) -> &str;

    /// Runs until `stop` is set or the sink is closed. Blocking: call it on
    /// a thread of its own. Never panics on device trouble: errors become
    /// [`CardEvent::DeviceError`] and the source retries.
    fn run(self: Box<Self>, sink: Box<dyn CardSink>, stop: Arc<AtomicBool>);
}

impl std::fmt::Debug for CardEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CardEvent::IdCard(c) => f.debug_tuple("IdCard").field(c).finish(),
            CardEvent::PriorityCard { uid } => f
                .debug_struct("PriorityCard")
                .field("uid", &mask_uid(uid))
                .finish(),
            CardEvent::ReadFailed { device, reason } => f
                .debug_struct("ReadFailed")
                .field("device", device)
                .field("reason", reason)
                .finish(),
            CardEvent::Removed { device } => {
                f.debug_struct("Removed").field("device", device).finish()
            }
            CardEvent::DeviceError { device, fault } => f
                .debug_struct("DeviceError")
                .field("device", device)
                .field("fault", fault)
                .finish(),
            CardEvent::Reconnected { device } => f
                .debug_struct("Reconnected")
                .field("device", device)
                .finish(),
        }
    }
}

/// Runs `source` on a named thread of its own.
pub fn spawn_card_source(
    source: Box<dyn CardSource>,
    sink: Box<dyn CardSink>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    let name = format!("card-{}", source.name());
    thread::Builder::new()
        .name(name)
        .spawn(move || source.run(sink, stop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_priority_card_uid_is_masked_in_debug_output() {
        let e = CardEvent::PriorityCard {
            uid: vec![0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6],
        };
        let shown = format!("{e:?}");
        assert!(!shown.contains("C3"), "{shown}");
        assert!(!shown.contains("195"), "{shown}");
        assert!(shown.contains("PriorityCard"), "{shown}");
    }
}
