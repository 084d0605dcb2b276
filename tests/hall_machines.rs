//! A hall of machines, end to end with real processes: one hall server and
//! two kiosk machines (`greenwave run` with `[hall] server`), each with its
//! own simulated GA 467 reader on a socat pty and its own ESC/POS printer
//! on 127.0.0.1. The server decides the lane from its roster and applies
//! one person, one number across both machines; a kiosk never prints a
//! number the server did not commit, pauses while the server is gone and
//! resumes by itself.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{eventually, eventually_some, http, run_in, Daemon, Socat, BIN, MANAGER};
use greenwave_drivers::idcard::sim::{fake, SimCard, SimControl, SimHandle};
use greenwave_drivers::idcard::CardRead;
use greenwave_drivers::printer::sim::{PrinterSim, SimState};
use greenwave_drivers::printer::{render_text, PaperWidth};
use serde_json::{json, Value};

const K1_TOKEN: &str = "kiosk-one-token-000000001";
const K2_TOKEN: &str = "kiosk-two-token-000000002";
const W1_TOKEN: &str = "window-one-token-00000001";
const W2_TOKEN: &str = "window-two-token-00000002";
/// A swipe refused while the server is gone (the screen's message).
const PAUSED_SWIPE: &str = "[自助机] 暂停取号，请稍候或联系工作人员";
/// The kiosk noticing the server is gone (the screen's state).
const PAUSED_STATE: &str = "大厅服务器无响应";

fn id_of(r: &CardRead) -> String {
    r.id_number.expose().to_string()
}

/// The hall server's directory: keys, a signed roster listing every
/// `listed` resident, the configuration with two kiosk machines.
struct Server {
    dir: PathBuf,
    config: PathBuf,
    port: u16,
}

impl Server {
    /// `window1`: more keys for window 1 (its printer).
    fn prepare(dir: &Path, listed: &[CardRead], window1: &str) -> Server {
        let ids: Vec<String> = listed.iter().map(id_of).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        common::sign_roster(dir, &ids);
        let port = common::free_port();
        let config = dir.join("server.toml");
        std::fs::write(
            &config,
            format!(
                r#"data_dir = "data"
[hall]
name = "测试大厅"
[[services]]
code = "civil"
name = "民政救助"
letter = "A"
[[windows]]
number = 1
services = ["civil"]
token = "{W1_TOKEN}"
{window1}
[[windows]]
number = 2
services = ["civil"]
token = "{W2_TOKEN}"
[[kiosks]]
id = "k1"
name = "入口自助机"
token = "{K1_TOKEN}"
[[kiosks]]
id = "k2"
name = "二楼自助机"
token = "{K2_TOKEN}"
[roster]
public_key = "keys/roster-public.key"
hash_key = "keys/roster-hash.key"
[kiosk]
public_url = "http://hall.example/q"
[api]
listen = "127.0.0.1:{port}"
manager_token = "{MANAGER}"
"#
            ),
        )
        .unwrap();
        run_in(
            dir,
            &["--config", "server.toml", "roster", "import", "r1.gwr"],
        );
        Server {
            dir: dir.to_path_buf(),
            config,
            port,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn start(&self) -> Daemon {
        Daemon::start(&self.config)
    }
}

/// A kiosk machine's configuration: its hall server, its token, its copy
/// of the hall's hash key, its reader's pty and its printer.
fn kiosk_config(
    server: &Server,
    id: &str,
    token: &str,
    hash_key: &str,
    reader: &Path,
    printer: &PrinterSim,
) -> PathBuf {
    let config = server.dir.join(format!("{id}.toml"));
    std::fs::write(
        &config,
        format!(
            r#"data_dir = "data-{id}"
[hall]
name = "测试大厅"
server = "{server}"
[kiosk]
token = "{token}"
hash_key = "{hash_key}"
[devices.id_reader]
kind = "ga467"
port = "{reader}"
baud = 115200
poll_interval = "50ms"
[devices.printer]
uri = "{uri}"
[api]
listen = "127.0.0.1:0"
[voice]
enabled = false
"#,
            server = server.url(),
            reader = reader.display(),
            uri = printer.uri(),
        ),
    )
    .unwrap();
    config
}

/// A kiosk machine: its reader, its printer, its process.
struct Kiosk {
    control: SimControl,
    printer: PrinterSim,
    daemon: Daemon,
    _sim: SimHandle,
    _socat: Socat,
}

/// What a kiosk did with one swipe.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Swiped {
    /// It printed this number.
    Printed(String),
    /// It said `暂停取号` and printed nothing.
    Paused,
    /// It said no ticket now (its hall's hours or limits), printed nothing.
    NotNow(String),
}

impl Kiosk {
    fn start(server: &Server, id: &str, token: &str) -> Kiosk {
        let dir = &server.dir;
        let (reader, sim_end) = (
            dir.join(format!("reader-{id}")),
            dir.join(format!("sim-{id}")),
        );
        let socat = Socat::start(&reader, &sim_end);
        let port = serialport::new(sim_end.to_string_lossy(), 115_200)
            .timeout(Duration::from_millis(20))
            .open()
            .unwrap();
        let control = SimControl::new();
        let sim = SimHandle::spawn(port, control.clone());
        let printer = PrinterSim::start(SimState::Ready).unwrap();
        let config = kiosk_config(server, id, token, "keys/roster-hash.key", &reader, &printer);
        let daemon = Daemon::start(&config);
        Kiosk {
            control,
            printer,
            daemon,
            _sim: sim,
            _socat: socat,
        }
    }

    /// Takes the card away and waits until the reader saw it go, so that
    /// the next card is a new placement.
    fn lift(&self) {
        self.control.remove();
        let finds = self.control.stats().finds;
        eventually(
            Duration::from_secs(10),
            "the reader stopped polling",
            || self.control.stats().finds >= finds + 2,
            String::new,
        );
    }

    /// The numbers printed so far, in order.
    fn printed(&self) -> Vec<String> {
        self.printer
            .control()
            .jobs()
            .iter()
            .map(|j| number_on(&render_text(j, PaperWidth::Mm80)))
            .collect()
    }

    /// Places `card`, waits for the kiosk's answer (a ticket line or the
    /// pause), then removes the card and waits until the reader saw it go.
    fn swipe(&self, card: &CardRead) -> Swiped {
        let lines = self.daemon.lines().len();
        let jobs = self.printer.control().jobs().len();
        self.control.place(SimCard::from_read(card));
        let answer = eventually_some(
            Duration::from_secs(30),
            "the kiosk never answered a swipe",
            || {
                self.daemon.lines()[lines..]
                    .iter()
                    .find(|l| {
                        l.contains("您的号码")
                            || l.as_str() == PAUSED_SWIPE
                            || l.contains("号已发完")
                            || l.contains("取号已结束")
                    })
                    .cloned()
            },
            || format!("{:?}\n{}", self.daemon.lines(), self.daemon.stderr()),
        );
        self.lift();
        if !answer.contains("您的号码") {
            assert_eq!(
                self.printer.control().jobs().len(),
                jobs,
                "a kiosk that issued nothing printed: {answer}"
            );
            return match answer == PAUSED_SWIPE {
                true => Swiped::Paused,
                false => Swiped::NotNow(answer),
            };
        }
        let printed = self.printed();
        assert_eq!(printed.len(), jobs + 1, "one swipe, one print: {answer}");
        Swiped::Printed(printed[jobs].clone())
    }
}

/// The ticket number on a printed ticket (`A012`, `GA012`): the first
/// word that is one or two capitals and three digits.
fn number_on(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| {
            let digits = w.trim_start_matches(|c: char| c.is_ascii_uppercase());
            let letters = w.len() - digits.len();
            (1..=2).contains(&letters)
                && digits.len() == 3
                && digits.bytes().all(|b| b.is_ascii_digit())
        })
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no number on the ticket:\n{text}"))
}

fn tickets(server_url: &str) -> Vec<Value> {
    let (st, v) = http(
        "GET",
        &format!("{server_url}/api/tickets"),
        Some(MANAGER),
        None,
    );
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().clone()
}

/// Both kiosks heard from, as `/api/kiosks` says.
fn wait_kiosks_up(url: &str) -> Vec<Value> {
    eventually_some(
        Duration::from_secs(20),
        "kiosks never reported",
        || {
            let (st, v) = http("GET", &format!("{url}/api/kiosks"), Some(MANAGER), None);
            let list = v.as_array().cloned().unwrap_or_default();
            (st == 200 && list.len() == 2 && list.iter().all(|k| k["up"] == true)).then_some(list)
        },
        String::new,
    )
}

/// One kiosk's residents: each swiped until a ticket printed; the swipes
/// refused while the server was gone are tried again after the others.
fn serve_all(
    kiosk: &Kiosk,
    residents: &[CardRead],
    printed: &AtomicUsize,
) -> Vec<(String, String)> {
    let mut got = Vec::new();
    let mut todo: Vec<&CardRead> = residents.iter().collect();
    let deadline = Instant::now() + Duration::from_secs(600);
    while !todo.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} residents never served",
            todo.len()
        );
        let mut again = Vec::new();
        for r in todo {
            match kiosk.swipe(r) {
                Swiped::Printed(n) => {
                    printed.fetch_add(1, Ordering::SeqCst);
                    got.push((id_of(r), n));
                }
                Swiped::Paused => again.push(r),
                Swiped::NotNow(line) => panic!("no limits in this hall: {line}"),
            }
        }
        todo = again;
    }
    got
}

#[test]
fn two_kiosk_machines_share_one_queue_and_survive_the_server_being_killed() {
    let dir = tempfile::tempdir().unwrap();
    let residents: Vec<CardRead> = (1..=600).map(fake::resident).collect();
    // Every fifth resident is on the roster: the server gives them the
    // green wave, whichever machine they swipe at.
    let listed: Vec<CardRead> = residents.iter().step_by(5).cloned().collect();
    let both = fake::resident(777);
    let server = Server::prepare(dir.path(), &listed, "");
    let mut daemon = server.start();
    let k1 = Kiosk::start(&server, "k1", K1_TOKEN);
    let k2 = Kiosk::start(&server, "k2", K2_TOKEN);
    let list = wait_kiosks_up(&server.url());
    assert_eq!(list[0]["name"], "入口自助机", "{list:?}");
    assert_eq!(list[0]["devices"]["printer"], true, "{list:?}");

    // One resident at both machines at once: one number, printed at both
    // (the second as a reprint), nowhere else.
    k1.control.place(SimCard::from_read(&both));
    k2.control.place(SimCard::from_read(&both));
    let both_printed = eventually_some(
        Duration::from_secs(30),
        "the double swipe never printed at both",
        || {
            let (a, b) = (k1.printed(), k2.printed());
            (a.len() == 1 && b.len() == 1).then(|| (a[0].clone(), b[0].clone()))
        },
        || format!("{}\n{}", k1.daemon.stderr(), k2.daemon.stderr()),
    );
    k1.lift();
    k2.lift();
    assert_eq!(both_printed.0, both_printed.1, "one person, one number");
    assert_eq!(tickets(&server.url()).len(), 1);

    // 2 × 300 residents at the same time; the server is SIGKILLed once
    // 200 tickets have printed, and restarted a moment later.
    let printed = Arc::new(AtomicUsize::new(0));
    let served: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let killed = Arc::new(AtomicBool::new(false));
    std::thread::scope(|s| {
        for (kiosk, part) in [(&k1, &residents[..300]), (&k2, &residents[300..])] {
            let (printed, served) = (printed.clone(), served.clone());
            s.spawn(move || {
                let got = serve_all(kiosk, part, &printed);
                served.lock().unwrap().extend(got);
            });
        }
        eventually(
            Duration::from_secs(300),
            "200 tickets never printed",
            || printed.load(Ordering::SeqCst) >= 200,
            String::new,
        );
        // SIGKILL, then up again on the same port once both kiosks have
        // paused.
        let status = Command::new("kill")
            .args(["-KILL", &daemon.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        killed.store(true, Ordering::SeqCst);
        eventually(
            Duration::from_secs(30),
            "the kiosks never paused",
            || {
                [&k1, &k2]
                    .iter()
                    .all(|k| k.daemon.lines().iter().any(|l| l.contains(PAUSED_STATE)))
            },
            String::new,
        );
        daemon = server.start();
    });
    assert!(killed.load(Ordering::SeqCst));

    // Both kiosks paused while the server was gone and resumed by
    // themselves.
    for k in [&k1, &k2] {
        let lines = k.daemon.lines();
        assert!(
            lines.iter().any(|l| l.contains(PAUSED_STATE)),
            "never paused: {lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("已恢复取号")),
            "never resumed: {lines:?}"
        );
    }

    let all = tickets(&server.url());
    assert_eq!(all.len(), 601, "one ticket per resident");
    let numbers: BTreeSet<String> = all
        .iter()
        .map(|t| t["number"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(numbers.len(), 601, "no number twice");
    // No gap within a lane: A001..A480 and GA001..GA121.
    let mut by_lane: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for n in &numbers {
        let (prefix, seq) = n.split_at(n.len() - 3);
        by_lane
            .entry(prefix.to_string())
            .or_default()
            .push(seq.parse().unwrap());
    }
    for (lane, seqs) in &by_lane {
        let expected: Vec<u32> = (1..=seqs.len() as u32).collect();
        assert_eq!(seqs, &expected, "gap in lane {lane}");
    }
    assert_eq!(by_lane["GA"].len(), 120, "the roster's 120 residents");
    // Every printed number was committed; every resident holds one
    // number; a number printed twice was the same resident's (a reprint).
    let served = served.lock().unwrap();
    let mut holder: BTreeMap<&str, &str> = BTreeMap::new();
    for (who, n) in served.iter() {
        assert!(numbers.contains(n), "{n} printed but not committed");
        if let Some(other) = holder.insert(n, who) {
            assert_eq!(other, who, "{n} printed for two residents");
        }
    }
    assert_eq!(holder.len(), 600, "every resident got a printed number");
    let printed_anywhere: Vec<String> = k1.printed().into_iter().chain(k2.printed()).collect();
    for n in &printed_anywhere {
        assert!(numbers.contains(n), "{n} printed but not committed");
    }
    drop(daemon);
}

#[test]
fn a_lost_answer_brings_back_the_same_ticket_never_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::prepare(dir.path(), &[fake::resident(900)], "");
    let d = server.start();
    let base = d.base.clone();
    let ask = |request: &str, token: &str| {
        http(
            "POST",
            &format!("{base}/api/kiosk/tickets"),
            Some(token),
            Some(json!({
                "request": request,
                "service": "civil",
                "applicant": { "kind": "no_card" },
            })),
        )
    };
    let (st, first) = ask("0123456789abcdef", K1_TOKEN);
    assert_eq!(st, 200, "{first}");
    assert_eq!(first["answer"], "ticket", "{first}");
    assert_eq!(first["ticket"]["number"], "A001");
    // The kiosk asks again with the same key (its answer was lost).
    let (_, again) = ask("0123456789abcdef", K1_TOKEN);
    assert_eq!(again["ticket"]["number"], "A001", "{again}");
    assert_eq!(again["reprint"], false, "never printed before: {again}");
    // Another kiosk's key is another request; a new key a new ticket.
    let (_, other) = ask("0123456789abcdef", K2_TOKEN);
    assert_eq!(other["ticket"]["number"], "A002", "{other}");
    let (_, next) = ask("fedcba9876543210", K1_TOKEN);
    assert_eq!(next["ticket"]["number"], "A003", "{next}");
    assert_eq!(tickets(&d.base).len(), 3);
    // A restart keeps the key with the ticket.
    drop(d);
    let d = server.start();
    let (_, after) = http(
        "POST",
        &format!("{}/api/kiosk/tickets", d.base),
        Some(K1_TOKEN),
        Some(json!({
            "request": "0123456789abcdef",
            "service": "civil",
            "applicant": { "kind": "no_card" },
        })),
    );
    assert_eq!(after["ticket"]["number"], "A001", "{after}");
    assert_eq!(tickets(&d.base).len(), 3);
    // The journal says which kiosk issued each ticket.
    let (_, timeline) = http(
        "GET",
        &format!("{}/api/tickets/A002/timeline", d.base),
        Some(MANAGER),
        None,
    );
    assert!(timeline.to_string().contains("k2"), "{timeline}");
    // A kiosk's token does nothing else; other tokens are not a kiosk's.
    let (st, v) = http(
        "GET",
        &format!("{}/api/tickets", d.base),
        Some(K1_TOKEN),
        None,
    );
    assert_eq!(st, 403, "{v}");
    let (st, v) = ask("0123456789abcdef", W1_TOKEN);
    assert_eq!(st, 403, "{v}");
    // What crosses the wire is a hash and an age, never an ID number.
    let (st, v) = http(
        "POST",
        &format!("{}/api/kiosk/tickets", d.base),
        Some(K1_TOKEN),
        Some(json!({
            "request": "1111222233334444",
            "service": "civil",
            "applicant": { "kind": "id_card", "person": "110105194001010011", "age": 86 },
        })),
    );
    assert_eq!((st, &v["code"]), (422, &json!("bad_request")), "{v}");
}

/// The job's text at `printer`, once it printed `n` tickets.
fn nth_print(printer: &PrinterSim, n: usize) -> String {
    let jobs = eventually_some(
        Duration::from_secs(10),
        "the printer never printed",
        || {
            let jobs = printer.control().jobs();
            (jobs.len() >= n).then_some(jobs)
        },
        String::new,
    );
    render_text(&jobs[n - 1], PaperWidth::Mm80)
}

#[test]
fn staff_print_a_ticket_at_a_kiosk_machine_and_at_their_window_printer() {
    let dir = tempfile::tempdir().unwrap();
    let window_printer = PrinterSim::start(SimState::Ready).unwrap();
    let server = Server::prepare(
        dir.path(),
        &[fake::resident(900)],
        &format!("printer = {{ uri = \"{}\" }}", window_printer.uri()),
    );
    let d = server.start();
    let k1 = Kiosk::start(&server, "k1", K1_TOKEN);
    let url = server.url();
    eventually(
        Duration::from_secs(20),
        "k1 never reported",
        || {
            let (_, v) = http("GET", &format!("{url}/api/kiosks"), Some(MANAGER), None);
            v.as_array()
                .is_some_and(|l| l.iter().any(|k| k["id"] == "k1" && k["up"] == true))
        },
        String::new,
    );
    // A resident without an ID card: window 1 issues the ticket.
    let (st, t) = http(
        "POST",
        &format!("{url}/api/tickets"),
        Some(W1_TOKEN),
        Some(json!({ "service": "civil" })),
    );
    assert_eq!(st, 201, "{t}");
    assert_eq!(t["number"], "A001");
    let print = |token: &str, at: Value| {
        http(
            "POST",
            &format!("{url}/api/tickets/A001/reprint"),
            Some(token),
            Some(at),
        )
    };

    // At the entrance machine: printed there, with its QR code.
    let (st, v) = print(MANAGER, json!({ "kiosk": "k1" }));
    assert_eq!((st, &v["printed"]), (200, &json!(true)), "{v}");
    let text = nth_print(&k1.printer, 1);
    assert_eq!(number_on(&text), "A001", "{text}");
    assert!(text.contains("[QR http://hall.example/q/t/"), "{text}");
    // At window 1's own printer, by window 1.
    let (st, v) = print(W1_TOKEN, json!({ "window": 1 }));
    assert_eq!((st, &v["printed"]), (200, &json!(true)), "{v}");
    let text = nth_print(&window_printer, 1);
    assert_eq!(number_on(&text), "A001", "{text}");
    assert!(text.contains("[QR http://hall.example/q/t/"), "{text}");

    // Out of paper at the machine: the answer says so.
    k1.printer.set_state(SimState::PaperOut);
    let (st, v) = print(MANAGER, json!({ "kiosk": "k1" }));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["printed"], false, "{v}");
    assert_eq!(v["error"], "打印机缺纸", "{v}");
    k1.printer.set_state(SimState::Ready);

    // Each refusal names what is wrong.
    for (token, at, status, code) in [
        (W2_TOKEN, json!({ "window": 1 }), 403, "not_your_window"),
        (W2_TOKEN, json!({ "window": 2 }), 409, "no_window_printer"),
        (MANAGER, json!({ "kiosk": "k9" }), 404, "unknown_kiosk"),
        (MANAGER, json!({ "kiosk": "k2" }), 409, "kiosk_down"),
        (
            MANAGER,
            json!({ "kiosk": "k1", "window": 1 }),
            422,
            "bad_request",
        ),
    ] {
        let (st, v) = print(token, at.clone());
        assert_eq!((st, v["code"].as_str()), (status, Some(code)), "{at}: {v}");
    }
    assert_eq!(k1.printer.control().jobs().len(), 1, "no stray print");
    assert_eq!(window_printer.control().jobs().len(), 1, "no stray print");

    // The manager's figures: k1 up with its devices, k2 never seen.
    let (st, _, metrics) = common::get_text(&format!("{url}/metrics"), Some(MANAGER));
    assert_eq!(st, 200, "{metrics}");
    for line in [
        "greenwave_kiosk_up{kiosk=\"k1\"} 1",
        "greenwave_kiosk_up{kiosk=\"k2\"} 0",
        "greenwave_kiosk_device_up{kiosk=\"k1\",device=\"printer\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} not in:\n{metrics}");
    }
    drop(k1);
    drop(d);
}

/// Regression: a kiosk started before its server knew no services and
/// answered a swipe with an empty service menu instead of the pause.
#[test]
fn a_kiosk_started_before_its_server_waits_paused_and_resumes_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::prepare(dir.path(), &[fake::resident(900)], "");
    let k1 = Kiosk::start(&server, "k1", K1_TOKEN);
    let health = format!("{}/healthz", k1.daemon.base);
    let (st, v) = http("GET", &health, None, None);
    assert_eq!(st, 503, "{v}");
    assert_eq!(v["reason"], "大厅服务器无响应，暂停取号", "{v}");
    let resident = fake::resident(1);
    assert_eq!(k1.swipe(&resident), Swiped::Paused);

    let d = server.start();
    eventually(
        Duration::from_secs(20),
        "the kiosk never resumed",
        || k1.daemon.lines().iter().any(|l| l.contains("已恢复取号")),
        || format!("{:?}", k1.daemon.lines()),
    );
    let (st, v) = http("GET", &health, None, None);
    assert_eq!((st, &v["server_up"]), (200, &json!(true)), "{v}");
    assert_eq!(k1.swipe(&resident), Swiped::Printed("A001".into()));
    assert_eq!(tickets(&server.url()).len(), 1);
    drop(d);
}

#[test]
fn a_kiosk_with_another_halls_hash_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::prepare(dir.path(), &[fake::resident(900)], "");
    run_in(dir.path(), &["roster", "keygen", "--out", "other"]);
    let d = server.start();
    let printer = PrinterSim::start(SimState::Ready).unwrap();
    let config = kiosk_config(
        &server,
        "k1",
        K1_TOKEN,
        "other/roster-hash.key",
        &dir.path().join("no-reader"),
        &printer,
    );
    let mut child = Reaped(
        Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .arg("run")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("k1.err")).unwrap())
            .spawn()
            .unwrap(),
    );
    let status = eventually_some(
        Duration::from_secs(30),
        "a kiosk with the wrong key kept running",
        || child.0.try_wait().unwrap(),
        String::new,
    );
    let err = std::fs::read_to_string(dir.path().join("k1.err")).unwrap();
    assert!(!status.success(), "{err}");
    assert!(
        err.contains("[kiosk] hash_key is not the hall server's key")
            && err.contains("copy the server's [roster] hash_key"),
        "{err}"
    );
    assert!(printer.control().jobs().is_empty());
    drop(d);
}

/// A child process killed and reaped when the test ends, passed or not.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A kiosk machine hears its hall server's daily limit and words it as the
/// server's own kiosk would, printing nothing; a listed resident still gets
/// the green wave, the normal lane's limit not being theirs (issue 20).
#[test]
fn a_kiosk_machine_tells_its_halls_limit_and_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let listed = fake::resident(900);
    let server = Server::prepare(dir.path(), std::slice::from_ref(&listed), "");
    let text = std::fs::read_to_string(&server.config).unwrap().replacen(
        "letter = \"A\"\n",
        "letter = \"A\"\ndaily_limit = 1\n",
        1,
    );
    std::fs::write(&server.config, text).unwrap();
    let d = server.start();
    let k1 = Kiosk::start(&server, "k1", K1_TOKEN);
    let health = format!("{}/healthz", k1.daemon.base);
    eventually(
        Duration::from_secs(20),
        "the kiosk never reached its server",
        || http("GET", &health, None, None).1["server_up"] == json!(true),
        String::new,
    );
    assert_eq!(k1.swipe(&fake::resident(1)), Swiped::Printed("A001".into()));
    assert_eq!(
        k1.swipe(&fake::resident(2)),
        Swiped::NotNow("[自助机] 今日民政救助号已发完，请明天上午 0:00 后再来".into())
    );
    assert_eq!(k1.swipe(&listed), Swiped::Printed("GA001".into()));
    assert_eq!(tickets(&server.url()).len(), 2);
    drop(d);
}
