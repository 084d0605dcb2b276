//! Swipe-to-print latency (issue 5): from the last byte of the reader's read
//! reply to the first byte of the ticket at the printer, over 1,000 swipes
//! against a 1M-row roster. Everything is the real code: the GA 467 driver
//! polling the simulator over an in-memory link, the kiosk (roster lookup,
//! durable issue, layout), the ESC/POS driver over TCP to a printer on
//! 127.0.0.1. Half the residents are on the roster.
//!
//! `cargo bench --bench swipe` (ROWS and SWIPES override the sizes).
//!
//! `TIMING=realistic cargo bench --bench swipe` (issue 14): the simulator
//! keeps a real reader's timing (find 60 ms, select 80 ms, read 600 ms,
//! 87 µs a byte on the wire) and the reader polls at the shipped default
//! interval; each card is placed at a random moment of the poll cycle.
//! The figure is what the resident waits beyond the reader's own work:
//! from placing the card to the ticket's first byte, less the time from
//! the find that saw the card (or the placement, if later) to the end of
//! the read reply. That leaves the wait for the next poll and the
//! software time. SWIPES defaults to 200 in this mode.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use greenwave::config::Config;
use greenwave::hall::{Hall, SystemClock};
use greenwave::kiosk::{Kiosk, Outcome};
use greenwave::roster::install::{import, ImportOptions};
use greenwave::store::Store;
use greenwave_drivers::card::{CardEvent, CardSource};
use greenwave_drivers::idcard::reader::{Connector, Link};
use greenwave_drivers::idcard::sim::{fake, pipe_pair, SimCard, SimControl, SimHandle, SimTiming};
use greenwave_drivers::idcard::{CardRead, IdCardReader, IdReaderConfig};

mod support;
use support::{printer, quantile_ms, Command, Stamped};

struct StampedConnector {
    control: SimControl,
    replies: Arc<Mutex<Vec<Instant>>>,
    commands: Arc<Mutex<Vec<(Instant, Command)>>>,
    sim: Option<SimHandle>,
}

impl Connector for StampedConnector {
    fn connect(&mut self, _baud: u32) -> std::io::Result<Box<dyn Link>> {
        let (ours, theirs) = pipe_pair(Duration::from_millis(5));
        let mut io = Stamped::new(theirs, self.replies.clone());
        io.commands = self.commands.clone();
        self.sim = Some(SimHandle::spawn(io, self.control.clone()));
        Ok(Box::new(ours))
    }
    fn is_present(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        "bench reader".into()
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let rows: u64 = std::env::var("ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let realistic = std::env::var("TIMING").as_deref() == Ok("realistic");
    let swipes: usize = std::env::var("SWIPES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if realistic { 200 } else { 1_000 });
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let d = dir.path();

    let residents: Vec<CardRead> = (0..swipes as u32)
        .map(|i| fake::resident(100_000 + i))
        .collect();
    let (printer_uri, firsts) = printer();
    let cfg = prepare_hall(d, rows, &residents, &printer_uri);

    let hall = Arc::new(Mutex::new(Hall::open(&cfg, Arc::new(SystemClock)).unwrap()));
    let printer =
        greenwave_drivers::printer::open_printer(cfg.devices.printer.as_ref().unwrap()).unwrap();
    let (mut kiosk, _desk) =
        Kiosk::in_process(&cfg, hall, Some(printer), Arc::new(|_| {})).unwrap();

    let control = SimControl::new();
    let replies = Arc::new(Mutex::new(Vec::new()));
    let commands = Arc::new(Mutex::new(Vec::new()));
    let poll = if realistic {
        control.set_timing(SimTiming::realistic());
        IdReaderConfig::default().poll_interval
    } else {
        Duration::from_millis(5)
    };
    let reader = stamped_reader(&control, poll, &replies, &commands);
    let mut placed = Vec::with_capacity(swipes);
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<CardEvent>();
    let st = stop.clone();
    let source = std::thread::spawn(move || Box::new(reader).run(Box::new(tx), st));

    let mut priority = 0;
    for (i, r) in residents.iter().enumerate() {
        if realistic {
            // At a random moment of the poll cycle, as a resident would.
            std::thread::sleep(poll.mul_f64(rand::random::<f64>()));
        }
        placed.push(Instant::now());
        priority += usize::from(swipe(&mut kiosk, &control, &rx, i, r));
    }
    stop.store(true, Ordering::SeqCst);
    let _ = source.join();

    let replies = replies.lock().unwrap().clone();
    // The printer thread may still be reading the last job.
    let deadline = Instant::now() + Duration::from_secs(5);
    while firsts.lock().unwrap().len() < swipes && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let firsts = firsts.lock().unwrap().clone();
    assert_eq!(replies.len(), swipes, "one read reply per swipe");
    assert_eq!(firsts.len(), swipes, "one ticket per swipe");
    let mut lat: Vec<Duration> = replies
        .iter()
        .zip(&firsts)
        .map(|(r, p)| p.duration_since(*r))
        .collect();
    let mut q = |p: f64| quantile_ms(&mut lat, p);
    println!(
        "swipe_to_print rows={rows} swipes={swipes} priority={priority}  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        q(0.5),
        q(0.99),
        q(1.0)
    );
    if realistic {
        let felt = felt_waits(&placed, &commands.lock().unwrap(), &replies, &firsts);
        let (mut over, mut own): (Vec<Duration>, Vec<Duration>) = felt.into_iter().unzip();
        println!(
            "swipe_felt poll={} ms swipes={swipes}  beyond the reader's own time: p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  (reader's own time p50 {:.0} ms)",
            poll.as_millis(),
            quantile_ms(&mut over, 0.5),
            quantile_ms(&mut over, 0.99),
            quantile_ms(&mut over, 1.0),
            quantile_ms(&mut own, 0.5),
        );
    }
}

/// The real GA 467 driver over an in-memory link to the simulator behind
/// `control`, polling every `poll`, stamping replies and commands.
fn stamped_reader(
    control: &SimControl,
    poll: Duration,
    replies: &Arc<Mutex<Vec<Instant>>>,
    commands: &Arc<Mutex<Vec<(Instant, Command)>>>,
) -> IdCardReader {
    IdCardReader::with_connector(
        "bench",
        IdReaderConfig {
            poll_interval: poll,
            ..IdReaderConfig::default()
        },
        Box::new(StampedConnector {
            control: control.clone(),
            replies: replies.clone(),
            commands: commands.clone(),
            sim: None,
        }),
    )
}

/// One swipe of `r` (the card is on the reader): the kiosk serves the
/// card event, the card is lifted and its removal seen. True for a
/// priority ticket.
fn swipe(
    kiosk: &mut Kiosk,
    control: &SimControl,
    rx: &mpsc::Receiver<CardEvent>,
    i: usize,
    r: &CardRead,
) -> bool {
    control.place(SimCard::from_read(r));
    let ev = loop {
        match rx
            .recv_timeout(Duration::from_secs(10))
            .expect("card event")
        {
            e @ CardEvent::IdCard(_) => break e,
            _ => continue,
        }
    };
    let priority = match kiosk.card(ev) {
        Some(Outcome::Ticket { ticket, print, .. }) => {
            assert!(print.is_ok(), "swipe {i}: {print:?}");
            ticket.lane == greenwave::queue::Lane::Priority
        }
        other => panic!("swipe {i}: {other:?}"),
    };
    control.remove();
    while !matches!(
        rx.recv_timeout(Duration::from_secs(10)).expect("removed"),
        CardEvent::Removed { .. }
    ) {}
    priority
}

/// For each swipe: (what the resident waited beyond the reader's own
/// work, the reader's own work). The reader's work runs from the find
/// that saw the card (the last find before the swipe's select), or from
/// the placement if that find was already under way, to the end of the
/// read reply.
fn felt_waits(
    placed: &[Instant],
    commands: &[(Instant, Command)],
    replies: &[Instant],
    firsts: &[Instant],
) -> Vec<(Duration, Duration)> {
    let selects: Vec<usize> = (0..commands.len())
        .filter(|&i| commands[i].1 == Command::Select)
        .collect();
    assert_eq!(selects.len(), placed.len(), "one select per swipe");
    placed
        .iter()
        .zip(&selects)
        .zip(replies.iter().zip(firsts))
        .map(|((&at, &sel), (&reply, &first))| {
            let find = commands[..sel]
                .iter()
                .rev()
                .find(|c| c.1 == Command::Find)
                .expect("a find before the select")
                .0;
            let own = reply.duration_since(find.max(at));
            (first.duration_since(at).saturating_sub(own), own)
        })
        .collect()
}

/// In `d`: a hall with a printer at `printer_uri` and an installed roster
/// of `rows` synthetic residents plus every other one of `residents`.
fn prepare_hall(d: &Path, rows: u64, residents: &[CardRead], printer_uri: &str) -> Config {
    // A roster of `rows` synthetic residents plus the benched ones.
    greenwave::roster::keygen(d).unwrap();
    let mut export = Vec::new();
    greenwave::roster::generate_synthetic_export(
        rows,
        1,
        greenwave::roster::SyntheticFormat::CsvUtf8,
        &mut export,
    )
    .unwrap();
    for (i, r) in residents.iter().enumerate() {
        if i % 2 == 0 {
            export.extend_from_slice(
                format!("0,测试,{},低保,2099-12-31,测试街道\n", r.id_number.expose()).as_bytes(),
            );
        }
    }
    std::fs::write(d.join("export.csv"), &export).unwrap();
    let cfg_text = format!(
        r#"data_dir = "data"
[hall]
name = "bench"
[[services]]
code = "civil"
name = "民政救助"
letter = "A"
[[windows]]
number = 1
services = ["civil"]
token = "bench-window-1-token"
[roster]
public_key = "roster-public.key"
hash_key = "roster-hash.key"
[devices.printer]
uri = "{printer_uri}"
[kiosk]
public_url = "http://hall.example"
"#
    );
    std::fs::write(d.join("greenwave.toml"), &cfg_text).unwrap();
    let cfg = Config::load(&d.join("greenwave.toml")).unwrap();
    let rc = cfg.roster.clone().unwrap();
    let signing = greenwave::roster::load_signing_key(&d.join("roster-signing.key")).unwrap();
    let hash = greenwave::roster::load_hash_key(&d.join("roster-hash.key")).unwrap();
    let out = std::fs::File::create(d.join("r.gwr")).unwrap();
    greenwave::roster::prepare(
        &d.join("export.csv"),
        &rc.columns,
        &rc.categories,
        &hash,
        &signing,
        1,
        chrono::Utc::now(),
        &Default::default(),
        out,
    )
    .unwrap();
    std::fs::create_dir_all(&cfg.data_dir).unwrap();
    let mut store = Store::open(&cfg.database_path()).unwrap();
    import(
        &mut store,
        &cfg.data_dir,
        &rc,
        &d.join("r.gwr"),
        &ImportOptions::default(),
    )
    .unwrap();
    drop(store);
    cfg
}
