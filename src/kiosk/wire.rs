//! What crosses the wire between a kiosk machine and its hall server
//! (`/api/kiosk/*`): the bodies of the kiosk routes, shared by the server's
//! handlers (`crate::api::machines`) and the kiosk's client
//! ([`super::remote`]), so that both sides read one definition.
//!
//! What a kiosk sends about a resident is what the desk needs and nothing
//! more: the keyed hash of the card number (never the number), the age in
//! years for the age rule, or a priority card's UID. The server decides the
//! lane.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::desk::{Applicant, DeskAnswer, IssuedTicket};
use super::settings::KioskSettings;
use super::PriorityReason;
use crate::queue::{Lane, Ticket, TicketId, TicketState, Timestamp, WaitRange};
use crate::schedule::{Opening, Refusal};

/// `GET /api/kiosk/setup`: what a kiosk machine needs to serve residents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MachineSetup {
    /// This kiosk's id on the server (`k1`).
    pub kiosk: String,
    /// This kiosk's name (`大厅入口自助机`).
    pub name: String,
    /// The id of the hall's identity key (its fingerprint, not the key):
    /// a kiosk whose own key differs refuses to serve, since its hashes
    /// would never match the roster or the residents' open tickets.
    pub key_id: String,
    /// The hall as the kiosk shows and prints it.
    pub settings: KioskSettings,
}

/// Who asks for a ticket, on the wire: a keyed hash, never an ID number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WireApplicant {
    /// A resident ID card or permit.
    IdCard {
        /// Keyed hash of the ID number, 64 hex digits.
        person: String,
        /// Full years on the service day (the age rule).
        age: u32,
    },
    /// A foreigner's card (never on the roster).
    ForeignCard {
        /// Keyed hash of the card number, 64 hex digits.
        person: String,
        /// Full years on the service day.
        age: u32,
    },
    /// A contactless priority card.
    PriorityCard {
        /// The UID, hex upper case.
        uid: String,
    },
    /// The "ticket without ID card" key.
    NoCard,
}

impl WireApplicant {
    /// The applicant as sent.
    pub fn of(a: &Applicant) -> WireApplicant {
        match a {
            Applicant::IdCard { person, age } => WireApplicant::IdCard {
                person: hex::encode(person),
                age: *age,
            },
            Applicant::ForeignCard { person, age } => WireApplicant::ForeignCard {
                person: hex::encode(person),
                age: *age,
            },
            Applicant::PriorityCard { uid } => WireApplicant::PriorityCard { uid: uid.clone() },
            Applicant::NoCard => WireApplicant::NoCard,
        }
    }

    /// The applicant received; `None` for a hash that is not 64 hex
    /// digits or a UID that is not 4 to 10 bytes of hex.
    pub fn applicant(&self) -> Option<Applicant> {
        Some(match self {
            WireApplicant::IdCard { person, age } => Applicant::IdCard {
                person: super::hex_hash(person)?,
                age: *age,
            },
            WireApplicant::ForeignCard { person, age } => Applicant::ForeignCard {
                person: super::hex_hash(person)?,
                age: *age,
            },
            WireApplicant::PriorityCard { uid } => {
                let bytes = hex::decode(uid).ok()?;
                if !(4..=10).contains(&bytes.len()) {
                    return None;
                }
                Applicant::PriorityCard {
                    uid: hex::encode_upper(bytes),
                }
            }
            WireApplicant::NoCard => Applicant::NoCard,
        })
    }
}

/// `POST /api/kiosk/tickets`: a resident at a kiosk machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketRequest {
    /// The swipe's idempotency key (8 to 64 of `[A-Za-z0-9-]`): asked
    /// again with the same key, the server answers with the same ticket.
    pub request: String,
    /// The service's code.
    pub service: String,
    /// Who asks.
    pub applicant: WireApplicant,
}

/// Why a ticket went to the priority lane, on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WireReason {
    /// On the roster in a granting category.
    Roster {
        /// The category (`低保`).
        category: String,
    },
    /// A bound priority card.
    Card,
    /// The age rule.
    Age {
        /// Full years.
        age: u32,
    },
}

impl From<&PriorityReason> for WireReason {
    fn from(r: &PriorityReason) -> Self {
        match r {
            PriorityReason::Roster { category } => WireReason::Roster {
                category: category.clone(),
            },
            PriorityReason::Card => WireReason::Card,
            PriorityReason::Age(a) => WireReason::Age { age: *a },
        }
    }
}

impl From<WireReason> for PriorityReason {
    fn from(r: WireReason) -> Self {
        match r {
            WireReason::Roster { category } => PriorityReason::Roster { category },
            WireReason::Card => PriorityReason::Card,
            WireReason::Age { age } => PriorityReason::Age(age),
        }
    }
}

/// A ticket as a kiosk machine prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WireTicket {
    /// Identity (print records refer to it).
    pub id: u64,
    /// Service day, `YYYY-MM-DD`.
    pub day: String,
    /// Number as printed (`GA012`).
    pub number: String,
    /// Service code.
    pub service: String,
    /// `priority` or `normal`.
    #[schema(value_type = String)]
    pub lane: Lane,
    /// State name (`waiting`, ...).
    pub state: String,
    /// Issue time, ms since the epoch.
    pub issued_at_ms: i64,
    /// The progress page's token (the QR code).
    pub token: String,
    /// An appointment ticket's slot start, ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_at_ms: Option<i64>,
    /// The booking the resident came on, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<String>,
}

/// An estimated wait in minutes, `low` to `high` (`预计等候 10–20 分钟`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WireWait {
    /// At least this many minutes.
    pub low: u32,
    /// At most this many minutes.
    pub high: u32,
}

impl From<WaitRange> for WireWait {
    fn from(r: WaitRange) -> Self {
        WireWait {
            low: r.low,
            high: r.high,
        }
    }
}

impl From<WireWait> for WaitRange {
    fn from(w: WireWait) -> Self {
        WaitRange {
            low: w.low,
            high: w.high,
        }
    }
}

/// A ticket handed to a kiosk machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WireIssued {
    /// The ticket.
    pub ticket: WireTicket,
    /// The resident's open ticket: no new number.
    pub reprint: bool,
    /// People ahead.
    pub ahead: usize,
    /// How long it may wait, as estimated when it was issued: left out
    /// while the day has too little data to say (and by servers older than
    /// the field; the kiosk then prints no wait).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<WireWait>,
    /// Why priority, if priority.
    pub reason: Option<WireReason>,
}

/// The server's answer to a ticket request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum TicketAnswer {
    /// The ticket: new, or the resident's open one.
    Ticket(WireIssued),
    /// A priority card bound to nobody: nothing issued.
    CardNotBound,
    /// No new ticket now (the service's hours, a limit): nothing issued.
    NotNow(WireRefusal),
}

/// Why no ticket now, as sent: `kind` (`not_yet_open`, `break`, `closed`,
/// `daily_limit`, `hourly_limit`, `early_for_booking`) and when to come
/// back (`date` `YYYY-MM-DD`, `at` `HH:MM`), where known; for a booked
/// resident who came early, the slot (`slot` `HH:MM`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WireRefusal {
    /// Why.
    pub kind: String,
    /// The date to come back, if not today.
    pub date: Option<String>,
    /// The time to come back.
    pub at: Option<String>,
    /// The booked slot's start, for `early_for_booking`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
}

impl WireRefusal {
    /// The refusal, as sent.
    pub fn of(r: &Refusal) -> WireRefusal {
        let hm = |t: chrono::NaiveTime| Some(t.format("%H:%M").to_string());
        let opening = |o: &Option<Opening>| match o {
            Some(o) => (Some(o.date.to_string()), hm(o.at)),
            None => (None, None),
        };
        let (kind, (date, at)) = match r {
            Refusal::NotYetOpen { opens } => ("not_yet_open", (None, hm(*opens))),
            Refusal::Break { reopens } => ("break", (None, hm(*reopens))),
            Refusal::Closed { next } => ("closed", opening(next)),
            Refusal::DailyLimit { next } => ("daily_limit", opening(next)),
            Refusal::HourlyLimit { next } => ("hourly_limit", opening(&Some(*next))),
            Refusal::EarlyForBooking { from, .. } => ("early_for_booking", (None, hm(*from))),
        };
        let slot = match r {
            Refusal::EarlyForBooking { slot, .. } => hm(*slot),
            _ => None,
        };
        WireRefusal {
            kind: kind.to_string(),
            date,
            at,
            slot,
        }
    }

    /// The refusal the server meant; `None` for one this kiosk cannot read.
    pub fn refusal(&self) -> Option<Refusal> {
        let at = self
            .at
            .as_deref()
            .and_then(|a| chrono::NaiveTime::parse_from_str(a, "%H:%M").ok());
        let date = self.date.as_deref().and_then(|d| d.parse().ok());
        let opening = match (date, at) {
            (Some(date), Some(at)) => Some(Opening { date, at }),
            _ => None,
        };
        Some(match self.kind.as_str() {
            "not_yet_open" => Refusal::NotYetOpen { opens: at? },
            "break" => Refusal::Break { reopens: at? },
            "closed" => Refusal::Closed { next: opening },
            "daily_limit" => Refusal::DailyLimit { next: opening },
            "hourly_limit" => Refusal::HourlyLimit { next: opening? },
            "early_for_booking" => Refusal::EarlyForBooking {
                slot: chrono::NaiveTime::parse_from_str(self.slot.as_deref()?, "%H:%M").ok()?,
                from: at?,
            },
            _ => return None,
        })
    }
}

impl WireIssued {
    /// The ticket as the desk issued it.
    pub fn of(i: &IssuedTicket) -> WireIssued {
        let t = &i.ticket;
        WireIssued {
            ticket: WireTicket {
                id: t.id.0,
                day: t.day.to_string(),
                number: t.number.clone(),
                service: t.service.clone(),
                lane: t.lane,
                state: t.state.as_str().to_string(),
                issued_at_ms: t.issued_at.0,
                token: t.token.clone(),
                slot_at_ms: t.slot_at.map(|s| s.0),
                booking: t.booking.clone(),
            },
            reprint: i.reprint,
            ahead: i.ahead,
            wait: i.wait.map(WireWait::from),
            reason: i.reason.as_ref().map(WireReason::from),
        }
    }

    /// The ticket for the kiosk's printer and screen. The kiosk reads only
    /// the fields sent; the rest (calls, windows) stay empty, and a day or
    /// state it cannot read makes the answer unreadable (`None`).
    pub fn issued(self) -> Option<IssuedTicket> {
        let w = self.ticket;
        let ticket = Ticket {
            id: TicketId(w.id),
            day: w.day.parse().ok()?,
            number: w.number,
            service: w.service.clone(),
            origin_service: w.service,
            lane: w.lane,
            seq: 0,
            issued_at: Timestamp(w.issued_at_ms),
            state: TicketState::parse(&w.state)?,
            window: None,
            target_window: None,
            called_at: None,
            first_called_at: None,
            started_at: None,
            closed_at: None,
            calls: 0,
            transfers: 0,
            token: w.token,
            person: None,
            identified: None,
            slot_at: w.slot_at_ms.map(Timestamp),
            booking: w.booking,
        };
        Some(IssuedTicket {
            ticket,
            reprint: self.reprint,
            ahead: self.ahead,
            wait: self.wait.map(WaitRange::from),
            reason: self.reason.map(PriorityReason::from),
        })
    }
}

impl TicketAnswer {
    /// The desk's answer, as sent.
    pub fn of(a: &DeskAnswer) -> TicketAnswer {
        match a {
            DeskAnswer::Ticket(t) => TicketAnswer::Ticket(WireIssued::of(t)),
            DeskAnswer::CardNotBound => TicketAnswer::CardNotBound,
            DeskAnswer::NotNow(r) => TicketAnswer::NotNow(WireRefusal::of(r)),
        }
    }
}

/// `POST /api/kiosk/prints`: a print attempt at a kiosk machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PrintReport {
    /// The ticket's id.
    pub ticket: u64,
    /// Why it did not print (`paper_out`, ...); none when it printed.
    pub problem: Option<String>,
}

/// `POST /api/kiosk/heartbeat`: how a kiosk machine is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Heartbeat {
    /// Each device and whether it works (`id_reader`, `pcsc`, `printer`).
    pub devices: BTreeMap<String, bool>,
    /// The greenwave version the kiosk runs.
    pub version: String,
}

/// A ticket a staff member asked a kiosk machine to print
/// (`GET /api/kiosk/jobs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PrintJob {
    /// The job's id (the result refers to it).
    pub job: u64,
    /// The ticket to print.
    pub ticket: WireIssued,
}

/// `POST /api/kiosk/jobs/{job}`: how a print job went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JobResult {
    /// Why it did not print (`paper_out`, ...); none when it printed.
    pub problem: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_applicant_crosses_the_wire_as_a_hash_and_an_age() {
        let a = Applicant::IdCard {
            person: [7; 32],
            age: 71,
        };
        let w = WireApplicant::of(&a);
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"kind":"id_card","person":"{}","age":71}}"#,
                "07".repeat(32)
            )
        );
        assert_eq!(w.applicant(), Some(a));
        let bad = WireApplicant::IdCard {
            person: "371702199001011234".into(),
            age: 36,
        };
        assert_eq!(bad.applicant(), None, "an ID number is not a hash");
        let card = WireApplicant::PriorityCard {
            uid: "04a1b2c3".into(),
        };
        assert_eq!(
            card.applicant(),
            Some(Applicant::PriorityCard {
                uid: "04A1B2C3".into()
            })
        );
    }

    /// A booked resident who came early is told the same on a kiosk
    /// machine: the slot and the time to come back cross the wire; an
    /// appointment ticket keeps its slot and booking.
    #[test]
    fn a_booking_crosses_the_wire() {
        let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let early = Refusal::EarlyForBooking {
            slot: t(10, 0),
            from: t(9, 30),
        };
        let w = WireRefusal::of(&early);
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            r#"{"kind":"early_for_booking","date":null,"at":"09:30","slot":"10:00"}"#
        );
        assert_eq!(w.refusal(), Some(early));
        let limit = WireRefusal::of(&Refusal::NotYetOpen { opens: t(8, 30) });
        assert!(!serde_json::to_string(&limit).unwrap().contains("slot"));
        let ya = r#"{"ticket":{"id":9,"day":"2026-12-07","number":"YA001","service":"civil","lane":"appointment","state":"waiting","issued_at_ms":1796607600000,"token":"tok","slot_at_ms":1796608800000,"booking":"483920"},"reprint":false,"ahead":3}"#;
        let w: WireIssued = serde_json::from_str(ya).unwrap();
        let issued = w.issued().unwrap();
        assert_eq!(issued.ticket.lane, Lane::Appointment);
        assert_eq!(issued.ticket.slot_at, Some(Timestamp(1_796_608_800_000)));
        assert_eq!(issued.ticket.booking.as_deref(), Some("483920"));
    }

    /// `wait` is additive: a kiosk reads an older server's answer (no
    /// `wait`), and a server without an estimate sends what it sent before.
    #[test]
    fn the_wait_is_additive_on_the_wire() {
        let old = r#"{"ticket":{"id":7,"day":"2026-11-23","number":"GA012","service":"civil","lane":"priority","state":"waiting","issued_at_ms":1795000000000,"token":"tok"},"reprint":false,"ahead":2,"reason":{"kind":"card"}}"#;
        let w: WireIssued = serde_json::from_str(old).unwrap();
        assert_eq!(w.wait, None);
        assert_eq!(serde_json::to_string(&w).unwrap(), old, "no wait, no field");
        let issued = w.clone().issued().unwrap();
        assert_eq!((issued.ahead, issued.wait), (2, None));

        let with = WireIssued {
            wait: Some(WireWait { low: 10, high: 20 }),
            ..w
        };
        let json = serde_json::to_string(&with).unwrap();
        assert!(json.contains(r#""wait":{"low":10,"high":20}"#), "{json}");
        let back: WireIssued = serde_json::from_str(&json).unwrap();
        let issued = back.issued().unwrap();
        assert_eq!(issued.wait, Some(WaitRange { low: 10, high: 20 }));
        assert_eq!(WireIssued::of(&issued).wait, with.wait);
    }
}
