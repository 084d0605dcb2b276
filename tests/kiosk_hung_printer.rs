//! A printer that accepts the connection and never answers holds up the
//! resident at the kiosk, and nobody else: while the kiosk waits on it,
//! the staff's reprint list, a manual identification and a reload each
//! answer within 100 ms. (Before the kiosk owned its printer, all three
//! waited on the lock the kiosk held through the print.)

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{http, TestHall, BIN, MANAGER};
use greenwave_drivers::idcard::sim::fake;
use serde_json::json;

/// The printer waits this long for a status answer before giving up: the
/// window in which everything else must go on.
const STATUS_WAIT_MS: u64 = 4_000;
const LIMIT: Duration = Duration::from_millis(100);

/// A "printer" on 127.0.0.1 that takes connections, reads what it is sent
/// and never answers. Reports the instant the first bytes arrive.
fn hung_printer() -> (String, mpsc::Receiver<Instant>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut b = [0u8; 16];
            if conn.read(&mut b).is_ok_and(|n| n > 0) {
                let _ = tx.send(Instant::now());
            }
            held.push(conn);
        }
    });
    (format!("tcp://{addr}"), rx)
}

fn cli(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_hung_printer_delays_no_staff_request_and_no_reload() {
    let (uri, printing) = hung_printer();
    let hall = TestHall::new(&format!(
        r#"[roster]
public_key = "keys/roster-public.key"
hash_key = "keys/roster-hash.key"
[devices.printer]
uri = "{uri}"
timeouts = {{ connect_ms = 1000, status_ms = {STATUS_WAIT_MS}, write_ms = 1000 }}
[kiosk]
default_service = "civil"
"#
    ));
    let p = hall.dir.path();
    let listed = fake::resident(61);
    std::fs::write(
        p.join("export.csv"),
        format!(
            "姓名,身份证号码,救助类别,有效期至\n甲,{},低保,2099-12-31\n",
            listed.id_number.expose()
        ),
    )
    .unwrap();
    cli(p, &["roster", "keygen", "--out", "keys"]);
    let prepare = [
        "roster",
        "prepare",
        "export.csv",
        "--keys",
        "keys",
        "--version",
        "1",
        "--out",
        "r1.gwr",
    ];
    cli(p, &prepare);
    cli(
        p,
        &["--config", "greenwave.toml", "roster", "import", "r1.gwr"],
    );
    let mut d = hall.start();

    // A resident without an ID card takes a ticket: the kiosk prints, and
    // the printer never answers its status request.
    d.key("0");
    let hung_since = printing
        .recv_timeout(Duration::from_secs(20))
        .expect("the kiosk never reached the printer");

    let t = Instant::now();
    let (st, list) = d.get("/api/reprints", MANAGER);
    let reprint_list = t.elapsed();
    assert_eq!(st, 200, "{list}");

    let t = Instant::now();
    let (st, body) = http(
        "POST",
        &format!("{}/api/tickets/priority", d.base),
        Some(MANAGER),
        Some(json!({ "id_number": listed.id_number.expose(), "service": "civil" })),
    );
    let manual = t.elapsed();
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["ticket"]["lane"], "priority", "{body}");

    let t = Instant::now();
    let answer = d.reload();
    let reload = t.elapsed();
    assert!(answer.contains("配置已重新加载"), "{answer}");

    // All of it happened while the kiosk was still waiting on the printer.
    assert!(
        hung_since.elapsed() < Duration::from_millis(STATUS_WAIT_MS),
        "the printer's wait ended before the measurements did"
    );
    for (what, took) in [
        ("the reprint list", reprint_list),
        ("a manual identification", manual),
        ("a reload", reload),
    ] {
        assert!(took < LIMIT, "{what} took {took:?} behind a hung printer");
    }

    // The kiosk gives up on the printer in the end: the ticket stays
    // issued and joins the reprint list.
    let reprints = || d.get("/api/reprints", MANAGER).1;
    common::eventually(
        Duration::from_secs(20),
        "the unprinted ticket never reached the reprint list",
        || reprints().as_array().is_some_and(|l| l.len() == 1),
        || format!("{}\n{}", reprints(), d.stderr()),
    );
    assert_eq!(reprints()[0]["number"], "A001");
}
