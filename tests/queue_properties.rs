//! Property tests of the queue core: over random sequences of issues (in
//! three lanes: priority, appointment, normal), calls, transfers,
//! no-shows, rejoins and rollovers at several windows, the fairness
//! promises hold. The checks are written from outside the core:
//! they keep their own view of every window's streak and re-derive what the
//! policy allows, rather than trusting the reason the core gives.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::NaiveDate;
use greenwave::queue::{
    CallPolicy, CallReason, Event, Lane, Queue, QueueConfig, ServiceDef, Ticket, TicketId,
    Timestamp, WindowDef,
};
use proptest::prelude::*;

const SERVICES: [&str; 3] = ["s0", "s1", "s2"];
const MIN: i64 = 60_000;

fn config(window_services: &[Vec<usize>], policy: CallPolicy) -> QueueConfig {
    QueueConfig {
        services: SERVICES
            .iter()
            .enumerate()
            .map(|(i, s)| ServiceDef {
                code: s.to_string(),
                letter: ((b'A' + i as u8) as char).to_string(),
            })
            .collect(),
        windows: window_services
            .iter()
            .enumerate()
            .map(|(i, ss)| WindowDef {
                number: i as u32 + 1,
                services: ss.iter().map(|s| SERVICES[*s].to_string()).collect(),
            })
            .collect(),
        priority_prefix: "G".into(),
        policy,
    }
}

#[derive(Debug, Clone)]
enum Op {
    Issue {
        service: usize,
        priority: bool,
    },
    /// An appointment ticket for a slot `slot_min` minutes from now (early
    /// arrivals: positive; late: negative).
    Book {
        service: usize,
        slot_min: i64,
    },
    Call {
        window: usize,
    },
    CallNumber {
        window: usize,
        pick: usize,
    },
    Finish {
        window: usize,
    },
    NoShow {
        window: usize,
    },
    Transfer {
        window: usize,
        service: usize,
        to_window: Option<usize>,
    },
    Rejoin {
        pick: usize,
    },
    Advance {
        minutes: i64,
    },
    Rollover,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize, any::<bool>()).prop_map(|(service, priority)| Op::Issue { service, priority }),
        2 => (0..3usize, -15..=30i64).prop_map(|(service, slot_min)| Op::Book { service, slot_min }),
        6 => (0..4usize).prop_map(|window| Op::Call { window }),
        1 => (0..4usize, any::<usize>()).prop_map(|(window, pick)| Op::CallNumber { window, pick }),
        4 => (0..4usize).prop_map(|window| Op::Finish { window }),
        1 => (0..4usize).prop_map(|window| Op::NoShow { window }),
        1 => (0..4usize, 0..3usize, proptest::option::of(0..4usize))
            .prop_map(|(window, service, to_window)| Op::Transfer { window, service, to_window }),
        1 => any::<usize>().prop_map(|pick| Op::Rejoin { pick }),
        3 => (0..20i64).prop_map(|minutes| Op::Advance { minutes }),
        1 => Just(Op::Rollover),
    ]
}

fn windows_strategy() -> impl Strategy<Value = Vec<Vec<usize>>> {
    proptest::collection::vec(
        proptest::sample::subsequence(vec![0usize, 1, 2], 1..=3),
        2..=4,
    )
}

fn policy_strategy() -> impl Strategy<Value = CallPolicy> {
    (0..5u32, proptest::option::of(5..60u64)).prop_map(|(streak, wait)| CallPolicy {
        max_priority_streak: streak,
        normal_max_wait: wait.map(|m| Duration::from_secs(m * 60)),
        rejoin_grace: Duration::from_secs(15 * 60),
    })
}

/// Can `window` call `t` by the window/service rules?
fn eligible(cfg: &QueueConfig, window: u32, t: &Ticket) -> bool {
    match t.target_window {
        Some(w) => w == window,
        None => cfg
            .windows
            .iter()
            .any(|w| w.number == window && w.services.contains(&t.service)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// No ticket is ever called by two windows; a priority ticket is passed
    /// over by a later normal ticket only under rule 2, and rule 2 is
    /// honoured; numbers never repeat within a day.
    #[test]
    fn calls_are_fair_and_exclusive(
        windows in windows_strategy(),
        policy in policy_strategy(),
        ops in proptest::collection::vec(op(), 1..250),
    ) {
        let cfg = config(&windows, policy.clone());
        let nwin = windows.len();
        let mut day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let mut q = Queue::new(cfg.clone(), day, 1);
        let mut now = Timestamp(1_800_000_000_000);
        let mut numbers: HashSet<(NaiveDate, String)> = HashSet::new();
        let mut streak: HashMap<u32, u32> = HashMap::new();
        let mut at_window: HashMap<u32, TicketId> = HashMap::new();

        for op in ops {
            let decision = match &op {
                Op::Issue { service, priority } => {
                    let lane = if *priority { Lane::Priority } else { Lane::Normal };
                    q.issue(SERVICES[*service], lane, now)
                }
                Op::Book { service, slot_min } => {
                    let slot = Timestamp(now.0 + slot_min * MIN);
                    q.issue_booked(SERVICES[*service], slot, "000001", now, String::new(), None)
                }
                Op::Call { window } => q.call_next((*window % nwin) as u32 + 1, now),
                Op::CallNumber { window, pick } => {
                    let all = q.tickets();
                    if all.is_empty() { continue; }
                    let n = all[pick % all.len()].number.clone();
                    q.call_number((*window % nwin) as u32 + 1, &n, now)
                }
                Op::Finish { window } => q.finish((*window % nwin) as u32 + 1, now),
                Op::NoShow { window } => q.no_show((*window % nwin) as u32 + 1, now),
                Op::Transfer { window, service, to_window } => q.transfer(
                    (*window % nwin) as u32 + 1,
                    Some(SERVICES[*service]),
                    to_window.map(|w| (w % nwin) as u32 + 1),
                    None,
                    now,
                ),
                Op::Rejoin { pick } => {
                    let all = q.tickets();
                    if all.is_empty() { continue; }
                    let n = all[pick % all.len()].number.clone();
                    q.rejoin(&n, now)
                }
                Op::Advance { minutes } => {
                    now = Timestamp(now.0 + minutes * MIN);
                    continue;
                }
                Op::Rollover => {
                    day = day.succ_opt().unwrap();
                    q.rollover(day, now)
                }
            };
            let Ok(ev) = decision else { continue };

            match &ev {
                Event::Issued { ticket } => {
                    prop_assert!(
                        numbers.insert((ticket.day, ticket.number.clone())),
                        "number {} issued twice on {}", ticket.number, ticket.day
                    );
                }
                Event::Called { id, window, reason, .. } => {
                    let t = q.ticket(*id).unwrap().clone();
                    prop_assert!(t.state.is_waiting(), "{} called while {:?}", t.number, t.state);
                    for (w, other) in &at_window {
                        prop_assert!(other != id || w == window, "{} called by windows {} and {}", t.number, w, window);
                    }
                    let waiting: Vec<&Ticket> = q
                        .tickets()
                        .into_iter()
                        .filter(|o| o.state.is_waiting() && eligible(&cfg, *window, o))
                        .collect();
                    // The general line: appointments and walk-ins, by
                    // place; due from the later of slot and arrival.
                    let general = |o: &Ticket| !o.lane.is_priority();
                    let overdue_general = waiting.iter().any(|o| {
                        general(o) && policy.normal_max_wait.is_some_and(|m| now.since(o.due_at()) > m)
                    });
                    let s = streak.get(window).copied().unwrap_or(0);
                    if *reason != CallReason::Manual {
                        prop_assert!(eligible(&cfg, *window, &t), "{} is not for window {}", t.number, window);
                        let any_priority = waiting.iter().any(|o| o.lane.is_priority());
                        let by_streak = policy.max_priority_streak > 0 && s >= policy.max_priority_streak;
                        if general(&t) && any_priority {
                            prop_assert!(
                                by_streak || (overdue_general && s >= 1),
                                "{} called before a waiting priority ticket without rule 1 or 2 (streak {}, overdue {})",
                                t.number, s, overdue_general
                            );
                        }
                        if t.lane.is_priority() {
                            prop_assert!(
                                !(overdue_general && s >= 1),
                                "{} called right after a priority call while a general ticket was overdue", t.number
                            );
                            let streak_due = by_streak && waiting.iter().any(|o| general(o));
                            prop_assert!(!streak_due, "{} called after {} priority calls while a general ticket waited", t.number, s);
                        }
                        // First by place within the chosen line.
                        let before = waiting.iter().find(|o| {
                            o.lane.is_priority() == t.lane.is_priority()
                                && (o.place(), o.id) < (t.place(), t.id)
                        });
                        prop_assert!(before.is_none(), "{} passed {:?} of its line", t.number, before.map(|o| &o.number));
                    }
                    let e = streak.entry(*window).or_insert(0);
                    *e = if t.lane.is_priority() { *e + 1 } else { 0 };
                    at_window.insert(*window, *id);
                }
                Event::Finished { window, .. } | Event::NoShow { window, .. } => {
                    at_window.remove(window);
                }
                Event::Transferred { from_window, .. } => {
                    at_window.remove(from_window);
                }
                Event::DayRolledOver { .. } => {
                    at_window.clear();
                    streak.clear();
                }
                _ => {}
            }
            q.apply(&ev);
        }
    }

    /// With rule 1 on, no ticket of the general line (a walk-in, or an
    /// appointment counted from its slot) waits more than
    /// `normal_max_wait` plus two service times (the window's current
    /// service, then one priority call), however many priority tickets
    /// arrive, as long as the general line's tickets are placed no closer
    /// than two service times apart: under overload a window alternates,
    /// half for each line.
    #[test]
    fn no_normal_ticket_starves(
        windows in windows_strategy(),
        max_wait_min in 5..40i64,
        service_min in 1..8i64,
        priority_arrivals in proptest::collection::vec((0..400i64, 0..3usize), 0..300),
        normal_gaps in proptest::collection::vec((0..10i64, 0..3usize, proptest::option::of(0..=30i64)), 1..30),
        service_times in proptest::collection::vec(1..100i64, 1..50),
        streak in 0..5u32,
    ) {
        let policy = CallPolicy {
            max_priority_streak: streak,
            normal_max_wait: Some(Duration::from_secs(max_wait_min as u64 * 60)),
            rejoin_grace: Duration::from_secs(900),
        };
        let cfg = config(&windows, policy);
        let served: HashSet<usize> = windows.iter().flatten().copied().collect();
        let mut q = Queue::new(cfg, NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(), 1);

        // Arrivals per minute: priority anywhere; the general line's
        // places at least two service times apart, only for services some
        // window calls: a walk-in arrives at its place, a booked resident
        // up to 30 minutes before their slot.
        let mut arrivals: HashMap<i64, Vec<(usize, Lane, Option<i64>)>> = HashMap::new();
        for (m, s) in &priority_arrivals {
            if served.contains(s) {
                arrivals.entry(*m).or_default().push((*s, Lane::Priority, None));
            }
        }
        let mut m = 30;
        for (gap, s, early) in &normal_gaps {
            m += 2 * service_min + gap;
            if served.contains(s) {
                match early {
                    None => arrivals.entry(m).or_default().push((*s, Lane::Normal, None)),
                    Some(e) => arrivals.entry(m - e).or_default().push((*s, Lane::Appointment, Some(m))),
                }
            }
        }
        let end = 400.max(m) + max_wait_min + 2 * service_min + 5;
        let mut busy_until: HashMap<u32, i64> = HashMap::new();
        let mut k = 0usize;
        let base = 1_800_000_000_000i64;
        for minute in 0..=end {
            let now = Timestamp(base + minute * MIN);
            for (s, lane, slot) in arrivals.get(&minute).cloned().unwrap_or_default() {
                let ev = match slot {
                    Some(slot) => {
                        let slot = Timestamp(base + slot * MIN);
                        q.issue_booked(SERVICES[s], slot, "000001", now, String::new(), None)
                    }
                    None => q.issue(SERVICES[s], lane, now),
                };
                q.apply(&ev.unwrap());
            }
            for w in 1..=windows.len() as u32 {
                if busy_until.get(&w).copied().unwrap_or(0) > minute {
                    continue;
                }
                if let Ok(ev) = q.finish(w, now) {
                    q.apply(&ev);
                }
                if let Ok(ev) = q.call_next(w, now) {
                    if let Event::Called { id, .. } = &ev {
                        let t = q.ticket(*id).unwrap();
                        if !t.lane.is_priority() {
                            let waited = (now.0 - t.due_at().0) / MIN;
                            prop_assert!(
                                waited <= max_wait_min + 2 * service_min,
                                "{} waited {} min > {} + 2 × {}", t.number, waited, max_wait_min, service_min
                            );
                        }
                    }
                    q.apply(&ev);
                    let d = 1 + service_times[k % service_times.len()] % service_min;
                    k += 1;
                    busy_until.insert(w, minute + d);
                }
            }
        }
        // And every normal ticket was called in the end.
        for t in q.tickets() {
            prop_assert!(t.lane.is_priority() || !t.state.is_waiting(), "{} never called", t.number);
        }
    }
}
