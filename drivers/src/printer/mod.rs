//! ESC/POS ticket printer driver.
//!
//! The kiosk fills in a [`TicketLayout`] (plain data, no queue logic, no
//! personal data); [`encode_ticket`] turns it into ESC/POS bytes for a
//! GB18030 Chinese printer with the `escpos` crate; a [`TicketPrinter`]
//! built by [`open_printer`] from a [`PrinterConfig`] asks the printer's
//! real-time status (`DLE EOT`, the answers parsed by `escpos`) before
//! every ticket and refuses to print when the paper is out, the cover is
//! open or the printer is offline.
//!
//! Transports are chosen by URI: `tcp://HOST:PORT`, `serial:///dev/ttyS1?baud=9600`,
//! `file:///dev/usb/lp0` (write-only, status unavailable) and `stdout` (a text
//! rendering for demos); the file transport writes through escpos's file
//! driver, TCP and serial are our own (escpos's cannot keep the status
//! timeout). [`sim::PrinterSim`] is a network printer simulator for tests
//! and demos.

mod driver;
mod encode;
mod error;
mod layout;
mod render;
pub mod sim;
mod status;
mod text;
mod transport;
mod uri;

pub use driver::{open_printer, EscPosPrinter, PrinterConfig, PrinterTimeouts, TicketPrinter};
pub use encode::{encode_ticket, validate_layout, QR_MAX_PAYLOAD};
pub use error::{LayoutError, PrinterError};
pub use layout::{CutMode, PaperWidth, PrinterOptions, TicketLayout};
pub use render::render_text;
pub use status::{status_request, PrinterState, PrinterStatus, StatusError, STATUS_REQUESTS};
pub use text::{display_width, wrap};
pub use transport::{FileTransport, SerialTransport, StdoutTransport, TcpTransport, Transport};
pub use uri::PrinterUri;
