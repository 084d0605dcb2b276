//! Voice calls through the real daemon: the announce command is a small
//! script that writes what it was asked to say, with a start and an end
//! line, into a file, and notes any overlap (it holds a file lock while
//! speaking). Calls and recalls are spoken in order, one at a time,
//! with the priority lane read out; a hung command is killed and the next
//! call still comes; a missing command is reported once and stops nothing;
//! the kiosk speaks its prompts when told to.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{eventually, eventually_some, Daemon, TestHall, MANAGER};
use serde_json::json;

/// The daemons of these tests log the voice worker's debug lines (one per
/// announcement), so that a test can tell when every announcement was
/// tried. Set once, before any test starts a daemon or makes a request.
fn daemon(hall: &TestHall) -> Daemon {
    static LOG: std::sync::Once = std::sync::Once::new();
    LOG.call_once(|| std::env::set_var("GREENWAVE_LOG", "info,greenwave::voice=debug"));
    hall.start()
}

/// A script that records each announcement in `said.log` beside it:
/// `start <words>` and `end <words>`, and `OVERLAP <words>` when another
/// announcement was still speaking (it held the lock, which goes with the
/// last process holding it, children included). `body` runs between start
/// and end.
fn speaker(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    let d = dir.display();
    let script = format!(
        r#"#!/bin/sh
log="{d}/said.log"
exec 9>"{d}/speaking.lock"
if ! flock -n 9; then echo "OVERLAP $1" >> "$log"; fi
echo "start $1" >> "$log"
{body}
echo "end $1" >> "$log"
"#
    );
    // Written under another name and renamed: the daemon never runs a
    // half-written script.
    let tmp = dir.join(format!("{name}.part"));
    std::fs::write(&tmp, script).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path
}

fn said(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("said.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits (bounded) until `said.log` has `n` end lines; returns its lines.
fn wait_said(d: &Daemon, dir: &Path, n: usize) -> Vec<String> {
    let mut lines = Vec::new();
    eventually(
        Duration::from_secs(30),
        "too few spoken; log",
        || {
            lines = said(dir);
            lines.iter().filter(|l| l.starts_with("end ")).count() >= n
        },
        || format!("{:?} spoken\n{}", said(dir), d.stderr()),
    );
    lines
}

/// Waits (bounded) until the daemon's log has `n` lines containing `text`.
fn wait_log(d: &Daemon, text: &str, n: usize) -> String {
    eventually_some(
        Duration::from_secs(30),
        &format!("fewer than {n} log lines with {text:?}"),
        || Some(d.stderr()).filter(|log| log.matches(text).count() >= n),
        || format!("\n{}", d.stderr()),
    )
}

fn issue(d: &Daemon, service: &str, lane: &str) -> String {
    let (st, t) = d.post(
        "/api/tickets",
        MANAGER,
        json!({ "service": service, "lane": lane, "reason": "测试" }),
    );
    assert_eq!(st, 201, "{t}");
    t["number"].as_str().unwrap().to_string()
}

fn window_op(d: &Daemon, window: u32, op: &str) -> serde_json::Value {
    let (st, v) = d.post(&format!("/api/windows/{window}/{op}"), MANAGER, json!({}));
    assert_eq!(st, 200, "{op} at window {window}: {v}");
    v
}

fn spoken(words: &str) -> [String; 2] {
    [format!("start {words}"), format!("end {words}")]
}

#[test]
fn calls_and_recalls_are_spoken_in_order_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let script = speaker(dir.path(), "speak.sh", "sleep 0.3");
    let hall = TestHall::new(&format!(
        "[voice]\ncommand = [\"{}\"]\ntimeout = \"10s\"\n",
        script.display()
    ));
    let d = daemon(&hall);
    assert_eq!(issue(&d, "civil", "normal"), "A001");
    assert_eq!(issue(&d, "civil", "priority"), "GA001");

    // Three calls in quick succession: each takes 0.3 s to say, so they
    // queue behind one another.
    assert_eq!(window_op(&d, 1, "call")["number"], "GA001");
    assert_eq!(window_op(&d, 2, "call")["number"], "A001");
    assert_eq!(window_op(&d, 1, "recall")["number"], "GA001");

    let lines = wait_said(&d, dir.path(), 3);
    let priority = "请 绿波通道 G A 零 零 一 号，到 一 号窗口办理";
    let normal = "请 A 零 零 一 号，到 二 号窗口办理";
    let expected: Vec<String> = [spoken(priority), spoken(normal), spoken(priority)]
        .concat()
        .to_vec();
    assert_eq!(
        lines, expected,
        "in call order, the recall repeated, never two at once"
    );
    assert!(!lines.iter().any(|l| l.starts_with("OVERLAP")));
}

#[test]
fn a_hung_command_is_killed_and_the_next_call_still_comes() {
    let dir = tempfile::tempdir().unwrap();
    let d_ = dir.path().display();
    // Saying A001 hangs (in a child of the script, as a stuck audio
    // device would); everything else is said at once.
    let script = speaker(
        dir.path(),
        "speak.sh",
        &format!(
            r#"case "$1" in *"A 零 零 一"*) sleep 600 & echo $! > "{d_}/hung.pid"; wait;; esac"#
        ),
    );
    let hall = TestHall::new(&format!(
        "[voice]\ncommand = [\"{}\"]\ntimeout = \"1s\"\n",
        script.display()
    ));
    let d = daemon(&hall);
    issue(&d, "civil", "normal");
    issue(&d, "civil", "normal");
    let started = Instant::now();
    assert_eq!(window_op(&d, 1, "call")["number"], "A001");
    assert_eq!(window_op(&d, 2, "call")["number"], "A002");

    let lines = wait_said(&d, dir.path(), 1);
    let waited = started.elapsed();
    assert_eq!(
        lines,
        [
            "start 请 A 零 零 一 号，到 一 号窗口办理",
            "start 请 A 零 零 二 号，到 二 号窗口办理",
            "end 请 A 零 零 二 号，到 二 号窗口办理",
        ],
        "A001 never finished; A002 came after it was killed, with nothing of \
         A001 (its sleeping child included) still holding the lock"
    );
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(20),
        "the next call waited {waited:?} (timeout 1 s)"
    );
    let log = d.stderr();
    assert!(log.contains("did not finish in time; killed"), "{log}");

    // Nothing of the hung command is left running.
    let pid = std::fs::read_to_string(dir.path().join("hung.pid")).unwrap();
    let stat = format!("/proc/{}/stat", pid.trim());
    eventually(
        Duration::from_secs(10),
        "the hung sleep still runs",
        || {
            // Gone, or a zombie waiting for its reaper.
            std::fs::read_to_string(&stat)
                .map(|s| s.split(") ").nth(1).unwrap_or("").starts_with('Z'))
                .unwrap_or(true)
        },
        String::new,
    );
}

#[test]
fn a_missing_command_is_reported_once_and_the_daemon_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-installed-yet.sh");
    let hall = TestHall::new(&format!("[voice]\ncommand = [\"{}\"]\n", missing.display()));
    let d = daemon(&hall);
    for _ in 0..3 {
        issue(&d, "civil", "normal");
    }
    assert_eq!(window_op(&d, 1, "call")["number"], "A001");
    assert_eq!(window_op(&d, 2, "call")["number"], "A002");
    assert_eq!(window_op(&d, 2, "recall")["number"], "A002");
    // All three were tried...
    let log = wait_log(&d, "announcement not spoken", 3);
    // ...and the operator was told once.
    assert_eq!(
        log.matches("voice command failed").count(),
        1,
        "reported once:\n{log}"
    );
    assert!(log.contains("not-installed-yet.sh"), "{log}");
    // The daemon works on: the queue answers, calls go on.
    let (st, q) = d.get("/api/queue", MANAGER);
    assert_eq!(st, 200, "{q}");

    // Once the command is there, the next call is spoken: no restart.
    let installed = speaker(dir.path(), "not-installed-yet.sh", "");
    assert_eq!(installed, missing);
    window_op(&d, 1, "start");
    window_op(&d, 1, "finish");
    assert_eq!(window_op(&d, 1, "call")["number"], "A003");
    let lines = wait_said(&d, dir.path(), 1);
    assert_eq!(lines, spoken("请 A 零 零 三 号，到 一 号窗口办理"));
    let log = wait_log(&d, "voice command works again", 1);
    assert_eq!(log.matches("voice command failed").count(), 1, "{log}");
}

/// A hall whose kiosk has a printer (a plain file) and its keypad on the
/// daemon's stdin.
fn kiosk_hall(dir: &Path, script: &Path, prompts: bool) -> TestHall {
    let printer = dir.join("printer.out");
    std::fs::write(&printer, b"").unwrap();
    TestHall::new(&format!(
        "[devices.printer]\nuri = \"file://{}\"\n[voice]\ncommand = [\"{}\"]\nkiosk_prompts = {prompts}\n",
        printer.display(),
        script.display()
    ))
}

#[test]
fn the_kiosk_speaks_its_prompts() {
    let dir = tempfile::tempdir().unwrap();
    let script = speaker(dir.path(), "speak.sh", "");
    let hall = kiosk_hall(dir.path(), &script, true);
    let mut d = daemon(&hall);
    // Without a card: two services, so the kiosk asks; `1` gives the ticket.
    d.key("0");
    d.wait_stdout("请选择办理的业务");
    wait_said(&d, dir.path(), 1);
    d.key("1");
    d.wait_stdout("您的号码 A001");
    let lines = wait_said(&d, dir.path(), 3);
    // The number at once, while the ticket prints; then what to do.
    assert_eq!(
        lines,
        [
            spoken("请选择办理的业务"),
            spoken("您的号码 A 零 零 一"),
            spoken("请取票")
        ]
        .concat()
    );
}

#[test]
fn kiosk_prompts_can_be_turned_off_while_calls_are_still_spoken() {
    let dir = tempfile::tempdir().unwrap();
    let script = speaker(dir.path(), "speak.sh", "");
    let hall = kiosk_hall(dir.path(), &script, false);
    let mut d = daemon(&hall);
    d.key("0");
    d.wait_stdout("请选择办理的业务");
    d.key("1");
    d.wait_stdout("您的号码 A001");
    assert_eq!(window_op(&d, 1, "call")["number"], "A001");
    // The call is the first thing said: the kiosk's prompts were not.
    let lines = wait_said(&d, dir.path(), 1);
    assert_eq!(lines, spoken("请 A 零 零 一 号，到 一 号窗口办理"));
}

#[test]
fn without_a_voice_section_it_is_espeak_ng_or_silence_said_once() {
    let hall = TestHall::new("");
    let d = daemon(&hall);
    issue(&d, "civil", "normal");
    window_op(&d, 1, "call");
    let installed = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("espeak-ng").is_file()))
        .unwrap_or(false);
    let expected = if installed {
        "voice on (espeak-ng, Mandarin)"
    } else {
        "voice is off: espeak-ng is not installed"
    };
    let log = wait_log(&d, expected, 1);
    assert_eq!(log.matches(expected).count(), 1, "{log}");
}

#[test]
fn sighup_turns_voice_on_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let script = speaker(dir.path(), "speak.sh", "");
    let hall = TestHall::new(&format!(
        "[voice]\nenabled = false\ncommand = [\"{}\"]\n",
        script.display()
    ));
    let d = daemon(&hall);
    let log = wait_log(&d, "voice is off ([voice] enabled = false)", 1);
    assert_eq!(log.matches("voice is off").count(), 1, "{log}");

    let text = std::fs::read_to_string(&hall.config).unwrap();
    std::fs::write(
        &hall.config,
        text.replace("enabled = false", "enabled = true"),
    )
    .unwrap();
    // A request first: `run` installs its SIGHUP handler just after it
    // prints its address, and a SIGHUP before that would end it.
    issue(&d, "medical", "priority");
    assert!(d.reload().contains("语音设置已更新"));
    assert_eq!(window_op(&d, 3, "call")["number"], "GB001");
    let lines = wait_said(&d, dir.path(), 1);
    assert_eq!(
        lines,
        spoken("请 绿波通道 G B 零 零 一 号，到 三 号窗口办理")
    );
}
