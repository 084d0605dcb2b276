//! Statistics against a worked example: a hand-made day whose figures are
//! computed here by hand, then through the real binary on a real journal.

mod common;

use chrono::NaiveDate;
use greenwave::queue::{
    CallPolicy, Event, Lane, Queue, QueueConfig, QueueError, ServiceDef, Timestamp, WindowDef,
};
use greenwave::stats::{figures, to_csv, GroupBy, CSV_HEADER};
use greenwave::store::JournalEntry;
use serde_json::json;

const MIN: i64 = 60_000;

fn t(m: i64) -> Timestamp {
    Timestamp(1_800_000_000_000 + m * MIN)
}

/// The worked day (times in minutes):
/// - A001 normal, issued 0, called 10 at window 2, started 12, finished 20;
/// - GA001 priority, issued 5, called 6 at window 1, started 7, finished 17;
/// - A002 normal, issued 11, called 21 at window 1, no-show 25;
/// - A003 normal, issued 30, called 31 at window 2, transferred 32 to
///   medical, never called again: expired at the rollover;
/// - GB001 priority (medical), issued 40, cancelled 41.
fn worked_day() -> Vec<JournalEntry> {
    let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let cfg = QueueConfig {
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
        ],
        priority_prefix: "G".into(),
        policy: CallPolicy::default(),
    };
    let mut q = Queue::new(cfg, day, 1);
    let mut journal = Vec::new();
    let mut step = |q: &mut Queue, f: &dyn Fn(&Queue) -> Result<Event, QueueError>| {
        let ev = f(q).unwrap();
        let d = q.day();
        q.apply(&ev);
        journal.push(JournalEntry {
            seq: journal.len() as i64 + 1,
            day: d,
            event: ev,
        });
    };
    step(&mut q, &|q| q.issue("civil", Lane::Normal, t(0)));
    step(&mut q, &|q| q.issue("civil", Lane::Priority, t(5)));
    step(&mut q, &|q| q.call_next(1, t(6)));
    step(&mut q, &|q| q.start(1, t(7)));
    step(&mut q, &|q| q.call_next(2, t(10)));
    step(&mut q, &|q| q.issue("civil", Lane::Normal, t(11)));
    step(&mut q, &|q| q.start(2, t(12)));
    step(&mut q, &|q| q.finish(1, t(17)));
    step(&mut q, &|q| q.finish(2, t(20)));
    step(&mut q, &|q| q.call_next(1, t(21)));
    step(&mut q, &|q| q.no_show(1, t(25)));
    step(&mut q, &|q| q.issue("civil", Lane::Normal, t(30)));
    step(&mut q, &|q| q.call_next(2, t(31)));
    step(&mut q, &|q| {
        q.transfer(2, Some("medical"), None, None, t(32))
    });
    step(&mut q, &|q| q.issue("medical", Lane::Priority, t(40)));
    step(&mut q, &|q| q.cancel("GB001", t(41)));
    step(&mut q, &|q| q.rollover(day.succ_opt().unwrap(), t(1000)));
    journal
}

#[test]
fn the_worked_day_gives_the_worked_figures() {
    let rows = figures(&worked_day(), None, None, GroupBy::Day);
    assert_eq!(rows.len(), 2, "one day and the total");
    let total = &rows[1];
    assert_eq!(total.key, "合计");
    let f = &total.figures;
    assert_eq!((f.issued, f.priority, f.served, f.no_show), (5, 2, 2, 1));
    assert_eq!((f.transferred, f.cancelled, f.expired), (1, 1, 1));
    assert!((f.priority_share - 0.4).abs() < 1e-9);
    // Waits: GA001 1 min, A001 10, A002 10, A003 1 → [60, 60, 600, 600] s.
    assert_eq!(f.wait.count, 4);
    assert_eq!(
        (f.wait.mean_s, f.wait.p50_s, f.wait.p90_s, f.wait.max_s),
        (330.0, 60.0, 600.0, 600.0)
    );
    // Service: GA001 10 min, A001 8 min → [480, 600] s.
    assert_eq!(
        (
            f.service.mean_s,
            f.service.p50_s,
            f.service.p90_s,
            f.service.max_s
        ),
        (540.0, 480.0, 600.0, 600.0)
    );
    assert_eq!(rows[0].key, "2026-11-24");
    assert_eq!(rows[0].figures, total.figures);
}

#[test]
fn grouping_by_lane_service_and_window() {
    let j = worked_day();
    let by_lane = figures(&j, None, None, GroupBy::Lane);
    let keys: Vec<&str> = by_lane.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["normal", "priority", "合计"]);
    assert_eq!(by_lane[1].figures.issued, 2);
    assert_eq!(by_lane[1].figures.wait.mean_s, 60.0);
    assert_eq!(by_lane[0].figures.wait.mean_s, (600.0 + 600.0 + 60.0) / 3.0);

    let by_service = figures(&j, None, None, GroupBy::Service);
    assert_eq!(by_service[0].key, "civil");
    assert_eq!(
        by_service[0].figures.issued, 4,
        "A003 counts where it was issued"
    );
    assert_eq!(by_service[1].figures.issued, 1);

    let by_window = figures(&j, None, None, GroupBy::Window);
    let keys: Vec<&str> = by_window.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["1", "2", "-", "合计"]);
    assert_eq!(by_window[0].figures.served, 1);
    assert_eq!(by_window[0].figures.no_show, 1);

    // Outside the range: nothing but an empty total.
    let later = NaiveDate::from_ymd_opt(2026, 11, 25);
    let none = figures(&j, later, None, GroupBy::Day);
    assert_eq!(none.len(), 1);
    assert_eq!(none[0].figures.issued, 0);
}

#[test]
fn csv_has_the_documented_columns() {
    let csv = to_csv(&figures(&worked_day(), None, None, GroupBy::Lane));
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(CSV_HEADER));
    assert_eq!(
        lines.next(),
        Some("normal,3,0,1,1,1,0,1,0.0000,420.0,600.0,600.0,600.0,480.0,480.0,480.0,480.0")
    );
    assert!(CSV_HEADER.split(',').count() == 17);
}

#[test]
fn the_cli_reports_the_real_journal() {
    let hall = common::TestHall::new("");
    let d = hall.start();
    d.post(
        "/api/tickets",
        common::MANAGER,
        json!({ "service": "civil", "lane": "priority" }),
    );
    d.post(
        "/api/tickets",
        common::MANAGER,
        json!({ "service": "civil" }),
    );
    d.post("/api/windows/1/call", common::MANAGER, json!({}));
    d.post("/api/windows/1/finish", common::MANAGER, json!({}));
    drop(d);
    let (st, out, err) = hall.cli(&["stats", "--by", "lane", "--format", "csv"]);
    assert!(st.success(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], CSV_HEADER);
    assert!(lines[1].starts_with("normal,1,0,0,"), "{out}");
    assert!(lines[2].starts_with("priority,1,1,1,"), "{out}");
    assert!(lines[3].starts_with("合计,2,1,1,"), "{out}");
    let (st, out, _) = hall.cli(&["stats"]);
    assert!(st.success());
    assert!(out.contains("合计") && out.contains("绿波占比"), "{out}");
    let (st, out, _) = hall.cli(&["stats", "--format", "json"]);
    assert!(st.success());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().last().unwrap()["issued"], 2);
}
