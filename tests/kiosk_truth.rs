//! The kiosk screen says only what is true (issue 14, part 2), through the
//! real daemon and a simulated ESC/POS printer on 127.0.0.1: a second swipe
//! while the paper is out does not claim a reprint; the printer's warning
//! clears by itself within two seconds of the paper going back in (before,
//! it stayed until the next print, 30 s and more); the screen names the
//! service it issued for.

mod common;

use std::time::{Duration, Instant};

use common::TestHall;
use greenwave_drivers::printer::sim::{PrinterSim, SimState};

fn hall(printer: &PrinterSim) -> TestHall {
    TestHall::new(&format!(
        "[devices.printer]\nuri = \"{}\"\n[kiosk]\ndefault_service = \"medical\"\n",
        printer.uri()
    ))
}

#[test]
fn regression_the_printer_warning_clears_within_two_seconds_of_a_refill() {
    let printer = PrinterSim::start(SimState::PaperOut).unwrap();
    let hall = hall(&printer);
    let mut d = hall.start();
    d.key("0");
    let line = d.wait_stdout("您的号码 B001");
    // The service is named; the paper is out, and the screen says so.
    assert!(line.contains("医保业务"), "{line}");
    assert!(line.contains("打印机缺纸"), "{line}");
    assert!(!line.contains("重新打印"), "{line}");

    printer.control().set_state(SimState::Ready);
    let refilled = Instant::now();
    d.wait_stdout("打印机已恢复");
    let took = refilled.elapsed();
    assert!(took < Duration::from_secs(2), "the warning stayed {took:?}");
}

#[test]
fn a_failed_staff_reprint_shows_on_the_kiosk_until_the_printer_is_back() {
    let printer = PrinterSim::start(SimState::Ready).unwrap();
    let hall = hall(&printer);
    let mut d = hall.start();
    d.key("0");
    d.wait_stdout("您的号码 B001");
    printer.control().set_state(SimState::PaperOut);
    let (st, r) = d.post(
        "/api/tickets/B001/reprint",
        common::MANAGER,
        serde_json::json!({}),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (&r["printed"], &r["error"]),
        (&false.into(), &"打印机缺纸".into()),
        "{r}"
    );
    // The kiosk's screen warns the next resident, and clears by itself.
    d.wait_stdout("打印机缺纸，请联系工作人员");
    printer.control().set_state(SimState::Ready);
    d.wait_stdout("打印机已恢复");
}
