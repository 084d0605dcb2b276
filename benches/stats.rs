//! `greenwave stats` over a year of a busy hall: 1M tickets (issued,
//! called, started, finished), 4M events, 250 service days.
//! `cargo bench --bench stats` (TICKETS overrides the count).
//!
//! 1. The pure figures over per-ticket summaries in memory.
//! 2. The whole command's work: the year committed to a real store through
//!    `Store::commit` (a day per transaction), then the summaries read back
//!    from the tickets table and the figures computed — what
//!    `greenwave stats` and `GET /api/stats` do. Baseline in the same run:
//!    reading back the 4M-event journal, which the statistics no longer
//!    replay.

use std::time::Instant;

use chrono::NaiveDate;
use greenwave::queue::{
    CallPolicy, Changes, Event, Lane, Queue, QueueConfig, ServiceDef, Timestamp, WindowDef,
};
use greenwave::stats::{figures, summaries_from_journal, GroupBy, Sources};
use greenwave::store::{JournalEntry, Store};

fn main() {
    let tickets: usize = std::env::var("TICKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let per_day = 4_000;
    let cfg = QueueConfig {
        services: vec![ServiceDef {
            code: "civil".into(),
            letter: "A".into(),
        }],
        windows: vec![WindowDef {
            number: 1,
            services: vec!["civil".into()],
        }],
        priority_prefix: "G".into(),
        policy: CallPolicy::default(),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("greenwave.db");
    let mut store = Store::open(&path).unwrap();
    let mut day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut q = Queue::new(cfg, day, 1);
    let mut journal = Vec::with_capacity(tickets * 4);
    let mut pending: Vec<(Event, Changes)> = Vec::new();
    let mut now = 1_800_000_000_000i64;
    let t0 = Instant::now();
    let mut record =
        |q: &mut Queue, day: NaiveDate, ev: Event, pending: &mut Vec<(Event, Changes)>| {
            let changes = q.apply(&ev);
            journal.push(JournalEntry {
                seq: 0,
                day,
                event: ev.clone(),
                actor: None,
            });
            pending.push((ev, changes));
        };
    for i in 0..tickets {
        if i > 0 && i % per_day == 0 {
            store
                .commit(day, &greenwave::hall::Actor::System, &pending)
                .unwrap();
            pending.clear();
            day = day.succ_opt().unwrap();
            let ev = q.rollover(day, Timestamp(now)).unwrap();
            record(&mut q, day, ev, &mut pending);
        }
        let lane = if i % 5 == 0 {
            Lane::Priority
        } else {
            Lane::Normal
        };
        for f in [0, 1, 2, 3] {
            now += 30_000;
            let ev = match f {
                0 => q.issue("civil", lane, Timestamp(now)),
                1 => q.call_next(1, Timestamp(now)),
                2 => q.start(1, Timestamp(now)),
                _ => q.finish(1, Timestamp(now)),
            }
            .unwrap();
            record(&mut q, day, ev, &mut pending);
        }
    }
    store
        .commit(day, &greenwave::hall::Actor::System, &pending)
        .unwrap();
    drop(store);
    let built = t0.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "stats: {tickets} tickets, {} events, {} days built and committed in {:.0} s ({} MB)",
        journal.len(),
        tickets / per_day,
        built.as_secs_f64(),
        size / 1_000_000
    );

    // 1. Pure figures in memory.
    let summaries = summaries_from_journal(&journal);
    for by in [GroupBy::Day, GroupBy::Lane] {
        let t = Instant::now();
        let rows = figures(&Sources::tickets(&summaries), None, None, by);
        println!(
            "stats figures in memory by {by:?} ({} rows): {:.3} s",
            rows.len(),
            t.elapsed().as_secs_f64()
        );
    }

    // 2. The command's work from the store file.
    for by in [GroupBy::Day, GroupBy::Lane] {
        let t = Instant::now();
        let store = Store::open(&path).unwrap();
        let records = store.stats_records(None, None).unwrap();
        let loaded = t.elapsed();
        let rows = figures(&greenwave::stats::Sources::of(&records), None, None, by);
        let all = t.elapsed();
        assert_eq!(
            rows.last().unwrap().figures,
            figures(&Sources::tickets(&summaries), None, None, by)
                .last()
                .unwrap()
                .figures,
            "the store's summaries give the journal's figures"
        );
        println!(
            "stats from the store by {by:?}: {} tickets read in {:.2} s, figures done at {:.2} s in all",
            records.tickets.len(),
            loaded.as_secs_f64(),
            all.as_secs_f64()
        );
    }
    let t = Instant::now();
    let store = Store::open(&path).unwrap();
    let j = store.journal_between(None, None).unwrap();
    println!(
        "baseline: reading back the journal ({} events): {:.2} s",
        j.len(),
        t.elapsed().as_secs_f64()
    );
}
