//! Card sources: devices that turn a card on a reader into [`CardEvent`]s.
//!
//! Each source runs on its own thread (its drivers are blocking) and pushes
//! events into a [`CardSink`]. The trait is object safe: the daemon holds
//! `Box<dyn CardSource>`s from [`open_card_source`] and hands each one to
//! [`spawn_card_source`].
//!
//! Why a [`CardSink`] rather than a bare `mpsc::Sender`: the daemon can pass a
//! closure that forwards straight into a tokio channel (`blocking_send` or
//! `UnboundedSender::send`), with no forwarding thread; a
//! `std::sync::mpsc::Sender<CardEvent>` is a sink as it is.

use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::idcard::reader::{IdCardReader, IdReaderConfig};
use crate::idcard::sim::{SimConnector, SimControl};
use crate::idcard::text::CardRead;

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
    /// A card was placed but could not be read; `message` is for the
    /// resident (Simplified Chinese). Sent at most once per placement.
    ReadFailed {
        /// Source name.
        device: String,
        /// What went wrong, for the screen.
        message: String,
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
        /// What went wrong, for staff.
        message: String,
    },
    /// The device answers again after a `DeviceError`.
    Reconnected {
        /// Source name.
        device: String,
    },
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
                .field("uid", &crate::pcsc::mask_uid(uid))
                .finish(),
            CardEvent::ReadFailed { device, message } => f
                .debug_struct("ReadFailed")
                .field("device", device)
                .field("message", message)
                .finish(),
            CardEvent::Removed { device } => {
                f.debug_struct("Removed").field("device", device).finish()
            }
            CardEvent::DeviceError { device, message } => f
                .debug_struct("DeviceError")
                .field("device", device)
                .field("message", message)
                .finish(),
            CardEvent::Reconnected { device } => f
                .debug_struct("Reconnected")
                .field("device", device)
                .finish(),
        }
    }
}

/// Which card source to open.
#[derive(Debug, Clone)]
pub enum CardSourceConfig {
    /// The GA 467 reader on a serial port.
    IdReader(IdReaderConfig),
    /// The PC/SC reader for contactless priority cards.
    Pcsc(crate::pcsc::PcscConfig),
    /// An in-process simulated GA 467 reader (demo mode, tests), steered
    /// through `control`. It runs the real driver against the simulator.
    SimulatedIdReader {
        /// Place/remove cards, unplug, etc.
        control: SimControl,
        /// Poll interval of the driver.
        poll_interval: Duration,
    },
}

/// Builds the source `config` describes. Opening the device happens in
/// [`CardSource::run`], so this never fails.
pub fn open_card_source(config: &CardSourceConfig) -> Box<dyn CardSource> {
    match config {
        CardSourceConfig::IdReader(c) => Box::new(IdCardReader::new(c.clone())),
        CardSourceConfig::Pcsc(c) => Box::new(crate::pcsc::PcscWatcher::new(c.clone())),
        CardSourceConfig::SimulatedIdReader {
            control,
            poll_interval,
        } => {
            let config = IdReaderConfig {
                poll_interval: *poll_interval,
                ..IdReaderConfig::default()
            };
            Box::new(IdCardReader::with_connector(
                "idcard:simulated",
                config,
                Box::new(SimConnector::new(control.clone())),
            ))
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
