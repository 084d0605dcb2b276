//! The PC/SC priority card watcher against the real stack: the test's own
//! `pcscd -f -a`, the `vsmartcard-vpcd` driver and virtual cards
//! ([`greenwave_drivers::pcsc::vcard`]). Needs the Debian packages `pcscd`,
//! `vsmartcard-vpcd` and `libpcsclite-dev`.
//!
//! pcscd and vpcd's TCP port are machine-wide, so everything runs in one
//! test function (phases in order), and a process-wide mutex keeps any later
//! test of this file from overlapping with it.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use greenwave_drivers::card::{spawn_card_source, CardEvent, DeviceFault};
use greenwave_drivers::pcsc::vcard::{ApduBehaviour, VirtualCard};
use greenwave_drivers::pcsc::{PcscConfig, PcscWatcher};

/// Serialises the tests of this file: one pcscd at a time.
static PCSCD_LOCK: Mutex<()> = Mutex::new(());

const SOCKET: &str = "/run/pcscd/pcscd.comm";
const READER: &str = "Virtual PCD 00 00";
/// Bounds for one expected event; generous for a loaded 2-core machine.
const EVENT_TIMEOUT: Duration = Duration::from_secs(15);

fn pcscd_binary() -> PathBuf {
    ["/usr/sbin/pcscd", "/usr/local/sbin/pcscd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("pcscd"))
}

/// Pids of running processes named `pcscd`.
fn pcscd_pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .map(|c| c.trim() == "pcscd")
                .unwrap_or(false)
        })
        .collect()
}

/// A pcscd this test started; killed on drop, panics included.
struct Pcscd {
    child: Option<Child>,
    log: PathBuf,
}

/// Sockets on vpcd's ports (35963, 35964) in /proc/net/tcp{,6}: with
/// `listening_only`, listeners; otherwise any state, TIME_WAIT included.
fn vpcd_port_users(listening_only: bool) -> usize {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|t| t.lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
        .filter(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let state_ok = !listening_only || cols.get(3) == Some(&"0A");
            let port = cols.get(1).and_then(|local| local.rsplit(':').next());
            state_ok && port.is_some_and(|p| p == "8C7B" || p == "8C7C")
        })
        .count()
}

/// Regression (CI): vpcd failed with "Address already in use" when a
/// previous run's sockets on its port were still there (TIME_WAIT lasts a
/// minute after a pcscd is killed with a card connected). Wait, bounded,
/// until the ports are free.
fn wait_for_vpcd_ports(listening_only: bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while vpcd_port_users(listening_only) > 0 {
        assert!(
            Instant::now() < deadline,
            "vpcd's ports 35963/35964 stayed in use for 90 s"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

impl Pcscd {
    fn start(log: &Path) -> Pcscd {
        wait_for_vpcd_ports(true);
        let others = pcscd_pids();
        assert!(
            others.is_empty(),
            "a pcscd not started by this test is running (pids {others:?}); \
             stop it first (this test needs to start and kill its own)"
        );
        if Path::new(SOCKET).exists() {
            assert!(
                UnixStream::connect(SOCKET).is_err(),
                "{SOCKET} answers: another pcscd is running"
            );
        }
        let stderr = File::options()
            .create(true)
            .append(true)
            .open(log)
            .expect("pcscd log file");
        let child = Command::new(pcscd_binary())
            // -x: should this test be killed before its guard runs, the
            // orphaned pcscd exits after 60 s without clients.
            .args(["-f", "-a", "-x"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start pcscd (Debian package pcscd)");
        Pcscd {
            child: Some(child),
            log: log.to_owned(),
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        self.kill();
        if thread::panicking() {
            if let Ok(f) = File::open(&self.log) {
                let lines: Vec<String> = BufReader::new(f).lines().map_while(Result::ok).collect();
                eprintln!("--- last lines of the pcscd log ---");
                for l in lines.iter().skip(lines.len().saturating_sub(40)) {
                    eprintln!("{l}");
                }
            }
        }
    }
}

/// Polls the PC/SC API until `reader` is listed.
/// Starts pcscd and waits for the virtual reader; a pcscd whose vpcd could
/// not take its port is killed and started again (up to three times).
fn start_pcscd(log: &Path) -> Pcscd {
    // Nothing of an earlier run may linger on the ports at the first start.
    wait_for_vpcd_ports(false);
    let mut last = String::new();
    for _ in 0..3 {
        let mut p = Pcscd::start(log);
        match reader_appears(READER, Duration::from_secs(10)) {
            Ok(()) => return p,
            Err(e) => {
                eprintln!("pcscd did not come up ({e}); starting it again");
                last = e;
                p.kill();
            }
        }
    }
    panic!("{last}");
}

fn reader_appears(reader: &str, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    let mut last = String::new();
    while Instant::now() < deadline {
        match pcsc::Context::establish(pcsc::Scope::User) {
            Ok(ctx) => match ctx.list_readers_owned() {
                Ok(names) if names.iter().any(|n| n.to_string_lossy() == reader) => return Ok(()),
                Ok(names) => last = format!("readers: {names:?}"),
                Err(e) => last = format!("list readers: {e}"),
            },
            Err(e) => last = format!("establish: {e}"),
        }
        thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "reader {reader:?} did not appear within {within:?} ({last})"
    ))
}

fn next_event(rx: &Receiver<CardEvent>, what: &str) -> CardEvent {
    match rx.recv_timeout(EVENT_TIMEOUT) {
        Ok(ev) => ev,
        Err(RecvTimeoutError::Timeout) => {
            panic!("no event within {EVENT_TIMEOUT:?}: expected {what}")
        }
        Err(RecvTimeoutError::Disconnected) => panic!("watcher ended: expected {what}"),
    }
}

fn expect_card(rx: &Receiver<CardEvent>, uid: &[u8]) {
    match next_event(rx, "PriorityCard") {
        CardEvent::PriorityCard { uid: got } => assert_eq!(got, uid),
        other => panic!("expected PriorityCard, got {other:?}"),
    }
}

fn expect_removed(rx: &Receiver<CardEvent>) {
    let ev = next_event(rx, "Removed");
    assert!(
        matches!(ev, CardEvent::Removed { .. }),
        "expected Removed, got {ev:?}"
    );
}

fn expect_quiet(rx: &Receiver<CardEvent>, for_: Duration) {
    if let Ok(ev) = rx.recv_timeout(for_) {
        panic!("unexpected event {ev:?}");
    }
}

/// Presents `card`, retrying briefly while vpcd is not yet listening.
fn present(card: &VirtualCard) -> greenwave_drivers::pcsc::vcard::PresentedCard {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match card.present() {
            Ok(p) => return p,
            Err(e) if Instant::now() < deadline => {
                eprintln!("vpcd not ready ({e}), retrying");
                thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("cannot present virtual card: {e}"),
        }
    }
}

#[test]
fn watcher_against_pcscd_and_vpcd() {
    let _serial = PCSCD_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pcscd.log");
    let mut pcscd = start_pcscd(&log);

    // A watcher whose reader does not exist reports it, and honours stop.
    let (tx, other_rx) = mpsc::channel();
    let other_stop = Arc::new(AtomicBool::new(false));
    let other = spawn_card_source(
        Box::new(PcscWatcher::new(PcscConfig {
            reader: Some("No Such Reader".into()),
            ..PcscConfig::default()
        })),
        Box::new(tx),
        Arc::clone(&other_stop),
    )
    .unwrap();
    match next_event(&other_rx, "DeviceError (no reader)") {
        CardEvent::DeviceError { fault, .. } => {
            assert!(matches!(fault, DeviceFault::NotFound(_)), "{fault}");
            assert!(fault.to_string().contains("No Such Reader"), "{fault}")
        }
        ev => panic!("expected DeviceError, got {ev:?}"),
    }

    // The watcher under test.
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let config = PcscConfig {
        reader: Some(READER.into()),
        poll_ms: 200,
        reconnect_initial_ms: 100,
        reconnect_max_ms: 1000,
        read_timeout_ms: 1000,
    };
    let watcher = spawn_card_source(
        Box::new(PcscWatcher::new(config)),
        Box::new(tx),
        Arc::clone(&stop),
    )
    .unwrap();

    // Stop is honoured within about a second.
    let t = Instant::now();
    other_stop.store(true, Ordering::SeqCst);
    while !other.is_finished() {
        assert!(t.elapsed() < Duration::from_secs(3), "stop not honoured");
        thread::sleep(Duration::from_millis(20));
    }
    other.join().unwrap();
    eprintln!("phase stop: {:?}", t.elapsed());

    // Phase 1: a card, exactly one event, then its removal.
    let uid_a = [0x04, 0xA2, 0x3B, 0x11];
    let a = present(&VirtualCard::new(&uid_a));
    expect_card(&rx, &uid_a);
    expect_quiet(&rx, Duration::from_millis(1500));
    assert_eq!(a.apdus(), 1, "one GET DATA per presentation");
    a.remove();
    expect_removed(&rx);
    eprintln!("phase 1 done at {:?}", started.elapsed());

    // Phase 2: another card with a 7-byte UID.
    let uid_b = [0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66];
    let b = present(&VirtualCard::new(&uid_b));
    expect_card(&rx, &uid_b);
    b.remove();
    expect_removed(&rx);
    eprintln!("phase 2 done at {:?}", started.elapsed());

    // Phase 3: a card pulled mid-APDU gives no card event; the watcher
    // carries on.
    let pulled = present(
        &VirtualCard::new(&[0xDE, 0xAD, 0xBE, 0xEF])
            .with_behaviour(ApduBehaviour::PullAfter(Duration::from_millis(100))),
    );
    let t = Instant::now();
    while pulled.apdus() == 0 {
        assert!(
            t.elapsed() < EVENT_TIMEOUT,
            "the watcher never sent an APDU"
        );
        thread::sleep(Duration::from_millis(20));
    }
    // vpcd answers the interrupted APDU with nothing: no event at all.
    expect_quiet(&rx, Duration::from_secs(2));
    drop(pulled);
    let uid_c = [0x08, 0x01, 0x02, 0x03];
    let c = present(&VirtualCard::new(&uid_c));
    expect_card(&rx, &uid_c);
    c.remove();
    expect_removed(&rx);
    eprintln!("phase 3 done at {:?}", started.elapsed());

    // Phase 3b: a card that is too slow: the watcher gives up after its
    // read timeout without an event, and reads the next card.
    let slow = present(
        &VirtualCard::new(&[0x51, 0x0B, 0x0B, 0x01])
            .with_behaviour(ApduBehaviour::Delay(Duration::from_millis(2500))),
    );
    expect_quiet(&rx, Duration::from_secs(4));
    assert_eq!(slow.apdus(), 1);
    slow.remove();
    let c = present(&VirtualCard::new(&uid_c));
    expect_card(&rx, &uid_c);
    c.remove();
    expect_removed(&rx);
    eprintln!("phase 3b done at {:?}", started.elapsed());

    // Phase 3c: a card that refuses GET DATA: ReadFailed once, then Removed.
    let refusing =
        present(&VirtualCard::new(&[0x01, 0x02, 0x03, 0x04]).with_behaviour(ApduBehaviour::Refuse));
    let ev = next_event(&rx, "ReadFailed");
    assert!(matches!(ev, CardEvent::ReadFailed { .. }), "{ev:?}");
    expect_quiet(&rx, Duration::from_millis(1000));
    refusing.remove();
    expect_removed(&rx);
    eprintln!("phase 3c done at {:?}", started.elapsed());

    // Phase 4: pcscd restarts (killed, then started again).
    pcscd.kill();
    let ev = next_event(&rx, "DeviceError");
    assert!(matches!(ev, CardEvent::DeviceError { .. }), "{ev:?}");
    eprintln!("pcscd killed: {ev:?}");
    pcscd = Pcscd::start(&log);
    let ev = next_event(&rx, "Reconnected");
    assert!(matches!(ev, CardEvent::Reconnected { .. }), "{ev:?}");
    let uid_d = [0x04, 0xD0, 0x0D, 0x01];
    let d = present(&VirtualCard::new(&uid_d));
    expect_card(&rx, &uid_d);
    d.remove();
    expect_removed(&rx);
    eprintln!("phase 4 done at {:?}", started.elapsed());

    // Phase 5: pcscd dies while a card is on the reader: Removed, then
    // DeviceError; after the restart the card (still presented by its
    // owner) or a new one is read again.
    let uid_e = [0x04, 0xEE, 0xEE, 0x01];
    let e = present(&VirtualCard::new(&uid_e));
    expect_card(&rx, &uid_e);
    pcscd.kill();
    expect_removed(&rx);
    let ev = next_event(&rx, "DeviceError");
    assert!(matches!(ev, CardEvent::DeviceError { .. }), "{ev:?}");
    assert!(
        {
            let t = Instant::now();
            while !e.is_closed() && t.elapsed() < Duration::from_secs(5) {
                thread::sleep(Duration::from_millis(20));
            }
            e.is_closed()
        },
        "vpcd went away with pcscd: the virtual card is off the reader"
    );
    drop(e);
    pcscd = Pcscd::start(&log);
    let ev = next_event(&rx, "Reconnected");
    assert!(matches!(ev, CardEvent::Reconnected { .. }), "{ev:?}");
    let e = present(&VirtualCard::new(&uid_e));
    expect_card(&rx, &uid_e);
    e.remove();
    expect_removed(&rx);
    eprintln!("phase 5 done at {:?}", started.elapsed());

    // Stop, while a read is blocked on a slow card.
    let slow = present(
        &VirtualCard::new(&[0x51, 0x0B, 0x0B, 0x02])
            .with_behaviour(ApduBehaviour::Delay(Duration::from_secs(5))),
    );
    let t = Instant::now();
    while slow.apdus() == 0 {
        assert!(
            t.elapsed() < EVENT_TIMEOUT,
            "the watcher never sent an APDU"
        );
        thread::sleep(Duration::from_millis(20));
    }
    let t = Instant::now();
    stop.store(true, Ordering::SeqCst);
    while !watcher.is_finished() {
        assert!(t.elapsed() < Duration::from_secs(3), "stop not honoured");
        thread::sleep(Duration::from_millis(20));
    }
    watcher.join().unwrap();
    eprintln!("stopped in {:?}", t.elapsed());
    drop(slow);
    drop(pcscd);
    eprintln!("total {:?}", started.elapsed());
}
