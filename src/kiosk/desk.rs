//! The desk: what the kiosk asks of the hall, and the hall's own desk.
//!
//! The kiosk reads a card and hashes the resident's identity; it then asks
//! a [`TicketDesk`] for "the open ticket of this person for this service,
//! or a new one". The desk decides the lane (the roster, a bound priority
//! card, the age rule) and applies one-person-one-number under the hall's
//! lock, once per swipe. [`HallDesk`] is the hall's own desk in this
//! process; it also serves the staff's manual identification, upgrades and
//! card binding, which never go near the kiosk's printer.

use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use greenwave_drivers::id_number::IdNumber;
use tokio::sync::watch;

use super::roster_desk::RosterDesk;
use super::{decide_lane, new_token, KioskError, PriorityReason, RosterCheck, StaffRefusal};
use crate::config::Config;
use crate::hall::{Actor, Ask, Clock, Hall};
use crate::queue::{Identified, Lane, Ticket, TicketId, WaitRange};
use crate::roster::install::RosterAnswer;
use crate::roster::HashKey;
use crate::store::{AgeBand, AuditEntry, Profile};

/// Who asks for a ticket, as the desk sees them: never an ID number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applicant {
    /// A resident ID card or permit: the keyed hash of its number, and the
    /// resident's age (for the age rule).
    IdCard {
        /// Keyed hash of the ID number.
        person: [u8; 32],
        /// Full years.
        age: u32,
    },
    /// A foreigner's card: recognised for one-person-one-number, never on
    /// the roster.
    ForeignCard {
        /// Keyed hash of the card number.
        person: [u8; 32],
        /// Full years.
        age: u32,
    },
    /// A contactless priority card, by UID (hex, upper case).
    PriorityCard {
        /// The UID.
        uid: String,
    },
    /// No card: the "ticket without ID card" key.
    NoCard,
}

/// What the desk answered.
#[derive(Debug, Clone, PartialEq)]
pub enum DeskAnswer {
    /// The ticket: new, or the resident's open one.
    Ticket(Box<IssuedTicket>),
    /// A priority card that is not bound to anyone: nothing issued.
    CardNotBound,
    /// The service gives out no new ticket now (its hours, a limit):
    /// nothing issued, nothing printed.
    NotNow(crate::schedule::Refusal),
}

/// A ticket as the desk hands it to the kiosk.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedTicket {
    /// The ticket as stored.
    pub ticket: Ticket,
    /// It was the resident's open ticket: no new number.
    pub reprint: bool,
    /// People ahead of it.
    pub ahead: usize,
    /// How long it may wait, computed when it was issued (or reprinted);
    /// `None` while the day has too little data to say, or it no longer
    /// waits. Printed on the ticket.
    pub wait: Option<WaitRange>,
    /// Why priority, if priority.
    pub reason: Option<PriorityReason>,
}

/// What a kiosk asks of its hall. Object safe; blocking (the kiosk runs on
/// a thread of its own).
pub trait TicketDesk: Send + Sync {
    /// The open ticket of `who` for `service`, or a new one. `request` is
    /// the swipe's idempotency key: a desk across the network answers a
    /// repeated key with the ticket it already issued for it.
    fn ticket_for(
        &self,
        who: &Applicant,
        service: &str,
        request: &str,
    ) -> Result<DeskAnswer, KioskError>;
    /// A ticket of the day by its number, with the people ahead (a staff
    /// reprint).
    fn ticket(&self, number: &str) -> Result<IssuedTicket, KioskError>;
    /// Records a print attempt: `problem` is `None` when it printed.
    fn record_print(&self, ticket: TicketId, problem: Option<&str>) -> Result<(), KioskError>;
}

/// The hall's own desk: the hall, the roster behind it, and the settings
/// in force (the age rule follows a reload).
pub struct HallDesk {
    hall: Arc<Mutex<Hall>>,
    /// Who the kiosk's tickets are recorded as issued by.
    actor: Actor,
    clock: Arc<dyn Clock>,
    roster: RosterDesk,
    key: HashKey,
    settings: watch::Receiver<Arc<Config>>,
}

impl std::fmt::Debug for HallDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HallDesk")
            .field("roster", &self.roster)
            .finish()
    }
}

impl HallDesk {
    /// The desk of `hall`. `key` hashes ID numbers the staff type in (the
    /// kiosk's identity key); `settings` is the configuration in force.
    pub fn new(
        hall: Arc<Mutex<Hall>>,
        key: HashKey,
        settings: watch::Receiver<Arc<Config>>,
    ) -> HallDesk {
        let roster = RosterDesk::new(&settings.borrow());
        let clock = crate::sync::lock(&hall).clock();
        HallDesk {
            hall,
            actor: Actor::Kiosk(None),
            clock,
            roster,
            key,
            settings,
        }
    }

    /// The keyed hash (hex) of an ID number staff typed: how the hall knows
    /// a resident without keeping their number (bookings, one person one
    /// number).
    pub fn person_of(&self, id: &IdNumber) -> String {
        hex::encode(self.key.hash(id))
    }

    /// The id of the hall's identity key (its fingerprint, hex), which a
    /// kiosk machine compares with its own copy's.
    pub fn key_id(&self) -> String {
        hex::encode(self.key.id())
    }

    fn cfg(&self) -> Arc<Config> {
        self.settings.borrow().clone()
    }

    /// The service day by the clock (no lock taken).
    fn today(&self) -> NaiveDate {
        crate::queue::service_day(self.clock.now(), &self.cfg().day)
    }

    /// The roster's answer, and whether a bound card still grants
    /// priority, for an applicant.
    fn lookup(&self, who: &Applicant, today: NaiveDate) -> Result<Option<Lookup>, KioskError> {
        Ok(Some(match who {
            Applicant::IdCard { person, age } => Lookup {
                person: Some(*person),
                answer: self.roster.check_hash(person, today)?,
                bound: false,
                age: Some(*age),
            },
            Applicant::ForeignCard { person, age } => Lookup {
                person: Some(*person),
                answer: None,
                bound: false,
                age: Some(*age),
            },
            Applicant::PriorityCard { uid } => {
                let Some(person) = self.roster.card_person(uid)? else {
                    return Ok(None);
                };
                // A bound card works like the ID card: the roster decides
                // while the entry is valid; the binding itself is the
                // "card + ID" identification of the mechanism.
                let answer = self.roster.check_hash(&person, today)?;
                let still_valid = !matches!(
                    answer,
                    Some(RosterAnswer::NotListed)
                        | Some(RosterAnswer::Listed {
                            grants_priority: false,
                            ..
                        })
                );
                Lookup {
                    person: Some(person),
                    answer,
                    bound: still_valid,
                    age: None,
                }
            }
            Applicant::NoCard => Lookup {
                person: None,
                answer: None,
                bound: false,
                age: None,
            },
        }))
    }
}

/// The bureau's view of an applicant: the roster category when the roster
/// lists them (the figures by category count residents the roster knows,
/// whichever lane they got), the age band when a card told the age.
fn profile_of(answer: Option<&RosterAnswer>, age: Option<u32>) -> Profile {
    Profile {
        category: match answer {
            Some(RosterAnswer::Listed { category, .. }) => Some(category.as_str().into()),
            _ => None,
        },
        age_band: age.map(AgeBand::of),
    }
}

/// The age in full years on `today` of the holder of `id`, by the birth
/// date the number carries.
fn age_of(id: &IdNumber, today: NaiveDate) -> Option<u32> {
    let (y, m, d) = id.birth_date();
    let birth = NaiveDate::from_ymd_opt(y.into(), m.into(), d.into())?;
    Some(super::age_on(birth, today))
}

/// What the roster and the card bindings say of an applicant.
struct Lookup {
    person: Option<[u8; 32]>,
    answer: Option<RosterAnswer>,
    bound: bool,
    age: Option<u32>,
}

impl HallDesk {
    /// A kiosk machine's swipe (`POST /api/kiosk/tickets`): recorded as
    /// issued by that kiosk, and answered once per idempotency key.
    pub fn ticket_for_machine(
        &self,
        kiosk: &str,
        who: &Applicant,
        service: &str,
        request: &str,
    ) -> Result<DeskAnswer, KioskError> {
        let actor = Actor::Kiosk(Some(kiosk.to_string()));
        let key = format!("{kiosk}:{request}");
        self.issue_for(&actor, who, service, Some(&key))
    }

    fn issue_for(
        &self,
        actor: &Actor,
        who: &Applicant,
        service: &str,
        request: Option<&str>,
    ) -> Result<DeskAnswer, KioskError> {
        let today = self.today();
        let Some(found) = self.lookup(who, today)? else {
            return Ok(DeskAnswer::CardNotBound);
        };
        let min_age = self.cfg().kiosk.min_age;
        let (lane, reason) = decide_lane(found.answer.as_ref(), found.bound, found.age, min_age);
        let identified = match (&reason, who) {
            (Some(PriorityReason::Roster { .. }), Applicant::PriorityCard { .. }) => {
                Some(Identified::PriorityCard)
            }
            (Some(PriorityReason::Roster { .. }), _) => Some(Identified::IdCard),
            (Some(PriorityReason::Card), _) => Some(Identified::PriorityCard),
            (Some(PriorityReason::Age(_)) | None, _) => None,
        };
        let person = found.person.map(hex::encode);
        let profile = profile_of(found.answer.as_ref(), found.age);
        let cfg = self.cfg();
        let asked = crate::sync::lock(&self.hall).open_or_issue(Ask {
            actor,
            service,
            person: person.as_deref(),
            lane,
            token: new_token(),
            identified,
            request,
            profile,
            schedule: cfg.service(service).map(|s| &s.schedule),
            appointments: Some(cfg.appointments_of(service)),
        });
        let issued = match asked {
            Err(crate::hall::HallError::NotNow(refusal)) => {
                return Ok(DeskAnswer::NotNow(refusal));
            }
            other => other?,
        };
        Ok(DeskAnswer::Ticket(Box::new(IssuedTicket {
            ticket: issued.ticket,
            reprint: issued.reprint,
            ahead: issued.ahead,
            wait: issued.wait,
            reason,
        })))
    }
}

impl TicketDesk for HallDesk {
    /// In this process an answer cannot be lost on the way: the request's
    /// key is not kept.
    fn ticket_for(
        &self,
        who: &Applicant,
        service: &str,
        _request: &str,
    ) -> Result<DeskAnswer, KioskError> {
        self.issue_for(&self.actor, who, service, None)
    }

    fn ticket(&self, number: &str) -> Result<IssuedTicket, KioskError> {
        let n = number.trim().to_ascii_uppercase();
        let h = crate::sync::lock(&self.hall);
        let t = h
            .queue()
            .ticket_by_number(&n)
            .cloned()
            .ok_or(KioskError::Refused(StaffRefusal::UnknownNumber(n)))?;
        let ahead = h.queue().ahead(t.id).unwrap_or(0);
        let wait = h.queue().estimated_wait(t.id);
        Ok(IssuedTicket {
            ticket: t,
            reprint: true,
            ahead,
            wait,
            reason: None,
        })
    }

    fn record_print(&self, ticket: TicketId, problem: Option<&str>) -> Result<(), KioskError> {
        let at = self.clock.now();
        self.roster.record_print(ticket, at, problem)
    }
}

// ----- staff at the desk ----------------------------------------------------

impl HallDesk {
    /// Staff check a resident against the roster by hand (manual
    /// identification); the check and its answer go to the audit log.
    pub fn check_roster(&self, id: &IdNumber, by: &Actor) -> Result<RosterCheck, KioskError> {
        let masked = id.masked();
        let answer = self.roster.check_hash(&self.key.hash(id), self.today())?;
        let check = match &answer {
            Some(RosterAnswer::Listed {
                category,
                valid_to,
                grants_priority,
            }) => RosterCheck {
                listed: true,
                category: Some(category.clone()),
                valid_to: *valid_to,
                grants_priority: *grants_priority,
                masked: masked.clone(),
            },
            _ => RosterCheck {
                listed: false,
                category: None,
                valid_to: None,
                grants_priority: false,
                masked: masked.clone(),
            },
        };
        let result = match (&answer, check.grants_priority) {
            (None, _) => "no_roster",
            (Some(RosterAnswer::NotListed), _) => "not_listed",
            (_, true) => "listed_priority",
            (_, false) => "listed_no_priority",
        };
        self.roster.audit(&AuditEntry {
            at: self.clock.now().0,
            actor: by.recorded(),
            action: "roster.check".into(),
            subject: Some(masked),
            result: result.into(),
            detail: None,
        })?;
        if answer.is_none() {
            return Err(KioskError::Refused(StaffRefusal::NoRoster));
        }
        Ok(check)
    }

    fn require_grant(check: &RosterCheck) -> Result<(), KioskError> {
        if check.grants_priority {
            return Ok(());
        }
        let why = if !check.listed {
            "不在名单内"
        } else {
            "类别不在优先范围或已过期"
        };
        Err(KioskError::Refused(StaffRefusal::NotGranted {
            masked: check.masked.clone(),
            why,
        }))
    }

    /// Issues a priority ticket after a manual identification (or returns
    /// the resident's open ticket for the service). Nothing is printed:
    /// staff tell the resident the number.
    pub fn manual_priority(
        &self,
        id: &IdNumber,
        service: &str,
        by: &Actor,
    ) -> Result<(RosterCheck, Ticket), KioskError> {
        if let Actor::Window(w) = by {
            if !crate::sync::lock(&self.hall).queue().serves(*w, service) {
                return Err(KioskError::Refused(StaffRefusal::NotYourService {
                    window: *w,
                    service: service.to_string(),
                }));
            }
        }
        let check = self.check_roster(id, by)?;
        Self::require_grant(&check)?;
        let person = hex::encode(self.key.hash(id));
        let issued = crate::sync::lock(&self.hall).open_or_issue(Ask {
            actor: by,
            service,
            person: Some(&person),
            lane: Lane::Priority,
            token: new_token(),
            identified: Some(Identified::Manual),
            request: None,
            profile: Profile {
                category: check.category.as_deref().map(Into::into),
                age_band: age_of(id, self.today()).map(AgeBand::of),
            },
            schedule: None,
            // A booking of today is kept by this priority ticket.
            appointments: Some(self.cfg().appointments_of(service)),
        })?;
        Ok((check, issued.ticket))
    }

    /// Moves a waiting normal ticket to the priority lane after a manual
    /// identification.
    pub fn upgrade(
        &self,
        number: &str,
        id: &IdNumber,
        by: &Actor,
    ) -> Result<(RosterCheck, Ticket), KioskError> {
        self.check_scope(number, by)?;
        let check = self.check_roster(id, by)?;
        Self::require_grant(&check)?;
        let (_, t) = crate::sync::lock(&self.hall).exec(by, |q, now| q.upgrade(number, now))?;
        Ok((check, t.expect("upgraded ticket is in the queue")))
    }

    /// A window may act on a ticket at its window or waiting for a service
    /// it serves; everyone else on any ticket. An unknown number passes
    /// (the operation itself says so).
    pub fn check_scope(&self, number: &str, by: &Actor) -> Result<(), KioskError> {
        let Actor::Window(w) = by else {
            return Ok(());
        };
        let n = number.trim().to_ascii_uppercase();
        let h = crate::sync::lock(&self.hall);
        match h.queue().ticket_by_number(&n) {
            Some(t) if !h.queue().window_may_act(*w, t) => {
                Err(KioskError::Refused(StaffRefusal::NotYourTicket {
                    window: *w,
                    number: n,
                }))
            }
            _ => Ok(()),
        }
    }

    /// Binds a priority card to a resident on the roster: stored as the
    /// UID and the entry's hash, never the ID number.
    pub fn bind_card(
        &self,
        uid: &[u8],
        id: &IdNumber,
        by: &Actor,
    ) -> Result<RosterCheck, KioskError> {
        let check = self.check_roster(id, by)?;
        Self::require_grant(&check)?;
        let person = hex::encode(self.key.hash(id));
        let now = self.clock.now();
        self.roster.bind_card(
            &hex::encode_upper(uid),
            &person,
            now,
            &AuditEntry {
                at: now.0,
                actor: by.recorded(),
                action: "card.bind".into(),
                subject: Some(check.masked.clone()),
                result: "ok".into(),
                detail: Some(format!("card {}", greenwave_drivers::pcsc::mask_uid(uid))),
            },
        )?;
        Ok(check)
    }

    /// Open tickets of the day whose last print failed.
    pub fn reprint_list(&self) -> Result<Vec<Ticket>, KioskError> {
        let day = crate::sync::lock(&self.hall).queue().day();
        let ids = self.roster.reprint_list(day)?;
        let h = crate::sync::lock(&self.hall);
        Ok(ids
            .into_iter()
            .filter_map(|id| h.queue().ticket(id).cloned())
            .collect())
    }
}
