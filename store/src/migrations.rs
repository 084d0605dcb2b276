//! Numbered schema migrations. The database's `user_version` is the number
//! of migrations applied; each runs in its own transaction. Append new
//! migrations; never edit one that has shipped.

use rusqlite::Connection;

use super::{sql, StoreError};

const MIGRATIONS: &[&str] = &[
    // 1: tickets, the event journal, windows, meta.
    "CREATE TABLE tickets (
        id              INTEGER PRIMARY KEY,
        day             TEXT    NOT NULL,
        number          TEXT    NOT NULL,
        service         TEXT    NOT NULL,
        origin_service  TEXT    NOT NULL,
        lane            TEXT    NOT NULL CHECK (lane IN ('priority', 'normal')),
        seq             INTEGER NOT NULL,
        issued_at       INTEGER NOT NULL,
        state           TEXT    NOT NULL,
        window          INTEGER,
        target_window   INTEGER,
        called_at       INTEGER,
        started_at      INTEGER,
        closed_at       INTEGER,
        calls           INTEGER NOT NULL DEFAULT 0,
        transfers       INTEGER NOT NULL DEFAULT 0,
        UNIQUE (day, number)
    );
    CREATE INDEX tickets_day_state ON tickets (day, state);
    CREATE TABLE events (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        at         INTEGER NOT NULL,
        day        TEXT    NOT NULL,
        kind       TEXT    NOT NULL,
        ticket_id  INTEGER,
        window     INTEGER,
        data       TEXT    NOT NULL
    );
    CREATE INDEX events_ticket ON events (ticket_id);
    CREATE INDEX events_day ON events (day);
    CREATE TABLE windows (
        number           INTEGER PRIMARY KEY,
        current_ticket   INTEGER,
        paused           INTEGER NOT NULL DEFAULT 0,
        priority_streak  INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE meta (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );",
    // 2: the roster in use (the roster itself lives in its own file) and
    // the audit log of roster imports, refusals and checks.
    "CREATE TABLE roster_state (
        id           INTEGER PRIMARY KEY CHECK (id = 1),
        version      INTEGER NOT NULL,
        file         TEXT    NOT NULL,
        rows         INTEGER NOT NULL,
        categories   TEXT    NOT NULL,
        created_at   TEXT    NOT NULL,
        imported_at  INTEGER NOT NULL,
        body_digest  TEXT    NOT NULL,
        file_digest  TEXT    NOT NULL,
        signed       INTEGER NOT NULL
    );
    CREATE TABLE audit (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        at       INTEGER NOT NULL,
        actor    TEXT    NOT NULL,
        action   TEXT    NOT NULL,
        subject  TEXT,
        result   TEXT    NOT NULL,
        detail   TEXT
    );",
    // 3: the kiosk: a ticket's progress token and the keyed hash of its
    // resident (for reprint-instead-of-reissue), every print attempt, and
    // priority cards bound to roster entries (UID and entry hash only).
    "ALTER TABLE tickets ADD COLUMN token TEXT NOT NULL DEFAULT '';
    ALTER TABLE tickets ADD COLUMN person TEXT;
    CREATE INDEX tickets_token ON tickets (token);
    CREATE TABLE prints (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id  INTEGER NOT NULL,
        at         INTEGER NOT NULL,
        ok         INTEGER NOT NULL,
        error      TEXT
    );
    CREATE INDEX prints_ticket ON prints (ticket_id);
    CREATE TABLE priority_cards (
        uid        TEXT PRIMARY KEY,
        person     TEXT NOT NULL,
        bound_at   INTEGER NOT NULL,
        bound_by   TEXT NOT NULL
    );",
    // 4: accompanied service: one case per priority ticket and what
    // happened to it (assigned, notes, policies explained, closed), one
    // rating per ticket, and which helpers are on duty.
    "CREATE TABLE cases (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id    INTEGER NOT NULL UNIQUE,
        helper       TEXT,
        opened_at    INTEGER NOT NULL,
        closed_at    INTEGER
    );
    CREATE INDEX cases_helper_open ON cases (helper, closed_at);
    CREATE TABLE case_events (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id  INTEGER NOT NULL REFERENCES cases (id),
        at       INTEGER NOT NULL,
        actor    TEXT    NOT NULL,
        kind     TEXT    NOT NULL,
        data     TEXT    NOT NULL
    );
    CREATE INDEX case_events_case ON case_events (case_id);
    CREATE TABLE ratings (
        ticket_id  INTEGER PRIMARY KEY,
        rating     TEXT    NOT NULL CHECK (rating IN ('满意', '基本满意', '不满意')),
        comment    TEXT,
        at         INTEGER NOT NULL,
        by         TEXT    NOT NULL
    );
    CREATE TABLE helper_duty (
        helper   TEXT PRIMARY KEY,
        on_duty  INTEGER NOT NULL,
        since    INTEGER NOT NULL
    );",
    // 5: how a priority resident was identified (statistics by way).
    "ALTER TABLE tickets ADD COLUMN identified TEXT
        CHECK (identified IN ('id_card', 'priority_card', 'manual'));",
    // 6: the first call of each ticket, so that the statistics read one row
    // per ticket instead of replaying the journal; filled in from the
    // journal for the tickets already there.
    "ALTER TABLE tickets ADD COLUMN first_called_at INTEGER;
    UPDATE tickets SET first_called_at = (
        SELECT MIN(at) FROM events e WHERE e.ticket_id = tickets.id AND e.kind = 'called'
    );",
    // 7: the journal's format per row (`journal.rs`): rows written before
    // are format 1.
    "ALTER TABLE events ADD COLUMN format INTEGER NOT NULL DEFAULT 1;",
    // 8: who did it (`window:3`, `kiosk`, `manager`, `system`...); rows
    // written before have none.
    "ALTER TABLE events ADD COLUMN actor TEXT;",
    // 9: the idempotency key of a kiosk machine's request (`k1:…`), kept
    // with the event it caused, in the same row: a request answered by a
    // commit is recognised when the kiosk asks again.
    "ALTER TABLE events ADD COLUMN request TEXT;
    CREATE UNIQUE INDEX events_request ON events (request) WHERE request IS NOT NULL;",
    // 10: the resident rates on five levels, at the window's evaluator or
    // on their phone; each rating keeps its source; an unhappy rating is
    // marked handled by the manager with a note. SQLite cannot widen a
    // CHECK, so the table is rebuilt; the ratings before were staff's.
    "CREATE TABLE ratings_v10 (
        ticket_id    INTEGER PRIMARY KEY,
        rating       TEXT    NOT NULL
            CHECK (rating IN ('非常满意', '满意', '基本满意', '不满意', '非常不满意')),
        comment      TEXT,
        at           INTEGER NOT NULL,
        by           TEXT    NOT NULL,
        source       TEXT    NOT NULL DEFAULT 'staff'
            CHECK (source IN ('resident_window', 'resident_phone', 'staff')),
        handled_at   INTEGER,
        handled_by   TEXT,
        handled_note TEXT
    );
    INSERT INTO ratings_v10 (ticket_id, rating, comment, at, by)
        SELECT ticket_id, rating, comment, at, by FROM ratings;
    DROP TABLE ratings;
    ALTER TABLE ratings_v10 RENAME TO ratings;
    CREATE INDEX ratings_unhappy ON ratings (at)
        WHERE rating IN ('不满意', '非常不满意');",
    // 11: the city. Each ticket keeps the roster category and the age band
    // of its resident (never the age itself, never a birth date), which the
    // bureau's figures are split by; and an outbox of the tickets whose
    // facts changed since the last push to the city database, filled by
    // triggers in the very transaction that changed them (so no write path
    // can forget it), only while the outbox is switched on (`meta`
    // `city_outbox` = `on`, set when `[city]` is configured).
    "ALTER TABLE tickets ADD COLUMN category TEXT;
    ALTER TABLE tickets ADD COLUMN age_band TEXT
        CHECK (age_band IN ('0-17', '18-59', '60-69', '70-79', '80+'));
    CREATE TABLE city_outbox (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id  INTEGER NOT NULL
    );
    CREATE TRIGGER city_ticket_insert AFTER INSERT ON tickets
        WHEN (SELECT value FROM meta WHERE key = 'city_outbox') = 'on'
        BEGIN INSERT INTO city_outbox (ticket_id) VALUES (NEW.id); END;
    CREATE TRIGGER city_ticket_update AFTER UPDATE ON tickets
        WHEN (SELECT value FROM meta WHERE key = 'city_outbox') = 'on'
        BEGIN INSERT INTO city_outbox (ticket_id) VALUES (NEW.id); END;
    CREATE TRIGGER city_case_insert AFTER INSERT ON cases
        WHEN (SELECT value FROM meta WHERE key = 'city_outbox') = 'on'
        BEGIN INSERT INTO city_outbox (ticket_id) VALUES (NEW.ticket_id); END;
    CREATE TRIGGER city_case_update AFTER UPDATE ON cases
        WHEN (SELECT value FROM meta WHERE key = 'city_outbox') = 'on'
        BEGIN INSERT INTO city_outbox (ticket_id) VALUES (NEW.ticket_id); END;
    CREATE TRIGGER city_case_event AFTER INSERT ON case_events
        WHEN (SELECT value FROM meta WHERE key = 'city_outbox') = 'on'
        BEGIN INSERT INTO city_outbox (ticket_id)
              SELECT ticket_id FROM cases WHERE id = NEW.case_id; END;
    CREATE TRIGGER city_rating_insert AFTER INSERT ON ratings
        WHEN (SELECT value FROM meta WHERE key = 'city_outbox') = 'on'
        BEGIN INSERT INTO city_outbox (ticket_id) VALUES (NEW.ticket_id); END;
    CREATE TRIGGER city_rating_update AFTER UPDATE ON ratings
        WHEN (SELECT value FROM meta WHERE key = 'city_outbox') = 'on'
        BEGIN INSERT INTO city_outbox (ticket_id) VALUES (NEW.ticket_id); END;
    CREATE TABLE city_cards_pushed (
        uid        TEXT PRIMARY KEY,
        bound_at   INTEGER NOT NULL
    );",
    // 12: the windows' login PINs, set by the manager: a random salt and
    // HMAC-SHA256(salt, PIN), never the PIN; and the wrong-PIN count and
    // lock-out of each window, so that a lock-out survives a restart.
    "CREATE TABLE window_pins (
        window     INTEGER PRIMARY KEY,
        salt       BLOB    NOT NULL,
        hash       BLOB    NOT NULL,
        set_at     INTEGER NOT NULL,
        set_by     TEXT    NOT NULL
    );
    CREATE TABLE pin_attempts (
        window        INTEGER PRIMARY KEY,
        failures      INTEGER NOT NULL DEFAULT 0,
        first_at      INTEGER,
        locked_until  INTEGER
    );",
    // 13: appointments. A third lane, `appointment`: SQLite cannot widen
    // a CHECK, so the tickets table is rebuilt (its indexes and the city
    // outbox's triggers with it); an appointment ticket keeps its slot's
    // start (its place in line) and every ticket a resident came on a
    // booking with keeps the booking's code. The bookings themselves (the
    // resident as the keyed hash, as everywhere) and who did what to them.
    "CREATE TABLE tickets_v13 (
        id              INTEGER PRIMARY KEY,
        day             TEXT    NOT NULL,
        number          TEXT    NOT NULL,
        service         TEXT    NOT NULL,
        origin_service  TEXT    NOT NULL,
        lane            TEXT    NOT NULL
            CHECK (lane IN ('priority', 'appointment', 'normal')),
        seq             INTEGER NOT NULL,
        issued_at       INTEGER NOT NULL,
        state           TEXT    NOT NULL,
        window          INTEGER,
        target_window   INTEGER,
        called_at       INTEGER,
        started_at      INTEGER,
        closed_at       INTEGER,
        calls           INTEGER NOT NULL DEFAULT 0,
        transfers       INTEGER NOT NULL DEFAULT 0,
        token           TEXT    NOT NULL DEFAULT '',
        person          TEXT,
        identified      TEXT
            CHECK (identified IN ('id_card', 'priority_card', 'manual')),
        first_called_at INTEGER,
        category        TEXT,
        age_band        TEXT
            CHECK (age_band IN ('0-17', '18-59', '60-69', '70-79', '80+')),
        slot_at         INTEGER,
        booking         TEXT,
        UNIQUE (day, number)
    );
    INSERT INTO tickets_v13 (id, day, number, service, origin_service, lane, seq, issued_at,
            state, window, target_window, called_at, started_at, closed_at, calls, transfers,
            token, person, identified, first_called_at, category, age_band)
        SELECT id, day, number, service, origin_service, lane, seq, issued_at,
            state, window, target_window, called_at, started_at, closed_at, calls, transfers,
            token, person, identified, first_called_at, category, age_band FROM tickets;
    DROP TABLE tickets;
    ALTER TABLE tickets_v13 RENAME TO tickets;
    CREATE INDEX tickets_day_state ON tickets (day, state);
    CREATE INDEX tickets_token ON tickets (token);
    CREATE UNIQUE INDEX tickets_booking ON tickets (booking) WHERE booking IS NOT NULL;
    CREATE TRIGGER city_ticket_insert AFTER INSERT ON tickets
        WHEN (SELECT value FROM meta WHERE key = 'city_outbox') = 'on'
        BEGIN INSERT INTO city_outbox (ticket_id) VALUES (NEW.id); END;
    CREATE TRIGGER city_ticket_update AFTER UPDATE ON tickets
        WHEN (SELECT value FROM meta WHERE key = 'city_outbox') = 'on'
        BEGIN INSERT INTO city_outbox (ticket_id) VALUES (NEW.id); END;
    CREATE TABLE bookings (
        code        TEXT    PRIMARY KEY,
        person      TEXT    NOT NULL,
        service     TEXT    NOT NULL,
        day         TEXT    NOT NULL,
        slot        TEXT    NOT NULL,
        state       TEXT    NOT NULL CHECK (state IN ('booked', 'cancelled')),
        booked_at   INTEGER NOT NULL,
        booked_by   TEXT    NOT NULL
    );
    CREATE INDEX bookings_slot ON bookings (day, service, slot) WHERE state = 'booked';
    CREATE INDEX bookings_person ON bookings (person, day);
    CREATE TABLE booking_log (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        at      INTEGER NOT NULL,
        actor   TEXT    NOT NULL,
        code    TEXT    NOT NULL,
        action  TEXT    NOT NULL CHECK (action IN ('booked', 'moved', 'cancelled')),
        detail  TEXT
    );",
];

/// Applies every migration the database has not seen.
pub(super) fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| sql(path, e))?;
    let supported = MIGRATIONS.len() as i64;
    if version > supported {
        return Err(StoreError::TooNew {
            path: path.to_string(),
            found: version,
            supported,
        });
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(|e| sql(path, e))?;
        tx.execute_batch(m).map_err(|e| sql(path, e))?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
            .map_err(|e| sql(path, e))?;
        tx.commit().map_err(|e| sql(path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Migration 10 rebuilds the ratings table: a rating recorded before
    /// (a staff's, three levels) survives as a staff rating, and the new
    /// levels and sources are accepted.
    #[test]
    fn ratings_recorded_before_migration_10_are_kept_as_staff_ratings() {
        let mut conn = Connection::open_in_memory().unwrap();
        for m in &MIGRATIONS[..9] {
            conn.execute_batch(m).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 9;
             INSERT INTO ratings (ticket_id, rating, comment, at, by)
             VALUES (7, '基本满意', '还行', 1000, 'window:2');",
        )
        .unwrap();
        migrate(&mut conn, ":memory:").unwrap();
        let row: (String, Option<String>, i64, String, String) = conn
            .query_row(
                "SELECT rating, comment, at, by, source FROM ratings WHERE ticket_id = 7",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(
            row,
            (
                "基本满意".into(),
                Some("还行".into()),
                1000,
                "window:2".into(),
                "staff".into()
            )
        );
        conn.execute(
            "INSERT INTO ratings (ticket_id, rating, at, by, source)
             VALUES (8, '非常不满意', 2000, 'resident', 'resident_phone')",
            [],
        )
        .unwrap();
        let bad = conn.execute(
            "INSERT INTO ratings (ticket_id, rating, at, by, source)
             VALUES (9, '很好', 2000, 'resident', 'resident_phone')",
            [],
        );
        assert!(bad.is_err(), "the CHECK still holds the levels");
    }

    /// Migration 13 rebuilds the tickets table for the appointment lane:
    /// every column of a ticket before survives, the city outbox's
    /// triggers still fire, and the lane CHECK takes `appointment` and
    /// nothing else new.
    #[test]
    fn tickets_before_migration_13_keep_every_column_and_the_city_triggers() {
        let mut conn = Connection::open_in_memory().unwrap();
        for m in &MIGRATIONS[..12] {
            conn.execute_batch(m).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 12;
             INSERT INTO meta (key, value) VALUES ('city_outbox', 'on');
             INSERT INTO tickets (id, day, number, service, origin_service, lane, seq,
                 issued_at, state, window, calls, token, person, identified,
                 first_called_at, category, age_band)
             VALUES (5, '2026-12-01', 'GA001', 'civil', 'civil', 'priority', 1, 1000,
                 'done', 2, 1, 'tok', 'ab12', 'id_card', 1500, 'dibao', '60-69');",
        )
        .unwrap();
        migrate(&mut conn, ":memory:").unwrap();
        let row: (String, String, String, i64, String, String, Option<i64>) = conn
            .query_row(
                "SELECT number, lane, token, first_called_at, category, age_band, slot_at
                   FROM tickets WHERE id = 5",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .unwrap();
        assert_eq!(
            row,
            (
                "GA001".into(),
                "priority".into(),
                "tok".into(),
                1500,
                "dibao".into(),
                "60-69".into(),
                None
            )
        );
        conn.execute(
            "INSERT INTO tickets (id, day, number, service, origin_service, lane, seq,
                 issued_at, state, slot_at, booking)
             VALUES (6, '2026-12-01', 'YA001', 'civil', 'civil', 'appointment', 1, 2000,
                 'waiting', 1800, '123456')",
            [],
        )
        .unwrap();
        let outbox: Vec<i64> = conn
            .prepare("SELECT ticket_id FROM city_outbox ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // 5 by the old table's trigger, 6 by the rebuilt one's.
        assert_eq!(outbox, [5, 6], "the insert trigger fires after the rebuild");
        conn.execute("UPDATE tickets SET state = 'called' WHERE id = 5", [])
            .unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM city_outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3, "the update trigger fires after the rebuild");
        let bad = conn.execute(
            "INSERT INTO tickets (id, day, number, service, origin_service, lane, seq,
                 issued_at, state)
             VALUES (7, '2026-12-01', 'X001', 'civil', 'civil', 'express', 1, 2000, 'waiting')",
            [],
        );
        assert!(bad.is_err(), "the CHECK still holds the lanes");
    }
}
