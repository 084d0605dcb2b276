//! The command line of the real binary: help, config check with errors that
//! name file, line and key, the staff commands, the demo.

mod common;

use std::process::Command;

use common::{TestHall, BIN};

fn greenwave(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `config check` on `text` with its placeholder tokens replaced, as
/// `greenwave init` writes them.
fn check(text: &str) -> (bool, String, String) {
    check_as_is(&with_real_tokens(text))
}

/// The example's placeholder tokens (`"change-me-…"`) replaced by tokens
/// of their own.
fn with_real_tokens(text: &str) -> String {
    let mut parts = text.split("\"change-me-");
    let mut out = parts.next().unwrap().to_string();
    for (n, part) in parts.enumerate() {
        let end = part.find('"').unwrap();
        out += &format!("\"real-token-{n:02}-0123456789abcdef{}", &part[end..]);
    }
    out
}

/// `config check` on `text`, with real roster keys beside it.
fn check_as_is(text: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("greenwave.toml");
    // The example's roster keys live in /etc/greenwave on a kiosk: make
    // real ones here.
    let keys = dir.path().join("keys");
    let (ok, _, err) = greenwave(&["roster", "keygen", "--out", keys.to_str().unwrap()]);
    assert!(ok, "{err}");
    let text = text.replace("\"roster-", &format!("\"{}/roster-", keys.display()));
    std::fs::write(&path, text).unwrap();
    let (ok, out, err) = greenwave(&["config", "check", "--config", path.to_str().unwrap()]);
    // Show errors relative to the temp dir for stable assertions.
    let prefix = format!("{}", path.display());
    (ok, out, err.replace(&prefix, "greenwave.toml"))
}

const GOOD: &str = include_str!("../config/greenwave.toml");

#[test]
fn help_lists_the_commands() {
    let (ok, out, _) = greenwave(&["--help"]);
    assert!(ok);
    for cmd in ["run", "config", "demo", "call", "queue", "store"] {
        assert!(out.contains(cmd), "--help lacks {cmd}:\n{out}");
    }
}

#[test]
fn the_shipped_example_config_is_valid_but_for_its_placeholder_tokens() {
    // As shipped, its `change-me-…` tokens are refused, every one named,
    // with what to do.
    let (ok, _, err) = check_as_is(GOOD);
    assert!(!ok, "the placeholders passed");
    assert!(err.contains("is a placeholder"), "{err}");
    assert!(err.contains("greenwave init"), "{err}");
    for key in [
        "windows[0].token",
        "windows[1].token",
        "windows[2].token",
        "helpers[0].token",
        "helpers[1].token",
        "api.manager_token",
        "api.display_token",
    ] {
        assert!(err.contains(key), "{key} not named: {err}");
    }
    // Everything else in it is valid.
    let (ok, out, err) = check(GOOD);
    assert!(ok, "{err}");
    assert!(out.contains("某某街道便民服务中心"), "{out}");
    assert!(out.contains("GA001"), "{out}");
    assert!(out.contains("配置有效"), "{out}");
    assert!(out.contains("fingerprint"), "{out}");
}

#[test]
fn a_missing_roster_key_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("greenwave.toml");
    std::fs::write(&path, with_real_tokens(GOOD)).unwrap();
    let (ok, _, err) = greenwave(&["config", "check", "--config", path.to_str().unwrap()]);
    assert!(!ok);
    // The example's paths are relative: beside the configuration file.
    // Both keys are named at once, with where they come from; the line is
    // English for ops, not behind a Chinese prefix.
    for key in ["roster-public.key", "roster-hash.key"] {
        let expected = dir.path().join(key);
        assert!(err.contains(expected.to_str().unwrap()), "{err}");
    }
    assert!(
        err.starts_with("error: 2 problems with the roster keys"),
        "{err}"
    );
    assert!(err.contains("come from ops"), "{err}");
    assert!(err.contains("greenwave init --roster-keys KEYDIR"), "{err}");
    assert!(!err.contains("错误"), "{err}");
}

/// Relative paths in messages say nothing to ops reading a service's
/// journal: a configuration given as a relative path is named in full.
#[test]
fn a_relative_config_path_is_named_in_full() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("greenwave.toml"), with_real_tokens(GOOD)).unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["config", "check", "--config", "greenwave.toml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let full = dir.path().canonicalize().unwrap().join("roster-public.key");
    assert!(err.contains(full.to_str().unwrap()), "{err}");
}

/// All configuration errors at once (the first of each section), each
/// with file, line and key, in file order (issue 18): ops fix the file in
/// one go instead of one `config check` per mistake.
#[test]
fn every_configuration_problem_is_reported_at_once() {
    let edits = [
        (
            "rollover = \"04:00\"",
            "rollover = \"25:00\"",
            "day.rollover",
        ),
        (
            "normal_max_wait = \"30m\"",
            "normal_max_wait = \"half an hour\"",
            "call_policy.normal_max_wait",
        ),
        (
            "listen = \"0.0.0.0:8080\"",
            "listen = \"everywhere\"",
            "api.listen",
        ),
        ("prefix = \"G\"", "prefix = \"g\"", "lanes.priority.prefix"),
    ];
    let mut text = GOOD.to_string();
    let mut want = Vec::new();
    for (from, to, key) in edits {
        let line = GOOD[..GOOD.find(from).unwrap()].matches('\n').count() + 1;
        text = text.replacen(from, to, 1);
        want.push((line, format!("greenwave.toml:{line}: {key}")));
    }
    want.sort();
    let (ok, _, err) = check(&text);
    assert!(!ok);
    assert!(
        err.starts_with("error: 4 problems in the configuration:"),
        "{err}"
    );
    let lines: Vec<&str> = err.lines().skip(1).map(str::trim).collect();
    assert_eq!(lines.len(), 4, "{err}");
    for (got, (_, want)) in lines.iter().zip(&want) {
        assert!(
            got.starts_with(want.as_str()),
            "{got} should start with {want}:\n{err}"
        );
    }
}

#[test]
fn a_duplicate_letter_names_file_line_and_key() {
    // The third service reuses letter A. No data_dir, no [api]: two lines
    // of [hall], four per service, so its `letter` key is on line 14.
    let text = TestHall::builder()
        .data_dir(None)
        .name("h")
        .services(&[("a", "甲", "A"), ("b", "乙", "B"), ("c", "丙", "A")])
        .windows(&[(1, &["a"])])
        .with_window_token(1, "0123456789abcdef0")
        .no_api()
        .toml();
    assert_eq!(text.lines().nth(13), Some(r#"letter = "A""#));
    let (ok, _, err) = check(&text);
    assert!(!ok);
    assert!(
        err.contains(r#"greenwave.toml:14: services[2].letter "A" is already used by services[0]"#),
        "{err}"
    );
}

#[test]
fn an_unknown_key_names_its_line() {
    let text = GOOD.replace(
        "rejoin_grace = \"15m\"",
        "rejoin_grace = \"15m\"\nrejoin_gracee = \"1m\"",
    );
    let line = text
        .lines()
        .position(|l| l.starts_with("rejoin_gracee"))
        .unwrap()
        + 1;
    let (ok, _, err) = check(&text);
    assert!(!ok);
    assert!(err.contains(&format!("greenwave.toml:{line}:")), "{err}");
    assert!(err.contains("rejoin_gracee"), "{err}");
}

#[test]
fn bad_values_name_their_key_and_line() {
    let cases = [
        (
            "normal_max_wait = \"30m\"",
            "normal_max_wait = \"half an hour\"",
            "call_policy.normal_max_wait",
        ),
        (
            "timezone = \"Asia/Shanghai\"",
            "timezone = \"Mars/Olympus\"",
            "day.timezone",
        ),
        (
            "rollover = \"04:00\"",
            "rollover = \"25:00\"",
            "day.rollover",
        ),
        (
            "listen = \"0.0.0.0:8080\"",
            "listen = \"everywhere\"",
            "api.listen",
        ),
        (
            "services = [\"civil\"]",
            "services = [\"civil\", \"tax\"]",
            "windows[0].services[1]",
        ),
        (
            "token = \"change-me-window-2-token\"",
            "token = \"short\"",
            "windows[1].token",
        ),
        ("number = 3", "number = 1", "windows[2].number"),
        ("prefix = \"G\"", "prefix = \"g\"", "lanes.priority.prefix"),
        (
            "max_priority_streak = 3",
            "max_priority_streak = -1",
            "call_policy.max_priority_streak",
        ),
    ];
    for (from, to, key) in cases {
        assert!(GOOD.contains(from), "{from}");
        let text = GOOD.replacen(from, to, 1);
        let line = GOOD[..GOOD.find(from).unwrap()].matches('\n').count() + 1;
        let (ok, _, err) = check(&text);
        assert!(!ok, "{to} accepted");
        assert!(
            err.contains(&format!("greenwave.toml:{line}: {key}")),
            "{to}: {err}"
        );
    }
}

#[test]
fn a_letter_that_clashes_with_the_priority_prefix_is_refused() {
    let text = GOOD.replacen("letter = \"C\"", "letter = \"G\"", 1);
    let (ok, _, err) = check(&text);
    assert!(!ok);
    assert!(
        err.contains("services[2].letter \"G\" clashes with the priority prefix"),
        "{err}"
    );
}

#[test]
fn a_missing_config_file_says_where_it_looked() {
    let (ok, _, err) = greenwave(&["config", "check", "--config", "/nonexistent/greenwave.toml"]);
    assert!(!ok);
    assert!(err.contains("/nonexistent/greenwave.toml"), "{err}");
}

#[test]
fn staff_commands_work_against_the_daemon() {
    let hall = TestHall::new("");
    let d = hall.start();
    let server = ["--server", d.base.as_str()];
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&server);
        hall.cli(&all)
    };
    let (st, out, err) = run(&[
        "issue",
        "--service",
        "civil",
        "--priority",
        "--reason",
        "行动不便",
        "--token",
        common::MANAGER,
    ]);
    assert!(st.success(), "{err}");
    assert!(out.contains("GA001"), "{out}");
    // The window's own token comes from the configuration.
    let (st, out, err) = run(&["call", "--window", "1"]);
    assert!(st.success(), "{err}");
    assert!(out.contains("请 GA001 号到 1 号窗口办理"), "{out}");
    let (st, out, _) = run(&["finish", "--window", "1"]);
    assert!(st.success());
    assert!(out.contains("已办结"), "{out}");
    let (st, _, err) = run(&["call", "--window", "1"]);
    assert_eq!(st.code(), Some(2));
    assert!(err.contains("没有等候的号码"), "{err}");
    let (st, out, _) = run(&["queue"]);
    assert!(st.success());
    assert!(out.contains("测试大厅"), "{out}");
}

#[test]
fn demo_runs_to_the_end_and_leaves_nothing_running() {
    let (ok, out, err) = greenwave(&["demo"]);
    assert!(ok, "{err}");
    // Residents on the roster get the green wave through the simulated
    // reader; the one who swipes twice keeps the number.
    assert!(out.contains("[自助机] 您的号码 GA001（绿波通道，"), "{out}");
    assert!(out.contains("[自助机] 您的号码 A001（普通，"), "{out}");
    assert!(
        out.contains("[自助机] 您已取号，已为您重新打印。您的号码 GA001"),
        "{out}"
    );
    // Tickets come out of the simulated printer, shown as text.
    assert!(out.contains("优先服务 · 绿波通道"), "{out}");
    assert!(out.contains("请 GA001 号到 1 号窗口办理"), "{out}");
    // Paper out: the number is still issued, and reprinted after.
    assert!(
        out.contains("A002（普通，民政救助），前面还有 1 人。打印机缺纸，请记下号码"),
        "{out}"
    );
    assert!(out.matches("A002").count() >= 3, "{out}");
    assert!(out.contains("满意率 100%"), "{out}");
    assert!(out.contains("演示结束"), "{out}");
}

/// Regression: `greenwave stats --format json | head` panicked with a
/// backtrace ("failed printing to stdout: Broken pipe") when the reader
/// went away; a one-shot command now ends quietly, as `cat` does.
#[test]
fn regression_a_closed_pipe_ends_a_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let hall = TestHall::new("");
    let d = hall.start();
    for _ in 0..3 {
        let (st, v) = d.post(
            "/api/tickets",
            common::MANAGER,
            serde_json::json!({ "service": "civil" }),
        );
        assert_eq!(st, 201, "{v}");
    }
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&hall.config)
        .args(["stats", "--format", "json", "--by", "lane"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader is gone before the command writes a byte.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        out.status.success() || out.status.signal() == Some(13),
        "{:?}: {err}",
        out.status
    );
}
