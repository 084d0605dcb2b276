//! The SQL of accompanied service: cases, their events (assigned, notes,
//! policies explained, closed), ratings and helpers' duty. The decisions
//! (who gets a case, what may be done) are `greenwave_core::cases`'s; this file only
//! reads and writes, each change in one IMMEDIATE transaction so that the
//! daemon's connection and the API's never assign one case twice.

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use chrono::NaiveDate;

use super::{day_bounds, read_ticket, Store, StoreError, TICKET_COLUMNS};
use crate::facts::{CaseFact, RatingFact};
use crate::queue::{Ticket, TicketId, Timestamp};
use greenwave_core::cases::{
    backlog_order, pick_helper, rebalance, Case, CaseEvent, CaseEventKind, CaseId, FollowUpReason,
    HelperLoad, Rating, RatingRecord, RatingSource,
};

/// A case with its ticket as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    /// The case.
    pub case: Case,
    /// Its ticket.
    pub ticket: Ticket,
}

const CASE_COLUMNS: &str = "id, ticket_id, helper, opened_at, closed_at";

fn read_case(r: &rusqlite::Row<'_>) -> rusqlite::Result<Case> {
    Ok(Case {
        id: CaseId(r.get(0)?),
        ticket_id: TicketId(r.get::<_, i64>(1)? as u64),
        helper: r.get(2)?,
        opened_at: Timestamp(r.get(3)?),
        closed_at: r.get::<_, Option<i64>>(4)?.map(Timestamp),
    })
}

/// Open tickets' states, for "the resident is still in the hall".
const OPEN_STATES: &str = "('waiting', 'transferred', 'called', 'serving')";

impl Store {
    /// The follow-up list: closed cases waiting for documents or a review
    /// whose resident has not had a later case closed done; `helper`'s
    /// own, or everyone's. Oldest first.
    pub fn follow_ups(&self, helper: Option<&str>) -> Result<Vec<FollowUpCase>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.id, t.number, t.day, c.helper, e.data, c.closed_at
                   FROM cases c JOIN tickets t ON t.id = c.ticket_id
                   JOIN case_events e ON e.case_id = c.id AND e.kind = 'follow_up'
                  WHERE (?1 IS NULL OR c.helper = ?1)
                    AND NOT EXISTS (
                      SELECT 1 FROM cases c2 JOIN tickets t2 ON t2.id = c2.ticket_id
                       WHERE t.person IS NOT NULL AND t2.person = t.person
                         AND c2.opened_at > c.opened_at AND c2.closed_at IS NOT NULL
                         AND NOT EXISTS (SELECT 1 FROM case_events e2
                                          WHERE e2.case_id = c2.id AND e2.kind = 'follow_up'))
                  ORDER BY c.closed_at, c.id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([helper], |r| {
                Ok((
                    CaseId(r.get(0)?),
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(id, number, day, helper, data, closed)| {
                self.follow_up_of(id, number, &day, helper, Some(&data), closed)
            })
            .collect()
    }

    fn follow_up_of(
        &self,
        id: CaseId,
        number: String,
        day: &str,
        helper: Option<String>,
        data: Option<&str>,
        closed_at: Option<i64>,
    ) -> Result<FollowUpCase, StoreError> {
        let bad = |d: String| self.corrupt("case_events", d);
        let (reason, missing) = match data.map(serde_json::from_str) {
            None => (None, None),
            Some(Ok(CaseEventKind::FollowUp { reason, missing })) => (Some(reason), missing),
            Some(_) => return Err(bad(format!("case {}: follow-up {data:?}", id.0))),
        };
        let notes = self
            .case_events(id)?
            .into_iter()
            .filter_map(|e| match e.kind {
                CaseEventKind::Note { text } => Some(text),
                _ => None,
            })
            .collect();
        Ok(FollowUpCase {
            number,
            day: super::parse_day(day).ok_or_else(|| bad(format!("day {day:?}")))?,
            helper,
            reason,
            missing,
            closed_at: closed_at.map(Timestamp),
            notes,
        })
    }

    /// The earlier case a case continues (its [`CaseEventKind::Follows`]):
    /// what was missing and the notes, for the helper.
    pub fn earlier_case(&self, case: CaseId) -> Result<Option<FollowUpCase>, StoreError> {
        let follows = self
            .case_events(case)?
            .into_iter()
            .find_map(|e| match e.kind {
                CaseEventKind::Follows { number, day } => Some((number, day)),
                _ => None,
            });
        let Some((number, day)) = follows else {
            return Ok(None);
        };
        let row: Option<(CaseId, Option<String>, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT c.id, c.helper, c.closed_at FROM cases c JOIN tickets t ON t.id = c.ticket_id
                  WHERE t.number = ?1 AND t.day = ?2",
                [&number, &day],
                |r| Ok((CaseId(r.get(0)?), r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((id, helper, closed)) = row else {
            return Ok(None);
        };
        let follow_up: Option<String> = self
            .conn
            .query_row(
                "SELECT data FROM case_events WHERE case_id = ?1 AND kind = 'follow_up'
                  ORDER BY seq DESC LIMIT 1",
                [id.0],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        self.follow_up_of(id, number, &day, helper, follow_up.as_deref(), closed)
            .map(Some)
    }

    fn immediate(&self) -> Result<Transaction<'_>, StoreError> {
        Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))
    }

    /// The load of each configured helper (`helpers` in configuration
    /// order): on duty or not, and open cases.
    pub fn helper_loads(&self, helpers: &[String]) -> Result<Vec<HelperLoad>, StoreError> {
        loads(&self.conn, helpers).map_err(|e| self.err(e))
    }

    /// Opens the case of a priority ticket unless it has one, and assigns it
    /// by [`pick_helper`] in the same transaction. Returns the new case and
    /// its helper, or `None` when the ticket already had a case.
    pub fn open_case(
        &self,
        ticket: TicketId,
        at: Timestamp,
        helpers: &[String],
        follow_days: u32,
    ) -> Result<Option<(CaseId, Option<String>)>, StoreError> {
        let tx = self.immediate()?;
        let out = open_in(&tx, ticket, at, helpers, follow_days).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Opens (and assigns) cases for the priority tickets of the current
    /// service day that have none: after the daemon missed events. Returns
    /// what it opened.
    pub fn open_missing_cases(
        &self,
        at: Timestamp,
        helpers: &[String],
        follow_days: u32,
    ) -> Result<Vec<(TicketId, CaseId, Option<String>)>, StoreError> {
        let tx = self.immediate()?;
        let ids: Vec<(i64, i64)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT t.id, t.issued_at FROM tickets t
                     WHERE t.lane = 'priority'
                       AND t.day = (SELECT value FROM meta WHERE key = 'service_day')
                       AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.ticket_id = t.id)
                     ORDER BY t.id",
                )
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| self.err(e))?;
            rows.collect::<rusqlite::Result<_>>()
                .map_err(|e| self.err(e))?
        };
        let mut out = Vec::new();
        for (id, issued_at) in ids {
            let t = TicketId(id as u64);
            // `at` was read before this transaction: a ticket issued in
            // between must not get a case that opened before it did.
            let at = at.max(Timestamp(issued_at));
            if let Some((c, h)) =
                open_in(&tx, t, at, helpers, follow_days).map_err(|e| self.err(e))?
            {
                out.push((t, c, h));
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Puts a helper on or off duty. Going on duty, the unassigned open
    /// cases whose resident is still in line or at a window are spread over
    /// the helpers on duty by [`backlog_order`], oldest first; returns those
    /// assignments as (ticket number, helper).
    pub fn set_duty(
        &self,
        helper: &str,
        on: bool,
        at: Timestamp,
        helpers: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let tx = self.immediate()?;
        let res = (|| -> rusqlite::Result<Vec<(String, String)>> {
            tx.execute(
                "INSERT INTO helper_duty (helper, on_duty, since) VALUES (?1, ?2, ?3)
                 ON CONFLICT(helper) DO UPDATE SET on_duty = excluded.on_duty,
                   since = CASE WHEN on_duty = excluded.on_duty THEN since ELSE excluded.since END",
                params![helper, on, at.0],
            )?;
            if !on {
                return Ok(Vec::new());
            }
            let backlog: Vec<(CaseId, String)> = {
                let mut stmt = tx.prepare(&format!(
                    "SELECT c.id, t.number FROM cases c JOIN tickets t ON t.id = c.ticket_id
                     WHERE c.helper IS NULL AND c.closed_at IS NULL AND t.state IN {OPEN_STATES}
                     ORDER BY c.id"
                ))?;
                let rows = stmt.query_map([], |r| Ok((CaseId(r.get(0)?), r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let ids: Vec<CaseId> = backlog.iter().map(|(c, _)| *c).collect();
            let mut out = Vec::new();
            for (c, h) in backlog_order(&loads(&tx, helpers)?, &ids) {
                assign_in(&tx, c, &h, "system", at)?;
                let number = backlog
                    .iter()
                    .find(|(b, _)| *b == c)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default();
                out.push((number, h));
            }
            out.extend(rebalance_in(&tx, at, helpers)?);
            Ok(out)
        })()
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(res)
    }

    /// Shares the unstarted cases among the helpers on duty by
    /// [`rebalance`] (two or more apart); returns the moves as (ticket
    /// number, new helper).
    pub fn rebalance_cases(
        &self,
        at: Timestamp,
        helpers: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let tx = self.immediate()?;
        let moves = rebalance_in(&tx, at, helpers).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(moves)
    }

    /// The case of a ticket, if it has one.
    pub fn case_of_ticket(&self, ticket: TicketId) -> Result<Option<Case>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {CASE_COLUMNS} FROM cases WHERE ticket_id = ?1"),
                [ticket.0 as i64],
                read_case,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The latest ticket with this number (today's, if it exists today).
    pub fn ticket_by_number(&self, number: &str) -> Result<Option<Ticket>, StoreError> {
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT {TICKET_COLUMNS} FROM tickets WHERE number = ?1 ORDER BY id DESC LIMIT 1"
                ),
                [number],
                read_ticket,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        row.transpose().map_err(|d| self.corrupt("tickets", d))
    }

    /// Cases with their tickets: for a helper (`Some`), open cases that are
    /// theirs or unassigned; for the manager (`None`), every case of the
    /// current service day and every case still open. Oldest first.
    pub fn list_cases(&self, helper: Option<&str>) -> Result<Vec<CaseRow>, StoreError> {
        let cases: Vec<Case> = {
            let (cond, p): (&str, Vec<String>) = match helper {
                Some(h) => (
                    "c.closed_at IS NULL AND (c.helper IS NULL OR c.helper = ?1)",
                    vec![h.to_string()],
                ),
                None => (
                    "c.closed_at IS NULL OR t.day = (SELECT value FROM meta WHERE key = 'service_day')",
                    vec![],
                ),
            };
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT c.id, c.ticket_id, c.helper, c.opened_at, c.closed_at
                     FROM cases c JOIN tickets t ON t.id = c.ticket_id
                     WHERE {cond} ORDER BY c.id"
                ))
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(p), read_case)
                .map_err(|e| self.err(e))?;
            rows.collect::<rusqlite::Result<_>>()
                .map_err(|e| self.err(e))?
        };
        let mut out = Vec::with_capacity(cases.len());
        for case in cases {
            let ticket = self
                .ticket_by_id(case.ticket_id)?
                .ok_or_else(|| self.corrupt("cases", format!("case {}: no ticket", case.id.0)))?;
            out.push(CaseRow { case, ticket });
        }
        Ok(out)
    }

    /// One ticket by id.
    pub fn ticket_by_id(&self, id: TicketId) -> Result<Option<Ticket>, StoreError> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?1"),
                [id.0 as i64],
                read_ticket,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        row.transpose().map_err(|d| self.corrupt("tickets", d))
    }

    /// Assigns a case to `helper`. With `only_unassigned`, only while it has
    /// no helper (a helper taking it); otherwise also from another helper
    /// (the manager reassigning). Returns false when the case was closed,
    /// or taken meanwhile.
    pub fn assign_case(
        &self,
        case: CaseId,
        helper: &str,
        actor: &str,
        at: Timestamp,
        only_unassigned: bool,
    ) -> Result<bool, StoreError> {
        let tx = self.immediate()?;
        let n = tx
            .execute(
                "UPDATE cases SET helper = ?2 WHERE id = ?1 AND closed_at IS NULL
                   AND (helper IS NULL OR NOT ?3)",
                params![case.0, helper, only_unassigned],
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Ok(false);
        }
        record_in(
            &tx,
            case,
            at,
            actor,
            &CaseEventKind::Assigned {
                helper: helper.to_string(),
            },
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(true)
    }

    /// Records case events (notes, policies explained, closed) in one
    /// transaction; a `Closed` event also closes the case. Returns false,
    /// recording nothing, when the case is already closed.
    pub fn record_case_events(
        &self,
        case: CaseId,
        at: Timestamp,
        actor: &str,
        kinds: &[CaseEventKind],
    ) -> Result<bool, StoreError> {
        let tx = self.immediate()?;
        let res = (|| -> rusqlite::Result<bool> {
            let closed: Option<i64> =
                tx.query_row("SELECT closed_at FROM cases WHERE id = ?1", [case.0], |r| {
                    r.get(0)
                })?;
            if closed.is_some() {
                return Ok(false);
            }
            for k in kinds {
                record_in(&tx, case, at, actor, k)?;
                if matches!(k, CaseEventKind::Closed) {
                    tx.execute(
                        "UPDATE cases SET closed_at = ?2 WHERE id = ?1",
                        params![case.0, at.0],
                    )?;
                }
            }
            Ok(true)
        })()
        .map_err(|e| self.err(e))?;
        if res {
            tx.commit().map_err(|e| self.err(e))?;
        }
        Ok(res)
    }

    /// A case's events, oldest first.
    pub fn case_events(&self, case: CaseId) -> Result<Vec<CaseEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, at, actor, data FROM case_events WHERE case_id = ?1 ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([case.0], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for r in rows {
            let (seq, at, actor, data) = r.map_err(|e| self.err(e))?;
            let kind = serde_json::from_str(&data)
                .map_err(|e| self.corrupt("case_events", format!("seq {seq}: {e}")))?;
            out.push(CaseEvent {
                at: Timestamp(at),
                actor,
                kind,
            });
        }
        Ok(out)
    }

    /// The rating of a ticket, if it was rated.
    pub fn rating(&self, ticket: TicketId) -> Result<Option<RatingRecord>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT rating, comment, at, by, source FROM ratings WHERE ticket_id = ?1",
                [ticket.0 as i64],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match row {
            None => Ok(None),
            Some((rating, comment, at, by, source)) => Ok(Some(RatingRecord {
                rating: self.parse_rating(ticket, &rating)?,
                comment,
                at: Timestamp(at),
                by,
                source: self.parse_source(ticket, &source)?,
            })),
        }
    }

    fn parse_rating(&self, ticket: TicketId, s: &str) -> Result<Rating, StoreError> {
        Rating::parse(s).ok_or_else(|| self.corrupt("ratings", format!("ticket {ticket}: {s:?}")))
    }

    fn parse_source(&self, ticket: TicketId, s: &str) -> Result<RatingSource, StoreError> {
        RatingSource::parse(s)
            .ok_or_else(|| self.corrupt("ratings", format!("ticket {ticket}: source {s:?}")))
    }

    /// Stores a ticket's rating; false (nothing stored) when it was rated
    /// already: a ticket is rated once.
    pub fn record_rating(&self, ticket: TicketId, r: &RatingRecord) -> Result<bool, StoreError> {
        self.conn
            .execute(
                "INSERT INTO ratings (ticket_id, rating, comment, at, by, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(ticket_id) DO NOTHING",
                params![
                    ticket.0 as i64,
                    r.rating.as_str(),
                    r.comment,
                    r.at.0,
                    r.by,
                    r.source.as_str()
                ],
            )
            .map(|n| n == 1)
            .map_err(|e| self.err(e))
    }

    /// The unhappy ratings (不满意, 非常不满意) recorded at or after
    /// `since`, and those not handled yet whenever they were recorded,
    /// newest first.
    pub fn unhappy_ratings(&self, since: Timestamp) -> Result<Vec<UnhappyRating>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT ticket_id, rating, comment, at, by, source, handled_at, handled_by, handled_note
                   FROM ratings
                  WHERE rating IN ('不满意', '非常不满意') AND (at >= ?1 OR handled_at IS NULL)
                  ORDER BY at DESC, ticket_id DESC",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([since.0], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    (
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ),
                    (
                        r.get::<_, Option<i64>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ),
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, (rating, comment, at, by, source), handled) = row.map_err(|e| self.err(e))?;
            let ticket = TicketId(id as u64);
            out.push(UnhappyRating {
                ticket,
                record: RatingRecord {
                    rating: self.parse_rating(ticket, &rating)?,
                    comment,
                    at: Timestamp(at),
                    by,
                    source: self.parse_source(ticket, &source)?,
                },
                handled: match handled {
                    (Some(at), Some(by), note) => Some(Handled {
                        at: Timestamp(at),
                        by,
                        note: note.unwrap_or_default(),
                    }),
                    _ => None,
                },
            });
        }
        Ok(out)
    }

    /// How many unhappy ratings wait to be handled.
    pub fn unhandled_unhappy(&self) -> Result<usize, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM ratings
                  WHERE rating IN ('不满意', '非常不满意') AND handled_at IS NULL",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
            .map_err(|e| self.err(e))
    }

    /// Marks an unhappy rating handled; false when there is no unhappy
    /// rating of that ticket not handled yet.
    pub fn mark_handled(&self, ticket: TicketId, h: &Handled) -> Result<bool, StoreError> {
        self.conn
            .execute(
                "UPDATE ratings SET handled_at = ?2, handled_by = ?3, handled_note = ?4
                  WHERE ticket_id = ?1 AND rating IN ('不满意', '非常不满意')
                    AND handled_at IS NULL",
                params![ticket.0 as i64, h.at.0, h.by, h.note],
            )
            .map(|n| n == 1)
            .map_err(|e| self.err(e))
    }
}

/// An unhappy rating, for the manager's alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnhappyRating {
    /// The rated ticket.
    pub ticket: TicketId,
    /// The rating.
    pub record: RatingRecord,
    /// Whether, when, by whom and how it was handled.
    pub handled: Option<Handled>,
}

/// A case closed waiting for something (`待补材料`, `待审核`), on its
/// helper's follow-up list until the resident's next visit is closed done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpCase {
    /// The ticket's number.
    pub number: String,
    /// Its service day.
    pub day: NaiveDate,
    /// The helper.
    pub helper: Option<String>,
    /// What it waits for (`None`: an earlier case closed done).
    pub reason: Option<FollowUpReason>,
    /// What the resident must bring.
    pub missing: Option<String>,
    /// When it was closed.
    pub closed_at: Option<Timestamp>,
    /// The helper's notes, oldest first.
    pub notes: Vec<String>,
}

/// The manager's follow-up of an unhappy rating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// When.
    pub at: Timestamp,
    /// Who (`manager`).
    pub by: String,
    /// What was done (`已电话回访，重新预约`).
    pub note: String,
}

fn loads(conn: &Connection, helpers: &[String]) -> rusqlite::Result<Vec<HelperLoad>> {
    let mut duty = conn.prepare("SELECT on_duty FROM helper_duty WHERE helper = ?1")?;
    let mut open =
        conn.prepare("SELECT COUNT(*) FROM cases WHERE helper = ?1 AND closed_at IS NULL")?;
    helpers
        .iter()
        .map(|h| {
            Ok(HelperLoad {
                id: h.clone(),
                on_duty: duty
                    .query_row([h], |r| r.get::<_, bool>(0))
                    .optional()?
                    .unwrap_or(false),
                open_cases: open.query_row([h], |r| r.get(0))?,
            })
        })
        .collect()
}

/// The open cases nobody has started (only opened and assigned by the
/// system; a case continuing an earlier visit stays with its helper),
/// whose resident is still in line or at a window, oldest first,
/// with their owner; moved by [`rebalance`] as (ticket number, helper).
fn rebalance_in(
    tx: &Connection,
    at: Timestamp,
    helpers: &[String],
) -> rusqlite::Result<Vec<(String, String)>> {
    let movable: Vec<(CaseId, String, String)> = {
        let mut stmt = tx.prepare(&format!(
            "SELECT c.id, c.helper, t.number FROM cases c JOIN tickets t ON t.id = c.ticket_id
              WHERE c.helper IS NOT NULL AND c.closed_at IS NULL AND t.state IN {OPEN_STATES}
                AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id
                      AND NOT (e.kind = 'case_opened' OR (e.kind = 'assigned' AND e.actor = 'system')))
              ORDER BY c.id"
        ))?;
        let rows = stmt.query_map([], |r| Ok((CaseId(r.get(0)?), r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    if movable.is_empty() {
        return Ok(Vec::new());
    }
    let owners: Vec<(CaseId, String)> = movable.iter().map(|(c, h, _)| (*c, h.clone())).collect();
    let mut out = Vec::new();
    for (case, to) in rebalance(&loads(tx, helpers)?, &owners) {
        assign_in(tx, case, &to, "system", at)?;
        let number = movable
            .iter()
            .find(|(c, ..)| *c == case)
            .map(|(_, _, n)| n.clone())
            .unwrap_or_default();
        out.push((number, to));
    }
    Ok(out)
}

fn open_in(
    tx: &Connection,
    ticket: TicketId,
    at: Timestamp,
    helpers: &[String],
    follow_days: u32,
) -> rusqlite::Result<Option<(CaseId, Option<String>)>> {
    let n = tx.execute(
        "INSERT INTO cases (ticket_id, opened_at) VALUES (?1, ?2) ON CONFLICT(ticket_id) DO NOTHING",
        params![ticket.0 as i64, at.0],
    )?;
    if n == 0 {
        return Ok(None);
    }
    let case = CaseId(tx.last_insert_rowid());
    record_in(tx, case, at, "system", &CaseEventKind::Opened)?;
    let loads = loads(tx, helpers)?;
    // The resident's earlier case within the follow-up period: linked, and
    // its helper keeps them when on duty.
    let since = at.0 - i64::from(follow_days) * 86_400_000;
    let earlier: Option<(String, String, Option<String>)> = tx
        .query_row(
            "SELECT t0.number, t0.day, c0.helper FROM tickets t
               JOIN tickets t0 ON t0.person = t.person AND t0.id != t.id
               JOIN cases c0 ON c0.ticket_id = t0.id
              WHERE t.id = ?1 AND t.person IS NOT NULL AND c0.opened_at >= ?2
              ORDER BY c0.opened_at DESC LIMIT 1",
            params![ticket.0 as i64, since],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let mut preferred = None;
    if let Some((number, day, helper)) = earlier {
        record_in(
            tx,
            case,
            at,
            "system",
            &CaseEventKind::Follows { number, day },
        )?;
        preferred = helper.filter(|h| loads.iter().any(|l| l.id == *h && l.on_duty));
    }
    let helper = preferred.or_else(|| pick_helper(&loads).map(str::to_string));
    if let Some(h) = &helper {
        assign_in(tx, case, h, "system", at)?;
    }
    Ok(Some((case, helper)))
}

fn assign_in(
    tx: &Connection,
    case: CaseId,
    helper: &str,
    actor: &str,
    at: Timestamp,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE cases SET helper = ?2 WHERE id = ?1",
        params![case.0, helper],
    )?;
    record_in(
        tx,
        case,
        at,
        actor,
        &CaseEventKind::Assigned {
            helper: helper.to_string(),
        },
    )
}

fn record_in(
    tx: &Connection,
    case: CaseId,
    at: Timestamp,
    actor: &str,
    kind: &CaseEventKind,
) -> rusqlite::Result<()> {
    let data = serde_json::to_string(kind)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    tx.execute(
        "INSERT INTO case_events (case_id, at, actor, kind, data) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![case.0, at.0, actor, kind.name(), data],
    )?;
    Ok(())
}

impl Store {
    /// The cases of tickets issued on days `from..=to` (either bound
    /// optional), as the statistics need them: helper, distinct policies
    /// explained, closed.
    pub fn case_facts(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<CaseFact>, StoreError> {
        let (from, to) = day_bounds(from, to);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.ticket_id, c.helper, c.closed_at IS NOT NULL,
                        (SELECT COUNT(DISTINCT json_extract(e.data, '$.policy'))
                           FROM case_events e
                          WHERE e.case_id = c.id AND e.kind = 'policy_explained')
                   FROM cases c JOIN tickets t ON t.id = c.ticket_id
                  WHERE t.day >= ?1 AND t.day <= ?2
                  ORDER BY c.id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([from, to], |r| {
                Ok(CaseFact {
                    ticket: TicketId(r.get::<_, i64>(0)? as u64),
                    helper: r.get(1)?,
                    closed: r.get(2)?,
                    policies: r.get::<_, i64>(3)? as usize,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The ratings of tickets issued on days `from..=to` (either bound
    /// optional).
    pub fn rating_facts(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<RatingFact>, StoreError> {
        let (from, to) = day_bounds(from, to);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.ticket_id, r.rating, r.source FROM ratings r
                   JOIN tickets t ON t.id = r.ticket_id
                  WHERE t.day >= ?1 AND t.day <= ?2 ORDER BY r.ticket_id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([from, to], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for r in rows {
            let (ticket, rating, source) = r.map_err(|e| self.err(e))?;
            let ticket = TicketId(ticket as u64);
            out.push(RatingFact {
                ticket,
                rating: self.parse_rating(ticket, &rating)?,
                source: self.parse_source(ticket, &source)?,
            });
        }
        Ok(out)
    }
}
