//! The card sources greenwave can open, and the factory that builds one
//! from its configuration. Kept apart from the [`CardSource`] trait
//! (`card.rs`), which knows no driver: the drivers depend on the trait, and
//! only this list depends on the drivers.

use std::time::Duration;

use crate::card::CardSource;
use crate::idcard::reader::{IdCardReader, IdReaderConfig};
use crate::idcard::sim::{SimConnector, SimControl};

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
