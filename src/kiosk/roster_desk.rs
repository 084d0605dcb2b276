//! The roster as the kiosk and the staff's manual identification use it,
//! with a database connection of its own: roster lookups, priority cards,
//! print records and the audit log never take the hall's lock, and nothing
//! here is ever held while a device works.

use std::path::PathBuf;
use std::sync::Mutex;

use chrono::NaiveDate;

use super::KioskError;
use crate::queue::{TicketId, Timestamp};
use crate::roster::install::{Roster, RosterAnswer, RosterConfig};
use crate::store::{AuditEntry, Store};

/// The installed roster (reopened when another version is installed) and
/// the connection it is read through.
pub struct RosterDesk {
    db: PathBuf,
    data_dir: PathBuf,
    config: Option<RosterConfig>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    store: Option<Store>,
    roster: Option<Roster>,
}

impl std::fmt::Debug for RosterDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RosterDesk").field("db", &self.db).finish()
    }
}

impl RosterDesk {
    /// The desk of the hall whose database is `db`.
    pub fn new(cfg: &crate::config::Config) -> RosterDesk {
        RosterDesk {
            db: cfg.database_path(),
            data_dir: cfg.data_dir.clone(),
            config: cfg.roster.clone(),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Runs `f` on the desk's connection (opened on first use, and again
    /// after a failure), with the roster reopened if another version was
    /// installed meanwhile.
    fn with<T>(
        &self,
        f: impl FnOnce(&Store, Option<&Roster>) -> Result<T, KioskError>,
    ) -> Result<T, KioskError> {
        let mut inner = crate::sync::lock(&self.inner);
        let res = self.refresh(&mut inner).and_then(|()| {
            let store = inner.store.as_ref().expect("opened by refresh");
            f(store, inner.roster.as_ref())
        });
        if res.is_err() {
            // Start afresh next time: a broken connection is not kept.
            inner.store = None;
        }
        res
    }

    fn refresh(&self, inner: &mut Inner) -> Result<(), KioskError> {
        if inner.store.is_none() {
            inner.store = Some(Store::open(&self.db)?);
        }
        let store = inner.store.as_ref().expect("opened above");
        let Some(rc) = &self.config else {
            return Ok(());
        };
        let installed = store.roster_state()?;
        let current = inner
            .roster
            .as_ref()
            .map(|r| (r.state.version, r.state.file.clone()));
        if installed.as_ref().map(|s| (s.version, s.file.clone())) != current {
            inner.roster = Roster::open(store, &self.data_dir, rc)?;
            if let Some(r) = &inner.roster {
                tracing::info!(
                    version = r.state.version,
                    rows = r.state.rows,
                    "kiosk uses roster"
                );
            }
        }
        Ok(())
    }

    /// The roster's answer for a keyed identity hash; `None` when no roster
    /// is configured or installed.
    pub fn check_hash(
        &self,
        hash: &[u8; 32],
        today: NaiveDate,
    ) -> Result<Option<RosterAnswer>, KioskError> {
        self.with(|_, roster| match roster {
            Some(r) => Ok(Some(r.check_hash(hash, today)?)),
            None => Ok(None),
        })
    }

    /// The keyed identity hash a priority card is bound to, if any.
    pub fn card_person(&self, uid_hex: &str) -> Result<Option<[u8; 32]>, KioskError> {
        self.with(|s, _| Ok(s.card_person(uid_hex)?.and_then(|p| super::hex_hash(&p))))
    }

    /// Binds a priority card to a keyed identity hash, and audits it.
    pub fn bind_card(
        &self,
        uid_hex: &str,
        person_hex: &str,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<(), KioskError> {
        self.with(|s, _| {
            s.bind_card(uid_hex, person_hex, at.0, &audit.actor)?;
            Ok(s.audit(audit)?)
        })
    }

    /// Writes one line of the audit log.
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), KioskError> {
        self.with(|s, _| Ok(s.audit(entry)?))
    }

    /// Records a print attempt (the reprint list reads these).
    pub fn record_print(
        &self,
        ticket: TicketId,
        at: Timestamp,
        problem: Option<&str>,
    ) -> Result<(), KioskError> {
        self.with(|s, _| Ok(s.record_print(ticket, at.0, problem.is_none(), problem)?))
    }

    /// The open tickets of `day` whose last print failed.
    pub fn reprint_list(&self, day: NaiveDate) -> Result<Vec<TicketId>, KioskError> {
        self.with(|s, _| Ok(s.reprint_list(day)?))
    }
}
