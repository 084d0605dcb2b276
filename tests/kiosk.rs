//! The kiosk end to end through the real daemon: a simulated GA 467 reader
//! on a socat pty, a simulated ESC/POS printer on 127.0.0.1, a signed roster
//! installed with the CLI, the staff API. One swipe gives a printed ticket;
//! the roster decides the lane; a second swipe reprints; a printer fault
//! never loses the number.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{
    eventually, eventually_some, Daemon, Service, Socat, TestHall, BIN, CIVIL, MANAGER, MEDICAL,
};
use greenwave::kiosk::ticket::PRIORITY_BANNER;
use greenwave_drivers::idcard::sim::{fake, SimCard, SimControl, SimHandle};
use greenwave_drivers::idcard::CardRead;
use greenwave_drivers::printer::sim::{PrinterSim, SimState};
use greenwave_drivers::printer::{render_text, PaperWidth};

fn run(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{args:?}: {text}");
    text
}

fn number(r: &CardRead) -> String {
    r.id_number.expose().to_string()
}

struct Rig {
    dir: tempfile::TempDir,
    control: SimControl,
    printer: PrinterSim,
    _sim: SimHandle,
    _socat: Socat,
    daemon: Daemon,
}

impl Rig {
    /// Listed: `listed` (低保, valid), `expired` (低保, ended in 2001).
    fn start(listed: &CardRead, expired: &CardRead, extra: &str) -> Rig {
        Rig::with_services(listed, expired, &[CIVIL], extra)
    }

    /// [`Rig::start`] with these services.
    fn with_services(
        listed: &CardRead,
        expired: &CardRead,
        services: &[Service],
        extra: &str,
    ) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        run(p, &["roster", "keygen", "--out", "keys"]);
        std::fs::write(
            p.join("export.csv"),
            format!(
                "姓名,身份证号码,救助类别,有效期至\n甲,{},低保,2099-12-31\n乙,{},低保,2001-01-01\n",
                number(listed),
                number(expired)
            ),
        )
        .unwrap();
        run(
            p,
            &[
                "roster",
                "prepare",
                "export.csv",
                "--keys",
                "keys",
                "--version",
                "1",
                "--out",
                "r1.gwr",
            ],
        );
        let (reader, sim_end) = (p.join("reader"), p.join("sim"));
        let socat = Socat::start(&reader, &sim_end);
        let port = serialport::new(sim_end.to_string_lossy(), 115_200)
            .timeout(Duration::from_millis(20))
            .open()
            .unwrap();
        let control = SimControl::new();
        let sim = SimHandle::spawn(port, control.clone());
        let printer = PrinterSim::start(SimState::Ready).unwrap();
        let config = p.join("greenwave.toml");
        TestHall::builder()
            .services(services)
            .documents("civil", &["身份证", "户口簿"])
            .windows(&[(1, &["civil"]), (2, &["civil"])])
            .extra(&format!(
                r#"[roster]
public_key = "keys/roster-public.key"
hash_key = "keys/roster-hash.key"
[devices.id_reader]
kind = "ga467"
port = "{reader}"
baud = 115200
poll_interval = "100ms"
[devices.printer]
uri = "{uri}"
[kiosk]
public_url = "http://hall.example/q"
notice = "咨询电话 12345"
{extra}"#,
                reader = reader.display(),
                uri = printer.uri(),
            ))
            .write(&config);
        run(
            p,
            &["--config", "greenwave.toml", "roster", "import", "r1.gwr"],
        );
        let daemon = Daemon::start(&config);
        Rig {
            dir,
            control,
            printer,
            _sim: sim,
            _socat: socat,
            daemon,
        }
    }

    /// Places a card, waits for the `n`-th printed job or the ticket count,
    /// removes the card.
    fn swipe(&self, card: &CardRead) {
        let before = self.control.stats();
        self.control.place(SimCard::from_read(card));
        let deadline = Instant::now() + Duration::from_secs(20);
        // The card is read once per placement: wait for that read.
        eventually(
            Duration::from_secs(20),
            "card never read; daemon log",
            || self.control.stats().reads != before.reads,
            || format!("\n{}", self.daemon.stderr()),
        );
        // Removed, and seen to be removed (a "find" answered "no card"),
        // so that the next placement is a new one for the driver.
        self.control.remove();
        let finds = self.control.stats().finds;
        eventually(
            (deadline + Duration::from_secs(10)).saturating_duration_since(Instant::now()),
            "reader stopped polling",
            || self.control.stats().finds >= finds + 2,
            String::new,
        );
    }

    fn tickets(&self) -> Vec<serde_json::Value> {
        let (st, v) = self.daemon.get("/api/tickets", MANAGER);
        assert_eq!(st, 200);
        v.as_array().unwrap().clone()
    }

    fn wait_tickets(&self, n: usize) -> Vec<serde_json::Value> {
        eventually_some(
            Duration::from_secs(20),
            &format!("{n} tickets never issued; log"),
            || Some(self.tickets()).filter(|t| t.len() >= n),
            || format!("\n{}", self.daemon.stderr()),
        )
    }

    fn job_text(&self, n: usize) -> String {
        let jobs = self
            .printer
            .control()
            .wait_for_jobs(n, Duration::from_secs(20));
        assert!(
            jobs.len() >= n,
            "only {} jobs printed; log:\n{}",
            jobs.len(),
            self.daemon.stderr()
        );
        render_text(&jobs[n - 1], PaperWidth::Mm80)
    }
}

#[test]
fn one_swipe_gives_a_printed_ticket_in_the_right_lane() {
    let listed = fake::resident(11);
    let expired = fake::resident(12);
    let stranger = fake::resident(13);
    let rig = Rig::start(&listed, &expired, "");

    // On the roster: a priority ticket with the banner and a G number.
    rig.swipe(&listed);
    let text = rig.job_text(1);
    assert!(text.contains(PRIORITY_BANNER), "{text}");
    assert!(text.contains("GA001"), "{text}");
    assert!(text.contains("前面还有 0 人"), "{text}");
    assert!(text.contains("咨询电话 12345"), "{text}");
    // What the resident asks at the counter is answered on the ticket:
    // what to bring, which windows, what the QR code is for, the rules.
    for words in [
        "请携带：身份证、户口簿",
        "请留意 1、2 号窗口叫号",
        "扫码查看排队进度",
        "过号请在 15 分钟内到窗口重新排队",
        "当日有效",
    ] {
        assert!(text.contains(words), "{words} missing:\n{text}");
    }
    assert!(
        !text.contains("预计等候"),
        "no estimate on a new day: {text}"
    );
    assert!(
        !text.contains(&number(&listed)),
        "the ID number is never printed"
    );
    let jobs = rig.printer.control().jobs();
    let token = rig.wait_tickets(1)[0]["number"].clone();
    assert_eq!(token, "GA001");
    let raw = String::from_utf8_lossy(&jobs[0]).into_owned();
    assert!(
        raw.contains("http://hall.example/q/t/"),
        "the QR holds the progress URL"
    );

    // Expired entry: normal lane. Not on the roster: normal lane.
    rig.swipe(&expired);
    let text = rig.job_text(2);
    assert!(!text.contains(PRIORITY_BANNER), "{text}");
    assert!(text.contains("A001"), "{text}");
    rig.swipe(&stranger);
    assert!(rig.job_text(3).contains("A002"));

    // The same resident again: the same number, printed again.
    rig.swipe(&listed);
    let text = rig.job_text(4);
    assert!(text.contains("GA001"), "{text}");
    let tickets = rig.wait_tickets(3);
    assert_eq!(tickets.len(), 3, "no second number: {tickets:?}");
    let lanes: Vec<(&str, &str)> = tickets
        .iter()
        .map(|t| (t["number"].as_str().unwrap(), t["lane"].as_str().unwrap()))
        .collect();
    assert_eq!(
        lanes,
        [
            ("GA001", "priority"),
            ("A001", "normal"),
            ("A002", "normal")
        ]
    );

    // Staff call: the priority ticket first.
    let (_, c) = rig
        .daemon
        .post("/api/windows/1/call", MANAGER, serde_json::json!({}));
    assert_eq!(c["number"], "GA001");

    // The bureau's figures count the way of identification: one resident
    // by ID card against the roster (the second swipe is the same one).
    let (st, rows) = rig.daemon.get("/api/stats?by=lane", MANAGER);
    assert_eq!(st, 200, "{rows}");
    let total = rows.as_array().unwrap().last().unwrap().clone();
    assert_eq!(total["key"], "合计");
    assert_eq!(
        (
            &total["by_id_card"],
            &total["by_priority_card"],
            &total["by_manual"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(0),
            &serde_json::json!(0)
        ),
        "{total}"
    );

    // Privacy: nothing in the data directory or the log holds the numbers.
    let log = rig.daemon.stderr();
    for card in [&listed, &expired, &stranger] {
        assert!(!log.contains(&number(card)), "ID number in the log");
        assert!(!log.contains(card.name.expose()), "name in the log");
    }
}

#[test]
fn paper_out_keeps_the_number_and_puts_it_on_the_reprint_list() {
    let listed = fake::resident(21);
    let other = fake::resident(22);
    let rig = Rig::start(&listed, &other, "");
    rig.printer.control().set_state(SimState::PaperOut);
    rig.swipe(&fake::resident(23));
    let tickets = rig.wait_tickets(1);
    assert_eq!(tickets[0]["number"], "A001", "issued although not printed");
    assert!(rig.printer.control().jobs().is_empty());
    let db = rusqlite::Connection::open(rig.dir.path().join("data/greenwave.db")).unwrap();
    eventually(
        Duration::from_secs(10),
        "print failure never recorded",
        || {
            let failed: i64 = db
                .query_row("SELECT COUNT(*) FROM prints WHERE ok = 0", [], |r| r.get(0))
                .unwrap();
            failed == 1
        },
        String::new,
    );
    // The metrics say so, and name the roster in use.
    let metrics = |rig: &Rig| common::get_text(&format!("{}/metrics", rig.daemon.base), None).2;
    let m = metrics(&rig);
    assert!(
        m.contains("greenwave_device_up{device=\"printer\"} 0"),
        "{m}"
    );
    assert!(
        m.contains("greenwave_device_up{device=\"id_reader\"} 1"),
        "{m}"
    );
    assert!(m.contains("greenwave_roster_version 1"), "{m}");

    // Staff see it on the reprint list and reprint it once paper is in.
    let (st, list) = rig.daemon.get("/api/reprints", MANAGER);
    assert_eq!(st, 200);
    assert_eq!(list[0]["number"], "A001", "{list}");
    rig.printer.control().set_state(SimState::Ready);
    let (st, r) = rig
        .daemon
        .post("/api/tickets/A001/reprint", MANAGER, serde_json::json!({}));
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["printed"], true, "{r}");
    assert!(rig.job_text(1).contains("A001"));
    let (_, list) = rig.daemon.get("/api/reprints", MANAGER);
    assert_eq!(list.as_array().unwrap().len(), 0);
    assert!(metrics(&rig).contains("greenwave_device_up{device=\"printer\"} 1"));

    // The next resident prints, and numbering went on.
    rig.swipe(&fake::resident(24));
    assert!(rig.job_text(2).contains("A002"));
}

#[test]
fn staff_identify_by_hand_upgrade_and_the_progress_page_follows_the_ticket() {
    let listed = fake::resident(41);
    let expired = fake::resident(42);
    let rig = Rig::start(&listed, &expired, "");
    let w1 = common::window_token(1);

    // Manual identification: a priority ticket, audited with a masked number.
    let (st, r) = rig.daemon.post(
        "/api/tickets/priority",
        &w1,
        serde_json::json!({ "id_number": number(&listed) }),
    );
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["ticket"]["number"], "GA001");
    assert_eq!(r["roster"]["category"], "低保");
    assert!(
        !r.to_string().contains(&number(&listed)),
        "no full number in answers"
    );
    // Asked again: the same open ticket, no second number.
    let (_, again) = rig.daemon.post(
        "/api/tickets/priority",
        &w1,
        serde_json::json!({ "id_number": number(&listed) }),
    );
    assert_eq!(again["ticket"]["number"], "GA001");
    let (st, r) = rig.daemon.post(
        "/api/tickets/priority",
        &w1,
        serde_json::json!({ "id_number": number(&expired) }),
    );
    assert_eq!(st, 409, "{r}");
    assert_eq!(r["code"], "not_granted");
    let (st, r) = rig.daemon.post(
        "/api/tickets/priority",
        &w1,
        serde_json::json!({ "id_number": "12345" }),
    );
    assert_eq!(st, 422, "{r}");

    // A resident who took a normal ticket is upgraded after a check.
    rig.daemon.post(
        "/api/tickets",
        &w1,
        serde_json::json!({ "service": "civil" }),
    );
    let (st, r) = rig.daemon.post(
        "/api/tickets/A001/upgrade",
        &w1,
        serde_json::json!({ "id_number": number(&listed) }),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["ticket"]["lane"], "priority");
    assert_eq!(r["ticket"]["number"], "A001");

    // Binding a priority card needs a granting roster entry.
    let (st, r) = rig.daemon.post(
        "/api/cards",
        &w1,
        serde_json::json!({ "uid": "04A1B2C3", "id_number": number(&listed) }),
    );
    assert_eq!(st, 200, "{r}");
    let (st, _) = rig.daemon.post(
        "/api/cards",
        &w1,
        serde_json::json!({ "uid": "04A1B2C4", "id_number": number(&expired) }),
    );
    assert_eq!(st, 409);

    // The progress page, from the token in a printed QR code.
    rig.swipe(&fake::resident(43));
    let jobs = rig
        .printer
        .control()
        .wait_for_jobs(1, Duration::from_secs(20));
    let raw = String::from_utf8_lossy(&jobs[0]).into_owned();
    let at = raw.find("/t/").unwrap() + 3;
    let token: String = raw[at..]
        .chars()
        .take_while(|c| c.is_ascii_lowercase())
        .collect();
    assert_eq!(token.len(), 28);
    let url = format!("{}/api/status/{token}", rig.daemon.base);
    let (st, s) = common::http("GET", &url, None, None);
    assert_eq!(st, 200, "{s}");
    assert_eq!(s["number"], "A002");
    assert_eq!(s["status"], "waiting");
    assert_eq!(s["message"], "前面还有 2 人");
    for _ in 0..3 {
        let (st, c) = rig
            .daemon
            .post("/api/windows/1/call", &w1, serde_json::json!({}));
        assert_eq!(st, 200, "{c}");
        if c["number"] == "A002" {
            break;
        }
        rig.daemon
            .post("/api/windows/1/finish", &w1, serde_json::json!({}));
    }
    let (_, s) = common::http("GET", &url, None, None);
    assert_eq!(s["message"], "请到 1 号窗口", "{s}");
    let (st, _, page) = common::get_text(&format!("{}/t/{token}", rig.daemon.base), None);
    assert_eq!(st, 200);
    assert!(
        page.contains("A002") && page.contains("请到 1 号窗口"),
        "{page}"
    );
    let (st, _, page) = common::get_text(&format!("{}/t/nosuchtoken", rig.daemon.base), None);
    assert_eq!(st, 404);
    assert!(page.contains("没有找到"), "{page}");
    let (st, _) = common::http(
        "GET",
        &format!("{}/api/status/nosuchtoken", rig.daemon.base),
        None,
        None,
    );
    assert_eq!(st, 404);

    // Every check is in the audit log, masked.
    let db = rusqlite::Connection::open(rig.dir.path().join("data/greenwave.db")).unwrap();
    let n: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'roster.check' AND actor = 'window:1' AND subject LIKE '%**********%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(n >= 5, "{n}");

    // Both hand checks (the priority ticket and the upgrade) count as the
    // manual way of identification.
    let (st, rows) = rig.daemon.get("/api/stats", MANAGER);
    assert_eq!(st, 200, "{rows}");
    let total = rows.as_array().unwrap().last().unwrap().clone();
    assert_eq!(total["by_manual"], 2, "{total}");
    assert_eq!(total["by_id_card"], 0, "{total}");
}

#[test]
fn the_age_rule_grants_priority_when_configured() {
    let listed = fake::resident(31);
    let other = fake::resident(32);
    let rig = Rig::start(&listed, &other, "[priority]\nmin_age = 1");
    rig.swipe(&fake::resident(33));
    let text = rig.job_text(1);
    assert!(
        text.contains(PRIORITY_BANNER) && text.contains("GA001"),
        "{text}"
    );
}

#[test]
fn sighup_reloads_the_kiosk_settings_and_keeps_a_bad_file_out() {
    let listed = fake::resident(61);
    let other = fake::resident(62);
    let rig = Rig::start(&listed, &other, "");
    let config = rig.dir.path().join("greenwave.toml");
    let text = std::fs::read_to_string(&config).unwrap();

    std::fs::write(&config, text.replace("咨询电话 12345", "本周六照常办公")).unwrap();
    let answer = rig.daemon.reload();
    assert!(answer.contains("自助机设置已更新"), "{answer}");
    rig.swipe(&fake::resident(63));
    assert!(rig.job_text(1).contains("本周六照常办公"));

    // A change that needs a restart is named; a broken file changes nothing.
    std::fs::write(&config, text.replace("number = 2", "number = 7")).unwrap();
    let answer = rig.daemon.reload();
    assert!(
        answer.contains("需重启") && answer.contains("windows"),
        "{answer}"
    );
    std::fs::write(&config, text.replace("[kiosk]", "[kiosk]\nbogus = 1")).unwrap();
    let answer = rig.daemon.reload();
    assert!(
        answer.contains("配置未重新加载") && answer.contains("bogus"),
        "{answer}"
    );
    let (st, _) = rig.daemon.get("/api/queue", MANAGER);
    assert_eq!(st, 200, "still serving");

    // SIGTERM with the reader and the printer running: out within 5 s.
    let Rig { daemon, .. } = rig;
    let status = daemon
        .terminate(Duration::from_secs(5))
        .expect("the daemon exits within 5 s of SIGTERM");
    assert!(status.success(), "{status:?}");
}

#[test]
fn the_keypad_chooses_a_service_and_gives_tickets_without_an_id_card() {
    let listed = fake::resident(71);
    let other = fake::resident(72);
    let mut rig = Rig::with_services(&listed, &other, &[CIVIL, MEDICAL], "");

    // Two services and no default: the swipe waits for a service key.
    rig.swipe(&listed);
    rig.daemon
        .wait_stdout("请选择办理的业务：1 民政救助  2 医保业务");
    assert!(rig.tickets().is_empty());
    rig.daemon.key("1");
    let text = rig.job_text(1);
    assert!(
        text.contains("GA001") && text.contains(PRIORITY_BANNER),
        "{text}\n{}",
        rig.daemon.stderr()
    );

    // No card at all: 0, then the service.
    rig.daemon.key("0");
    rig.daemon.key("2");
    let text = rig.job_text(2);
    assert!(
        text.contains("B001") && !text.contains(PRIORITY_BANNER),
        "{text}"
    );
    // A service key alone is a ticket without ID card for that service.
    rig.daemon.key("1");
    assert!(rig.job_text(3).contains("A001"));
    let numbers: Vec<String> = rig
        .wait_tickets(3)
        .iter()
        .map(|t| t["number"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(numbers, ["GA001", "B001", "A001"]);
}
