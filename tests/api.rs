//! The staff API of the real daemon: tokens, errors, the calling rules over
//! HTTP, concurrent windows, restart and graceful shutdown.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{http, window_token, TestHall, MANAGER};
use serde_json::json;

#[test]
fn issue_call_finish_over_http() {
    let hall = TestHall::new("");
    let d = hall.start();
    let (st, t) = d.post("/api/tickets", MANAGER, json!({ "service": "civil" }));
    assert_eq!(st, 201, "{t}");
    assert_eq!(t["number"], "A001");
    assert_eq!(t["state"], "waiting");
    assert_eq!(t["service_name"], "民政救助");
    let (_, p) = d.post(
        "/api/tickets",
        MANAGER,
        json!({ "service": "civil", "lane": "priority", "reason": "测试" }),
    );
    assert_eq!(p["number"], "GA001");
    assert_eq!(p["ahead"], 0);

    let w1 = window_token(1);
    let (st, c) = d.post("/api/windows/1/call", &w1, json!({}));
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["number"], "GA001", "priority first");
    assert_eq!(c["window"], 1);
    let (st, _) = d.post("/api/windows/1/start", &w1, json!({}));
    assert_eq!(st, 200);
    let (st, f) = d.post("/api/windows/1/finish", &w1, json!({}));
    assert_eq!(st, 200);
    assert_eq!(f["state"], "done");

    let (_, q) = d.get("/api/queue", &w1);
    assert_eq!(q["waiting"].as_array().unwrap().len(), 1);
    assert_eq!(q["services"][0]["normal_waiting"], 1);

    let (st, h) = d.get("/api/tickets/GA001", &w1);
    assert_eq!(st, 200);
    let kinds: Vec<&str> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["issued", "called", "started", "finished"]);
}

#[test]
fn tokens_are_checked() {
    let hall = TestHall::new("");
    let d = hall.start();
    let (st, body) = http("GET", &format!("{}/api/queue", d.base), None, None);
    assert_eq!(st, 401);
    assert!(body["error"].as_str().unwrap().contains("令牌"), "{body}");
    let (st, _) = d.get("/api/queue", "not-a-real-token-at-all");
    assert_eq!(st, 401);
    // Window 1's token cannot act for window 2.
    let (st, body) = d.post("/api/windows/2/call", &window_token(1), json!({}));
    assert_eq!(st, 403, "{body}");
    assert_eq!(body["code"], "forbidden");
    // The manager can.
    let (st, body) = d.post("/api/windows/2/call", MANAGER, json!({}));
    assert_eq!(st, 404, "nothing waiting: {body}");
    assert_eq!(body["code"], "nothing_waiting");
}

#[test]
fn bad_input_gets_a_clear_error_never_a_500() {
    let hall = TestHall::new("");
    let d = hall.start();
    let (st, b) = d.post("/api/tickets", MANAGER, json!({ "service": "tax" }));
    assert_eq!(st, 422);
    assert!(b["error"].as_str().unwrap().contains("tax"), "{b}");
    let (st, b) = d.post("/api/tickets", MANAGER, json!({ "servic": "civil" }));
    assert_eq!(st, 422, "{b}");
    assert!(b["error"].as_str().unwrap().contains("servic"), "{b}");
    let (st, b) = d.post(
        "/api/tickets",
        MANAGER,
        json!({ "service": "civil", "lane": "vip" }),
    );
    assert_eq!(st, 422, "{b}");
    let (st, b) = d.post("/api/windows/abc/call", MANAGER, json!({}));
    assert_eq!(st, 400, "{b}");
    let (st, b) = d.post("/api/windows/9/call", MANAGER, json!({}));
    assert_eq!(st, 404, "{b}");
    assert_eq!(b["code"], "unknown_window");
    let (st, b) = d.post("/api/windows/1/finish", MANAGER, json!({}));
    assert_eq!(st, 409, "{b}");
    let (st, b) = d.post("/api/windows/1/transfer", MANAGER, json!({ "window": "x" }));
    assert_eq!(st, 422, "{b}");
    let (st, b) = d.get("/api/nope", MANAGER);
    assert_eq!(st, 404, "{b}");
}

#[test]
fn call_a_number_transfer_no_show_and_rejoin() {
    let hall = TestHall::new("");
    let d = hall.start();
    for _ in 0..3 {
        d.post("/api/tickets", MANAGER, json!({ "service": "civil" }));
    }
    let w2 = window_token(2);
    let (st, c) = d.post("/api/windows/2/call", &w2, json!({ "number": "A003" }));
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["number"], "A003");
    let (st, t) = d.post(
        "/api/windows/2/transfer",
        &w2,
        json!({ "service": "medical", "window": 3, "note": "需医保审核" }),
    );
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["state"], "transferred");
    assert_eq!(t["target_window"], 3);
    let w3 = window_token(3);
    let (_, c) = d.post("/api/windows/3/call", &w3, json!({}));
    assert_eq!(c["number"], "A003");
    let (_, n) = d.post("/api/windows/3/no-show", &w3, json!({}));
    assert_eq!(n["state"], "no_show");
    let (st, r) = d.post("/api/tickets/A003/rejoin", &w3, json!({}));
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["state"], "transferred");
    let (_, c) = d.post("/api/windows/3/call", &w3, json!({}));
    assert_eq!(c["number"], "A003");
}

#[test]
fn pause_and_resume_a_window() {
    let hall = TestHall::new("");
    let d = hall.start();
    d.post("/api/tickets", MANAGER, json!({ "service": "civil" }));
    let w1 = window_token(1);
    let (st, w) = d.post("/api/windows/1/pause", &w1, json!({}));
    assert_eq!(st, 200);
    assert_eq!(w["paused"], true);
    let (st, b) = d.post("/api/windows/1/call", &w1, json!({}));
    assert_eq!(st, 409);
    assert_eq!(b["code"], "window_paused");
    d.post("/api/windows/1/resume", &w1, json!({}));
    let (st, _) = d.post("/api/windows/1/call", &w1, json!({}));
    assert_eq!(st, 200);
}

#[test]
fn two_windows_calling_at_once_never_get_the_same_ticket() {
    let hall = TestHall::new("");
    let d = hall.start();
    let base = d.base.clone();
    for round in 0..100 {
        for _ in 0..2 {
            let (st, _) = d.post("/api/tickets", MANAGER, json!({ "service": "civil" }));
            assert_eq!(st, 201);
        }
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let handles: Vec<_> = [1u32, 2]
            .into_iter()
            .map(|w| {
                let base = base.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let tok = window_token(w);
                    barrier.wait();
                    let (st, c) = http(
                        "POST",
                        &format!("{base}/api/windows/{w}/call"),
                        Some(&tok),
                        None,
                    );
                    assert_eq!(st, 200, "{c}");
                    let n = c["number"].as_str().unwrap().to_string();
                    let (st, _) = http(
                        "POST",
                        &format!("{base}/api/windows/{w}/finish"),
                        Some(&tok),
                        None,
                    );
                    assert_eq!(st, 200);
                    n
                })
            })
            .collect();
        let got: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_ne!(got[0], got[1], "round {round}: both windows got {}", got[0]);
    }
    let (_, all) = d.get("/api/tickets", MANAGER);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 200);
    assert!(all.iter().all(|t| t["state"] == "done" && t["calls"] == 1));
    let numbers: HashSet<&str> = all.iter().map(|t| t["number"].as_str().unwrap()).collect();
    assert_eq!(numbers.len(), 200);
}

#[test]
fn sigterm_shuts_down_cleanly_and_a_restart_keeps_the_queue() {
    let hall = TestHall::new("");
    let d = hall.start();
    d.post(
        "/api/tickets",
        MANAGER,
        json!({ "service": "civil", "lane": "priority", "reason": "测试" }),
    );
    d.post("/api/tickets", MANAGER, json!({ "service": "medical" }));
    d.post("/api/windows/1/call", MANAGER, json!({}));
    let (_, before) = d.get("/api/tickets", MANAGER);
    let status = d
        .terminate(Duration::from_secs(5))
        .expect("exits within 5 s of SIGTERM");
    assert!(status.success(), "{status:?}");
    let d = hall.start();
    let (_, after) = d.get("/api/tickets", MANAGER);
    assert_eq!(before, after);
    let (_, t) = d.post(
        "/api/tickets",
        MANAGER,
        json!({ "service": "civil", "lane": "priority", "reason": "测试" }),
    );
    assert_eq!(t["number"], "GA002", "numbering continues after a restart");
}

#[test]
fn healthz_answers_without_a_token() {
    let hall = TestHall::new("");
    let d = hall.start();
    let (st, h) = http("GET", &format!("{}/healthz", d.base), None, None);
    assert_eq!(st, 200);
    assert_eq!(h["status"], "ok");
}

/// A ticket is withdrawn only with a reason; the journal keeps who did it
/// and why, across a restart, and the manager sees today's cancellations
/// newest first (issue 19).
#[test]
fn a_ticket_is_cancelled_with_a_reason_that_the_journal_keeps_with_who() {
    let hall = TestHall::new("");
    let d = hall.start();
    for _ in 0..2 {
        let (st, _) = d.post("/api/tickets", MANAGER, json!({ "service": "civil" }));
        assert_eq!(st, 201);
    }
    let w1 = window_token(1);
    for body in [
        json!({}),
        json!({ "reason": "  " }),
        json!({ "reason": "长".repeat(101) }),
    ] {
        let (st, e) = d.post("/api/tickets/A001/cancel", &w1, body);
        assert_eq!(st, 422, "{e}");
        assert!(e["error"].as_str().unwrap().contains("原因"), "{e}");
    }
    let (_, t) = d.get("/api/tickets/A001", &w1);
    assert_eq!(
        t["ticket"]["state"], "waiting",
        "a refused cancel changes nothing"
    );

    let (st, t) = d.post(
        "/api/tickets/A001/cancel",
        &w1,
        json!({ "reason": "本人放弃" }),
    );
    assert_eq!((st, t["state"].as_str()), (200, Some("cancelled")), "{t}");
    let (st, _) = d.post(
        "/api/tickets/A002/cancel",
        MANAGER,
        json!({ "reason": "重复取号" }),
    );
    assert_eq!(st, 200);

    let (st, e) = d.get("/api/cancellations", &w1);
    assert_eq!(
        st, 403,
        "a window does not see the hall's cancellations: {e}"
    );
    d.terminate(Duration::from_secs(5))
        .expect("exits on SIGTERM");
    let d = hall.start();
    let (st, list) = d.get("/api/cancellations", MANAGER);
    assert_eq!(st, 200, "{list}");
    let rows: Vec<(&str, &str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["number"].as_str().unwrap(),
                c["by"].as_str().unwrap(),
                c["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("A002", "manager", "重复取号"),
            ("A001", "window:1", "本人放弃")
        ]
    );
    let (_, h) = d.get("/api/tickets/A001", MANAGER);
    let last = h["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["kind"], &last["reason"]),
        (&json!("cancelled"), &json!("本人放弃")),
        "{h}"
    );
}

/// A port already taken: `run` stops at once and says what to do, in
/// English for ops (not behind a Chinese prefix).
#[test]
fn a_port_in_use_is_refused_saying_what_to_do() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let hall = TestHall::new("");
    let text = std::fs::read_to_string(&hall.config)
        .unwrap()
        .replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    std::fs::write(&hall.config, text).unwrap();
    let (st, _, err) = hall.cli(&["run"]);
    assert!(!st.success());
    assert!(
        err.contains(&format!(
            "error: cannot listen on 127.0.0.1:{port} ([api] listen)"
        )),
        "{err}"
    );
    assert!(err.contains("set [api] listen to a free port"), "{err}");
}
