//! A hall of machines under load (issue 16), `cargo bench --bench hall`:
//! the software time of a swipe, from the last byte of the reader's read
//! reply to the first byte of the ticket at the printer, while 30 windows
//! call, start and finish and 5 boards follow the event stream; and the
//! hall server's resident memory.
//!
//! Everything is the real binary: the hall server (`greenwave run`), the
//! kiosk machines (`greenwave run` with `[hall] server`), each with a GA
//! 467 simulator on a socat pty and a printer on 127.0.0.1 in this
//! process. Two layouts in the same run:
//!
//! - `one_machine`: the baseline, a hall whose server has its own reader
//!   and printer (no wire between kiosk and queue);
//! - `kiosk_machines`: KIOSKS (default 4) kiosk machines asking the server
//!   over loopback HTTP.
//!
//! SWIPES (default 150) per kiosk; WINDOW_PERIOD_MS (default 1000) between
//! one window's call cycles.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{eventually, free_port, http, run_in, Daemon, Socat, MANAGER};
use greenwave_drivers::idcard::sim::{fake, SimCard, SimControl, SimHandle};
use greenwave_drivers::idcard::CardRead;
use support::{printer, quantile_ms, Stamped};

const WINDOWS: u32 = 30;
const BOARDS: usize = 5;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn window_token(n: u32) -> String {
    format!("bench-window-{n:02}-token-000001")
}

fn kiosk_token(n: usize) -> String {
    format!("bench-kiosk-{n}-token-0000001")
}

/// One reader and one printer, as the kiosk machine sees them.
struct Devices {
    control: SimControl,
    replies: Arc<Mutex<Vec<Instant>>>,
    firsts: Arc<Mutex<Vec<Instant>>>,
    reader: PathBuf,
    printer: String,
    _sim: SimHandle,
    _socat: Socat,
}

impl Devices {
    fn new(dir: &Path, name: &str) -> Devices {
        let (reader, sim_end) = (
            dir.join(format!("reader-{name}")),
            dir.join(format!("sim-{name}")),
        );
        let socat = Socat::start(&reader, &sim_end);
        let port = serialport::new(sim_end.to_string_lossy(), 115_200)
            .timeout(Duration::from_millis(20))
            .open()
            .unwrap();
        let control = SimControl::new();
        let replies = Arc::new(Mutex::new(Vec::new()));
        let sim = SimHandle::spawn(Stamped::new(port, replies.clone()), control.clone());
        let (printer, firsts) = printer();
        Devices {
            control,
            replies,
            firsts,
            reader,
            printer,
            _sim: sim,
            _socat: socat,
        }
    }

    fn toml(&self) -> String {
        format!(
            r#"[devices.id_reader]
kind = "ga467"
port = "{}"
baud = 115200
poll_interval = "50ms"
[devices.printer]
uri = "{}"
"#,
            self.reader.display(),
            self.printer
        )
    }

    /// Swipes each resident in turn: places the card, waits for the
    /// ticket's first byte, lifts the card until the reader saw it go.
    fn swipe_all(&self, residents: &[CardRead]) {
        for r in residents {
            let printed = self.firsts.lock().unwrap().len();
            self.control.place(SimCard::from_read(r));
            eventually(
                Duration::from_secs(30),
                "a swipe never printed",
                || self.firsts.lock().unwrap().len() > printed,
                String::new,
            );
            self.control.remove();
            let finds = self.control.stats().finds;
            eventually(
                Duration::from_secs(10),
                "the reader stopped polling",
                || self.control.stats().finds >= finds + 2,
                String::new,
            );
        }
    }

    /// Reply-to-first-byte times, one per swipe.
    fn latencies(&self) -> Vec<Duration> {
        let replies = self.replies.lock().unwrap();
        let firsts = self.firsts.lock().unwrap();
        assert_eq!(replies.len(), firsts.len(), "one ticket per read");
        replies
            .iter()
            .zip(firsts.iter())
            .map(|(r, p)| p.duration_since(*r))
            .collect()
    }
}

/// The hall: keys, a roster with every other resident, the server's
/// configuration (with `own_devices` on the server itself).
fn hall_config(dir: &Path, port: u16, kiosks: usize, own_devices: &str) -> PathBuf {
    let mut cfg = String::from(
        r#"data_dir = "data"
[hall]
name = "压测大厅"
[[services]]
code = "civil"
name = "民政救助"
letter = "A"
"#,
    );
    for w in 1..=WINDOWS {
        cfg += &format!(
            "[[windows]]\nnumber = {w}\nservices = [\"civil\"]\ntoken = \"{}\"\n",
            window_token(w)
        );
    }
    for k in 1..=kiosks {
        cfg += &format!(
            "[[kiosks]]\nid = \"k{k}\"\nname = \"{k} 号自助机\"\ntoken = \"{}\"\n",
            kiosk_token(k)
        );
    }
    cfg += &format!(
        r#"[roster]
public_key = "keys/roster-public.key"
hash_key = "keys/roster-hash.key"
[kiosk]
public_url = "http://hall.example/q"
[api]
listen = "127.0.0.1:{port}"
manager_token = "{MANAGER}"
[voice]
enabled = false
{own_devices}"#
    );
    let path = dir.join("server.toml");
    std::fs::write(&path, cfg).unwrap();
    path
}

/// The server's resident set size, from /proc, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The load beside the swipes: windows calling, boards following, the
/// server's memory sampled. Stops when `stop` is set; returns (calls
/// made, board events read, peak RSS MiB).
fn load(base: &str, pid: u32, stop: &AtomicBool, period: Duration) -> (usize, usize, f64) {
    let calls = AtomicUsize::new(0);
    let events = AtomicUsize::new(0);
    let peak = Mutex::new(0.0f64);
    let addr = base.trim_start_matches("http://").to_string();
    std::thread::scope(|s| {
        for w in 1..=WINDOWS {
            let calls = &calls;
            s.spawn(move || {
                let token = window_token(w);
                let op = |what: &str| {
                    http(
                        "POST",
                        &format!("{base}/api/windows/{w}/{what}"),
                        Some(&token),
                        None,
                    )
                    .0
                };
                while !stop.load(Ordering::SeqCst) {
                    if op("call") == 200 {
                        calls.fetch_add(1, Ordering::SeqCst);
                        op("start");
                        op("finish");
                    }
                    std::thread::sleep(period);
                }
            });
        }
        for _ in 0..BOARDS {
            let (events, addr) = (&events, addr.clone());
            s.spawn(move || {
                let mut c = TcpStream::connect(&addr).unwrap();
                write!(
                    c,
                    "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {MANAGER}\r\n\r\n"
                )
                .unwrap();
                c.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
                let mut buf = [0u8; 8192];
                while !stop.load(Ordering::SeqCst) {
                    if let Ok(n) = c.read(&mut buf) {
                        let text = String::from_utf8_lossy(&buf[..n]);
                        events.fetch_add(text.matches("event: ").count(), Ordering::SeqCst);
                    }
                }
            });
        }
        s.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                let rss = rss_mib(pid);
                let mut p = peak.lock().unwrap();
                *p = p.max(rss);
                drop(p);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
    });
    (
        calls.into_inner(),
        events.into_inner(),
        peak.into_inner().unwrap(),
    )
}

/// One layout's run: the swipes on every kiosk at once, under load.
/// Prints its figures; returns (p50, p99) in ms.
fn measure(
    name: &str,
    server: &Daemon,
    kiosks: &[Devices],
    residents: &[CardRead],
    period: Duration,
) -> (f64, f64) {
    let per = residents.len() / kiosks.len();
    let stop = AtomicBool::new(false);
    let started = rss_mib(server.pid());
    let (calls, events, peak) = std::thread::scope(|s| {
        let load = s.spawn(|| load(&server.base, server.pid(), &stop, period));
        std::thread::scope(|s| {
            for (k, part) in kiosks.iter().zip(residents.chunks(per)) {
                s.spawn(move || k.swipe_all(part));
            }
        });
        stop.store(true, Ordering::SeqCst);
        load.join().unwrap()
    });
    let mut lat: Vec<Duration> = kiosks.iter().flat_map(Devices::latencies).collect();
    let swipes = lat.len();
    let (p50, p99, max) = (
        quantile_ms(&mut lat, 0.5),
        quantile_ms(&mut lat, 0.99),
        quantile_ms(&mut lat, 1.0),
    );
    println!(
        "{name}: kiosks={} swipes={swipes} windows={WINDOWS} calls={calls} boards={BOARDS} \
         board_events={events}  swipe_to_print p50 {p50:.2} ms  p99 {p99:.2} ms  max {max:.2} ms  \
         server RSS start {started:.1} MiB peak {peak:.1} MiB",
        kiosks.len()
    );
    (p50, p99)
}

fn main() {
    let kiosks = env_or("KIOSKS", 4);
    let swipes = env_or("SWIPES", 150);
    let period = Duration::from_millis(env_or("WINDOW_PERIOD_MS", 1000) as u64);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let d = dir.path();
    let residents: Vec<CardRead> = (0..(swipes * kiosks) as u32)
        .map(|i| fake::resident(10_000 + i))
        .collect();
    let listed: Vec<String> = residents
        .iter()
        .step_by(2)
        .map(|r| r.id_number.expose().to_string())
        .collect();
    common::sign_roster(d, &listed.iter().map(String::as_str).collect::<Vec<_>>());

    // The baseline: one machine, the server's own reader and printer.
    let base = {
        let dir = d.join("one");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::rename(d.join("keys"), dir.join("keys")).unwrap();
        std::fs::rename(d.join("r1.gwr"), dir.join("r1.gwr")).unwrap();
        let own = Devices::new(&dir, "own");
        let config = hall_config(&dir, free_port(), 0, &own.toml());
        run_in(
            &dir,
            &["--config", "server.toml", "roster", "import", "r1.gwr"],
        );
        let server = Daemon::start(&config);
        let figures = measure(
            "one_machine",
            &server,
            std::slice::from_ref(&own),
            &residents[..swipes],
            period,
        );
        std::fs::rename(dir.join("keys"), d.join("keys")).unwrap();
        std::fs::rename(dir.join("r1.gwr"), d.join("r1.gwr")).unwrap();
        figures
    };

    // The hall of machines: the server, KIOSKS kiosk machines.
    let port = free_port();
    let config = hall_config(d, port, kiosks, "");
    run_in(
        d,
        &["--config", "server.toml", "roster", "import", "r1.gwr"],
    );
    let server = Daemon::start(&config);
    let machines: Vec<(Devices, Daemon)> = (1..=kiosks)
        .map(|k| {
            let devices = Devices::new(d, &format!("k{k}"));
            let path = d.join(format!("k{k}.toml"));
            std::fs::write(
                &path,
                format!(
                    "data_dir = \"data-k{k}\"\n[hall]\nname = \"压测大厅\"\nserver = \"http://127.0.0.1:{port}\"\n\
                     [kiosk]\ntoken = \"{}\"\nhash_key = \"keys/roster-hash.key\"\n[api]\nlisten = \"127.0.0.1:0\"\n\
                     [voice]\nenabled = false\n{}",
                    kiosk_token(k),
                    devices.toml()
                ),
            )
            .unwrap();
            let daemon = Daemon::start(&path);
            (devices, daemon)
        })
        .collect();
    eventually(
        Duration::from_secs(30),
        "the kiosk machines never reported",
        || {
            let (_, v) = http(
                "GET",
                &format!("{}/api/kiosks", server.base),
                Some(MANAGER),
                None,
            );
            v.as_array()
                .is_some_and(|l| l.len() == kiosks && l.iter().all(|k| k["up"] == true))
        },
        String::new,
    );
    let (devices, daemons): (Vec<Devices>, Vec<Daemon>) = machines.into_iter().unzip();
    let wire = measure("kiosk_machines", &server, &devices, &residents, period);
    println!(
        "ratio kiosk_machines / one_machine: p50 {:.2}  p99 {:.2}",
        wire.0 / base.0,
        wire.1 / base.1
    );
    drop(daemons);
}
