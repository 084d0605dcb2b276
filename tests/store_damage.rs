//! A damaged store is never served silently (issue 13): the data
//! directory's high-water record (`greenwave.hwm`) makes `greenwave run`
//! refuse a database that lost committed tickets, naming both files and
//! the way out; `--accept-loss` starts it with numbering above the last
//! number ever issued; `/healthz` answers 503 while the store cannot
//! commit. Through the real binary, and the library with a manual clock
//! for a lost day rollover.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use common::{eventually, eventually_some, http, Daemon, TestHall, BIN, MANAGER};
use greenwave::hall::{Clock, Hall, HallError, ManualClock};
use greenwave::hwm::Guarding;
use greenwave::queue::{
    CallPolicy, DayBoundary, Lane, QueueConfig, ServiceDef, Timestamp, WindowDef,
};
use serde_json::{json, Value};

/// Issues a ticket; its number.
fn issue(d: &Daemon, lane: &str) -> String {
    let (st, t) = d.post(
        "/api/tickets",
        MANAGER,
        json!({ "service": "civil", "lane": lane, "reason": "测试" }),
    );
    assert_eq!(st, 201, "{t}");
    t["number"].as_str().unwrap().to_string()
}

/// SIGTERM and a clean exit (the database is checkpointed and closed).
fn stop(d: Daemon) {
    let st = d
        .terminate(Duration::from_secs(10))
        .expect("exits on SIGTERM");
    assert!(st.success(), "{st:?}");
}

/// A child killed and reaped on drop, even when the test fails.
struct Reaped(Option<Child>);

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `greenwave run` that must end by itself (a refusal), within 30 s:
/// its exit status and what it wrote (stdout, then stderr).
fn run_to_exit(hall: &TestHall, args: &[&str]) -> (ExitStatus, String) {
    let child = Command::new(BIN)
        .arg("--config")
        .arg(&hall.config)
        .arg("run")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Reaped(Some(child));
    eventually(
        Duration::from_secs(30),
        "greenwave run did not refuse: it is serving",
        || {
            let c = child.0.as_mut().unwrap();
            c.try_wait().unwrap().is_some()
        },
        String::new,
    );
    let out = child.0.take().unwrap().wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status, text)
}

fn db(hall: &TestHall) -> PathBuf {
    hall.data_dir().join("greenwave.db")
}

/// The database as a bad copy leaves it: the main file only, no WAL.
fn put_back(hall: &TestHall, from: &Path) {
    let db = db(hall);
    std::fs::copy(from, &db).unwrap();
    for ext in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(db.with_extension(ext));
    }
}

fn numbers(d: &Daemon) -> Vec<String> {
    let (st, v) = d.get("/api/tickets", MANAGER);
    assert_eq!(st, 200, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_str().unwrap().to_string())
        .collect()
}

/// Regression: a zero-byte `greenwave.db` after tickets were issued
/// started an empty hall without a word, and the next ticket was A001
/// again; `store verify` said "0 events, all consistent".
#[test]
fn regression_a_zero_byte_database_is_refused_and_never_reissues_a_number() {
    let hall = TestHall::new("");
    let d = hall.start();
    assert_eq!(issue(&d, "normal"), "A001");
    assert_eq!(issue(&d, "normal"), "A002");
    assert_eq!(issue(&d, "priority"), "GA001");
    stop(d);
    assert!(hall.data_dir().join("greenwave.hwm").exists());
    std::fs::write(db(&hall), b"").unwrap();

    let (st, out) = run_to_exit(&hall, &[]);
    assert!(!st.success(), "{out}");
    for part in [
        "greenwave.db 是空文件（0 字节）",
        "greenwave.hwm",
        "A001–A002",
        "GA001",
        "greenwave store verify",
        "从备份恢复",
        "greenwave run --accept-loss",
    ] {
        assert!(out.contains(part), "{part:?} missing from:\n{out}");
    }
    assert_eq!(std::fs::metadata(db(&hall)).unwrap().len(), 0, "untouched");

    // `store verify` no longer calls it consistent, and leaves it as it is.
    let (st, out, err) = hall.cli(&["store", "verify"]);
    assert_eq!(st.code(), Some(3), "{out}{err}");
    assert!(
        out.contains("是空文件") && out.contains("A001–A002"),
        "{out}"
    );
    assert!(out.contains("greenwave.hwm"), "{out}");
    assert_eq!(std::fs::metadata(db(&hall)).unwrap().len(), 0);

    // The operator accepts the loss: numbering goes on, never back.
    let d = Daemon::start_wrapped(&hall.config, &[], &["--accept-loss"]);
    assert_eq!(issue(&d, "normal"), "A003");
    assert_eq!(issue(&d, "priority"), "GA002");
    assert!(d.stderr().contains("WARN"), "{}", d.stderr());
    stop(d);
    // Accepted once: the next start needs no flag, and still goes on.
    let d = hall.start();
    assert_eq!(issue(&d, "normal"), "A004");
}

/// Regression: a write-ahead log that lost its last committed frames (a
/// crash, a damaged disk) silently dropped the last tickets, and their
/// numbers were issued again. Here the database goes back to a copy taken
/// after three tickets, while five more were committed after it.
#[test]
fn regression_a_database_that_lost_its_last_tickets_is_refused_and_accepting_never_repeats_a_number(
) {
    let hall = TestHall::new("");
    let d = hall.start();
    for want in ["A001", "A002", "A003"] {
        assert_eq!(issue(&d, "normal"), want);
    }
    stop(d);
    let older = hall.dir.path().join("older.db");
    std::fs::copy(db(&hall), &older).unwrap();
    let d = hall.start();
    let mut lost = Vec::new();
    for lane in ["normal", "normal", "priority", "normal", "normal"] {
        lost.push(issue(&d, lane));
    }
    assert_eq!(lost, ["A004", "A005", "GA001", "A006", "A007"]);
    stop(d);
    put_back(&hall, &older);

    let (st, out) = run_to_exit(&hall, &[]);
    assert!(!st.success(), "{out}");
    for part in [
        "greenwave.db 缺少已提交的数据",
        "greenwave.hwm",
        "缺少号码 A004–A007（civil，普通，4 个）",
        "缺少号码 GA001（civil，绿波通道，1 个）",
        "greenwave store verify",
        "greenwave run --accept-loss",
    ] {
        assert!(out.contains(part), "{part:?} missing from:\n{out}");
    }
    let (st, out, _) = hall.cli(&["store", "verify"]);
    assert_eq!(st.code(), Some(3), "{out}");
    assert!(
        out.contains("落后于高水位记录") && out.contains("A004–A007"),
        "{out}"
    );

    let d = Daemon::start_wrapped(&hall.config, &[], &["--accept-loss"]);
    let log = d.stderr();
    assert!(
        log.contains("WARN") && log.contains("A004–A007") && log.contains("--accept-loss"),
        "{log}"
    );
    let mut after = Vec::new();
    for lane in ["normal", "priority", "normal"] {
        after.push(issue(&d, lane));
    }
    assert_eq!(after, ["A008", "GA002", "A009"]);
    let all = numbers(&d);
    for n in &lost {
        assert!(!all.contains(n), "{n} issued twice: {all:?}");
    }
    // Ticket ids never go back either.
    let (_, t) = d.get("/api/tickets/A008", MANAGER);
    assert!(t["ticket"]["id"].as_u64().unwrap() > 8, "{t}");
    stop(d);

    // The acceptance is in the audit log, and the store checks out now.
    let conn = rusqlite::Connection::open(db(&hall)).unwrap();
    let (actor, detail): (String, String) = conn
        .query_row(
            "SELECT actor, detail FROM audit WHERE action = 'store.accept_loss'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(actor, "ops");
    assert!(detail.contains("A004–A007"), "{detail}");
    drop(conn);
    let (st, out, _) = hall.cli(&["store", "verify"]);
    assert!(st.success(), "{out}");
    let d = hall.start();
    assert_eq!(issue(&d, "normal"), "A010");
}

/// `prlimit`'s soft file size limit of the process `pid`.
fn set_fsize(pid: u32, soft: &str) {
    let st = Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--fsize={soft}:unlimited"))
        .status()
        .expect("prlimit (util-linux)");
    assert!(st.success());
}

fn healthz(d: &Daemon) -> (u16, Value) {
    http("GET", &format!("{}/healthz", d.base), None, None)
}

/// Regression: with a full disk every write failed while `/healthz` still
/// said `{"status":"ok"}`. The disk fills up here through the daemon's own
/// file size limit (RLIMIT_FSIZE, no root needed): writes fail with EFBIG
/// (the daemon must not die of SIGXFSZ), then the limit is lifted.
#[test]
fn regression_healthz_answers_503_while_the_store_cannot_commit() {
    let hall = TestHall::new("");
    let d = hall.start();
    assert_eq!(issue(&d, "normal"), "A001");
    stop(d);
    let limit = 96 * 1024;
    let fsize = format!("--fsize={limit}:unlimited");
    let d = Daemon::start_wrapped(&hall.config, &["prlimit", &fsize, "--"], &[]);
    let (st, h) = healthz(&d);
    assert_eq!((st, &h["status"]), (200, &json!("ok")), "{h}");

    // Issue until the write-ahead log reaches the limit.
    let mut issued = vec!["A001".to_string()];
    let refused = eventually_some(
        Duration::from_secs(60),
        "every ticket was issued: the limit never bit",
        || {
            let (st, t) = d.post("/api/tickets", MANAGER, json!({ "service": "civil" }));
            if st == 201 {
                issued.push(t["number"].as_str().unwrap().to_string());
                assert!(issued.len() < 200, "no write failed");
                None
            } else {
                Some((st, t))
            }
        },
        || d.stderr(),
    );
    assert_eq!(refused.0, 503, "{}", refused.1);
    assert_eq!(refused.1["code"], "storage_unavailable", "{}", refused.1);
    let (st, h) = healthz(&d);
    assert_eq!(st, 503, "{h}");
    assert_eq!(h["status"], "degraded", "{h}");
    assert!(
        h["reason"].as_str().unwrap().contains("数据库无法写入"),
        "{h}"
    );
    assert!(
        h["detail"].as_str().unwrap().contains("greenwave.db"),
        "{h}"
    );
    // Space again: healthy within a probe's interval, and numbering
    // continues where it stopped.
    set_fsize(d.pid(), "unlimited");
    eventually(
        Duration::from_secs(20),
        "healthz never recovered",
        || healthz(&d).0 == 200,
        || format!("{}\n{}", healthz(&d).1, d.stderr()),
    );
    assert_eq!(healthz(&d).1["status"], "ok");
    let next = issue(&d, "normal");
    assert_eq!(next, format!("A{:03}", issued.len() + 1), "{issued:?}");
    let log = d.stderr();
    assert!(log.contains("commit failed"), "{log}");
    stop(d);
    let (st, out, _) = hall.cli(&["store", "verify"]);
    assert!(st.success(), "{out}");
}

fn qcfg() -> QueueConfig {
    QueueConfig {
        services: vec![ServiceDef {
            code: "civil".into(),
            letter: "A".into(),
        }],
        windows: vec![WindowDef {
            number: 1,
            services: vec!["civil".into()],
        }],
        priority_prefix: "G".into(),
        policy: CallPolicy::default(),
    }
}

fn open(
    dir: &Path,
    clock: &std::sync::Arc<ManualClock>,
    accept_loss: bool,
) -> Result<Hall, HallError> {
    let boundary = DayBoundary {
        timezone: chrono_tz::Asia::Shanghai,
        rollover: chrono::NaiveTime::from_hms_opt(4, 0, 0).unwrap(),
    };
    let guarding = Guarding {
        accept_loss,
        ..Guarding::default()
    };
    let clock = clock.clone() as std::sync::Arc<dyn Clock>;
    Hall::open_at_with(dir, qcfg(), boundary, clock, guarding)
}

/// The database lost a whole day: the rollover and the next day's tickets.
/// Accepted, the hall rolls over again, and that day's numbering still
/// continues above the record (a floor kept in the database), also after
/// the next restart.
#[test]
fn a_lost_rollover_accepted_still_numbers_above_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let morning = chrono::DateTime::parse_from_rfc3339("2026-11-24T09:00:00+08:00").unwrap();
    let clock = std::sync::Arc::new(ManualClock::new(Timestamp(morning.timestamp_millis())));
    {
        let mut h = open(dir.path(), &clock, false).unwrap();
        h.issue("civil", Lane::Normal).unwrap();
    }
    let db = dir.path().join("greenwave.db");
    let older = dir.path().join("older.db");
    std::fs::copy(&db, &older).unwrap();
    clock.advance(Duration::from_secs(24 * 3600));
    {
        let mut h = open(dir.path(), &clock, false).unwrap();
        for want in ["A001", "A002", "A003"] {
            assert_eq!(h.issue("civil", Lane::Normal).unwrap().number, want);
        }
    }
    std::fs::copy(&older, &db).unwrap();
    let err = open(dir.path(), &clock, false).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, HallError::Refused(_)), "{msg}");
    assert!(
        msg.contains("营业日 2026-11-25") && msg.contains("A001–A003"),
        "{msg}"
    );

    let mut h = open(dir.path(), &clock, true).unwrap();
    assert_eq!(h.queue().day().to_string(), "2026-11-25");
    assert_eq!(h.issue("civil", Lane::Normal).unwrap().number, "A004");
    assert_eq!(h.issue("civil", Lane::Priority).unwrap().number, "GA001");
    drop(h);
    let mut h = open(dir.path(), &clock, false).unwrap();
    assert_eq!(h.issue("civil", Lane::Normal).unwrap().number, "A005");
}

/// CI failure of 2026-12-01: the hall was reopened in-process right after
/// a refused open while another test thread spawned a process; the forked
/// child briefly shared the lock file's descriptor and the reopen failed
/// with "greenwave.lock is held". A lock that is released within
/// [`greenwave::hall::LOCK_WAIT`] is waited for.
#[test]
fn regression_a_lock_held_briefly_by_a_forked_child_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let clock = std::sync::Arc::new(ManualClock::new(Timestamp(1_764_550_800_000)));
    let other = std::fs::File::create(dir.path().join("greenwave.lock")).unwrap();
    other.lock().unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(other);
    });
    let mut h = open(dir.path(), &clock, false).expect("opens once the lock is released");
    assert_eq!(h.issue("civil", Lane::Normal).unwrap().number, "A001");
    releaser.join().unwrap();
}

/// A second greenwave on the same data directory is still refused, with
/// the lock file named, once the wait is over.
#[test]
fn a_data_directory_in_use_is_refused_naming_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let clock = std::sync::Arc::new(ManualClock::new(Timestamp(1_764_550_800_000)));
    let _first = open(dir.path(), &clock, false).unwrap();
    let err = open(dir.path(), &clock, false).expect_err("refused");
    let msg = err.to_string();
    assert!(matches!(err, HallError::DataDir { .. }), "{msg}");
    assert!(msg.contains("greenwave.lock"), "{msg}");
}
