//! The facts the statistics are computed from, as the store reads them:
//! one summary per ticket (the tickets table), the cases and the ratings.
//! The store owns these types so that the statistics depend on the store
//! and not the other way round; the figures themselves are pure functions
//! in the main crate (`greenwave::stats`).

use chrono::NaiveDate;

use greenwave_core::cases::{Rating, RatingSource};
use greenwave_core::queue::{Identified, Lane, TicketId, Timestamp};

/// An accompanied case, as the figures need it (from the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFact {
    /// The ticket it followed.
    pub ticket: TicketId,
    /// Its helper (`None`: never assigned).
    pub helper: Option<String>,
    /// Distinct policies explained.
    pub policies: usize,
    /// Closed.
    pub closed: bool,
}

/// A rating, as the figures need it (from the store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatingFact {
    /// The rated ticket.
    pub ticket: TicketId,
    /// The rating.
    pub rating: Rating,
    /// Whose rating.
    pub source: RatingSource,
}

/// One ticket's life as the figures need it. The store keeps one per
/// ticket (the tickets table: reading it is what keeps a year's figures
/// fast); `greenwave::stats::summaries_from_journal` derives the same from the event
/// journal, and a test holds the two to the same figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSummary {
    /// Identity.
    pub id: TicketId,
    /// Service day.
    pub day: NaiveDate,
    /// Lane at the end (upgrades count).
    pub lane: Lane,
    /// The service it was issued for (shared: a year holds few services).
    pub service: std::sync::Arc<str>,
    /// Issue time.
    pub issued_at: Timestamp,
    /// An appointment ticket's slot start: its wait counts from the later
    /// of the two (arriving early is not waiting on the hall).
    pub slot_at: Option<Timestamp>,
    /// First call.
    pub first_called_at: Option<Timestamp>,
    /// Last start of service.
    pub started_at: Option<Timestamp>,
    /// When it was finished (served to the end), if it was.
    pub finished_at: Option<Timestamp>,
    /// The window it was last called to.
    pub window: Option<u32>,
    /// Transfers.
    pub transfers: u32,
    /// How it ended, if it has.
    pub end: Option<End>,
    /// How a priority resident was identified.
    pub identified: Option<Identified>,
    /// Who the resident is, as the bureau counts them (kept in the tickets
    /// table, not the journal: a summary from the journal has none).
    pub profile: Profile,
}

/// The bureau's view of a ticket's resident: the roster category that gave
/// the priority lane and an age band. Never an ID number, a name, a birth
/// date or a person hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Profile {
    /// The roster category (`低保`, `特困`, ...), when the roster gave the
    /// lane.
    pub category: Option<std::sync::Arc<str>>,
    /// The age band, when a card told the age.
    pub age_band: Option<AgeBand>,
}

/// An age band of the bureau's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgeBand {
    /// Under 18.
    Minor,
    /// 18 to 59.
    Adult,
    /// 60 to 69.
    Sixties,
    /// 70 to 79.
    Seventies,
    /// 80 and over.
    Eighty,
}

impl AgeBand {
    /// Every band, youngest first.
    pub const ALL: [AgeBand; 5] = [
        AgeBand::Minor,
        AgeBand::Adult,
        AgeBand::Sixties,
        AgeBand::Seventies,
        AgeBand::Eighty,
    ];

    /// The band of an age in full years.
    pub fn of(age: u32) -> AgeBand {
        match age {
            0..=17 => AgeBand::Minor,
            18..=59 => AgeBand::Adult,
            60..=69 => AgeBand::Sixties,
            70..=79 => AgeBand::Seventies,
            _ => AgeBand::Eighty,
        }
    }

    /// The name in the stores and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            AgeBand::Minor => "0-17",
            AgeBand::Adult => "18-59",
            AgeBand::Sixties => "60-69",
            AgeBand::Seventies => "70-79",
            AgeBand::Eighty => "80+",
        }
    }

    /// The band named `s`.
    pub fn parse(s: &str) -> Option<AgeBand> {
        AgeBand::ALL.into_iter().find(|b| b.as_str() == s)
    }
}

/// How a ticket ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Served to the end.
    Done,
    /// Did not come (and did not rejoin).
    NoShow,
    /// Withdrawn by staff.
    Cancelled,
    /// Still open at the day's end.
    Expired,
}

impl TicketSummary {
    /// Since when the resident waited on the hall: the later of the issue
    /// and the slot.
    pub fn due_at(&self) -> Timestamp {
        self.slot_at
            .map_or(self.issued_at, |s| s.max(self.issued_at))
    }

    /// The summary of a ticket as it stands.
    pub fn of(t: &greenwave_core::queue::Ticket) -> TicketSummary {
        use greenwave_core::queue::TicketState;
        let end = match t.state {
            TicketState::Done => Some(End::Done),
            TicketState::NoShow => Some(End::NoShow),
            TicketState::Cancelled => Some(End::Cancelled),
            TicketState::Expired => Some(End::Expired),
            _ => None,
        };
        TicketSummary {
            id: t.id,
            day: t.day,
            lane: t.lane,
            service: t.origin_service.as_str().into(),
            issued_at: t.issued_at,
            slot_at: t.slot_at,
            first_called_at: t.first_called_at,
            started_at: t.started_at,
            finished_at: if end == Some(End::Done) {
                t.closed_at
            } else {
                None
            },
            window: t.window,
            transfers: t.transfers,
            end,
            identified: t.identified,
            profile: Profile::default(),
        }
    }
}

/// What the statistics are computed from, as read from the store: one
/// summary per ticket, the cases and the ratings (`greenwave::stats`
/// borrows them as its `Sources`).
#[derive(Debug, Clone, Default)]
pub struct Records {
    /// The tickets.
    pub tickets: Vec<TicketSummary>,
    /// Accompanied cases.
    pub cases: Vec<CaseFact>,
    /// Ratings.
    pub ratings: Vec<RatingFact>,
}
