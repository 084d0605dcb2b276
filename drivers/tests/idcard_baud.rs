//! The GA 467 reader's baud rate search (`baud = "auto"`: SAM status at
//! 115200, then 9600), as `greenwave devices` sees it (`probe`) and as the
//! card source sees it when it opens the reader. The simulator runs in
//! process behind a link that, like a real serial line, garbles everything
//! sent at a rate other than the reader's: the reader then never answers.

use std::io::{self, ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use greenwave_drivers::card::{CardEvent, CardSource, DeviceFault};
use greenwave_drivers::idcard::reader::{Connector, Link, ReaderProbe};
use greenwave_drivers::idcard::sim::{fake, pipe_pair, PipeEnd, SimCard, SimControl, SimHandle};
use greenwave_drivers::idcard::{Backoff, Baud, IdCardReader, IdReaderConfig, Timeouts};

const SOON: Duration = Duration::from_secs(10);

/// The rates the driver used, in order: each open, then each change.
type RateLog = Arc<Mutex<Vec<u32>>>;

/// A serial line to a reader set to `reader_baud`.
struct Line {
    pipe: PipeEnd,
    baud: u32,
    reader_baud: u32,
    log: RateLog,
}

impl Read for Line {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.pipe.read(buf)
    }
}

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.baud == self.reader_baud {
            self.pipe.write(buf)
        } else {
            // Line noise to the reader: it answers nothing.
            Ok(buf.len())
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.pipe.flush()
    }
}

impl Link for Line {
    fn discard_input(&mut self) -> io::Result<()> {
        self.pipe.discard_input()
    }

    fn set_baud(&mut self, baud: u32) -> io::Result<()> {
        self.log.lock().unwrap().push(baud);
        self.baud = baud;
        Ok(())
    }
}

struct LineConnector {
    control: SimControl,
    reader_baud: u32,
    log: RateLog,
    sim: Option<SimHandle>,
}

impl Connector for LineConnector {
    fn connect(&mut self, baud: u32) -> io::Result<Box<dyn Link>> {
        self.sim = None;
        if !self.control.is_connected() {
            return Err(io::Error::new(ErrorKind::NotFound, "no such port"));
        }
        self.log.lock().unwrap().push(baud);
        let (ours, theirs) = pipe_pair(Duration::from_millis(20));
        self.sim = Some(SimHandle::spawn(theirs, self.control.clone()));
        Ok(Box::new(Line {
            pipe: ours,
            baud,
            reader_baud: self.reader_baud,
            log: Arc::clone(&self.log),
        }))
    }

    fn is_present(&self) -> bool {
        self.control.is_connected()
    }

    fn describe(&self) -> String {
        format!("test line at {} baud", self.reader_baud)
    }
}

fn config(baud: Baud) -> IdReaderConfig {
    IdReaderConfig {
        baud,
        poll_interval: Duration::from_millis(30),
        timeouts: Timeouts {
            // Also how long an unanswered rate takes: keep it short.
            command: Duration::from_millis(150),
            find: Duration::from_millis(150),
            select: Duration::from_millis(500),
            read: Duration::from_millis(1000),
        },
        reconnect: Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(100),
        },
        read_attempts: 2,
        unresponsive_after: 3,
        ..IdReaderConfig::default()
    }
}

/// A reader set to `reader_baud`, driven with `baud`; the rates it used.
fn reader(control: &SimControl, reader_baud: u32, baud: Baud) -> (IdCardReader, RateLog) {
    let log = RateLog::default();
    let connector = LineConnector {
        control: control.clone(),
        reader_baud,
        log: Arc::clone(&log),
        sim: None,
    };
    let reader = IdCardReader::with_connector("idcard:test", config(baud), Box::new(connector));
    (reader, log)
}

fn rates(log: &RateLog) -> Vec<u32> {
    log.lock().unwrap().clone()
}

/// The SAM id the simulator gives (bytes 1 to 16).
const SIM_SAM_ID: &str = "0102030405060708090A0B0C0D0E0F10";

#[test]
fn devices_finds_a_reader_at_115200_with_its_sam_id() {
    let control = SimControl::new();
    let (mut r, log) = reader(&control, 115_200, Baud::Auto);
    assert_eq!(
        r.probe().unwrap(),
        ReaderProbe {
            baud: 115_200,
            sam_id: Some(SIM_SAM_ID.into())
        }
    );
    assert_eq!(rates(&log), [115_200], "9600 is not tried");
}

#[test]
fn devices_finds_a_reader_set_to_9600_after_trying_115200() {
    let control = SimControl::new();
    let (mut r, log) = reader(&control, 9_600, Baud::Auto);
    assert_eq!(
        r.probe().unwrap(),
        ReaderProbe {
            baud: 9_600,
            sam_id: Some(SIM_SAM_ID.into())
        }
    );
    assert_eq!(rates(&log), [115_200, 9_600]);
}

#[test]
fn devices_with_a_fixed_baud_tries_only_that_rate() {
    let control = SimControl::new();
    let (mut r, log) = reader(&control, 9_600, Baud::Fixed(9_600));
    assert_eq!(r.probe().unwrap().baud, 9_600);
    assert_eq!(rates(&log), [9_600]);

    // Fixed at the wrong rate: no answer, and no other rate tried.
    let (mut r, log) = reader(&control, 9_600, Baud::Fixed(115_200));
    let err = r.probe().unwrap_err();
    assert!(matches!(err, DeviceFault::NoAnswer(_)), "{err}");
    assert!(err.to_string().contains("115200"), "{err}");
    assert_eq!(rates(&log), [115_200]);
}

#[test]
fn devices_says_a_mute_reader_does_not_answer_at_either_rate() {
    let control = SimControl::new();
    control.set_mute(true);
    let (mut r, log) = reader(&control, 115_200, Baud::Auto);
    let err = r.probe().unwrap_err();
    assert!(matches!(err, DeviceFault::NoAnswer(_)), "{err}");
    assert!(err.to_string().contains("115200 or 9600"), "{err}");
    assert_eq!(rates(&log), [115_200, 9_600]);
}

#[test]
fn devices_says_the_port_cannot_be_opened_when_the_reader_is_unplugged() {
    let control = SimControl::new();
    control.unplug();
    let (mut r, log) = reader(&control, 115_200, Baud::Auto);
    let err = r.probe().unwrap_err();
    assert!(matches!(err, DeviceFault::Disconnected(_)), "{err}");
    assert!(err.to_string().contains("cannot open"), "{err}");
    assert!(rates(&log).is_empty());
}

/// The reader as a running card source.
struct Running {
    events: Receiver<CardEvent>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn start(r: IdCardReader) -> Running {
        let (tx, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let source: Box<dyn CardSource> = Box::new(r);
        let thread = Some(thread::spawn(move || source.run(Box::new(tx), flag)));
        Running {
            events,
            stop,
            thread,
        }
    }

    fn next(&self) -> CardEvent {
        self.events.recv_timeout(SOON).expect("an event")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_reader_set_to_9600_is_found_by_auto_baud_and_reads_cards() {
    let control = SimControl::new();
    let (r, log) = reader(&control, 9_600, Baud::Auto);
    let person = fake::resident(31);
    control.place(SimCard::from_read(&person));
    let running = Running::start(r);
    match running.next() {
        CardEvent::IdCard(card) => assert_eq!(card, person),
        other => panic!("expected the card, got {other:?}"),
    }
    assert_eq!(rates(&log), [115_200, 9_600]);
}

#[test]
fn a_mute_reader_on_auto_baud_is_reported_once_naming_both_rates() {
    let control = SimControl::new();
    control.set_mute(true);
    let (r, log) = reader(&control, 115_200, Baud::Auto);
    let running = Running::start(r);
    match running.next() {
        CardEvent::DeviceError {
            fault: DeviceFault::NoAnswer(detail),
            ..
        } => assert!(detail.contains("115200 or 9600"), "{detail}"),
        other => panic!("expected DeviceError, got {other:?}"),
    }
    // Retried (both rates each time), not reported again.
    assert!(running
        .events
        .recv_timeout(Duration::from_millis(800))
        .is_err());
    assert!(rates(&log).len() >= 4, "{:?}", rates(&log));

    // The reader answers again: found, and reported back.
    control.set_mute(false);
    match running.next() {
        CardEvent::Reconnected { .. } => {}
        other => panic!("expected Reconnected, got {other:?}"),
    }
}

#[test]
fn a_fixed_baud_reader_that_does_not_answer_is_polled_and_reported_unresponsive() {
    let control = SimControl::new();
    let (r, log) = reader(&control, 9_600, Baud::Fixed(115_200));
    let running = Running::start(r);
    match running.next() {
        CardEvent::DeviceError {
            fault: DeviceFault::NoAnswer(_),
            ..
        } => {}
        other => panic!("expected DeviceError, got {other:?}"),
    }
    // Opened once: the fixed rate is trusted and polled, never changed.
    assert_eq!(rates(&log), [115_200]);
}
