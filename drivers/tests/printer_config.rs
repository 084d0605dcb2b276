//! Printer URIs, the TOML configuration, and the write-only transports.

mod printer_support;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use greenwave_drivers::printer::{
    encode_ticket, open_printer, CutMode, EscPosPrinter, PaperWidth, PrinterConfig, PrinterError,
    PrinterUri, StdoutTransport, TicketLayout, TicketPrinter,
};
use printer_support::decode;

/// The kiosk's banner for priority tickets (the driver prints whatever
/// banner it is given).
const PRIORITY_BANNER: &str = "优先服务 · 绿波通道";

fn ticket() -> TicketLayout {
    TicketLayout {
        hall_name: "西湖区市民之家".into(),
        banner: Some(PRIORITY_BANNER.into()),
        number: "GB007".into(),
        service_name: "医保报销".into(),
        ahead: "前面还有 3 人".into(),
        issued_at: "2026-11-23 10:05".into(),
        qr_payload: None,
        ..TicketLayout::default()
    }
}

#[test]
fn uris_parse() {
    let cases = [
        (
            "tcp://192.168.1.50:9100",
            PrinterUri::Tcp {
                host: "192.168.1.50".into(),
                port: 9100,
            },
        ),
        (
            "tcp://printer.hall.local",
            PrinterUri::Tcp {
                host: "printer.hall.local".into(),
                port: 9100,
            },
        ),
        (
            "tcp://[fe80::1]:9101",
            PrinterUri::Tcp {
                host: "fe80::1".into(),
                port: 9101,
            },
        ),
        (
            "serial:///dev/ttyS1?baud=9600",
            PrinterUri::Serial {
                path: "/dev/ttyS1".into(),
                baud: 9600,
            },
        ),
        (
            "serial:///dev/ttyUSB0",
            PrinterUri::Serial {
                path: "/dev/ttyUSB0".into(),
                baud: 9600,
            },
        ),
        (
            "file:///dev/usb/lp0",
            PrinterUri::File {
                path: "/dev/usb/lp0".into(),
            },
        ),
        ("stdout", PrinterUri::Stdout),
    ];
    for (text, expected) in cases {
        let parsed: PrinterUri = text.parse().unwrap();
        assert_eq!(parsed, expected, "{text}");
        assert_eq!(parsed.to_string().parse::<PrinterUri>().unwrap(), expected);
    }
}

#[test]
fn bad_uris_say_what_is_wrong() {
    for (text, needle) in [
        ("xyz", "expected tcp://HOST:PORT"),
        ("tcp://:9100", "missing host"),
        ("tcp://host:99999", "port \"99999\""),
        ("tcp://host:0", "port \"0\""),
        ("tcp://fe80::1:9100", "brackets"),
        ("serial://dev/ttyS1", "absolute"),
        ("serial:///dev/ttyS1?baud=fast", "baud \"fast\""),
        ("serial:///dev/ttyS1?parity=even", "unknown parameter"),
        ("usb://04b8:0202", "unknown scheme \"usb\""),
    ] {
        let err = text.parse::<PrinterUri>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("printer uri {text:?}: ")), "{msg}");
        assert!(msg.contains(needle), "{msg} lacks {needle}");
        assert!(matches!(err, PrinterError::InvalidUri { .. }));
        assert!(open_printer(&PrinterConfig::new(text)).is_err());
    }
}

#[derive(serde::Deserialize)]
struct Devices {
    devices: DeviceSection,
}

#[derive(serde::Deserialize)]
struct DeviceSection {
    printer: PrinterConfig,
}

#[test]
fn config_reads_from_toml() {
    let full: Devices = toml::from_str(
        r#"
        [devices.printer]
        uri = "serial:///dev/ttyS1?baud=19200"
        paper_width_mm = 58
        cut = "full"
        timeouts = { status_ms = 250 }
        "#,
    )
    .unwrap();
    let c = full.devices.printer;
    assert_eq!(c.paper_width_mm, PaperWidth::Mm58);
    assert_eq!(c.cut, CutMode::Full);
    assert_eq!(c.timeouts.status_ms, 250);
    assert_eq!(c.timeouts.connect_ms, 2000, "unset timeouts keep defaults");
    assert!(c.validate().is_ok());

    let minimal: Devices = toml::from_str("[devices.printer]\nuri = \"stdout\"\n").unwrap();
    assert_eq!(minimal.devices.printer, PrinterConfig::new("stdout"));
    assert_eq!(minimal.devices.printer.paper_width_mm.columns(), 48);

    for bad in [
        "uri = \"stdout\"\npaper_width_mm = 76",
        "uri = \"stdout\"\ncut = \"half\"",
        "uri = \"stdout\"\ncolour = true",
    ] {
        assert!(toml::from_str::<PrinterConfig>(bad).is_err(), "{bad}");
    }
    let mut zero = PrinterConfig::new("stdout");
    zero.timeouts.status_ms = 0;
    assert!(matches!(
        open_printer(&zero),
        Err(PrinterError::InvalidConfig(_))
    ));
}

fn scratch(name: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("gw-printer-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn a_write_only_device_prints_without_status() {
    let path = scratch("lp0");
    std::fs::write(&path, b"").unwrap();
    let mut config = PrinterConfig::new(format!("file://{}", path.display()));
    config.paper_width_mm = PaperWidth::Mm58;
    let mut p = open_printer(&config).unwrap();
    assert!(matches!(p.status(), Err(PrinterError::StatusUnavailable)));
    p.print(&ticket()).unwrap();
    p.print(&ticket()).unwrap();
    let written = std::fs::read(&path).unwrap();
    let one = encode_ticket(&ticket(), &config.options());
    assert_eq!(written, [one.clone(), one.clone()].concat());
    assert!(decode(&one).unwrap().line("GB007").is_some());

    std::fs::remove_file(&path).unwrap();
    let mut gone = open_printer(&PrinterConfig::new(format!("file://{}", path.display()))).unwrap();
    assert!(matches!(
        gone.print(&ticket()),
        Err(PrinterError::Io { .. })
    ));
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn a_blocked_device_times_out() {
    // Opening a FIFO for writing blocks until a reader comes: like a
    // printer device that never accepts data.
    let path = scratch("fifo");
    let ok = Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo failed");
    let mut config = PrinterConfig::new(format!("file://{}", path.display()));
    config.timeouts.write_ms = 300;
    let mut p = open_printer(&config).unwrap();
    let started = Instant::now();
    match p.print(&ticket()) {
        Err(PrinterError::Io { source, .. }) => assert_eq!(source.kind(), io::ErrorKind::TimedOut),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    // Unblock the abandoned writer thread.
    let _reader = std::fs::File::open(&path);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_stdout_transport_shows_a_readable_ticket() {
    let out = Shared::default();
    let transport = StdoutTransport::with_writer(PaperWidth::Mm58, Box::new(out.clone()));
    let options = PrinterConfig {
        paper_width_mm: PaperWidth::Mm58,
        ..PrinterConfig::new("stdout")
    }
    .options();
    let mut p = EscPosPrinter::new(Box::new(transport), options);
    assert_eq!(p.describe(), "stdout");
    p.print(&ticket()).unwrap();
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("优先服务 · 绿波通道"), "{text}");
    assert!(text.contains("GB007"));
    assert!(text.contains("前面还有 3 人"));
    assert!(text.contains("partial cut"));
    assert!(text.lines().all(|l| !l.contains('\u{1b}')));
}
