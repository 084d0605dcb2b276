//! The browser pages in a real browser: Debian's chromium, driven by
//! `playwright-core` (tests/browser/run.mjs), against the real daemon on
//! 127.0.0.1 with a simulated ticket printer and a signed roster. The
//! script logs in on `/console`, calls with F1, sees the list follow the
//! kiosk's keypad and the API, transfers, finishes, pauses, identifies a
//! resident by hand, works a case on `/helper` to its rating and close,
//! watches `/t/{token}` change from waiting to called, reads `/manager`,
//! survives a daemon restart, and is refused a wrong token. Screenshots
//! go to target/screenshots/.
//!
//! It needs `chromium` (packaging/test-packages.txt) and `npm ci` in
//! tests/browser (packaging/deps.sh); `make test` installs both.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{browser, http, window_token, Daemon, TestHall, MANAGER};
use greenwave_drivers::idcard::sim::fake;
use greenwave_drivers::printer::sim::{PrinterSim, SimState};
use serde_json::{json, Value};

const HELPER: &str = "test-helper-1-token-0001";
const HELPER2: &str = "test-helper-2-token-0002";
const KIOSK: &str = "browser-kiosk-one-token-0001";
const EVALUATOR: &str = "browser-evaluator-1-token-01";
/// The whole browser run, at most.
const LIMIT: Duration = Duration::from_secs(240);

/// What the script asks of the harness.
fn serve(
    req: &Value,
    daemon: &mut Option<Daemon>,
    config: &Path,
    printer: &PrinterSim,
) -> Result<Value, String> {
    match req["op"].as_str() {
        Some("key") => {
            let d = daemon.as_mut().ok_or("the daemon is stopped")?;
            let before = printer.control().jobs().len();
            d.key(req["key"].as_str().ok_or("no key")?);
            let jobs = printer
                .control()
                .wait_for_jobs(before + 1, Duration::from_secs(20));
            let job = jobs
                .get(before)
                .ok_or_else(|| format!("no ticket printed; log:\n{}", d.stderr()))?;
            let raw = String::from_utf8_lossy(job);
            let at = raw.find("/t/").ok_or("no progress URL on the ticket")? + 3;
            let token: String = raw[at..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase())
                .collect();
            Ok(json!({ "token": token }))
        }
        Some("stop") => {
            let d = daemon.take().ok_or("already stopped")?;
            let st = d
                .terminate(Duration::from_secs(10))
                .ok_or("the daemon did not stop within 10 s")?;
            if !st.success() {
                return Err(format!("the daemon exited with {st:?}"));
            }
            Ok(json!({}))
        }
        Some("key_out_of_paper") => {
            // A keypad ticket while the printer is out of paper: issued,
            // not printed, on the reprint list; then the paper is back.
            let d = daemon.as_mut().ok_or("the daemon is stopped")?;
            let before = printer.control().jobs().len();
            printer.set_state(SimState::PaperOut);
            d.key(req["key"].as_str().ok_or("no key")?);
            let deadline = Instant::now() + Duration::from_secs(20);
            let listed = loop {
                let (_, list) = d.get("/api/reprints", MANAGER);
                if let Some(n) = list
                    .as_array()
                    .and_then(|l| l.last())
                    .map(|t| t["number"].clone())
                {
                    break n;
                }
                if Instant::now() > deadline {
                    return Err(format!("nothing on the reprint list; log:\n{}", d.stderr()));
                }
                std::thread::sleep(Duration::from_millis(100));
            };
            printer.set_state(SimState::Ready);
            if printer.control().jobs().len() != before {
                return Err("a ticket printed with no paper".into());
            }
            Ok(json!({ "number": listed }))
        }
        Some("heartbeat") => {
            // Kiosk machine k1 reports: its reader works, its printer not.
            let d = daemon.as_ref().ok_or("the daemon is stopped")?;
            let (st, v) = http(
                "POST",
                &format!("{}/api/kiosk/heartbeat", d.base),
                Some(KIOSK),
                Some(json!({
                    "devices": { "id_reader": true, "printer": false },
                    "version": "test",
                })),
            );
            if st != 200 {
                return Err(format!("heartbeat: {st} {v}"));
            }
            Ok(json!({}))
        }
        Some("start") => {
            *daemon = Some(Daemon::start(config));
            Ok(json!({}))
        }
        other => Err(format!("unknown request {other:?}")),
    }
}

#[test]
fn pages_work_in_a_real_browser() {
    browser::browser_dir();

    // The roster: one listed resident (低保), one stranger.
    let listed = fake::resident(81).id_number.expose().to_string();
    let stranger = fake::resident(82).id_number.expose().to_string();
    let printer = PrinterSim::start(SimState::Ready).unwrap();
    let port = common::free_port();
    let hall = TestHall::builder()
        .helpers(&[("h1", "王协办", HELPER), ("h2", "李协办", HELPER2)])
        .evaluator(1, EVALUATOR)
        .extra(&format!(
            r#"
[roster]
public_key = "keys/roster-public.key"
hash_key = "keys/roster-hash.key"
[devices.printer]
uri = "{uri}"
[kiosk]
public_url = "http://hall.example"
[[kiosks]]
id = "k1"
name = "入口自助机"
token = "{KIOSK}"
[[kiosks]]
id = "k2"
name = "二楼自助机"
token = "browser-kiosk-two-token-0002"
"#,
            uri = printer.uri()
        ))
        .build();
    let dir = hall.dir.path();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/policies.toml"),
        dir.join("policies.toml"),
    )
    .unwrap();
    let text = std::fs::read_to_string(&hall.config).unwrap();
    std::fs::write(
        &hall.config,
        text.replace("127.0.0.1:0", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    common::sign_roster(dir, &[&listed]);
    let config = hall.config.clone();
    common::run_in(
        dir,
        &[
            "--config",
            config.to_str().unwrap(),
            "roster",
            "import",
            "r1.gwr",
        ],
    );

    let mut daemon = Some(hall.start());
    let base = daemon.as_ref().unwrap().base.clone();
    let shots = browser::shots_dir();
    let env = [
        ("GW_BASE", base),
        ("GW_WINDOW1", window_token(1)),
        ("GW_MANAGER", MANAGER.to_string()),
        ("GW_HELPER", HELPER.to_string()),
        ("GW_EVALUATOR", EVALUATOR.to_string()),
        ("GW_LISTED", listed.clone()),
        ("GW_STRANGER", stranger),
        ("GW_SHOTS", shots.display().to_string()),
    ];
    let (status, log) = browser::drive("run.mjs", &env, LIMIT, |req| {
        serve(req, &mut daemon, &config, &printer)
    });
    let daemon_log = daemon.as_ref().map(|d| d.stderr()).unwrap_or_default();
    assert!(
        status.success() && log.last().map(String::as_str) == Some("browser: all steps passed"),
        "the browser run failed ({status:?}):\n{}\ndaemon log:\n{daemon_log}",
        log.join("\n")
    );

    // What the pages did, seen through the API.
    let d = daemon.as_ref().unwrap();
    let (st, case) = d.get("/api/cases/GA001", MANAGER);
    assert_eq!(st, 200, "{case}");
    assert_eq!(case["rating"]["rating"], "满意", "{case}");
    assert_eq!(case["rating"]["comment"], "服务很周到", "{case}");
    assert_eq!(case["case"]["status"], "closed", "{case}");
    let (_, a1) = d.get("/api/tickets/A001", MANAGER);
    // Transferred to 医保业务 by window 1 (F6), then back to window 1 by
    // window 2, and called there.
    let moves: Vec<&Value> = a1["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "transferred")
        .collect();
    assert_eq!(moves.len(), 2, "{a1}");
    assert_eq!(moves[0]["to_service"], "medical", "{a1}");
    assert_eq!(moves[0]["note"], "需要医保窗口办理", "{a1}");
    assert_eq!(
        (
            &a1["ticket"]["service"],
            &a1["ticket"]["state"],
            &a1["ticket"]["window"]
        ),
        (&json!("civil"), &json!("called"), &json!(1)),
        "{a1}"
    );
    // The residents' own ratings, apart from staff's, in the figures and
    // the CSV: 不满意 at the evaluator, 满意 on the phone.
    let (_, rows) = d.get("/api/stats", MANAGER);
    let total = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "合计")
        .unwrap();
    assert_eq!(total["resident"]["ratings"], 2, "{total}");
    assert_eq!(
        total["resident"]["levels"],
        json!([0, 1, 0, 1, 0]),
        "{total}"
    );
    assert_eq!(total["resident"]["satisfaction_rate"], 0.5, "{total}");
    let (_, _, csv) = common::get_text(&format!("{}/api/stats?format=csv", d.base), Some(MANAGER));
    let line = csv.lines().find(|l| l.starts_with("合计,")).unwrap();
    assert!(line.ends_with(",2,0,1,0,1,0,0.5000"), "{line}");
    for name in ["console", "manager", "helper", "progress", "console-pin"] {
        let p = shots.join(format!("{name}.png"));
        let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "{} missing or empty", p.display());
    }
    // The pages' tokens never reach the daemon's logs (both runs').
    let daemon_log: String = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("stderr"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    for t in [window_token(1), MANAGER.to_string(), HELPER.to_string()] {
        assert!(!daemon_log.contains(&t), "a token in the log");
    }
    assert!(!daemon_log.contains(&listed), "an ID number in the log");
}
