//! `greenwave stats` figures over a year of a busy hall: 1M tickets
//! (issued, called, started, finished), 4M journal events, in memory. Times
//! the pure function only (`cargo bench --bench stats`; TICKETS overrides).

use std::time::Instant;

use chrono::NaiveDate;
use greenwave::queue::{CallPolicy, Lane, Queue, QueueConfig, ServiceDef, Timestamp, WindowDef};
use greenwave::stats::{figures, GroupBy, Sources};
use greenwave::store::JournalEntry;

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
    let mut day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut q = Queue::new(cfg, day, 1);
    let mut journal = Vec::with_capacity(tickets * 4);
    let mut now = 1_800_000_000_000i64;
    let t0 = Instant::now();
    for i in 0..tickets {
        if i > 0 && i % per_day == 0 {
            day = day.succ_opt().unwrap();
            let ev = q.rollover(day, Timestamp(now)).unwrap();
            q.apply(&ev);
            journal.push(JournalEntry {
                seq: 0,
                day,
                event: ev,
            });
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
            q.apply(&ev);
            journal.push(JournalEntry {
                seq: 0,
                day,
                event: ev,
            });
        }
    }
    let built = t0.elapsed();
    for by in [GroupBy::Day, GroupBy::Lane] {
        let t = Instant::now();
        let rows = figures(&Sources::journal(&journal), None, None, by);
        println!(
            "stats tickets={tickets} events={} by={by:?} rows={} time={:.3} s (journal built in {:.1} s)",
            journal.len(),
            rows.len(),
            t.elapsed().as_secs_f64(),
            built.as_secs_f64()
        );
    }
}
