//! `GET /metrics` of the real daemon: Prometheus text format, no token,
//! values that follow issuing and calling.

mod common;

use std::collections::BTreeMap;

use common::{get_text, window_token, Daemon, TestHall, MANAGER};
use serde_json::json;

/// Parses the text exposition format: `# HELP`/`# TYPE` comments, and
/// samples `name{labels} value` or `name value`. Panics on anything else.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    let mut typed = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix("# ") {
            let mut parts = c.splitn(3, ' ');
            let (kw, name) = (parts.next().unwrap(), parts.next().unwrap());
            assert!(kw == "HELP" || kw == "TYPE", "bad comment: {line}");
            if kw == "TYPE" {
                let kind = parts.next().unwrap();
                assert!(["counter", "gauge"].contains(&kind), "{line}");
                typed.push(name.to_string());
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let name = series.split('{').next().unwrap();
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                let inner = labels
                    .strip_prefix('{')
                    .and_then(|l| l.strip_suffix('}'))
                    .unwrap_or_else(|| panic!("bad labels: {line}"));
                for pair in inner.split(',') {
                    let (k, v) = pair.split_once('=').unwrap_or_else(|| panic!("{line}"));
                    assert!(k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
                    assert!(
                        v.len() >= 2 && v.starts_with('"') && v.ends_with('"'),
                        "{line}"
                    );
                }
            }
        }
        assert!(
            typed.iter().any(|t| t == name),
            "{name} has no # TYPE before it"
        );
        let v: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        assert!(
            samples.insert(series.to_string(), v).is_none(),
            "duplicate: {line}"
        );
    }
    samples
}

fn scrape(d: &Daemon) -> BTreeMap<String, f64> {
    let (st, ct, text) = get_text(&format!("{}/metrics", d.base), None);
    assert_eq!(st, 200, "no token needed: {text}");
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    parse(&text)
}

fn issued(lane: &str, service: &str) -> String {
    format!("greenwave_tickets_issued_total{{lane=\"{lane}\",service=\"{service}\"}}")
}

fn waiting(lane: &str, service: &str) -> String {
    format!("greenwave_waiting{{lane=\"{lane}\",service=\"{service}\"}}")
}

fn oldest(lane: &str, service: &str) -> String {
    format!("greenwave_oldest_wait_seconds{{lane=\"{lane}\",service=\"{service}\"}}")
}

#[test]
fn metrics_parse_and_follow_issuing_and_calling() {
    let hall = TestHall::new("");
    let d = hall.start();
    let m = scrape(&d);
    assert_eq!(m["greenwave_up"], 1.0);
    // Every configured series is there from the start, at 0.
    for lane in ["priority", "normal"] {
        for service in ["civil", "medical"] {
            assert_eq!(m[&issued(lane, service)], 0.0);
            assert_eq!(m[&waiting(lane, service)], 0.0);
            assert_eq!(m[&oldest(lane, service)], 0.0);
        }
    }
    for w in 1..=3 {
        assert_eq!(m[&format!("greenwave_calls_total{{window=\"{w}\"}}")], 0.0);
    }

    for body in [
        json!({ "service": "civil" }),
        json!({ "service": "civil" }),
        json!({ "service": "medical", "lane": "priority", "reason": "测试" }),
    ] {
        let (st, _) = d.post("/api/tickets", MANAGER, body);
        assert_eq!(st, 201);
    }
    let m = scrape(&d);
    assert_eq!(m[&issued("normal", "civil")], 2.0);
    assert_eq!(m[&issued("priority", "medical")], 1.0);
    assert_eq!(m[&issued("priority", "civil")], 0.0);
    assert_eq!(m[&waiting("normal", "civil")], 2.0);
    assert_eq!(m[&waiting("priority", "medical")], 1.0);
    assert!(m[&oldest("normal", "civil")] >= 0.0);

    let (st, c) = d.post("/api/windows/1/call", &window_token(1), json!({}));
    assert_eq!((st, c["number"].as_str()), (200, Some("A001")));
    let (st, c) = d.post("/api/windows/3/call", &window_token(3), json!({}));
    assert_eq!((st, c["number"].as_str()), (200, Some("GB001")));
    let m = scrape(&d);
    assert_eq!(m["greenwave_calls_total{window=\"1\"}"], 1.0);
    assert_eq!(m["greenwave_calls_total{window=\"2\"}"], 0.0);
    assert_eq!(m["greenwave_calls_total{window=\"3\"}"], 1.0);
    assert_eq!(m[&waiting("normal", "civil")], 1.0);
    assert_eq!(m[&waiting("priority", "medical")], 0.0);
    assert_eq!(m[&oldest("priority", "medical")], 0.0, "none waiting");
    // Counters only go up.
    assert_eq!(m[&issued("normal", "civil")], 2.0);
}
