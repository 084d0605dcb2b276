//! The resident's progress page (`/t/{token}`, `GET /api/status/{token}`)
//! guides them: each state of a ticket through the API of the real daemon
//! (waiting with the lane, the time of issue, the windows and "near";
//! called; a no-show within and past the rejoin grace; transferred; an
//! unknown token), an accompanied resident calling their helper
//! (`POST /api/status/{token}/helper`, one open call, seen in the case's
//! timeline and on the helper's list until answered), then the same in a
//! real browser at 390×844 (`tests/browser/progress.mjs`, Debian's
//! chromium through playwright-core), with screenshots in
//! `target/screenshots/progress-*.png`.

mod common;

use std::time::Duration;

use common::{browser, eventually_some, get_text, http, window_token, Daemon, TestHall, MANAGER};
use serde_json::{json, Value};

const HELPER: &str = "test-helper-1-token-0001";
/// The whole browser run, at most.
const LIMIT: Duration = Duration::from_secs(180);

fn hall(extra: &str) -> TestHall {
    TestHall::builder()
        .helpers(&[("h1", "王协办", HELPER)])
        .extra(extra)
        .build()
}

/// The progress token of today's ticket `number`, as printed in its QR
/// code (the API never shows it to staff; the database has it).
fn token_of(hall: &TestHall, number: &str) -> String {
    let db = rusqlite::Connection::open(hall.data_dir().join("greenwave.db")).unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    db.query_row(
        "SELECT token FROM tickets WHERE number = ?1 ORDER BY id DESC LIMIT 1",
        [number],
        |r| r.get(0),
    )
    .unwrap()
}

fn status(d: &Daemon, token: &str) -> (u16, Value) {
    http("GET", &format!("{}/api/status/{token}", d.base), None, None)
}

fn issue(d: &Daemon, service: &str) -> String {
    let (st, t) = d.post("/api/tickets", MANAGER, json!({ "service": service }));
    assert_eq!(st, 201, "{t}");
    t["number"].as_str().unwrap().to_string()
}

fn ok(d: &Daemon, path: &str, body: Value) -> Value {
    let (st, v) = d.post(path, MANAGER, body);
    assert!((200..300).contains(&st), "{path}: {st} {v}");
    v
}

/// `HH:MM` of an instant in the test hall's time zone (Asia/Shanghai).
fn hhmm(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%H:%M")
        .to_string()
}

/// When the ticket's event `kind` happened (its timeline), in ms.
fn event_at(d: &Daemon, number: &str, kind: &str) -> i64 {
    let (st, tl) = d.get(&format!("/api/tickets/{number}/timeline"), MANAGER);
    assert_eq!(st, 200, "{tl}");
    tl["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {tl}"))["at_ms"]
        .as_i64()
        .unwrap()
}

#[test]
fn a_waiting_ticket_is_told_its_lane_time_windows_and_when_it_is_near() {
    let hall = hall("");
    let d = hall.start();
    for _ in 0..5 {
        issue(&d, "civil");
    }
    let token = token_of(&hall, "A005");
    let (st, s) = status(&d, &token);
    assert_eq!(st, 200, "{s}");
    assert_eq!(
        (&s["status"], &s["state"], &s["lane"], &s["ahead"]),
        (
            &json!("waiting"),
            &json!("waiting"),
            &json!("normal"),
            &json!(4)
        )
    );
    let (_, t) = d.get("/api/tickets/A005", MANAGER);
    assert_eq!(
        s["issued_at"],
        hhmm(t["ticket"]["issued_at_ms"].as_i64().unwrap())
    );
    assert_eq!(s["message"], "前面还有 4 人");
    assert_eq!(s["windows"], json!([1, 2]));
    assert_eq!(s["guide"], "请留意 1、2 号窗口叫号");
    assert_eq!(s["advice"], "请不要走远，以免过号");
    assert_eq!((&s["near"], &s["helper"]), (&json!(false), &Value::Null));

    // Three ahead: near.
    ok(&d, "/api/windows/1/call", json!({}));
    let (_, s) = status(&d, &token);
    assert_eq!((&s["ahead"], &s["near"]), (&json!(3), &json!(true)), "{s}");
    assert_eq!(s["advice"], "请到窗口附近等候");
    let (_, _, page) = get_text(&format!("{}/t/{token}", d.base), None);
    let page = page.replace('\u{a0}', " ");
    assert!(page.contains("data-near=\"true\""), "{page}");
    assert!(page.contains("快到您了") && page.contains("请留意 1、2 号窗口叫号"));
    assert!(page.contains("data-lane=\"normal\""), "{page}");

    // Called: where to go; nothing about waiting any more.
    let a001 = token_of(&hall, "A001");
    let (_, s) = status(&d, &a001);
    assert_eq!(
        (&s["status"], &s["message"], &s["window"]),
        (&json!("called"), &json!("请到 1 号窗口"), &json!(1))
    );
    assert_eq!(
        (&s["near"], &s["guide"], &s["windows"]),
        (&json!(false), &json!(""), &json!([]))
    );
    let (_, _, page) = get_text(&format!("{}/t/{a001}", d.base), None);
    let page = page.replace('\u{a0}', " ");
    assert!(
        page.contains("data-status=\"called\"") && page.contains("请到 1 号窗口"),
        "{page}"
    );
}

#[test]
fn a_no_show_is_told_until_when_to_come_back_and_a_rejoin_puts_it_back() {
    let hall = hall("");
    let d = hall.start();
    issue(&d, "civil");
    let token = token_of(&hall, "A001");
    ok(&d, "/api/windows/1/call", json!({}));
    ok(&d, "/api/windows/1/no-show", json!({}));
    let at = event_at(&d, "A001", "no_show");
    // The default grace: 15 minutes.
    let by = hhmm(at + 15 * 60_000);
    let (_, s) = status(&d, &token);
    assert_eq!(
        (&s["status"], &s["state"], &s["message"]),
        (&json!("closed"), &json!("no_show"), &json!("您已过号")),
        "{s}"
    );
    assert_eq!(s["rejoin_by"], by);
    assert_eq!(s["guide"], format!("请在 {by} 前到 1 号窗口重新排队"));
    let (_, _, page) = get_text(&format!("{}/t/{token}", d.base), None);
    let page = page.replace('\u{a0}', " ");
    assert!(
        page.contains(&format!("请在 {by} 前到 1 号窗口重新排队")),
        "{page}"
    );

    ok(&d, "/api/tickets/A001/rejoin", json!({}));
    let (_, s) = status(&d, &token);
    assert_eq!(
        (&s["status"], &s["rejoin_by"]),
        (&json!("waiting"), &Value::Null)
    );
    assert_eq!(s["message"], "前面还有 0 人");
}

#[test]
fn a_no_show_past_the_grace_is_told_to_take_a_new_ticket() {
    let hall = hall("[call_policy]\nrejoin_grace = \"1s\"\n");
    let d = hall.start();
    issue(&d, "civil");
    let token = token_of(&hall, "A001");
    ok(&d, "/api/windows/1/call", json!({}));
    ok(&d, "/api/windows/1/no-show", json!({}));
    let s = eventually_some(
        Duration::from_secs(10),
        "the grace never ended on the page",
        || Some(status(&d, &token).1).filter(|s| s["rejoin_by"].is_null()),
        || status(&d, &token).1.to_string(),
    );
    assert_eq!(s["guide"], "已超过重新排队时间，请重新取号");
    // What the page says is the queue's rule: the window may not rejoin it.
    let (st, e) = d.post("/api/tickets/A001/rejoin", MANAGER, json!({}));
    assert_eq!(st, 409, "{e}");
    let (_, _, page) = get_text(&format!("{}/t/{token}", d.base), None);
    let page = page.replace('\u{a0}', " ");
    assert!(page.contains("已超过重新排队时间，请重新取号"), "{page}");
}

#[test]
fn a_transferred_ticket_is_told_its_new_service_and_window() {
    let hall = hall("");
    let d = hall.start();
    issue(&d, "civil");
    issue(&d, "medical");
    let token = token_of(&hall, "A001");
    ok(&d, "/api/windows/2/call", json!({ "number": "A001" }));
    ok(
        &d,
        "/api/windows/2/transfer",
        json!({ "service": "medical", "window": 3 }),
    );
    // The ticket keeps its number and place (issued before B001).
    let (_, s) = status(&d, &token);
    assert_eq!(
        (&s["number"], &s["status"], &s["state"]),
        (&json!("A001"), &json!("waiting"), &json!("transferred")),
        "{s}"
    );
    assert_eq!(s["service_name"], "医保业务");
    assert_eq!(s["windows"], json!([3]));
    assert_eq!(s["guide"], "已转到 医保业务，请留意 3 号窗口叫号");
    assert_eq!(s["message"], "前面还有 0 人");
    let (_, _, page) = get_text(&format!("{}/t/{token}", d.base), None);
    let page = page.replace('\u{a0}', " ");
    assert!(
        page.contains("已转到 医保业务，请留意 3 号窗口叫号"),
        "{page}"
    );
}

#[test]
fn an_unknown_token_is_not_found_and_promises_no_refresh() {
    let hall = hall("");
    let d = hall.start();
    issue(&d, "civil");
    let (st, e) = status(&d, "nosuchtoken");
    assert_eq!((st, &e["code"]), (404, &json!("unknown_ticket")));
    let (st, e) = http(
        "POST",
        &format!("{}/api/status/nosuchtoken/helper", d.base),
        None,
        None,
    );
    assert_eq!((st, &e["code"]), (404, &json!("unknown_ticket")));
    let (st, _, page) = get_text(&format!("{}/t/nosuchtoken", d.base), None);
    let page = page.replace('\u{a0}', " ");
    assert_eq!(st, 404);
    assert!(page.contains("没有找到这张票"), "{page}");
    // It does not refresh, and does not say it will.
    assert!(
        !page.contains("刷新") && !page.contains("http-equiv=\"refresh\""),
        "{page}"
    );
    assert!(!page.contains("{{"), "unfilled placeholder: {page}");
    // A ticket's page refreshes without JavaScript, and says so.
    let token = token_of(&hall, "A001");
    let (st, _, page) = get_text(&format!("{}/t/{token}", d.base), None);
    let page = page.replace('\u{a0}', " ");
    assert_eq!(st, 200);
    assert!(
        page.contains("http-equiv=\"refresh\"") && page.contains("页面会自动刷新"),
        "{page}"
    );
    assert!(!page.contains("{{"), "unfilled placeholder: {page}");
}

/// A POST without following redirects: (status, Location).
fn post_no_redirect(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let resp = agent.post(url).send_empty().unwrap();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (resp.status().as_u16(), location)
}

/// The case list entry of `number` as the helper sees it.
fn helper_case(d: &Daemon, number: &str) -> Value {
    let (st, list) = d.get("/api/cases", HELPER);
    assert_eq!(st, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["number"] == number)
        .cloned()
        .unwrap_or_else(|| panic!("{number} not in {list}"))
}

fn kinds(d: &Daemon, number: &str) -> Vec<String> {
    let (_, c) = d.get(&format!("/api/cases/{number}"), HELPER);
    c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "case")
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Waits until the case of `number` is assigned (the daemon's case
/// follower opens it after the ticket is issued).
fn wait_case(d: &Daemon, number: &str) -> Value {
    eventually_some(
        Duration::from_secs(20),
        "the case was never opened",
        || {
            let (st, c) = d.get(&format!("/api/cases/{number}"), MANAGER);
            Some(c).filter(|c| st == 200 && !c["case"]["helper"].is_null())
        },
        || {
            d.get(&format!("/api/cases/{number}"), MANAGER)
                .1
                .to_string()
        },
    )
}

#[test]
fn an_accompanied_resident_calls_their_helper_once_until_answered() {
    let hall = hall("");
    let d = hall.start();
    d.post("/api/helpers/me/duty", HELPER, json!({ "on": true }));
    let priority = json!({ "service": "civil", "lane": "priority", "reason": "测试" });
    ok(&d, "/api/tickets", priority.clone());
    issue(&d, "civil");
    wait_case(&d, "GA001");
    let token = token_of(&hall, "GA001");
    let call_url = format!("{}/api/status/{token}/helper", d.base);

    let (_, s) = status(&d, &token);
    assert_eq!(s["lane"], "priority");
    assert_eq!(
        s["helper"],
        json!({ "name": "王协办", "called": false, "message": "您的协办员：王协办" })
    );
    assert!(!s.to_string().contains("h1"), "the helper's id: {s}");
    assert!(helper_case(&d, "GA001")["resident_called_at_ms"].is_null());

    // A normal ticket has no helper to call.
    let (st, e) = http(
        "POST",
        &format!("{}/api/status/{}/helper", d.base, token_of(&hall, "A001")),
        None,
        None,
    );
    assert_eq!((st, &e["code"]), (409, &json!("no_case")), "{e}");

    // The call, once: asking again records nothing.
    let (st, s) = http("POST", &call_url, None, None);
    assert_eq!(st, 201, "{s}");
    assert_eq!(
        (&s["helper"]["called"], &s["helper"]["message"]),
        (&json!(true), &json!("已通知协办员 王协办，请稍候"))
    );
    let (st, s) = http("POST", &call_url, None, None);
    assert_eq!((st, &s["helper"]["called"]), (200, &json!(true)), "{s}");
    let k = kinds(&d, "GA001");
    assert_eq!(
        k.iter().filter(|k| *k == "resident_called").count(),
        1,
        "{k:?}"
    );
    let (_, c) = d.get("/api/cases/GA001", HELPER);
    let entry = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "resident_called")
        .cloned()
        .unwrap();
    assert_eq!(
        (&entry["actor"], &entry["label"]),
        (&json!("resident"), &json!("居民请协办员过去"))
    );
    // The helper's list shows it, and the page says the helper was told.
    assert!(helper_case(&d, "GA001")["resident_called_at_ms"].is_i64());
    let (_, _, page) = get_text(&format!("{}/t/{token}", d.base), None);
    let page = page.replace('\u{a0}', " ");
    assert!(
        page.contains("data-helper=\"called\"") && page.contains("已通知协办员 王协办"),
        "{page}"
    );

    // The helper answers; the resident may call again.
    let (st, a) = d.post("/api/cases/GA001/answer", HELPER, json!({}));
    assert_eq!(st, 201, "{a}");
    assert!(a["case"]["resident_called_at_ms"].is_null(), "{a}");
    let (st, e) = d.post("/api/cases/GA001/answer", HELPER, json!({}));
    assert_eq!((st, &e["code"]), (409, &json!("no_resident_call")));
    assert_eq!(status(&d, &token).1["helper"]["called"], false);
    assert!(helper_case(&d, "GA001")["resident_called_at_ms"].is_null());

    // Without JavaScript: the page's form, then back to the page.
    let (st, location) = post_no_redirect(&format!("{}/t/{token}/helper", d.base));
    assert_eq!(
        (st, location.as_str()),
        (303, format!("/t/{token}").as_str())
    );
    assert_eq!(status(&d, &token).1["helper"]["called"], true);
    // A note answers it too.
    d.post(
        "/api/cases/GA001/notes",
        HELPER,
        json!({ "text": "已到场陪同" }),
    );
    assert_eq!(status(&d, &token).1["helper"]["called"], false);
    assert_eq!(
        kinds(&d, "GA001")[2..],
        [
            "resident_called",
            "call_answered",
            "resident_called",
            "note"
        ]
    );

    // Nobody on duty: the case waits for a helper, and there is no one to
    // call yet.
    d.post("/api/helpers/me/duty", HELPER, json!({ "on": false }));
    ok(&d, "/api/tickets", priority);
    let (_, c) = eventually_some(
        Duration::from_secs(20),
        "the second case was never opened",
        || Some(d.get("/api/cases/GA002", MANAGER)).filter(|(st, _)| *st == 200),
        String::new,
    );
    assert!(c["case"]["helper"].is_null(), "{c}");
    let t2 = token_of(&hall, "GA002");
    assert_eq!(status(&d, &t2).1["helper"], Value::Null);
    let (st, e) = http(
        "POST",
        &format!("{}/api/status/{t2}/helper", d.base),
        None,
        None,
    );
    assert_eq!((st, &e["code"]), (409, &json!("no_helper")), "{e}");
}

// ----- the browser ------------------------------------------------------------

/// What the script asks of the harness: a ticket's token (as its QR code
/// has it).
fn serve(req: &Value, hall: &TestHall) -> Result<Value, String> {
    match req["op"].as_str() {
        Some("token") => {
            let number = req["number"].as_str().ok_or("no number")?;
            Ok(json!({ "token": token_of(hall, number) }))
        }
        other => Err(format!("unknown request {other:?}")),
    }
}

#[test]
fn the_progress_page_guides_the_resident_in_a_real_browser() {
    let hall = hall("");
    let d = hall.start();
    let shots = browser::shots_dir();
    let env = [
        ("GW_BASE", d.base.clone()),
        ("GW_WINDOW1", window_token(1)),
        ("GW_MANAGER", MANAGER.to_string()),
        ("GW_HELPER", HELPER.to_string()),
        ("GW_SHOTS", shots.display().to_string()),
    ];
    let (status, log) = browser::drive("progress.mjs", &env, LIMIT, |req| serve(req, &hall));
    assert!(
        status.success() && log.last().map(String::as_str) == Some("progress: all steps passed"),
        "the browser run failed ({status:?}):\n{}\ndaemon log:\n{}",
        log.join("\n"),
        d.stderr()
    );

    // What the pages did, seen through the API: the resident's call and
    // the helper's answer are in the case's timeline.
    let k = kinds(&d, "GA001");
    assert!(
        k.contains(&"resident_called".to_string()) && k.contains(&"call_answered".to_string()),
        "{k:?}"
    );
    for name in [
        "waiting",
        "near",
        "called",
        "noshow",
        "transferred",
        "helper",
        "helper-called",
        "helper-page",
        "missing",
    ] {
        let p = shots.join(format!("progress-{name}.png"));
        let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        assert!(len > 5_000, "{} missing or empty", p.display());
    }
}
