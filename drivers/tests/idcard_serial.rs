//! The ID card driver against the simulator over a real socat pty pair.
//!
//! Every test has its own directory, socat process and simulator; socat is
//! killed by a Drop guard even when a test panics. Waits are bounded
//! (`recv_timeout`, polling for a condition), never fixed sleeps.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use greenwave_drivers::card::{CardEvent, CardSource, DeviceFault, ReadFailure};
use greenwave_drivers::idcard::sim::{fake, SimCard, SimControl, SimHandle, SimTiming};
use greenwave_drivers::idcard::text::{self, CardKind, CardRead};
use greenwave_drivers::idcard::{Backoff, Baud, IdCardReader, IdReaderConfig, Timeouts};

/// Generous bound for anything that should happen "soon" on a loaded box.
const SOON: Duration = Duration::from_secs(15);

/// A socat pty pair; killed and reaped on drop.
struct Socat {
    child: Child,
}

impl Socat {
    fn start(reader: &Path, sim: &Path) -> Socat {
        // Stale links (from a SIGKILLed socat) could point at a reused pty.
        let _ = std::fs::remove_file(reader);
        let _ = std::fs::remove_file(sim);
        let end = |p: &Path| format!("pty,raw,echo=0,link={}", p.display());
        let child = Command::new("socat")
            .args(["-d", "-d", &end(reader), &end(sim)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("socat must be installed (apt-get install socat)");
        let socat = Socat { child };
        wait_until("socat links", || reader.exists() && sim.exists());
        socat
    }

    /// Unplug: SIGTERM, like a USB adapter vanishing (links are removed).
    fn terminate(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + SOON;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        // Drop kills it for good.
    }
}

impl Drop for Socat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `cond` every 10 ms for at most [`SOON`].
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + SOON;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

fn open_sim(path: &Path, control: &SimControl) -> SimHandle {
    let port = serialport::new(path.to_string_lossy(), 115_200)
        .timeout(Duration::from_millis(20))
        .open()
        .expect("open the simulator side of the pty");
    SimHandle::spawn(port, control.clone())
}

fn test_config(port: PathBuf) -> IdReaderConfig {
    IdReaderConfig {
        port,
        baud: Baud::Fixed(115_200),
        poll_interval: Duration::from_millis(50),
        timeouts: Timeouts {
            command: Duration::from_millis(2000),
            find: Duration::from_millis(2000),
            select: Duration::from_millis(2000),
            read: Duration::from_millis(2500),
        },
        reconnect: Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(800),
        },
        read_attempts: 2,
        unresponsive_after: 5,
    }
}

/// A reader thread, a simulator and socat. Field order is drop order:
/// the reader stops first, then the simulator, then socat.
struct Rig {
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    sim: Option<SimHandle>,
    socat: Option<Socat>,
    events: Receiver<CardEvent>,
    control: SimControl,
    reader_path: PathBuf,
    sim_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn new() -> Rig {
        Self::with(|_| {})
    }

    fn with(tweak: impl FnOnce(&mut IdReaderConfig)) -> Rig {
        let dir = tempfile::tempdir().expect("tempdir");
        let reader_path = dir.path().join("reader");
        let sim_path = dir.path().join("sim");
        let socat = Socat::start(&reader_path, &sim_path);
        let control = SimControl::new();
        let sim = open_sim(&sim_path, &control);
        let mut config = test_config(reader_path.clone());
        tweak(&mut config);
        let source: Box<dyn CardSource> = Box::new(IdCardReader::new(config));
        let (tx, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let reader = thread::spawn(move || source.run(Box::new(tx), flag));
        Rig {
            stop,
            reader: Some(reader),
            sim: Some(sim),
            socat: Some(socat),
            events,
            control,
            reader_path,
            sim_path,
            _dir: dir,
        }
    }

    fn next(&self) -> CardEvent {
        match self.events.recv_timeout(SOON) {
            Ok(ev) => ev,
            Err(e) => panic!("no event within {SOON:?}: {e}"),
        }
    }

    fn expect_card(&self) -> CardRead {
        match self.next() {
            CardEvent::IdCard(card) => card,
            other => panic!("expected a card, got {other:?}"),
        }
    }

    fn expect_removed(&self) {
        match self.next() {
            CardEvent::Removed { .. } => {}
            other => panic!("expected Removed, got {other:?}"),
        }
    }

    /// Waits until the reader has polled `n` more times, then checks that
    /// nothing was reported meanwhile.
    fn expect_quiet_for_polls(&self, n: u64) {
        let start = self.control.stats().finds;
        wait_until("polls", || self.control.stats().finds >= start + n);
        match self.events.try_recv() {
            Err(mpsc::TryRecvError::Empty) => {}
            other => panic!("expected no event, got {other:?}"),
        }
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        self.sim.take();
        self.socat.take();
    }
}

#[test]
fn resident_card_once_per_placement() {
    let rig = Rig::new();
    let person = fake::resident(11);
    rig.control.place(SimCard::from_read(&person));
    let card = rig.expect_card();
    assert_eq!(card, person);
    assert_eq!(card.kind, CardKind::Resident);
    let id = card.id_number.as_id_number().expect("a GB 11643 number");
    assert_eq!(
        id.birth_date().0 as i32,
        chrono::Datelike::year(&card.birth_date)
    );

    // Left on the reader: polled again and again, never read again.
    rig.expect_quiet_for_polls(5);
    assert_eq!(rig.control.stats().reads_served, 1);

    rig.control.remove();
    rig.expect_removed();
    rig.control.place(SimCard::from_read(&person));
    assert_eq!(rig.expect_card(), person);
    assert_eq!(rig.control.stats().reads_served, 2);
}

#[test]
fn permit_card() {
    let rig = Rig::new();
    let person = fake::permit(3);
    rig.control.place(SimCard::from_read(&person));
    let card = rig.expect_card();
    assert_eq!(card.kind, CardKind::HkMacauTaiwanPermit);
    assert_eq!(card, person);
    assert!(card.id_number.as_id_number().is_some());
}

#[test]
fn foreigner_cards_2017_and_2023() {
    let rig = Rig::new();
    let old = fake::foreign_2017(4);
    rig.control.place(SimCard::from_read(&old));
    let card = rig.expect_card();
    assert_eq!(card.kind, CardKind::ForeignPermanent2017);
    assert_eq!(card, old);
    rig.control.remove();
    rig.expect_removed();

    let new = fake::foreign_2023(5);
    rig.control.place(SimCard::from_read(&new));
    let card = rig.expect_card();
    assert_eq!(card.kind, CardKind::Foreign2023);
    assert_eq!(card, new);
}

#[test]
fn no_card_no_event() {
    let rig = Rig::new();
    rig.expect_quiet_for_polls(5);
    assert_eq!(rig.control.stats().reads, 0);
}

#[test]
fn invalid_id_number_is_a_read_error_reported_once() {
    let rig = Rig::new();
    let mut block = text::encode(&fake::resident(6)).to_vec();
    let last = 122 + 17 * 2; // the check digit of the ID number
    block[last] = if block[last] == b'5' { b'6' } else { b'5' };
    rig.control.place(SimCard::raw_text(block));
    match rig.next() {
        CardEvent::ReadFailed {
            reason: ReadFailure::BadCard(detail),
            ..
        } => assert!(detail.contains("check digit"), "{detail}"),
        other => panic!("expected ReadFailed, got {other:?}"),
    }
    rig.expect_quiet_for_polls(3);
    rig.control.remove();
    rig.expect_removed();
}

#[test]
fn card_removed_mid_read() {
    let rig = Rig::new();
    rig.control.remove_during_next_read();
    rig.control.place(SimCard::from_read(&fake::resident(7)));
    match rig.next() {
        CardEvent::ReadFailed {
            reason: ReadFailure::Unreadable(_),
            ..
        } => {}
        other => panic!("expected ReadFailed, got {other:?}"),
    }
    rig.expect_removed();
    let person = fake::resident(8);
    rig.control.place(SimCard::from_read(&person));
    assert_eq!(rig.expect_card(), person);
}

#[test]
fn checksum_errors_are_retried() {
    let rig = Rig::new();
    // Two damaged "find" replies: nothing to report, polling goes on.
    rig.control.corrupt_next_replies(2);
    rig.expect_quiet_for_polls(4);
    // A damaged read reply: the second attempt succeeds, one event only.
    rig.control.corrupt_next_read();
    let person = fake::resident(9);
    rig.control.place(SimCard::from_read(&person));
    assert_eq!(rig.expect_card(), person);
    assert_eq!(rig.control.stats().reads, 2);
    rig.expect_quiet_for_polls(3);
}

#[test]
fn garbage_before_every_reply() {
    let rig = Rig::new();
    // Noise, a partial preamble, a preamble with an absurd length, and a
    // preamble cut short right before the real frame.
    rig.control.set_garbage_before_every_reply(&[
        0x00, 0x13, 0xAA, 0xAA, 0x55, 0xAA, 0xAA, 0xAA, 0x96, 0x69, 0xFF, 0xFF, 0x01, 0xAA, 0xAA,
        0xAA, 0x96,
    ]);
    let person = fake::foreign_2023(10);
    rig.control.place(SimCard::from_read(&person));
    assert_eq!(rig.expect_card(), person);
    rig.control.inject_garbage(&[0xAA; 40]);
    rig.control.remove();
    rig.expect_removed();
}

#[test]
fn slow_reader_with_real_timings_and_baud_probe() {
    let rig = Rig::with(|c| {
        c.baud = Baud::Auto;
        c.poll_interval = Duration::from_millis(300);
        c.timeouts = Timeouts::default();
    });
    rig.control.set_timing(SimTiming::realistic());
    let person = fake::resident(12);
    let placed = Instant::now();
    rig.control.place(SimCard::from_read(&person));
    assert_eq!(rig.expect_card(), person);
    // find + select + read + 1295 bytes on the wire, at least.
    assert!(
        placed.elapsed() >= Duration::from_millis(700),
        "{:?}",
        placed.elapsed()
    );
    assert_eq!(rig.control.stats().reads, 1);
}

#[test]
fn port_vanishes_and_returns() {
    let mut rig = Rig::new();
    let person = fake::resident(13);
    rig.control.place(SimCard::from_read(&person));
    assert_eq!(rig.expect_card(), person);

    // Unplug.
    if let Some(s) = rig.socat.take() {
        s.terminate();
    }
    rig.expect_removed();
    match rig.next() {
        CardEvent::DeviceError {
            fault: DeviceFault::Disconnected(detail),
            ..
        } => assert!(!detail.is_empty()),
        other => panic!("expected DeviceError, got {other:?}"),
    }
    rig.sim.take();

    // Plug back in on the same paths; the card is still on the reader.
    rig.socat = Some(Socat::start(&rig.reader_path, &rig.sim_path));
    rig.sim = Some(open_sim(&rig.sim_path, &rig.control));
    match rig.next() {
        CardEvent::Reconnected { .. } => {}
        other => panic!("expected Reconnected, got {other:?}"),
    }
    assert_eq!(rig.expect_card(), person);
    rig.expect_quiet_for_polls(3);
}

#[test]
fn missing_port_reports_once_then_connects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reader_path = dir.path().join("reader");
    let sim_path = dir.path().join("sim");
    let source = Box::new(IdCardReader::new(test_config(reader_path.clone())));
    let (tx, events) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let reader = thread::spawn(move || source.run(Box::new(tx), flag));
    struct StopOnDrop(Arc<AtomicBool>, Option<JoinHandle<()>>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
            if let Some(t) = self.1.take() {
                let _ = t.join();
            }
        }
    }
    let _guard = StopOnDrop(stop, Some(reader));
    match events.recv_timeout(SOON) {
        Ok(CardEvent::DeviceError { .. }) => {}
        other => panic!("expected DeviceError, got {other:?}"),
    }
    let _socat = Socat::start(&reader_path, &sim_path);
    let control = SimControl::new();
    let _sim = open_sim(&sim_path, &control);
    match events.recv_timeout(SOON) {
        Ok(CardEvent::Reconnected { .. }) => {}
        other => panic!("expected Reconnected, got {other:?}"),
    }
    assert!(matches!(
        events.recv_timeout(Duration::from_millis(1)),
        Err(RecvTimeoutError::Timeout)
    ));
}

/// Regression: a failing SAM module answered every "find" with an error
/// that the driver took for "no card": a card on the reader was never read
/// and nothing was reported. Now the failing SAM is one `DeviceError` (a
/// module fault), nothing more while it fails, and `Reconnected` once it
/// works again; the card still on the reader is then read.
#[test]
fn regression_a_failing_sam_is_one_module_fault_then_reconnected() {
    let rig = Rig::new();
    rig.expect_quiet_for_polls(2);
    rig.control.set_sam_fault(Some(0x60));
    let person = fake::resident(31);
    rig.control.place(SimCard::from_read(&person));
    match rig.next() {
        CardEvent::DeviceError {
            fault: DeviceFault::ModuleFault(detail),
            ..
        } => assert!(detail.contains("SW3=60"), "{detail}"),
        other => panic!("expected a module fault, got {other:?}"),
    }
    rig.expect_quiet_for_polls(10);
    assert_eq!(rig.control.stats().reads_served, 0);
    rig.control.set_sam_fault(None);
    match rig.next() {
        CardEvent::Reconnected { .. } => {}
        other => panic!("expected Reconnected, got {other:?}"),
    }
    assert_eq!(rig.expect_card(), person);
}
