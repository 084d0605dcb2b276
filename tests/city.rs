//! The city, end to end: real halls (`greenwave run`) pushing to a real
//! PostgreSQL (a throw-away cluster, tests/common/pg.rs), and the bureau's
//! `greenwave city report` reading it back. What the bureau counts must be
//! what each hall counts, whatever gets killed on the way, and nothing
//! personal may leave a hall.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::pg::Postgres;
use common::{eventually, eventually_some, http, window_token, Daemon, TestHall, BIN, MANAGER};

/// Polls `check` until it passes; fails with its last complaint.
fn until(limit: Duration, what: &str, check: impl FnMut() -> Result<(), String>) {
    until_logged(limit, what, check, String::new);
}

/// [`until`], failing with the hall's log too (why its pushes did not
/// arrive).
fn until_logged(
    limit: Duration,
    what: &str,
    mut check: impl FnMut() -> Result<(), String>,
    log: impl Fn() -> String,
) {
    let last = std::cell::RefCell::new(String::new());
    eventually(
        limit,
        what,
        || match check() {
            Ok(()) => true,
            Err(e) => {
                *last.borrow_mut() = e;
                false
            }
        },
        || format!("{}\n{}", last.borrow(), log()),
    );
}
use greenwave_drivers::idcard::sim::fake;
use serde_json::{json, Value};

const KIOSK: &str = "city-test-kiosk-token-00001";

/// The roster of a test hall.
enum Roster<'a> {
    /// Keys and `r1.gwr` made in the hall's directory, listing these.
    Listing(&'a [String]),
    /// The keys and `r1.gwr` of another hall's directory (one city, one
    /// roster).
    Of(&'a Path),
}

/// A hall with code `code`, a roster, a kiosk machine token and `[city]`
/// pointing at `pg`, with `city` added to the `[city]` table.
fn hall(code: &str, name: &str, pg: &Postgres, roster: Roster<'_>, city: &str) -> TestHall {
    let hall = TestHall::builder()
        .name(name)
        .extra(&format!(
            r#"
[roster]
public_key = "keys/roster-public.key"
hash_key = "keys/roster-hash.key"
[[kiosks]]
id = "k1"
name = "入口自助机"
token = "{KIOSK}"
[city]
database_url = "{url}"
push_interval = "300ms"
{city}
"#,
            url = pg.url()
        ))
        .build();
    let text = std::fs::read_to_string(&hall.config).unwrap();
    let text = text.replacen(
        &format!("name = \"{name}\"\n"),
        &format!("name = \"{name}\"\ncode = \"{code}\"\n"),
        1,
    );
    std::fs::write(&hall.config, text).unwrap();
    match roster {
        Roster::Listing(listed) => {
            let ids: Vec<&str> = listed.iter().map(String::as_str).collect();
            common::sign_roster(hall.dir.path(), &ids);
        }
        Roster::Of(dir) => {
            std::fs::create_dir_all(hall.dir.path().join("keys")).unwrap();
            for f in ["keys/roster-public.key", "keys/roster-hash.key", "r1.gwr"] {
                std::fs::copy(dir.join(f), hall.dir.path().join(f)).unwrap();
            }
        }
    }
    import(&hall, "r1.gwr");
    hall
}

fn import(hall: &TestHall, file: &str) {
    let file = hall.dir.path().join(file);
    let (st, out, err) = hall.cli(&["roster", "import", file.to_str().unwrap()]);
    assert!(st.success(), "roster import: {out}{err}");
}

fn id(seed: u32) -> String {
    fake::resident(seed).id_number.expose().to_string()
}

/// `greenwave <args>` with the city database; its JSON output.
fn json_of(args: &[&str]) -> Value {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "greenwave {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn city_report(pg: &Postgres, by: &str) -> Value {
    json_of(&[
        "city",
        "report",
        "--database-url",
        &pg.url(),
        "--from",
        "2000-01-01",
        "--to",
        "2099-12-31",
        "--by",
        by,
        "--format",
        "json",
    ])
}

fn hall_stats(hall: &TestHall, by: &str) -> Value {
    let (st, out, err) = hall.cli(&["stats", "--by", by, "--format", "json"]);
    assert!(st.success(), "stats: {err}");
    serde_json::from_str(&out).unwrap()
}

/// The figures both reports have, by the report's own names.
const SHARED: [&str; 13] = [
    "issued",
    "priority",
    "served",
    "priority_served",
    "no_show",
    "transferred",
    "cancelled",
    "expired",
    "cases",
    "cases_closed",
    "policies_explained",
    "by_id_card",
    "by_manual",
];

/// Whether the city's rows say what the hall's `stats` rows say, figure by
/// figure (and the means to the microsecond); the first difference if not.
fn same_figures(city: &Value, hall: &Value) -> Result<(), String> {
    let (c, h) = (city.as_array().unwrap(), hall.as_array().unwrap());
    if c.len() != h.len() {
        return Err(format!("{} city rows, {} hall rows", c.len(), h.len()));
    }
    for (c, h) in c.iter().zip(h) {
        if c["key"] != h["key"] {
            return Err(format!("key {} vs {}", c["key"], h["key"]));
        }
        for f in SHARED {
            if c[f] != h[f] {
                return Err(format!("{}: {f} city {} hall {}", h["key"], c[f], h[f]));
            }
        }
        let pairs = [
            (&c["wait_mean_s"], &h["wait"]["mean_s"]),
            (&c["wait_max_s"], &h["wait"]["max_s"]),
            (&c["service_mean_s"], &h["service"]["mean_s"]),
            (&c["resident_ratings"], &h["resident"]["ratings"]),
            (&c["staff_ratings"], &h["ratings"]),
        ];
        for (a, b) in pairs {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            if (a - b).abs() > 1e-6 {
                return Err(format!("{}: {a} vs {b}", h["key"]));
            }
        }
    }
    Ok(())
}

fn post(d: &Daemon, path: &str, token: &str, body: Value) -> Value {
    let (st, v) = d.post(path, token, body);
    assert!((200..300).contains(&st), "POST {path}: {st} {v}");
    v
}

/// Serves the window's next ticket to the end (or marks it a no-show).
fn serve_next(d: &Daemon, window: u32, no_show: bool) {
    let t = window_token(window);
    post(d, &format!("/api/windows/{window}/call"), &t, json!({}));
    if no_show {
        post(d, &format!("/api/windows/{window}/no-show"), &t, json!({}));
    } else {
        post(d, &format!("/api/windows/{window}/start"), &t, json!({}));
        post(d, &format!("/api/windows/{window}/finish"), &t, json!({}));
    }
}

#[test]
fn the_city_counts_what_the_hall_counts_and_nothing_personal_leaves_it() {
    let pg = Postgres::start();
    let listed: Vec<String> = (1..=3).map(id).collect();
    let hall = hall("hall-a", "东城大厅", &pg, Roster::Listing(&listed), "");
    let d = hall.start();
    for person in &listed {
        post(
            &d,
            "/api/tickets/priority",
            &window_token(1),
            json!({ "id_number": person, "service": "civil" }),
        );
    }
    for service in ["civil", "civil", "medical", "medical"] {
        post(&d, "/api/tickets", MANAGER, json!({ "service": service }));
    }
    serve_next(&d, 1, false);
    serve_next(&d, 1, false);
    serve_next(&d, 1, true);
    serve_next(&d, 3, false);
    post(
        &d,
        "/api/tickets/GA001/rating",
        MANAGER,
        json!({ "rating": "满意" }),
    );

    // The bureau's figures are the hall's, by day and by service.
    for by in ["day", "service"] {
        until_logged(
            Duration::from_secs(30),
            "the city's figures",
            || same_figures(&city_report(&pg, by), &hall_stats(&hall, by)),
            || format!("hall log:\n{}", d.stderr()),
        );
    }
    // Split by what the hall alone could not report before: category, age.
    let by_category = city_report(&pg, "category");
    let dibao = by_category
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "低保")
        .unwrap_or_else(|| panic!("no 低保 row: {by_category}"));
    assert_eq!(dibao["priority"], 3, "{by_category}");
    let by_age = city_report(&pg, "age");
    let banded: i64 = by_age
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["key"] != "-" && r["key"] != "合计")
        .map(|r| r["issued"].as_i64().unwrap())
        .sum();
    assert_eq!(
        banded, 3,
        "the three residents whose card told the age: {by_age}"
    );

    // The bureau's workbook: the period and grouping in the title, the
    // Chinese headings, the figures as numbers.
    let book = hall.dir.path().join("全市.xlsx");
    let out = Command::new(BIN)
        .args([
            "city",
            "report",
            "--database-url",
            &pg.url(),
            "--from",
            "2000-01-01",
        ])
        .args([
            "--to",
            "2099-12-31",
            "--by",
            "category",
            "--format",
            "xlsx",
            "--out",
        ])
        .arg(&book)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    {
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&book).unwrap();
        let sheet = wb.worksheet_range("全市统计").unwrap();
        let cell = |r: u32, c: u32| {
            sheet
                .get_value((r, c))
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        assert!(cell(0, 0).contains("按救助类别"), "{}", cell(0, 0));
        assert_eq!((cell(2, 0), cell(2, 2)), ("分组".into(), "绿波".into()));
        let row = (3..10).find(|r| cell(*r, 0) == "低保").expect("a 低保 row");
        assert_eq!(cell(row, 2), "3");
    }

    // Nothing personal: no ID number, no person hash, no name anywhere in
    // the city database.
    let dump = pg.psql(
        "SELECT string_agg(t::text, E'\\n') FROM (
           SELECT row_to_json(x)::text AS t FROM tickets x
           UNION ALL SELECT row_to_json(y)::text FROM daily y
           UNION ALL SELECT row_to_json(z)::text FROM halls z) s",
    );
    assert!(dump.contains("东城大厅"), "{dump}");
    for person in &listed {
        assert!(
            !dump.contains(person.as_str()),
            "an ID number in the city: {dump}"
        );
        assert!(
            !dump.contains(&person[14..]),
            "an ID number's tail in the city"
        );
    }
    let hashes = sqlite(
        &hall.data_dir(),
        "SELECT person FROM tickets WHERE person IS NOT NULL",
    );
    assert_eq!(hashes.lines().count(), 3, "{hashes}");
    for h in hashes.lines() {
        assert!(!dump.contains(h), "a person hash in the city");
    }
    // The roster the hall installed, for ops to see who is behind.
    assert_eq!(
        pg.psql("SELECT name || ' v' || roster_version FROM halls"),
        "东城大厅 v1"
    );
}

/// The hours of a payout day across the city (issue 20): a hall's day,
/// written through the hall with a hand-moved clock (Shanghai time), comes
/// back from `city report --by hour` hour by hour as the hall's own `stats
/// --by hour` has it:
/// - A001 normal, issued 09:10, called 10:05, served 10:20;
/// - GA001 priority, issued 09:20, called 09:30, served 09:45;
/// - A002 normal, issued 09:40, called 10:25 (a no-show);
/// - A003 normal, issued 10:15; A004 normal, issued 11:30, never called.
///
/// A city pushed by a greenwave that had no hour rows gets them when the
/// hall next connects.
#[test]
fn the_city_reports_a_halls_day_hour_by_hour() {
    use chrono::TimeZone;
    use greenwave::config::Config;
    use greenwave::hall::{Actor, Clock, Hall, ManualClock};
    use greenwave::queue::{Lane, Timestamp};
    use std::sync::Arc;
    let pg = Postgres::start();
    let hall = hall("hall-h", "南城大厅", &pg, Roster::Listing(&[id(31)]), "");
    let cfg = Config::load(&hall.config).unwrap();
    let day = (chrono::Utc::now() - chrono::Duration::days(2))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let at = |h: u32, m: u32| {
        let local = day.and_hms_opt(h, m, 0).unwrap();
        let utc = chrono_tz::Asia::Shanghai
            .from_local_datetime(&local)
            .unwrap();
        Timestamp(utc.timestamp_millis())
    };
    let clock = Arc::new(ManualClock::new(at(9, 10)));
    {
        let mut h = Hall::open(&cfg, clock.clone() as Arc<dyn Clock>).unwrap();
        let staff = Actor::Window(1);
        let mut step = |hm: (u32, u32), f: &mut dyn FnMut(&mut Hall)| {
            clock.set(at(hm.0, hm.1));
            f(&mut h);
        };
        step((9, 10), &mut |h| {
            drop(h.issue("civil", Lane::Normal).unwrap())
        });
        step((9, 20), &mut |h| {
            drop(h.issue("civil", Lane::Priority).unwrap())
        });
        step((9, 30), &mut |h| drop(h.call_next(1).unwrap()));
        step((9, 40), &mut |h| {
            drop(h.issue("civil", Lane::Normal).unwrap())
        });
        step((9, 45), &mut |h| {
            drop(h.exec(&staff, |q, now| q.finish(1, now)).unwrap())
        });
        step((10, 5), &mut |h| drop(h.call_next(1).unwrap()));
        step((10, 15), &mut |h| {
            drop(h.issue("civil", Lane::Normal).unwrap())
        });
        step((10, 20), &mut |h| {
            drop(h.exec(&staff, |q, now| q.finish(1, now)).unwrap())
        });
        step((10, 25), &mut |h| drop(h.call_next(1).unwrap()));
        step((10, 30), &mut |h| {
            drop(h.exec(&staff, |q, now| q.no_show(1, now)).unwrap())
        });
        // A booked resident's ticket: the city takes the third lane.
        step((11, 30), &mut |h| {
            drop(h.issue("civil", Lane::Appointment).unwrap())
        });
    }
    let d = hall.start();
    let hours = |pg: &Postgres| -> Vec<(String, i64, i64, i64, i64)> {
        city_report(pg, "hour")
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let n = |f: &str| r[f].as_i64().unwrap();
                let key = r["key"].as_str().unwrap().to_string();
                (key, n("issued"), n("priority"), n("served"), n("no_show"))
            })
            .collect()
    };
    let want = vec![
        ("09:00".to_string(), 3, 1, 2, 1),
        ("10:00".to_string(), 1, 0, 0, 0),
        ("11:00".to_string(), 1, 0, 0, 0),
        ("合计".to_string(), 5, 1, 2, 1),
    ];
    until(Duration::from_secs(20), "the city's hours", || {
        let got = hours(&pg);
        if got == want {
            Ok(())
        } else {
            Err(format!("{got:?}"))
        }
    });
    same_figures(&city_report(&pg, "hour"), &hall_stats(&hall, "hour")).unwrap();
    // Per hour and lane on the hall's side of the city database.
    assert_eq!(
        pg.psql(
            "SELECT string_agg(key || '=' || counts[1], ' ' ORDER BY key) FROM daily
              WHERE hall = 'hall-h' AND dim = 'hour'"
        ),
        "09:00 normal=2 09:00 priority=1 10:00 normal=1 11:00 appointment=1"
    );

    // A city that holds the day without hour rows (pushed before they
    // existed): the hall sends the day again when it next connects.
    drop(d);
    pg.psql("DELETE FROM daily WHERE dim = 'hour'");
    assert_eq!(hours(&pg), vec![("合计".to_string(), 0, 0, 0, 0)]);
    let d = hall.start();
    until(Duration::from_secs(20), "the hours pushed again", || {
        let got = hours(&pg);
        if got == want {
            Ok(())
        } else {
            Err(format!("{got:?}"))
        }
    });
    drop(d);
}

fn sqlite(data_dir: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(data_dir.join("greenwave.db"))
        .arg(sql)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The hall and the city database both killed again and again while the
/// hall pushes in small batches: at the end the city has every ticket once
/// and its figures are the hall's.
#[test]
fn a_hall_and_its_city_database_killed_mid_push_count_every_ticket_once() {
    let pg = Postgres::start();
    let hall = hall(
        "hall-k",
        "西城大厅",
        &pg,
        Roster::Listing(&[id(9)]),
        "push_batch = 20",
    );
    let mut d = hall.start();
    let mut issued = 0;
    for round in 0..6u64 {
        for i in 0..60 {
            let service = if i % 3 == 0 { "medical" } else { "civil" };
            post(&d, "/api/tickets", MANAGER, json!({ "service": service }));
            issued += 1;
        }
        for _ in 0..10 {
            serve_next(&d, 2, false);
        }
        // Let a push begin, then kill whichever is due this round.
        std::thread::sleep(Duration::from_millis(150 + 70 * round));
        if round % 2 == 0 {
            pg.kill();
            std::thread::sleep(Duration::from_millis(400));
            pg.restart();
        }
        d.kill();
        d = hall.start();
    }
    until(Duration::from_secs(60), "every ticket in the city", || {
        let n = pg.psql("SELECT COUNT(*) FROM tickets WHERE hall = 'hall-k'");
        if n == issued.to_string() {
            Ok(())
        } else {
            Err(format!("{n} of {issued} tickets in the city"))
        }
    });
    until(Duration::from_secs(20), "the city's figures", || {
        same_figures(&city_report(&pg, "day"), &hall_stats(&hall, "day"))
    });
    let outbox = sqlite(&hall.data_dir(), "SELECT COUNT(*) FROM city_outbox");
    assert_eq!(
        outbox.trim(),
        "0",
        "the outbox is empty once everything is pushed"
    );
    drop(d);
}

/// A card bound at one hall works at another: the binding goes to the city
/// and comes back to every hall.
#[test]
fn a_priority_card_bound_at_one_hall_gives_priority_at_another() {
    let pg = Postgres::start();
    let resident = id(21);
    let listed = [resident.clone()];
    let a = hall("hall-a", "东城大厅", &pg, Roster::Listing(&listed), "");
    let b = hall("hall-b", "西城大厅", &pg, Roster::Of(a.dir.path()), "");
    let (da, db) = (a.start(), b.start());
    let swipe = |n: u32| {
        let (st, v) = http(
            "POST",
            &format!("{}/api/kiosk/tickets", db.base),
            Some(KIOSK),
            Some(json!({
                "request": format!("swipe-request-{n:04}"),
                "service": "civil",
                "applicant": { "kind": "priority_card", "uid": "04A1B2C3D4" },
            })),
        );
        assert_eq!(st, 200, "{v}");
        v
    };
    let before = swipe(1);
    assert_eq!(before["answer"], "card_not_bound", "{before}");
    post(
        &da,
        "/api/cards",
        &window_token(1),
        json!({ "uid": "04A1B2C3D4", "id_number": resident }),
    );
    let ticket = eventually_some(
        Duration::from_secs(20),
        "the card gives priority at the other hall",
        || {
            let v = swipe(2);
            (v["ticket"]["lane"] == "priority").then_some(v)
        },
        || pg.psql("SELECT COUNT(*) FROM bindings"),
    );
    assert!(
        ticket["ticket"]["number"]
            .as_str()
            .unwrap()
            .starts_with('G'),
        "{ticket}"
    );
    // The city holds the UID and the entry hash, nothing else.
    let row = pg.psql("SELECT uid || ' ' || hall FROM bindings");
    assert_eq!(row, "04A1B2C3D4 hall-a");
}
