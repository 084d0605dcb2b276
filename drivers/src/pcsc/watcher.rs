//! Watches one PC/SC reader through `pcscd` and reports each contactless
//! card presented to it.
//!
//! The watcher waits in `SCardGetStatusChange` on the reader and on the
//! `\\?PnP?\Notification` pseudo-reader (readers appearing/disappearing),
//! each wait bounded by [`PcscConfig::poll_ms`] so that the stop flag is
//! honoured within about a second. When a card arrives it connects, sends
//! `FF CA 00 00 00` (GET DATA, UID) and reports [`CardEvent::PriorityCard`]
//! once per presentation, then [`CardEvent::Removed`] when the card leaves.
//! A card that answers GET DATA with an error status (no priority card)
//! gets one [`CardEvent::ReadFailed`] instead, then `Removed`.
//!
//! Failures:
//! - pcscd stops or restarts: the context becomes invalid; the watcher
//!   reports [`CardEvent::DeviceError`], re-establishes a context with
//!   capped exponential backoff and reports [`CardEvent::Reconnected`] once
//!   a matching reader is there again (a card reported before the loss gets
//!   its `Removed` first: its state can no longer be known);
//! - the reader is unplugged: `DeviceError`, then `Reconnected` when it is
//!   back;
//! - the card is pulled mid-APDU: no event (the read is logged), and the
//!   watcher carries on.
//!
//! Every PC/SC call goes through a [`PcscBackend`]: [`PcscLite`] (pcscd)
//! by default, a scripted fake in tests ([`PcscWatcher::with_backend`]).
//!
//! Card reads run on a short-lived thread with a PC/SC context of its own,
//! because PC/SC has no timeout for `SCardConnect`/`SCardTransmit` and
//! libpcsclite serialises the calls on one context: a card that never
//! answers cannot block the watcher, which gives up after
//! [`PcscConfig::read_timeout_ms`].

use std::convert::Infallible;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use pcsc::State;
use serde::{Deserialize, Serialize};
use tracing::{debug, info, warn};

use super::backend::{PcscBackend, PcscContext, PcscLite, ReaderWatch, PNP_NOTIFICATION};
use super::mask_uid;
use crate::card::{CardEvent, CardSink, CardSource, DeviceFault, ReadFailure};

/// GET DATA, P1 = 00: the card's UID (PC/SC part 3, answered by the reader
/// for real contactless cards).
pub const GET_UID_APDU: [u8; 5] = [0xFF, 0xCA, 0x00, 0x00, 0x00];

/// Longest UID accepted (ISO 14443 UIDs are 4, 7 or 10 bytes; FeliCa IDm 8).
pub const MAX_UID_LEN: usize = 16;

/// The PC/SC section of the daemon's configuration (`[devices.pcsc]`).
///
/// ```toml
/// [devices.pcsc]
/// reader = "ACR122"          # substring of the reader name; omit for the first reader
/// poll_ms = 500              # longest single wait for reader events (10..=1000)
/// read_timeout_ms = 3000     # connect + GET DATA (100..=30000)
/// reconnect_initial_ms = 500 # backoff after pcscd is lost, doubling ...
/// reconnect_max_ms = 5000    # ... up to this
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PcscConfig {
    /// Substring (case-sensitive) of the reader name; `None`: the first
    /// reader pcscd lists.
    pub reader: Option<String>,
    /// Longest single `SCardGetStatusChange` wait, in ms. Bounds how long
    /// a stop request takes to be seen.
    pub poll_ms: u64,
    /// Longest wait for one card read (connect + GET DATA), in ms.
    pub read_timeout_ms: u64,
    /// First delay before re-establishing a lost PC/SC context, in ms.
    pub reconnect_initial_ms: u64,
    /// Cap of that delay (it doubles after each failure), in ms.
    pub reconnect_max_ms: u64,
}

impl Default for PcscConfig {
    fn default() -> Self {
        Self {
            reader: None,
            poll_ms: 500,
            read_timeout_ms: 3000,
            reconnect_initial_ms: 500,
            reconnect_max_ms: 5000,
        }
    }
}

impl PcscConfig {
    /// Checks the values. [`PcscWatcher`] clamps out-of-range values rather
    /// than failing, so the daemon should call this when loading its
    /// configuration.
    pub fn validate(&self) -> Result<(), PcscError> {
        if self.reader.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return Err(PcscError::InvalidConfig(
                "reader is empty: omit it to use the first reader".into(),
            ));
        }
        for (name, ms, range) in [
            ("poll_ms", self.poll_ms, 10..=1000),
            ("read_timeout_ms", self.read_timeout_ms, 100..=30_000),
            (
                "reconnect_initial_ms",
                self.reconnect_initial_ms,
                10..=60_000,
            ),
            ("reconnect_max_ms", self.reconnect_max_ms, 10..=300_000),
        ] {
            if !range.contains(&ms) {
                return Err(PcscError::InvalidConfig(format!(
                    "{name} = {ms}: expected {} to {} ms",
                    range.start(),
                    range.end()
                )));
            }
        }
        if self.reconnect_max_ms < self.reconnect_initial_ms {
            return Err(PcscError::InvalidConfig(format!(
                "reconnect_max_ms = {} is below reconnect_initial_ms = {}",
                self.reconnect_max_ms, self.reconnect_initial_ms
            )));
        }
        Ok(())
    }
}

/// The values the watcher runs with, clamped into their valid ranges.
#[derive(Debug, Clone, Copy)]
struct Timing {
    poll: Duration,
    read_timeout: Duration,
    backoff_initial: Duration,
    backoff_max: Duration,
}

impl From<&PcscConfig> for Timing {
    fn from(c: &PcscConfig) -> Self {
        let initial = c.reconnect_initial_ms.clamp(10, 60_000);
        Self {
            poll: Duration::from_millis(c.poll_ms.clamp(10, 1000)),
            read_timeout: Duration::from_millis(c.read_timeout_ms.clamp(100, 30_000)),
            backoff_initial: Duration::from_millis(initial),
            backoff_max: Duration::from_millis(c.reconnect_max_ms.clamp(initial, 300_000)),
        }
    }
}

/// What went wrong with the PC/SC stack, a reader or a card. The `Display`
/// text is English, for the log and ops; a [`CardEvent::DeviceError`]
/// carries it as the detail of its [`DeviceFault`].
#[derive(Debug, thiserror::Error)]
pub enum PcscError {
    /// A configuration value is out of range.
    #[error("invalid PC/SC configuration: {0}")]
    InvalidConfig(String),
    /// pcscd cannot be reached, or dropped our context (not running,
    /// restarting).
    #[error("PC/SC service unavailable: {0}")]
    Service(pcsc::Error),
    /// No reader matches the configuration (none plugged in, or none whose
    /// name contains `filter`).
    #[error("no reader found{}", filter.as_deref().map(|f| format!(" (name containing {f:?})")).unwrap_or_default())]
    NoReader {
        /// The configured name filter, if any.
        filter: Option<String>,
    },
    /// The reader in use went away (unplugged, or dropped by pcscd).
    #[error("reader disconnected: {reader}")]
    ReaderGone {
        /// The reader's name.
        reader: String,
    },
    /// Connecting to the card failed (card removed, mute, or held
    /// exclusively by another program).
    #[error("cannot connect to the card: {0}")]
    Connect(pcsc::Error),
    /// The APDU exchange failed, typically because the card was pulled in
    /// the middle of it.
    #[error("card exchange failed: {0}")]
    Transmit(pcsc::Error),
    /// The answer is shorter than a status word: the card left in the middle
    /// of the APDU (vpcd then answers with nothing) or the link failed.
    #[error("incomplete card answer ({len} bytes)")]
    Truncated {
        /// Length of the answer.
        len: usize,
    },
    /// The card answered GET DATA with an error status word.
    #[error("the card refuses GET DATA (SW {sw1:02X} {sw2:02X})")]
    Status {
        /// First status byte.
        sw1: u8,
        /// Second status byte.
        sw2: u8,
    },
    /// The answer to GET DATA has an empty or too long UID.
    #[error("the card answered an invalid UID ({len} bytes)")]
    BadUid {
        /// Length of the whole response.
        len: usize,
    },
    /// A thread of the watcher panicked (a bug here or in a dependency);
    /// the watcher starts over.
    #[error("PC/SC internal error")]
    Internal,
}

impl PcscError {
    /// The device fault this error means, for a [`CardEvent::DeviceError`].
    pub fn fault(&self) -> DeviceFault {
        let detail = self.to_string();
        match self {
            PcscError::Service(_) => DeviceFault::ServiceUnavailable(detail),
            PcscError::NoReader { .. } => DeviceFault::NotFound(detail),
            PcscError::ReaderGone { .. } => DeviceFault::Disconnected(detail),
            _ => DeviceFault::NoAnswer(detail),
        }
    }
}

/// Parses the response to [`GET_UID_APDU`]: the UID followed by `90 00`.
pub fn parse_uid_response(response: &[u8]) -> Result<Vec<u8>, PcscError> {
    let len = response.len();
    let Some((uid, sw)) = response.split_last_chunk::<2>() else {
        return Err(PcscError::Truncated { len });
    };
    if *sw != [0x90, 0x00] {
        return Err(PcscError::Status {
            sw1: sw[0],
            sw2: sw[1],
        });
    }
    if uid.is_empty() || uid.len() > MAX_UID_LEN {
        return Err(PcscError::BadUid { len });
    }
    Ok(uid.to_vec())
}

/// The reader to watch among `names`: the first whose name contains
/// `filter`, or the first at all without a filter.
pub fn select_reader<'a>(names: &'a [String], filter: Option<&str>) -> Option<&'a String> {
    match filter {
        Some(f) => names.iter().find(|n| n.contains(f)),
        None => names.first(),
    }
}

/// One-shot check for ops (`greenwave devices`): the PC/SC readers pcscd
/// knows, and which of them the configuration selects.
pub fn probe(config: &PcscConfig) -> Result<(Vec<String>, String), PcscError> {
    probe_with(&PcscLite, config)
}

/// [`probe`] through `backend`.
pub fn probe_with(
    backend: &dyn PcscBackend,
    config: &PcscConfig,
) -> Result<(Vec<String>, String), PcscError> {
    let ctx = backend.establish().map_err(PcscError::Service)?;
    let names = match ctx.list_readers() {
        Ok(names) => names,
        Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
        Err(e) => return Err(PcscError::Service(e)),
    };
    let chosen = select_reader(&names, config.reader.as_deref())
        .cloned()
        .ok_or_else(|| PcscError::NoReader {
            filter: config.reader.clone(),
        })?;
    Ok((names, chosen))
}

/// Connects to the card in `reader` on a context of its own and reads its
/// UID. Blocking, with no timeout of its own: run it on a helper thread.
fn read_uid(backend: &dyn PcscBackend, reader: &str) -> Result<Vec<u8>, PcscError> {
    let ctx = backend.establish().map_err(PcscError::Service)?;
    let mut card = ctx.connect(reader).map_err(PcscError::Connect)?;
    let result = card
        .transmit(&GET_UID_APDU)
        .map_err(PcscError::Transmit)
        .and_then(|response| parse_uid_response(&response));
    if let Err(e) = card.disconnect() {
        debug!(error = %e, "pcsc: disconnect failed");
    }
    result
}

/// The PC/SC priority card watcher, a [`CardSource`].
pub struct PcscWatcher {
    name: String,
    config: PcscConfig,
    backend: Arc<dyn PcscBackend>,
}

impl PcscWatcher {
    /// A watcher for `config`. Opening the PC/SC context happens in
    /// [`CardSource::run`], so this never fails.
    pub fn new(config: PcscConfig) -> Self {
        Self::with_backend(config, Arc::new(PcscLite))
    }

    /// A watcher that makes its PC/SC calls through `backend` (tests: a
    /// scripted reader that can be unplugged).
    pub fn with_backend(config: PcscConfig, backend: Arc<dyn PcscBackend>) -> Self {
        let name = match &config.reader {
            Some(r) => format!("pcsc:{r}"),
            None => "pcsc".to_owned(),
        };
        Self {
            name,
            config,
            backend,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PcscConfig {
        &self.config
    }
}

impl CardSource for PcscWatcher {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(self: Box<Self>, mut sink: Box<dyn CardSink>, stop: Arc<AtomicBool>) {
        let mut watch = Watch {
            name: &self.name,
            filter: self.config.reader.as_deref(),
            timing: Timing::from(&self.config),
            backend: &self.backend,
            sink: sink.as_mut(),
            stop: &stop,
            down: false,
            reported: false,
            stuck: None,
        };
        watch.run();
        debug!(device = %self.name, "pcsc: watcher stopped");
    }
}

/// Why a session on one PC/SC context ended.
enum End {
    /// Asked to stop, or the sink is closed.
    Stop,
    /// The context is unusable: start over with a new one.
    Lost(PcscError),
}

/// How a card read ended, for the presentation bookkeeping.
enum Read {
    /// Done with this presentation (reported, or given up).
    Done,
    /// Not attempted (a previous read is still blocked): try again later.
    Deferred,
}

struct Watch<'a> {
    name: &'a str,
    filter: Option<&'a str>,
    timing: Timing,
    backend: &'a Arc<dyn PcscBackend>,
    sink: &'a mut dyn CardSink,
    stop: &'a AtomicBool,
    /// A `DeviceError` was sent and no `Reconnected` since.
    down: bool,
    /// A `PriorityCard`/`ReadFailed` was sent for the card on the reader
    /// and no `Removed` since.
    reported: bool,
    /// A read thread that timed out and may still be blocked in PC/SC.
    stuck: Option<JoinHandle<()>>,
}

impl Watch<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn emit(&mut self, event: CardEvent) -> Result<(), End> {
        if self.sink.send(event) {
            Ok(())
        } else {
            debug!(device = %self.name, "pcsc: sink closed");
            Err(End::Stop)
        }
    }

    /// Reports `err` unless a device error is already outstanding.
    fn device_error(&mut self, err: &PcscError) -> Result<(), End> {
        if self.down {
            debug!(device = %self.name, error = %err, "pcsc: still unavailable");
            return Ok(());
        }
        self.down = true;
        warn!(device = %self.name, error = %err, "pcsc: device error");
        self.emit(CardEvent::DeviceError {
            device: self.name.to_owned(),
            fault: err.fault(),
        })
    }

    fn reconnected(&mut self) -> Result<(), End> {
        if !self.down {
            return Ok(());
        }
        self.down = false;
        info!(device = %self.name, "pcsc: reader available again");
        self.emit(CardEvent::Reconnected {
            device: self.name.to_owned(),
        })
    }

    /// The reported card is gone (or can no longer be seen).
    fn card_gone(&mut self) -> Result<(), End> {
        if !self.reported {
            return Ok(());
        }
        self.reported = false;
        debug!(device = %self.name, "pcsc: card removed");
        self.emit(CardEvent::Removed {
            device: self.name.to_owned(),
        })
    }

    /// Sleeps `d` in short slices; `false` if asked to stop meanwhile.
    fn nap(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        loop {
            if self.stopped() {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            thread::sleep((end - now).min(Duration::from_millis(50)));
        }
    }

    /// Establishes contexts and watches until stopped.
    fn run(&mut self) {
        let mut delay = self.timing.backoff_initial;
        while !self.stopped() {
            let end = match self.backend.establish() {
                Ok(ctx) => {
                    let started = Instant::now();
                    // The pcsc crate panics on unknown PC/SC error codes in
                    // debug builds: a panic must not end the watcher.
                    let end = panic::catch_unwind(AssertUnwindSafe(|| self.session(ctx.as_ref())))
                        .unwrap_or(Err(End::Lost(PcscError::Internal)));
                    if started.elapsed() >= self.timing.backoff_max {
                        delay = self.timing.backoff_initial;
                    }
                    match end {
                        Ok(never) => match never {},
                        Err(end) => end,
                    }
                }
                Err(e) => End::Lost(PcscError::Service(e)),
            };
            match end {
                End::Stop => return,
                End::Lost(err) => {
                    if self.card_gone().is_err() || self.device_error(&err).is_err() {
                        return;
                    }
                }
            }
            if !self.nap(delay) {
                return;
            }
            delay = (delay * 2).min(self.timing.backoff_max);
        }
    }

    fn list_readers(&self, ctx: &dyn PcscContext) -> Result<Vec<String>, End> {
        match ctx.list_readers() {
            Ok(names) => Ok(names),
            Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
            Err(e) => Err(End::Lost(PcscError::Service(e))),
        }
    }

    /// Watches on one context until it fails (`Err(Lost)`) or a stop
    /// (`Err(Stop)`).
    fn session(&mut self, ctx: &dyn PcscContext) -> Result<Infallible, End> {
        // states[0]: PnP notifications; states[1]: the watched reader.
        let mut states = vec![ReaderWatch::new(PNP_NOTIFICATION, State::UNAWARE)];
        let mut reader: Option<String> = None;
        let mut relist = true;
        // Whether a card is on the reader, and the reader's event count
        // (bumped by each insertion and removal) when last seen.
        let mut present = false;
        let mut count = 0u32;
        // The event count of the presentation already read.
        let mut handled: Option<u32> = None;
        loop {
            if self.stopped() {
                return Err(End::Stop);
            }
            if relist {
                relist = false;
                let names = self.list_readers(ctx)?;
                let chosen = select_reader(&names, self.filter).cloned();
                if reader != chosen {
                    if let Some(old) = reader.take() {
                        states.truncate(1);
                        present = false;
                        handled = None;
                        self.card_gone()?;
                        if chosen.is_none() {
                            self.device_error(&PcscError::ReaderGone { reader: old })?;
                        }
                    }
                    if let Some(new) = chosen {
                        // A name PC/SC cannot take (NUL inside) is skipped.
                        if !new.contains('\0') {
                            info!(device = %self.name, reader = %new, "pcsc: watching reader");
                            states.push(ReaderWatch::new(new.as_str(), State::UNAWARE));
                            reader = Some(new);
                            self.reconnected()?;
                        }
                    }
                }
                if reader.is_none() {
                    self.device_error(&PcscError::NoReader {
                        filter: self.filter.map(str::to_owned),
                    })?;
                }
            }

            match ctx.get_status_change(self.timing.poll, &mut states) {
                Ok(()) => {
                    if states[0].event_state().contains(State::CHANGED) {
                        relist = true;
                    }
                    states[0].sync_current_state();
                    if let Some(rs) = states.get_mut(1) {
                        let es = rs.event_state();
                        rs.sync_current_state();
                        if es.intersects(State::UNKNOWN | State::IGNORE) {
                            // The reader vanished between two listings.
                            relist = true;
                            present = false;
                        } else if es.contains(State::PRESENT) {
                            present = !es.contains(State::MUTE);
                            count = rs.event_count();
                        } else if es.contains(State::EMPTY) {
                            present = false;
                            handled = None;
                            self.card_gone()?;
                        }
                    }
                }
                Err(pcsc::Error::Timeout) => {}
                Err(pcsc::Error::UnknownReader) => {
                    relist = true;
                    present = false;
                    if !self.nap(Duration::from_millis(50)) {
                        return Err(End::Stop);
                    }
                    continue;
                }
                Err(e) => return Err(End::Lost(PcscError::Service(e))),
            }

            if present && handled != Some(count) {
                let Some(name) = reader.as_deref() else {
                    continue;
                };
                // A swap between two waits: the old card left first.
                self.card_gone()?;
                if let Read::Done = self.read_card(name)? {
                    handled = Some(count);
                }
            }
        }
    }

    /// Reads the card on `reader` on a helper thread, waiting at most the
    /// read timeout, and reports the outcome.
    fn read_card(&mut self, reader: &str) -> Result<Read, End> {
        if let Some(stuck) = self.stuck.take() {
            if !stuck.is_finished() {
                debug!(device = %self.name, "pcsc: previous read still blocked");
                self.stuck = Some(stuck);
                return Ok(Read::Deferred);
            }
            let _ = stuck.join();
        }
        let reader = reader.to_owned();
        let backend = Arc::clone(self.backend);
        let (tx, rx) = mpsc::channel();
        let spawned = thread::Builder::new()
            .name("pcsc-read".into())
            .spawn(move || {
                let _ = tx.send(read_uid(backend.as_ref(), &reader));
            });
        let handle = match spawned {
            Ok(h) => h,
            Err(e) => {
                warn!(device = %self.name, error = %e, "pcsc: cannot start read thread");
                return Ok(Read::Deferred);
            }
        };
        let deadline = Instant::now() + self.timing.read_timeout;
        let result = loop {
            let now = Instant::now();
            let slice = deadline
                .saturating_duration_since(now)
                .min(Duration::from_millis(100));
            match rx.recv_timeout(slice) {
                Ok(result) => {
                    let _ = handle.join();
                    break result;
                }
                Err(RecvTimeoutError::Timeout) => {
                    if self.stopped() {
                        self.stuck = Some(handle);
                        return Err(End::Stop);
                    }
                    if Instant::now() >= deadline {
                        warn!(device = %self.name, "pcsc: card did not answer in time");
                        self.stuck = Some(handle);
                        return Ok(Read::Done);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    // The read thread panicked.
                    let _ = handle.join();
                    break Err(PcscError::Internal);
                }
            }
        };
        match result {
            Ok(uid) => {
                info!(device = %self.name, uid = %mask_uid(&uid), "pcsc: priority card");
                self.reported = true;
                self.emit(CardEvent::PriorityCard { uid })?;
            }
            Err(e @ (PcscError::Status { .. } | PcscError::BadUid { .. })) => {
                warn!(device = %self.name, error = %e, "pcsc: card gives no UID");
                self.reported = true;
                self.emit(CardEvent::ReadFailed {
                    device: self.name.to_owned(),
                    reason: ReadFailure::NotAPriorityCard(e.to_string()),
                })?;
            }
            Err(e @ PcscError::Service(_)) => return Err(End::Lost(e)),
            Err(e) => {
                // Card pulled mid-APDU, mute card, internal error: no event.
                warn!(device = %self.name, error = %e, "pcsc: card read failed");
            }
        }
        Ok(Read::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uid_responses() {
        assert_eq!(
            parse_uid_response(&[0x04, 0xA2, 0x3B, 0x11, 0x90, 0x00]).unwrap(),
            vec![0x04, 0xA2, 0x3B, 0x11]
        );
        assert!(matches!(
            parse_uid_response(&[0x6D, 0x00]),
            Err(PcscError::Status {
                sw1: 0x6D,
                sw2: 0x00
            })
        ));
        assert!(matches!(
            parse_uid_response(&[0x90, 0x00]),
            Err(PcscError::BadUid { len: 2 })
        ));
        assert!(matches!(
            parse_uid_response(&[0x90]),
            Err(PcscError::Truncated { len: 1 })
        ));
        assert!(matches!(
            parse_uid_response(&[]),
            Err(PcscError::Truncated { len: 0 })
        ));
        let mut long = vec![0x11; MAX_UID_LEN + 1];
        long.extend_from_slice(&[0x90, 0x00]);
        assert!(matches!(
            parse_uid_response(&long),
            Err(PcscError::BadUid { .. })
        ));
    }

    #[test]
    fn selects_readers() {
        let names = vec![
            "Virtual PCD 00 00".to_owned(),
            "Virtual PCD 00 01".to_owned(),
        ];
        assert_eq!(select_reader(&names, None), Some(&names[0]));
        assert_eq!(select_reader(&names, Some("00 01")), Some(&names[1]));
        assert_eq!(select_reader(&names, Some("ACR122")), None);
        assert_eq!(select_reader(&[], None), None);
    }

    #[test]
    fn config_defaults_validate_and_parse() {
        PcscConfig::default().validate().unwrap();
        let c: PcscConfig = toml::from_str("reader = \"Virtual PCD\"\npoll_ms = 200").unwrap();
        assert_eq!(c.reader.as_deref(), Some("Virtual PCD"));
        assert_eq!(c.poll_ms, 200);
        assert_eq!(c.read_timeout_ms, 3000);
        c.validate().unwrap();
        assert!(toml::from_str::<PcscConfig>("bogus = 1").is_err());
        for bad in [
            "poll_ms = 0",
            "poll_ms = 5000",
            "reader = \" \"",
            "reconnect_initial_ms = 1000\nreconnect_max_ms = 500",
        ] {
            let c: PcscConfig = toml::from_str(bad).unwrap();
            assert!(c.validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn timing_is_clamped() {
        let t = Timing::from(&PcscConfig {
            poll_ms: 60_000,
            reconnect_initial_ms: 0,
            reconnect_max_ms: 0,
            ..PcscConfig::default()
        });
        assert_eq!(t.poll, Duration::from_millis(1000));
        assert_eq!(t.backoff_initial, Duration::from_millis(10));
        assert_eq!(t.backoff_max, Duration::from_millis(10));
    }

    #[test]
    fn error_messages_name_the_filter() {
        let e = PcscError::NoReader {
            filter: Some("ACR".into()),
        };
        assert!(e.to_string().contains("ACR"));
        let e = PcscError::NoReader { filter: None };
        assert_eq!(e.to_string(), "no reader found");
        assert!(matches!(e.fault(), DeviceFault::NotFound(_)));
    }
}
