//! The wire formats that outlive a release: the journal on disk and the
//! event stream the displays read. A journal written by the first format
//! (`tests/fixtures/journal-v1.jsonl`, made by the code of 2026-12-01)
//! still replays to the same tickets, and the stream's JSON is pinned
//! message by message, so renaming a field of the core's types can no
//! longer break old journals or the displays silently.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use greenwave::hall::{Clock, ManualClock};
use greenwave::queue::{CallPolicy, Queue, QueueConfig, ServiceDef, Timestamp, WindowDef};
use greenwave::store::Store;

fn fixture_queue_config() -> QueueConfig {
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
            WindowDef {
                number: 3,
                services: vec!["medical".into()],
            },
        ],
        priority_prefix: "G".into(),
        policy: CallPolicy::default(),
    }
}

/// Writes the fixture's journal rows into a fresh store's `events` table
/// (the test plays the old daemon that wrote them).
fn store_with_fixture_journal(dir: &std::path::Path) -> Store {
    let path = dir.join("greenwave.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let text = include_str!("fixtures/journal-v1.jsonl");
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let data: serde_json::Value = serde_json::from_str(row["data"].as_str().unwrap()).unwrap();
        conn.execute(
            "INSERT INTO events (seq, at, day, kind, ticket_id, window, data) VALUES (?1, 0, ?2, ?3, NULL, NULL, ?4)",
            rusqlite::params![
                row["seq"].as_i64().unwrap(),
                row["day"].as_str().unwrap(),
                data["kind"].as_str().unwrap(),
                row["data"].as_str().unwrap()
            ],
        )
        .unwrap();
    }
    drop(conn);
    Store::open(&path).unwrap()
}

#[test]
fn a_journal_written_by_the_first_format_still_replays() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_fixture_journal(dir.path());
    let journal = store.journal().expect("every v1 row decodes");
    assert_eq!(journal.len(), 24);
    let mut q = Queue::new(fixture_queue_config(), journal[0].day, 1);
    let mut tickets = std::collections::BTreeMap::new();
    for e in &journal {
        for t in q.apply(&e.event).tickets {
            tickets.insert(t.id, t);
        }
    }
    let got: Vec<String> = tickets
        .values()
        .map(|t| {
            format!(
                "{} {} {} {} {} {} {} {} {}",
                t.id.0,
                t.day,
                t.number,
                t.service,
                t.lane.as_str(),
                t.state.as_str(),
                t.window.map_or("-".to_string(), |w| w.to_string()),
                t.calls,
                t.transfers
            )
        })
        .collect();
    let want: Vec<&str> = include_str!("fixtures/journal-v1.tickets")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect();
    assert_eq!(got, want);
    // Today's code writes format 1 exactly as the first release did.
    for line in include_str!("fixtures/journal-v1.jsonl").lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let data = row["data"].as_str().unwrap();
        let event = greenwave::store::journal::decode(1, data).unwrap();
        assert_eq!(greenwave::store::journal::encode(&event).unwrap(), data);
    }
    // A format from a newer greenwave is refused, not misread.
    assert!(greenwave::store::journal::decode(2, "{}").is_err());
    // What the first format said of residents survives too.
    let first = tickets.values().next().unwrap();
    assert_eq!(first.token, "tokpriorityone");
    assert_eq!(first.person.as_deref(), Some("ab".repeat(32).as_str()));
    assert_eq!(first.identified.map(|i| i.as_str()), Some("id_card"));
}

/// One message of the stream: `event` and `data` exactly as sent.
fn read_message(r: &mut impl BufRead) -> (String, String) {
    let (mut event, mut data) = (String::new(), String::new());
    loop {
        let mut line = String::new();
        assert!(r.read_line(&mut line).unwrap() > 0, "stream ended");
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if !data.is_empty() {
                return (event, data);
            }
            continue;
        }
        if let Some(e) = line.strip_prefix("event:") {
            event = e.trim().to_string();
        } else if let Some(d) = line.strip_prefix("data:") {
            data.push_str(d.trim_start());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_json_is_pinned() {
    let hall = common::TestHall::new("");
    let cfg = greenwave::config::Config::load(&hall.config).unwrap();
    let t0 = Timestamp(
        chrono::DateTime::parse_from_rfc3339("2026-11-24T09:00:00+08:00")
            .unwrap()
            .timestamp_millis(),
    );
    let clock = Arc::new(ManualClock::new(t0));
    let daemon = greenwave::daemon::Daemon::start(cfg, clock.clone() as Arc<dyn Clock>)
        .await
        .unwrap();
    let addr = daemon.addr;
    let messages = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        write!(
            s,
            "GET /api/events HTTP/1.0\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
            common::MANAGER
        )
        .unwrap();
        let mut r = BufReader::new(s);
        // Skip the response head.
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
        }
        let base = format!("http://{addr}");
        let post = |path: &str, body: serde_json::Value| {
            let (st, b) = common::http(
                "POST",
                &format!("{base}{path}"),
                Some(common::MANAGER),
                Some(body),
            );
            assert!(st < 300, "{path}: {st} {b}");
        };
        let step = || clock.advance(Duration::from_secs(30));
        let mut out = vec![read_message(&mut r)];
        let expect = |n: usize, r: &mut BufReader<TcpStream>, out: &mut Vec<(String, String)>| {
            for _ in 0..n {
                out.push(read_message(r));
            }
        };
        post(
            "/api/tickets",
            serde_json::json!({"service": "civil", "lane": "priority", "reason": "测试"}),
        );
        step();
        post("/api/tickets", serde_json::json!({"service": "medical"}));
        step();
        post("/api/windows/1/call", serde_json::json!({}));
        step();
        post("/api/windows/1/recall", serde_json::json!({}));
        step();
        post("/api/windows/1/start", serde_json::json!({}));
        step();
        post(
            "/api/windows/1/transfer",
            serde_json::json!({"service": "medical", "window": 3, "note": "张三的材料"}),
        );
        step();
        post("/api/windows/2/call", serde_json::json!({}));
        step();
        post("/api/windows/2/no-show", serde_json::json!({}));
        step();
        post("/api/tickets/B001/rejoin", serde_json::json!({}));
        step();
        post("/api/windows/3/call", serde_json::json!({}));
        step();
        post("/api/windows/3/start", serde_json::json!({}));
        step();
        post("/api/windows/3/finish", serde_json::json!({}));
        step();
        post(
            "/api/tickets/B001/cancel",
            serde_json::json!({"reason": "重复取号"}),
        );
        step();
        post("/api/windows/2/pause", serde_json::json!({}));
        step();
        post("/api/windows/2/resume", serde_json::json!({}));
        expect(15, &mut r, &mut out);
        // The next day: the first request rolls the day over (this one is
        // refused after that), and a fresh snapshot follows.
        clock.advance(Duration::from_secs(24 * 3600));
        let (st, _) = common::http(
            "POST",
            &format!("{base}/api/windows/1/recall"),
            Some(common::MANAGER),
            None,
        );
        assert_eq!(st, 409);
        expect(2, &mut r, &mut out);
        post("/api/tickets", serde_json::json!({"service": "civil"}));
        expect(1, &mut r, &mut out);
        out
    })
    .await
    .unwrap();
    let text: String = messages
        .iter()
        .map(|(e, d)| format!("event: {e}\ndata: {d}\n\n"))
        .collect();
    assert!(!text.contains("张三"), "a staff note reached the displays");
    insta::assert_snapshot!(text);
    daemon.shutdown().await.unwrap();
}
