//! The hall's side of the city push: the outbox of tickets whose facts
//! changed (filled by triggers, migration 11), its cursor, and the priority
//! card bindings to share with the other halls.

use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension};

use greenwave_core::queue::TicketId;

use super::{parse_day, Store, StoreError};

/// What changed since the cursor: the tickets (each once) and the days
/// they belong to, up to the outbox row `up_to`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pending {
    /// The changed tickets, in order of their first change.
    pub tickets: Vec<TicketId>,
    /// Their service days, each once, in order.
    pub days: Vec<NaiveDate>,
    /// The last outbox row read: the cursor once they are pushed.
    pub up_to: i64,
    /// Whether more rows wait after `up_to`.
    pub more: bool,
}

/// A priority card binding as the city shares it: the card's UID and the
/// keyed identity hash of the roster entry, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardBinding {
    /// The card's UID (hex).
    pub uid: String,
    /// The keyed identity hash (hex) of the resident.
    pub person: String,
    /// When it was bound (seconds since the epoch).
    pub bound_at: i64,
}

impl Store {
    /// Switches the outbox on; the first time, every ticket already in the
    /// store is put in it, so a hall joining the city pushes its history.
    /// Returns whether it was off.
    pub fn city_outbox_on(&mut self) -> Result<bool, StoreError> {
        let path = self.path.clone();
        // Immediate: it reads, then writes; a deferred transaction would
        // fail at once (no busy wait) if the hall committed in between.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| super::sql(&path, e))?;
        let on: Option<String> = tx
            .query_row(
                "SELECT value FROM meta WHERE key = 'city_outbox'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| super::sql(&path, e))?;
        if on.as_deref() == Some("on") {
            return Ok(false);
        }
        tx.execute_batch(
            "INSERT INTO meta (key, value) VALUES ('city_outbox', 'on')
               ON CONFLICT(key) DO UPDATE SET value = 'on';
             INSERT INTO city_outbox (ticket_id) SELECT id FROM tickets ORDER BY id;",
        )
        .map_err(|e| super::sql(&path, e))?;
        tx.commit().map_err(|e| super::sql(&path, e))?;
        Ok(true)
    }

    /// Puts every ticket in the outbox again: the city has lost what it had
    /// committed (a database restored from an older backup, or one that
    /// acknowledged commits it then lost in a crash), and the hall sends
    /// its whole history again, which the city takes idempotently.
    pub fn city_resend_all(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("INSERT INTO city_outbox (ticket_id) SELECT id FROM tickets ORDER BY id")
            .map_err(|e| self.err(e))
    }

    /// Puts the tickets of `days` in the outbox again (the city holds
    /// those days without some of their daily rows, e.g. a dimension added
    /// since they were pushed): their push replaces the days' rows.
    pub fn city_resend_days(&self, days: &[NaiveDate]) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO city_outbox (ticket_id) SELECT id FROM tickets WHERE day = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        for day in days {
            stmt.execute([day.to_string()]).map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Switches the outbox off and empties it (a hall that leaves the city
    /// keeps no growing table; joining again pushes everything again,
    /// which the city takes idempotently).
    pub fn city_outbox_off(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(
                "DELETE FROM meta WHERE key = 'city_outbox';
                 DELETE FROM city_outbox;",
            )
            .map_err(|e| self.err(e))
    }

    /// The outbox after `cursor`: at most `limit` distinct tickets.
    pub fn city_pending(&self, cursor: i64, limit: usize) -> Result<Pending, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT o.seq, o.ticket_id, t.day FROM city_outbox o
                   JOIN tickets t ON t.id = o.ticket_id
                  WHERE o.seq > ?1 ORDER BY o.seq",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([cursor]).map_err(|e| self.err(e))?;
        let mut out = Pending {
            up_to: cursor,
            ..Pending::default()
        };
        let mut seen = std::collections::HashSet::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let id = TicketId(r.get::<_, i64>(1).map_err(|e| self.err(e))? as u64);
            if !seen.contains(&id) {
                if out.tickets.len() == limit {
                    out.more = true;
                    break;
                }
                seen.insert(id);
                out.tickets.push(id);
                let day: String = r.get(2).map_err(|e| self.err(e))?;
                let day = parse_day(&day)
                    .ok_or_else(|| self.corrupt("tickets", format!("day {day:?}")))?;
                if !out.days.contains(&day) {
                    out.days.push(day);
                }
            }
            out.up_to = r.get(0).map_err(|e| self.err(e))?;
        }
        out.days.sort();
        Ok(out)
    }

    /// The cursor: the last outbox row the city has.
    pub fn city_cursor(&self) -> Result<i64, StoreError> {
        let v: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'city_cursor'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Moves the cursor to `up_to` once the city committed everything up to
    /// it, and drops the rows it passed.
    pub fn set_city_cursor(&mut self, up_to: i64) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| super::sql(&path, e))?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('city_cursor', ?1)
               ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [up_to.to_string()],
        )
        .and_then(|_| tx.execute("DELETE FROM city_outbox WHERE seq <= ?1", [up_to]))
        .map_err(|e| super::sql(&path, e))?;
        tx.commit().map_err(|e| super::sql(&path, e))
    }

    /// The bindings made at this hall that the city does not have yet (a
    /// binding taken from the city is not sent back).
    pub fn cards_to_share(&self) -> Result<Vec<CardBinding>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.uid, c.person, c.bound_at FROM priority_cards c
                   LEFT JOIN city_cards_pushed p ON p.uid = c.uid
                  WHERE c.bound_by NOT LIKE 'city:%'
                    AND (p.uid IS NULL OR p.bound_at < c.bound_at)
                  ORDER BY c.bound_at",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(CardBinding {
                    uid: r.get(0)?,
                    person: r.get(1)?,
                    bound_at: r.get(2)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Records that the city has `cards`.
    pub fn cards_shared(&mut self, cards: &[CardBinding]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| super::sql(&path, e))?;
        for c in cards {
            tx.execute(
                "INSERT INTO city_cards_pushed (uid, bound_at) VALUES (?1, ?2)
                   ON CONFLICT(uid) DO UPDATE SET bound_at = excluded.bound_at",
                params![c.uid, c.bound_at],
            )
            .map_err(|e| super::sql(&path, e))?;
        }
        tx.commit().map_err(|e| super::sql(&path, e))
    }

    /// Takes the city's bindings (made at `hall`s elsewhere): a card bound
    /// later here keeps its own binding. Returns how many changed.
    pub fn take_city_cards(
        &mut self,
        cards: &[(CardBinding, String)],
    ) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| super::sql(&path, e))?;
        let mut changed = 0;
        for (c, hall) in cards {
            changed += tx
                .execute(
                    "INSERT INTO priority_cards (uid, person, bound_at, bound_by)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(uid) DO UPDATE SET person = excluded.person,
                        bound_at = excluded.bound_at, bound_by = excluded.bound_by
                      WHERE priority_cards.bound_at < excluded.bound_at",
                    params![c.uid, c.person, c.bound_at, format!("city:{hall}")],
                )
                .map_err(|e| super::sql(&path, e))?;
        }
        tx.commit().map_err(|e| super::sql(&path, e))?;
        Ok(changed)
    }

    /// A meta value (the city's cursors).
    pub fn meta_value(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Sets a meta value.
    pub fn set_meta_value(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                   ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}
