//! The printer: status before every ticket, then the ticket.

use std::io;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::encode::{encode_ticket, validate_layout};
use super::error::PrinterError;
use super::layout::{CutMode, PaperWidth, PrinterOptions, TicketLayout};
use super::status::{check_reply, status_request, PrinterState, PrinterStatus, STATUS_REQUESTS};
use super::transport::{FileTransport, SerialTransport, StdoutTransport, TcpTransport, Transport};
use super::uri::PrinterUri;

/// A ticket printer, whatever its transport. Object safe: the kiosk holds a
/// `Box<dyn TicketPrinter>`. Calls block for at most the configured timeouts.
pub trait TicketPrinter: Send {
    /// Asks the printer's real-time status. A printer that does not answer
    /// within the status timeout, or cannot be reached, is reported as
    /// [`PrinterStatus::OFFLINE`] (never a hang). Write-only transports give
    /// [`PrinterError::StatusUnavailable`].
    fn status(&mut self) -> Result<PrinterStatus, PrinterError>;

    /// Prints one ticket. The status is asked first; a printer whose state is
    /// paper out, cover open or offline gets nothing and the call returns
    /// [`PrinterError::NotReady`]. On a write-only transport the ticket is
    /// printed without status.
    fn print(&mut self, layout: &TicketLayout) -> Result<(), PrinterError>;

    /// The device, for logs and the health page (e.g. `tcp://10.0.0.5:9100`).
    fn describe(&self) -> String;
}

/// Timeouts in milliseconds; each must be at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrinterTimeouts {
    /// Opening a TCP connection (per resolved address).
    pub connect_ms: u64,
    /// Waiting for each status byte.
    pub status_ms: u64,
    /// Sending one ticket.
    pub write_ms: u64,
}

impl Default for PrinterTimeouts {
    fn default() -> Self {
        PrinterTimeouts {
            connect_ms: 2000,
            status_ms: 500,
            write_ms: 5000,
        }
    }
}

/// The printer section of the daemon's configuration (`[devices.printer]`).
///
/// ```toml
/// [devices.printer]
/// uri = "tcp://192.168.1.50:9100"
/// paper_width_mm = 80
/// cut = "partial"
/// timeouts = { connect_ms = 2000, status_ms = 500, write_ms = 5000 }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterConfig {
    /// `tcp://HOST:PORT`, `serial:///dev/ttyS1?baud=9600`, `file:///dev/usb/lp0` or `stdout`.
    pub uri: String,
    /// 58 or 80.
    #[serde(default)]
    pub paper_width_mm: PaperWidth,
    /// `partial` (default) or `full`.
    #[serde(default)]
    pub cut: CutMode,
    /// Bounded waits.
    #[serde(default)]
    pub timeouts: PrinterTimeouts,
    /// Motion units fed before the cut.
    #[serde(default = "default_feed")]
    pub feed_before_cut: u8,
    /// QR module size in dots (1..=16).
    #[serde(default = "default_qr_module")]
    pub qr_module_size: u8,
}

fn default_feed() -> u8 {
    PrinterOptions::default().feed_before_cut
}

fn default_qr_module() -> u8 {
    PrinterOptions::default().qr_module_size
}

impl PrinterConfig {
    /// A configuration with defaults for everything but the URI.
    pub fn new(uri: impl Into<String>) -> Self {
        PrinterConfig {
            uri: uri.into(),
            paper_width_mm: PaperWidth::default(),
            cut: CutMode::default(),
            timeouts: PrinterTimeouts::default(),
            feed_before_cut: default_feed(),
            qr_module_size: default_qr_module(),
        }
    }

    /// The encoder options of this configuration.
    pub fn options(&self) -> PrinterOptions {
        PrinterOptions {
            paper: self.paper_width_mm,
            cut: self.cut,
            feed_before_cut: self.feed_before_cut,
            qr_module_size: self.qr_module_size,
        }
    }

    /// Checks the URI and the values; [`open_printer`] calls this.
    pub fn validate(&self) -> Result<PrinterUri, PrinterError> {
        let t = self.timeouts;
        for (name, ms) in [
            ("connect_ms", t.connect_ms),
            ("status_ms", t.status_ms),
            ("write_ms", t.write_ms),
        ] {
            if !(1..=600_000).contains(&ms) {
                return Err(PrinterError::InvalidConfig(format!(
                    "timeouts.{name} = {ms}: expected 1 to 600000 ms"
                )));
            }
        }
        if !(1..=16).contains(&self.qr_module_size) {
            return Err(PrinterError::InvalidConfig(format!(
                "qr_module_size = {}: expected 1 to 16",
                self.qr_module_size
            )));
        }
        self.uri.parse()
    }
}

/// Builds the printer of a configuration. Nothing is opened yet: the device
/// is connected on first use and re-connected after errors, so a kiosk
/// starts even while its printer is off. Fails only on a bad configuration.
pub fn open_printer(config: &PrinterConfig) -> Result<Box<dyn TicketPrinter>, PrinterError> {
    let uri = config.validate()?;
    let t = config.timeouts;
    let ms = Duration::from_millis;
    let transport: Box<dyn Transport> = match uri {
        PrinterUri::Tcp { host, port } => Box::new(TcpTransport::new(
            &host,
            port,
            ms(t.connect_ms),
            ms(t.status_ms),
            ms(t.write_ms),
        )),
        PrinterUri::Serial { path, baud } => Box::new(SerialTransport::new(
            path,
            baud,
            ms(t.status_ms),
            ms(t.write_ms),
        )),
        PrinterUri::File { path } => Box::new(FileTransport::new(path, ms(t.write_ms))),
        PrinterUri::Stdout => Box::new(StdoutTransport::new(config.paper_width_mm)),
    };
    Ok(Box::new(EscPosPrinter::new(transport, config.options())))
}

/// The ESC/POS [`TicketPrinter`] over any [`Transport`].
pub struct EscPosPrinter {
    transport: Box<dyn Transport>,
    options: PrinterOptions,
}

/// Errors that mean "this connection is dead", as opposed to "the printer
/// is silent": worth one retry on a fresh connection.
fn connection_lost(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe | NotConnected
    )
}

enum Ask {
    Answered(PrinterStatus),
    Io(&'static str, io::Error),
}

impl EscPosPrinter {
    /// A printer over `transport` that encodes tickets with `options`.
    pub fn new(transport: Box<dyn Transport>, options: PrinterOptions) -> Self {
        EscPosPrinter { transport, options }
    }

    /// The encoder options.
    pub fn options(&self) -> &PrinterOptions {
        &self.options
    }

    fn ask(&mut self) -> Result<Ask, PrinterError> {
        if let Err(e) = self.transport.discard_input() {
            return Ok(Ask::Io("discard input", e));
        }
        let mut replies = [0u8; 3];
        for (reply, n) in replies.iter_mut().zip(STATUS_REQUESTS) {
            if let Err(e) = self.transport.send(&status_request(n)) {
                return Ok(Ask::Io("send status request", e));
            }
            match self.transport.read_byte() {
                Ok(b) => *reply = b,
                Err(e) => return Ok(Ask::Io("read status", e)),
            }
            if let Err(e) = check_reply(n, *reply) {
                // Line noise or a wrong device: drop what else it sends.
                let _ = self.transport.discard_input();
                return Err(e.into());
            }
        }
        Ok(Ask::Answered(PrinterStatus::from_bytes(
            replies[0], replies[1], replies[2],
        )?))
    }
}

impl TicketPrinter for EscPosPrinter {
    fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        if !self.transport.supports_status() {
            return Err(PrinterError::StatusUnavailable);
        }
        let reused = self.transport.is_connected();
        let mut outcome = self.ask()?;
        if let Ask::Io(op, e) = &outcome {
            if reused && connection_lost(e) {
                tracing::debug!(printer = %self.transport.describe(), op, error = %e, "stale connection, retrying once");
                self.transport.disconnect();
                outcome = self.ask()?;
            }
        }
        match outcome {
            Ask::Answered(status) => {
                tracing::trace!(printer = %self.transport.describe(), ?status, "printer status");
                Ok(status)
            }
            Ask::Io(op, e) => {
                tracing::warn!(printer = %self.transport.describe(), op, error = %e, "printer offline");
                self.transport.disconnect();
                Ok(PrinterStatus::OFFLINE)
            }
        }
    }

    fn print(&mut self, layout: &TicketLayout) -> Result<(), PrinterError> {
        validate_layout(layout)?;
        let bytes = encode_ticket(layout, &self.options);
        match self.status() {
            Ok(status) => match status.state() {
                PrinterState::Ready => {}
                PrinterState::PaperNearEnd => {
                    tracing::warn!(printer = %self.transport.describe(), "printer paper near end")
                }
                state => {
                    tracing::warn!(printer = %self.transport.describe(), %state, "ticket not printed");
                    return Err(PrinterError::NotReady { state });
                }
            },
            Err(PrinterError::StatusUnavailable) => {
                tracing::debug!(printer = %self.transport.describe(), "status unavailable, printing blind")
            }
            Err(e) => return Err(e),
        }
        if let Err(source) = self.transport.send(&bytes) {
            self.transport.disconnect();
            return Err(PrinterError::Io {
                op: "write ticket",
                target: self.transport.describe(),
                source,
            });
        }
        tracing::info!(printer = %self.transport.describe(), number = %layout.number, bytes = bytes.len(), "ticket printed");
        Ok(())
    }

    fn describe(&self) -> String {
        self.transport.describe()
    }
}
