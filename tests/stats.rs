//! Statistics against a worked example: a hand-made day whose figures are
//! computed here by hand, then through the real binary on a real journal.

mod common;

use chrono::NaiveDate;
use greenwave::cases::{Rating, RatingSource};
use greenwave::queue::{
    CallPolicy, Event, Identified, Lane, Queue, QueueConfig, QueueError, ServiceDef, TicketId,
    Timestamp, WindowDef,
};
use greenwave::stats::{
    csv_header, daily_csv, daily_csv_header, figures, summaries_from_journal, to_csv, CaseFact,
    GroupBy, RatingFact, Sources,
};
use greenwave::store::JournalEntry;
use serde_json::json;

const MIN: i64 = 60_000;

fn t(m: i64) -> Timestamp {
    Timestamp(1_800_000_000_000 + m * MIN)
}

/// Civil (A) at window 1, civil and medical (B) at window 2.
fn two_services() -> QueueConfig {
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
        ],
        priority_prefix: "G".into(),
        policy: CallPolicy::default(),
    }
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
    let mut q = Queue::new(two_services(), day, 1);
    let mut journal = Vec::new();
    let mut step = |q: &mut Queue, f: &dyn Fn(&Queue) -> Result<Event, QueueError>| {
        let ev = f(q).unwrap();
        let d = q.day();
        q.apply(&ev);
        journal.push(JournalEntry {
            seq: journal.len() as i64 + 1,
            day: d,
            event: ev,
            actor: None,
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
    step(&mut q, &|q| {
        q.cancel("GB001", Some("本人放弃".into()), t(41))
    });
    step(&mut q, &|q| q.rollover(day.succ_opt().unwrap(), t(1000)));
    journal
}

#[test]
fn the_worked_day_gives_the_worked_figures() {
    let rows = figures(
        &Sources::tickets(&summaries_from_journal(&worked_day())),
        None,
        None,
        GroupBy::Day,
    );
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
    let j = summaries_from_journal(&worked_day());
    let by_lane = figures(&Sources::tickets(&j), None, None, GroupBy::Lane);
    let keys: Vec<&str> = by_lane.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["normal", "priority", "合计"]);
    assert_eq!(by_lane[1].figures.issued, 2);
    assert_eq!(by_lane[1].figures.wait.mean_s, 60.0);
    assert_eq!(by_lane[0].figures.wait.mean_s, (600.0 + 600.0 + 60.0) / 3.0);

    let by_service = figures(&Sources::tickets(&j), None, None, GroupBy::Service);
    assert_eq!(by_service[0].key, "civil");
    assert_eq!(
        by_service[0].figures.issued, 4,
        "A003 counts where it was issued"
    );
    assert_eq!(by_service[1].figures.issued, 1);

    let by_window = figures(&Sources::tickets(&j), None, None, GroupBy::Window);
    let keys: Vec<&str> = by_window.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["1", "2", "-", "合计"]);
    assert_eq!(by_window[0].figures.served, 1);
    assert_eq!(by_window[0].figures.no_show, 1);

    // Outside the range: nothing but an empty total.
    let later = NaiveDate::from_ymd_opt(2026, 11, 25);
    let none = figures(&Sources::tickets(&j), later, None, GroupBy::Day);
    assert_eq!(none.len(), 1);
    assert_eq!(none[0].figures.issued, 0);
}

#[test]
fn csv_has_the_documented_columns() {
    let csv = to_csv(&figures(
        &Sources::tickets(&summaries_from_journal(&worked_day())),
        None,
        None,
        GroupBy::Lane,
    ));
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(csv_header().as_str()));
    assert_eq!(
        lines.next(),
        Some(
            "normal,3,0,1,1,1,0,1,0.0000,420.0,600.0,600.0,600.0,480.0,480.0,480.0,480.0,\
             0,0,0,0,0,0,0,0,0.0000,0,0,0,0,0,0,0,0,0,"
        )
    );
    assert_eq!(csv_header().split(',').count(), 36);
}

#[test]
fn the_cli_reports_the_real_journal() {
    let hall = common::TestHall::new("");
    let d = hall.start();
    d.post(
        "/api/tickets",
        common::MANAGER,
        json!({ "service": "civil", "lane": "priority", "reason": "测试" }),
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
    assert_eq!(lines[0], csv_header());
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
    people_open_the_figures(&hall);
}

/// What people open: a terminal table whose columns line up under Chinese
/// headings (each line of a table as wide as its header: the 合计 row and
/// the headings were two columns off), lanes by name, a CSV Excel on a
/// Chinese Windows reads, and a workbook with a sheet per grouping.
fn people_open_the_figures(hall: &common::TestHall) {
    use unicode_width::UnicodeWidthStr;
    let (st, out, _) = hall.cli(&["stats", "--by", "lane"]);
    assert!(st.success());
    let (queue, mechanism) = out.split_once("绿波机制\n").unwrap();
    for table in [queue.split("（时间单位").next().unwrap(), mechanism] {
        let widths: Vec<usize> = table.lines().map(|l| l.width()).collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "aligned:\n{table}");
    }
    assert!(out.contains("绿波通道") && out.contains("普通"), "{out}");
    assert!(
        !out.contains("陪办") && out.contains("协办"),
        "one word: {out}"
    );

    let (st, out, _) = hall.cli(&["stats", "--by", "lane", "--format", "csv", "--excel"]);
    assert!(st.success());
    assert!(out.starts_with("\u{feff}分组,取号,绿波,办结,"), "{out}");
    assert!(
        out.lines().nth(3).unwrap().starts_with("合计,2,1,1,"),
        "{out}"
    );

    let book = hall.dir.path().join("统计.xlsx");
    let (st, _, err) = hall.cli(&["stats", "--format", "xlsx", "--out", book.to_str().unwrap()]);
    assert!(st.success(), "{err}");
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&book).unwrap();
    assert_eq!(
        wb.sheet_names(),
        ["按日期", "按业务", "按窗口", "按通道", "按协办员", "按小时"]
    );
    let lanes = wb.worksheet_range("按通道").unwrap();
    let cell = |r: u32, c: u32| {
        lanes
            .get_value((r, c))
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    assert!(
        cell(0, 0).starts_with("测试大厅 统计") && cell(0, 0).contains("按通道"),
        "{}",
        cell(0, 0)
    );
    assert_eq!(
        (cell(2, 0), cell(2, 1), cell(2, 2)),
        ("分组".into(), "取号".into(), "绿波".into())
    );
    assert_eq!((cell(5, 0), cell(5, 1)), ("合计".into(), "2".into()));
    let (st, _, err) = hall.cli(&["stats", "--format", "xlsx"]);
    assert!(!st.success() && err.contains("--out"), "{err}");
}

/// The mechanism's worked day (one window unless said; times in minutes):
/// - GA001 priority by ID card against the roster, served 1→5; case of h1
///   with 2 policies, closed; rated 满意;
/// - GA002 priority by a bound priority card, served 6→10; case of h2 with
///   1 policy, closed; rated 不满意;
/// - A001 normal, upgraded after a manual check, served at window 2 12→20;
///   case of h1, no policy yet, still open; rated 基本满意;
/// - A002 normal, served 21→25; no case; rated 满意;
/// - GA003 priority by the age rule (no way of identification), no-show.
fn mechanism_day() -> (Vec<JournalEntry>, Vec<CaseFact>, Vec<RatingFact>) {
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let cfg = QueueConfig {
        services: vec![ServiceDef {
            code: "civil".into(),
            letter: "A".into(),
        }],
        windows: vec![
            WindowDef {
                number: 1,
                services: vec!["civil".into()],
            },
            WindowDef {
                number: 2,
                services: vec!["civil".into()],
            },
        ],
        priority_prefix: "G".into(),
        policy: CallPolicy::default(),
    };
    let mut q = Queue::new(cfg, day, 1);
    let mut journal = Vec::new();
    let mut step = |q: &mut Queue, f: &dyn Fn(&Queue) -> Result<Event, QueueError>| {
        let ev = f(q).unwrap();
        q.apply(&ev);
        journal.push(JournalEntry {
            seq: journal.len() as i64 + 1,
            day,
            event: ev,
            actor: None,
        });
    };
    let issue =
        |lane, way| move |q: &Queue| q.issue_with("civil", lane, t(0), "tok".into(), None, way);
    step(&mut q, &issue(Lane::Priority, Some(Identified::IdCard))); // GA001 #1
    step(
        &mut q,
        &issue(Lane::Priority, Some(Identified::PriorityCard)),
    ); // GA002 #2
    step(&mut q, &issue(Lane::Normal, None)); // A001 #3
    step(&mut q, &issue(Lane::Normal, None)); // A002 #4
    step(&mut q, &issue(Lane::Priority, None)); // GA003 #5
    step(&mut q, &|q| q.call_number(1, "GA001", t(1)));
    step(&mut q, &|q| q.start(1, t(1)));
    step(&mut q, &|q| q.finish(1, t(5)));
    step(&mut q, &|q| q.call_number(1, "GA002", t(6)));
    step(&mut q, &|q| q.start(1, t(6)));
    step(&mut q, &|q| q.finish(1, t(10)));
    step(&mut q, &|q| q.upgrade("A001", t(11)));
    step(&mut q, &|q| q.call_number(2, "A001", t(12)));
    step(&mut q, &|q| q.start(2, t(12)));
    step(&mut q, &|q| q.finish(2, t(20)));
    step(&mut q, &|q| q.call_number(1, "A002", t(21)));
    step(&mut q, &|q| q.start(1, t(21)));
    step(&mut q, &|q| q.finish(1, t(25)));
    step(&mut q, &|q| q.call_number(1, "GA003", t(26)));
    step(&mut q, &|q| q.no_show(1, t(30)));
    let case = |ticket: u64, helper: &str, policies, closed| CaseFact {
        ticket: TicketId(ticket),
        helper: Some(helper.into()),
        policies,
        closed,
    };
    let cases = vec![
        case(1, "h1", 2, true),
        case(2, "h2", 1, true),
        case(3, "h1", 0, false),
    ];
    let rating = |ticket: u64, rating| RatingFact {
        ticket: TicketId(ticket),
        rating,
        source: RatingSource::Staff,
    };
    let ratings = vec![
        rating(1, Rating::Satisfied),
        rating(2, Rating::Dissatisfied),
        rating(3, Rating::FairlySatisfied),
        rating(4, Rating::Satisfied),
    ];
    (journal, cases, ratings)
}

#[test]
fn residents_own_ratings_count_apart_and_none_is_no_rate_not_zero() {
    let (journal, cases, staff_only) = mechanism_day();
    let tickets = summaries_from_journal(&journal);
    let total = |ratings: &[RatingFact]| {
        let src = Sources {
            tickets: &tickets,
            cases: &cases,
            ratings,
            tz: None,
        };
        figures(&src, None, None, GroupBy::Day)
            .last()
            .unwrap()
            .figures
            .clone()
    };
    let f = total(&staff_only);
    assert_eq!(f.resident.ratings, 0);
    assert_eq!(f.resident.satisfaction_rate, None, "no rate, never 0 %");

    let fact = |ticket: u64, rating, source| RatingFact {
        ticket: TicketId(ticket),
        rating,
        source,
    };
    let mixed = [
        fact(1, Rating::VerySatisfied, RatingSource::ResidentWindow),
        fact(2, Rating::VeryDissatisfied, RatingSource::ResidentPhone),
        fact(3, Rating::FairlySatisfied, RatingSource::ResidentWindow),
        fact(4, Rating::Satisfied, RatingSource::Staff),
    ];
    let f = total(&mixed);
    assert_eq!(f.resident.ratings, 3);
    assert_eq!(f.resident.levels, [1, 0, 1, 0, 1]);
    let rate = f.resident.satisfaction_rate.unwrap();
    assert!(
        (rate - 2.0 / 3.0).abs() < 1e-9,
        "(非常满意 + 基本满意) / 3: {rate}"
    );
    assert_eq!((f.ratings, f.satisfied), (1, 1), "staff's one rating apart");
    assert!((f.satisfaction_rate - 1.0).abs() < 1e-9);
}

#[test]
fn the_mechanism_day_gives_the_bureau_figures() {
    let (journal, cases, ratings) = mechanism_day();
    let tickets = summaries_from_journal(&journal);
    let src = Sources {
        tickets: &tickets,
        cases: &cases,
        ratings: &ratings,
        tz: None,
    };
    let rows = figures(&src, None, None, GroupBy::Day);
    let f = &rows.last().unwrap().figures;
    assert_eq!((f.issued, f.priority, f.served, f.no_show), (5, 4, 4, 1));
    assert_eq!(f.priority_served, 3, "GA001, GA002 and the upgraded A001");
    assert_eq!((f.cases, f.cases_closed, f.policies_explained), (3, 2, 3));
    assert_eq!(
        (f.ratings, f.satisfied, f.fairly_satisfied, f.dissatisfied),
        (4, 2, 1, 1)
    );
    assert!((f.satisfaction_rate - 0.75).abs() < 1e-9, "(2 + 1) / 4");
    assert_eq!(
        (f.by_id_card, f.by_priority_card, f.by_manual),
        (1, 1, 1),
        "GA003 came by the age rule: no way of identification"
    );

    let by_helper = figures(&src, None, None, GroupBy::Helper);
    let keys: Vec<&str> = by_helper.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["h1", "h2", "-", "合计"]);
    let h1 = &by_helper[0].figures;
    assert_eq!((h1.cases, h1.served, h1.policies_explained), (2, 2, 2));
    // h1's service times: GA001 4 min, A001 8 min.
    assert_eq!(h1.service.mean_s, 360.0);
    assert_eq!((h1.ratings, h1.satisfaction_rate), (2, 1.0));
    let h2 = &by_helper[1].figures;
    assert_eq!((h2.cases, h2.ratings, h2.satisfaction_rate), (1, 1, 0.0));
    let none = &by_helper[2].figures;
    assert_eq!((none.issued, none.served, none.no_show), (2, 1, 1));

    let by_window = figures(&src, None, None, GroupBy::Window);
    let w1 = &by_window[0].figures;
    let w2 = &by_window[1].figures;
    assert_eq!((w1.served, w1.ratings, w1.satisfied), (3, 3, 2));
    // Window 1's service times: 4, 4 and 4 minutes.
    assert_eq!(w1.service.mean_s, 240.0);
    assert_eq!(
        (w2.served, w2.service.mean_s, w2.fairly_satisfied),
        (1, 480.0, 1)
    );
}

#[test]
fn the_daily_export_has_the_total_then_each_grouping() {
    let (journal, cases, ratings) = mechanism_day();
    let tickets = summaries_from_journal(&journal);
    let src = Sources {
        tickets: &tickets,
        cases: &cases,
        ratings: &ratings,
        tz: None,
    };
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let csv = daily_csv(&src, "jd-01", day);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], daily_csv_header());
    let heads: Vec<String> = lines[1..]
        .iter()
        .map(|l| l.split(',').take(4).collect::<Vec<_>>().join(","))
        .collect();
    assert_eq!(
        heads,
        [
            "jd-01,2026-11-25,total,合计",
            "jd-01,2026-11-25,lane,normal",
            "jd-01,2026-11-25,lane,priority",
            "jd-01,2026-11-25,service,civil",
            "jd-01,2026-11-25,window,1",
            "jd-01,2026-11-25,window,2",
            "jd-01,2026-11-25,helper,h1",
            "jd-01,2026-11-25,helper,h2",
            "jd-01,2026-11-25,helper,-",
        ]
    );
    // The total row's figures are `greenwave stats --format csv`'s to the
    // digit.
    let total = to_csv(&figures(&src, Some(day), Some(day), GroupBy::Day));
    let cli_total = total.lines().last().unwrap();
    assert_eq!(
        lines[1].split_once(",total,").unwrap().1,
        cli_total,
        "same key and figures"
    );
    for l in &lines {
        assert_eq!(l.split(',').count(), daily_csv_header().split(',').count());
    }
}

#[test]
fn the_manager_api_and_the_daily_export_agree_with_the_cli() {
    let hall = common::TestHall::new("");
    let d = hall.start();
    d.post(
        "/api/tickets",
        common::MANAGER,
        json!({ "service": "civil", "lane": "priority", "reason": "测试" }),
    );
    d.post(
        "/api/tickets",
        common::MANAGER,
        json!({ "service": "civil" }),
    );
    d.post("/api/windows/1/call", common::MANAGER, json!({}));
    d.post("/api/windows/1/start", common::MANAGER, json!({}));
    d.post("/api/windows/1/finish", common::MANAGER, json!({}));
    // The case follower opens the priority ticket's case after the commit:
    // wait for it, or the API may count the case the CLI later sees
    // (regression: a loaded machine failed the comparison on `cases`).
    common::eventually(
        std::time::Duration::from_secs(10),
        "the priority ticket's case was never opened",
        || {
            let (_, cases) = d.get("/api/cases", common::MANAGER);
            cases.as_array().is_some_and(|c| c.len() == 1)
        },
        String::new,
    );
    let (st, api_rows) = d.get("/api/stats?by=lane", common::MANAGER);
    assert_eq!(st, 200, "{api_rows}");
    let (st, _, api_csv) = common::get_text(
        &format!("{}/api/stats?by=lane&format=csv", d.base),
        Some(common::MANAGER),
    );
    assert_eq!(st, 200);

    // Only the manager sees the figures; a bad query is a clear 400.
    let (st, e) = d.get("/api/stats", &common::window_token(1));
    assert_eq!((st, e["code"].as_str()), (403, Some("forbidden")), "{e}");
    let (st, e) = d.get("/api/stats?by=colour", common::MANAGER);
    assert_eq!(st, 400, "{e}");
    let (st, e) = d.get("/api/stats?from=2026-13-01", common::MANAGER);
    assert_eq!(st, 400, "{e}");
    drop(d);

    let (st, out, err) = hall.cli(&["stats", "--by", "lane", "--format", "json"]);
    assert!(st.success(), "{err}");
    let cli_rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(api_rows, cli_rows, "the API and the CLI agree to the digit");
    let (_, cli_csv, _) = hall.cli(&["stats", "--by", "lane", "--format", "csv"]);
    assert_eq!(api_csv, cli_csv);

    let out_dir = hall.dir.path().join("exports");
    let (st, out, err) = hall.cli(&["stats", "--daily-csv", out_dir.to_str().unwrap()]);
    assert!(st.success(), "{err}");
    assert!(out.contains("已导出 1 天"), "{out}");
    let files: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].starts_with("greenwave-stats-") && files[0].ends_with(".csv"),
        "{files:?}"
    );
    let text = std::fs::read_to_string(out_dir.join(&files[0])).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(daily_csv_header().as_str()));
    let total = lines.next().unwrap();
    let cli_total = cli_csv.lines().last().unwrap();
    assert_eq!(total.split_once(",total,").unwrap().1, cli_total);
}

/// With `[stats] daily_csv_dir`, the daemon writes each finished day's
/// file by itself: here a day it was not running for, at start.
#[test]
fn the_daemon_exports_the_days_it_missed_at_start() {
    use greenwave::config::Config;
    use greenwave::hall::{Clock, Hall, ManualClock};
    use std::sync::Arc;
    let hall = common::TestHall::new("[stats]\ndaily_csv_dir = \"exports\"\n");
    let cfg = Config::load(&hall.config).unwrap();
    let yesterday_ms = chrono::Utc::now().timestamp_millis() - 24 * 3_600_000;
    let clock = Arc::new(ManualClock::new(Timestamp(yesterday_ms)));
    let day = {
        let mut h = Hall::open(&cfg, clock.clone() as Arc<dyn Clock>).unwrap();
        h.issue("civil", Lane::Priority).unwrap();
        h.issue("civil", Lane::Normal).unwrap();
        h.call_next(1).unwrap();
        h.queue().day()
    };
    let d = hall.start();
    let file = hall
        .dir
        .path()
        .join("exports")
        .join(format!("greenwave-stats-{day}.csv"));
    common::eventually(
        std::time::Duration::from_secs(20),
        "no export",
        || file.exists(),
        || d.stderr(),
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(daily_csv_header().as_str()));
    let total = lines.next().unwrap();
    assert!(
        total.starts_with(&format!("测试大厅,{day},total,合计,2,1,")),
        "{total}"
    );
    // Today is not over: no file for it.
    let files = std::fs::read_dir(hall.dir.path().join("exports"))
        .unwrap()
        .count();
    assert_eq!(files, 1);
}

/// `--by hour`: the tickets by the hour of the day they were issued, in the
/// hall's time zone (a payout day's crowd, hour by hour; issue 20).
#[test]
fn figures_by_hour_follow_the_halls_clock() {
    let day = NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
    let mut q = Queue::new(two_services(), day, 1);
    let mut journal = Vec::new();
    // t(0) is 16:00 in Shanghai.
    for (m, lane) in [
        (0, Lane::Normal),
        (50, Lane::Priority),
        (70, Lane::Normal),
        (130, Lane::Normal),
    ] {
        let ev = q.issue("civil", lane, t(m)).unwrap();
        q.apply(&ev);
        journal.push(JournalEntry {
            seq: journal.len() as i64 + 1,
            day,
            event: ev,
            actor: None,
        });
    }
    let tickets = summaries_from_journal(&journal);
    let rows = figures(
        &Sources::tickets(&tickets).in_tz(chrono_tz::Asia::Shanghai),
        None,
        None,
        GroupBy::Hour,
    );
    let got: Vec<(&str, usize, usize)> = rows
        .iter()
        .map(|r| (r.key.as_str(), r.figures.issued, r.figures.priority))
        .collect();
    assert_eq!(
        got,
        [
            ("16:00", 2, 1),
            ("17:00", 1, 0),
            ("18:00", 1, 0),
            ("合计", 4, 1)
        ]
    );
}

/// `--by hour` says how many people were still waiting at the end of each
/// hour (issued, not yet called, not withdrawn), the manager's chart's own
/// count: the payout day's backlog hour by hour, on a day written through
/// the hall with a hand-moved clock (Shanghai time):
/// - A001 normal, issued 09:10, called 10:30, served 10:45;
/// - GA001 priority, issued 09:20, called 09:40, served 09:50;
/// - A002 normal, issued 09:55, called 12:10;
/// - A003 normal, issued 11:05, never called.
///
/// At 10:00 A001 and A002 wait (2), at 11:00 A002 (1), at 12:00 A002 and
/// A003 (2), at 13:00 A003 (1); nobody took a ticket in the 10:00 and
/// 12:00 hours, which still have their rows.
#[test]
fn the_cli_says_who_was_still_waiting_at_the_end_of_each_hour() {
    use chrono::TimeZone;
    use greenwave::config::Config;
    use greenwave::hall::{Actor, Clock, Hall, ManualClock};
    use std::sync::Arc;
    let hall = common::TestHall::new("");
    let cfg = Config::load(&hall.config).unwrap();
    let day = (chrono::Utc::now() - chrono::Duration::days(2))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let at = |h: u32, m: u32| {
        let local = day.and_hms_opt(h, m, 0).unwrap();
        let utc = chrono_tz::Asia::Shanghai
            .from_local_datetime(&local)
            .unwrap()
            .timestamp_millis();
        Timestamp(utc)
    };
    let clock = Arc::new(ManualClock::new(at(9, 10)));
    {
        let mut h = Hall::open(&cfg, clock.clone() as Arc<dyn Clock>).unwrap();
        let staff = Actor::Window(1);
        h.issue("civil", Lane::Normal).unwrap();
        clock.set(at(9, 20));
        h.issue("civil", Lane::Priority).unwrap();
        clock.set(at(9, 40));
        assert_eq!(h.call_next(1).unwrap().lane, Lane::Priority);
        clock.set(at(9, 50));
        h.exec(&staff, |q, now| q.finish(1, now)).unwrap();
        clock.set(at(9, 55));
        h.issue("civil", Lane::Normal).unwrap();
        clock.set(at(10, 30));
        h.call_next(1).unwrap();
        clock.set(at(10, 45));
        h.exec(&staff, |q, now| q.finish(1, now)).unwrap();
        clock.set(at(11, 5));
        h.issue("civil", Lane::Normal).unwrap();
        clock.set(at(12, 10));
        h.call_next(1).unwrap();
        assert_eq!(h.queue().day(), day);
    }
    let period = ["--from", &day.to_string(), "--to", &day.to_string()];
    let (st, out, err) =
        hall.cli(&[&["stats", "--by", "hour", "--format", "csv"][..], &period].concat());
    assert!(st.success(), "{err}");
    let mut lines = out.lines();
    let header = lines.next().unwrap();
    assert_eq!(header, format!("{},waiting_at_end", csv_header()));
    let got: Vec<(String, String, String)> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let last = cells.last().unwrap().to_string();
            (cells[0].to_string(), cells[1].to_string(), last)
        })
        .collect();
    let want = [
        ("09:00", "3", "2"),
        ("10:00", "0", "1"),
        ("11:00", "1", "2"),
        ("12:00", "0", "1"),
        ("合计", "4", ""),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, want, "{out}");

    // The table: the heading and the figures in its last column.
    let (st, out, _) = hall.cli(&[&["stats", "--by", "hour"][..], &period].concat());
    assert!(st.success());
    let queue = out.split("（时间单位").next().unwrap();
    let last_cells: Vec<&str> = queue
        .lines()
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    assert_eq!(last_cells, ["时末等候", "2", "1", "2", "1", "—"], "{out}");
    // Excel's CSV and JSON name it too.
    let (_, out, _) = hall.cli(
        &[
            &["stats", "--by", "hour", "--format", "csv", "--excel"][..],
            &period,
        ]
        .concat(),
    );
    assert!(out.lines().next().unwrap().ends_with(",时末等候"), "{out}");
    let (_, out, _) =
        hall.cli(&[&["stats", "--by", "hour", "--format", "json"][..], &period].concat());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[2]["waiting_at_end"], 2, "{out}");
    assert!(
        v[4].get("waiting_at_end").is_none(),
        "none on the total: {out}"
    );
}
