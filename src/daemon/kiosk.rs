//! The kiosk's workers: the card sources (a thread each, the drivers'
//! blocking loops), the keypad, and the kiosk thread that owns the printer
//! and the screen ([`crate::kiosk::actor`]).

use std::sync::Arc;

use greenwave_drivers::card::{spawn_card_source, CardEvent};
use greenwave_drivers::sources::{open_card_source, CardSourceConfig};
use tokio::sync::watch;

use super::supervisor::Supervisor;
use super::Options;
use crate::config::{Config, IdReaderSetting};
use crate::hall::Clock;
use crate::kiosk::actor::{self, Input, Kiosk, KioskParts};
use crate::kiosk::{DeviceStates, KioskHandle, TicketDesk};
use crate::roster::HashKey;
use crate::voice::Voice;

/// What the kiosk's workers need.
pub struct Deps {
    /// The configuration as started.
    pub cfg: Config,
    /// What the kiosk knows of its hall (reloads).
    pub settings: watch::Receiver<Arc<crate::kiosk::KioskSettings>>,
    /// Where tickets come from.
    pub desk: Arc<dyn TicketDesk>,
    /// The identity key.
    pub key: HashKey,
    /// The hall's voice.
    pub voice: Voice,
    /// The hall's clock.
    pub clock: Arc<dyn Clock>,
}

/// Starts the kiosk when the configuration has a card reader or a
/// printer; its handle for the API.
pub fn start(
    sup: &mut Supervisor,
    deps: Deps,
    options: Options,
) -> anyhow::Result<Option<KioskHandle>> {
    let sources = card_sources(&deps.cfg, &options);
    if sources.is_empty() && deps.cfg.devices.printer.is_none() {
        return Ok(None);
    }
    let printer = match &deps.cfg.devices.printer {
        Some(pc) => Some(greenwave_drivers::printer::open_printer(pc)?),
        None => None,
    };
    let devices = DeviceStates::of(&deps.cfg);
    let (handle, rx) = actor::channel(devices.clone());
    for s in &sources {
        let tx = handle.sender();
        sup.adopt(spawn_card_source(
            open_card_source(s),
            Box::new(move |ev: CardEvent| tx.send(Input::Card(ev)).is_ok()),
            sup.stop_flag(),
        )?);
    }
    start_keypad(handle.sender(), options.keys)?;
    let kiosk = Kiosk::new(KioskParts {
        desk: deps.desk,
        key: deps.key,
        printer,
        out: options.kiosk_out.unwrap_or_else(crate::kiosk::kiosk_lines),
        voice: deps.voice,
        settings: deps.settings,
        devices,
        clock: deps.clock,
    });
    sup.thread("kiosk", move |cancel| actor::run(kiosk, rx, cancel))?;
    tracing::info!(sources = sources.len(), "kiosk started");
    Ok(Some(handle))
}

/// The card sources of the configuration.
fn card_sources(cfg: &Config, options: &Options) -> Vec<CardSourceConfig> {
    let mut sources = Vec::new();
    match &cfg.devices.id_reader {
        Some(IdReaderSetting::Ga467(c)) => sources.push(CardSourceConfig::IdReader(c.clone())),
        Some(IdReaderSetting::Simulated { poll_interval }) => {
            sources.push(CardSourceConfig::SimulatedIdReader {
                control: options.sim_reader.clone().unwrap_or_default(),
                poll_interval: *poll_interval,
            })
        }
        None => {}
    }
    if let Some(p) = &cfg.devices.pcsc {
        sources.push(CardSourceConfig::Pcsc(p.clone()));
    }
    sources
}

/// The keypad: the kiosk's terminal (a keypad that types digits and
/// Enter), or the keys an embedding process gives. Not supervised: a read
/// of stdin cannot be interrupted, and the thread ends with the process
/// (or when the kiosk thread is gone).
fn start_keypad(
    tx: std::sync::mpsc::Sender<Input>,
    keys: Option<std::sync::mpsc::Receiver<String>>,
) -> std::io::Result<()> {
    let builder = std::thread::Builder::new().name("keypad".into());
    match keys {
        Some(from) => builder.spawn(move || {
            for k in from {
                if tx.send(Input::Key(k)).is_err() {
                    return;
                }
            }
        })?,
        None => builder.spawn(move || {
            use std::io::BufRead;
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { return };
                if tx.send(Input::Key(line)).is_err() {
                    return;
                }
            }
        })?,
    };
    Ok(())
}
