//! Where the `escpos` crate does not fit the kiosk, shown against the
//! simulator: each test drives escpos's own API the way its documentation
//! says, records what goes wrong for a ticket kiosk, and checks that our
//! driver does it right. ARCHITECTURE.md ("The ticket printer and the
//! escpos crate") lists these; the serial driver's test is in
//! `printer_serial.rs`, beside the pty pair it needs.

mod printer_support;

use std::io::Read;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use escpos::driver::{Driver, FileDriver, NetworkDriver};
use escpos::printer::Printer;
use escpos::utils::{
    Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption, RealTimeStatusRequest,
};
use greenwave_drivers::printer::sim::{PrinterSim, SimState};
use greenwave_drivers::printer::{
    encode_ticket, open_printer, status_request, PrinterConfig, PrinterOptions, PrinterState,
    PrinterStatus, PrinterTimeouts, TicketLayout,
};
use printer_support::decode;

const WAIT: Duration = Duration::from_secs(5);

fn ticket(number: &str) -> TicketLayout {
    TicketLayout {
        hall_name: "朝阳区政务服务中心".into(),
        banner: None,
        number: number.into(),
        service_name: "社保业务".into(),
        ahead: "前面还有 3 人".into(),
        issued_at: "2026-11-23 09:41".into(),
        qr_payload: Some(format!("https://gw.example.cn/q/{number}")),
        ..TicketLayout::default()
    }
}

fn escpos_to(sim: &PrinterSim) -> NetworkDriver {
    NetworkDriver::open("127.0.0.1", sim.addr().port(), Some(WAIT)).unwrap()
}

fn config(uri: String, connect_ms: u64, status_ms: u64) -> PrinterConfig {
    PrinterConfig {
        timeouts: PrinterTimeouts {
            connect_ms,
            status_ms,
            write_ms: 2000,
        },
        ..PrinterConfig::new(uri)
    }
}

/// escpos's `real_time_status` sends `DLE EOT n 00`: the `00` is meant for
/// the requests 7, 8 and 18 that take a second parameter, but it goes out
/// for 1 to 4 too, and the printer takes it as the first byte of the next
/// job. We send `DLE EOT n` raw and parse the answer with escpos.
#[test]
fn escpos_status_request_leaves_a_stray_byte_in_the_next_job() {
    let sim = PrinterSim::start(SimState::Ready).unwrap();
    let driver = escpos_to(&sim);
    let mut printer = Printer::new(driver.clone(), Protocol::default(), None);
    printer
        .real_time_status(RealTimeStatusRequest::Printer)
        .unwrap()
        .send_status()
        .unwrap();
    let mut reply = [0u8; 1];
    assert_eq!(driver.read(&mut reply).unwrap(), 1);
    assert_eq!(reply[0], 0x12, "the printer answered");
    driver
        .write(&encode_ticket(&ticket("A031"), &PrinterOptions::default()))
        .unwrap();
    let jobs = sim.wait_for_jobs(1, WAIT);
    assert_eq!(jobs[0][0], 0x00, "the job starts with escpos's stray 00");
    assert!(decode(&jobs[0]).is_err(), "a strict reader refuses it");

    assert_eq!(status_request(1), [0x10, 0x04, 0x01]);
    let sim = PrinterSim::start(SimState::Ready).unwrap();
    let mut ours = open_printer(&config(sim.uri(), 1000, 500)).unwrap();
    ours.print(&ticket("A032")).unwrap();
    let jobs = sim.wait_for_jobs(1, WAIT);
    assert_eq!(sim.status_requests(), 3);
    assert!(decode(&jobs[0]).unwrap().line("A032").is_some());
}

/// escpos's `partial_cut` sends `GS V 41 01`, which is function B's full
/// cut after one motion unit, and no cut of escpos feeds the paper first.
/// Our cut is `GS V 42 n` (partial) or `GS V 41 n` (full) with the
/// configured feed, through escpos's `custom`.
#[test]
fn escpos_partial_cut_is_a_full_cut_without_feed() {
    let sim = PrinterSim::start(SimState::Ready).unwrap();
    let mut printer = Printer::new(escpos_to(&sim), Protocol::default(), None);
    printer
        .init()
        .unwrap()
        .write("A031\n")
        .unwrap()
        .partial_cut()
        .unwrap()
        .print()
        .unwrap();
    let jobs = sim.wait_for_jobs(1, WAIT);
    let cut = decode(&jobs[0]).unwrap().cut.unwrap();
    assert!(cut.full, "escpos's partial cut cuts the ticket off");
    assert_eq!(cut.feed, 1);

    let ours = decode(&encode_ticket(&ticket("A031"), &PrinterOptions::default())).unwrap();
    let cut = ours.cut.unwrap();
    assert!(!cut.full);
    assert_eq!(cut.feed, PrinterOptions::default().feed_before_cut);
}

/// escpos clamps the QR module size to 15 where ESC/POS allows 1 to 16; we
/// print escpos's QR code and set a module size of 16 back.
#[test]
fn escpos_clamps_the_qr_module_size_to_15() {
    let sim = PrinterSim::start(SimState::Ready).unwrap();
    let mut printer = Printer::new(escpos_to(&sim), Protocol::default(), None);
    let option = QRCodeOption::new(QRCodeModel::Model2, 16, QRCodeCorrectionLevel::M);
    printer
        .init()
        .unwrap()
        .qrcode_option("https://gw.example.cn/q/A031", option)
        .unwrap()
        .custom(&[0x1D, b'V', 0x42, 0x30])
        .unwrap()
        .print()
        .unwrap();
    let jobs = sim.wait_for_jobs(1, WAIT);
    assert_eq!(decode(&jobs[0]).unwrap().qr_codes[0].module_size, 15);

    for size in [1, 6, 15, 16] {
        let options = PrinterOptions {
            qr_module_size: size,
            ..PrinterOptions::default()
        };
        let paper = decode(&encode_ticket(&ticket("A031"), &options)).unwrap();
        assert_eq!(paper.qr_codes[0].module_size, size);
        assert_eq!(paper.qr_codes[0].payload, "https://gw.example.cn/q/A031");
    }
}

/// escpos's network driver takes one timeout, for connecting, reading and
/// writing alike: the kiosk's 2 s connect and 5 s write cannot go with a
/// 0.5 s status wait. A silent printer keeps a status read waiting for
/// the whole connect timeout, and the error is text (`PrinterError::Io`
/// holds a `String`), so a timeout cannot be told from a connection the
/// printer closed, which our driver retries once.
#[test]
fn escpos_network_driver_has_one_timeout_and_errors_without_a_kind() {
    let sim = PrinterSim::start(SimState::Silent).unwrap();
    let connect = Duration::from_millis(1500);
    let driver = NetworkDriver::open("127.0.0.1", sim.addr().port(), Some(connect)).unwrap();
    driver.write(&status_request(1)).unwrap();
    let started = Instant::now();
    let error = driver.read(&mut [0u8; 1]).unwrap_err();
    let waited = started.elapsed();
    assert!(
        waited >= connect - Duration::from_millis(100),
        "the read waited {waited:?}, the connect timeout is {connect:?}"
    );
    assert!(matches!(error, escpos::errors::PrinterError::Io(_)));

    let mut ours = open_printer(&config(sim.uri(), 1500, 300)).unwrap();
    let started = Instant::now();
    assert_eq!(ours.status().unwrap(), PrinterStatus::OFFLINE);
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "ours waits the status timeout"
    );
}

/// With a timeout, escpos's network driver parses the host as an IP
/// address: a printer configured by name cannot be reached.
#[test]
fn escpos_network_driver_needs_an_ip_literal() {
    let sim = PrinterSim::start(SimState::Ready).unwrap();
    let port = sim.addr().port();
    assert!(NetworkDriver::open("localhost", port, Some(WAIT)).is_err());
    assert!(NetworkDriver::open("127.0.0.1", port, Some(WAIT)).is_ok());

    let mut ours = open_printer(&config(format!("tcp://localhost:{port}"), 1000, 500)).unwrap();
    assert_eq!(ours.status().unwrap().state(), PrinterState::Ready);
}

/// escpos's file driver writes with no timeout: a device that stops taking
/// data blocks the writer for as long as it likes. Our file transport runs it on a worker thread and gives up at
/// the write timeout (`printer_config.rs`, `a_blocked_device_times_out`).
#[test]
fn escpos_file_driver_write_blocks_without_a_timeout() {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("gw-escpos-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("lp0");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());

    // A FIFO nobody reads stands for the device: it takes 64 KiB, then blocks.
    let driver = FileDriver::open(&fifo).unwrap();
    let job = vec![b'x'; 256 * 1024];
    let (done_tx, done) = mpsc::channel();
    let writer = thread::spawn(move || done_tx.send(driver.write(&job).is_ok()));
    assert_eq!(
        done.recv_timeout(Duration::from_secs(1)),
        Err(mpsc::RecvTimeoutError::Timeout),
        "the write is still blocked"
    );

    // The device comes back: the write ends.
    let mut all = vec![0u8; 256 * 1024];
    std::fs::File::open(&fifo)
        .unwrap()
        .read_exact(&mut all)
        .unwrap();
    assert_eq!(done.recv_timeout(WAIT), Ok(true));
    writer.join().unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
