//! The event stream's wire format, owned by the API: what a hall display
//! reads in each `data:` of `GET /api/events`. Its shape is independent of
//! the core's events (a field renamed in the core does not reach the
//! displays) and pinned message by message in `tests/wire_formats.rs`.
//! [`FORMAT`] is sent in every snapshot (`"format": 1`): a display can tell
//! which format the messages after it follow.

use chrono::NaiveDate;
use serde::Serialize;

use crate::queue::{CallReason, Event};

/// The stream format of this greenwave.
pub const FORMAT: u32 = 1;

/// One committed change as the displays see it: the event's fields, never
/// a staff note. The API adds the ticket (`DisplayTicket`) where the event
/// concerns one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum StreamEvent {
    Issued {
        at: i64,
    },
    Called {
        id: u64,
        window: u32,
        reason: StreamCallReason,
        at: i64,
    },
    Recalled {
        id: u64,
        window: u32,
        at: i64,
    },
    Started {
        id: u64,
        window: u32,
        at: i64,
    },
    Finished {
        id: u64,
        window: u32,
        at: i64,
    },
    NoShow {
        id: u64,
        window: u32,
        at: i64,
    },
    Rejoined {
        id: u64,
        at: i64,
    },
    Transferred {
        id: u64,
        from_window: u32,
        to_service: String,
        to_window: Option<u32>,
        at: i64,
    },
    Upgraded {
        id: u64,
        at: i64,
    },
    Cancelled {
        id: u64,
        at: i64,
    },
    Paused {
        window: u32,
        at: i64,
    },
    Resumed {
        window: u32,
        at: i64,
    },
    DayRolledOver {
        from: NaiveDate,
        to: NaiveDate,
        expired: Vec<u64>,
        at: i64,
    },
}

/// Why a window got its ticket, as the stream says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum StreamCallReason {
    Priority,
    Normal,
    Streak,
    Overdue,
    Manual,
}

impl From<CallReason> for StreamCallReason {
    fn from(r: CallReason) -> Self {
        match r {
            CallReason::Priority => StreamCallReason::Priority,
            CallReason::Normal => StreamCallReason::Normal,
            CallReason::Streak => StreamCallReason::Streak,
            CallReason::Overdue => StreamCallReason::Overdue,
            CallReason::Manual => StreamCallReason::Manual,
        }
    }
}

impl From<&Event> for StreamEvent {
    fn from(e: &Event) -> StreamEvent {
        use StreamEvent as S;
        match e {
            Event::Issued { ticket } => S::Issued {
                at: ticket.issued_at.0,
            },
            Event::Called {
                id,
                window,
                reason,
                at,
            } => S::Called {
                id: id.0,
                window: *window,
                reason: (*reason).into(),
                at: at.0,
            },
            Event::Recalled { id, window, at } => S::Recalled {
                id: id.0,
                window: *window,
                at: at.0,
            },
            Event::Started { id, window, at } => S::Started {
                id: id.0,
                window: *window,
                at: at.0,
            },
            Event::Finished { id, window, at } => S::Finished {
                id: id.0,
                window: *window,
                at: at.0,
            },
            Event::NoShow { id, window, at } => S::NoShow {
                id: id.0,
                window: *window,
                at: at.0,
            },
            Event::Rejoined { id, at } => S::Rejoined { id: id.0, at: at.0 },
            // Staff's free text may name a person: never on a display.
            Event::Transferred {
                id,
                from_window,
                to_service,
                to_window,
                note: _,
                at,
            } => S::Transferred {
                id: id.0,
                from_window: *from_window,
                to_service: to_service.clone(),
                to_window: *to_window,
                at: at.0,
            },
            Event::Upgraded { id, at } => S::Upgraded { id: id.0, at: at.0 },
            Event::Cancelled { id, at, .. } => S::Cancelled { id: id.0, at: at.0 },
            Event::Paused { window, at } => S::Paused {
                window: *window,
                at: at.0,
            },
            Event::Resumed { window, at } => S::Resumed {
                window: *window,
                at: at.0,
            },
            Event::DayRolledOver {
                from,
                to,
                expired,
                at,
            } => S::DayRolledOver {
                from: *from,
                to: *to,
                expired: expired.iter().map(|t| t.0).collect(),
                at: at.0,
            },
        }
    }
}
