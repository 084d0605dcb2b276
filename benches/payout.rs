//! A payout day's crowd, simulated (issue 20), so that a hall can choose
//! its hours and limits from evidence: `residents` people over `days`
//! days arrive by an arrival curve (most on the first morning, many before
//! the doors open); the kiosk admits them by the service's schedule
//! (`greenwave_core::schedule::admit`, the daemon's own rule) and tells
//! the others when to come back, which they do; `windows` windows call by
//! the real call policy (`greenwave_core::queue::Queue`, the streak and
//! max-wait rules, three lanes) and serve for a random time. In the
//! appointments scenario a share of the residents book the first free
//! half-hour slot (`greenwave_core::booking::slots`) at or after the time
//! they would have come, and come 0–25 minutes before it: they get a `Y`
//! ticket placed at the slot (priority residents keep their lane). Reports,
//! per scenario and lane, the wait in line (ticket, or slot when later →
//! first call) and the time in the hall (first arrival → first call, the
//! door included) as p50 / p90 / max in minutes, and how often people
//! were turned away.
//!
//!   cargo bench --bench payout
//!
//! Settings from the environment (defaults in brackets): GW_SIM_RESIDENTS
//! [2800], GW_SIM_DAYS [3], GW_SIM_WINDOWS [12], GW_SIM_SERVICE_MIN [5,
//! the mean service time], GW_SIM_PRIORITY [0.35, the share of priority
//! residents], GW_SIM_HOURLY [100, the hourly limit of the scenario that
//! has one], GW_SIM_BOOKED [0.5, the share who book in the appointments
//! scenario], GW_SIM_CAPACITY [30, appointments per half-hour slot],
//! GW_SIM_CURVE [6,3,1, the weights of arriving 07:30–09:30, 09:30–11:30
//! and 13:00–16:00], GW_SIM_DECAY [0.5, each day's crowd against the day
//! before], GW_SIM_SEED [7]. Pure computation: no daemon, no clock.
//!
//! "In the hall" counts from the arrival at which the resident stayed:
//! waiting at the door before opening counts; a resident told to come back
//! (a limit, or not called by closing: next morning) leaves, and the time
//! starts again when they return. "Turned away" counts those departures.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveTime, Timelike};
use greenwave_core::booking::slots;
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
    booked: f64,
    capacity: u32,
    /// Weights of the arrival periods 07:30–09:30, 09:30–11:30, 13:00–16:00.
    curve: [f64; 3],
    /// Each day's share of the crowd against the day before.
    decay: f64,
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
    /// The booked slot (day, minute), in the appointments scenario.
    slot: Option<(u32, u32)>,
}

/// When people come: half on the first day, then fewer; in a day, most in
/// the first two hours (many before the doors open), some later.
fn arrivals(s: &Settings) -> Vec<Resident> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(s.seed);
    let weights: Vec<f64> = (0..s.days).map(|d| s.decay.powi(d as i32)).collect();
    let total: f64 = weights.iter().sum();
    (0..s.residents)
        .map(|_| {
            let mut x = rng.random::<f64>() * total;
            let mut day = 0;
            while day + 1 < s.days && x > weights[day as usize] {
                x -= weights[day as usize];
                day += 1;
            }
            const PERIODS: [(u32, u32); 3] = [
                (7 * 60 + 30, 9 * 60 + 30),
                (9 * 60 + 30, 11 * 60 + 30),
                (13 * 60, 16 * 60),
            ];
            let total: f64 = s.curve.iter().sum();
            let mut x = rng.random::<f64>() * total;
            let mut period = 0;
            while period + 1 < PERIODS.len() && x >= s.curve[period] {
                x -= s.curve[period];
                period += 1;
            }
            let (from, to) = PERIODS[period];
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
                slot: None,
            }
        })
        .collect()
}

/// The appointments scenario's people: a share of them book the first
/// slot with a free place at or after the time they would have come, and
/// come 0–25 minutes before it.
fn with_bookings(s: &Settings, people: &[Resident], sched: &Schedule) -> Vec<Resident> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(s.seed + 1);
    let start = NaiveDate::from_ymd_opt(2026, 12, 14).expect("a date");
    let mut taken: BTreeMap<(u32, u32), u32> = BTreeMap::new();
    let mut order: Vec<usize> = (0..people.len()).collect();
    order.sort_by_key(|&i| (people[i].day, people[i].minute));
    let mut out = people.to_vec();
    for i in order {
        if !rng.random_bool(s.booked) {
            continue;
        }
        let want = (people[i].day, people[i].minute);
        let free = (want.0..want.0 + 14).find_map(|day| {
            let date = start + Duration::days(i64::from(day));
            slots(sched, date)
                .into_iter()
                .map(|t| (day, t.hour() * 60 + t.minute()))
                .find(|&slot| slot >= want && taken.get(&slot).copied().unwrap_or(0) < s.capacity)
        });
        if let Some(slot) = free {
            *taken.entry(slot).or_default() += 1;
            out[i].slot = Some(slot);
            out[i].day = slot.0;
            out[i].minute = slot.1 - rng.random_range(0..=25);
        }
    }
    out
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
    l.as_str()
}

/// A person in the hall or on their way back: their first arrival, and
/// when they (re)try the kiosk.
struct Visit {
    who: usize,
    first: i64,
    day: u32,
    minute: u32,
    /// Coming for a booked slot.
    booked: bool,
}

/// Milliseconds since the first day's midnight.
fn at(day: u32, minute: u32) -> i64 {
    i64::from(day) * 1440 * MIN + i64::from(minute) * MIN
}

/// The simulation's state across days.
struct Sim<'a> {
    s: &'a Settings,
    people: &'a [Resident],
    sched: &'a Schedule,
    start: NaiveDate,
    out: Outcome,
    /// Visits of later days.
    pending: Vec<Visit>,
}

/// One day's hall: its queue, who holds which ticket (resident, time in
/// the hall from, issued at), when each busy window is free.
struct Day {
    day: u32,
    date: NaiveDate,
    q: Queue,
    holders: BTreeMap<TicketId, (usize, i64, i64)>,
    busy: BTreeMap<u32, u32>,
    /// Visits still to come today.
    today: Vec<Visit>,
}

fn simulate(s: &Settings, people: &[Resident], sched: &Schedule) -> Outcome {
    let mut sim = Sim {
        s,
        people,
        sched,
        start: NaiveDate::from_ymd_opt(2026, 12, 14).expect("a date"),
        out: Outcome::default(),
        pending: people
            .iter()
            .enumerate()
            .map(|(who, r)| Visit {
                who,
                first: at(r.day, r.minute),
                day: r.day,
                minute: r.minute,
                booked: r.slot.is_some(),
            })
            .collect(),
    };
    let mut next_id = 1;
    // Bookings may lie past the payout days: the days run until everyone
    // had their turn (and two more, for those sent home at closing).
    let last = people.iter().map(|r| r.day).max().unwrap_or(0).max(s.days);
    for day in 0..last + 2 {
        next_id = sim.run_day(day, next_id);
    }
    sim.out.unserved += sim.pending.len();
    sim.out
}

impl Sim<'_> {
    /// One day from 07:00 to 18:30; returns the next ticket id.
    fn run_day(&mut self, day: u32, next_id: u64) -> u64 {
        let date = self.start + Duration::days(i64::from(day));
        let cfg = QueueConfig {
            services: vec![ServiceDef {
                code: "civil".into(),
                letter: "A".into(),
            }],
            windows: (1..=self.s.windows)
                .map(|n| WindowDef {
                    number: n,
                    services: vec!["civil".into()],
                })
                .collect(),
            priority_prefix: "G".into(),
            policy: CallPolicy::default(),
        };
        let (today, later): (Vec<Visit>, Vec<Visit>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|v| v.day == day);
        self.pending = later;
        let mut d = Day {
            day,
            date,
            q: Queue::new(cfg, date, next_id),
            holders: BTreeMap::new(),
            busy: BTreeMap::new(),
            today,
        };
        for minute in FIRST_MINUTE..=LAST_MINUTE {
            let (now_here, rest): (Vec<Visit>, Vec<Visit>) = std::mem::take(&mut d.today)
                .into_iter()
                .partition(|v| v.minute <= minute);
            d.today = rest;
            for v in now_here {
                self.kiosk(&mut d, v, minute);
            }
            for w in 1..=self.s.windows {
                self.window(&mut d, w, minute);
            }
        }
        // Not called by closing: they come back at the next day's opening.
        for (id, (who, _, _)) in &d.holders {
            if d.q.ticket(*id).is_some_and(|t| t.first_called_at.is_none()) {
                self.out.turned_away += 1;
                self.pending.push(Visit {
                    who: *who,
                    first: at(day + 1, 8 * 60 + 30),
                    day: day + 1,
                    minute: 8 * 60 + 30,
                    booked: false,
                });
            }
        }
        d.q.tickets()
            .iter()
            .map(|t| t.id.0)
            .max()
            .unwrap_or(next_id)
            + 1
    }

    /// A resident at the kiosk: a ticket, or told when to come back.
    fn kiosk(&mut self, d: &mut Day, v: Visit, minute: u32) {
        let now = Timestamp(at(d.day, minute));
        let time = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).expect("a time");
        let lane = self.people[v.who].lane;
        if let (Some(slot), true) = (self.people[v.who].slot, v.booked) {
            // In their slot's window: a Y ticket at the slot, or a
            // priority one (green-wave residents keep their lane).
            let ev = match lane {
                Lane::Priority => d.q.issue("civil", lane, now),
                _ => {
                    let slot = Timestamp(at(slot.0, slot.1));
                    d.q.issue_booked("civil", slot, "000000", now, String::new(), None)
                }
            }
            .expect("issue");
            d.q.apply(&ev);
            let id = ev.ticket_id().expect("a ticket");
            d.holders.insert(id, (v.who, v.first, now.0));
            return;
        }
        let hour_start = Timestamp(at(d.day, minute - time.minute()));
        let counts = Counts::of(d.q.tickets(), "civil", hour_start);
        let refusal = match admit(self.sched, lane, d.date, time, counts) {
            Ok(()) => {
                let ev = d.q.issue("civil", lane, now).expect("issue");
                d.q.apply(&ev);
                let id = ev.ticket_id().expect("a ticket");
                d.holders.insert(id, (v.who, v.first, now.0));
                return;
            }
            Err(r) => r,
        };
        // Before the doors open or in the lunch break people wait at the
        // door: their time in the hall runs on. Told to come back (a
        // limit, closing), they leave and it starts again when they return.
        let at_door = matches!(refusal, Refusal::NotYetOpen { .. } | Refusal::Break { .. });
        if !at_door {
            self.out.turned_away += 1;
        }
        let Some((day, minute)) = come_back(refusal, d.date, self.start) else {
            self.out.unserved += 1;
            return;
        };
        let first = if at_door { v.first } else { at(day, minute) };
        let back = Visit {
            day,
            minute,
            first,
            booked: false,
            ..v
        };
        if day == d.day {
            d.today.push(back);
        } else {
            self.pending.push(back);
        }
    }

    /// A window: finishes its resident when their time is up, calls the
    /// next by the call policy.
    fn window(&mut self, d: &mut Day, w: u32, minute: u32) {
        let now = Timestamp(at(d.day, minute));
        if d.busy.get(&w).is_some_and(|&end| end <= minute) {
            let ev = d.q.finish(w, now).expect("finish");
            d.q.apply(&ev);
            d.busy.remove(&w);
        }
        if d.busy.contains_key(&w) {
            return;
        }
        let Ok(ev) = d.q.call_next(w, now) else {
            return;
        };
        d.q.apply(&ev);
        let id = ev.ticket_id().expect("a ticket");
        let ev = d.q.start(w, now).expect("start");
        d.q.apply(&ev);
        let (who, first, _) = d.holders[&id];
        let t = d.q.ticket(id).expect("a called ticket");
        let lane = lane_name(t.lane);
        self.out
            .wait
            .entry(lane)
            .or_default()
            .push((now.0 - t.due_at().0).max(0) / MIN);
        self.out
            .in_hall
            .entry(lane)
            .or_default()
            .push((now.0 - first) / MIN);
        d.busy.insert(w, minute + self.people[who].service_min);
    }
}

/// The day (from the first) and minute a refusal tells people to come back.
fn come_back(r: Refusal, today: NaiveDate, start: NaiveDate) -> Option<(u32, u32)> {
    let (date, time) = match r {
        Refusal::NotYetOpen { opens } => (today, opens),
        Refusal::EarlyForBooking { from, .. } => (today, from),
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

/// `GW_SIM_CURVE`: three weights `a,b,c` (the default 6,3,1 when it does
/// not parse).
fn curve(s: &str) -> [f64; 3] {
    let w: Vec<f64> = s.split(',').filter_map(|x| x.trim().parse().ok()).collect();
    match w.as_slice() {
        [a, b, c] if a + b + c > 0.0 && w.iter().all(|x| *x >= 0.0) => [*a, *b, *c],
        _ => [6.0, 3.0, 1.0],
    }
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
        booked: setting("GW_SIM_BOOKED", 0.5),
        capacity: setting("GW_SIM_CAPACITY", 30),
        curve: curve(&setting("GW_SIM_CURVE", "6,3,1".to_string())),
        decay: setting("GW_SIM_DECAY", 0.5),
        seed: setting("GW_SIM_SEED", 7),
    };
    let people = arrivals(&s);
    println!(
        "payout simulation: {} residents over {} days (each {} of the day before), arrivals \
         {:?} (07:30-09:30, 09:30-11:30, 13:00-16:00), {} windows, service {} min mean, \
         priority {:.0} %, hours 08:30-12:00 13:30-17:00, seed {}",
        s.residents,
        s.days,
        s.decay,
        s.curve,
        s.windows,
        s.service_min,
        s.priority * 100.0,
        s.seed
    );
    println!(
        "{:<26} {:<11} {:>6} {:>22} {:>22} {:>11} {:>9}",
        "scenario",
        "lane",
        "called",
        "wait p50/p90/max min",
        "in hall p50/p90/max",
        "turned away",
        "unserved"
    );
    let hourly_name = format!("hourly_limit = {}", s.hourly);
    let booked_name = format!("{:.0} % book, {} a slot", s.booked * 100.0, s.capacity);
    let booked = with_bookings(&s, &people, &schedule(None));
    let both_name = format!("… and hourly_limit = {}", s.hourly / 2);
    for (name, sched, people) in [
        ("hours only", schedule(None), &people),
        (hourly_name.as_str(), schedule(Some(s.hourly)), &people),
        (booked_name.as_str(), schedule(None), &booked),
        (both_name.as_str(), schedule(Some(s.hourly / 2)), &booked),
    ] {
        let mut o = simulate(&s, people, &sched);
        for lane in ["priority", "appointment", "normal"] {
            if !o.wait.contains_key(lane) {
                continue;
            }
            let mut wait = o.wait.remove(lane).unwrap_or_default();
            let mut hall = o.in_hall.remove(lane).unwrap_or_default();
            println!(
                "{:<26} {:<11} {:>6} {:>22} {:>22} {:>11} {:>9}",
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
