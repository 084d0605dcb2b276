//! Accompanied service through the real daemon: helpers on and off duty,
//! automatic assignment to the helper with the fewest open cases, what a
//! helper sees, notes, policies explained, closing, ratings, the ticket's
//! timeline, tokens, and a malformed policies file.

mod common;

use std::time::Duration;

use common::{eventually_some, window_token, Daemon, TestHall, MANAGER};
use serde_json::{json, Value};

const H1: &str = "test-helper-1-token-0001";
const H2: &str = "test-helper-2-token-0001";

/// A hall with two helpers and the shipped policies.toml beside its config.
fn hall() -> TestHall {
    let hall = TestHall::builder()
        .helpers(&[("h1", "王协办", H1), ("h2", "李协办", H2)])
        .build();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/policies.toml"),
        hall.dir.path().join("policies.toml"),
    )
    .unwrap();
    hall
}

/// Polls `f` until it returns `Some`, for at most 10 s: assignment is
/// asynchronous (the daemon follows committed events).
fn wait_for<T>(what: &str, f: impl FnMut() -> Option<T>) -> T {
    eventually_some(
        Duration::from_secs(10),
        &format!("timed out waiting for {what}"),
        f,
        String::new,
    )
}

fn issue(d: &Daemon, service: &str, lane: &str) -> String {
    let (st, t) = d.post(
        "/api/tickets",
        MANAGER,
        json!({ "service": service, "lane": lane, "reason": "测试" }),
    );
    assert_eq!(st, 201, "{t}");
    t["number"].as_str().unwrap().to_string()
}

/// Waits until the ticket's case exists; returns its helper (or Null).
fn case_helper(d: &Daemon, number: &str) -> Value {
    wait_for(&format!("the case of {number}"), || {
        let (st, c) = d.get(&format!("/api/cases/{number}"), MANAGER);
        (st == 200).then(|| c["case"]["helper"].clone())
    })
}

fn duty(d: &Daemon, token: &str, on: bool) -> Value {
    let (st, b) = d.post("/api/helpers/me/duty", token, json!({ "on": on }));
    assert_eq!(st, 200, "{b}");
    b
}

fn numbers(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn assignment_duty_visibility_and_tokens() {
    let hall = hall();
    let d = hall.start();
    duty(&d, H1, true);
    duty(&d, H2, true);

    // A normal ticket opens no case; the priority ticket issued after it
    // shows the follower has seen it.
    let normal = issue(&d, "civil", "normal");
    let first = issue(&d, "civil", "priority");
    assert_eq!(case_helper(&d, &first), "h1", "tie: first helper listed");
    let (st, b) = d.get(&format!("/api/cases/{normal}"), MANAGER);
    assert_eq!(st, 404, "{b}");
    assert_eq!(b["code"], "no_case");

    // Fewest open cases: alternately.
    let mut got = vec![("h1".to_string(), first)];
    for _ in 0..3 {
        let n = issue(&d, "civil", "priority");
        let h = case_helper(&d, &n);
        got.push((h.as_str().unwrap().to_string(), n));
    }
    let who: Vec<&str> = got.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(who, ["h1", "h2", "h1", "h2"]);

    // A helper off duty gets none, even with fewer open cases.
    duty(&d, H2, false);
    let gb = issue(&d, "medical", "priority");
    assert_eq!(case_helper(&d, &gb), "h1");
    let n = issue(&d, "medical", "priority");
    assert_eq!(case_helper(&d, &n), "h1");

    // Each helper sees their own open cases, not the other's.
    let (st, mine) = d.get("/api/cases", H1);
    assert_eq!(st, 200, "{mine}");
    assert_eq!(numbers(&mine), ["GA001", "GA003", "GB001", "GB002"]);
    let (_, theirs) = d.get("/api/cases", H2);
    assert_eq!(numbers(&theirs), ["GA002", "GA004"]);
    let (st, b) = d.get("/api/cases/GA002", H1);
    assert_eq!(st, 403, "{b}");
    assert_eq!(b["code"], "not_your_case");
    assert!(
        !mine.to_string().contains("person"),
        "no identity in a case: {mine}"
    );

    // Nobody on duty: the case stays unassigned and every helper sees it.
    duty(&d, H1, false);
    let u1 = issue(&d, "civil", "priority");
    let u2 = issue(&d, "civil", "priority");
    assert_eq!(case_helper(&d, &u1), Value::Null);
    assert_eq!(case_helper(&d, &u2), Value::Null);
    for token in [H1, H2] {
        let (_, l) = d.get("/api/cases", token);
        let l = numbers(&l);
        assert!(l.contains(&u1) && l.contains(&u2), "{l:?}");
    }
    // h1 takes one; h2 cannot take it any more.
    let (st, c) = d.post(&format!("/api/cases/{u1}/take"), H1, json!({}));
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["helper"], "h1");
    assert_eq!(c["helper_name"], "王协办");
    let (st, b) = d.post(&format!("/api/cases/{u1}/take"), H2, json!({}));
    assert_eq!(st, 403, "{b}");
    // Going on duty, h2 picks up the one left unassigned.
    let b = duty(&d, H2, true);
    assert_eq!(b["assigned"], json!([{ "number": u2, "helper": "h2" }]));
    assert_eq!(case_helper(&d, &u2), "h2");

    // The manager sees every helper's load, and every case.
    let (st, hs) = d.get("/api/helpers", MANAGER);
    assert_eq!(st, 200, "{hs}");
    assert_eq!(
        hs,
        json!([
            { "id": "h1", "name": "王协办", "on_duty": false, "open_cases": 5 },
            { "id": "h2", "name": "李协办", "on_duty": true, "open_cases": 3 },
        ])
    );
    let (_, all) = d.get("/api/cases", MANAGER);
    assert_eq!(all.as_array().unwrap().len(), 8);

    // Tokens: helpers use the case routes only; windows not the case routes.
    let (st, b) = d.post("/api/windows/1/call", H1, json!({}));
    assert_eq!(st, 403, "{b}");
    assert_eq!(b["code"], "forbidden");
    let (st, _) = d.get("/api/queue", H1);
    assert_eq!(st, 403);
    let (st, _) = d.post("/api/tickets", H1, json!({ "service": "civil" }));
    assert_eq!(st, 403);
    let (st, _) = d.get("/api/cases", &window_token(1));
    assert_eq!(st, 403);
    let (st, _) = d.get("/api/helpers", H1);
    assert_eq!(st, 403);
    let (st, _) = d.post("/api/helpers/me/duty", MANAGER, json!({ "on": true }));
    assert_eq!(st, 403);
    let (st, _) = d.get("/api/cases", "not-a-real-token-at-all");
    assert_eq!(st, 401);
    let (st, b) = d.post("/api/helpers/me/duty", H1, json!({ "on": "yes" }));
    assert_eq!(st, 422, "{b}");
    let (st, b) = d.get("/api/cases/GZ999", H1);
    assert_eq!(st, 404, "{b}");
}

/// Work is shared: the first helper on duty took all five waiting cases;
/// the second, coming on duty, gets the two newest the first has not
/// started; and when the first has closed theirs, one of the second's
/// unstarted cases comes back (two or more apart), while a started case
/// never moves.
#[test]
fn cases_are_shared_when_a_helper_comes_on_duty_and_when_loads_drift_apart() {
    let hall = hall();
    let d = hall.start();
    duty(&d, H1, true);
    let tickets: Vec<String> = (0..5).map(|_| issue(&d, "civil", "priority")).collect();
    for t in &tickets {
        assert_eq!(case_helper(&d, t), "h1", "{t}");
    }
    let (st, b) = d.post(
        &format!("/api/cases/{}/notes", tickets[0]),
        H1,
        json!({ "text": "已了解情况" }),
    );
    assert!((200..300).contains(&st), "{b}");

    let b = duty(&d, H2, true);
    assert_eq!(
        b["assigned"],
        json!([
            { "number": tickets[4], "helper": "h2" },
            { "number": tickets[3], "helper": "h2" },
        ]),
        "the two newest unstarted cases"
    );
    let (_, mine) = d.get("/api/cases", H1);
    assert_eq!(numbers(&mine), tickets[..3].to_vec());

    // h1 serves and closes their three; h2 has two, h1 none: one moves.
    for t in &tickets[..3] {
        for step in ["call", "start", "finish"] {
            let (st, b) = d.post(
                &format!("/api/windows/1/{step}"),
                &window_token(1),
                json!({}),
            );
            assert!((200..300).contains(&st), "{step} {t}: {b}");
        }
        let (st, b) = d.post(&format!("/api/cases/{t}/close"), H1, json!({}));
        assert!((200..300).contains(&st), "{b}");
    }
    wait_for("a case back to h1", || {
        (case_helper(&d, &tickets[4]) == "h1").then_some(())
    });
    assert_eq!(case_helper(&d, &tickets[3]), "h2", "one apart is fair");
}

/// A priority resident is followed across visits: their case closed as
/// 待补材料 (what is missing: 户口簿) stays on the helper's follow-up list;
/// when they come back, the new case is linked to the earlier one (by the
/// keyed identity hash), goes to the same helper although another is less
/// busy, shows the earlier notes and what was missing, and once it is
/// closed done the follow-up list is empty.
#[test]
fn a_resident_who_comes_back_continues_their_case_with_the_same_helper() {
    let resident = greenwave_drivers::idcard::sim::fake::resident(41)
        .id_number
        .expose()
        .to_string();
    let hall = TestHall::builder()
        .helpers(&[("h1", "王协办", H1), ("h2", "李协办", H2)])
        .extra("[roster]\npublic_key = \"keys/roster-public.key\"\nhash_key = \"keys/roster-hash.key\"\n")
        .build();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/policies.toml"),
        hall.dir.path().join("policies.toml"),
    )
    .unwrap();
    common::sign_roster(hall.dir.path(), &[&resident]);
    let roster = hall.dir.path().join("r1.gwr");
    let (st, _, err) = hall.cli(&["roster", "import", roster.to_str().unwrap()]);
    assert!(st.success(), "{err}");
    let d = hall.start();
    duty(&d, H1, true);
    duty(&d, H2, true);
    let visit = |d: &Daemon| {
        let (st, b) = d.post(
            "/api/tickets/priority",
            &window_token(1),
            json!({ "id_number": resident, "service": "civil" }),
        );
        assert_eq!(st, 201, "{b}");
        b["ticket"]["number"].as_str().unwrap().to_string()
    };
    let serve = |d: &Daemon| {
        for step in ["call", "start", "finish"] {
            let (st, b) = d.post(
                &format!("/api/windows/1/{step}"),
                &window_token(1),
                json!({}),
            );
            assert!((200..300).contains(&st), "{step}: {b}");
        }
    };
    let ok = |(st, b): (u16, Value)| {
        assert!((200..300).contains(&st), "{b}");
        b
    };

    let first = visit(&d);
    assert_eq!(case_helper(&d, &first), "h1");
    ok(d.post(
        &format!("/api/cases/{first}/notes"),
        H1,
        json!({ "text": "缺少户口簿，已告知下次带来" }),
    ));
    serve(&d);
    let (st, b) = d.post(
        &format!("/api/cases/{first}/close"),
        H1,
        json!({ "outcome": "done", "missing": "户口簿" }),
    );
    assert_eq!(st, 422, "missing belongs to 待补材料: {b}");
    ok(d.post(
        &format!("/api/cases/{first}/close"),
        H1,
        json!({ "outcome": "missing_documents", "missing": "户口簿" }),
    ));
    let list = ok(d.get("/api/cases/follow-ups", H1));
    assert_eq!(list[0]["number"], first.as_str(), "{list}");
    assert_eq!(list[0]["reason_label"], "待补材料");
    assert_eq!(list[0]["missing"], "户口簿");
    assert_eq!(
        ok(d.get("/api/cases/follow-ups", H2)),
        json!([]),
        "h2's list"
    );

    // h1 gets another resident's case, so h2 is the less busy...
    let other = issue(&d, "medical", "priority");
    assert_eq!(case_helper(&d, &other), "h1");
    // ...yet the returning resident goes to h1, with the earlier visit.
    let second = visit(&d);
    assert_eq!(case_helper(&d, &second), "h1", "the same helper");
    let c = ok(d.get(&format!("/api/cases/{second}"), H1));
    assert_eq!(c["earlier"]["number"], first.as_str(), "{c}");
    assert_eq!(c["earlier"]["reason_label"], "待补材料");
    assert_eq!(c["earlier"]["missing"], "户口簿");
    assert_eq!(c["earlier"]["notes"], json!(["缺少户口簿，已告知下次带来"]));
    assert!(
        c["timeline"].to_string().contains("接续上次来访"),
        "{}",
        c["timeline"]
    );
    assert!(!c.to_string().contains(&resident), "no ID number in a case");
    // Sharing the work (run at once when a helper comes on duty) moves
    // the other resident's case, never the continued one.
    // (the follower's tick may have moved it first).
    duty(&d, H2, true);
    assert_eq!(case_helper(&d, &other), "h2");
    assert_eq!(case_helper(&d, &second), "h1");

    // What the helper sees on the phone.
    common::browser::browser_dir();
    let env = [
        ("GW_BASE", d.base.clone()),
        ("GW_HELPER", H1.to_string()),
        ("GW_FIRST", first.clone()),
        ("GW_SECOND", second.clone()),
        (
            "GW_SHOTS",
            common::browser::shots_dir().display().to_string(),
        ),
    ];
    let (status, log) =
        common::browser::drive("followup.mjs", &env, Duration::from_secs(90), |_| {
            Err("no requests".into())
        });
    assert!(
        status.success() && log.iter().any(|l| l == "followup: all steps passed"),
        "{}",
        log.join("\n")
    );

    serve(&d);
    ok(d.post(&format!("/api/cases/{second}/close"), H1, json!({})));
    assert_eq!(
        ok(d.get("/api/cases/follow-ups", H1)),
        json!([]),
        "resolved by the visit"
    );
}

#[test]
fn notes_policies_close_rating_and_timeline() {
    let hall = hall();
    let d = hall.start();
    duty(&d, H1, true);
    let n = issue(&d, "civil", "priority");
    assert_eq!(case_helper(&d, &n), "h1");

    let (st, p) = d.get("/api/policies", H1);
    assert_eq!(st, 200, "{p}");
    assert_eq!(p["departments"].as_array().unwrap().len(), 6);
    assert!(p["policies"].as_array().unwrap().len() >= 8);
    assert_eq!(p["policies"][0]["id"], "dibao");

    // Rating before the ticket is finished.
    let (st, b) = d.post(
        &format!("/api/tickets/{n}/rating"),
        MANAGER,
        json!({ "rating": "满意" }),
    );
    assert_eq!(st, 409, "{b}");
    assert_eq!(b["code"], "not_finished");

    // Notes and policies by the owner.
    let case = format!("/api/cases/{n}");
    let (st, b) = d.post(
        &format!("{case}/notes"),
        H1,
        json!({ "text": "已陪同至1号窗口，协助填写申请表" }),
    );
    assert_eq!(st, 201, "{b}");
    let (st, b) = d.post(&format!("{case}/notes"), H1, json!({ "text": "  " }));
    assert_eq!(st, 422, "{b}");
    let (st, b) = d.post(
        &format!("{case}/policies"),
        H1,
        json!({ "ids": ["dibao", "yiliao_jiuzhu"] }),
    );
    assert_eq!(st, 201, "{b}");
    let (st, b) = d.post(
        &format!("{case}/policies"),
        H1,
        json!({ "ids": ["dibao", "no_such_policy"] }),
    );
    assert_eq!(st, 422, "{b}");
    assert_eq!(b["code"], "unknown_policy");
    assert!(
        b["error"].as_str().unwrap().contains("no_such_policy"),
        "{b}"
    );
    // Another helper may not write on it.
    let (st, b) = d.post(&format!("{case}/notes"), H2, json!({ "text": "x" }));
    assert_eq!(st, 403, "{b}");
    // Not closed while the resident is still in line.
    let (st, b) = d.post(&format!("{case}/close"), H1, json!({}));
    assert_eq!(st, 409, "{b}");
    assert_eq!(b["code"], "ticket_open");

    // The window serves the ticket.
    let w1 = window_token(1);
    for op in ["call", "start", "finish"] {
        let (st, b) = d.post(&format!("/api/windows/1/{op}"), &w1, json!({}));
        assert_eq!(st, 200, "{op}: {b}");
    }

    // Rating: by the window that finished it, once, one of three.
    let rating = format!("/api/tickets/{n}/rating");
    let (st, b) = d.post(&rating, &window_token(2), json!({ "rating": "满意" }));
    assert_eq!(st, 403, "{b}");
    let (st, b) = d.post(&rating, &w1, json!({ "rating": "很好" }));
    assert_eq!(st, 422, "{b}");
    assert_eq!(b["code"], "bad_rating");
    let (st, b) = d.post(
        &rating,
        &w1,
        json!({ "rating": "满意", "comment": "协办员很耐心" }),
    );
    assert_eq!(st, 201, "{b}");
    assert_eq!(b["rating"], "满意");
    let (st, b) = d.post(&rating, MANAGER, json!({ "rating": "不满意" }));
    assert_eq!(st, 409, "{b}");
    assert_eq!(b["code"], "already_rated");

    // Close; nothing more after that.
    let (st, b) = d.post(&format!("{case}/close"), H1, json!({}));
    assert_eq!(st, 201, "{b}");
    assert_eq!(b["case"]["status"], "closed");
    let (st, b) = d.post(&format!("{case}/notes"), H1, json!({ "text": "x" }));
    assert_eq!(st, 409, "{b}");
    assert_eq!(b["code"], "case_closed");
    let (_, mine) = d.get("/api/cases", H1);
    assert!(numbers(&mine).is_empty(), "closed cases leave the list");

    // The whole story, in time order.
    let (st, v) = d.get(&case, MANAGER);
    assert_eq!(st, 200, "{v}");
    let tl = v["timeline"].as_array().unwrap();
    let kinds: Vec<&str> = tl.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "issued",
            "case_opened",
            "assigned",
            "note",
            "policy_explained",
            "policy_explained",
            "called",
            "started",
            "finished",
            "rated",
            "closed"
        ]
    );
    let at: Vec<i64> = tl.iter().map(|e| e["at_ms"].as_i64().unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "{at:?}");
    assert_eq!(tl[2]["detail"]["helper"], "h1");
    assert_eq!(tl[3]["detail"]["text"], "已陪同至1号窗口，协助填写申请表");
    assert_eq!(tl[5]["detail"]["title"], "医疗救助");
    assert_eq!(tl[9]["detail"]["comment"], "协办员很耐心");
    assert_eq!(tl[9]["actor"], "window:1");
    assert_eq!(v["rating"]["rating"], "满意");
    assert!(!v.to_string().contains("person"), "{v}");

    // A normal ticket is rated too, and its timeline shows it.
    let a = issue(&d, "civil", "normal");
    for op in ["call", "finish"] {
        let (st, b) = d.post(&format!("/api/windows/1/{op}"), &w1, json!({}));
        assert_eq!(st, 200, "{op}: {b}");
    }
    let (st, b) = d.post(
        &format!("/api/tickets/{a}/rating"),
        &w1,
        json!({ "rating": "基本满意" }),
    );
    assert_eq!(st, 201, "{b}");
    let (st, v) = d.get(&format!("/api/tickets/{a}/timeline"), &w1);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["case"], Value::Null);
    let last = v["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "rated");
    assert_eq!(last["detail"]["rating"], "基本满意");
}

#[test]
fn config_check_names_policies_file_and_line_and_helper_tokens() {
    let hall = hall();
    let (st, out, err) = hall.cli(&["config", "check"]);
    assert!(st.success(), "{out}{err}");
    assert!(out.contains("helpers    2"), "{out}");
    assert!(out.contains("policies   11 in 6 departments"), "{out}");

    // A policy naming an unknown department: file and line.
    let path = hall.dir.path().join("policies.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .position(|l| l == "department = \"housing\"")
        .unwrap()
        + 1;
    std::fs::write(
        &path,
        text.replacen("department = \"housing\"", "department = \"tax\"", 1),
    )
    .unwrap();
    let (st, _, err) = hall.cli(&["config", "check"]);
    assert!(!st.success());
    assert!(
        err.contains(&format!("policies.toml:{line}: policies[")) && err.contains("\"tax\""),
        "{err}"
    );
    // Not TOML at all.
    std::fs::write(&path, "[[policies]]\nid = \"x\"\ntitle = \n").unwrap();
    let (st, _, err) = hall.cli(&["config", "check"]);
    assert!(!st.success());
    assert!(err.contains("policies.toml:3:"), "{err}");
    // A missing file is no policies.
    std::fs::remove_file(&path).unwrap();
    let (st, out, err) = hall.cli(&["config", "check"]);
    assert!(st.success(), "{err}");
    assert!(out.contains("policies   0"), "{out}");

    // A helper token equal to a window's is refused with its line.
    let bad = TestHall::builder()
        .helpers(&[("h1", "王协办", &window_token(2))])
        .build();
    let (st, _, err) = bad.cli(&["config", "check"]);
    assert!(!st.success());
    assert!(
        err.contains("helpers[0].token is the same as windows[1].token"),
        "{err}"
    );
    let text = std::fs::read_to_string(&bad.config).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let helper_line = lines
        .iter()
        .rposition(|l| l.starts_with("token = "))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!("greenwave.toml:{helper_line}:")),
        "{err}"
    );
}

#[test]
fn reconcile_opens_missing_cases() {
    use greenwave::config::Config;
    use greenwave::hall::{Hall, ManualClock};
    use greenwave::queue::{Lane, Timestamp};
    use std::sync::Arc;

    let hall_dir = hall();
    let cfg = Config::load(&hall_dir.config).unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    let mut h = Hall::open(&cfg, clock).unwrap();
    let p = h.issue("civil", Lane::Priority).unwrap();
    h.issue("civil", Lane::Normal).unwrap();
    let ids = ["h1".to_string(), "h2".to_string()];
    // As if the follower had missed the event: a connection of its own.
    let store = greenwave::store::Store::open(&cfg.database_path()).unwrap();
    store.set_duty("h2", true, Timestamp(1), &ids).unwrap();
    let opened = store.open_missing_cases(Timestamp(2), &ids, 30).unwrap();
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].0, p.id);
    assert_eq!(opened[0].2.as_deref(), Some("h2"));
    assert!(store
        .open_missing_cases(Timestamp(3), &ids, 30)
        .unwrap()
        .is_empty());
    assert!(h.store().case_of_ticket(p.id).unwrap().is_some());
}

/// Regression: the case follower reads the clock, then reconciles; a
/// ticket issued in between got a case that opened before the ticket was
/// issued, and the timeline showed `case_opened` before `issued`.
#[test]
fn regression_a_reconciled_case_never_opens_before_its_ticket() {
    use greenwave::config::Config;
    use greenwave::hall::{Hall, ManualClock};
    use greenwave::queue::{Lane, Timestamp};
    use std::sync::Arc;

    let hall_dir = hall();
    let cfg = Config::load(&hall_dir.config).unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
    let mut h = Hall::open(&cfg, clock).unwrap();
    let p = h.issue("civil", Lane::Priority).unwrap();
    let ids = ["h1".to_string(), "h2".to_string()];
    let store = greenwave::store::Store::open(&cfg.database_path()).unwrap();
    // The follower's clock reading, taken a moment before the issue.
    let before = Timestamp(p.issued_at.0 - 5);
    store.open_missing_cases(before, &ids, 30).unwrap();
    let case = h.store().case_of_ticket(p.id).unwrap().unwrap();
    assert_eq!(case.opened_at, p.issued_at);
}

/// The link across visits reaches back exactly `[cases] follow_up_days`
/// (30 by default): a resident back after 29 days continues their case;
/// back 31 days after that visit, they start afresh (issue 19).
#[test]
fn a_visit_after_the_follow_up_period_starts_a_new_case() {
    use greenwave::config::Config;
    use greenwave::hall::{Actor, Ask, Hall, ManualClock};
    use greenwave::queue::{Lane, Timestamp};
    use std::sync::Arc;

    let hall_dir = hall();
    let cfg = Config::load(&hall_dir.config).unwrap();
    assert_eq!(cfg.follow_up_days, 30, "the default");
    let t0 = Timestamp(1_764_550_800_000); // 2025-12-01 09:00 in the hall
    let clock = Arc::new(ManualClock::new(t0));
    let mut h = Hall::open(&cfg, clock.clone()).unwrap();
    let ids = ["h1".to_string(), "h2".to_string()];
    let person = "9f".repeat(32);
    let day = Duration::from_secs(24 * 3600);
    let visit = |h: &mut Hall| {
        let t = h
            .open_or_issue(Ask {
                actor: &Actor::System,
                service: "civil",
                person: Some(&person),
                lane: Lane::Priority,
                token: format!("tok-{}", h.now().0),
                identified: None,
                request: None,
                profile: Default::default(),
                schedule: None,
                appointments: None,
            })
            .unwrap()
            .ticket;
        let (case, _) = h
            .store()
            .open_case(t.id, t.issued_at, &ids, cfg.follow_up_days)
            .unwrap()
            .expect("a new case");
        (t.number, h.store().earlier_case(case).unwrap())
    };
    let (first, none) = visit(&mut h);
    assert!(none.is_none(), "a first visit follows nothing");
    clock.advance(day * 29);
    let (_, earlier) = visit(&mut h);
    assert_eq!(
        earlier.map(|e| e.number),
        Some(first),
        "back after 29 days: the same case continues"
    );
    clock.advance(day * 31);
    let (_, earlier) = visit(&mut h);
    assert!(
        earlier.is_none(),
        "back 31 days after the last visit: a new case, {earlier:?}"
    );
}
