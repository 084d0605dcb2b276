//! A payout day's crowd, simulated (issue 20), so that a hall can choose
//! its hours and limits from evidence: `residents` people over `days`
//! days arrive by an arrival curve (most on the first morning, many before
//! the doors open); the kiosk admits them by the service's schedule
//! (`greenwave_core::schedule::admit`, the daemon's own rule) and tells
//! the others when to come back, which they do; `windows` windows call by
//! the real call policy (`greenwave_core::queue::Queue`, the streak and
//! max-wait rules) and serve for a random time. Reports, per scenario and
//! lane, the wait in line (ticket → first call) and the time in the hall
//! (first arrival → first call, the door included) as p50 / p90 / max in
//! minutes, and how often people were turned away.
//!
//!   cargo bench --bench payout
//!
//! Settings from the environment (defaults in brackets): GW_SIM_RESIDENTS
//! [2800], GW_SIM_DAYS [3], GW_SIM_WINDOWS [12], GW_SIM_SERVICE_MIN [5,
//! the mean service time], GW_SIM_PRIORITY [0.35, the share of priority
//! residents], GW_SIM_HOURLY [100, the hourly limit of the scenario that
//! has one], GW_SIM_SEED [7]. Pure computation: no daemon, no clock.
//!
//! "In the hall" counts from the arrival at which the resident stayed:
//! waiting at the door before opening counts; a resident told to come back
//! (a limit, or not called by closing: next morning) leaves, and the time
//! starts again when they return. "Turned away" counts those departures.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveTime, Timelike};
use greenwave_core::queue::{
    CallPolicy, Lane, Queue, QueueConfig, ServiceDef, TicketId, Timestamp, WindowDef,
};
use greenwave_core::schedule::{admit, parse_span, Counts, Refusal, Schedule};
use rand::{RngExt, SeedableRng};

const MIN: i64 = 60_000;
/// The simulated day runs from 07:00 to 18:30, local.
const FIRST_MINUTE: u32 = 7 * 60;
const LAST_MINUTE: u32 = 18 * 60 + 30;

fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Settings {
    residents: usize,
    days: u32,
    windows: u32,
    service_min: f64,
    priority: f64,
    hourly: u32,
    seed: u64,
}

/// One resident: when they first come, their lane, how long their business
/// takes.
#[derive(Clone)]
struct Resident {
    day: u32,
    minute: u32,
    lane: Lane,
    service_min: u32,
}

/// When people come: half on the first day, then fewer; in a day, most in
/// the first two hours (many before the doors open), some later.
fn arrivals(s: &Settings) -> Vec<Resident> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(s.seed);
    let weights: Vec<f64> = (0..s.days).map(|d| 0.5f64.powi(d as i32)).collect();
    let total: f64 = weights.iter().sum();
    (0..s.residents)
        .map(|_| {
            let mut x = rng.random::<f64>() * total;
            let mut day = 0;
            while day + 1 < s.days && x > weights[day as usize] {
                x -= weights[day as usize];
                day += 1;
            }
            let (from, to) = match rng.random_range(0..10) {
                0..=5 => (7 * 60 + 30, 9 * 60 + 30),
                6..=8 => (9 * 60 + 30, 11 * 60 + 30),
                _ => (13 * 60, 16 * 60),
            };
            // Exponential service time around the mean, 2 to 30 minutes.
            let service = -s.service_min * (1.0 - rng.random::<f64>()).ln();
            Resident {
                day,
                minute: rng.random_range(from..to),
                lane: if rng.random_bool(s.priority) {
                    Lane::Priority
                } else {
                    Lane::Normal
                },
                service_min: service.clamp(2.0, 30.0).round() as u32,
            }
        })
        .collect()
}

fn schedule(hourly: Option<u32>) -> Schedule {
    Schedule {
        hours: vec![
            parse_span("08:30-12:00").expect("a span"),
            parse_span("13:30-17:00").expect("a span"),
        ],
        hourly_limit: hourly,
        ..Schedule::default()
    }
}

/// What happened to everyone, per lane.
#[derive(Default)]
struct Outcome {
    /// Minutes in line (ticket → first call), per lane.
    wait: BTreeMap<&'static str, Vec<i64>>,
    /// Minutes in the hall (first arrival → first call), per lane.
    in_hall: BTreeMap<&'static str, Vec<i64>>,
    /// Times someone was told to come back (hours, limit).
    turned_away: usize,
    /// People not called by the end of the last day.
    unserved: usize,
}

fn lane_name(l: Lane) -> &'static str {
    match l {
        Lane::Priority => "priority",
        Lane::Normal => "normal",
    }
}

/// A person in the hall or on their way back: their first arrival, and
/// when they (re)try the kiosk.
struct Visit {
    who: usize,
    first: i64,
    day: u32,
    minute: u32,
}

fn simulate(s: &Settings, people: &[Resident], sched: &Schedule) -> Outcome {
    let start = NaiveDate::from_ymd_opt(2026, 12, 14).expect("a date");
    let cfg = QueueConfig {
        services: vec![ServiceDef {
            code: "civil".into(),
            letter: "A".into(),
        }],
        windows: (1..=s.windows)
            .map(|n| WindowDef {
                number: n,
                services: vec!["civil".into()],
            })
            .collect(),
        priority_prefix: "G".into(),
        policy: CallPolicy::default(),
    };
    let at = |day: u32, minute: u32| i64::from(day) * 1440 * MIN + i64::from(minute) * MIN;
    let mut out = Outcome::default();
    let mut pending: Vec<Visit> = people
        .iter()
        .enumerate()
        .map(|(who, r)| Visit {
            who,
            first: at(r.day, r.minute),
            day: r.day,
            minute: r.minute,
        })
        .collect();
    let mut next_id = 1;
    for day in 0..s.days + 2 {
        let date = start + Duration::days(i64::from(day));
        let mut q = Queue::new(cfg.clone(), date, next_id);
        let mut holders: BTreeMap<TicketId, (usize, i64, i64)> = BTreeMap::new();
        let mut busy: BTreeMap<u32, u32> = BTreeMap::new();
        let (today, later): (Vec<Visit>, Vec<Visit>) =
            pending.into_iter().partition(|v| v.day == day);
        pending = later;
        let mut today: Vec<Visit> = today;
        for minute in FIRST_MINUTE..=LAST_MINUTE {
            let now = Timestamp(at(day, minute));
            let time = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).expect("a time");
            let (now_here, rest): (Vec<Visit>, Vec<Visit>) =
                today.into_iter().partition(|v| v.minute <= minute);
            today = rest;
            for v in now_here {
                let lane = people[v.who].lane;
                let hour_start = Timestamp(at(day, minute - time.minute()));
                let counts = Counts::of(q.tickets(), "civil", hour_start);
                match admit(sched, lane, date, time, counts) {
                    Ok(()) => {
                        let ev = q.issue("civil", lane, now).expect("issue");
                        q.apply(&ev);
                        let id = ev.ticket_id().expect("a ticket");
                        holders.insert(id, (v.who, v.first, now.0));
                    }
                    Err(r) => {
                        // Before the doors open or in the lunch break
                        // people wait at the door: their time in the hall
                        // runs on. Told to come back (a limit, closing),
                        // they leave and it starts again when they return.
                        let waits_at_door =
                            matches!(r, Refusal::NotYetOpen { .. } | Refusal::Break { .. });
                        if !waits_at_door {
                            out.turned_away += 1;
                        }
                        let back = come_back(r, date, start);
                        let first = |d: u32, m: u32| if waits_at_door { v.first } else { at(d, m) };
                        match back {
                            Some((d, m)) if d == day => today.push(Visit {
                                minute: m,
                                first: first(d, m),
                                ..v
                            }),
                            Some((d, m)) => pending.push(Visit {
                                day: d,
                                minute: m,
                                first: first(d, m),
                                ..v
                            }),
                            None => out.unserved += 1,
                        }
                    }
                }
            }
            for w in 1..=s.windows {
                if busy.get(&w).is_some_and(|&end| end <= minute) {
                    let ev = q.finish(w, now).expect("finish");
                    q.apply(&ev);
                    busy.remove(&w);
                }
                if busy.contains_key(&w) {
                    continue;
                }
                let Ok(ev) = q.call_next(w, now) else {
                    continue;
                };
                q.apply(&ev);
                let id = ev.ticket_id().expect("a ticket");
                let ev = q.start(w, now).expect("start");
                q.apply(&ev);
                let (who, first, issued) = holders[&id];
                let lane = lane_name(people[who].lane);
                out.wait
                    .entry(lane)
                    .or_default()
                    .push((now.0 - issued) / MIN);
                out.in_hall
                    .entry(lane)
                    .or_default()
                    .push((now.0 - first) / MIN);
                busy.insert(w, minute + people[who].service_min);
            }
        }
        // Not called by closing: they come back at the next day's opening.
        let called: std::collections::HashSet<TicketId> = q
            .tickets()
            .iter()
            .filter(|t| t.first_called_at.is_some())
            .map(|t| t.id)
            .collect();
        for (id, (who, _, _)) in &holders {
            if !called.contains(id) {
                out.turned_away += 1;
                pending.push(Visit {
                    who: *who,
                    first: at(day + 1, 8 * 60 + 30),
                    day: day + 1,
                    minute: 8 * 60 + 30,
                });
            }
        }
        next_id = q.tickets().iter().map(|t| t.id.0).max().unwrap_or(next_id) + 1;
    }
    out.unserved += pending.len();
    out
}

/// The day (from the first) and minute a refusal tells people to come back.
fn come_back(r: Refusal, today: NaiveDate, start: NaiveDate) -> Option<(u32, u32)> {
    let (date, time) = match r {
        Refusal::NotYetOpen { opens } => (today, opens),
        Refusal::Break { reopens } => (today, reopens),
        Refusal::HourlyLimit { next } => (next.date, next.at),
        Refusal::Closed { next } | Refusal::DailyLimit { next } => {
            let o = next?;
            (o.date, o.at)
        }
    };
    let day = u32::try_from((date - start).num_days()).ok()?;
    Some((day, time.hour() * 60 + time.minute()))
}

fn pct(v: &mut [i64], p: usize) -> i64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[(v.len() - 1) * p / 100]
}

fn main() {
    let s = Settings {
        residents: setting("GW_SIM_RESIDENTS", 2800),
        days: setting("GW_SIM_DAYS", 3),
        windows: setting("GW_SIM_WINDOWS", 12),
        service_min: setting("GW_SIM_SERVICE_MIN", 5.0),
        priority: setting("GW_SIM_PRIORITY", 0.35),
        hourly: setting("GW_SIM_HOURLY", 100),
        seed: setting("GW_SIM_SEED", 7),
    };
    let people = arrivals(&s);
    println!(
        "payout simulation: {} residents over {} days, {} windows, service {} min mean, \
         priority {:.0} %, hours 08:30-12:00 13:30-17:00, seed {}",
        s.residents,
        s.days,
        s.windows,
        s.service_min,
        s.priority * 100.0,
        s.seed
    );
    println!(
        "{:<22} {:<9} {:>6} {:>22} {:>22} {:>11} {:>9}",
        "scenario",
        "lane",
        "called",
        "wait p50/p90/max min",
        "in hall p50/p90/max",
        "turned away",
        "unserved"
    );
    let hourly_name = format!("hourly_limit = {}", s.hourly);
    for (name, sched) in [
        ("hours only", schedule(None)),
        (hourly_name.as_str(), schedule(Some(s.hourly))),
    ] {
        let mut o = simulate(&s, &people, &sched);
        for lane in ["priority", "normal"] {
            let mut wait = o.wait.remove(lane).unwrap_or_default();
            let mut hall = o.in_hall.remove(lane).unwrap_or_default();
            println!(
                "{:<22} {:<9} {:>6} {:>22} {:>22} {:>11} {:>9}",
                name,
                lane,
                wait.len(),
                format!(
                    "{}/{}/{}",
                    pct(&mut wait, 50),
                    pct(&mut wait, 90),
                    pct(&mut wait, 100)
                ),
                format!(
                    "{}/{}/{}",
                    pct(&mut hall, 50),
                    pct(&mut hall, 90),
                    pct(&mut hall, 100)
                ),
                o.turned_away,
                o.unserved
            );
        }
    }
}
