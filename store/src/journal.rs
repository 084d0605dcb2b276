//! The journal's format on disk, owned by the store.
//!
//! The core's [`Event`] is free to change its shape; what is written to the
//! `events` table is a [`JournalEvent`] of a numbered format, kept in each
//! row's `format` column. Format 1 is the JSON the first release wrote (the
//! core's own serde shape of that time); a journal written by it replays
//! today (`tests/wire_formats.rs` holds a fixture). A new format is a new
//! set of types here and a new number; the old ones stay readable.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::queue::{CallReason, Event, Identified, Lane, Ticket, TicketId, TicketState, Timestamp};

/// The format new rows are written in.
pub const FORMAT: i64 = 1;

/// Encodes an event for the journal, in [`FORMAT`].
pub fn encode(event: &Event) -> Result<String, serde_json::Error> {
    serde_json::to_string(&JournalEvent::from(event))
}

/// Decodes a journal row's data written in `format`.
pub fn decode(format: i64, data: &str) -> Result<Event, String> {
    match format {
        1 => serde_json::from_str::<JournalEvent>(data)
            .map(Event::from)
            .map_err(|e| e.to_string()),
        other => Err(format!(
            "journal format {other} is newer than this greenwave reads (1..={FORMAT})"
        )),
    }
}

/// An event as the journal's format 1 holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(missing_docs)]
// One row at a time, as the core's `Event`: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum JournalEvent {
    Issued {
        ticket: JournalTicket,
    },
    Called {
        id: u64,
        window: u32,
        reason: JournalCallReason,
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
        note: Option<String>,
        at: i64,
    },
    Upgraded {
        id: u64,
        at: i64,
    },
    Cancelled {
        id: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
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

/// A ticket as the journal's format 1 holds it (in an `issued` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct JournalTicket {
    pub id: u64,
    pub day: NaiveDate,
    pub number: String,
    pub service: String,
    pub origin_service: String,
    pub lane: JournalLane,
    pub seq: u32,
    pub issued_at: i64,
    pub state: JournalState,
    pub window: Option<u32>,
    pub target_window: Option<u32>,
    pub called_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_called_at: Option<i64>,
    pub started_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub calls: u32,
    pub transfers: u32,
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub person: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identified: Option<JournalIdentified>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<String>,
}

/// A lane in format 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum JournalLane {
    Priority,
    Appointment,
    Normal,
}

/// A ticket's state in format 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum JournalState {
    Waiting,
    Called,
    Serving,
    Done,
    NoShow,
    Transferred,
    Cancelled,
    Expired,
}

/// How a priority resident was identified, in format 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum JournalIdentified {
    IdCard,
    PriorityCard,
    Manual,
}

/// Why a window got its ticket, in format 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum JournalCallReason {
    Priority,
    Normal,
    Streak,
    Overdue,
    Manual,
}

macro_rules! same_variants {
    ($a:ident <-> $b:ident: $($v:ident),+) => {
        impl From<$a> for $b {
            fn from(x: $a) -> $b {
                match x { $($a::$v => $b::$v),+ }
            }
        }
        impl From<$b> for $a {
            fn from(x: $b) -> $a {
                match x { $($b::$v => $a::$v),+ }
            }
        }
    };
}

same_variants!(Lane <-> JournalLane: Priority, Appointment, Normal);
same_variants!(TicketState <-> JournalState: Waiting, Called, Serving, Done, NoShow, Transferred, Cancelled, Expired);
same_variants!(Identified <-> JournalIdentified: IdCard, PriorityCard, Manual);
same_variants!(CallReason <-> JournalCallReason: Priority, Normal, Streak, Overdue, Manual);

impl From<&Ticket> for JournalTicket {
    fn from(t: &Ticket) -> JournalTicket {
        JournalTicket {
            id: t.id.0,
            day: t.day,
            number: t.number.clone(),
            service: t.service.clone(),
            origin_service: t.origin_service.clone(),
            lane: t.lane.into(),
            seq: t.seq,
            issued_at: t.issued_at.0,
            state: t.state.into(),
            window: t.window,
            target_window: t.target_window,
            called_at: t.called_at.map(|x| x.0),
            first_called_at: t.first_called_at.map(|x| x.0),
            started_at: t.started_at.map(|x| x.0),
            closed_at: t.closed_at.map(|x| x.0),
            calls: t.calls,
            transfers: t.transfers,
            token: t.token.clone(),
            person: t.person.clone(),
            identified: t.identified.map(Into::into),
            slot_at: t.slot_at.map(|x| x.0),
            booking: t.booking.clone(),
        }
    }
}

impl From<JournalTicket> for Ticket {
    fn from(t: JournalTicket) -> Ticket {
        Ticket {
            id: TicketId(t.id),
            day: t.day,
            number: t.number,
            service: t.service,
            origin_service: t.origin_service,
            lane: t.lane.into(),
            seq: t.seq,
            issued_at: Timestamp(t.issued_at),
            state: t.state.into(),
            window: t.window,
            target_window: t.target_window,
            called_at: t.called_at.map(Timestamp),
            first_called_at: t.first_called_at.map(Timestamp),
            started_at: t.started_at.map(Timestamp),
            closed_at: t.closed_at.map(Timestamp),
            calls: t.calls,
            transfers: t.transfers,
            token: t.token,
            person: t.person,
            identified: t.identified.map(Into::into),
            slot_at: t.slot_at.map(Timestamp),
            booking: t.booking,
        }
    }
}

impl From<&Event> for JournalEvent {
    fn from(e: &Event) -> JournalEvent {
        use JournalEvent as J;
        match e.clone() {
            Event::Issued { ticket } => J::Issued {
                ticket: (&ticket).into(),
            },
            Event::Called {
                id,
                window,
                reason,
                at,
            } => J::Called {
                id: id.0,
                window,
                reason: reason.into(),
                at: at.0,
            },
            Event::Recalled { id, window, at } => J::Recalled {
                id: id.0,
                window,
                at: at.0,
            },
            Event::Started { id, window, at } => J::Started {
                id: id.0,
                window,
                at: at.0,
            },
            Event::Finished { id, window, at } => J::Finished {
                id: id.0,
                window,
                at: at.0,
            },
            Event::NoShow { id, window, at } => J::NoShow {
                id: id.0,
                window,
                at: at.0,
            },
            Event::Rejoined { id, at } => J::Rejoined { id: id.0, at: at.0 },
            Event::Transferred {
                id,
                from_window,
                to_service,
                to_window,
                note,
                at,
            } => J::Transferred {
                id: id.0,
                from_window,
                to_service,
                to_window,
                note,
                at: at.0,
            },
            Event::Upgraded { id, at } => J::Upgraded { id: id.0, at: at.0 },
            Event::Cancelled { id, reason, at } => J::Cancelled {
                id: id.0,
                reason,
                at: at.0,
            },
            Event::Paused { window, at } => J::Paused { window, at: at.0 },
            Event::Resumed { window, at } => J::Resumed { window, at: at.0 },
            Event::DayRolledOver {
                from,
                to,
                expired,
                at,
            } => J::DayRolledOver {
                from,
                to,
                expired: expired.iter().map(|t| t.0).collect(),
                at: at.0,
            },
        }
    }
}

impl From<JournalEvent> for Event {
    fn from(e: JournalEvent) -> Event {
        use JournalEvent as J;
        let (tid, ts) = (TicketId, Timestamp);
        match e {
            J::Issued { ticket } => Event::Issued {
                ticket: ticket.into(),
            },
            J::Called {
                id,
                window,
                reason,
                at,
            } => Event::Called {
                id: tid(id),
                window,
                reason: reason.into(),
                at: ts(at),
            },
            J::Recalled { id, window, at } => Event::Recalled {
                id: tid(id),
                window,
                at: ts(at),
            },
            J::Started { id, window, at } => Event::Started {
                id: tid(id),
                window,
                at: ts(at),
            },
            J::Finished { id, window, at } => Event::Finished {
                id: tid(id),
                window,
                at: ts(at),
            },
            J::NoShow { id, window, at } => Event::NoShow {
                id: tid(id),
                window,
                at: ts(at),
            },
            J::Rejoined { id, at } => Event::Rejoined {
                id: tid(id),
                at: ts(at),
            },
            J::Transferred {
                id,
                from_window,
                to_service,
                to_window,
                note,
                at,
            } => Event::Transferred {
                id: tid(id),
                from_window,
                to_service,
                to_window,
                note,
                at: ts(at),
            },
            J::Upgraded { id, at } => Event::Upgraded {
                id: tid(id),
                at: ts(at),
            },
            J::Cancelled { id, reason, at } => Event::Cancelled {
                id: tid(id),
                reason,
                at: ts(at),
            },
            J::Paused { window, at } => Event::Paused { window, at: ts(at) },
            J::Resumed { window, at } => Event::Resumed { window, at: ts(at) },
            J::DayRolledOver {
                from,
                to,
                expired,
                at,
            } => Event::DayRolledOver {
                from,
                to,
                expired: expired.into_iter().map(TicketId).collect(),
                at: ts(at),
            },
        }
    }
}
