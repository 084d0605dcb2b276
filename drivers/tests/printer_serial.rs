//! The serial transport over a socat pty pair, with the simulator on the
//! far end. Needs `socat` (Debian package `socat`).

mod printer_support;

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use greenwave_drivers::printer::sim::{serve_stream, SimState};
use greenwave_drivers::printer::{
    open_printer, PrinterConfig, PrinterError, PrinterState, TicketLayout, TicketPrinter,
};
use printer_support::decode;

/// The kiosk's banner for priority tickets (the driver prints whatever
/// banner it is given).
const PRIORITY_BANNER: &str = "优先服务 · 绿波通道";

const WAIT: Duration = Duration::from_secs(5);

/// A socat pty pair, killed (and its links removed) on drop, even on panic.
struct PtyPair {
    child: Child,
    dir: PathBuf,
}

impl PtyPair {
    fn new() -> PtyPair {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("gw-printer-pty-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("socat")
            .arg("-d")
            .arg("-d")
            .arg(format!(
                "pty,raw,echo=0,link={}",
                dir.join("kiosk").display()
            ))
            .arg(format!(
                "pty,raw,echo=0,link={}",
                dir.join("printer").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("socat is needed for the serial tests: apt-get install socat");
        let pair = PtyPair { child, dir };
        // Poll until socat has made both links.
        let deadline = Instant::now() + WAIT;
        while !(pair.kiosk().exists() && pair.printer().exists()) {
            assert!(Instant::now() < deadline, "socat made no pty links");
            thread::sleep(Duration::from_millis(10));
        }
        pair
    }

    fn kiosk(&self) -> PathBuf {
        self.dir.join("kiosk")
    }

    fn printer(&self) -> PathBuf {
        self.dir.join("printer")
    }

    fn unplug(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PtyPair {
    fn drop(&mut self) {
        self.unplug();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ticket(number: &str) -> TicketLayout {
    TicketLayout {
        hall_name: "余杭区便民服务中心".into(),
        banner: Some(PRIORITY_BANNER.into()),
        number: number.into(),
        service_name: "残疾人补贴".into(),
        ahead: "前面还有 3 人".into(),
        issued_at: "2026-11-23 10:30".into(),
        qr_payload: Some(format!("https://gw.example.cn/q/{number}")),
        ..TicketLayout::default()
    }
}

fn serial_printer(path: &Path, status_ms: u64) -> Box<dyn TicketPrinter> {
    let mut config = PrinterConfig::new(format!("serial://{}?baud=9600", path.display()));
    config.timeouts.status_ms = status_ms;
    config.timeouts.write_ms = 2000;
    open_printer(&config).unwrap()
}

#[test]
fn prints_over_a_serial_line() {
    let mut pair = PtyPair::new();
    let far_end = OpenOptions::new()
        .read(true)
        .write(true)
        .open(pair.printer())
        .unwrap();
    let sim = serve_stream(far_end, SimState::Ready).unwrap();
    let mut p = serial_printer(&pair.kiosk(), 500);

    assert_eq!(p.status().unwrap().state(), PrinterState::Ready);
    p.print(&ticket("GC101")).unwrap();
    let jobs = sim.wait_for_jobs(1, WAIT);
    assert_eq!(jobs.len(), 1);
    let paper = decode(&jobs[0]).unwrap();
    assert!(paper.line("优先服务 · 绿波通道").is_some());
    assert_eq!(
        paper.line("GC101").map(|l| (l.width, l.height)),
        Some((4, 4))
    );
    assert!(paper.line("前面还有 3 人").is_some());
    assert_eq!(paper.qr_codes[0].payload, "https://gw.example.cn/q/GC101");

    sim.set_state(SimState::PaperOut);
    assert!(matches!(
        p.print(&ticket("GC102")),
        Err(PrinterError::NotReady {
            state: PrinterState::PaperOut
        })
    ));

    // A silent printer: Offline within the timeout, and the port stays usable.
    sim.set_state(SimState::Silent);
    let started = Instant::now();
    assert_eq!(p.status().unwrap().state(), PrinterState::Offline);
    assert!(started.elapsed() < Duration::from_secs(2));

    sim.set_state(SimState::Ready);
    p.print(&ticket("GC103")).unwrap();
    let jobs = sim.wait_for_jobs(2, WAIT);
    assert_eq!(jobs.len(), 2, "GC102 was never sent");
    assert!(decode(&jobs[1]).unwrap().line("GC103").is_some());

    // Unplugged: no hang, a typed answer.
    pair.unplug();
    let started = Instant::now();
    let outcome = p.print(&ticket("GC104"));
    assert!(
        matches!(
            outcome,
            Err(PrinterError::NotReady {
                state: PrinterState::Offline
            }) | Err(PrinterError::Io { .. })
        ),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_missing_serial_port_is_offline() {
    let mut p = serial_printer(Path::new("/dev/greenwave-no-such-tty"), 200);
    assert_eq!(p.status().unwrap().state(), PrinterState::Offline);
}

/// escpos's serial driver sets a fixed 5 s timeout before every read,
/// whatever timeout it was opened with: a silent printer keeps the kiosk
/// waiting 5 s per status byte instead of the status timeout. We keep our
/// own serial transport (ARCHITECTURE.md, "The ticket printer and the
/// escpos crate").
#[test]
fn escpos_serial_driver_waits_five_seconds_for_a_silent_printer() {
    use escpos::driver::{Driver, SerialPortDriver};

    let pair = PtyPair::new();
    let far_end = OpenOptions::new()
        .read(true)
        .write(true)
        .open(pair.printer())
        .unwrap();
    let _sim = serve_stream(far_end, SimState::Silent).unwrap();
    let kiosk = pair.kiosk().display().to_string();

    let driver = SerialPortDriver::open(&kiosk, 9600, Some(Duration::from_millis(300))).unwrap();
    driver.write(&[0x10, 0x04, 0x01]).unwrap();
    let started = Instant::now();
    let outcome = driver.read(&mut [0u8; 1]);
    let waited = started.elapsed();
    assert!(outcome.is_err(), "{outcome:?}");
    assert!(
        waited >= Duration::from_millis(4500),
        "the read waited {waited:?}, though the driver was opened with 300 ms"
    );
    drop(driver); // the port is exclusive

    let mut ours = serial_printer(&pair.kiosk(), 300);
    let started = Instant::now();
    assert_eq!(ours.status().unwrap().state(), PrinterState::Offline);
    assert!(started.elapsed() < Duration::from_millis(1000));
}
