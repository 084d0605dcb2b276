//! The driver against the TCP printer simulator: what the printer received,
//! as a person would read it; refusals; bounded waits; reconnection.

mod printer_support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use greenwave_drivers::printer::sim::{PrinterSim, SimState};
use greenwave_drivers::printer::{
    open_printer, PrinterConfig, PrinterError, PrinterState, PrinterStatus, PrinterTimeouts,
    TicketLayout, TicketPrinter,
};
use printer_support::{decode, has_id_number};

/// The kiosk's banner for priority tickets (the driver prints whatever
/// banner it is given).
const PRIORITY_BANNER: &str = "优先服务 · 绿波通道";

const WAIT: Duration = Duration::from_secs(5);

fn ticket(number: &str, priority: bool) -> TicketLayout {
    TicketLayout {
        hall_name: "朝阳区政务服务中心".into(),
        banner: priority.then(|| PRIORITY_BANNER.into()),
        number: number.into(),
        service_name: "低保救助申请".into(),
        ahead: "前面还有 3 人".into(),
        issued_at: "2026-11-23 09:41".into(),
        qr_payload: Some(format!("https://gw.example.cn/q/{number}")),
        notices: vec!["咨询热线 12345".into()],
        ..TicketLayout::default()
    }
}

fn printer(uri: &str, status_ms: u64) -> Box<dyn TicketPrinter> {
    let mut config = PrinterConfig::new(uri);
    config.timeouts = PrinterTimeouts {
        connect_ms: 1000,
        status_ms,
        write_ms: 2000,
    };
    open_printer(&config).unwrap()
}

#[test]
fn prints_a_ticket_the_simulator_receives() {
    let sim = PrinterSim::start(SimState::Ready).unwrap();
    let mut p = printer(&sim.uri(), 500);
    assert_eq!(p.describe(), sim.uri());
    assert_eq!(p.status().unwrap().state(), PrinterState::Ready);
    p.print(&ticket("GA012", true)).unwrap();

    let jobs = sim.wait_for_jobs(1, WAIT);
    assert_eq!(jobs.len(), 1);
    let paper = decode(&jobs[0]).unwrap();
    assert!(paper.line(PRIORITY_BANNER).is_some());
    let number = paper.line("GA012").unwrap();
    assert_eq!((number.width, number.height), (4, 4));
    assert!(paper.line("前面还有 3 人").is_some());
    assert_eq!(paper.qr_codes[0].payload, "https://gw.example.cn/q/GA012");
    assert!(!has_id_number(&paper.everything()));
    // Status asked twice (explicitly, then before the ticket), 3 bytes each.
    assert_eq!(sim.status_requests(), 6);

    p.print(&ticket("A031", false)).unwrap();
    let jobs = sim.wait_for_jobs(2, WAIT);
    let second = decode(&jobs[1]).unwrap();
    assert!(second.line("A031").is_some());
    assert!(second.line(PRIORITY_BANNER).is_none());
}

#[test]
fn paper_out_is_refused_with_nothing_printed_until_paper_is_loaded() {
    let sim = PrinterSim::start(SimState::PaperOut).unwrap();
    let mut p = printer(&sim.uri(), 500);
    let status = p.status().unwrap();
    assert!(status.paper_out);
    assert_eq!(status.state(), PrinterState::PaperOut);
    match p.print(&ticket("A001", false)) {
        Err(PrinterError::NotReady {
            state: PrinterState::PaperOut,
        }) => {}
        other => panic!("expected paper out, got {other:?}"),
    }

    sim.set_state(SimState::Ready);
    p.print(&ticket("A002", false)).unwrap();
    // The connection is ordered: had anything of A001 been sent, it would
    // be in this first job.
    let jobs = sim.wait_for_jobs(1, WAIT);
    assert_eq!(jobs.len(), 1);
    let paper = decode(&jobs[0]).unwrap();
    assert!(paper.line("A002").is_some());
    assert!(!paper.everything().contains("A001"));
    let control = sim.control();
    drop(sim);
    assert_eq!(control.jobs().len(), 1);
    assert!(control.incomplete_jobs().is_empty());
}

#[test]
fn cover_open_offline_and_near_end() {
    let sim = PrinterSim::start(SimState::CoverOpen).unwrap();
    let mut p = printer(&sim.uri(), 500);
    assert!(matches!(
        p.print(&ticket("A001", false)),
        Err(PrinterError::NotReady {
            state: PrinterState::CoverOpen
        })
    ));
    sim.set_state(SimState::Offline);
    assert!(matches!(
        p.print(&ticket("A001", false)),
        Err(PrinterError::NotReady {
            state: PrinterState::Offline
        })
    ));
    sim.set_state(SimState::PaperNearEnd);
    assert_eq!(p.status().unwrap().state(), PrinterState::PaperNearEnd);
    p.print(&ticket("A003", false)).unwrap();
    let jobs = sim.wait_for_jobs(1, WAIT);
    assert_eq!(jobs.len(), 1);
    assert!(decode(&jobs[0]).unwrap().line("A003").is_some());
}

#[test]
fn a_silent_printer_is_offline_within_the_timeout() {
    let sim = PrinterSim::start(SimState::Silent).unwrap();
    let mut p = printer(&sim.uri(), 300);
    let started = Instant::now();
    assert_eq!(p.status().unwrap(), PrinterStatus::OFFLINE);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(2), "status took {took:?}");

    let started = Instant::now();
    assert!(matches!(
        p.print(&ticket("A001", false)),
        Err(PrinterError::NotReady {
            state: PrinterState::Offline
        })
    ));
    assert!(started.elapsed() < Duration::from_secs(2));

    // It wakes up: the next job goes through.
    sim.set_state(SimState::Ready);
    p.print(&ticket("A002", false)).unwrap();
    let jobs = sim.wait_for_jobs(1, WAIT);
    assert_eq!(jobs.len(), 1);
    assert!(decode(&jobs[0]).unwrap().line("A002").is_some());
    let control = sim.control();
    drop(sim);
    assert_eq!(control.jobs().len(), 1, "nothing of A001 was sent");
    assert!(control.incomplete_jobs().is_empty());
}

#[test]
fn a_restarted_printer_gets_the_next_job() {
    let sim = PrinterSim::start(SimState::Ready).unwrap();
    let uri = sim.uri();
    let port = sim.addr().port();
    let mut p = printer(&uri, 500);
    p.print(&ticket("A001", false)).unwrap();
    assert_eq!(sim.wait_for_jobs(1, WAIT).len(), 1);
    drop(sim); // the kiosk's connection is now dead

    let sim = PrinterSim::start_on(port, SimState::Ready).unwrap();
    p.print(&ticket("A002", false)).unwrap();
    let jobs = sim.wait_for_jobs(1, WAIT);
    assert_eq!(jobs.len(), 1);
    assert!(decode(&jobs[0]).unwrap().line("A002").is_some());
}

#[test]
fn a_switched_off_printer_is_offline_then_comes_back() {
    let sim = PrinterSim::start(SimState::Ready).unwrap();
    let port = sim.addr().port();
    let mut p = printer(&sim.uri(), 500);
    p.print(&ticket("A001", false)).unwrap();
    drop(sim);

    let started = Instant::now();
    assert!(matches!(
        p.print(&ticket("A002", false)),
        Err(PrinterError::NotReady {
            state: PrinterState::Offline
        })
    ));
    assert!(started.elapsed() < Duration::from_secs(3));

    let sim = PrinterSim::start_on(port, SimState::Ready).unwrap();
    p.print(&ticket("A003", false)).unwrap();
    let jobs = sim.wait_for_jobs(1, WAIT);
    assert_eq!(jobs.len(), 1);
    assert!(decode(&jobs[0]).unwrap().line("A003").is_some());
}

#[test]
fn nobody_listening_is_offline_not_a_hang() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut p = printer(&format!("tcp://127.0.0.1:{port}"), 300);
    let started = Instant::now();
    assert_eq!(p.status().unwrap().state(), PrinterState::Offline);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_device_answering_garbage_is_a_status_error() {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let device = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut request = [0u8; 3];
        s.read_exact(&mut request).unwrap();
        s.write_all(&[0xFF]).unwrap();
        request
    });
    let mut p = printer(&format!("tcp://127.0.0.1:{port}"), 500);
    match p.print(&ticket("A001", false)) {
        Err(PrinterError::Status(e)) => assert_eq!((e.request, e.reply), (1, 0xFF)),
        other => panic!("expected a status error, got {other:?}"),
    }
    assert_eq!(
        device.join().unwrap(),
        [0x10, 0x04, 0x01],
        "DLE EOT is sent raw"
    );
}
