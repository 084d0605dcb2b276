//! The city's figures (issue 17), against a real PostgreSQL started here
//! (Debian's package, a throw-away cluster with PostgreSQL's default
//! durability): `cargo bench --bench city`.
//!
//! 1. Ingest: a year of HALLS halls (default 162 × 365 days × 340 tickets
//!    a day, about 20 M tickets) pushed through the halls' own push
//!    (`CityDb::push`: tickets upserted, the days' figures replaced, one
//!    transaction per batch of 15 days, as a hall's 5000-ticket batches),
//!    against the baseline of `COPY` of the same rows into an empty table
//!    of the same shape, batch for batch in the same run.
//! 2. `city report --by hall` (and `--by day`) over that year: the query's
//!    time, median of five.
//! 3. A busy hall's day (3,000 tickets over 8 hours, six windows) in a real
//!    store, pushed every 30 s as the daemon does: the CPU time the push
//!    costs the hall (reading the outbox and the day's figures, sending,
//!    moving the cursor), as a share of one core over the day.
//!
//! HALLS, DAYS and PER_DAY override the year's size.

#[path = "../tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{Duration as Days, NaiveDate, Utc};
use greenwave::city::{city_tickets, daily_rows, push, synthetic};
use greenwave::citydb::{CityBy, CityDb, InstalledRoster, Push};
use greenwave::queue::{
    CallPolicy, Changes, Event, Lane, Queue, QueueConfig, ServiceDef, Timestamp, WindowDef,
};
use greenwave::store::Store;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    std::env::set_var("GREENWAVE_PG_DURABLE", "1");
    let pg = pg::Postgres::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut db = CityDb::connect(&pg.url()).await.unwrap();
        let (first, last) = ingest(&mut db).await;
        report(&db, first, last).await;
        db.truncate().await.unwrap();
        busy_day(&mut db).await;
    });
}

async fn ingest(db: &mut CityDb) -> (NaiveDate, NaiveDate) {
    let (halls, days, per_day) = (env("HALLS", 162), env("DAYS", 365), env("PER_DAY", 340));
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let (mut pushed, mut copied, mut tickets) = (Duration::ZERO, Duration::ZERO, 0usize);
    let mut turns = 0u64;
    let started = Instant::now();
    for h in 0..halls {
        let code = format!("hall-{h:03}");
        let name = format!("第{h}号大厅");
        let mut id = 1u64;
        for chunk in (0..days).collect::<Vec<_>>().chunks(15) {
            let mut rows = Vec::new();
            let mut daily = Vec::new();
            let mut chunk_days = Vec::new();
            for d in chunk {
                let day = first + Days::days(*d as i64);
                let r = synthetic::hall_day(h as u64, day, id, per_day, 0.9);
                id += per_day as u64;
                let ids: HashSet<_> = r.tickets.iter().map(|t| t.id).collect();
                rows.extend(city_tickets(&r, &ids));
                daily.extend(daily_rows(&r, chrono_tz::Asia::Shanghai));
                chunk_days.push(day);
            }
            tickets += rows.len();
            let p = Push {
                hall: &code,
                name: &name,
                tickets: &rows,
                days: &chunk_days,
                daily: &daily,
                up_to: id as i64,
                roster: Some(InstalledRoster {
                    version: 7,
                    digest: "d".into(),
                    installed_at: Utc::now(),
                }),
                cards: &[],
            };
            // Alternate which goes first, so neither always meets a warm
            // or a cold cache.
            turns += 1;
            let push_first = turns.is_multiple_of(2);
            for turn in 0..2 {
                if (turn == 0) == push_first {
                    let t = Instant::now();
                    db.push(&p).await.unwrap();
                    pushed += t.elapsed();
                } else {
                    let t = Instant::now();
                    db.copy_baseline(&code, &rows).await.unwrap();
                    copied += t.elapsed();
                }
            }
        }
        if h % 20 == 19 {
            eprintln!(
                "  {} halls, {tickets} tickets, {:.0} s",
                h + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let rate = |d: Duration| tickets as f64 / d.as_secs_f64();
    println!(
        "city ingest: {tickets} tickets of {halls} halls × {days} days: push {:.1} s = {:.0} tickets/s; COPY baseline {:.1} s = {:.0} tickets/s; push/COPY time ratio {:.2}",
        pushed.as_secs_f64(),
        rate(pushed),
        copied.as_secs_f64(),
        rate(copied),
        pushed.as_secs_f64() / copied.as_secs_f64()
    );
    (first, first + Days::days(days as i64 - 1))
}

async fn report(db: &CityDb, from: NaiveDate, to: NaiveDate) {
    for (by, name) in [(CityBy::Hall, "hall"), (CityBy::Day, "day")] {
        let mut times = Vec::new();
        let mut groups = 0;
        for _ in 0..5 {
            let t = Instant::now();
            groups = db.report(from, to, by).await.unwrap().len();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "city report --by {name} over {from}..{to}: {groups} groups, median {:.0} ms (min {:.0}, max {:.0})",
            times[2].as_secs_f64() * 1000.0,
            times[0].as_secs_f64() * 1000.0,
            times[4].as_secs_f64() * 1000.0
        );
    }
}

/// CPU time (user + system) of this process so far: the push's work on
/// every thread (the blocking pool's too); PostgreSQL is another process.
fn process_cpu() -> Duration {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// A busy day: 3,000 tickets in 8 hours at six windows, the store written
/// as the daemon writes it, a push every 30 s of the day.
async fn busy_day(db: &mut CityDb) {
    let cfg = QueueConfig {
        services: vec![ServiceDef {
            code: "civil".into(),
            letter: "A".into(),
        }],
        windows: (1..=6)
            .map(|n| WindowDef {
                number: n,
                services: vec!["civil".into()],
            })
            .collect(),
        priority_prefix: "G".into(),
        policy: CallPolicy::default(),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("greenwave.db");
    let mut store = Store::open(&path).unwrap();
    store.city_outbox_on().unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let mut q = Queue::new(cfg, day, 1);
    let start = day
        .and_hms_opt(0, 30, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    let (interval, pushes, tickets) = (30_000i64, 960i64, 3_000usize);
    let mut cpu = Duration::ZERO;
    let mut issued = 0usize;
    let mut serving: Vec<Option<i64>> = vec![None; 6];
    for k in 0..pushes {
        let now = start + k * interval;
        let mut pending: Vec<(Event, Changes)> = Vec::new();
        let mut record = |q: &mut Queue, ev: Event| {
            let ch = q.apply(&ev);
            pending.push((ev, ch));
        };
        while issued < tickets * (k as usize + 1) / pushes as usize {
            let lane = if issued.is_multiple_of(4) {
                Lane::Priority
            } else {
                Lane::Normal
            };
            let ev = q.issue("civil", lane, Timestamp(now)).unwrap();
            record(&mut q, ev);
            issued += 1;
        }
        for w in 0..6u32 {
            // A service takes five minutes at each window.
            match serving[w as usize] {
                Some(since) if now - since < 300_000 => {}
                Some(_) => {
                    let ev = q.finish(w + 1, Timestamp(now)).unwrap();
                    record(&mut q, ev);
                    serving[w as usize] = None;
                }
                None => {
                    if let Ok(ev) = q.call_next(w + 1, Timestamp(now)) {
                        record(&mut q, ev);
                        let ev = q.start(w + 1, Timestamp(now)).unwrap();
                        record(&mut q, ev);
                        serving[w as usize] = Some(now);
                    }
                }
            }
        }
        store
            .commit(day, &greenwave::hall::Actor::System, &pending)
            .unwrap();
        let t = process_cpu();
        let batch = push::read_batch(&store, 5000, chrono_tz::Asia::Shanghai).unwrap();
        push::send(db, "busy-hall", "繁忙大厅", &batch)
            .await
            .unwrap();
        push::commit(&path, &batch).unwrap();
        push::take_cards(db, &path, "busy-hall").await.unwrap();
        cpu += process_cpu() - t;
    }
    let day_len = Duration::from_millis((pushes * interval) as u64);
    println!(
        "city push on a busy day: {tickets} tickets, {pushes} pushes every 30 s over {:.0} h: {:.2} s of CPU = {:.3} % of one core",
        day_len.as_secs_f64() / 3600.0,
        cpu.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / day_len.as_secs_f64()
    );
    let n = db.ticket_count("busy-hall").await.unwrap();
    assert_eq!(
        n as usize, tickets,
        "every ticket of the day reached the city"
    );
}
