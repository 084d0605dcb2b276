//! `greenwave run` on a terminal of its own (tmux): the kiosk screen takes
//! the terminal, a key press takes a ticket without an ID card, the screen
//! shows it and the printer prints it, the log goes to a file instead of
//! the screen, and Ctrl-C stops the daemon cleanly.

mod common;

use std::process::Command;
use std::time::Duration;

#[test]
fn the_kiosk_screen_on_a_real_terminal() {
    let hall = common::TestHall::new("");
    // Stands for /dev/usb/lp0: a device file that exists.
    let printer = hall.dir.path().join("printer.out");
    std::fs::write(&printer, b"").unwrap();
    let text = std::fs::read_to_string(&hall.config).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &hall.config,
        format!(
            "{}\n[devices.id_reader]\nkind = \"simulated\"\n[devices.printer]\nuri = \"file://{}\"\n",
            text.replace("127.0.0.1:0", &format!("127.0.0.1:{port}")),
            printer.display()
        ),
    )
    .unwrap();
    let tmux = common::Tmux::start(
        &format!(
            "exec {} --config {} run",
            common::BIN,
            hall.config.display()
        ),
        100,
        30,
    );
    let pane = tmux.wait_for(&[
        "测试大厅 · 自助取号",
        "将身份证放在读卡区",
        "0 无身份证取号",
    ]);
    assert!(!pane.contains("INFO"), "no log lines on the screen: {pane}");

    // A service must be chosen (two services, no default): 0 asks which.
    tmux.send("0");
    tmux.wait_for(&["请选择办理的业务", "1   民政救助"]);
    tmux.send("1");
    let pane = tmux.wait_for(&["您的号码", "前面还有 0 人", "请取票"]);
    assert!(!pane.contains("请选择办理的业务"), "{pane}");

    // It is a real ticket, printed.
    let base = format!("http://127.0.0.1:{port}");
    let (st, t) = common::http(
        "GET",
        &format!("{base}/api/tickets/A001"),
        Some(common::MANAGER),
        None,
    );
    assert_eq!(st, 200, "{t}");
    common::eventually(
        Duration::from_secs(10),
        "nothing printed",
        || std::fs::metadata(&printer).is_ok_and(|m| m.len() > 0),
        String::new,
    );

    // The log went to the data directory.
    let log = std::fs::read_to_string(hall.data_dir().join("greenwave.log")).unwrap();
    assert!(log.contains("staff API listening"), "{log}");

    // Ctrl-C stops the daemon and gives the terminal back.
    tmux.send("C-c");
    common::eventually(
        Duration::from_secs(15),
        "still running after Ctrl-C",
        || !tmux.alive(),
        || tmux.capture(),
    );
    let log = std::fs::read_to_string(hall.data_dir().join("greenwave.log")).unwrap();
    assert!(log.contains("shutting down"), "{log}");
}

#[test]
fn the_demo_on_a_terminal_shows_kiosk_board_and_printer_and_ends_with_q() {
    let tmux = common::Tmux::start(&format!("exec {} demo --pace 0.1", common::BIN), 160, 45);
    let pane = tmux.wait_for(&["演示完毕：按 q 或 Ctrl-C 退出"]);
    for part in [
        "自助取号",
        "打印机 · 最近一张票",
        "正在呼叫",
        "等候人数",
        "请 A001 号 到 1 号窗口办理",
    ] {
        assert!(pane.contains(part), "{part} missing:\n{pane}");
    }
    tmux.send("q");
    common::eventually(
        Duration::from_secs(15),
        "the demo did not end on q",
        || !tmux.alive(),
        || tmux.capture(),
    );
}

/// Regression: closing tmux sends SIGHUP, which the daemon takes as
/// "reload"; a tmux test that ended early used to leave its daemon running.
#[test]
fn a_tmux_test_that_ends_early_leaves_no_daemon_behind() {
    let hall = common::TestHall::new("");
    let tmux = common::Tmux::start(
        &format!(
            "exec {} --config {} run",
            common::BIN,
            hall.config.display()
        ),
        100,
        30,
    );
    tmux.wait_for(&["greenwave 已启动"]);
    let pid = tmux.pane_pid();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(tmux);
    common::eventually(
        Duration::from_secs(10),
        &format!("daemon {pid} outlived its tmux"),
        || {
            !std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.contains("greenwave"))
        },
        String::new,
    );
}

/// A fresh hall's daemon in a tmux pane (`env` first: `env X=1`), up and
/// then sent SIGHUP, as a closing terminal or `systemctl reload` would.
fn started_then_hung_up(env: &str) -> (common::TestHall, common::Tmux, u32) {
    let hall = common::TestHall::new("");
    let tmux = common::Tmux::start(
        &format!(
            "exec {env} {} --config {} run",
            common::BIN,
            hall.config.display()
        ),
        100,
        30,
    );
    tmux.wait_for(&["greenwave 已启动"]);
    let pid = tmux.pane_pid();
    let st = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    (hall, tmux, pid)
}

/// `greenwave run` in a terminal stops when the terminal goes away, as any
/// foreground program does (issue 18: closing the window used to leave the
/// daemon running, taking the SIGHUP for "reload"), and stops cleanly: the
/// data directory is free again and the store verifies.
#[test]
fn a_daemon_run_in_a_terminal_stops_when_the_terminal_goes() {
    let (hall, tmux, pid) = started_then_hung_up("");
    common::eventually(
        Duration::from_secs(10),
        &format!("daemon {pid} did not stop on the terminal's hang-up"),
        || !std::path::Path::new(&format!("/proc/{pid}")).exists() || !tmux.alive(),
        || tmux.capture(),
    );
    let (st, out, err) = hall.cli(&["store", "verify"]);
    assert!(st.success(), "{out}{err}");
}

/// As a service (systemd sets `INVOCATION_ID`), SIGHUP is
/// `systemctl reload`: the configuration is read again, the daemon stays,
/// even when its stdin is a terminal (the kiosk's screen on a tty).
#[test]
fn a_daemon_run_by_systemd_reloads_on_sighup() {
    let (_hall, tmux, pid) = started_then_hung_up("env INVOCATION_ID=0123456789abcdef");
    tmux.wait_for(&["配置已重新加载"]);
    assert!(tmux.alive(), "{}", tmux.capture());
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
}
