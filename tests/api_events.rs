//! The event stream of the real daemon (`GET /api/events`): a snapshot on
//! connect, then the committed events in order, with display data only.

mod common;

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

use common::{http, window_token, TestHall, MANAGER};
use serde_json::{json, Value};

/// How long any one expected message may take.
const WAIT: Duration = Duration::from_secs(15);

/// A display connected to the stream: messages (event, data) arrive on a
/// channel from a reader thread, which ends when the daemon goes away.
struct Display {
    rx: mpsc::Receiver<(String, Value)>,
}

impl Display {
    fn connect(url: &str, token: Option<&str>) -> Display {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = agent.get(url).header("Accept", "text/event-stream");
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let resp = req.call().expect("event stream connects");
        assert_eq!(resp.status().as_u16(), 200);
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        let reader = BufReader::new(resp.into_body().into_reader());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let (mut event, mut data) = (String::new(), String::new());
            for line in reader.lines() {
                let Ok(line) = line else { return };
                if line.is_empty() {
                    if !data.is_empty() {
                        let v = serde_json::from_str(&data).expect("data is JSON");
                        if tx.send((std::mem::take(&mut event), v)).is_err() {
                            return;
                        }
                    }
                    event.clear();
                    data.clear();
                } else if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim().to_string();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
        });
        Display { rx }
    }

    fn next(&self) -> (String, Value) {
        self.rx
            .recv_timeout(WAIT)
            .expect("an event within the time limit")
    }
}

#[test]
fn displays_get_a_snapshot_then_every_event_in_order() {
    let hall = TestHall::new("");
    let d = hall.start();
    let events = format!("{}/api/events", d.base);

    // No token, no stream.
    let (st, body) = http("GET", &events, None, None);
    assert_eq!((st, &body["code"]), (401, &json!("unauthorized")), "{body}");
    let (st, _) = http("GET", &format!("{events}?token=wrong-token"), None, None);
    assert_eq!(st, 401);

    let a = Display::connect(&events, Some(&window_token(3)));
    let (kind, snap) = a.next();
    assert_eq!(kind, "snapshot");
    assert_eq!(snap["hall"], "测试大厅");
    assert_eq!(snap["waiting"], json!([]));

    let (st, _) = d.post("/api/tickets", MANAGER, json!({ "service": "civil" }));
    assert_eq!(st, 201);
    d.post(
        "/api/tickets",
        MANAGER,
        json!({ "service": "civil", "lane": "priority", "reason": "测试" }),
    );
    let (st, c) = d.post("/api/windows/1/call", &window_token(1), json!({}));
    assert_eq!((st, c["number"].as_str()), (200, Some("GA001")));
    let (st, c) = d.post("/api/windows/2/call", &window_token(2), json!({}));
    assert_eq!((st, c["number"].as_str()), (200, Some("A001")));
    // A staff note may name a person: it must never reach a display.
    let (st, _) = d.post(
        "/api/windows/1/transfer",
        &window_token(1),
        json!({ "service": "medical", "window": 3, "note": "张三 需补材料" }),
    );
    assert_eq!(st, 200);

    let expected = [
        ("issued", "A001", "normal", "civil", None),
        ("issued", "GA001", "priority", "civil", None),
        ("called", "GA001", "priority", "civil", Some(1)),
        ("called", "A001", "normal", "civil", Some(2)),
        ("transferred", "GA001", "priority", "medical", Some(3)),
    ];
    for (kind, number, lane, service, window) in expected {
        let (k, data) = a.next();
        assert_eq!(k, kind, "{data}");
        assert_eq!(data["kind"], kind, "{data}");
        let t = &data["ticket"];
        assert_eq!(t["number"], number, "{data}");
        assert_eq!(t["lane"], lane, "{data}");
        assert_eq!(t["service"], service, "{data}");
        assert_eq!(t["window"], json!(window), "{data}");
        assert!(data["at"].is_i64(), "{data}");
        if kind == "called" {
            assert_eq!(data["window"], json!(window), "{data}");
            assert!(data["reason"].is_string(), "{data}");
        }
        assert!(!data.to_string().contains("张三"), "{data}");
        assert!(data.get("note").is_none(), "{data}");
    }

    // A display connecting later (with ?token=, as a browser's EventSource
    // would) starts from the state as it is now.
    let b = Display::connect(&format!("{events}?token={}", window_token(1)), None);
    let (kind, snap) = b.next();
    assert_eq!(kind, "snapshot");
    let waiting: Vec<&str> = snap["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_str().unwrap())
        .collect();
    assert_eq!(waiting, ["GA001"], "{snap}");
    let w2 = snap["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["number"] == 2)
        .unwrap();
    assert_eq!(w2["current"], "A001", "{snap}");

    // Both see what happens next, the window events included.
    d.post("/api/windows/2/pause", &window_token(2), json!({}));
    let (st, _) = d.post("/api/windows/3/call", &window_token(3), json!({}));
    assert_eq!(st, 200);
    for disp in [&a, &b] {
        let (k, data) = disp.next();
        assert_eq!(
            (k.as_str(), &data["window"]),
            ("paused", &json!(2)),
            "{data}"
        );
        assert!(data.get("ticket").is_none(), "{data}");
        let (k, data) = disp.next();
        assert_eq!(k, "called", "{data}");
        assert_eq!(data["ticket"]["number"], "GA001");
        assert_eq!(data["ticket"]["window"], 3);
    }
}

#[test]
fn sigterm_ends_open_event_streams_and_the_daemon_exits() {
    let hall = TestHall::new("");
    let d = hall.start();
    let a = Display::connect(&format!("{}/api/events", d.base), Some(MANAGER));
    assert_eq!(a.next().0, "snapshot");
    let status = d.terminate(Duration::from_secs(20));
    assert!(
        status.is_some_and(|s| s.success()),
        "an open event stream must not hold up a graceful shutdown: {status:?}"
    );
    // The stream ended: the reader thread closed its channel.
    assert!(matches!(
        a.rx.recv_timeout(WAIT),
        Err(mpsc::RecvTimeoutError::Disconnected)
    ));
}

/// A hall display gets a token of its own (`[api] display_token`): it
/// follows the stream, and nothing else — no call, no queue, no case, no
/// figures — so a stolen display token cannot act for a window.
#[test]
fn the_display_token_follows_the_stream_and_can_do_nothing_else() {
    const DISPLAY: &str = "test-display-token-0001";
    let hall = TestHall::new(&format!("display_token = \"{DISPLAY}\"\n"));
    // `extra` lands after [api]: the key belongs to it.
    let d = hall.start();
    let display = Display::connect(&format!("{}/api/events", d.base), Some(DISPLAY));
    let (kind, _) = display.next();
    assert_eq!(kind, "snapshot");
    d.post("/api/tickets", MANAGER, json!({ "service": "civil" }));
    let (kind, data) = display.next();
    assert_eq!(kind, "issued");
    assert_eq!(data["ticket"]["number"], "A001");
    for (method, path) in [
        ("POST", "/api/windows/1/call"),
        ("POST", "/api/tickets"),
        ("GET", "/api/queue"),
        ("GET", "/api/cases"),
        ("GET", "/api/stats"),
        ("GET", "/api/tickets/A001"),
    ] {
        let body = (method == "POST").then(|| json!({ "service": "civil" }));
        let (st, e) = http(method, &format!("{}{path}", d.base), Some(DISPLAY), body);
        assert_eq!(st, 403, "{method} {path}: {e}");
        assert_eq!(e["code"], "forbidden", "{e}");
    }
    // The same token for a window is refused when the file is read.
    let bad = TestHall::new(&format!("display_token = \"{}\"\n", window_token(1)));
    let (st, _, err) = bad.cli(&["config", "check"]);
    assert!(!st.success());
    assert!(
        err.contains("api.display_token") && err.contains("windows[0].token"),
        "{err}"
    );
}
