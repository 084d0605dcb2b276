//! `greenwave devices` and `greenwave print-test` against the simulators: a
//! GA 467 reader simulator on a real socat pty pair and an ESC/POS printer
//! simulator on 127.0.0.1.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Socat, TestHall, BIN, CIVIL};
use greenwave_drivers::idcard::sim::{SimControl, SimHandle};
use greenwave_drivers::printer::sim::{PrinterSim, SimState};
use greenwave_drivers::printer::{render_text, PaperWidth};

fn config(dir: &Path, reader_port: &Path, printer_uri: &str) -> std::path::PathBuf {
    let path = dir.join("greenwave.toml");
    TestHall::builder()
        .services(&[CIVIL])
        .windows(&[(1, &["civil"])])
        .no_api()
        .extra(&format!(
            r#"[devices.id_reader]
kind = "ga467"
port = "{}"
baud = 115200
[devices.printer]
uri = "{printer_uri}"
paper_width_mm = 80"#,
            reader_port.display()
        ))
        .write(&path);
    path
}

fn run(config: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn devices_shows_a_working_reader_and_printer_and_names_problems() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, sim_end) = (dir.path().join("reader"), dir.path().join("sim"));
    let _socat = Socat::start(&reader, &sim_end);
    let port = serialport::new(sim_end.to_string_lossy(), 115_200)
        .timeout(Duration::from_millis(20))
        .open()
        .unwrap();
    let _sim = SimHandle::spawn(port, SimControl::new());
    let printer = PrinterSim::start(SimState::Ready).unwrap();
    let cfg = config(dir.path(), &reader, &printer.uri());

    let (code, out) = run(&cfg, &["devices"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("已连接，SAM 正常（115200 波特"), "{out}");
    assert!(out.contains("打印机") && out.contains("在线"), "{out}");

    printer.control().set_state(SimState::PaperOut);
    let (code, out) = run(&cfg, &["devices"]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("打印机缺纸"), "{out}");

    // A reader that is not there.
    let cfg = config(dir.path(), &dir.path().join("no-such-port"), &printer.uri());
    let (code, out) = run(&cfg, &["devices"]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("读卡器未连接"), "{out}");
}

#[test]
fn print_test_prints_a_sample_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let printer = PrinterSim::start(SimState::Ready).unwrap();
    let cfg = config(dir.path(), &dir.path().join("unused"), &printer.uri());
    let (code, out) = run(&cfg, &["print-test"]);
    assert_eq!(code, 0, "{out}");
    let jobs = printer.control().wait_for_jobs(1, Duration::from_secs(10));
    assert_eq!(jobs.len(), 1);
    let text = render_text(&jobs[0], PaperWidth::Mm80);
    assert!(text.contains("测试大厅"), "{text}");
    assert!(text.contains("GA000"), "{text}");
    assert!(text.contains("打印测试"), "{text}");

    printer.control().set_state(SimState::PaperOut);
    let (code, out) = run(&cfg, &["print-test"]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("打印失败"), "{out}");
}

#[test]
fn a_bad_device_config_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), Path::new("/dev/ttyUSB0"), "lpt://nowhere");
    let (code, out) = run(&cfg, &["config", "check"]);
    assert_eq!(code, 1);
    assert!(out.contains("devices.printer.uri"), "{out}");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("baud = 115200", "baud = 1234");
    std::fs::write(&cfg, text).unwrap();
    let (_, out) = run(&cfg, &["config", "check"]);
    assert!(out.contains(":15: devices.id_reader.baud"), "{out}");
}
