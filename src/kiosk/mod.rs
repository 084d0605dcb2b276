//! The kiosk: one swipe to a printed ticket.
//!
//! A card event becomes an [`Identity`]; the roster, a bound priority card
//! or the age rule decide the lane ([`decide_lane`], pure); the hall issues
//! the ticket durably (or finds the resident's open ticket for the same
//! service, which is reprinted instead: one person, one number); then the
//! ticket is printed. A printer that fails never loses the number: the
//! ticket stays issued, the screen tells the resident, and the ticket joins
//! the reprint list.

pub mod screen;
pub mod terminal;

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate};
use greenwave_drivers::card::CardEvent;
use greenwave_drivers::id_number::IdNumber;
use greenwave_drivers::idcard::DocumentId;
use greenwave_drivers::printer::{TicketLayout, TicketPrinter};

use crate::config::Config;
use crate::hall::{Hall, HallError};
use crate::queue::{Identified, Lane, Ticket};
use crate::roster::install::{Roster, RosterAnswer};
use crate::roster::HashKey;

/// Who is at the kiosk.
#[derive(Debug, Clone)]
pub enum Identity {
    /// A resident ID card or permit (GB 11643 number) was read.
    IdCard {
        /// The number.
        id: IdNumber,
        /// Birth date from the card.
        birth: NaiveDate,
    },
    /// A foreigner's card: no roster entry is possible, but the person is
    /// still recognised for "one person, one number".
    ForeignCard {
        /// The keyed hash of the card number.
        hash: [u8; 32],
        /// Birth date from the card.
        birth: NaiveDate,
    },
    /// A priority card (contactless), by UID.
    PriorityCard {
        /// The UID.
        uid: Vec<u8>,
    },
    /// No card: the "ticket without ID card" key.
    NoCard,
}

/// Why a ticket went to the priority lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriorityReason {
    /// On the roster in a granting category, still valid.
    Roster {
        /// The category.
        category: String,
    },
    /// A bound priority card was presented.
    Card,
    /// The age rule.
    Age(u32),
}

/// The lane for a resident: the roster's answer (if looked up), whether a
/// bound priority card was presented, the resident's age and the optional
/// age rule.
pub fn decide_lane(
    roster: Option<&RosterAnswer>,
    bound_card: bool,
    age: Option<u32>,
    min_age: Option<u32>,
) -> (Lane, Option<PriorityReason>) {
    if let Some(RosterAnswer::Listed {
        category,
        grants_priority: true,
        ..
    }) = roster
    {
        return (
            Lane::Priority,
            Some(PriorityReason::Roster {
                category: category.clone(),
            }),
        );
    }
    if bound_card {
        return (Lane::Priority, Some(PriorityReason::Card));
    }
    if let (Some(age), Some(min)) = (age, min_age) {
        if age >= min {
            return (Lane::Priority, Some(PriorityReason::Age(age)));
        }
    }
    (Lane::Normal, None)
}

/// Full years between `birth` and `today`.
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    let mut years = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

/// What the kiosk did with one resident.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A ticket was issued (or the open one found again) and printing tried.
    Ticket {
        /// The ticket as stored.
        ticket: Box<Ticket>,
        /// The resident already had this ticket open: reprinted, no new number.
        reprint: bool,
        /// People ahead.
        ahead: usize,
        /// Why priority, if priority.
        reason: Option<PriorityReason>,
        /// The print failed: why (the ticket is on the reprint list).
        print_error: Option<String>,
        /// What the kiosk screen shows.
        screen: String,
    },
    /// More than one service and none chosen: the screen asks.
    ChooseService,
    /// Nothing issued; the screen shows this.
    Refused(String),
}

/// Why the kiosk could not serve a resident (shown to staff, logged).
#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    /// The hall refused or the database failed.
    #[error(transparent)]
    Hall(#[from] HallError),
    /// The roster could not be read.
    #[error(transparent)]
    Roster(#[from] crate::roster::install::ImportError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A staff request that cannot be done (a reason for staff).
    #[error(transparent)]
    Refused(StaffRefusal),
}

/// The kiosk's working parts.
pub struct Kiosk {
    cfg: Arc<Config>,
    hall: Arc<Mutex<Hall>>,
    roster: Option<Roster>,
    identity_key: HashKey,
    printer: Option<Box<dyn TicketPrinter>>,
    devices: DeviceStates,
    /// A resident waiting for a service choice (several services, no
    /// default): the next service key completes it.
    pending: Option<Identity>,
}

/// Whether each configured device works, as last seen: `id_reader`, `pcsc`,
/// `printer` → up. Shared with the metrics so that a scrape never waits
/// for a device.
pub type DeviceStates = Arc<Mutex<std::collections::BTreeMap<&'static str, bool>>>;

impl std::fmt::Debug for Kiosk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kiosk")
            .field("roster", &self.roster)
            .finish()
    }
}

/// The message for a printer that did not print.
pub const PRINTER_FAULT: &str = "打印机故障，请记下号码或联系工作人员";

impl Kiosk {
    /// A kiosk over the hall. The identity key is the roster's hashing key
    /// when a roster is configured (so that a bound card's hash is a roster
    /// entry's), else a key of this hall kept in the data directory.
    pub fn new(
        cfg: Arc<Config>,
        hall: Arc<Mutex<Hall>>,
        printer: Option<Box<dyn TicketPrinter>>,
    ) -> Result<Kiosk, KioskError> {
        let identity_key = match &cfg.roster {
            Some(rc) if rc.hash_key.is_some() => crate::roster::install::hall_hash_key(rc)?,
            _ => local_identity_key(&cfg.data_dir)?,
        };
        let mut states = std::collections::BTreeMap::new();
        // Assumed up until a device says otherwise.
        if cfg.devices.id_reader.is_some() {
            states.insert("id_reader", true);
        }
        if cfg.devices.pcsc.is_some() {
            states.insert("pcsc", true);
        }
        if cfg.devices.printer.is_some() {
            states.insert("printer", true);
        }
        let mut k = Kiosk {
            cfg,
            hall,
            roster: None,
            identity_key,
            printer,
            devices: Arc::new(Mutex::new(states)),
            pending: None,
        };
        k.refresh_roster()?;
        Ok(k)
    }

    /// Takes the kiosk settings (`[kiosk]`, `[priority]`, the hall name) of
    /// a reloaded configuration; everything else stays as started.
    pub fn reload(&mut self, new: &Config) {
        let mut cfg = (*self.cfg).clone();
        cfg.kiosk = new.kiosk.clone();
        cfg.hall_name = new.hall_name.clone();
        self.cfg = Arc::new(cfg);
        self.roster = None;
        tracing::info!("kiosk settings reloaded");
    }

    /// The devices' states, for the metrics.
    pub fn device_states(&self) -> DeviceStates {
        self.devices.clone()
    }

    /// Notes what a card event says about its device.
    pub fn note_device(&self, event: &CardEvent) {
        let (device, up) = match event {
            CardEvent::DeviceError { device, .. } => (device, false),
            CardEvent::Reconnected { device } | CardEvent::Removed { device } => (device, true),
            CardEvent::ReadFailed { device, .. } => (device, true),
            CardEvent::IdCard(_) => {
                self.set_device("id_reader", true);
                return;
            }
            CardEvent::PriorityCard { .. } => {
                self.set_device("pcsc", true);
                return;
            }
        };
        let kind = if device.starts_with("pcsc") {
            "pcsc"
        } else {
            "id_reader"
        };
        self.set_device(kind, up);
    }

    fn set_device(&self, kind: &'static str, up: bool) {
        let mut d = self.devices.lock().unwrap_or_else(|p| p.into_inner());
        d.insert(kind, up);
    }

    /// Reopens the roster if another version was installed meanwhile.
    fn refresh_roster(&mut self) -> Result<(), KioskError> {
        let Some(rc) = &self.cfg.roster else {
            return Ok(());
        };
        let hall = self.hall.lock().unwrap_or_else(|p| p.into_inner());
        let installed = hall.store().roster_state()?;
        let current = self
            .roster
            .as_ref()
            .map(|r| (r.state.version, r.state.file.clone()));
        if installed.as_ref().map(|s| (s.version, s.file.clone())) != current {
            self.roster = Roster::open(hall.store(), &self.cfg.data_dir, rc)?;
            if let Some(r) = &self.roster {
                tracing::info!(
                    version = r.state.version,
                    rows = r.state.rows,
                    "kiosk uses roster"
                );
            }
        }
        Ok(())
    }

    /// The service to issue for, if it needs no choice.
    pub fn default_service(&self) -> Option<String> {
        self.cfg.kiosk.default_service.clone().or_else(|| {
            if self.cfg.services.len() == 1 {
                Some(self.cfg.services[0].code.clone())
            } else {
                None
            }
        })
    }

    /// Turns a card event into an identity; `None` for events that are not
    /// a resident (removed, device errors).
    pub fn identity_of(&self, event: &CardEvent) -> Option<Identity> {
        match event {
            CardEvent::IdCard(read) => Some(match &read.id_number {
                DocumentId::Gb11643(id) => Identity::IdCard {
                    id: id.clone(),
                    birth: read.birth_date,
                },
                DocumentId::Foreign(n) => Identity::ForeignCard {
                    hash: self.identity_key.hash_document(n.expose()),
                    birth: read.birth_date,
                },
            }),
            CardEvent::PriorityCard { uid } => Some(Identity::PriorityCard { uid: uid.clone() }),
            _ => None,
        }
    }

    /// Serves one resident: decides the lane, issues (or finds the open
    /// ticket), prints.
    pub fn serve(&mut self, who: Identity, service: Option<&str>) -> Result<Outcome, KioskError> {
        let Some(service) = service
            .map(str::to_string)
            .or_else(|| self.default_service())
        else {
            self.pending = Some(who);
            return Ok(Outcome::ChooseService);
        };
        self.pending = None;
        self.refresh_roster()?;
        let today = {
            let h = self.hall.lock().unwrap_or_else(|p| p.into_inner());
            h.queue().day()
        };
        let min_age = self.cfg.kiosk.min_age;
        let (person, roster_answer, bound, age) = match &who {
            Identity::IdCard { id, birth } => {
                let hash = self.identity_key.hash(id);
                let answer = match &self.roster {
                    Some(r) => Some(r.check_hash(&hash, today)?),
                    None => None,
                };
                (Some(hash), answer, false, Some(age_on(*birth, today)))
            }
            Identity::ForeignCard { hash, birth } => {
                (Some(*hash), None, false, Some(age_on(*birth, today)))
            }
            Identity::PriorityCard { uid } => {
                let uid = hex::encode_upper(uid);
                let bound = {
                    let h = self.hall.lock().unwrap_or_else(|p| p.into_inner());
                    h.store().card_person(&uid)?
                };
                let Some(person) = bound.and_then(|p| hex_hash(&p)) else {
                    return Ok(Outcome::Refused(
                        "此卡尚未绑定，请刷身份证或联系工作人员".into(),
                    ));
                };
                // A bound card works like the ID card: the roster decides
                // while the entry is valid; the binding itself is the
                // "card + ID" identification of the mechanism.
                let answer = match &self.roster {
                    Some(r) => Some(r.check_hash(&person, today)?),
                    None => None,
                };
                let still_valid = !matches!(
                    answer,
                    Some(RosterAnswer::NotListed)
                        | Some(RosterAnswer::Listed {
                            grants_priority: false,
                            ..
                        })
                );
                (Some(person), answer, still_valid, None)
            }
            Identity::NoCard => (None, None, false, None),
        };
        let (lane, reason) = decide_lane(roster_answer.as_ref(), bound, age, min_age);
        let person_hex = person.map(hex::encode);
        let identified = match &reason {
            Some(PriorityReason::Roster { .. }) => match &who {
                Identity::PriorityCard { .. } => Some(Identified::PriorityCard),
                _ => Some(Identified::IdCard),
            },
            Some(PriorityReason::Card) => Some(Identified::PriorityCard),
            Some(PriorityReason::Age(_)) | None => None,
        };

        let (ticket, reprint, ahead) = {
            let mut h = self.hall.lock().unwrap_or_else(|p| p.into_inner());
            let open = person_hex
                .as_deref()
                .and_then(|p| h.queue().open_ticket_of(p, &service).cloned());
            match open {
                Some(t) => {
                    let ahead = h.queue().ahead(t.id).unwrap_or(0);
                    (t, true, ahead)
                }
                None => {
                    let token = new_token();
                    let (_, t) = h.exec(|q, now| {
                        q.issue_with(&service, lane, now, token, person_hex.clone(), identified)
                    })?;
                    let t = t.expect("issued ticket is in the queue");
                    let ahead = h.queue().ahead(t.id).unwrap_or(0);
                    (t, false, ahead)
                }
            }
        };
        tracing::info!(number = %ticket.number, lane = ticket.lane.as_str(), reprint, "kiosk ticket");

        let print_error = self.print(&ticket, ahead);
        let lane_text = match ticket.lane {
            Lane::Priority => "绿波通道",
            Lane::Normal => "普通",
        };
        let mut screen = format!(
            "您的号码 {}（{lane_text}），前面还有 {ahead} 人",
            ticket.number
        );
        if reprint {
            screen = format!("您已取号，已为您重新打印。{screen}");
        }
        if print_error.is_some() {
            screen = format!("{screen}。{PRINTER_FAULT}");
        }
        Ok(Outcome::Ticket {
            ticket: Box::new(ticket),
            reprint,
            ahead,
            reason,
            print_error,
            screen,
        })
    }

    /// A key on the kiosk's keypad: `0` is "ticket without ID card" (a
    /// normal ticket); `1`–`9` choose a service, completing a swipe that is
    /// waiting for the choice, or giving a ticket without ID card for that
    /// service. Other keys do nothing (`None`).
    pub fn key(&mut self, key: &str) -> Option<Result<Outcome, KioskError>> {
        match key.trim() {
            "0" => Some(self.serve(Identity::NoCard, None)),
            k if k.len() == 1 && ('1'..='9').contains(&k.chars().next().unwrap_or('x')) => {
                let i = usize::from(k.as_bytes()[0] - b'1');
                let service = self.cfg.services.get(i)?.code.clone();
                let who = self.pending.take().unwrap_or(Identity::NoCard);
                Some(self.serve(who, Some(&service)))
            }
            _ => None,
        }
    }

    /// The service keys, for the screen: `1 民政救助  2 医保业务`.
    pub fn service_keys(&self) -> String {
        self.service_key_list()
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join("  ")
    }

    /// The service keys as `(key, service name)`, `1` to `9`.
    pub fn service_key_list(&self) -> Vec<(String, String)> {
        screen::service_keys(&self.cfg)
    }

    /// Prints a ticket and records the attempt; the error text if it failed.
    pub fn print(&mut self, t: &Ticket, ahead: usize) -> Option<String> {
        let layout = self.layout(t, ahead);
        let result = match self.printer.as_mut() {
            Some(p) => {
                let r = p.print(&layout).map_err(|e| e.to_string());
                self.set_device("printer", r.is_ok());
                r
            }
            None => Err("未配置打印机".to_string()),
        };
        let h = self.hall.lock().unwrap_or_else(|p| p.into_inner());
        let at = h.now().0;
        if let Err(e) = h.store().record_print(
            t.id,
            at,
            result.is_ok(),
            result.as_ref().err().map(String::as_str),
        ) {
            tracing::error!(error = %e, "cannot record a print attempt");
        }
        if let Err(e) = &result {
            tracing::warn!(number = %t.number, error = %e, "ticket not printed; on the reprint list");
        }
        result.err()
    }

    /// The printed ticket.
    pub fn layout(&self, t: &Ticket, ahead: usize) -> TicketLayout {
        let service_name = self
            .cfg
            .service(&t.service)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let issued_at = chrono::DateTime::from_timestamp_millis(t.issued_at.0)
            .map(|d| {
                d.with_timezone(&self.cfg.day.timezone)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_default();
        TicketLayout {
            hall_name: self.cfg.hall_name.clone(),
            priority: t.lane == Lane::Priority,
            number: t.number.clone(),
            service_name,
            people_ahead: ahead as u32,
            issued_at,
            qr_payload: self
                .cfg
                .kiosk
                .public_url
                .as_ref()
                .filter(|_| !t.token.is_empty())
                .map(|u| format!("{}/t/{}", u.trim_end_matches('/'), t.token)),
            notice: self.cfg.kiosk.notice.clone(),
        }
    }
}

/// What the roster says about a resident checked by staff (never a name).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RosterCheck {
    /// On the roster.
    pub listed: bool,
    /// Category, if listed.
    pub category: Option<String>,
    /// Last valid day, if listed and limited.
    pub valid_to: Option<NaiveDate>,
    /// Whether the entry grants the priority lane today.
    pub grants_priority: bool,
    /// The masked ID number, for the staff screen.
    pub masked: String,
}

/// Why a staff action at the kiosk was refused.
#[derive(Debug, thiserror::Error)]
pub enum StaffRefusal {
    /// No roster is configured or installed.
    #[error("本大厅尚未安装名单，无法核对")]
    NoRoster,
    /// The resident does not qualify.
    #[error("{masked} 不享受绿波通道（{why}）")]
    NotGranted {
        /// The masked number.
        masked: String,
        /// Not listed, category, expired.
        why: &'static str,
    },
    /// No such ticket today.
    #[error("今天没有 {0} 号")]
    UnknownNumber(String),
}

impl Kiosk {
    /// Staff check a resident against the roster by hand (manual
    /// identification); the check and its answer go to the audit log.
    pub fn check_roster(&mut self, id: &IdNumber, actor: &str) -> Result<RosterCheck, KioskError> {
        self.refresh_roster()?;
        let masked = id.masked();
        let answer = {
            let h = self.hall.lock().unwrap_or_else(|p| p.into_inner());
            let today = h.queue().day();
            match &self.roster {
                Some(r) => Some(r.check(id, today)?),
                None => None,
            }
        };
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
        let h = self.hall.lock().unwrap_or_else(|p| p.into_inner());
        h.store().audit(&crate::store::AuditEntry {
            at: h.now().0,
            actor: actor.to_string(),
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
        &mut self,
        id: &IdNumber,
        service: &str,
        actor: &str,
    ) -> Result<(RosterCheck, Ticket), KioskError> {
        let check = self.check_roster(id, actor)?;
        Self::require_grant(&check)?;
        let person = hex::encode(self.identity_key.hash(id));
        let mut h = self.hall.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = h.queue().open_ticket_of(&person, service).cloned() {
            return Ok((check, t));
        }
        let (_, t) = h.exec(|q, now| {
            q.issue_with(
                service,
                Lane::Priority,
                now,
                new_token(),
                Some(person.clone()),
                Some(Identified::Manual),
            )
        })?;
        Ok((check, t.expect("issued ticket is in the queue")))
    }

    /// Moves a waiting normal ticket to the priority lane after a manual
    /// identification.
    pub fn upgrade(
        &mut self,
        number: &str,
        id: &IdNumber,
        actor: &str,
    ) -> Result<(RosterCheck, Ticket), KioskError> {
        let check = self.check_roster(id, actor)?;
        Self::require_grant(&check)?;
        let mut h = self.hall.lock().unwrap_or_else(|p| p.into_inner());
        let (_, t) = h.exec(|q, now| q.upgrade(number, now))?;
        Ok((check, t.expect("upgraded ticket is in the queue")))
    }

    /// Binds a priority card to a resident on the roster: stored as the
    /// UID and the entry's hash, never the ID number.
    pub fn bind_card(
        &mut self,
        uid: &[u8],
        id: &IdNumber,
        actor: &str,
    ) -> Result<RosterCheck, KioskError> {
        let check = self.check_roster(id, actor)?;
        Self::require_grant(&check)?;
        let person = hex::encode(self.identity_key.hash(id));
        let h = self.hall.lock().unwrap_or_else(|p| p.into_inner());
        let uid_hex = hex::encode_upper(uid);
        h.store().bind_card(&uid_hex, &person, h.now().0, actor)?;
        h.store().audit(&crate::store::AuditEntry {
            at: h.now().0,
            actor: actor.to_string(),
            action: "card.bind".into(),
            subject: Some(check.masked.clone()),
            result: "ok".into(),
            detail: Some(format!("card {}", greenwave_drivers::pcsc::mask_uid(uid))),
        })?;
        Ok(check)
    }

    /// Prints a ticket again (staff, from the reprint list).
    pub fn reprint(&mut self, number: &str) -> Result<(Ticket, Option<String>), KioskError> {
        let n = number.trim().to_ascii_uppercase();
        let (t, ahead) = {
            let h = self.hall.lock().unwrap_or_else(|p| p.into_inner());
            let t = h
                .queue()
                .ticket_by_number(&n)
                .cloned()
                .ok_or(KioskError::Refused(StaffRefusal::UnknownNumber(n)))?;
            let ahead = h.queue().ahead(t.id).unwrap_or(0);
            (t, ahead)
        };
        let err = self.print(&t, ahead);
        Ok((t, err))
    }

    /// Open tickets of the day whose last print failed.
    pub fn reprint_list(&self) -> Result<Vec<Ticket>, KioskError> {
        let h = self.hall.lock().unwrap_or_else(|p| p.into_inner());
        let ids = h.store().reprint_list(h.queue().day())?;
        Ok(ids
            .into_iter()
            .filter_map(|id| h.queue().ticket(id).cloned())
            .collect())
    }
}

fn hex_hash(s: &str) -> Option<[u8; 32]> {
    let v = hex::decode(s).ok()?;
    v.try_into().ok()
}

/// The ticket's progress token: 28 lower-case letters (about 131 random
/// bits). Letters only: the printer refuses any line with a long run of
/// digits (it could be an ID number), and a hex token sometimes had one.
pub fn new_token() -> String {
    const LEN: usize = 28;
    let mut out = String::with_capacity(LEN);
    while out.len() < LEN {
        let mut b = [0u8; 64];
        if getrandom::fill(&mut b).is_err() {
            // No entropy source at all: the clock, still unique per call.
            let n = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            for (i, x) in n.to_le_bytes().iter().enumerate() {
                b[i] = *x;
            }
        }
        // 234 = 9 × 26: rejecting larger bytes keeps every letter equally likely.
        for x in b.iter().filter(|x| **x < 234) {
            if out.len() == LEN {
                break;
            }
            out.push((b'a' + x % 26) as char);
        }
    }
    out
}

/// The hall's own identity key (when no roster hash key is configured),
/// created on first use with mode 0600.
fn local_identity_key(data_dir: &Path) -> Result<HashKey, KioskError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = data_dir.join("identity.key");
    let io = |e: std::io::Error| {
        KioskError::Hall(HallError::DataDir {
            path: path.clone(),
            message: format!("identity key: {e}"),
        })
    };
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Some(k) = hex_hash(text.trim()) {
            return Ok(HashKey::from_bytes(k));
        }
    }
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| io(std::io::Error::other(e.to_string())))?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(io)?;
    f.write_all(hex::encode(b).as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(HashKey::from_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(grants: bool) -> RosterAnswer {
        RosterAnswer::Listed {
            category: "低保".into(),
            valid_to: None,
            grants_priority: grants,
        }
    }

    #[test]
    fn the_roster_the_card_and_the_age_rule_grant_priority() {
        assert_eq!(
            decide_lane(Some(&listed(true)), false, Some(40), None).0,
            Lane::Priority
        );
        assert_eq!(
            decide_lane(Some(&listed(false)), false, Some(40), None).0,
            Lane::Normal
        );
        assert_eq!(
            decide_lane(Some(&RosterAnswer::NotListed), false, Some(40), None).0,
            Lane::Normal
        );
        assert_eq!(
            decide_lane(None, true, None, None).1,
            Some(PriorityReason::Card)
        );
        assert_eq!(
            decide_lane(None, false, Some(70), Some(65)).1,
            Some(PriorityReason::Age(70))
        );
        assert_eq!(decide_lane(None, false, Some(64), Some(65)).0, Lane::Normal);
        assert_eq!(
            decide_lane(None, false, Some(90), None).0,
            Lane::Normal,
            "age rule off by default"
        );
    }

    #[test]
    fn age_counts_full_years() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(age_on(d(1960, 11, 24), d(2025, 11, 24)), 65);
        assert_eq!(age_on(d(1960, 11, 25), d(2025, 11, 24)), 64);
        assert_eq!(age_on(d(2000, 2, 29), d(2001, 2, 28)), 0);
    }

    #[test]
    fn tokens_are_long_and_different() {
        let a = new_token();
        assert_eq!(a.len(), 28);
        assert_ne!(a, new_token());
    }

    /// Regression: one hex token in about 65 had a run of 15+ digits, the
    /// printer took the QR URL for an ID number and refused the ticket.
    #[test]
    fn regression_progress_url_never_looks_like_an_id_number() {
        for _ in 0..5_000 {
            let layout = TicketLayout {
                hall_name: "h".into(),
                priority: false,
                number: "A001".into(),
                service_name: "s".into(),
                people_ahead: 0,
                issued_at: "2026-11-24 09:00".into(),
                qr_payload: Some(format!("http://192.168.1.10:8080/t/{}", new_token())),
                notice: None,
            };
            assert!(greenwave_drivers::printer::validate_layout(&layout).is_ok());
        }
    }
}
