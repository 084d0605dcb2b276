//! The kiosk: one swipe to a printed ticket.
//!
//! A card event becomes an [`Identity`] at the kiosk; the kiosk hashes it
//! with the hall's key and asks a [`desk::TicketDesk`] for the ticket
//! (today the hall's own desk in this process; the desk decides the lane
//! from the roster, a bound priority card or the age rule —
//! [`decide_lane`], pure — and finds the resident's open ticket or issues
//! one: one person, one number). Then the kiosk prints. A printer that fails
//! never loses the number: the ticket stays issued, the screen tells the
//! resident, and the ticket joins the reprint list.
//!
//! The rooms:
//! - [`actor`]: the kiosk thread. It alone owns the printer and the
//!   screen; card events, keypad keys and staff reprints reach it as
//!   messages, and the API never waits on a device.
//! - [`desk`]: what the kiosk asks of the hall (the [`desk::TicketDesk`]
//!   trait) and the hall's own desk, which also serves the staff's manual
//!   identification, upgrades and card binding; [`roster_desk`]: the
//!   roster and the kiosk's own database connection behind it.
//! - [`outcome`]: what happened, typed ([`Outcome`], [`PrintProblem`]);
//!   [`words`]: the one projection of an outcome or a device's trouble
//!   into what the screen shows and the voice says.
//! - [`ticket`]: the printed ticket's layout; [`screen`] and [`terminal`]:
//!   the kiosk's own screen.

pub mod actor;
pub mod desk;
pub mod outcome;
pub mod remote;
pub mod roster_desk;
pub mod screen;
pub mod settings;
pub mod station;
pub mod terminal;
pub mod ticket;
pub mod wire;
pub mod words;

use std::path::Path;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use greenwave_drivers::id_number::IdNumber;

use crate::hall::HallError;
use crate::queue::Lane;
use crate::roster::install::RosterAnswer;
use crate::roster::HashKey;

pub use actor::{Kiosk, KioskHandle, Reprinted};
pub use desk::{HallDesk, TicketDesk};
pub use outcome::{Outcome, PrintProblem};
pub use settings::KioskSettings;

/// Where the kiosk's screen goes: each [`screen::Update`] as it happens.
pub type KioskOut = Arc<dyn Fn(screen::Update) + Send + Sync>;

/// The kiosk screen as `[自助机] ...` lines on stdout (a service, a pipe).
pub fn kiosk_lines() -> KioskOut {
    Arc::new(|u: screen::Update| {
        use std::io::Write;
        println!("[自助机] {}", u.line());
        std::io::stdout().flush().ok();
    })
}

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

/// Why the kiosk or a staff action at the desk could not be done (logged;
/// staff see the refusals).
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
    /// The kiosk thread is gone (the daemon is stopping).
    #[error("the kiosk is not running")]
    NotRunning,
    /// A kiosk machine's hall server did not answer: nothing was issued.
    #[error("the hall server {url} did not answer: {why}")]
    Unreachable {
        /// The server's API.
        url: String,
        /// What went wrong (a connection refused, a timeout, a 503).
        why: String,
    },
    /// A kiosk machine's hall server refused the request (a token it does
    /// not know, a service it does not have): ops must look.
    #[error("the hall server refused ({status} {code}): {message}")]
    ServerRefused {
        /// HTTP status.
        status: u16,
        /// The error's code (`unknown_service`).
        code: String,
        /// The server's message.
        message: String,
    },
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
    /// A window acting on a ticket outside its scope.
    #[error("{window} 号窗口不能操作 {number}：它不在本窗口，也不是本窗口业务的等候号")]
    NotYourTicket {
        /// The window.
        window: u32,
        /// The ticket's number.
        number: String,
    },
    /// A window issuing for a service it does not serve.
    #[error("{window} 号窗口不办理业务 {service}")]
    NotYourService {
        /// The window.
        window: u32,
        /// The service code.
        service: String,
    },
}

/// Whether each configured device works, as last seen: `id_reader`, `pcsc`,
/// `printer` → up. Written by the kiosk thread, read by the metrics: a
/// scrape never waits for a device.
#[derive(Debug, Clone, Default)]
pub struct DeviceStates(Arc<std::sync::Mutex<std::collections::BTreeMap<&'static str, bool>>>);

impl DeviceStates {
    /// The configured devices, assumed up until one says otherwise.
    pub fn of(cfg: &crate::config::Config) -> DeviceStates {
        let d = DeviceStates::default();
        if cfg.devices.id_reader.is_some() {
            d.set("id_reader", true);
        }
        if cfg.devices.pcsc.is_some() {
            d.set("pcsc", true);
        }
        if cfg.devices.printer.is_some() {
            d.set("printer", true);
        }
        d
    }

    /// Records a device's state.
    pub fn set(&self, device: &'static str, up: bool) {
        crate::sync::lock(&self.0).insert(device, up);
    }

    /// Every device and its state.
    pub fn snapshot(&self) -> std::collections::BTreeMap<&'static str, bool> {
        crate::sync::lock(&self.0).clone()
    }
}

/// The key the kiosk hashes identities with: the roster's hashing key when
/// a roster is configured (so that a resident's hash is their roster
/// entry's), else a key of this hall kept in the data directory.
pub fn identity_key(cfg: &crate::config::Config) -> Result<HashKey, KioskError> {
    match &cfg.roster {
        Some(rc) if rc.hash_key.is_some() => Ok(crate::roster::install::hall_hash_key(rc)?),
        _ => local_identity_key(&cfg.data_dir),
    }
}

/// A kiosk machine's copy of the hall's identity key (`[kiosk]
/// hash_key`): the server's roster hash key file, or its `identity.key`
/// (64 hex digits) when it has no roster.
pub fn machine_key(path: &Path) -> anyhow::Result<HashKey> {
    use anyhow::Context;
    match crate::roster::keys::load_hash_key(path) {
        Ok(k) => Ok(k),
        Err(e) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("[kiosk] hash_key: cannot read {}", path.display()))?;
            hex_hash(text.trim())
                .map(HashKey::from_bytes)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                    "[kiosk] hash_key: {} is neither a roster hash key nor an identity.key ({e})",
                    path.display()
                )
                })
        }
    }
}

pub(crate) fn hex_hash(s: &str) -> Option<[u8; 32]> {
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
pub(crate) fn local_identity_key(data_dir: &Path) -> Result<HashKey, KioskError> {
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
    use greenwave_drivers::printer::TicketLayout;

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
                banner: None,
                number: "A001".into(),
                service_name: "s".into(),
                ahead: "前面还有 0 人".into(),
                issued_at: "2026-11-24 09:00".into(),
                qr_payload: Some(format!("http://192.168.1.10:8080/t/{}", new_token())),
                ..TicketLayout::default()
            };
            assert!(greenwave_drivers::printer::validate_layout(&layout).is_ok());
        }
    }
}
