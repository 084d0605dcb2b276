//! Opening hours and daily limits (issue 20), through the real daemon, its
//! kiosk in line mode and a simulated ESC/POS printer on 127.0.0.1: past
//! the normal lane's limit, or outside the hours, the kiosk says why and
//! when to come back and prints nothing; staff at a window may still
//! issue; a resident's open ticket is given again whatever the limit; the
//! priority lane is not limited by the normal lane's count.

mod common;

use std::time::Duration;

use common::{TestHall, MANAGER};
use greenwave_drivers::printer::sim::{PrinterSim, SimState};
use serde_json::json;

/// The test hall with `schedule` (TOML keys) on its civil service (A), a
/// printer and the kiosk's default service civil.
fn hall(schedule: &str, printer: &PrinterSim) -> TestHall {
    let builder = TestHall::builder().extra(&format!(
        "[devices.printer]\nuri = \"{}\"\n[kiosk]\ndefault_service = \"civil\"\n",
        printer.uri()
    ));
    let text = builder.toml().replacen(
        "letter = \"A\"\n",
        &format!("letter = \"A\"\n{schedule}\n"),
        1,
    );
    assert!(text.contains(schedule), "{text}");
    let hall = builder.build();
    std::fs::write(&hall.config, text).unwrap();
    hall
}

fn tickets(d: &common::Daemon) -> Vec<String> {
    let (st, list) = d.get("/api/tickets", MANAGER);
    assert_eq!(st, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn past_the_daily_limit_the_kiosk_says_come_back_tomorrow_and_prints_nothing() {
    let printer = PrinterSim::start(SimState::Ready).unwrap();
    let hall = hall("daily_limit = 2", &printer);
    let mut d = hall.start();
    for n in ["A001", "A002"] {
        d.key("0");
        d.wait_stdout(&format!("您的号码 {n}"));
    }
    printer.control().wait_for_jobs(2, Duration::from_secs(10));
    d.key("0");
    let line = d.wait_stdout("号已发完");
    // No hours configured: open every day, so tomorrow from midnight.
    assert!(
        line.contains("今日民政救助号已发完，请明天上午 0:00 后再来"),
        "{line}"
    );
    assert_eq!(tickets(&d), ["A001", "A002"], "nothing issued");
    assert_eq!(printer.control().jobs().len(), 2, "nothing printed");
    // A window's staff are not limited: someone already in the hall.
    let (st, t) = d.post("/api/tickets", MANAGER, json!({ "service": "civil" }));
    assert_eq!((st, t["number"].as_str()), (201, Some("A003")), "{t}");
    // The limit is the normal lane's: the priority lane is open.
    let (st, t) = d.post(
        "/api/tickets",
        MANAGER,
        json!({ "service": "civil", "lane": "priority", "reason": "测试" }),
    );
    assert_eq!(st, 201, "{t}");
}

#[test]
fn outside_the_hours_the_kiosk_says_when_tickets_are_given_out() {
    use chrono::Timelike;
    let printer = PrinterSim::start(SimState::Ready).unwrap();
    // A span twelve hours away from now in the hall's time zone: before it,
    // "开始取号" today; after it, "已结束" until tomorrow's.
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    let start = (now.hour() + 12) % 24;
    let span = if start == 23 {
        "23:00-23:59".to_string()
    } else {
        format!("{start:02}:00-{:02}:00", start + 1)
    };
    let hall = hall(&format!("hours = [\"{span}\"]"), &printer);
    let mut d = hall.start();
    d.key("0");
    let line = d.wait_stdout("[自助机] 民政救助");
    let written = |h: u32| {
        let part = match h {
            0..=11 => "上午",
            12 => "中午",
            13..=17 => "下午",
            _ => "晚上",
        };
        format!("{part} {h}:00")
    };
    if start > now.hour() {
        assert!(
            line.contains(&format!("今天{} 开始取号", written(start))),
            "{line}"
        );
    } else {
        assert!(
            line.contains(&format!("今日取号已结束，请明天{} 后再来", written(start))),
            "{line}"
        );
    }
    assert!(tickets(&d).is_empty(), "nothing issued");
    assert!(printer.control().jobs().is_empty(), "nothing printed");
}

#[test]
fn a_bad_schedule_is_refused_naming_its_key_and_line() {
    let printer = PrinterSim::start(SimState::Ready).unwrap();
    for (schedule, key) in [
        (
            "hours = [\"08:30-12:00\", \"11:00-17:00\"]",
            "services[0].hours[1]",
        ),
        ("hours = [\"8.30-12\"]", "services[0].hours[0]"),
        ("daily_limit = 0", "services[0].daily_limit"),
        (
            "[[services.days]]\non = \"someday\"\nhours = []",
            "services[0].days[0].on",
        ),
    ] {
        let hall = hall(schedule, &printer);
        let (st, _, err) = hall.cli(&["config", "check"]);
        assert!(!st.success(), "{schedule} accepted");
        let text = std::fs::read_to_string(&hall.config).unwrap();
        // The line of the bad key (the last line of the edit).
        let bad = schedule
            .lines()
            .find(|l| l.starts_with(key.rsplit('.').next().unwrap().split('[').next().unwrap()))
            .unwrap();
        let line = text.lines().position(|l| l == bad).unwrap() + 1;
        let want = format!("greenwave.toml:{line}: {key}");
        assert!(err.contains(&want), "{schedule}: want {want} in {err}");
    }
}

/// The rules that need the resident's identity, in the hall itself with a
/// manual clock: a resident with an open ticket gets it again past the
/// limit (a reprint, no new number), while a new resident is refused.
#[test]
fn a_resident_with_a_ticket_gets_it_again_past_the_limit() {
    use greenwave::config::Config;
    use greenwave::hall::{Actor, Ask, Hall, HallError, ManualClock};
    use greenwave::queue::{Lane, Timestamp};
    use greenwave::schedule::Refusal;
    use std::sync::Arc;

    let printer = PrinterSim::start(SimState::Ready).unwrap();
    let hall_dir = hall("hours = [\"08:30-12:00\"]\ndaily_limit = 1", &printer);
    let cfg = Config::load(&hall_dir.config).unwrap();
    // 2026-12-01 10:00 in the hall.
    let clock = Arc::new(ManualClock::new(Timestamp(1_796_090_400_000)));
    let mut h = Hall::open(&cfg, clock.clone()).unwrap();
    let schedule = &cfg.service("civil").unwrap().schedule;
    let (first, second) = ("a1".repeat(32), "b2".repeat(32));
    let ask = |h: &mut Hall, person: &str| {
        h.open_or_issue(Ask {
            actor: &Actor::Kiosk(None),
            service: "civil",
            person: Some(person),
            lane: Lane::Normal,
            token: format!("tok-{person}"),
            identified: None,
            request: None,
            profile: Default::default(),
            schedule: Some(schedule),
            appointments: None,
        })
    };
    let t = ask(&mut h, &first).unwrap();
    assert_eq!((t.ticket.number.as_str(), t.reprint), ("A001", false));
    match ask(&mut h, &second) {
        Err(HallError::NotNow(Refusal::DailyLimit { next: Some(o) })) => {
            assert_eq!(o.date.to_string(), "2026-12-02");
            assert_eq!(o.at.to_string(), "08:30:00");
        }
        other => panic!("a second resident past the limit: {other:?}"),
    }
    let again = ask(&mut h, &first).unwrap();
    assert_eq!(
        (again.ticket.number.as_str(), again.reprint),
        ("A001", true)
    );
    // After the hours even the reprint is given (it is the resident's).
    clock.advance(Duration::from_secs(3 * 3600));
    assert!(ask(&mut h, &first).unwrap().reprint);
    assert!(matches!(
        ask(&mut h, &second),
        Err(HallError::NotNow(Refusal::Closed { .. }))
    ));
}
