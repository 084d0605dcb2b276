//! What the kiosk did with one resident, typed to the edge: the screen and
//! the voice word it in one place ([`super::words`]).

use greenwave_drivers::card::ReadFailure;
use greenwave_drivers::printer::{PrinterError, PrinterState};

use super::PriorityReason;
use crate::queue::Ticket;

/// What the kiosk did with one resident.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A ticket was issued (or the resident's open one found again) and
    /// printing was tried.
    Ticket {
        /// The ticket as stored.
        ticket: Box<Ticket>,
        /// The resident already had this ticket open: no new number.
        reprint: bool,
        /// People ahead.
        ahead: usize,
        /// Why priority, if priority.
        reason: Option<PriorityReason>,
        /// Whether it printed; if not, why (the ticket is then on the
        /// reprint list).
        print: Result<(), PrintProblem>,
    },
    /// More than one service and none chosen: the screen asks.
    ChooseService,
    /// A priority card that is not bound to anyone: nothing issued.
    CardNotBound,
    /// The service gives out no new ticket now (its hours, a limit):
    /// nothing issued, nothing printed; the screen says when to come back.
    NotNow {
        /// The service asked for (its code).
        service: String,
        /// Why, and when tickets are given out again.
        refusal: crate::schedule::Refusal,
        /// The hall's local date, for "tomorrow".
        today: chrono::NaiveDate,
    },
    /// A card was on the reader but could not be read: nothing issued.
    ReadFailed(ReadFailure),
    /// The hall could not issue a ticket (its store failed): nothing issued.
    Unavailable,
    /// A kiosk machine's hall server did not answer: nothing issued,
    /// nothing printed; the kiosk stays paused until the server answers.
    Paused,
}

/// Why a ticket was not printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrintProblem {
    /// The printer has no paper.
    PaperOut,
    /// The printer's cover is open.
    CoverOpen,
    /// The printer is offline, unplugged or does not answer.
    Offline,
    /// No printer is configured on this kiosk.
    NotConfigured,
    /// The printer refused the ticket as laid out (nothing was sent).
    Refused,
    /// Any other printer failure.
    Fault,
}

impl PrintProblem {
    /// The problem a printer error means.
    pub fn of(e: &PrinterError) -> PrintProblem {
        match e {
            PrinterError::NotReady { state } => match state {
                PrinterState::PaperOut => PrintProblem::PaperOut,
                PrinterState::CoverOpen => PrintProblem::CoverOpen,
                PrinterState::Offline => PrintProblem::Offline,
                // Never "not ready" while it can print; treat as a fault.
                PrinterState::Ready | PrinterState::PaperNearEnd => PrintProblem::Fault,
            },
            PrinterError::Io { .. } | PrinterError::StatusUnavailable => PrintProblem::Offline,
            PrinterError::InvalidLayout(_) => PrintProblem::Refused,
            PrinterError::InvalidUri { .. }
            | PrinterError::InvalidConfig(_)
            | PrinterError::Status(_) => PrintProblem::Fault,
        }
    }

    /// The problem of a name kept with a print record.
    pub fn parse(s: &str) -> Option<PrintProblem> {
        [
            PrintProblem::PaperOut,
            PrintProblem::CoverOpen,
            PrintProblem::Offline,
            PrintProblem::NotConfigured,
            PrintProblem::Refused,
            PrintProblem::Fault,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// The name kept with the print record (the reprint list, the log).
    pub fn as_str(self) -> &'static str {
        match self {
            PrintProblem::PaperOut => "paper_out",
            PrintProblem::CoverOpen => "cover_open",
            PrintProblem::Offline => "offline",
            PrintProblem::NotConfigured => "not_configured",
            PrintProblem::Refused => "refused",
            PrintProblem::Fault => "fault",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn printer_errors_become_typed_problems() {
        let not_ready = |state| PrinterError::NotReady { state };
        assert_eq!(
            PrintProblem::of(&not_ready(PrinterState::PaperOut)),
            PrintProblem::PaperOut
        );
        assert_eq!(
            PrintProblem::of(&not_ready(PrinterState::CoverOpen)),
            PrintProblem::CoverOpen
        );
        assert_eq!(
            PrintProblem::of(&not_ready(PrinterState::Offline)),
            PrintProblem::Offline
        );
        let io = PrinterError::Io {
            op: "connect",
            target: "127.0.0.1:9100".into(),
            source: io::Error::from(io::ErrorKind::ConnectionRefused),
        };
        assert_eq!(PrintProblem::of(&io), PrintProblem::Offline);
        assert_eq!(
            PrintProblem::of(&PrinterError::InvalidLayout(
                greenwave_drivers::printer::LayoutError::EmptyNumber
            )),
            PrintProblem::Refused
        );
    }
}
