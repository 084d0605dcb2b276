//! The GA 467 reader driver: polls find → select → read over a serial port
//! and turns placements into [`CardEvent`]s. Survives unplugging: it reports
//! a device error, reopens with capped backoff, reports the reconnection and
//! carries on.

use std::io::{self, ErrorKind, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

use super::frame::{
    cmd, encode_command, FrameDecoder, FrameError, Response, SamError, SW3_FIND_OK, SW3_OK,
};
use super::text::{self, CardRead, TextError};
use crate::card::{CardEvent, CardSink, CardSource, DeviceFault, ReadFailure};

/// A byte link to a reader: a serial port, or an in-memory pipe to the
/// simulator. Reads must time out (`ErrorKind::TimedOut`) rather than block
/// for long.
pub trait Link: Read + Write + Send {
    /// Drops bytes received and not yet read.
    fn discard_input(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Changes the baud rate.
    fn set_baud(&mut self, _baud: u32) -> io::Result<()> {
        Ok(())
    }
}

/// Opens [`Link`]s, again after each loss.
pub trait Connector: Send {
    /// Opens the link at `baud`.
    fn connect(&mut self, baud: u32) -> io::Result<Box<dyn Link>>;
    /// `false` once the device is gone (its node vanished).
    fn is_present(&self) -> bool;
    /// For logs: the port path or similar (no personal data).
    fn describe(&self) -> String;
}

/// How long one read call on the port may block.
const READ_SLICE: Duration = Duration::from_millis(20);

struct SerialLink(Box<dyn serialport::SerialPort>);

impl Read for SerialLink {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for SerialLink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl Link for SerialLink {
    fn discard_input(&mut self) -> io::Result<()> {
        self.0
            .clear(serialport::ClearBuffer::Input)
            .map_err(io::Error::from)
    }

    fn set_baud(&mut self, baud: u32) -> io::Result<()> {
        self.0.set_baud_rate(baud).map_err(io::Error::from)
    }
}

/// Opens a serial port by path (8N1, no flow control, exclusive).
pub struct SerialConnector {
    path: PathBuf,
}

impl SerialConnector {
    /// A connector for the port at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl Connector for SerialConnector {
    fn connect(&mut self, baud: u32) -> io::Result<Box<dyn Link>> {
        let port = serialport::new(self.path.to_string_lossy(), baud)
            .timeout(READ_SLICE)
            .open()
            .map_err(io::Error::from)?;
        Ok(Box::new(SerialLink(port)))
    }

    fn is_present(&self) -> bool {
        // Follows symlinks: a dangling udev or socat link counts as gone.
        self.path.exists()
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

/// Baud rate choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baud {
    /// Always this rate.
    Fixed(u32),
    /// Probe 115200, then 9600, with "SAM status".
    Auto,
}

/// How long to wait for each reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Reset, SAM status, SAM id.
    pub command: Duration,
    /// Find card (SDKs: 0.8 s).
    pub find: Duration,
    /// Select card (SDKs: 0.3 s).
    pub select: Duration,
    /// Read card (SDKs: 1.1 s).
    pub read: Duration,
}

impl Default for Timeouts {
    /// The SDKs' timings with some margin for a loaded machine.
    fn default() -> Self {
        Self {
            command: Duration::from_millis(800),
            find: Duration::from_millis(1000),
            select: Duration::from_millis(800),
            read: Duration::from_millis(2000),
        }
    }
}

/// Reopen delays after the device was lost: doubling from `initial` up to
/// `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First delay.
    pub initial: Duration,
    /// Cap.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(5),
        }
    }
}

/// Configuration of the serial ID card reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdReaderConfig {
    /// Serial device, e.g. `/dev/ttyUSB0` or a udev symlink.
    pub port: PathBuf,
    /// Baud rate.
    pub baud: Baud,
    /// Time between the starts of two "find card" polls (default 80 ms: a
    /// card placed at any moment is seen within 80 ms; a find itself takes
    /// a real reader about 60 ms).
    pub poll_interval: Duration,
    /// Reply timeouts.
    pub timeouts: Timeouts,
    /// Reopen backoff.
    pub reconnect: Backoff,
    /// Read attempts per placement before reporting a failed read.
    pub read_attempts: u32,
    /// Consecutive unanswered commands before reporting the reader as
    /// unresponsive.
    pub unresponsive_after: u32,
}

impl Default for IdReaderConfig {
    fn default() -> Self {
        Self {
            port: PathBuf::from("/dev/ttyUSB0"),
            baud: Baud::Auto,
            poll_interval: Duration::from_millis(80),
            timeouts: Timeouts::default(),
            reconnect: Backoff::default(),
            read_attempts: 2,
            unresponsive_after: 3,
        }
    }
}

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderProbe {
    /// The baud rate at which the SAM answered.
    pub baud: u32,
    /// The SAM's id (hex), if it gave one.
    pub sam_id: Option<String>,
}

/// Why one exchange with the reader failed.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    /// The port failed: the device is gone or broken.
    #[error("port failure: {0}")]
    Io(#[from] io::Error),
    /// No complete reply within the timeout.
    #[error("no answer")]
    Timeout,
    /// A reply arrived damaged.
    #[error("damaged reply: {0}")]
    Frame(#[from] FrameError),
    /// The SAM answered with an error status.
    #[error("{0}")]
    Sam(#[from] SamError),
    /// A read reply whose length fields do not add up.
    #[error("read reply with inconsistent lengths")]
    Malformed,
    /// The text block is not a usable card.
    #[error("{0}")]
    Text(#[from] TextError),
    /// Asked to stop.
    #[error("stopped")]
    Stopped,
}

impl ReaderError {
    fn is_fatal(&self) -> bool {
        matches!(self, Self::Io(_) | Self::Stopped)
    }

    /// Whether the SAM module itself reports a fault (as opposed to "no
    /// card" or a card that could not be read): cards cannot be read at all
    /// until it recovers.
    fn is_module_fault(&self) -> bool {
        matches!(
            self,
            Self::Sam(
                SamError::Checksum
                    | SamError::Length
                    | SamError::BadCommand
                    | SamError::NotAuthorised
                    | SamError::Unknown
                    | SamError::RandomNumber
                    | SamError::SelfTest
                    | SamError::SamNotAuthorised
                    | SamError::Other(_)
            )
        )
    }

    /// The device fault this error means when it ends or blocks a session.
    fn fault(&self) -> DeviceFault {
        let detail = self.to_string();
        match self {
            Self::Io(_) => DeviceFault::Disconnected(detail),
            e if e.is_module_fault() => DeviceFault::ModuleFault(detail),
            _ => DeviceFault::NoAnswer(detail),
        }
    }

    /// The read failure this error means for a card on the reader.
    fn read_failure(&self) -> ReadFailure {
        match self {
            Self::Text(e) => ReadFailure::BadCard(e.to_string()),
            e => ReadFailure::Unreadable(e.to_string()),
        }
    }
}

/// The serial ID card reader as a [`CardSource`].
pub struct IdCardReader {
    name: String,
    config: IdReaderConfig,
    connector: Box<dyn Connector>,
}

impl IdCardReader {
    /// A reader on the serial port of `config`.
    pub fn new(config: IdReaderConfig) -> Self {
        let connector = Box::new(SerialConnector::new(config.port.clone()));
        Self::with_connector(
            format!("idcard:{}", config.port.display()),
            config,
            connector,
        )
    }

    /// A reader on any link (the simulator, a future transport).
    pub fn with_connector(
        name: impl Into<String>,
        config: IdReaderConfig,
        connector: Box<dyn Connector>,
    ) -> Self {
        Self {
            name: name.into(),
            config,
            connector,
        }
    }
}

/// The placement the reader is in.
#[derive(Debug, Default)]
enum Placement {
    /// No card.
    #[default]
    Empty,
    /// A card is on the reader.
    Present {
        /// An event (card or failure) was sent for this placement.
        reported: bool,
        /// Failed read attempts so far.
        failures: u32,
        /// The last failure.
        last_error: Option<ReadFailure>,
    },
}

/// Why a polling session ended.
enum End {
    Stop,
    Lost(DeviceFault),
}

struct Session<'a> {
    link: Box<dyn Link>,
    decoder: FrameDecoder,
    config: &'a IdReaderConfig,
    stop: &'a AtomicBool,
}

fn stopped(stop: &AtomicBool) -> bool {
    stop.load(Ordering::Relaxed)
}

/// Sleeps `d` in short slices; `false` if asked to stop meanwhile.
fn nap(d: Duration, stop: &AtomicBool) -> bool {
    let end = Instant::now() + d;
    loop {
        if stopped(stop) {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

impl Session<'_> {
    /// Sends one command and waits for its reply. `ok` is the success SW3,
    /// `data_len` the data sizes a success may carry: a success reply of
    /// another size, or an error reply with data, is a stale reply to an
    /// earlier command and is skipped.
    fn transact(
        &mut self,
        (c, p): (u8, u8),
        timeout: Duration,
        ok: u8,
        data_len: std::ops::RangeInclusive<usize>,
    ) -> Result<Response, ReaderError> {
        self.decoder.reset();
        if let Err(e) = self.link.discard_input() {
            debug!(error = %e, "idcard: cannot discard input");
        }
        let sent = self
            .link
            .write_all(&encode_command(c, p, &[]))
            .and_then(|()| self.link.flush());
        match sent {
            Ok(()) => {}
            // A full output buffer is a mute device, not a lost one.
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                return Err(ReaderError::Timeout)
            }
            Err(e) => return Err(e.into()),
        }
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 1024];
        loop {
            while let Some(item) = self.decoder.next_frame() {
                match item {
                    Ok(frame) => {
                        let Some(resp) = frame.into_response() else {
                            continue;
                        };
                        let fits = if resp.sw3 == ok {
                            data_len.contains(&resp.data.len())
                        } else {
                            resp.data.is_empty()
                        };
                        if fits {
                            return Ok(resp);
                        }
                        debug!(?resp, "idcard: skipping a stale reply");
                    }
                    Err(e @ FrameError::Checksum { .. }) => {
                        self.decoder.reset();
                        return Err(e.into());
                    }
                    Err(e) => debug!(error = %e, "idcard: frame dropped"),
                }
            }
            if Instant::now() >= deadline {
                return Err(ReaderError::Timeout);
            }
            if stopped(self.stop) {
                return Err(ReaderError::Stopped);
            }
            match self.link.read(&mut buf) {
                Ok(0) => return Err(io::Error::new(ErrorKind::UnexpectedEof, "port closed").into()),
                Ok(n) => self.decoder.push(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn sam_status(&mut self) -> Result<(), ReaderError> {
        let t = self.config.timeouts.command;
        self.transact(cmd::SAM_STATUS, t, SW3_OK, 0..=64)?
            .status()
            .map_err(Into::into)
    }

    /// `Ok(true)` if a card is there, `Ok(false)` if not.
    fn find(&mut self) -> Result<bool, ReaderError> {
        let t = self.config.timeouts.find;
        let resp = self.transact(cmd::FIND, t, SW3_FIND_OK, 0..=16)?;
        match resp.status() {
            Ok(()) => Ok(true),
            Err(SamError::NoCard) => Ok(false),
            // A module that cannot even look for cards is broken, not empty.
            Err(e) if ReaderError::Sam(e).is_module_fault() => Err(e.into()),
            Err(e) => {
                debug!(error = %e, "idcard: find answered an error");
                Ok(false)
            }
        }
    }

    /// Select and read; the photo is dropped here, never stored.
    fn read_card(&mut self) -> Result<CardRead, ReaderError> {
        let t = self.config.timeouts;
        self.transact(cmd::SELECT, t.select, SW3_OK, 0..=16)?
            .status()?;
        let mut resp = self.transact(cmd::READ, t.read, SW3_OK, 4..=8192)?;
        resp.status()?;
        let result = parse_read(&resp.data);
        // The photo (and the text) must not linger in freed memory.
        resp.data.fill(0);
        self.decoder.reset();
        result
    }
}

/// Splits the data of a `30 01` reply and decodes its text block.
fn parse_read(data: &[u8]) -> Result<CardRead, ReaderError> {
    let [t_hi, t_lo, p_hi, p_lo, rest @ ..] = data else {
        return Err(ReaderError::Malformed);
    };
    let text_len = (*t_hi as usize) << 8 | *t_lo as usize;
    let photo_len = (*p_hi as usize) << 8 | *p_lo as usize;
    if rest.len() < text_len + photo_len {
        return Err(ReaderError::Malformed);
    }
    Ok(text::decode(&rest[..text_len])?)
}

/// Sends an event; `false` if the receiver is gone.
fn emit(sink: &mut dyn CardSink, event: CardEvent) -> bool {
    sink.send(event)
}

/// The rates `baud = "auto"` tries, in this order (protocols: most readers
/// run at 115200, some are set to 9600).
const AUTO_BAUDS: [u32; 2] = [115_200, 9_600];

/// Where a baud search ended.
struct BaudSearch {
    /// The open link, at the rate that answered (or the last one tried).
    link: Box<dyn Link>,
    /// The rate at which the SAM answered "SAM status"; or why the last
    /// rate tried got no answer.
    answered: Result<u32, ReaderError>,
}

impl IdCardReader {
    /// The one baud search, for [`Self::open`] (the card source) and
    /// [`Self::probe`] (`greenwave devices`): opens the port and sends
    /// "SAM status" at the configured rate, or with [`Baud::Auto`] at
    /// 115200, then 9600, until the SAM answers. A port failure (device
    /// gone) or a stop ends the search at once. `Err`: the port cannot be
    /// opened, or its rate cannot be changed.
    fn search_baud(&mut self, stop: &AtomicBool) -> Result<BaudSearch, DeviceFault> {
        let rates: &[u32] = match &self.config.baud {
            Baud::Fixed(b) => std::slice::from_ref(b),
            Baud::Auto => &AUTO_BAUDS,
        };
        let mut link = self.connector.connect(rates[0]).map_err(|e| {
            DeviceFault::Disconnected(format!("cannot open {}: {e}", self.connector.describe()))
        })?;
        let mut last = ReaderError::Timeout;
        for (i, &rate) in rates.iter().enumerate() {
            if i > 0 {
                link.set_baud(rate).map_err(|e| {
                    DeviceFault::Disconnected(format!("cannot set {rate} baud: {e}"))
                })?;
            }
            let mut session = Session {
                link,
                decoder: FrameDecoder::new(),
                config: &self.config,
                stop,
            };
            let status = session.sam_status();
            link = session.link;
            match status {
                Ok(()) => {
                    return Ok(BaudSearch {
                        link,
                        answered: Ok(rate),
                    })
                }
                Err(e) if e.is_fatal() => {
                    return Ok(BaudSearch {
                        link,
                        answered: Err(e),
                    })
                }
                Err(e) => {
                    debug!(baud = rate, error = %e, "idcard: no SAM status");
                    last = e;
                }
            }
        }
        Ok(BaudSearch {
            link,
            answered: Err(last),
        })
    }

    /// Opens the reader for polling. A fixed rate is trusted even when the
    /// SAM does not answer (the poll loop reports a mute reader).
    fn open(&mut self, stop: &AtomicBool) -> Result<Box<dyn Link>, DeviceFault> {
        let BaudSearch { link, answered } = self.search_baud(stop)?;
        match answered {
            Ok(rate) => {
                info!(port = %self.connector.describe(), baud = rate, "idcard: reader ready");
                Ok(link)
            }
            Err(e) if e.is_fatal() => Err(e.fault()),
            Err(_) if matches!(self.config.baud, Baud::Fixed(_)) => {
                warn!(port = %self.connector.describe(), "idcard: no SAM status, polling anyway");
                Ok(link)
            }
            Err(e) if e.is_module_fault() => Err(e.fault()),
            Err(_) => Err(DeviceFault::NoAnswer(format!(
                "no SAM status at {} or {} baud",
                AUTO_BAUDS[0], AUTO_BAUDS[1]
            ))),
        }
    }

    /// One-shot check for ops (`greenwave devices`): opens the port,
    /// finds the baud rate by "SAM status" and reads the SAM id. Never
    /// polls for cards.
    pub fn probe(&mut self) -> Result<ReaderProbe, DeviceFault> {
        let stop = AtomicBool::new(false);
        let BaudSearch { link, answered } = self.search_baud(&stop)?;
        let baud = answered.map_err(|e| match e {
            e if e.is_fatal() || e.is_module_fault() => e.fault(),
            _ => DeviceFault::NoAnswer(format!(
                "no SAM status at {}",
                match self.config.baud {
                    Baud::Fixed(b) => b.to_string(),
                    Baud::Auto => format!("{} or {} baud", AUTO_BAUDS[0], AUTO_BAUDS[1]),
                }
            )),
        })?;
        let mut session = Session {
            link,
            decoder: FrameDecoder::new(),
            config: &self.config,
            stop: &stop,
        };
        let t = self.config.timeouts.command;
        let sam_id = session
            .transact(cmd::SAM_ID, t, SW3_OK, 0..=64)
            .ok()
            .filter(|r| r.status().is_ok())
            .map(|r| {
                r.data
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<String>()
            });
        Ok(ReaderProbe { baud, sam_id })
    }

    /// Polls until stopped or the link is lost.
    fn poll(&mut self, link: Box<dyn Link>, sink: &mut dyn CardSink, stop: &AtomicBool) -> End {
        let mut session = Session {
            link,
            decoder: FrameDecoder::new(),
            config: &self.config,
            stop,
        };
        let mut p = Poller {
            device: &self.name,
            config: &self.config,
            sink,
            placement: Placement::Empty,
            failing: 0,
            reported: false,
        };
        loop {
            let started = Instant::now();
            if stopped(stop) {
                return End::Stop;
            }
            if !self.connector.is_present() {
                return p.lose(DeviceFault::Disconnected("device node gone".into()));
            }
            let step = match session.find() {
                Ok(found) => p.answered().and_then(|()| p.placement(found, &mut session)),
                Err(ReaderError::Stopped) => Err(End::Stop),
                Err(e @ ReaderError::Io(_)) => Err(p.lose(e.fault())),
                Err(e) => p.failed(&e),
            };
            if let Err(end) = step {
                return end;
            }
            let elapsed = started.elapsed();
            if !nap(self.config.poll_interval.saturating_sub(elapsed), stop) {
                return End::Stop;
            }
        }
    }
}

/// The state of one polling session: the card on the reader, and whether
/// the reader's trouble (no answer, a module fault) has been reported.
struct Poller<'a> {
    device: &'a str,
    config: &'a IdReaderConfig,
    sink: &'a mut dyn CardSink,
    placement: Placement,
    /// Consecutive "find" exchanges that failed.
    failing: u32,
    /// A `DeviceError` was sent for them, and no `Reconnected` since.
    reported: bool,
}

impl Poller<'_> {
    fn emit(&mut self, event: CardEvent) -> Result<(), End> {
        if emit(self.sink, event) {
            Ok(())
        } else {
            Err(End::Stop)
        }
    }

    /// "Find" answered: the reader works (again).
    fn answered(&mut self) -> Result<(), End> {
        self.failing = 0;
        if !self.reported {
            return Ok(());
        }
        self.reported = false;
        info!(device = %self.device, "idcard: reader answers again");
        self.emit(CardEvent::Reconnected {
            device: self.device.to_owned(),
        })
    }

    /// "Find" failed: after `unresponsive_after` failures in a row, the
    /// reader is reported (once) as mute or its module as broken.
    fn failed(&mut self, e: &ReaderError) -> Result<(), End> {
        self.failing += 1;
        debug!(error = %e, failing = self.failing, "idcard: find failed");
        if self.failing < self.config.unresponsive_after || self.reported {
            return Ok(());
        }
        self.reported = true;
        let fault = e.fault();
        warn!(device = %self.device, %fault, "idcard: reader out of service");
        self.emit(CardEvent::DeviceError {
            device: self.device.to_owned(),
            fault,
        })
    }

    /// What "find" said, against the placement so far.
    fn placement(&mut self, found: bool, session: &mut Session<'_>) -> Result<(), End> {
        match (found, &self.placement) {
            (false, Placement::Present { .. }) => self.card_left(),
            (true, Placement::Present { reported: true, .. }) => Ok(()),
            (true, _) => self.card_here(session),
            (false, Placement::Empty) => Ok(()),
        }
    }

    /// The card is gone: its failure if it was never reported, then
    /// `Removed` for a reported one.
    fn card_left(&mut self) -> Result<(), End> {
        let Placement::Present {
            reported,
            failures,
            last_error,
        } = std::mem::take(&mut self.placement)
        else {
            return Ok(());
        };
        debug!(device = %self.device, "idcard: card removed");
        let device = self.device.to_owned();
        if !reported && failures > 0 {
            if let Some(reason) = last_error {
                self.emit(CardEvent::ReadFailed {
                    device: device.clone(),
                    reason,
                })?;
            }
        }
        if reported || failures > 0 {
            self.emit(CardEvent::Removed { device })?;
        }
        Ok(())
    }

    /// A card is on the reader and not yet reported: read it (again).
    fn card_here(&mut self, session: &mut Session<'_>) -> Result<(), End> {
        let (mut failures, mut last_error) = match std::mem::take(&mut self.placement) {
            Placement::Present {
                failures,
                last_error,
                ..
            } => (failures, last_error),
            Placement::Empty => (0, None),
        };
        let event = match session.read_card() {
            Ok(card) => {
                info!(device = %self.device, kind = ?card.kind, id = %card.id_number.masked(), "idcard: card read");
                Some(CardEvent::IdCard(card))
            }
            Err(ReaderError::Stopped) => return Err(End::Stop),
            Err(e @ ReaderError::Io(_)) => return Err(self.lose(e.fault())),
            Err(e) => {
                failures += 1;
                warn!(device = %self.device, error = %e, failures, "idcard: read failed");
                // A bad text block will not get better by rereading.
                let final_ =
                    matches!(e, ReaderError::Text(_)) || failures >= self.config.read_attempts;
                let reason = e.read_failure();
                last_error = Some(reason.clone());
                final_.then(|| CardEvent::ReadFailed {
                    device: self.device.to_owned(),
                    reason,
                })
            }
        };
        self.placement = Placement::Present {
            reported: event.is_some(),
            failures,
            last_error,
        };
        match event {
            Some(ev) => self.emit(ev),
            None => Ok(()),
        }
    }

    /// The link is gone: close the placement and report.
    fn lose(&mut self, fault: DeviceFault) -> End {
        warn!(device = %self.device, %fault, "idcard: device lost");
        if let Placement::Present { reported: true, .. } = self.placement {
            if !emit(
                self.sink,
                CardEvent::Removed {
                    device: self.device.to_owned(),
                },
            ) {
                return End::Stop;
            }
        }
        End::Lost(fault)
    }
}

impl CardSource for IdCardReader {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(mut self: Box<Self>, mut sink: Box<dyn CardSink>, stop: Arc<AtomicBool>) {
        let backoff = self.config.reconnect;
        let mut delay = backoff.initial;
        let mut down = false;
        while !stopped(&stop) {
            match self.open(&stop) {
                Ok(link) => {
                    delay = backoff.initial;
                    // `down` is set again below if this session is lost.
                    if down {
                        info!(device = %self.name, "idcard: reconnected");
                        let ev = CardEvent::Reconnected {
                            device: self.name.clone(),
                        };
                        if !emit(sink.as_mut(), ev) {
                            return;
                        }
                    }
                    match self.poll(link, sink.as_mut(), &stop) {
                        End::Stop => return,
                        End::Lost(fault) => {
                            down = true;
                            let ev = CardEvent::DeviceError {
                                device: self.name.clone(),
                                fault,
                            };
                            if !emit(sink.as_mut(), ev) {
                                return;
                            }
                        }
                    }
                }
                Err(fault) => {
                    if stopped(&stop) {
                        return;
                    }
                    if !down {
                        down = true;
                        warn!(device = %self.name, %fault, "idcard: cannot open reader");
                        let ev = CardEvent::DeviceError {
                            device: self.name.clone(),
                            fault,
                        };
                        if !emit(sink.as_mut(), ev) {
                            return;
                        }
                    } else {
                        debug!(device = %self.name, %fault, "idcard: still cannot open reader");
                    }
                    if !nap(delay, &stop) {
                        return;
                    }
                    delay = (delay * 2).min(backoff.max);
                    continue;
                }
            }
            // Lost: wait a moment before reopening.
            if !nap(delay, &stop) {
                return;
            }
            delay = (delay * 2).min(backoff.max);
        }
    }
}
