//! A failed reader is never invisible (issue 13): the real daemon with the
//! simulated GA 467 reader on a socat pty, whose SAM module fails and
//! recovers. The fault reaches the kiosk's screen, the log (warn), the
//! metric, `/healthz` and `greenwave devices`, and clears with the reader.

mod common;

use std::time::Duration;

use common::{eventually, get_text, http, Daemon, Socat, TestHall, CIVIL, MANAGER};
use greenwave_drivers::idcard::sim::{fake, SimCard, SimControl, SimHandle};

fn metric_line(d: &Daemon) -> String {
    let (_, _, body) = get_text(&format!("{}/metrics", d.base), None);
    body.lines()
        .find(|l| l.starts_with("greenwave_device_up{device=\"id_reader\"}"))
        .unwrap_or_default()
        .to_string()
}

fn tickets(d: &Daemon) -> usize {
    let (st, v) = d.get("/api/tickets", MANAGER);
    assert_eq!(st, 200, "{v}");
    v.as_array().unwrap().len()
}

/// Regression: with the SAM module failing, a card on the reader was never
/// read, nothing was logged at the default level, the kiosk showed nothing
/// and `greenwave_device_up` stayed 1 (every SAM error was "no card").
#[test]
fn regression_a_failing_sam_is_shown_logged_and_measured_until_it_recovers() {
    let hall = TestHall::builder()
        .services(&[CIVIL])
        .windows(&[(1, &["civil"])]);
    let dir = tempfile::tempdir().unwrap();
    let (reader, sim_end) = (dir.path().join("reader"), dir.path().join("sim"));
    let _socat = Socat::start(&reader, &sim_end);
    let port = serialport::new(sim_end.to_string_lossy(), 115_200)
        .timeout(Duration::from_millis(20))
        .open()
        .unwrap();
    let control = SimControl::new();
    let _sim = SimHandle::spawn(port, control.clone());
    let config = dir.path().join("greenwave.toml");
    hall.extra(&format!(
        "[devices.id_reader]\nkind = \"ga467\"\nport = \"{}\"\nbaud = 115200\npoll_interval = \"100ms\"",
        reader.display()
    ))
    .write(&config);
    let d = Daemon::start(&config);
    eventually(
        Duration::from_secs(20),
        "the reader never polled",
        || control.stats().finds > 2,
        || d.stderr(),
    );
    assert_eq!(
        metric_line(&d),
        "greenwave_device_up{device=\"id_reader\"} 1"
    );

    // The SAM fails its self-test while a resident puts a card on.
    control.set_sam_fault(Some(0x60));
    let person = fake::resident(41);
    control.place(SimCard::from_read(&person));
    d.wait_stdout("[自助机] 读卡器故障，请联系工作人员");
    assert_eq!(
        metric_line(&d),
        "greenwave_device_up{device=\"id_reader\"} 0"
    );
    let log = d.stderr();
    assert!(
        log.lines().any(|l| l.contains("WARN")
            && l.contains("reader out of service")
            && l.contains("SW3=60")),
        "{log}"
    );
    assert!(!log.contains(person.id_number.expose()), "{log}");
    let (st, h) = http("GET", &format!("{}/healthz", d.base), None, None);
    assert_eq!(st, 200, "the store still commits: {h}");
    assert_eq!(h["status"], "degraded", "{h}");
    assert_eq!(h["devices_down"], serde_json::json!(["id_reader"]), "{h}");
    assert!(
        h["reason"].as_str().unwrap().contains("身份证读卡器"),
        "{h}"
    );
    assert_eq!(tickets(&d), 0, "the card cannot be read");

    // The SAM works again: all of it clears, and the card on the reader
    // gives its ticket.
    control.set_sam_fault(None);
    d.wait_stdout("[自助机] 读卡器已恢复，请刷身份证");
    assert_eq!(
        metric_line(&d),
        "greenwave_device_up{device=\"id_reader\"} 1"
    );
    assert!(d.stderr().contains("card device back"), "{}", d.stderr());
    eventually(
        Duration::from_secs(20),
        "the card was never read after the SAM recovered",
        || tickets(&d) == 1,
        || d.stderr(),
    );
    let (st, h) = http("GET", &format!("{}/healthz", d.base), None, None);
    assert_eq!((st, &h["status"]), (200, &serde_json::json!("ok")), "{h}");
    assert!(h.get("devices_down").is_none(), "{h}");
    let st = d.terminate(Duration::from_secs(10)).expect("stops");
    assert!(st.success());

    // `greenwave devices` (the daemon has let go of the port) says so too.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(common::BIN)
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    control.set_sam_fault(Some(0x66));
    let (code, out) = cli(&["devices"]);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("读卡器故障"), "{out}");
    assert!(out.contains("SW3=66"), "{out}");
    control.set_sam_fault(None);
    let (code, out) = cli(&["devices"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("SAM 正常"), "{out}");
}
