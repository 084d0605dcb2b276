//! Typed errors of the printer driver.

use std::io;

use super::status::{PrinterState, StatusError};

/// Everything that can go wrong between a ticket layout and paper.
#[derive(Debug, thiserror::Error)]
pub enum PrinterError {
    /// The `uri` of the printer configuration cannot be understood.
    #[error("printer uri {uri:?}: {reason}")]
    InvalidUri {
        /// The URI as configured.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A configuration value other than the URI is unusable (e.g. a zero timeout).
    #[error("printer config: {0}")]
    InvalidConfig(String),
    /// The ticket layout cannot be printed as given; nothing was sent.
    #[error("ticket layout: {0}")]
    InvalidLayout(#[from] LayoutError),
    /// The printer answered its status but is not able to print; nothing was sent.
    #[error("printer not ready: {state}")]
    NotReady {
        /// Why the printer cannot print (never `Ready` or `PaperNearEnd`).
        state: PrinterState,
    },
    /// The transport cannot report status (write-only device such as
    /// `/dev/usb/lp0`, or the `stdout` demo transport).
    #[error("printer status unavailable on a write-only transport")]
    StatusUnavailable,
    /// The printer answered a status request with a byte that is not an
    /// ESC/POS status byte (wrong device, line noise, wrong baud rate).
    #[error("printer status: {0}")]
    Status(#[from] StatusError),
    /// An I/O operation on the printer failed or timed out. The connection
    /// is dropped and re-opened on the next job.
    #[error("printer {target}: {op}: {source}")]
    Io {
        /// What was being done (`connect`, `write`, `read status`, ...).
        op: &'static str,
        /// The device or address, for the log.
        target: String,
        /// The underlying error (`TimedOut` for an elapsed timeout).
        #[source]
        source: io::Error,
    },
}

/// Why a [`TicketLayout`](super::TicketLayout) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// The ticket number is empty or blank.
    #[error("ticket number is empty")]
    EmptyNumber,
    /// A field holds something that looks like a resident ID number
    /// (15 or more consecutive digits); tickets never carry personal data.
    #[error("field {field} looks like an ID number; tickets must not carry personal data")]
    PersonalData {
        /// The field's name.
        field: &'static str,
    },
    /// The QR payload is empty, too long for a QR code at error correction
    /// level M, or contains control characters.
    #[error("qr payload: {0}")]
    QrPayload(String),
}
