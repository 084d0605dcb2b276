//! A device-side simulator of a GA 467 reader, speaking the real protocol
//! over any `Read + Write` (a pty from socat in tests, or the in-memory
//! [`pipe_pair`] behind the simulated card source).
//!
//! Tests drive it through a [`SimControl`] while it runs: place and remove
//! cards, corrupt checksums, inject garbage, cut a read short, slow replies
//! down to real-hardware timings, make the SAM module fail, unplug it.

use std::io::{self, ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tracing::{debug, warn};

use super::frame::{cmd, encode_response, FrameDecoder, FrameError, SW3_FIND_OK, SW3_OK};
use super::reader::{Connector, Link};
use super::text::{self, CardRead};

/// A card the simulator can hold.
#[derive(Clone)]
pub struct SimCard {
    text: Vec<u8>,
    fingerprint: bool,
}

impl std::fmt::Debug for SimCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SimCard({:?})", text::kind_of(&self.text))
    }
}

impl SimCard {
    /// A card carrying exactly what `card` describes.
    pub fn from_read(card: &CardRead) -> Self {
        Self {
            text: text::encode(card).to_vec(),
            fingerprint: false,
        }
    }

    /// A card with a hand-made text block (e.g. a bad check digit).
    /// Blocks of another size than 256 bytes are sent as they are.
    pub fn raw_text(text: Vec<u8>) -> Self {
        Self {
            text,
            fingerprint: false,
        }
    }

    /// Gives the card a (fake) fingerprint block for `30 10` reads.
    pub fn with_fingerprint(mut self) -> Self {
        self.fingerprint = true;
        self
    }
}

/// Reply delays. [`SimTiming::instant`] answers at once,
/// [`SimTiming::realistic`] behaves like real hardware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimTiming {
    /// Before answering reset.
    pub reset: Duration,
    /// Before answering SAM status and SAM id.
    pub status: Duration,
    /// Before answering find.
    pub find: Duration,
    /// Before answering select.
    pub select: Duration,
    /// Before answering read (the card–SAM exchange).
    pub read: Duration,
    /// Per byte on the wire (a pty does not pace bytes): 87 µs at 115200.
    pub byte_time: Duration,
}

impl SimTiming {
    /// No delays.
    pub fn instant() -> Self {
        Self {
            reset: Duration::ZERO,
            status: Duration::ZERO,
            find: Duration::ZERO,
            select: Duration::ZERO,
            read: Duration::ZERO,
            byte_time: Duration::ZERO,
        }
    }

    /// Delays of a real reader at 115200 baud: a read takes about 0.6 s
    /// plus 112 ms on the wire, within the SDKs' 1.1 s.
    pub fn realistic() -> Self {
        Self {
            reset: Duration::from_millis(200),
            status: Duration::from_millis(20),
            find: Duration::from_millis(60),
            select: Duration::from_millis(80),
            read: Duration::from_millis(600),
            byte_time: Duration::from_micros(87),
        }
    }
}

impl Default for SimTiming {
    fn default() -> Self {
        Self::instant()
    }
}

/// Counters of what the simulator answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Find commands received.
    pub finds: u64,
    /// Select commands received.
    pub selects: u64,
    /// Read commands received.
    pub reads: u64,
    /// Reads answered with a full card.
    pub reads_served: u64,
    /// Frames received with a bad checksum.
    pub bad_frames: u64,
}

impl SimStats {
    /// Counts a find, select or read command.
    fn count(&mut self, command: (u8, u8)) {
        match command {
            cmd::FIND => self.finds += 1,
            cmd::SELECT => self.selects += 1,
            cmd::READ | cmd::READ_WITH_FINGERPRINT => self.reads += 1,
            _ => {}
        }
    }
}

#[derive(Debug)]
struct SimState {
    card: Option<SimCard>,
    timing: SimTiming,
    corrupt_next: u32,
    garbage_next: Vec<u8>,
    garbage_every: Vec<u8>,
    corrupt_next_read: bool,
    cut_next_read: bool,
    mute: bool,
    sam_fault: Option<u8>,
    connected: bool,
    stats: SimStats,
}

/// Shared handle to steer a running simulator. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SimControl {
    state: Arc<Mutex<SimState>>,
}

impl Default for SimControl {
    fn default() -> Self {
        Self::new()
    }
}

impl SimControl {
    /// No card, instant timing.
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(SimState {
                card: None,
                timing: SimTiming::instant(),
                corrupt_next: 0,
                garbage_next: Vec::new(),
                garbage_every: Vec::new(),
                corrupt_next_read: false,
                cut_next_read: false,
                mute: false,
                sam_fault: None,
                connected: true,
                stats: SimStats::default(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        // A panic elsewhere must not take the simulator down with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts a card on the reader (replacing any).
    pub fn place(&self, card: SimCard) {
        self.lock().card = Some(card);
    }

    /// Takes the card away.
    pub fn remove(&self) {
        self.lock().card = None;
    }

    /// `true` while a card is on the reader.
    pub fn has_card(&self) -> bool {
        self.lock().card.is_some()
    }

    /// Changes reply delays.
    pub fn set_timing(&self, timing: SimTiming) {
        self.lock().timing = timing;
    }

    /// The next `n` replies go out with a wrong checksum.
    pub fn corrupt_next_replies(&self, n: u32) {
        self.lock().corrupt_next = n;
    }

    /// These bytes go out just before the next reply.
    pub fn inject_garbage(&self, bytes: &[u8]) {
        self.lock().garbage_next.extend_from_slice(bytes);
    }

    /// These bytes go out before every reply from now on (empty: none).
    pub fn set_garbage_before_every_reply(&self, bytes: &[u8]) {
        self.lock().garbage_every = bytes.to_vec();
    }

    /// The next read reply (one carrying a card) has a wrong checksum.
    pub fn corrupt_next_read(&self) {
        self.lock().corrupt_next_read = true;
    }

    /// The next read reply stops halfway and the card is gone (taken away
    /// mid-read).
    pub fn remove_during_next_read(&self) {
        self.lock().cut_next_read = true;
    }

    /// A mute reader (powered but not answering) swallows every command.
    pub fn set_mute(&self, mute: bool) {
        self.lock().mute = mute;
    }

    fn is_mute(&self) -> bool {
        self.lock().mute
    }

    /// A failing SAM module: from now on SAM status, SAM id, find, select
    /// and read are all answered with this SW3 (`0x60` self-test failed,
    /// `0x66` SAM not authorised) and no data, a card on the reader or
    /// not; `None` repairs it. Reset still answers.
    pub fn set_sam_fault(&self, sw3: Option<u8>) {
        self.lock().sam_fault = sw3;
    }

    /// Simulated unplug for the in-memory connector: a running simulator
    /// hangs up and new connections fail until [`plug_in`](Self::plug_in).
    pub fn unplug(&self) {
        self.lock().connected = false;
    }

    /// Ends a simulated unplug.
    pub fn plug_in(&self) {
        self.lock().connected = true;
    }

    /// `true` unless unplugged.
    pub fn is_connected(&self) -> bool {
        self.lock().connected
    }

    /// What was answered so far.
    pub fn stats(&self) -> SimStats {
        self.lock().stats
    }

    /// Decides the reply to one command.
    fn answer(&self, c: u8, p: u8) -> Reply {
        let mut s = self.lock();
        let t = s.timing;
        let mut corrupt = false;
        let faulty = s.sam_fault.filter(|_| (c, p) != cmd::RESET);
        let (delay, sw3, data, cut) = match (c, p) {
            k @ (cmd::SAM_STATUS
            | cmd::SAM_ID
            | cmd::FIND
            | cmd::SELECT
            | cmd::READ
            | cmd::READ_WITH_FINGERPRINT)
                if faulty.is_some() =>
            {
                s.stats.count(k);
                (Duration::ZERO, faulty.unwrap_or(0x60), Vec::new(), false)
            }
            cmd::RESET => (t.reset, SW3_OK, Vec::new(), false),
            cmd::SAM_STATUS => (t.status, SW3_OK, Vec::new(), false),
            cmd::SAM_ID => (t.status, SW3_OK, (1..=16).collect(), false),
            cmd::FIND => {
                s.stats.finds += 1;
                match s.card {
                    Some(_) => (t.find, SW3_FIND_OK, vec![0; 4], false),
                    None => (t.find, 0x80, Vec::new(), false),
                }
            }
            cmd::SELECT => {
                s.stats.selects += 1;
                match s.card {
                    Some(_) => (t.select, SW3_OK, vec![0; 8], false),
                    None => (t.select, 0x81, Vec::new(), false),
                }
            }
            cmd::READ | cmd::READ_WITH_FINGERPRINT => {
                s.stats.reads += 1;
                let with_fp = (c, p) == cmd::READ_WITH_FINGERPRINT;
                match s.card.clone() {
                    Some(card) => {
                        let cut = std::mem::take(&mut s.cut_next_read);
                        corrupt = std::mem::take(&mut s.corrupt_next_read);
                        if cut {
                            s.card = None;
                        } else if !corrupt {
                            s.stats.reads_served += 1;
                        }
                        (t.read, SW3_OK, read_data(&card, with_fp), cut)
                    }
                    None => (t.read, 0x41, Vec::new(), false),
                }
            }
            _ => (Duration::ZERO, 0x21, Vec::new(), false),
        };
        let mut frame = encode_response(sw3, &data);
        if s.corrupt_next > 0 {
            s.corrupt_next -= 1;
            corrupt = true;
        }
        if corrupt {
            if let Some(last) = frame.last_mut() {
                *last ^= 0x5A;
            }
        }
        if cut {
            frame.truncate(frame.len() / 2);
        }
        let mut garbage = std::mem::take(&mut s.garbage_next);
        garbage.extend_from_slice(&s.garbage_every);
        Reply {
            delay,
            garbage,
            frame,
            byte_time: t.byte_time,
        }
    }
}

/// The data of a read reply: lengths, text, a fake photo, maybe a fingerprint.
fn read_data(card: &SimCard, with_fp: bool) -> Vec<u8> {
    let photo: Vec<u8> = (0..1024u32)
        .map(|i| (i.wrapping_mul(31) % 251) as u8)
        .collect();
    let fp: Vec<u8> = if with_fp && card.fingerprint {
        vec![0x43; 1024]
    } else {
        Vec::new()
    };
    let len16 = |n: usize| (n.min(usize::from(u16::MAX)) as u16).to_be_bytes();
    let mut d = Vec::with_capacity(6 + card.text.len() + photo.len() + fp.len());
    d.extend_from_slice(&len16(card.text.len()));
    d.extend_from_slice(&len16(photo.len()));
    if with_fp {
        d.extend_from_slice(&len16(fp.len()));
    }
    d.extend_from_slice(&card.text);
    d.extend_from_slice(&photo);
    d.extend_from_slice(&fp);
    d
}

struct Reply {
    delay: Duration,
    garbage: Vec<u8>,
    frame: Vec<u8>,
    byte_time: Duration,
}

/// Sleeps `d` in short slices; `false` if told to stop meanwhile.
fn nap(d: Duration, stop: &AtomicBool) -> bool {
    let end = Instant::now() + d;
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        thread::sleep((end - now).min(Duration::from_millis(20)));
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted
    )
}

fn send<T: Write>(io: &mut T, reply: &Reply, stop: &AtomicBool) -> io::Result<()> {
    if !nap(reply.delay, stop) {
        return Ok(());
    }
    if !reply.garbage.is_empty() {
        io.write_all(&reply.garbage)?;
    }
    if reply.byte_time.is_zero() {
        io.write_all(&reply.frame)?;
    } else {
        for chunk in reply.frame.chunks(64) {
            io.write_all(chunk)?;
            io.flush()?;
            if !nap(reply.byte_time * chunk.len() as u32, stop) {
                return Ok(());
            }
        }
    }
    io.flush()
}

/// Serves commands on `io` until `stop` is set, the peer hangs up, the
/// control says unplugged, or `io` fails.
pub fn serve<T: Read + Write>(
    mut io: T,
    control: &SimControl,
    stop: &AtomicBool,
) -> io::Result<()> {
    let mut decoder = FrameDecoder::new();
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::Relaxed) && control.is_connected() {
        match io.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => decoder.push(&buf[..n]),
            Err(e) if is_transient(&e) => continue,
            Err(e) => return Err(e),
        }
        while let Some(item) = decoder.next_frame() {
            if control.is_mute() {
                continue;
            }
            let reply = match item {
                Ok(frame) => match frame.as_command() {
                    Some((c, p, _)) => {
                        debug!(cmd = c, para = p, "sim: command");
                        control.answer(c, p)
                    }
                    None => continue,
                },
                Err(e) => {
                    let sw3 = match e {
                        FrameError::Checksum { .. } => 0x10,
                        FrameError::Length(_) => 0x11,
                        FrameError::Truncated(_) => continue,
                    };
                    control.lock().stats.bad_frames += 1;
                    Reply {
                        delay: Duration::ZERO,
                        garbage: Vec::new(),
                        frame: encode_response(sw3, &[]),
                        byte_time: Duration::ZERO,
                    }
                }
            };
            send(&mut io, &reply, stop)?;
        }
    }
    Ok(())
}

/// A simulator running in its own thread; stopped and joined on drop.
pub struct SimHandle {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SimHandle {
    /// Serves `io` in a new thread. `io` should have a read timeout (a
    /// `serialport` port, a [`PipeEnd`]) so that the thread notices `stop`.
    pub fn spawn<T: Read + Write + Send + 'static>(io: T, control: SimControl) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name("idcard-sim".into())
            .spawn(move || {
                if let Err(e) = serve(io, &control, &flag) {
                    debug!(error = %e, "sim: port closed");
                }
            })
            .map_err(|e| warn!(error = %e, "sim: cannot start thread"))
            .ok();
        Self { stop, thread }
    }

    /// `true` once the serving thread has ended (peer gone, unplugged).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One end of an in-memory byte pipe with a read timeout: reads time out
/// with `ErrorKind::TimedOut` like a serial port, and return `Ok(0)` once the
/// other end is gone.
pub struct PipeEnd {
    tx: Sender<Vec<u8>>,
    rx: Receiver<Vec<u8>>,
    pending: Vec<u8>,
    timeout: Duration,
}

/// Two connected [`PipeEnd`]s.
pub fn pipe_pair(timeout: Duration) -> (PipeEnd, PipeEnd) {
    let (a_tx, b_rx) = mpsc::channel();
    let (b_tx, a_rx) = mpsc::channel();
    let end = |tx, rx| PipeEnd {
        tx,
        rx,
        pending: Vec::new(),
        timeout,
    };
    (end(a_tx, a_rx), end(b_tx, b_rx))
}

impl Read for PipeEnd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            match self.rx.recv_timeout(self.timeout) {
                Ok(chunk) => self.pending = chunk,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(io::Error::new(ErrorKind::TimedOut, "pipe read timed out"))
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

impl Write for PipeEnd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx
            .send(buf.to_vec())
            .map_err(|_| io::Error::new(ErrorKind::BrokenPipe, "pipe peer gone"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Link for PipeEnd {
    fn discard_input(&mut self) -> io::Result<()> {
        self.pending.clear();
        while self.rx.try_recv().is_ok() {}
        Ok(())
    }
}

/// Connects the reader driver to an in-process simulator: each connection
/// starts a simulator thread on a fresh [`pipe_pair`].
pub struct SimConnector {
    control: SimControl,
    current: Option<SimHandle>,
}

impl SimConnector {
    /// A connector for the simulator steered by `control`.
    pub fn new(control: SimControl) -> Self {
        Self {
            control,
            current: None,
        }
    }
}

impl Connector for SimConnector {
    fn connect(&mut self, _baud: u32) -> io::Result<Box<dyn Link>> {
        self.current = None;
        if !self.control.is_connected() {
            return Err(io::Error::new(
                ErrorKind::NotFound,
                "simulated reader unplugged",
            ));
        }
        let (ours, theirs) = pipe_pair(Duration::from_millis(20));
        self.current = Some(SimHandle::spawn(theirs, self.control.clone()));
        Ok(Box::new(ours))
    }

    fn is_present(&self) -> bool {
        self.control.is_connected()
    }

    fn describe(&self) -> String {
        "simulated ID card reader".to_string()
    }
}

/// Fake people with valid check digits, for tests and demos. Every name and
/// number here is made up.
pub mod fake {
    use chrono::NaiveDate;

    use super::super::text::{CardDetails, CardKind, CardRead, DocumentId, Expiry, Private, Sex};
    use crate::id_number::{check_digit, IdNumber};

    const NAMES: [&str; 6] = ["张三", "李四", "王五", "赵六", "欧阳小明", "测试人"];

    fn birth(seed: u32) -> NaiveDate {
        let y = 1940 + (seed * 7 % 80) as i32;
        let m = 1 + seed % 12;
        let d = 1 + seed * 3 % 28;
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    /// A valid GB 11643 number for `area` (6 digits) and `birth`.
    pub fn id_number(area: &str, birth: NaiveDate, seq: u32) -> IdNumber {
        let first17 = format!("{area}{}{:03}", birth.format("%Y%m%d"), seq % 1000);
        let full = format!("{first17}{}", check_digit(first17.as_bytes()) as char);
        // Well-formed by construction; fall back to the standard's example.
        IdNumber::parse(&full)
            .or_else(|_| IdNumber::parse("11010519491231002X"))
            .unwrap_or_else(|_| unreachable!("the GB 11643 example is valid"))
    }

    fn sex(seed: u32) -> Sex {
        if seed.is_multiple_of(2) {
            Sex::Female
        } else {
            Sex::Male
        }
    }

    /// A resident identity card.
    pub fn resident(seed: u32) -> CardRead {
        let b = birth(seed);
        CardRead {
            kind: CardKind::Resident,
            name: Private::new(NAMES[seed as usize % NAMES.len()]),
            sex: sex(seed),
            birth_date: b,
            id_number: DocumentId::Gb11643(id_number("110105", b, seed)),
            valid_from: date(2015, 6, 1),
            valid_to: Expiry::Date(date(2035, 6, 1)),
            details: CardDetails::Resident {
                nation: "01".into(),
                address: Private::new("北京市朝阳区测试路1号"),
                authority: "北京市公安局朝阳分局".into(),
            },
        }
    }

    /// A `J` Hong Kong / Macau / Taiwan residence permit.
    pub fn permit(seed: u32) -> CardRead {
        let b = birth(seed);
        CardRead {
            kind: CardKind::HkMacauTaiwanPermit,
            name: Private::new(NAMES[(seed as usize + 1) % NAMES.len()]),
            sex: sex(seed),
            birth_date: b,
            id_number: DocumentId::Gb11643(id_number("810000", b, seed)),
            valid_from: date(2020, 1, 1),
            valid_to: Expiry::Date(date(2025, 1, 1)),
            details: CardDetails::HkMacauTaiwanPermit {
                address: Private::new("广东省深圳市福田区测试街2号"),
                authority: "深圳市公安局".into(),
                pass_number: Private::new(format!("H{:08}", seed)),
                issue_count: "01".into(),
            },
        }
    }

    /// An `I` foreigner permanent residence card (2017).
    pub fn foreign_2017(seed: u32) -> CardRead {
        CardRead {
            kind: CardKind::ForeignPermanent2017,
            name: Private::new("史密斯"),
            sex: sex(seed),
            birth_date: birth(seed),
            id_number: DocumentId::Foreign(Private::new(format!("USA3100{:08}", seed))),
            valid_from: date(2018, 3, 1),
            valid_to: Expiry::Date(date(2028, 3, 1)),
            details: CardDetails::ForeignPermanent2017 {
                english_name: Private::new("SMITH, JOHN TEST"),
                nationality: "USA".into(),
                card_version: "01".into(),
                authority_code: "1500".into(),
            },
        }
    }

    /// A `Y` foreigner permanent residence ID card (2023).
    pub fn foreign_2023(seed: u32) -> CardRead {
        let b = birth(seed);
        let first17 = format!("911840{}{:03}", b.format("%Y%m%d"), seed % 1000);
        let number = format!("{first17}{}", check_digit(first17.as_bytes()) as char);
        CardRead {
            kind: CardKind::Foreign2023,
            name: Private::new("玛丽"),
            sex: sex(seed),
            birth_date: b,
            id_number: DocumentId::Foreign(Private::new(number)),
            valid_from: date(2023, 12, 1),
            valid_to: Expiry::Date(date(2033, 12, 1)),
            details: CardDetails::Foreign2023 {
                english_name: Private::new("MARIE TEST EXAMPLE"),
                nationality: "FRA".into(),
                renewal_count: "00".into(),
                old_card_link: String::new(),
            },
        }
    }
}
