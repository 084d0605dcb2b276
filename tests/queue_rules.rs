//! The call policy and ticket life cycle, rule by rule, on the pure core
//! with time as a parameter.

use std::time::Duration;

use chrono::NaiveDate;
use greenwave::queue::{
    CallPolicy, CallReason, Event, Lane, Queue, QueueConfig, QueueError, ServiceDef, TicketState,
    Timestamp, WindowDef,
};

const MIN: i64 = 60_000;

fn cfg(policy: CallPolicy) -> QueueConfig {
    QueueConfig {
        services: vec![
            ServiceDef {
                code: "civil".into(),
                letter: "A".into(),
            },
            ServiceDef {
                code: "medical".into(),
                letter: "B".into(),
            },
        ],
        windows: vec![
            WindowDef {
                number: 1,
                services: vec!["civil".into()],
            },
            WindowDef {
                number: 2,
                services: vec!["civil".into(), "medical".into()],
            },
            WindowDef {
                number: 3,
                services: vec!["medical".into()],
            },
        ],
        priority_prefix: "G".into(),
        policy,
    }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

fn queue() -> Queue {
    Queue::new(cfg(CallPolicy::default()), day(), 1)
}

fn t(min: i64) -> Timestamp {
    Timestamp(1_800_000_000_000 + min * MIN)
}

/// Runs a decision and applies it; returns the event.
fn run(q: &mut Queue, decide: impl FnOnce(&Queue) -> Result<Event, QueueError>) -> Event {
    let ev = decide(q).expect("operation allowed");
    q.apply(&ev);
    ev
}

fn issue(q: &mut Queue, service: &str, lane: Lane, at: Timestamp) -> String {
    let ev = run(q, |q| q.issue(service, lane, at));
    match ev {
        Event::Issued { ticket } => ticket.number,
        _ => unreachable!(),
    }
}

fn call(q: &mut Queue, window: u32, at: Timestamp) -> (String, CallReason) {
    let ev = run(q, |q| q.call_next(window, at));
    match ev {
        Event::Called { id, reason, .. } => (q.ticket(id).unwrap().number.clone(), reason),
        _ => unreachable!(),
    }
}

fn finish(q: &mut Queue, window: u32, at: Timestamp) {
    run(q, |q| q.finish(window, at));
}

#[test]
fn numbers_count_per_service_and_lane_with_the_priority_prefix() {
    let mut q = queue();
    assert_eq!(issue(&mut q, "civil", Lane::Normal, t(0)), "A001");
    assert_eq!(issue(&mut q, "civil", Lane::Priority, t(0)), "GA001");
    assert_eq!(issue(&mut q, "civil", Lane::Normal, t(0)), "A002");
    assert_eq!(issue(&mut q, "medical", Lane::Priority, t(0)), "GB001");
    assert_eq!(issue(&mut q, "civil", Lane::Priority, t(0)), "GA002");
}

#[test]
fn priority_first_oldest_first() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0));
    issue(&mut q, "civil", Lane::Priority, t(1));
    issue(&mut q, "civil", Lane::Priority, t(2));
    assert_eq!(
        call(&mut q, 1, t(3)),
        ("GA001".into(), CallReason::Priority)
    );
    finish(&mut q, 1, t(4));
    assert_eq!(
        call(&mut q, 1, t(4)),
        ("GA002".into(), CallReason::Priority)
    );
    finish(&mut q, 1, t(5));
    assert_eq!(call(&mut q, 1, t(5)), ("A001".into(), CallReason::Normal));
}

#[test]
fn after_three_priority_calls_a_waiting_normal_ticket_goes_next() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0));
    for i in 0..5 {
        issue(&mut q, "civil", Lane::Priority, t(1 + i));
    }
    let mut got = Vec::new();
    for i in 0..6 {
        let c = call(&mut q, 1, t(10 + i));
        finish(&mut q, 1, t(10 + i));
        got.push(c);
    }
    let numbers: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        numbers,
        ["GA001", "GA002", "GA003", "A001", "GA004", "GA005"]
    );
    assert_eq!(got[3].1, CallReason::Streak);
}

#[test]
fn streak_is_counted_per_window() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0));
    for i in 0..4 {
        issue(&mut q, "civil", Lane::Priority, t(1 + i));
    }
    // Windows 1 and 2 alternate: neither reaches three in a row by itself
    // until the fourth call overall... window 1 makes calls 1 and 3.
    assert_eq!(call(&mut q, 1, t(10)).0, "GA001");
    assert_eq!(call(&mut q, 2, t(10)).0, "GA002");
    finish(&mut q, 1, t(11));
    finish(&mut q, 2, t(11));
    assert_eq!(call(&mut q, 1, t(11)).0, "GA003");
    assert_eq!(call(&mut q, 2, t(11)).0, "GA004");
    assert_eq!(q.windows()[&1].priority_streak, 2);
}

#[test]
fn a_normal_ticket_waiting_longer_than_the_limit_beats_priority() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Priority, t(0));
    call(&mut q, 1, t(0));
    finish(&mut q, 1, t(1));
    issue(&mut q, "civil", Lane::Normal, t(0));
    issue(&mut q, "civil", Lane::Priority, t(20));
    // 30 minutes is the limit: at exactly 30 the priority ticket still wins.
    assert_eq!(q.next_for(1, t(30)).unwrap().1, CallReason::Priority);
    assert_eq!(call(&mut q, 1, t(31)), ("A001".into(), CallReason::Overdue));
}

/// The payout day's overload (BENCHMARKS.md, `bench payout`): every
/// normal ticket overdue used to precede every priority ticket, and the
/// green-wave lane waited longer than the normal one. Overdue tickets now
/// alternate with priority calls at each window.
#[test]
fn under_overload_overdue_normal_tickets_alternate_with_priority() {
    let mut q = queue();
    for i in 0..3 {
        issue(&mut q, "civil", Lane::Normal, t(i));
    }
    for i in 0..3 {
        issue(&mut q, "civil", Lane::Priority, t(10 + i));
    }
    let mut order = Vec::new();
    for i in 0..6 {
        order.push(call(&mut q, 1, t(60 + i)));
        finish(&mut q, 1, t(60 + i));
    }
    let numbers: Vec<&str> = order.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(numbers, ["GA001", "A001", "GA002", "A002", "GA003", "A003"]);
    assert_eq!(order[1].1, CallReason::Overdue);
    assert_eq!(order[2].1, CallReason::Priority);
}

fn issue_booked(q: &mut Queue, slot: Timestamp, at: Timestamp) -> String {
    let ev = run(q, |q| {
        q.issue_booked("civil", slot, "123456", at, String::new(), None)
    });
    match ev {
        Event::Issued { ticket } => ticket.number,
        _ => unreachable!(),
    }
}

#[test]
fn appointment_tickets_have_the_y_prefix_and_numbers_of_their_own() {
    let mut q = queue();
    assert_eq!(issue(&mut q, "civil", Lane::Normal, t(0)), "A001");
    assert_eq!(issue_booked(&mut q, t(30), t(1)), "YA001");
    assert_eq!(issue_booked(&mut q, t(30), t(2)), "YA002");
    assert_eq!(issue(&mut q, "civil", Lane::Normal, t(3)), "A002");
    let ya = q.ticket_by_number("YA001").unwrap();
    assert_eq!(ya.lane, Lane::Appointment);
    assert_eq!(ya.booking.as_deref(), Some("123456"));
}

#[test]
fn an_appointment_stands_at_its_slot_time_ahead_of_walk_ins_who_came_later() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0));
    // Came at 5 for the slot at 10: behind those who came before 10.
    issue_booked(&mut q, t(10), t(5));
    issue(&mut q, "civil", Lane::Normal, t(8));
    issue(&mut q, "civil", Lane::Normal, t(12));
    let ya = q.ticket_by_number("YA001").unwrap().id;
    assert_eq!(q.ahead(ya), Some(2));
    // Late by 14 minutes for the slot at 0: still at 0, ahead of those who
    // came at 8 and 12 (and after A001, who came at 0 too and is older).
    issue_booked(&mut q, t(0), t(14));
    let order: Vec<String> = (0..5)
        .map(|i| {
            let (n, _) = call(&mut q, 1, t(20 + i));
            finish(&mut q, 1, t(20 + i));
            n
        })
        .collect();
    assert_eq!(order, ["A001", "YA002", "A002", "YA001", "A003"]);
}

#[test]
fn priority_still_goes_before_appointments_and_their_calls_end_a_streak() {
    let mut q = queue();
    issue_booked(&mut q, t(0), t(0));
    for i in 0..4 {
        issue(&mut q, "civil", Lane::Priority, t(1 + i));
    }
    let reasons: Vec<(String, CallReason)> = (0..5)
        .map(|i| {
            let c = call(&mut q, 1, t(5 + i));
            finish(&mut q, 1, t(5 + i));
            c
        })
        .collect();
    assert_eq!(reasons[0], ("GA001".into(), CallReason::Priority));
    assert_eq!(reasons[3], ("YA001".into(), CallReason::Streak));
    assert_eq!(reasons[4], ("GA004".into(), CallReason::Priority));
    assert_eq!(q.windows()[&1].priority_streak, 1);
}

#[test]
fn an_early_appointment_is_not_overdue_before_its_slot() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Priority, t(0));
    call(&mut q, 1, t(0));
    finish(&mut q, 1, t(0));
    // Came 30 minutes early for the slot at 40; at 65 it has been due 25.
    issue_booked(&mut q, t(40), t(10));
    issue(&mut q, "civil", Lane::Priority, t(50));
    assert_eq!(q.next_for(1, t(65)).unwrap().1, CallReason::Priority);
    assert_eq!(q.next_for(1, t(71)).unwrap().1, CallReason::Overdue);
}

#[test]
fn rules_can_be_turned_off() {
    let mut q = Queue::new(
        cfg(CallPolicy {
            max_priority_streak: 0,
            normal_max_wait: None,
            rejoin_grace: Duration::from_secs(900),
        }),
        day(),
        1,
    );
    issue(&mut q, "civil", Lane::Normal, t(0));
    for i in 0..5 {
        issue(&mut q, "civil", Lane::Priority, t(1 + i));
    }
    for i in 0..5 {
        let (_, reason) = call(&mut q, 1, t(100 + i));
        assert_eq!(reason, CallReason::Priority);
        finish(&mut q, 1, t(100 + i));
    }
    assert_eq!(call(&mut q, 1, t(200)).0, "A001");
}

#[test]
fn a_window_calls_only_its_services() {
    let mut q = queue();
    issue(&mut q, "medical", Lane::Priority, t(0));
    assert_eq!(q.call_next(1, t(1)), Err(QueueError::NothingWaiting(1)));
    assert_eq!(call(&mut q, 3, t(1)).0, "GB001");
}

#[test]
fn a_transferred_ticket_keeps_its_lane_and_place() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0)); // A001
    issue(&mut q, "medical", Lane::Normal, t(5)); // B001
    assert_eq!(call(&mut q, 1, t(6)).0, "A001");
    let ev = run(&mut q, |q| {
        q.transfer(1, Some("medical"), None, Some("需办理医保"), t(7))
    });
    assert!(matches!(ev, Event::Transferred { .. }));
    let a = q.ticket_by_number("A001").unwrap();
    assert_eq!(a.state, TicketState::Transferred);
    assert_eq!(a.lane, Lane::Normal);
    assert_eq!(a.issued_at, t(0));
    assert!(q.windows()[&1].current.is_none());
    // Issued before B001, so window 3 calls it first.
    assert_eq!(call(&mut q, 3, t(8)).0, "A001");
}

#[test]
fn a_ticket_transferred_to_a_window_is_called_only_there() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Priority, t(0));
    call(&mut q, 1, t(1));
    run(&mut q, |q| {
        q.transfer(1, Some("medical"), Some(3), None, t(2))
    });
    assert_eq!(q.call_next(2, t(3)), Err(QueueError::NothingWaiting(2)));
    assert_eq!(
        call(&mut q, 3, t(3)),
        ("GA001".into(), CallReason::Priority)
    );
}

#[test]
fn transfer_needs_a_destination() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0));
    call(&mut q, 1, t(1));
    assert_eq!(
        q.transfer(1, None, None, None, t(2)),
        Err(QueueError::BadTransfer)
    );
    assert_eq!(
        q.transfer(1, None, Some(1), None, t(2)),
        Err(QueueError::BadTransfer)
    );
    assert_eq!(
        q.transfer(1, Some("tax"), None, None, t(2)),
        Err(QueueError::UnknownService("tax".into()))
    );
}

#[test]
fn recall_announces_the_same_ticket_again() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0));
    issue(&mut q, "civil", Lane::Normal, t(0));
    call(&mut q, 1, t(1));
    let ev = run(&mut q, |q| q.recall(1, t(2)));
    let Event::Recalled { id, .. } = ev else {
        panic!("{ev:?}")
    };
    let a = q.ticket(id).unwrap();
    assert_eq!(a.number, "A001");
    assert_eq!(a.calls, 2);
    assert_eq!(a.state, TicketState::Called);
}

#[test]
fn a_busy_window_must_close_its_ticket_before_calling() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0));
    issue(&mut q, "civil", Lane::Normal, t(0));
    call(&mut q, 1, t(1));
    assert_eq!(
        q.call_next(1, t(2)),
        Err(QueueError::WindowBusy {
            window: 1,
            number: "A001".into()
        })
    );
}

#[test]
fn calling_a_specific_number() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Priority, t(0));
    issue(&mut q, "civil", Lane::Normal, t(1));
    issue(&mut q, "medical", Lane::Normal, t(1));
    let ev = run(&mut q, |q| q.call_number(1, "a001", t(2)));
    assert!(matches!(
        ev,
        Event::Called {
            reason: CallReason::Manual,
            ..
        }
    ));
    assert_eq!(q.ticket_by_number("A001").unwrap().window, Some(1));
    finish(&mut q, 1, t(3));
    assert!(matches!(
        q.call_number(1, "B001", t(3)),
        Err(QueueError::NotForThisWindow { .. })
    ));
    assert!(matches!(
        q.call_number(1, "A001", t(3)),
        Err(QueueError::WrongState { .. })
    ));
    assert_eq!(
        q.call_number(1, "A999", t(3)),
        Err(QueueError::UnknownNumber("A999".into()))
    );
}

#[test]
fn no_show_and_rejoin_within_grace_returns_to_the_original_place() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0)); // A001
    issue(&mut q, "civil", Lane::Normal, t(1)); // A002
    call(&mut q, 1, t(2));
    run(&mut q, |q| q.no_show(1, t(3)));
    assert_eq!(
        q.ticket_by_number("A001").unwrap().state,
        TicketState::NoShow
    );
    run(&mut q, |q| q.rejoin("A001", t(3 + 15)));
    assert_eq!(
        q.ticket_by_number("A001").unwrap().state,
        TicketState::Waiting
    );
    assert_eq!(call(&mut q, 1, t(19)).0, "A001");
}

#[test]
fn rejoin_after_grace_is_refused() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0));
    call(&mut q, 1, t(1));
    run(&mut q, |q| q.no_show(1, t(2)));
    assert_eq!(
        q.rejoin("A001", t(18)),
        Err(QueueError::GraceExpired("A001".into()))
    );
}

#[test]
fn pause_stops_calls_until_resume() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0));
    run(&mut q, |q| q.pause(1, t(1)));
    assert_eq!(q.call_next(1, t(2)), Err(QueueError::WindowPaused(1)));
    run(&mut q, |q| q.resume(1, t(3)));
    assert_eq!(call(&mut q, 1, t(4)).0, "A001");
}

#[test]
fn rollover_expires_open_tickets_and_restarts_numbering() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0));
    issue(&mut q, "civil", Lane::Normal, t(0));
    call(&mut q, 1, t(1));
    finish(&mut q, 1, t(2));
    call(&mut q, 1, t(3));
    let next = day().succ_opt().unwrap();
    let ev = run(&mut q, |q| q.rollover(next, t(60 * 20)));
    let Event::DayRolledOver { expired, .. } = &ev else {
        panic!()
    };
    assert_eq!(expired.len(), 1, "A002 was open at the window");
    assert_eq!(q.day(), next);
    assert!(q.windows()[&1].current.is_none());
    assert_eq!(issue(&mut q, "civil", Lane::Normal, t(60 * 21)), "A001");
    assert!(matches!(
        q.rollover(next, t(60 * 22)),
        Err(QueueError::DayNotAfter { .. })
    ));
}

#[test]
fn people_ahead_counts_priority_before_normal() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0));
    issue(&mut q, "civil", Lane::Priority, t(1));
    issue(&mut q, "civil", Lane::Normal, t(2));
    issue(&mut q, "medical", Lane::Normal, t(0));
    let ahead = |q: &Queue, n: &str| q.ahead(q.ticket_by_number(n).unwrap().id);
    assert_eq!(ahead(&q, "GA001"), Some(0));
    assert_eq!(ahead(&q, "A001"), Some(1));
    assert_eq!(ahead(&q, "A002"), Some(2));
    assert_eq!(ahead(&q, "B001"), Some(0));
}

#[test]
fn events_replayed_on_a_fresh_queue_give_the_same_state() {
    let mut q = queue();
    let mut journal = Vec::new();
    let mut rec = |q: &mut Queue, decide: &dyn Fn(&Queue) -> Result<Event, QueueError>| {
        let ev = decide(q).unwrap();
        q.apply(&ev);
        journal.push(ev);
    };
    rec(&mut q, &|q| q.issue("civil", Lane::Normal, t(0)));
    rec(&mut q, &|q| q.issue("civil", Lane::Priority, t(1)));
    rec(&mut q, &|q| q.call_next(1, t(2)));
    rec(&mut q, &|q| {
        q.transfer(1, Some("medical"), None, None, t(3))
    });
    rec(&mut q, &|q| q.call_next(1, t(4)));
    rec(&mut q, &|q| q.no_show(1, t(5)));
    let mut r = queue();
    for ev in &journal {
        r.apply(ev);
    }
    let a: Vec<_> = q.tickets().into_iter().cloned().collect();
    let b: Vec<_> = r.tickets().into_iter().cloned().collect();
    assert_eq!(a, b);
    assert_eq!(q.windows(), r.windows());
}

#[test]
fn an_upgraded_ticket_keeps_its_number_and_goes_before_normal_tickets() {
    let mut q = queue();
    issue(&mut q, "civil", Lane::Normal, t(0)); // A001
    issue(&mut q, "civil", Lane::Normal, t(1)); // A002
    run(&mut q, |q| q.upgrade("A002", t(2)));
    let a2 = q.ticket_by_number("A002").unwrap();
    assert_eq!(a2.lane, Lane::Priority);
    assert_eq!(call(&mut q, 1, t(3)), ("A002".into(), CallReason::Priority));
    assert!(matches!(
        q.upgrade("A002", t(4)),
        Err(QueueError::WrongState { .. })
    ));
}

/// Numbers known issued but not in the queue (a database that lost them)
/// raise the counters: the next number comes after them, in that lane
/// only, and a counter never goes down.
#[test]
fn raised_numbering_continues_above_and_never_lowers() {
    let mut q = queue();
    run(&mut q, |q| q.issue("civil", Lane::Normal, t(0)));
    q.raise_numbering("civil", Lane::Normal, 20);
    q.raise_numbering("civil", Lane::Normal, 5);
    q.raise_next_id(40);
    q.raise_next_id(3);
    assert_eq!(q.last_seq("civil", Lane::Normal), 20);
    let Event::Issued { ticket } = run(&mut q, |q| q.issue("civil", Lane::Normal, t(1))) else {
        panic!("not an issue")
    };
    assert_eq!((ticket.number.as_str(), ticket.id.0), ("A021", 40));
    let Event::Issued { ticket } = run(&mut q, |q| q.issue("civil", Lane::Priority, t(2))) else {
        panic!("not an issue")
    };
    assert_eq!(ticket.number, "GA001");
}

#[test]
fn the_wait_is_estimated_as_an_honest_range_once_the_day_has_data() {
    let mut q = queue();
    // The morning's first four services at window 1 take 6 minutes each:
    // too little data for an estimate yet.
    for i in 0..8 {
        issue(&mut q, "civil", Lane::Normal, t(i));
    }
    let mut at = 10;
    for _ in 0..4 {
        call(&mut q, 1, t(at));
        run(&mut q, |q| q.start(1, t(at)));
        run(&mut q, |q| q.finish(1, t(at + 6)));
        at += 6;
    }
    let id = |q: &Queue, n: &str| q.ticket_by_number(n).unwrap().id;
    assert_eq!(
        q.estimated_wait(id(&q, "A008")),
        None,
        "four samples are too few"
    );
    call(&mut q, 1, t(at));
    run(&mut q, |q| q.start(1, t(at)));
    run(&mut q, |q| q.finish(1, t(at + 6)));
    // Five done; A006, A007, A008 wait: two ahead of A008, two windows
    // serve civil and are open: 2 × 6 min / 2 = 6 min → 0–10 min.
    let r = q.estimated_wait(id(&q, "A008")).unwrap();
    assert_eq!((r.low, r.high), (0, 10));
    // Window 2 pauses: one window for two ahead, 12 min → 5–20 min.
    run(&mut q, |q| q.pause(2, t(at + 7)));
    let r = q.estimated_wait(id(&q, "A008")).unwrap();
    assert_eq!((r.low, r.high), (5, 20));
    // Window 1 pauses too: nobody serves civil, no estimate.
    run(&mut q, |q| q.pause(1, t(at + 8)));
    assert_eq!(q.estimated_wait(id(&q, "A008")), None);
    // A ticket that is not waiting has none either.
    assert_eq!(q.estimated_wait(id(&q, "A001")), None);
}
