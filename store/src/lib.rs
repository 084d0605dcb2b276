//! The store: the only crate that speaks SQL (the main crate does not
//! depend on rusqlite at all).
//!
//! SQLite in WAL mode with `synchronous = FULL`: when [`Store::commit`]
//! returns, the event is in the journal and the current state is updated, in
//! one transaction, on disk. Nothing is ever deleted: a day rollover marks
//! open tickets expired.

mod bookings;
mod cases;
mod facts;
pub mod hwm;
pub mod journal;
mod kiosk;
mod migrations;
mod outbox;
mod pins;
mod roster;

// The core's queue under its usual name: `crate::queue::...` reads the
// same here as in the main crate.
use greenwave_core::queue;

pub use bookings::{Booking, BookingLogEntry};
pub use cases::{CaseRow, FollowUpCase, Handled, UnhappyRating};
pub use facts::{AgeBand, CaseFact, End, Profile, RatingFact, Records, TicketSummary};
pub use outbox::{CardBinding, Pending};
pub use pins::{PinAttempts, PinStatus, StoredPin};
pub use roster::{AuditEntry, RosterBuild, RosterHit, RosterLookup, RosterState};

use std::path::Path;

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use greenwave_core::Actor;

use crate::queue::{
    Changes, Event, Identified, Lane, Ticket, TicketId, TicketState, Timestamp, WindowState,
};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused or failed.
    #[error("database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database is from a newer greenwave.
    #[error("database {path} has schema version {found}, newer than this greenwave ({supported}); upgrade greenwave")]
    TooNew {
        /// The database file.
        path: String,
        /// Its version.
        found: i64,
        /// Ours.
        supported: i64,
    },
    /// A row could not be read back.
    #[error("database {path}: corrupt row in {table}: {detail}")]
    Corrupt {
        /// The database file.
        path: String,
        /// Table.
        table: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// Another transaction changed a ticket under us: a second writer.
    #[error("ticket {0} was changed by another writer; nothing was recorded")]
    Conflict(TicketId),
}

/// One event as journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// Position in the journal, from 1.
    pub seq: i64,
    /// Service day it was recorded in.
    pub day: NaiveDate,
    /// The event.
    pub event: Event,
    /// Who did it (`Actor::recorded`); `None` for rows written before
    /// actors were journaled.
    pub actor: Option<String>,
}

/// Everything needed to rebuild the queue after a restart.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The service day recorded last, if any.
    pub day: Option<NaiveDate>,
    /// Tickets of that day.
    pub tickets: Vec<Ticket>,
    /// Windows' states.
    pub windows: Vec<(u32, WindowState)>,
    /// One past the largest ticket id ever issued.
    pub next_id: u64,
}

/// The hall's database.
pub struct Store {
    conn: Connection,
    path: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to
    /// date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let name = path.display().to_string();
        let conn = Connection::open(path).map_err(|e| sql(&name, e))?;
        let mut store = Store { conn, path: name };
        store.configure()?;
        migrations::migrate(&mut store.conn, &store.path)?;
        Ok(store)
    }

    /// The database file, as opened.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn configure(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 5000;",
            )
            .map_err(|e| self.err(e))
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        sql(&self.path, e)
    }

    /// Journals `events` and persists the rows they changed, atomically and
    /// durably. A `called` event is refused with [`StoreError::Conflict`]
    /// unless the ticket is still waiting in the database, so that two
    /// writers can never hand one ticket to two windows.
    pub fn commit(
        &mut self,
        day: NaiveDate,
        actor: &Actor,
        events: &[(Event, Changes)],
    ) -> Result<(), StoreError> {
        self.commit_request(day, actor, events, None, None)
    }

    /// [`Store::commit`], with the idempotency key of the request that
    /// caused the first event (a kiosk machine's swipe), kept in the same
    /// row so that the request and its effect commit together; and the
    /// profile of a ticket the first event issues (category, age band).
    pub fn commit_request(
        &mut self,
        day: NaiveDate,
        actor: &Actor,
        events: &[(Event, Changes)],
        request: Option<&str>,
        profile: Option<&Profile>,
    ) -> Result<(), StoreError> {
        let actor = actor.recorded();
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql(&path, e))?;
        for (i, (event, changes)) in events.iter().enumerate() {
            let request = if i == 0 { request } else { None };
            if let Event::Called { id, .. } = event {
                let state: Option<String> = tx
                    .query_row(
                        "SELECT state FROM tickets WHERE id = ?1",
                        [id.0 as i64],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(|e| sql(&path, e))?;
                let waiting = state
                    .as_deref()
                    .and_then(TicketState::parse)
                    .is_some_and(TicketState::is_waiting);
                if !waiting {
                    return Err(StoreError::Conflict(*id));
                }
            }
            let data = journal::encode(event).map_err(|e| StoreError::Corrupt {
                path: path.clone(),
                table: "events",
                detail: e.to_string(),
            })?;
            tx.execute(
                "INSERT INTO events (at, day, kind, ticket_id, window, data, format, actor, request)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    event.at().0,
                    day.to_string(),
                    event.kind(),
                    event.ticket_id().map(|t| t.0 as i64),
                    event.window(),
                    data,
                    journal::FORMAT,
                    actor,
                    request
                ],
            )
            .map_err(|e| sql(&path, e))?;
            for t in &changes.tickets {
                upsert_ticket(&tx, t).map_err(|e| sql(&path, e))?;
            }
            if let (Event::Issued { ticket }, Some(p), 0) = (event, profile, i) {
                tx.execute(
                    "UPDATE tickets SET category = ?2, age_band = ?3 WHERE id = ?1",
                    params![
                        ticket.id.0 as i64,
                        p.category.as_deref(),
                        p.age_band.map(AgeBand::as_str)
                    ],
                )
                .map_err(|e| sql(&path, e))?;
            }
            for (n, w) in &changes.windows {
                tx.execute(
                    "INSERT INTO windows (number, current_ticket, paused, priority_streak) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(number) DO UPDATE SET current_ticket = excluded.current_ticket,
                       paused = excluded.paused, priority_streak = excluded.priority_streak",
                    params![n, w.current.map(|t| t.0 as i64), w.paused, w.priority_streak],
                )
                .map_err(|e| sql(&path, e))?;
            }
            if let Some(d) = changes.day {
                set_day(&tx, d).map_err(|e| sql(&path, e))?;
            }
        }
        tx.commit().map_err(|e| sql(&path, e))
    }

    /// The ticket a request (by its idempotency key) caused, if it was
    /// committed.
    pub fn ticket_of_request(&self, request: &str) -> Result<Option<TicketId>, StoreError> {
        let id: Option<Option<i64>> = self
            .conn
            .query_row(
                "SELECT ticket_id FROM events WHERE request = ?1",
                [request],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(id.flatten().map(|i| TicketId(i as u64)))
    }

    /// Records the service day of an empty database.
    pub fn init_day(&mut self, day: NaiveDate) -> Result<(), StoreError> {
        set_day(&self.conn, day)
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Reads what is needed to rebuild the queue.
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let day: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'service_day'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let day = match day {
            Some(d) => Some(
                parse_day(&d).ok_or_else(|| self.corrupt("meta", format!("service_day {d:?}")))?,
            ),
            None => None,
        };
        let tickets = match day {
            Some(d) => self.tickets_of_day(d)?,
            None => Vec::new(),
        };
        let mut windows = Vec::new();
        let mut stmt = self
            .conn
            .prepare("SELECT number, current_ticket, paused, priority_streak FROM windows ORDER BY number")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, u32>(0)?,
                    WindowState {
                        current: r.get::<_, Option<i64>>(1)?.map(|i| TicketId(i as u64)),
                        paused: r.get(2)?,
                        priority_streak: r.get(3)?,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        for w in rows {
            windows.push(w.map_err(|e| self.err(e))?);
        }
        let max_id: Option<i64> = self
            .conn
            .query_row("SELECT MAX(id) FROM tickets", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(Snapshot {
            day,
            tickets,
            windows,
            next_id: max_id.map_or(1, |m| m as u64 + 1),
        })
    }

    /// All tickets of a service day, in issue order.
    pub fn tickets_of_day(&self, day: NaiveDate) -> Result<Vec<Ticket>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE day = ?1 ORDER BY id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([day.to_string()], read_ticket)
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for r in rows {
            let t = r.map_err(|e| self.err(e))?;
            out.push(t.map_err(|d| self.corrupt("tickets", d))?);
        }
        Ok(out)
    }

    /// The whole journal, oldest first.
    pub fn journal(&self) -> Result<Vec<JournalEntry>, StoreError> {
        self.journal_where("1 = 1", [])
    }

    /// The journal of the service days `from..=to` (either bound optional),
    /// oldest first. A ticket's events all fall on its own service day.
    pub fn journal_between(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let (from, to) = day_bounds(from, to);
        self.journal_where("day >= ?1 AND day <= ?2", [from, to])
    }

    /// Everything the statistics of the days `from..=to` are computed from:
    /// the journal, the cases and the ratings.
    pub fn stats_records(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Records, StoreError> {
        Ok(Records {
            tickets: self.ticket_summaries(from, to)?,
            cases: self.case_facts(from, to)?,
            ratings: self.rating_facts(from, to)?,
        })
    }

    /// One summary per ticket issued on the days `from..=to` (either bound
    /// optional), in issue order, from the tickets table: what the
    /// statistics read instead of replaying the journal.
    pub fn ticket_summaries(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<TicketSummary>, StoreError> {
        let (from, to) = day_bounds(from, to);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, day, lane, origin_service, issued_at, first_called_at, started_at,
                        closed_at, window, transfers, state, identified, category, age_band,
                        slot_at
                   FROM tickets WHERE day >= ?1 AND day <= ?2 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([from, to]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        let mut last_day: Option<(String, NaiveDate)> = None;
        let mut services: Vec<std::sync::Arc<str>> = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let id = r.get::<_, i64>(0).map_err(|e| self.err(e))?;
            let bad = |what: &str, v: &str| {
                self.corrupt("tickets", format!("ticket #{id}: {what} {v:?}"))
            };
            // Borrowed text: no allocation per row for the short columns.
            let text = |i: usize| -> Result<&str, StoreError> {
                r.get_ref(i)
                    .and_then(|v| v.as_str().map_err(Into::into))
                    .map_err(|e| self.err(e))
            };
            let get = |i: usize| r.get::<_, Option<i64>>(i).map_err(|e| self.err(e));
            let day_text = text(1)?;
            let day = match &last_day {
                Some((t, d)) if t == day_text => *d,
                _ => {
                    let d = parse_day(day_text).ok_or_else(|| bad("day", day_text))?;
                    last_day = Some((day_text.to_string(), d));
                    d
                }
            };
            let lane = text(2)?;
            let state = text(10)?;
            let state = TicketState::parse(state).ok_or_else(|| bad("state", state))?;
            let end = match state {
                TicketState::Done => Some(End::Done),
                TicketState::NoShow => Some(End::NoShow),
                TicketState::Cancelled => Some(End::Cancelled),
                TicketState::Expired => Some(End::Expired),
                _ => None,
            };
            let service = text(3)?;
            let service = match services.iter().find(|s| &***s == service) {
                Some(s) => s.clone(),
                None => {
                    let s: std::sync::Arc<str> = service.into();
                    services.push(s.clone());
                    s
                }
            };
            let identified = match r.get_ref(11).map_err(|e| self.err(e))?.as_str_or_null() {
                Ok(None) => None,
                Ok(Some(w)) => Some(Identified::parse(w).ok_or_else(|| bad("identified", w))?),
                Err(e) => return Err(self.err(e.into())),
            };
            let ts = |i: usize| Ok::<_, StoreError>(get(i)?.map(Timestamp));
            let profile = self.profile_columns(r, 12, &mut services, &bad)?;
            out.push(TicketSummary {
                id: TicketId(id as u64),
                day,
                lane: Lane::parse(lane).ok_or_else(|| bad("lane", lane))?,
                service,
                issued_at: Timestamp(r.get(4).map_err(|e| self.err(e))?),
                slot_at: ts(14)?,
                first_called_at: ts(5)?,
                started_at: ts(6)?,
                finished_at: if end == Some(End::Done) { ts(7)? } else { None },
                window: get(8)?.map(|w| w as u32),
                transfers: r.get(9).map_err(|e| self.err(e))?,
                end,
                identified,
                profile,
            });
        }
        Ok(out)
    }

    /// The profile in columns `at` (category) and `at + 1` (age band),
    /// categories shared through `names`.
    fn profile_columns(
        &self,
        r: &rusqlite::Row<'_>,
        at: usize,
        names: &mut Vec<std::sync::Arc<str>>,
        bad: &dyn Fn(&str, &str) -> StoreError,
    ) -> Result<Profile, StoreError> {
        let text = |i: usize| -> Result<Option<&str>, StoreError> {
            r.get_ref(i)
                .and_then(|v| v.as_str_or_null().map_err(Into::into))
                .map_err(|e| self.err(e))
        };
        let category = text(at)?.map(|c| match names.iter().find(|s| &***s == c) {
            Some(s) => s.clone(),
            None => {
                let s: std::sync::Arc<str> = c.into();
                names.push(s.clone());
                s
            }
        });
        let age_band = match text(at + 1)? {
            None => None,
            Some(b) => Some(AgeBand::parse(b).ok_or_else(|| bad("age band", b))?),
        };
        Ok(Profile { category, age_band })
    }

    /// The service days `from..=to` that have tickets, in order.
    pub fn ticket_days(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NaiveDate>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT day FROM tickets WHERE day >= ?1 AND day <= ?2 ORDER BY day")
            .map_err(|e| self.err(e))?;
        let days = stmt
            .query_map([from.to_string(), to.to_string()], |r| {
                r.get::<_, String>(0)
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for d in days {
            let d = d.map_err(|e| self.err(e))?;
            out.push(parse_day(&d).ok_or_else(|| self.corrupt("tickets", format!("day {d:?}")))?);
        }
        Ok(out)
    }

    /// The journal entries of one ticket, oldest first.
    pub fn ticket_history(&self, id: TicketId) -> Result<Vec<JournalEntry>, StoreError> {
        self.journal_where("ticket_id = ?1", [id.0 as i64])
    }

    fn journal_where<P: rusqlite::Params>(
        &self,
        cond: &str,
        p: P,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT seq, day, data, format, actor FROM events WHERE {cond} ORDER BY seq"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(p, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for r in rows {
            let (seq, day, data, format, actor) = r.map_err(|e| self.err(e))?;
            let event = journal::decode(format, &data)
                .map_err(|e| self.corrupt("events", format!("seq {seq}: {e}")))?;
            let day = parse_day(&day)
                .ok_or_else(|| self.corrupt("events", format!("seq {seq}: day {day:?}")))?;
            out.push(JournalEntry {
                seq,
                day,
                event,
                actor,
            });
        }
        Ok(out)
    }

    fn corrupt(&self, table: &'static str, detail: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            table,
            detail,
        }
    }
}

const TICKET_COLUMNS: &str =
    "id, day, number, service, origin_service, lane, seq, issued_at, state, \
     window, target_window, called_at, started_at, closed_at, calls, transfers, token, person, identified, first_called_at, \
     slot_at, booking";

fn upsert_ticket(conn: &Connection, t: &Ticket) -> rusqlite::Result<usize> {
    conn.execute(
        &format!(
            "INSERT INTO tickets ({TICKET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)
             ON CONFLICT(id) DO UPDATE SET service = excluded.service, lane = excluded.lane, state = excluded.state,
               window = excluded.window, target_window = excluded.target_window,
               called_at = excluded.called_at, started_at = excluded.started_at,
               closed_at = excluded.closed_at, calls = excluded.calls, transfers = excluded.transfers,
               identified = excluded.identified, first_called_at = excluded.first_called_at"
        ),
        params![
            t.id.0 as i64,
            t.day.to_string(),
            t.number,
            t.service,
            t.origin_service,
            t.lane.as_str(),
            t.seq,
            t.issued_at.0,
            t.state.as_str(),
            t.window,
            t.target_window,
            t.called_at.map(|x| x.0),
            t.started_at.map(|x| x.0),
            t.closed_at.map(|x| x.0),
            t.calls,
            t.transfers,
            t.token,
            t.person,
            t.identified.map(Identified::as_str),
            t.first_called_at.map(|x| x.0),
            t.slot_at.map(|x| x.0),
            t.booking
        ],
    )
}

/// Reads one ticket row; the inner error describes a value that does not
/// parse.
fn read_ticket(r: &Row<'_>) -> rusqlite::Result<Result<Ticket, String>> {
    let day: String = r.get(1)?;
    let lane: String = r.get(5)?;
    let state: String = r.get(8)?;
    let ts = |i: usize| -> rusqlite::Result<Option<Timestamp>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(Timestamp))
    };
    let id = TicketId(r.get::<_, i64>(0)? as u64);
    let identified = match r.get::<_, Option<String>>(18)? {
        None => None,
        Some(w) => match Identified::parse(&w) {
            Some(w) => Some(w),
            None => return Ok(Err(format!("ticket {id}: identified {w:?}"))),
        },
    };
    let (Some(day), Some(lane), Some(state)) = (
        parse_day(&day),
        Lane::parse(&lane),
        TicketState::parse(&state),
    ) else {
        return Ok(Err(format!(
            "ticket {id}: day {day:?}, lane {lane:?}, state {state:?}"
        )));
    };
    Ok(Ok(Ticket {
        id,
        day,
        number: r.get(2)?,
        service: r.get(3)?,
        origin_service: r.get(4)?,
        lane,
        seq: r.get(6)?,
        issued_at: Timestamp(r.get(7)?),
        state,
        window: r.get(9)?,
        target_window: r.get(10)?,
        called_at: ts(11)?,
        started_at: ts(12)?,
        closed_at: ts(13)?,
        calls: r.get(14)?,
        transfers: r.get(15)?,
        token: r.get(16)?,
        person: r.get(17)?,
        identified,
        first_called_at: ts(19)?,
        slot_at: ts(20)?,
        booking: r.get(21)?,
    }))
}

fn set_day(conn: &Connection, day: NaiveDate) -> rusqlite::Result<usize> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('service_day', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [day.to_string()],
    )
}

/// Optional day bounds as the text compared with `day` columns.
fn day_bounds(from: Option<NaiveDate>, to: Option<NaiveDate>) -> (String, String) {
    (
        from.map_or("0000-00-00".to_string(), |d| d.to_string()),
        to.map_or("9999-99-99".to_string(), |d| d.to_string()),
    )
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn sql(path: &str, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.to_string(),
        source,
    }
}
