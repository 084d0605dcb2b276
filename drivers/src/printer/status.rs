//! Real-time status: `DLE EOT n` and its one-byte answers.
//!
//! The answers are parsed by the `escpos` crate
//! (`RealTimeStatusResponse::parse`); the request is sent raw, because
//! escpos's `real_time_status` appends a `00` after `DLE EOT n` for
//! n = 1 to 4, which the printer then takes as the first byte of the next
//! job (`drivers/tests/printer_escpos.rs`).

use std::collections::HashMap;
use std::fmt;

use escpos::utils::{RealTimeStatusRequest, RealTimeStatusResponse};
use serde::Serialize;

/// The three status requests asked before every ticket: printer (1),
/// offline cause (2) and roll paper sensor (4).
pub const STATUS_REQUESTS: [u8; 3] = [1, 2, 4];

/// The raw `DLE EOT n` request: exactly three bytes (no trailing `00`).
pub fn status_request(n: u8) -> [u8; 3] {
    [0x10, 0x04, n]
}

/// escpos's name for the request `DLE EOT n`.
fn request_kind(n: u8) -> Option<RealTimeStatusRequest> {
    match n {
        1 => Some(RealTimeStatusRequest::Printer),
        2 => Some(RealTimeStatusRequest::OfflineCause),
        3 => Some(RealTimeStatusRequest::ErrorCause),
        4 => Some(RealTimeStatusRequest::RollPaperSensor),
        _ => None,
    }
}

/// escpos's reading of one answer to `DLE EOT request`. A byte without the
/// fixed bits of a status byte (bits 0 and 7 clear, bits 1 and 4 set) is
/// refused.
fn parse(request: u8, reply: u8) -> Result<HashMap<RealTimeStatusResponse, bool>, StatusError> {
    request_kind(request)
        .and_then(|kind| RealTimeStatusResponse::parse(kind, reply).ok())
        .ok_or(StatusError { request, reply })
}

/// Checks the fixed bits of one answer to `DLE EOT request`.
pub(crate) fn check_reply(request: u8, reply: u8) -> Result<u8, StatusError> {
    parse(request, reply).map(|_| reply)
}

/// An answer that is not an ESC/POS status byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("DLE EOT {request} answered {reply:#04x}, which is not a status byte")]
pub struct StatusError {
    /// The `n` of the `DLE EOT n` request.
    pub request: u8,
    /// The byte received.
    pub reply: u8,
}

/// What the printer said about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct PrinterStatus {
    /// The printer is online (n=1 bit 3 clear) and answered at all.
    pub online: bool,
    /// The cover is open (n=2 bit 2).
    pub cover_open: bool,
    /// The roll is nearly used up (n=4 bits 2–3): still prints.
    pub paper_near_end: bool,
    /// No paper (n=2 bit 5, or n=4 bits 5–6).
    pub paper_out: bool,
}

impl PrinterStatus {
    /// The status of a printer that did not answer, or cannot be reached.
    pub const OFFLINE: PrinterStatus = PrinterStatus {
        online: false,
        cover_open: false,
        paper_near_end: false,
        paper_out: false,
    };

    /// Parses the answers to `DLE EOT 1`, `DLE EOT 2` and `DLE EOT 4`.
    /// `0x12` to all three is a ready printer. A flag escpos did not
    /// report counts against printing.
    pub fn from_bytes(printer: u8, offline_cause: u8, paper: u8) -> Result<Self, StatusError> {
        use RealTimeStatusResponse as R;
        let printer = parse(1, printer)?;
        let offline_cause = parse(2, offline_cause)?;
        let paper = parse(4, paper)?;
        let is = |answers: &HashMap<R, bool>, flag: R| answers.get(&flag) == Some(&true);
        Ok(PrinterStatus {
            online: is(&printer, R::Online),
            cover_open: !is(&offline_cause, R::CoverClosed),
            paper_near_end: !is(&paper, R::RollPaperNearEndSensorPaperAdequate),
            paper_out: is(&offline_cause, R::PrintingStopsDueToPaperEnd)
                || !is(&paper, R::RollPaperEndSensorPaperPresent),
        })
    }

    /// The one state that matters most: cover open, then paper out, then
    /// offline, then paper near end, else ready.
    pub fn state(&self) -> PrinterState {
        if self.cover_open {
            PrinterState::CoverOpen
        } else if self.paper_out {
            PrinterState::PaperOut
        } else if !self.online {
            PrinterState::Offline
        } else if self.paper_near_end {
            PrinterState::PaperNearEnd
        } else {
            PrinterState::Ready
        }
    }
}

/// A printer's condition, as the kiosk and the health page see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterState {
    /// Prints.
    Ready,
    /// Prints, but the roll must be changed soon.
    PaperNearEnd,
    /// Does not print: no paper.
    PaperOut,
    /// Does not print: the cover is open.
    CoverOpen,
    /// Does not print: offline, unreachable or not answering.
    Offline,
}

impl PrinterState {
    /// True when a ticket can be printed.
    pub fn can_print(self) -> bool {
        matches!(self, PrinterState::Ready | PrinterState::PaperNearEnd)
    }
}

impl fmt::Display for PrinterState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PrinterState::Ready => "ready",
            PrinterState::PaperNearEnd => "paper near end",
            PrinterState::PaperOut => "paper out",
            PrinterState::CoverOpen => "cover open",
            PrinterState::Offline => "offline",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_well() {
        let s = PrinterStatus::from_bytes(0x12, 0x12, 0x12).unwrap();
        assert_eq!(s.state(), PrinterState::Ready);
        assert!(s.online);
    }

    #[test]
    fn paper_out_answers() {
        let s = PrinterStatus::from_bytes(0x1A, 0x32, 0x7E).unwrap();
        assert_eq!(
            s,
            PrinterStatus {
                online: false,
                cover_open: false,
                paper_near_end: true,
                paper_out: true
            }
        );
        assert_eq!(s.state(), PrinterState::PaperOut);
    }

    #[test]
    fn near_end_cover_offline() {
        assert_eq!(
            PrinterStatus::from_bytes(0x12, 0x12, 0x1E).unwrap().state(),
            PrinterState::PaperNearEnd
        );
        assert_eq!(
            PrinterStatus::from_bytes(0x1A, 0x16, 0x12).unwrap().state(),
            PrinterState::CoverOpen
        );
        assert_eq!(
            PrinterStatus::from_bytes(0x1A, 0x12, 0x12).unwrap().state(),
            PrinterState::Offline
        );
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(
            PrinterStatus::from_bytes(0x12, 0x00, 0x12),
            Err(StatusError {
                request: 2,
                reply: 0
            })
        );
        assert!(PrinterStatus::from_bytes(0xFF, 0x12, 0x12).is_err());
    }
}
