//! A window acts for its own window only, the green wave cannot be minted,
//! and every journal event names who did it (issue 13, part 2). Each test
//! failed on the main before: window 1's token cancelled, rejoined and
//! reprinted tickets of window 2, any window token issued priority tickets
//! with no record of who, and the journal named nobody.

mod common;

use common::{window_token, TestHall, MANAGER};
use serde_json::{json, Value};

/// The hall of the harness (windows 1: civil, 2: civil + medical, 3:
/// medical) with a printer writing to a file, so that reprints print.
fn hall() -> TestHall {
    let h = TestHall::new("");
    let printed = h.dir.path().join("printed.bin");
    std::fs::write(
        &h.config,
        std::fs::read_to_string(&h.config).unwrap()
            + &format!(
                "[devices.printer]\nuri = \"file://{}\"\n",
                printed.display()
            ),
    )
    .unwrap();
    h
}

fn number(v: &Value) -> String {
    v["number"].as_str().unwrap().to_string()
}

#[test]
fn regression_a_window_cannot_cancel_rejoin_or_reprint_another_windows_ticket() {
    let h = hall();
    let d = h.start();
    let w1 = window_token(1);
    let w2 = window_token(2);
    for _ in 0..3 {
        let (st, _) = d.post("/api/tickets", &w1, json!({"service": "civil"}));
        assert_eq!(st, 201);
    }
    // A001 is called to window 2.
    let (st, called) = d.post("/api/windows/2/call", &w2, json!({}));
    assert_eq!(st, 200, "{called}");
    let at_two = number(&called);

    // Window 1 may not cancel or reprint what is at window 2.
    for (path, body) in [
        (
            format!("/api/tickets/{at_two}/cancel"),
            json!({"reason": "本人放弃"}),
        ),
        (format!("/api/tickets/{at_two}/reprint"), json!({})),
    ] {
        let (st, body) = d.post(&path, &w1, body);
        assert_eq!(
            (st, &body["code"]),
            (403, &json!("not_your_ticket")),
            "{path}: {body}"
        );
    }
    // Window 2 marks it a no-show; window 1 may not put it back in line.
    let (st, _) = d.post("/api/windows/2/no-show", &w2, json!({}));
    assert_eq!(st, 200);
    let (st, body) = d.post(&format!("/api/tickets/{at_two}/rejoin"), &w1, json!({}));
    assert_eq!(
        (st, &body["code"]),
        (403, &json!("not_your_ticket")),
        "{body}"
    );
    // Window 2 may; the manager may do anything.
    let (st, body) = d.post(&format!("/api/tickets/{at_two}/rejoin"), &w2, json!({}));
    assert_eq!(st, 200, "{body}");
    let (st, body) = d.post(
        &format!("/api/tickets/{at_two}/reprint"),
        MANAGER,
        json!({}),
    );
    assert_eq!(st, 200, "{body}");

    // A waiting ticket of a service the window serves is its to cancel;
    // one of a service it does not serve is not (window 3 serves medical).
    let (st, body) = d.post(
        "/api/tickets/A002/cancel",
        &window_token(3),
        json!({"reason": "本人放弃"}),
    );
    assert_eq!(
        (st, &body["code"]),
        (403, &json!("not_your_ticket")),
        "{body}"
    );
    let (st, body) = d.post(
        "/api/tickets/A002/cancel",
        &w1,
        json!({"reason": "本人放弃"}),
    );
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["state"], "cancelled");
}

#[test]
fn regression_a_window_token_cannot_mint_a_green_wave_ticket() {
    let h = hall();
    let d = h.start();
    let (st, body) = d.post(
        "/api/tickets",
        &window_token(3),
        json!({"service": "civil", "lane": "priority"}),
    );
    assert_eq!(
        (st, &body["code"]),
        (403, &json!("priority_needs_identification")),
        "{body}"
    );
    // The manager needs a reason.
    let (st, body) = d.post(
        "/api/tickets",
        MANAGER,
        json!({"service": "civil", "lane": "priority"}),
    );
    assert_eq!(
        (st, &body["code"]),
        (422, &json!("reason_required")),
        "{body}"
    );
    let (_, list) = d.get("/api/tickets", MANAGER);
    assert_eq!(
        list.as_array().unwrap().len(),
        0,
        "nothing was issued: {list}"
    );

    let (st, t) = d.post(
        "/api/tickets",
        MANAGER,
        json!({"service": "civil", "lane": "priority", "reason": "行动不便，经大厅负责人核实"}),
    );
    assert_eq!(st, 201, "{t}");
    assert_eq!(t["lane"], "priority");
    // The reason is audited beside the ticket's number.
    let conn = rusqlite::Connection::open(h.data_dir().join("greenwave.db")).unwrap();
    let (actor, detail): (String, String) = conn
        .query_row(
            "SELECT actor, detail FROM audit WHERE action = 'ticket.priority' AND subject = ?1",
            [number(&t)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(actor, "manager");
    assert_eq!(detail, "行动不便，经大厅负责人核实");
}

#[test]
fn every_journal_event_names_its_actor_in_the_timeline() {
    let h = hall();
    let mut d = h.start();
    // The kiosk's keypad: a ticket without an ID card.
    d.key("1");
    common::eventually(
        std::time::Duration::from_secs(20),
        "the kiosk never issued a ticket",
        || {
            d.get("/api/tickets", MANAGER)
                .1
                .as_array()
                .is_some_and(|l| !l.is_empty())
        },
        || d.stderr(),
    );
    let (_, t) = d.post(
        "/api/tickets",
        &window_token(1),
        json!({"service": "civil"}),
    );
    assert_eq!(number(&t), "A002");
    let (st, _) = d.post("/api/windows/1/call", &window_token(1), json!({}));
    assert_eq!(st, 200);
    let (st, _) = d.post("/api/windows/1/start", MANAGER, json!({}));
    assert_eq!(st, 200);

    let actors = |n: &str| -> Vec<(String, String)> {
        let (st, v) = d.get(&format!("/api/tickets/{n}/timeline"), MANAGER);
        assert_eq!(st, 200, "{v}");
        v["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["kind"].as_str().unwrap().to_string(),
                    e["actor"].as_str().unwrap_or("-").to_string(),
                )
            })
            .collect()
    };
    let pair = |k: &str, a: &str| (k.to_string(), a.to_string());
    assert_eq!(
        actors("A001"),
        [
            pair("issued", "kiosk"),
            pair("called", "window:1"),
            pair("started", "manager")
        ]
    );
    assert_eq!(actors("A002"), [pair("issued", "window:1")]);
}
