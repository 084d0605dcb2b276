//! Proof that nothing is lost: a client issues, calls and finishes tickets in
//! a loop while the real daemon is killed with SIGKILL at random moments
//! (more than 30 times) and restarted. Afterwards every acknowledged ticket
//! is there with its number, no number was issued twice, every
//! acknowledged call stuck, and the journal replays to exactly the stored
//! state (`greenwave store verify`).

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::{http, TestHall, MANAGER};
use rand::{RngExt, SeedableRng};
use serde_json::json;

const ROUNDS: usize = 35;

#[derive(Debug, Clone)]
enum Ack {
    Issued { id: u64, number: String },
    Called { number: String },
    Finished { number: String },
}

/// Runs requests against `base` until one fails to connect (the daemon was
/// killed) or `stop` is set; reports every acknowledged operation.
fn client(base: String, seed: u64, acks: mpsc::Sender<Ack>, stop: Arc<AtomicBool>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let url = |p: &str| format!("{base}{p}");
    while !stop.load(Ordering::SeqCst) {
        let choice = rng.random_range(0..10);
        let window = rng.random_range(1..=3u32);
        let (st, v) = match choice {
            0..=4 => {
                let lane = if rng.random_bool(0.4) {
                    "priority"
                } else {
                    "normal"
                };
                let service = if rng.random_bool(0.5) {
                    "civil"
                } else {
                    "medical"
                };
                http(
                    "POST",
                    &url("/api/tickets"),
                    Some(MANAGER),
                    Some(json!({ "service": service, "lane": lane, "reason": "测试" })),
                )
            }
            5..=7 => http(
                "POST",
                &url(&format!("/api/windows/{window}/call")),
                Some(MANAGER),
                None,
            ),
            _ => http(
                "POST",
                &url(&format!("/api/windows/{window}/finish")),
                Some(MANAGER),
                None,
            ),
        };
        if st == 0 {
            return; // connection refused or reset: the daemon is gone
        }
        let number = v["number"].as_str().map(str::to_string);
        let ack = match (choice, st, number) {
            (0..=4, 201, Some(number)) => Ack::Issued {
                id: v["id"].as_u64().unwrap(),
                number,
            },
            (5..=7, 200, Some(number)) => Ack::Called { number },
            (8..=9, 200, Some(number)) => Ack::Finished { number },
            _ => continue,
        };
        if acks.send(ack).is_err() {
            return;
        }
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing() {
    let hall = TestHall::new("");
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x9e3779b97f4a7c15);
    let mut acked: Vec<Ack> = Vec::new();

    for round in 0..ROUNDS {
        let d = hall.start();
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let h = {
            let base = d.base.clone();
            let stop = stop.clone();
            let seed = rng.random();
            std::thread::spawn(move || client(base, seed, tx, stop))
        };
        // Kill after a random number of acknowledged operations, while the
        // client is in the middle of its next request.
        let target = rng.random_range(1..25);
        let mut got = 0;
        while got < target {
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(a) => {
                    acked.push(a);
                    got += 1;
                }
                Err(e) => panic!(
                    "round {round}: client stalled: {e}; daemon stderr:\n{}",
                    d.stderr()
                ),
            }
        }
        d.kill();
        stop.store(true, Ordering::SeqCst);
        h.join().unwrap();
        // Acknowledgements that arrived before the kill landed still count.
        acked.extend(rx.try_iter());
    }

    let d = hall.start();
    let (st, all) = d.get("/api/tickets", MANAGER);
    assert_eq!(st, 200);
    let all = all.as_array().unwrap();
    let by_number: HashMap<&str, &serde_json::Value> = all
        .iter()
        .map(|t| (t["number"].as_str().unwrap(), t))
        .collect();
    assert_eq!(by_number.len(), all.len(), "a number was issued twice");
    let ids: HashSet<u64> = all.iter().map(|t| t["id"].as_u64().unwrap()).collect();
    assert_eq!(ids.len(), all.len(), "an id was issued twice");

    let mut issued = 0;
    for a in &acked {
        match a {
            Ack::Issued { id, number } => {
                issued += 1;
                let t = by_number
                    .get(number.as_str())
                    .unwrap_or_else(|| panic!("acknowledged ticket {number} lost"));
                assert_eq!(t["id"].as_u64(), Some(*id), "{number} changed identity");
            }
            Ack::Called { number } => {
                let st = by_number[number.as_str()]["state"].as_str().unwrap();
                assert!(
                    ["called", "done"].contains(&st),
                    "acknowledged call of {number} lost: state {st}"
                );
            }
            Ack::Finished { number } => {
                assert_eq!(
                    by_number[number.as_str()]["state"],
                    "done",
                    "finish of {number} lost"
                );
            }
        }
    }
    assert!(
        issued >= ROUNDS,
        "the test exercised too little: {issued} tickets"
    );

    // No ticket in two places: each window holds at most one ticket, and a
    // ticket at a window is at exactly that window.
    let (_, q) = d.get("/api/queue", MANAGER);
    let mut at_windows = HashSet::new();
    for w in q["windows"].as_array().unwrap() {
        if let Some(n) = w["current"].as_str() {
            assert!(at_windows.insert(n.to_string()), "{n} at two windows");
            assert_eq!(by_number[n]["window"], w["number"]);
            assert_eq!(by_number[n]["state"], "called");
        }
    }
    for t in all {
        if t["state"] == "called" {
            assert!(
                at_windows.contains(t["number"].as_str().unwrap()),
                "{t} is called but at no window"
            );
        }
    }
    drop(d);

    // The journal replays to exactly the stored state.
    let (status, out, err) = hall.cli(&["store", "verify"]);
    assert!(status.success(), "store verify failed:\n{out}\n{err}");
    assert!(out.contains("一致"), "{out}");
}
