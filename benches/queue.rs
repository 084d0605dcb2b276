//! Benchmarks of the foundation (figures in BENCHMARKS.md):
//!
//! - `call_next_decision/5000_waiting_30_windows`: the core's call-next
//!   decision with 5,000 waiting tickets over 30 windows (target < 50 µs);
//! - `durable_issue/hall`: issuing a ticket through the hall, committed
//!   with WAL + synchronous FULL on this machine's disk, and the high-water
//!   record rewritten after it (target < 2 ms median);
//! - `durable_issue/hall_without_record`: the same with the high-water
//!   record turned off, in the same run: what the record costs;
//! - `durable_issue/record_write`: the record's write alone (`pwrite` +
//!   `fdatasync` of one slot);
//! - `durable_issue/sqlite_baseline`: the floor under it in the same run, a
//!   one-row INSERT committed with the same settings, so that the ratio
//!   tells greenwave's own overhead apart from the disk's fsync.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use greenwave::hall::{Clock, Hall, SystemClock};
use greenwave::hwm::Guarding;
use greenwave::queue::{
    CallPolicy, DayBoundary, Lane, Queue, QueueConfig, ServiceDef, Timestamp, WindowDef,
};
use greenwave::store::hwm::{HighWater, LastNumber, RecordFile};

const SERVICES: usize = 8;
const WINDOWS: u32 = 30;

fn hall_config() -> QueueConfig {
    QueueConfig {
        services: (0..SERVICES)
            .map(|i| ServiceDef {
                code: format!("s{i}"),
                letter: ((b'A' + i as u8) as char).to_string(),
            })
            .collect(),
        // Each window serves three neighbouring services.
        windows: (1..=WINDOWS)
            .map(|n| WindowDef {
                number: n,
                services: (0..3)
                    .map(|k| format!("s{}", (n as usize + k) % SERVICES))
                    .collect(),
            })
            .collect(),
        priority_prefix: "G".into(),
        policy: CallPolicy::default(),
    }
}

fn call_next(c: &mut Criterion) {
    let mut q = Queue::new(
        hall_config(),
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        1,
    );
    let start = 1_800_000_000_000i64;
    // 5,000 waiting tickets, one in five in the priority lane, issued one
    // second apart, spread over the services.
    for i in 0..5_000i64 {
        let lane = if i % 5 == 0 {
            Lane::Priority
        } else {
            Lane::Normal
        };
        let ev = q
            .issue(
                &format!("s{}", i as usize % SERVICES),
                lane,
                Timestamp(start + i * 1000),
            )
            .unwrap();
        q.apply(&ev);
    }
    // 20 minutes after the last issue: no normal ticket is overdue yet for
    // the newest, many are for the oldest (rule 2 is exercised).
    let now = Timestamp(start + 5_000 * 1000 + 20 * 60 * 1000);
    let mut w = 0u32;
    c.bench_function("call_next_decision/5000_waiting_30_windows", |b| {
        b.iter(|| {
            w = w % WINDOWS + 1;
            std::hint::black_box(q.call_next(w, now).unwrap())
        })
    });
}

fn durable_issue(c: &mut Criterion) {
    let mut g = c.benchmark_group("durable_issue");
    g.measurement_time(Duration::from_secs(8));
    // On this machine's disk (the target directory), not a tmpfs.
    let base = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));

    let dir = tempfile::tempdir_in(base).unwrap();
    let boundary = DayBoundary {
        timezone: chrono_tz::Asia::Shanghai,
        rollover: NaiveTime::from_hms_opt(4, 0, 0).unwrap(),
    };
    for (name, record) in [("hall", true), ("hall_without_record", false)] {
        let dir = tempfile::tempdir_in(base).unwrap();
        let guarding = Guarding {
            record,
            ..Guarding::default()
        };
        let clock = Arc::new(SystemClock) as Arc<dyn Clock>;
        let mut hall =
            Hall::open_at_with(dir.path(), hall_config(), boundary, clock, guarding).unwrap();
        let mut i = 0usize;
        g.bench_function(name, |b| {
            b.iter(|| {
                i += 1;
                let lane = if i.is_multiple_of(5) {
                    Lane::Priority
                } else {
                    Lane::Normal
                };
                hall.issue(&format!("s{}", i % SERVICES), lane).unwrap()
            })
        });
    }

    let path = dir.path().join("bench.hwm");
    let mut hw = HighWater::empty(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
    for i in 0..SERVICES {
        for (lane, prefix) in [(Lane::Priority, "G"), (Lane::Normal, "")] {
            let number = format!("{prefix}{}123", (b'A' + i as u8) as char);
            let last = LastNumber { seq: 123, number };
            hw.lanes.insert((format!("s{i}"), lane), last);
        }
    }
    let mut record = RecordFile::create(&path, &hw).unwrap();
    g.bench_function("record_write", |b| {
        b.iter(|| {
            hw.seq += 1;
            record.write(&hw).unwrap()
        })
    });

    let dir2 = tempfile::tempdir_in(base).unwrap();
    let conn = rusqlite::Connection::open(dir2.path().join("baseline.db")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);",
    )
    .unwrap();
    g.bench_function("sqlite_baseline", |b| {
        b.iter_batched(
            || (),
            |_| {
                conn.execute("INSERT INTO t (v) VALUES ('x')", []).unwrap();
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, call_next, durable_issue);
criterion_main!(benches);
