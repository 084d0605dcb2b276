//! The store and the hall: durability across reopen, day rollover with an
//! injected clock, the journal/state consistency check, and the guard that
//! keeps two writers from handing one ticket to two windows.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use greenwave::hall::{verify, Clock, Hall, HallError, ManualClock};
use greenwave::queue::{
    CallPolicy, DayBoundary, Event, Identified, Lane, QueueConfig, ServiceDef, TicketState,
    Timestamp, WindowDef,
};
use greenwave::store::{Store, StoreError};

fn qcfg() -> QueueConfig {
    QueueConfig {
        services: vec![ServiceDef {
            code: "civil".into(),
            letter: "A".into(),
        }],
        windows: vec![
            WindowDef {
                number: 1,
                services: vec!["civil".into()],
            },
            WindowDef {
                number: 2,
                services: vec!["civil".into()],
            },
        ],
        priority_prefix: "G".into(),
        policy: CallPolicy::default(),
    }
}

fn boundary() -> DayBoundary {
    DayBoundary {
        timezone: chrono_tz::Asia::Shanghai,
        rollover: NaiveTime::from_hms_opt(4, 0, 0).unwrap(),
    }
}

/// 2026-11-24 09:00 in Shanghai.
fn morning() -> Timestamp {
    Timestamp(
        chrono::DateTime::parse_from_rfc3339("2026-11-24T09:00:00+08:00")
            .unwrap()
            .timestamp_millis(),
    )
}

fn open(dir: &std::path::Path, clock: &Arc<ManualClock>) -> Hall {
    Hall::open_at(dir, qcfg(), boundary(), clock.clone() as Arc<dyn Clock>).unwrap()
}

#[test]
fn the_queue_is_exactly_what_it_was_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(morning()));
    let (tickets, windows) = {
        let mut h = open(dir.path(), &clock);
        h.issue("civil", Lane::Normal).unwrap();
        h.issue("civil", Lane::Priority).unwrap();
        h.issue("civil", Lane::Normal).unwrap();
        clock.advance(Duration::from_secs(60));
        assert_eq!(h.call_next(1).unwrap().number, "GA001");
        h.exec(&greenwave::hall::Actor::Manager, |q, now| q.start(1, now))
            .unwrap();
        assert_eq!(h.call_next(2).unwrap().number, "A001");
        h.exec(&greenwave::hall::Actor::Manager, |q, now| q.no_show(2, now))
            .unwrap();
        h.exec(&greenwave::hall::Actor::Manager, |q, now| q.pause(2, now))
            .unwrap();
        // How a priority resident was identified survives too (statistics).
        h.exec(&greenwave::hall::Actor::Manager, |q, now| {
            q.issue_with(
                "civil",
                Lane::Priority,
                now,
                "tok".into(),
                None,
                Some(Identified::PriorityCard),
            )
        })
        .unwrap();
        let t: Vec<_> = h.queue().tickets().into_iter().cloned().collect();
        (t, h.queue().windows().clone())
    };
    let h = open(dir.path(), &clock);
    let again: Vec<_> = h.queue().tickets().into_iter().cloned().collect();
    assert_eq!(again, tickets);
    assert_eq!(h.queue().windows(), &windows);
    // Numbering continues; it does not restart.
    let mut h = h;
    assert!(again
        .iter()
        .any(|t| t.identified == Some(Identified::PriorityCard)));
    assert_eq!(h.issue("civil", Lane::Normal).unwrap().number, "A003");
}

#[test]
fn one_data_directory_one_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(morning()));
    let _h = open(dir.path(), &clock);
    let err = Hall::open_at(
        dir.path(),
        qcfg(),
        boundary(),
        clock.clone() as Arc<dyn Clock>,
    )
    .unwrap_err();
    assert!(matches!(err, HallError::DataDir { .. }), "{err}");
    assert!(
        err.to_string().contains("another greenwave process"),
        "{err}"
    );
}

#[test]
fn rollover_at_local_time_restarts_numbers_and_expires_open_tickets() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(morning()));
    let mut h = open(dir.path(), &clock);
    let a1 = h.issue("civil", Lane::Normal).unwrap();
    let a2 = h.issue("civil", Lane::Normal).unwrap();
    h.call_next(1).unwrap();
    h.exec(&greenwave::hall::Actor::Manager, |q, now| q.finish(1, now))
        .unwrap();
    // 03:59 the next morning: still the same service day.
    clock.set(Timestamp(morning().0 + (18 * 60 + 59) * 60_000));
    assert!(h.tick().unwrap().is_none());
    // 04:00: a new day.
    clock.advance(Duration::from_secs(60));
    let ev = h.tick().unwrap().expect("rolled over");
    assert!(matches!(ev, Event::DayRolledOver { .. }));
    assert_eq!(
        h.queue().day(),
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    );
    assert_eq!(h.issue("civil", Lane::Normal).unwrap().number, "A001");
    drop(h);

    // Nothing deleted: yesterday's tickets are still in the database.
    let store = Store::open(&dir.path().join("greenwave.db")).unwrap();
    let yesterday = store.tickets_of_day(a1.day).unwrap();
    assert_eq!(yesterday.len(), 2);
    assert_eq!(yesterday[0].state, TicketState::Done);
    assert_eq!(yesterday[1].id, a2.id);
    assert_eq!(yesterday[1].state, TicketState::Expired);
    assert!(verify(&store, &qcfg()).unwrap().is_empty());
}

#[test]
fn a_daemon_that_was_down_over_night_rolls_over_when_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(morning()));
    {
        let mut h = open(dir.path(), &clock);
        h.issue("civil", Lane::Priority).unwrap();
    }
    clock.advance(Duration::from_secs(3 * 24 * 3600));
    let mut h = open(dir.path(), &clock);
    assert_eq!(
        h.queue().day(),
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    );
    assert!(h.queue().tickets().is_empty());
    assert_eq!(h.issue("civil", Lane::Priority).unwrap().number, "GA001");
}

#[test]
fn verify_finds_a_state_that_disagrees_with_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(morning()));
    {
        let mut h = open(dir.path(), &clock);
        h.issue("civil", Lane::Normal).unwrap();
        h.call_next(1).unwrap();
    }
    let db = dir.path().join("greenwave.db");
    let store = Store::open(&db).unwrap();
    assert!(verify(&store, &qcfg()).unwrap().is_empty());
    drop(store);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE tickets SET state = 'waiting'", [])
        .unwrap();
    drop(conn);
    let store = Store::open(&db).unwrap();
    let problems = verify(&store, &qcfg()).unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("A001"), "{problems:?}");
}

#[test]
fn a_second_writer_cannot_call_a_ticket_already_called() {
    // Two stores on one database stand for two processes that both think
    // the ticket is waiting; the second commit must be refused.
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(morning()));
    {
        let mut h = open(dir.path(), &clock);
        h.issue("civil", Lane::Normal).unwrap();
    }
    let db = dir.path().join("greenwave.db");
    let mut s1 = Store::open(&db).unwrap();
    let mut s2 = Store::open(&db).unwrap();
    let snap = s1.snapshot().unwrap();
    let day = snap.day.unwrap();
    let mut q1 = greenwave::queue::Queue::restore(
        qcfg(),
        day,
        snap.tickets.clone(),
        snap.windows.clone(),
        snap.next_id,
    );
    let mut q2 =
        greenwave::queue::Queue::restore(qcfg(), day, snap.tickets, snap.windows, snap.next_id);
    let e1 = q1.call_next(1, clock.now()).unwrap();
    let e2 = q2.call_next(2, clock.now()).unwrap();
    let c1 = q1.apply(&e1);
    let c2 = q2.apply(&e2);
    s1.commit(day, &greenwave::hall::Actor::Window(1), &[(e1, c1)])
        .unwrap();
    let err = s2
        .commit(day, &greenwave::hall::Actor::Window(2), &[(e2, c2)])
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    let stored = s1.tickets_of_day(day).unwrap();
    assert_eq!(stored[0].window, Some(1));
}

#[test]
fn a_database_from_a_newer_greenwave_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("greenwave.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let err = Store::open(&db).unwrap_err();
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

#[test]
fn subscribers_hear_committed_events_only() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(morning()));
    let mut h = open(dir.path(), &clock);
    let mut rx = h.subscribe();
    h.issue("civil", Lane::Normal).unwrap();
    assert!(h.call_next(1).is_ok());
    assert!(h.call_next(2).is_err(), "nothing waiting: no event");
    let kinds: Vec<&str> = std::iter::from_fn(|| rx.try_recv().ok())
        .map(|e| e.event.kind())
        .collect();
    assert_eq!(kinds, ["issued", "called"]);
}

/// The statistics read one row per ticket from the tickets table instead
/// of replaying the journal; over a day with every kind of event, and a
/// rollover, both give the same summaries and so the same figures.
#[test]
fn the_tickets_table_gives_the_journals_statistics() {
    use greenwave::stats::{figures, summaries_from_journal, GroupBy, Sources};
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(morning()));
    let mut h = open(dir.path(), &clock);
    let step = |h: &mut Hall,
                f: &dyn Fn(
        &greenwave::queue::Queue,
        Timestamp,
    ) -> Result<Event, greenwave::queue::QueueError>| {
        clock.advance(Duration::from_secs(60));
        h.exec(&greenwave::hall::Actor::Manager, |q, now| f(q, now))
            .unwrap();
    };
    for lane in [
        Lane::Normal,
        Lane::Priority,
        Lane::Normal,
        Lane::Normal,
        Lane::Normal,
    ] {
        step(&mut h, &|q, now| q.issue("civil", lane, now));
    }
    step(&mut h, &|q, now| q.call_next(1, now)); // GA001
    step(&mut h, &|q, now| q.recall(1, now));
    step(&mut h, &|q, now| q.start(1, now));
    step(&mut h, &|q, now| q.finish(1, now));
    step(&mut h, &|q, now| q.call_next(2, now)); // A001
    step(&mut h, &|q, now| q.no_show(2, now));
    step(&mut h, &|q, now| q.rejoin("A001", now));
    step(&mut h, &|q, now| q.upgrade("A003", now));
    step(&mut h, &|q, now| q.call_next(1, now)); // A003, now priority
    step(&mut h, &|q, now| q.transfer(1, None, Some(2), None, now));
    step(&mut h, &|q, now| q.call_next(2, now));
    step(&mut h, &|q, now| q.start(2, now));
    step(&mut h, &|q, now| q.finish(2, now));
    step(&mut h, &|q, now| {
        q.cancel("A004", Some("重复取号".into()), now)
    });
    // The next morning: A001 and A002 still waiting expire.
    clock.set(Timestamp(morning().0 + 20 * 3_600_000));
    h.tick().unwrap().expect("rolled over");
    step(&mut h, &|q, now| q.issue("civil", Lane::Normal, now));
    drop(h);

    let store = Store::open(&dir.path().join("greenwave.db")).unwrap();
    let from_table = store.ticket_summaries(None, None).unwrap();
    let from_journal = summaries_from_journal(&store.journal_between(None, None).unwrap());
    assert_eq!(from_table.len(), 6);
    assert_eq!(from_table, from_journal);
    for by in [GroupBy::Day, GroupBy::Window, GroupBy::Lane] {
        assert_eq!(
            figures(&Sources::tickets(&from_table), None, None, by),
            figures(&Sources::tickets(&from_journal), None, None, by)
        );
    }
    let rows = figures(&Sources::tickets(&from_table), None, None, GroupBy::Day);
    let f = &rows[0].figures;
    assert_eq!((f.issued, f.served, f.expired, f.cancelled), (5, 2, 2, 1));
    assert_eq!((f.transferred, f.by_manual), (1, 1));
}

/// Regression (a city test failed in CI with nothing ever pushed): the
/// city worker switched the outbox on in a deferred transaction, which
/// read and then wrote; when the hall committed in between, the write
/// failed at once (SQLite cannot upgrade a stale snapshot, no busy wait
/// helps) and the outbox stayed off for good. Here another connection
/// holds the write lock while the outbox is switched on: it must wait for
/// the commit and then take every ticket, the one committed meanwhile
/// included. (The worker also tries again every round now.)
#[test]
fn the_city_outbox_switches_on_while_the_hall_commits() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(morning()));
    {
        let mut h = open(dir.path(), &clock);
        h.issue("civil", Lane::Normal).unwrap();
    }
    let db = dir.path().join("greenwave.db");
    let other = rusqlite::Connection::open(&db).unwrap();
    other
        .execute_batch(
            "BEGIN IMMEDIATE;
             INSERT INTO tickets (id, day, number, service, origin_service, lane, seq,
                 issued_at, state)
             SELECT 99, day, 'A099', service, origin_service, lane, 99, issued_at, state
               FROM tickets LIMIT 1;",
        )
        .unwrap();
    let switching = std::thread::spawn(move || {
        let mut store = Store::open(&db).unwrap();
        let on = store.city_outbox_on();
        (on, store)
    });
    // The switch has begun and waits on the lock (its busy timeout is 5 s).
    std::thread::sleep(Duration::from_millis(300));
    other.execute_batch("COMMIT").unwrap();
    let (on, store) = switching.join().unwrap();
    assert!(matches!(on, Ok(true)), "{on:?}");
    let pending = store.city_pending(0, 1000).unwrap();
    assert_eq!(pending.tickets.len(), 2, "{:?}", pending.tickets);
}
