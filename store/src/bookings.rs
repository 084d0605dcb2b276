//! Appointments as kept: each booking (the resident as the keyed hash,
//! never an ID number), and who booked, moved or cancelled it. The rules
//! (slots, capacity, the kiosk's window) are the core's
//! (`greenwave_core::booking`); the hall applies them under its lock and
//! asks this module only to read and write.
//!
//! A booking's use is not a state of its own: a ticket issued on it keeps
//! its code (`tickets.booking`), so "kept", "late" and "missed" are read
//! from the tickets, and a crash between the two writes cannot leave them
//! disagreeing.

use chrono::{NaiveDate, NaiveTime};
use rusqlite::{params, OptionalExtension, Row};

use super::{Store, StoreError};

/// A booking as stored, with the ticket the resident came on (if any).
#[derive(Clone, PartialEq, Eq)]
pub struct Booking {
    /// Six digits, unique.
    pub code: String,
    /// Keyed hash of the resident's ID number (hex).
    pub person: String,
    /// Service code.
    pub service: String,
    /// Service day.
    pub day: NaiveDate,
    /// The slot's start, hall's local time.
    pub slot: NaiveTime,
    /// Withdrawn by staff (or the resident through them).
    pub cancelled: bool,
    /// When it was booked (ms since the epoch).
    pub booked_at: i64,
    /// Who booked it (`Actor::recorded`).
    pub booked_by: String,
    /// The ticket issued on it: number and lane name.
    pub ticket: Option<(String, String)>,
}

impl std::fmt::Debug for Booking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Booking")
            .field("code", &self.code)
            .field("service", &self.service)
            .field("day", &self.day)
            .field("slot", &self.slot)
            .field("cancelled", &self.cancelled)
            .field("ticket", &self.ticket)
            .finish_non_exhaustive()
    }
}

/// One line of a booking's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingLogEntry {
    /// When (ms since the epoch).
    pub at: i64,
    /// Who (`Actor::recorded`).
    pub actor: String,
    /// `booked`, `moved`, `cancelled`.
    pub action: String,
    /// What changed (`2026-12-07 10:00 → 2026-12-08 09:30`, a reason).
    pub detail: Option<String>,
}

const COLUMNS: &str = "b.code, b.person, b.service, b.day, b.slot, b.state, b.booked_at, \
     b.booked_by, t.number, t.lane";

const FROM: &str = "bookings b LEFT JOIN tickets t ON t.booking = b.code";

fn read(r: &Row<'_>) -> rusqlite::Result<Booking> {
    let day: String = r.get(3)?;
    let slot: String = r.get(4)?;
    let state: String = r.get(5)?;
    let bad = |what: &str, v: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            3,
            rusqlite::types::Type::Text,
            format!("booking {what} {v:?}").into(),
        )
    };
    let number: Option<String> = r.get(8)?;
    let lane: Option<String> = r.get(9)?;
    Ok(Booking {
        code: r.get(0)?,
        person: r.get(1)?,
        service: r.get(2)?,
        day: day.parse().map_err(|_| bad("day", &day))?,
        slot: NaiveTime::parse_from_str(&slot, "%H:%M").map_err(|_| bad("slot", &slot))?,
        cancelled: state == "cancelled",
        booked_at: r.get(6)?,
        booked_by: r.get(7)?,
        ticket: number.zip(lane),
    })
}

impl Booking {
    /// Where it stands at `now` (the hall's local time), by the service's
    /// appointment rules: read from the ticket issued on it, if one was.
    pub fn status(
        &self,
        rules: &greenwave_core::booking::Appointments,
        now: chrono::NaiveDateTime,
    ) -> greenwave_core::booking::Status {
        let lane = self
            .ticket
            .as_ref()
            .and_then(|(_, l)| greenwave_core::queue::Lane::parse(l));
        greenwave_core::booking::status(
            rules,
            self.cancelled,
            lane,
            self.day.and_time(self.slot),
            now,
        )
    }
}

fn hm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

impl Store {
    /// Keeps a new booking and its first log line, in one transaction.
    pub fn insert_booking(&self, b: &Booking) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO bookings (code, person, service, day, slot, state, booked_at, booked_by)
             VALUES (?1, ?2, ?3, ?4, ?5, 'booked', ?6, ?7)",
            params![
                b.code,
                b.person,
                b.service,
                b.day.to_string(),
                hm(b.slot),
                b.booked_at,
                b.booked_by
            ],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO booking_log (at, actor, code, action, detail) VALUES (?1, ?2, ?3, 'booked', ?4)",
            params![
                b.booked_at,
                b.booked_by,
                b.code,
                format!("{} {} {}", b.service, b.day, hm(b.slot))
            ],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// A booking by its code.
    pub fn booking(&self, code: &str) -> Result<Option<Booking>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM {FROM} WHERE b.code = ?1"),
                [code],
                read,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Whether a code has ever been given out.
    pub fn booking_code_used(&self, code: &str) -> Result<bool, StoreError> {
        Ok(self.booking(code)?.is_some())
    }

    /// The bookings of `day` (of one service, or all), by slot.
    pub fn bookings_of_day(
        &self,
        day: NaiveDate,
        service: Option<&str>,
    ) -> Result<Vec<Booking>, StoreError> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE b.day = ?1 AND (?2 IS NULL OR b.service = ?2)
                 ORDER BY b.slot, b.booked_at, b.code"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![day.to_string(), service], read)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The bookings of the days `from..=to` (the figures).
    pub fn bookings_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Booking>, StoreError> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE b.day >= ?1 AND b.day <= ?2
                 ORDER BY b.day, b.slot, b.code"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![from.to_string(), to.to_string()], read)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// A resident's bookings from `day` on (cancelled ones included).
    pub fn bookings_of_person(
        &self,
        person: &str,
        from: NaiveDate,
    ) -> Result<Vec<Booking>, StoreError> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE b.person = ?1 AND b.day >= ?2
                 ORDER BY b.day, b.slot"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![person, from.to_string()], read)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Places taken in a slot (bookings not cancelled).
    pub fn booked_in_slot(
        &self,
        day: NaiveDate,
        service: &str,
        slot: NaiveTime,
    ) -> Result<u32, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM bookings
                  WHERE day = ?1 AND service = ?2 AND slot = ?3 AND state = 'booked'",
                params![day.to_string(), service, hm(slot)],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Moves a booking to another day and slot, with its log line.
    pub fn move_booking(
        &self,
        code: &str,
        day: NaiveDate,
        slot: NaiveTime,
        at: i64,
        actor: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE bookings SET day = ?2, slot = ?3 WHERE code = ?1",
            params![code, day.to_string(), hm(slot)],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO booking_log (at, actor, code, action, detail) VALUES (?1, ?2, ?3, 'moved', ?4)",
            params![at, actor, code, detail],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Cancels a booking, with its log line (the reason, if given).
    pub fn cancel_booking(
        &self,
        code: &str,
        at: i64,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE bookings SET state = 'cancelled' WHERE code = ?1",
            [code],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO booking_log (at, actor, code, action, detail) VALUES (?1, ?2, ?3, 'cancelled', ?4)",
            params![at, actor, code, reason],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// A booking's history, oldest first.
    pub fn booking_log(&self, code: &str) -> Result<Vec<BookingLogEntry>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT at, actor, action, detail FROM booking_log WHERE code = ?1 ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([code], |r| {
                Ok(BookingLogEntry {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    detail: r.get(3)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}
