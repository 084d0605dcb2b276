//! A window's login PIN through the real daemon: the manager sets it (a
//! window cannot), trivial PINs are refused, the right PIN opens a session
//! that acts for its own window only, five wrong PINs lock the window's PIN
//! login out (429 with `Retry-After`, even for the right PIN, across a
//! restart), the manager lifts it, logout ends the session; the PIN is in
//! neither the logs nor the store's files.

mod common;

use std::time::Duration;

use common::{http, window_token, Daemon, TestHall, MANAGER};
use serde_json::{json, Value};

/// A PIN unlikely to appear by chance in a log or a database page.
const PIN: &str = "73915846";
const NEW_PIN: &str = "64208153";

fn set_pin(d: &Daemon, window: u32, token: Option<&str>, pin: &str) -> (u16, Value) {
    let url = format!("{}/api/windows/{window}/pin", d.base);
    http("PUT", &url, token, Some(json!({ "pin": pin })))
}

/// `POST /api/login/pin`: (status, body, Retry-After).
fn pin_login(d: &Daemon, window: u32, pin: &str) -> (u16, Value, Option<u64>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut resp = agent
        .post(format!("{}/api/login/pin", d.base))
        .send_json(json!({ "window": window, "pin": pin }))
        .unwrap();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = resp.body_mut().read_json::<Value>().unwrap_or(Value::Null);
    (resp.status().as_u16(), body, retry)
}

fn session(d: &Daemon, window: u32, pin: &str) -> String {
    let (st, v, _) = pin_login(d, window, pin);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["window"], window, "{v}");
    v["token"].as_str().unwrap().to_string()
}

/// Five wrong PINs: four 401s that count down, then the lock-out.
fn lock_out(d: &Daemon, window: u32) {
    for left in (1..=4).rev() {
        let (st, v, _) = pin_login(d, window, "55501234");
        assert_eq!((st, &v["code"]), (401, &json!("wrong_pin")), "{v}");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains(&format!("还可再试 {left} 次")),
            "{v}"
        );
    }
    let (st, v, retry) = pin_login(d, window, "55501234");
    assert_eq!((st, &v["code"]), (429, &json!("locked_out")), "{v}");
    assert!(matches!(retry, Some(890..=900)), "{retry:?}");
}

fn assert_locked(d: &Daemon, window: u32, pin: &str) {
    let (st, v, retry) = pin_login(d, window, pin);
    assert_eq!((st, &v["code"]), (429, &json!("locked_out")), "{v}");
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.contains("请在") && msg.contains("后重试") && msg.contains("管理员"),
        "{msg}"
    );
    assert!(retry.is_some_and(|s| s > 0 && s <= 900), "{retry:?}");
}

#[test]
fn only_the_manager_sets_a_pin_and_trivial_ones_are_refused() {
    let hall = TestHall::new("");
    let d = hall.start();
    let (st, v) = http("GET", &format!("{}/api/login/windows", d.base), None, None);
    assert_eq!((st, v), (200, json!({ "windows": [1, 2, 3] })));

    let w1 = window_token(1);
    assert_eq!(
        set_pin(&d, 1, Some(&w1), PIN).0,
        403,
        "a window cannot set its own PIN"
    );
    assert_eq!(set_pin(&d, 2, Some(&w1), PIN).0, 403);
    assert_eq!(set_pin(&d, 1, None, PIN).0, 401);
    assert_eq!(
        http("GET", &format!("{}/api/pins", d.base), Some(&w1), None).0,
        403
    );
    for easy in ["1111", "1234", "987654", "1212", "20262026"] {
        let (st, v) = set_pin(&d, 1, Some(MANAGER), easy);
        assert_eq!(
            (st, &v["code"]),
            (422, &json!("trivial_pin")),
            "{easy}: {v}"
        );
        assert!(v["error"].as_str().unwrap().contains("过于简单"), "{v}");
    }
    for bad in ["123", "123456789", "12a45", ""] {
        let (st, v) = set_pin(&d, 1, Some(MANAGER), bad);
        assert_eq!((st, &v["code"]), (422, &json!("bad_pin")), "{bad}: {v}");
    }
    assert_eq!(set_pin(&d, 9, Some(MANAGER), PIN).0, 404);
    let (st, v, _) = pin_login(&d, 2, PIN);
    assert_eq!((st, &v["code"]), (409, &json!("no_pin")), "{v}");

    let (st, v) = set_pin(&d, 1, Some(MANAGER), PIN);
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (&v["set"], &v["set_by"]),
        (&json!(true), &json!("manager")),
        "{v}"
    );
    assert!(!v.to_string().contains(PIN), "{v}");
    let (st, v) = http(
        "DELETE",
        &format!("{}/api/windows/1/pin", d.base),
        Some(&w1),
        None,
    );
    assert_eq!(st, 403, "{v}");
    let (st, v) = http(
        "DELETE",
        &format!("{}/api/windows/1/pin", d.base),
        Some(MANAGER),
        None,
    );
    assert_eq!((st, &v["set"]), (200, &json!(false)), "{v}");
    assert_eq!(pin_login(&d, 1, PIN).0, 409, "cleared");
}

/// The session acts as window 1's token: its own window, not another.
fn session_acts_for_its_window_only(d: &Daemon, token: &str) {
    assert_eq!(token.len(), 64, "{token}");
    let (st, me) = d.get("/api/me", token);
    assert_eq!(
        (st, &me["role"], &me["window"]),
        (200, &json!("window"), &json!(1)),
        "{me}"
    );
    let (st, t) = d.post("/api/tickets", MANAGER, json!({ "service": "civil" }));
    assert_eq!(st, 201, "{t}");
    let (st, v) = d.post("/api/windows/1/call", token, json!({}));
    assert_eq!((st, &v["number"]), (200, &json!("A001")), "{v}");
    let (st, v) = d.post("/api/windows/2/call", token, json!({}));
    assert_eq!((st, &v["code"]), (403, &json!("forbidden")), "{v}");
    assert_eq!(
        d.get("/api/pins", token).0,
        403,
        "a session is not the manager"
    );
}

#[test]
fn a_pin_opens_a_session_for_its_window_and_five_wrong_pins_lock_it_out() {
    let hall = TestHall::new("");
    let d = hall.start();
    assert_eq!(set_pin(&d, 1, Some(MANAGER), PIN).0, 200);
    let token = session(&d, 1, PIN);
    session_acts_for_its_window_only(&d, &token);

    lock_out(&d, 1);
    assert_locked(&d, 1, PIN);
    let (_, pins) = d.get("/api/pins", MANAGER);
    assert_eq!(pins[0]["failures"], 5, "{pins}");
    assert!(pins[0]["locked_until"].is_string(), "{pins}");
    assert_eq!(pins[1]["set"], false, "{pins}");
    assert_eq!(
        d.get("/api/me", &token).0,
        200,
        "an open session stays open"
    );

    // The manager lifts the lock-out.
    let (st, v) = d.post("/api/windows/1/pin/unlock", MANAGER, json!({}));
    assert_eq!(
        (st, &v["locked_until"], &v["failures"]),
        (200, &Value::Null, &json!(0)),
        "{v}"
    );
    let second = session(&d, 1, PIN);

    // A new PIN lifts a lock-out too, and ends the window's sessions.
    lock_out(&d, 1);
    assert_eq!(set_pin(&d, 1, Some(MANAGER), NEW_PIN).0, 200);
    assert_eq!(
        d.get("/api/me", &second).0,
        401,
        "the old PIN's session ended"
    );
    assert_eq!(pin_login(&d, 1, PIN).0, 401, "the old PIN is wrong now");
    let third = session(&d, 1, NEW_PIN);

    // Logout ends a session; a configured token stays.
    let (st, v) = d.post("/api/logout", &third, json!({}));
    assert_eq!((st, &v["revoked"]), (200, &json!(true)), "{v}");
    assert_eq!(d.get("/api/me", &third).0, 401);
    assert_eq!(d.post("/api/logout", &third, json!({})).0, 401);
    let (st, v) = d.post("/api/logout", &window_token(1), json!({}));
    assert_eq!((st, &v["revoked"]), (200, &json!(false)), "{v}");
    assert_eq!(d.get("/api/me", &window_token(1)).0, 200);

    // A lock-out survives a restart; the sessions do not.
    let fourth = session(&d, 1, NEW_PIN);
    lock_out(&d, 1);
    let logs = format!("{}\n{}", d.lines().join("\n"), d.stderr());
    assert!(d.terminate(Duration::from_secs(10)).is_some());
    let d = hall.start();
    assert_locked(&d, 1, NEW_PIN);
    assert_eq!(d.get("/api/me", &fourth).0, 401, "a restart ends sessions");

    never_in_plain_form(&hall, &d, &logs);
}

/// The PINs are in neither the daemon's output nor the store's files; the
/// attempts are in the audit log, with actor and window.
fn never_in_plain_form(hall: &TestHall, d: &Daemon, logs: &str) {
    let logs = format!("{logs}\n{}\n{}", d.lines().join("\n"), d.stderr());
    let mut store = Vec::new();
    for entry in std::fs::read_dir(hall.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            store.extend(std::fs::read(&path).unwrap());
        }
    }
    let has = |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    for pin in [PIN, NEW_PIN] {
        assert!(!logs.contains(pin), "the PIN is in the log");
        assert!(!has(&store, pin), "the PIN is in the store's files");
    }
    for recorded in [
        "pin.login",
        "pin.set",
        "pin.unlock",
        "pin.logout",
        "window:1",
        "wrong_pin_locked",
    ] {
        assert!(has(&store, recorded), "{recorded} is not in the audit log");
    }
}
