//! Plain data of the queue: time, lanes, tickets, windows, events.

use std::fmt;
use std::time::Duration;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A point in time: milliseconds since the Unix epoch, UTC. The core never
/// reads a clock; every operation is given `now` as one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// This instant plus a duration (saturating).
    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp(
            self.0
                .saturating_add(d.as_millis().min(i64::MAX as u128) as i64),
        )
    }

    /// Time elapsed from `earlier` to `self`; zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0).max(0) as u64)
    }
}

/// The three lanes of the hall. The appointment and the normal lane form
/// one line (the *general* line), ordered by each ticket's place
/// ([`Ticket::place`]): an appointment ticket stands at its slot's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    /// Priority lane (绿波通道): low-income residents and other granted cases.
    Priority,
    /// Residents who booked a slot (预约), placed at the slot's time.
    Appointment,
    /// Everyone else: walk-ins.
    Normal,
}

impl Lane {
    /// Every lane, in the order figures list them.
    pub const ALL: [Lane; 3] = [Lane::Priority, Lane::Appointment, Lane::Normal];

    /// The lane's name in the journal and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Priority => "priority",
            Lane::Appointment => "appointment",
            Lane::Normal => "normal",
        }
    }

    /// Parses the journal/API name.
    pub fn parse(s: &str) -> Option<Lane> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The name residents and staff see.
    pub fn label(self) -> &'static str {
        match self {
            Lane::Priority => "绿波通道",
            Lane::Appointment => "预约",
            Lane::Normal => "普通",
        }
    }

    /// The priority lane; the other two share the general line.
    pub fn is_priority(self) -> bool {
        self == Lane::Priority
    }
}

/// The number prefix of appointment tickets (`YA003`).
pub const APPOINTMENT_PREFIX: &str = "Y";

/// A ticket's identity: unique across days, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TicketId(pub u64);

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// In line, not yet called.
    Waiting,
    /// Called to a window; the resident is on the way.
    Called,
    /// The window has started serving the resident.
    Serving,
    /// Served to the end.
    Done,
    /// Did not come when called; may rejoin within the grace period.
    NoShow,
    /// In line again after a transfer to another service or window; keeps
    /// its lane and its original issue time.
    Transferred,
    /// Withdrawn by staff.
    Cancelled,
    /// Still open when the service day ended.
    Expired,
}

impl TicketState {
    /// Every state, for parsing and tests.
    pub const ALL: [TicketState; 8] = [
        TicketState::Waiting,
        TicketState::Called,
        TicketState::Serving,
        TicketState::Done,
        TicketState::NoShow,
        TicketState::Transferred,
        TicketState::Cancelled,
        TicketState::Expired,
    ];

    /// The state's name in the journal and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Waiting => "waiting",
            TicketState::Called => "called",
            TicketState::Serving => "serving",
            TicketState::Done => "done",
            TicketState::NoShow => "no_show",
            TicketState::Transferred => "transferred",
            TicketState::Cancelled => "cancelled",
            TicketState::Expired => "expired",
        }
    }

    /// Parses the journal/API name.
    pub fn parse(s: &str) -> Option<TicketState> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// In line, callable.
    pub fn is_waiting(self) -> bool {
        matches!(self, TicketState::Waiting | TicketState::Transferred)
    }

    /// At a window right now.
    pub fn is_at_window(self) -> bool {
        matches!(self, TicketState::Called | TicketState::Serving)
    }

    /// Not yet finished in any way: waiting or at a window.
    pub fn is_open(self) -> bool {
        self.is_waiting() || self.is_at_window()
    }

    /// The state's name for staff screens.
    pub fn label(self) -> &'static str {
        match self {
            TicketState::Waiting => "等候中",
            TicketState::Called => "已呼叫",
            TicketState::Serving => "办理中",
            TicketState::Done => "已办结",
            TicketState::NoShow => "过号",
            TicketState::Transferred => "已转办",
            TicketState::Cancelled => "已取消",
            TicketState::Expired => "已过期",
        }
    }
}

/// One ticket as it stands now. Its full history is the event journal.
/// Plain data with no wire format of its own: the store journals it in
/// its own format (`greenwave_store::journal`), the API shows it as views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Identity, unique forever.
    pub id: TicketId,
    /// The service day the ticket belongs to.
    pub day: NaiveDate,
    /// What residents read: `A012`, or `GA012` in the priority lane.
    pub number: String,
    /// The service it is queued for now (changes on transfer).
    pub service: String,
    /// The service it was issued for (its number's letter).
    pub origin_service: String,
    /// Priority or normal; never changes on transfer.
    pub lane: Lane,
    /// Sequence number within (day, origin service, lane), from 1.
    pub seq: u32,
    /// When it was issued; its place in line, kept across transfers.
    pub issued_at: Timestamp,
    /// Current state.
    pub state: TicketState,
    /// The window it is at (called/serving), or was last at.
    pub window: Option<u32>,
    /// After a transfer to a specific window: only that window calls it.
    pub target_window: Option<u32>,
    /// The last time it was called.
    pub called_at: Option<Timestamp>,
    /// The first time it was called (waiting time ends here).
    pub first_called_at: Option<Timestamp>,
    /// When the window started serving it.
    pub started_at: Option<Timestamp>,
    /// When it was finished, cancelled, expired or marked no-show.
    pub closed_at: Option<Timestamp>,
    /// How many times it was called (recalls included).
    pub calls: u32,
    /// How many times it was transferred.
    pub transfers: u32,
    /// Unguessable token for the progress page (`/t/{token}`); empty for
    /// tickets issued without one.
    pub token: String,
    /// Keyed hash of the resident's identity (never the ID number), so that
    /// a second swipe finds the open ticket instead of taking a new number.
    pub person: Option<String>,
    /// How the resident was identified for the priority lane (the
    /// mechanism's figures count each way); `None` for normal tickets and
    /// for priority by the age rule.
    pub identified: Option<Identified>,
    /// The start of the booked slot, for a ticket issued on an
    /// appointment: its place in line.
    pub slot_at: Option<Timestamp>,
    /// The code of the booking the resident came on: an appointment
    /// ticket's, a priority resident's who had booked, or a late
    /// resident's walk-in ticket. Booking figures are read from it.
    pub booking: Option<String>,
}

impl Ticket {
    /// The ticket's place in line: the booked slot's start for an
    /// appointment, else the issue time. Lines are ordered by it.
    pub fn place(&self) -> Timestamp {
        self.slot_at.unwrap_or(self.issued_at)
    }

    /// Since when the resident has been waiting on the hall: the later of
    /// the issue and the slot (arriving early for a slot is not waiting on
    /// the hall). The overdue rule and the wait figures count from here.
    pub fn due_at(&self) -> Timestamp {
        self.place().max(self.issued_at)
    }
}

/// The three ways a resident is identified for the green-wave lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Identified {
    /// The resident ID card, checked against the roster at the kiosk.
    IdCard,
    /// A bound priority card.
    PriorityCard,
    /// A manual check by window staff (priority ticket or upgrade).
    Manual,
}

impl Identified {
    /// Every way, in the order reported.
    pub const ALL: [Identified; 3] = [
        Identified::IdCard,
        Identified::PriorityCard,
        Identified::Manual,
    ];

    /// The name in the store and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Identified::IdCard => "id_card",
            Identified::PriorityCard => "priority_card",
            Identified::Manual => "manual",
        }
    }

    /// Parses [`Identified::as_str`].
    pub fn parse(s: &str) -> Option<Identified> {
        Self::ALL.into_iter().find(|w| w.as_str() == s)
    }
}

/// Why a window got the ticket it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallReason {
    /// Oldest priority ticket (rule 1).
    Priority,
    /// The general line's first ticket (normal or appointment), no
    /// priority ticket waiting.
    Normal,
    /// The general line's first ticket after `max_priority_streak`
    /// priority calls (rule 2).
    Streak,
    /// The general line's first ticket while one of it has waited longer
    /// than `normal_max_wait`, after a priority call (rule 1).
    Overdue,
    /// Staff called this number explicitly.
    Manual,
}

/// A window's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowState {
    /// The ticket called to or served at the window.
    pub current: Option<TicketId>,
    /// Paused windows call nothing.
    pub paused: bool,
    /// Consecutive priority calls since the last call of the general line.
    pub priority_streak: u32,
}

/// A state change. Events are what the store journals and what the displays
/// follow; applying the same events to the same queue always gives the same
/// state. No serde here: the journal (`greenwave_store::journal`) and the
/// event stream (`greenwave::api::stream`) each own their format.
// An event lives for one command (or one journal row during a replay),
// never in bulk: boxing the issued ticket would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new ticket.
    Issued {
        /// The ticket as issued.
        ticket: Ticket,
    },
    /// A window called a ticket.
    Called {
        /// Ticket.
        id: TicketId,
        /// Window.
        window: u32,
        /// Which rule chose it.
        reason: CallReason,
        /// When.
        at: Timestamp,
    },
    /// The window announced its current ticket again.
    Recalled {
        /// Ticket.
        id: TicketId,
        /// Window.
        window: u32,
        /// When.
        at: Timestamp,
    },
    /// The resident arrived; service started.
    Started {
        /// Ticket.
        id: TicketId,
        /// Window.
        window: u32,
        /// When.
        at: Timestamp,
    },
    /// Service finished.
    Finished {
        /// Ticket.
        id: TicketId,
        /// Window.
        window: u32,
        /// When.
        at: Timestamp,
    },
    /// The resident did not come.
    NoShow {
        /// Ticket.
        id: TicketId,
        /// Window.
        window: u32,
        /// When.
        at: Timestamp,
    },
    /// A no-show ticket went back to its original place in line.
    Rejoined {
        /// Ticket.
        id: TicketId,
        /// When.
        at: Timestamp,
    },
    /// The ticket went to another service and/or window.
    Transferred {
        /// Ticket.
        id: TicketId,
        /// The window that transferred it.
        from_window: u32,
        /// Its service from now on.
        to_service: String,
        /// The only window that may call it, if any.
        to_window: Option<u32>,
        /// Staff's note.
        note: Option<String>,
        /// When.
        at: Timestamp,
    },
    /// Staff moved a waiting normal ticket to the priority lane after a
    /// manual identification; it keeps its number and its place in time.
    Upgraded {
        /// Ticket.
        id: TicketId,
        /// When.
        at: Timestamp,
    },
    /// Staff withdrew the ticket.
    Cancelled {
        /// Ticket.
        id: TicketId,
        /// Why, in staff's words (none in journals before reasons were
        /// asked for).
        reason: Option<String>,
        /// When.
        at: Timestamp,
    },
    /// The window stopped calling.
    Paused {
        /// Window.
        window: u32,
        /// When.
        at: Timestamp,
    },
    /// The window calls again.
    Resumed {
        /// Window.
        window: u32,
        /// When.
        at: Timestamp,
    },
    /// A new service day began: numbering restarts, open tickets expire.
    DayRolledOver {
        /// The day that ended.
        from: NaiveDate,
        /// The new day.
        to: NaiveDate,
        /// Tickets closed as expired.
        expired: Vec<TicketId>,
        /// When.
        at: Timestamp,
    },
}

impl Event {
    /// A new ticket's booking code (nothing for other events).
    pub fn set_booking(&mut self, code: &str) {
        if let Event::Issued { ticket } = self {
            ticket.booking = Some(code.to_string());
        }
    }

    /// The event's kind, as in the journal.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Issued { .. } => "issued",
            Event::Called { .. } => "called",
            Event::Recalled { .. } => "recalled",
            Event::Started { .. } => "started",
            Event::Finished { .. } => "finished",
            Event::NoShow { .. } => "no_show",
            Event::Rejoined { .. } => "rejoined",
            Event::Transferred { .. } => "transferred",
            Event::Upgraded { .. } => "upgraded",
            Event::Cancelled { .. } => "cancelled",
            Event::Paused { .. } => "paused",
            Event::Resumed { .. } => "resumed",
            Event::DayRolledOver { .. } => "day_rolled_over",
        }
    }

    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            Event::Issued { ticket } => ticket.issued_at,
            Event::Called { at, .. }
            | Event::Recalled { at, .. }
            | Event::Started { at, .. }
            | Event::Finished { at, .. }
            | Event::NoShow { at, .. }
            | Event::Rejoined { at, .. }
            | Event::Transferred { at, .. }
            | Event::Upgraded { at, .. }
            | Event::Cancelled { at, .. }
            | Event::Paused { at, .. }
            | Event::Resumed { at, .. }
            | Event::DayRolledOver { at, .. } => *at,
        }
    }

    /// The ticket it concerns, if one.
    pub fn ticket_id(&self) -> Option<TicketId> {
        match self {
            Event::Issued { ticket } => Some(ticket.id),
            Event::Called { id, .. }
            | Event::Recalled { id, .. }
            | Event::Started { id, .. }
            | Event::Finished { id, .. }
            | Event::NoShow { id, .. }
            | Event::Rejoined { id, .. }
            | Event::Transferred { id, .. }
            | Event::Upgraded { id, .. }
            | Event::Cancelled { id, .. } => Some(*id),
            Event::Paused { .. } | Event::Resumed { .. } | Event::DayRolledOver { .. } => None,
        }
    }

    /// The window it concerns, if one.
    pub fn window(&self) -> Option<u32> {
        match self {
            Event::Called { window, .. }
            | Event::Recalled { window, .. }
            | Event::Started { window, .. }
            | Event::Finished { window, .. }
            | Event::NoShow { window, .. }
            | Event::Paused { window, .. }
            | Event::Resumed { window, .. } => Some(*window),
            Event::Transferred { from_window, .. } => Some(*from_window),
            _ => None,
        }
    }
}
