//! The kiosk's SQL: print attempts (the reprint list) and priority cards
//! bound to roster entries.

use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};
use crate::queue::TicketId;

impl Store {
    /// Records one print attempt of a ticket.
    pub fn record_print(
        &self,
        id: TicketId,
        at: i64,
        ok: bool,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO prints (ticket_id, at, ok, error) VALUES (?1, ?2, ?3, ?4)",
                params![id.0 as i64, at, ok, error],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Tickets of `day` still open whose last print attempt failed: the
    /// reprint list staff work through.
    pub fn reprint_list(&self, day: NaiveDate) -> Result<Vec<TicketId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT t.id FROM tickets t
                 JOIN prints p ON p.ticket_id = t.id
                 WHERE t.day = ?1 AND t.state IN ('waiting', 'transferred', 'called', 'serving')
                   AND p.seq = (SELECT MAX(seq) FROM prints WHERE ticket_id = t.id)
                   AND p.ok = 0
                 ORDER BY t.id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([day.to_string()], |r| r.get::<_, i64>(0))
            .map_err(|e| self.err(e))?;
        rows.map(|r| r.map(|i| TicketId(i as u64)).map_err(|e| self.err(e)))
            .collect()
    }

    /// How many times a ticket was printed successfully.
    pub fn prints_ok(&self, id: TicketId) -> Result<u32, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM prints WHERE ticket_id = ?1 AND ok = 1",
                [id.0 as i64],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Binds a priority card (its UID, hex) to a resident's identity hash;
    /// rebinding a UID replaces the old binding.
    pub fn bind_card(&self, uid: &str, person: &str, at: i64, by: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO priority_cards (uid, person, bound_at, bound_by) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(uid) DO UPDATE SET person = excluded.person, bound_at = excluded.bound_at,
                   bound_by = excluded.bound_by",
                params![uid, person, at, by],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The identity hash a priority card is bound to.
    pub fn card_person(&self, uid: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT person FROM priority_cards WHERE uid = ?1",
                [uid],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }
}
