//! `GET /metrics`: Prometheus text exposition format 0.0.4, written by hand
//! (a handful of families; no registry crate needed, and nothing to keep in
//! sync besides this file).
//!
//! - `greenwave_up` — 1 whenever the daemon answers.
//! - `greenwave_tickets_issued_total{lane,service}` — tickets issued **since
//!   the daemon started** (counted from the hall's committed events; a
//!   restart resets it to 0, which Prometheus' `rate()`/`increase()` handle
//!   as a counter reset). `service` is the service the ticket was issued for.
//! - `greenwave_calls_total{window}` — `called` events since the daemon
//!   started (a call of the next ticket or of a given number; recalls are
//!   not counted).
//! - `greenwave_waiting{lane,service}` — tickets waiting now (transferred
//!   tickets count under the service they were transferred to).
//! - `greenwave_oldest_wait_seconds{lane,service}` — how long the oldest
//!   waiting ticket has waited since it was issued; 0 when none waits.
//!
//! - `greenwave_roster_version` — the installed roster's version (0: none);
//!   `greenwave_roster_rows` — its entries.
//! - `greenwave_device_up{device}` — 1 while a configured device (`id_reader`,
//!   `pcsc`, `printer`) works as last seen, 0 after it reported a problem.
//!
//! - `greenwave_unhappy_ratings_unhandled` — unhappy ratings (不满意,
//!   非常不满意) waiting for the manager's follow-up.
//!
//! - `greenwave_kiosk_up{kiosk}`, `greenwave_kiosk_last_contact_seconds{kiosk}`,
//!   `greenwave_kiosk_device_up{kiosk,device}` — the hall's kiosk machines
//!   (`[[kiosks]]`): reporting or not (20 s), since when, their devices.
//!
//! Every configured service × lane and every configured window is always
//! present, at 0 if need be, so that rates and alerts have a series to work
//! on from the first scrape.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::error::TryRecvError;
use tokio::sync::{broadcast, watch};

use super::{with_hall, ApiError, AppState, ErrorBody};
use crate::config::Config;
use crate::hall::{Committed, Hall};
use crate::queue::{Event, Lane};

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How often the counters read the hall's events when nobody scrapes, so
/// that the broadcast channel (1,024 events) never overflows.
const DRAIN_EVERY: Duration = Duration::from_secs(5);

/// The counters, fed from the hall's committed events.
pub(super) struct Counters {
    rx: broadcast::Receiver<Arc<Committed>>,
    issued: BTreeMap<(Lane, String), u64>,
    calls: BTreeMap<u32, u64>,
}

impl Counters {
    /// Counters at 0 for every configured service, lane and window,
    /// subscribed to `hall`'s events from now on.
    pub(super) fn new(hall: &Hall, cfg: &Config) -> Counters {
        let mut issued = BTreeMap::new();
        for s in &cfg.services {
            for lane in [Lane::Priority, Lane::Normal] {
                issued.insert((lane, s.code.clone()), 0);
            }
        }
        Counters {
            rx: hall.subscribe(),
            issued,
            calls: cfg.windows.iter().map(|w| (w.number, 0)).collect(),
        }
    }

    /// Counts every event received so far. Events are announced before the
    /// hall operation returns, so after this every operation that finished
    /// before the call is counted.
    pub(super) fn drain(&mut self) {
        loop {
            let next = self.rx.try_recv();
            match next.as_deref().map(|c| &c.event) {
                Ok(Event::Issued { ticket }) => {
                    *self
                        .issued
                        .entry((ticket.lane, ticket.service.clone()))
                        .or_default() += 1;
                }
                Ok(Event::Called { window, .. }) => *self.calls.entry(*window).or_default() += 1,
                Ok(_) => {}
                Err(TryRecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "metrics fell behind the hall's events; counters undercount"
                    )
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => return,
            }
        }
    }
}

/// Drains the counters every few seconds until the server stops.
pub(super) async fn drain_periodically(
    counters: Arc<Mutex<Counters>>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(DRAIN_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        crate::sync::lock(&counters).drain();
    }
}

/// Prometheus metrics (text format 0.0.4). No token needed.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses(
        (status = 200, description = "greenwave_up, greenwave_tickets_issued_total{lane,service}, \
            greenwave_calls_total{window} (both since the daemon started), \
            greenwave_waiting{lane,service}, greenwave_oldest_wait_seconds{lane,service}",
            content_type = "text/plain; version=0.0.4", body = String),
        (status = 503, description = "The hall is unusable", body = ErrorBody),
    ))]
pub(super) async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (issued, calls) = {
        let mut c = crate::sync::lock(&state.counters);
        c.drain();
        (c.issued.clone(), c.calls.clone())
    };
    let cfg = state.cfg.clone();
    let (gauges, roster, unhappy) = with_hall(&state, move |h| {
        let roster = h
            .store()
            .roster_state()?
            .map_or((0, 0), |r| (r.version, r.rows));
        let unhappy = h.store().unhandled_unhappy()?;
        Ok((Gauges::of(h, &cfg), roster, unhappy))
    })
    .await?;
    let mut text = render(&issued, &calls, &gauges);
    family(
        &mut text,
        "greenwave_roster_version",
        "gauge",
        "Version of the installed roster; 0 when none.",
    );
    let _ = writeln!(text, "greenwave_roster_version {}", roster.0);
    family(
        &mut text,
        "greenwave_roster_rows",
        "gauge",
        "Entries of the installed roster.",
    );
    let _ = writeln!(text, "greenwave_roster_rows {}", roster.1);
    family(
        &mut text,
        "greenwave_unhappy_ratings_unhandled",
        "gauge",
        "Ratings of 不满意 or 非常不满意 the manager has not marked handled yet.",
    );
    let _ = writeln!(text, "greenwave_unhappy_ratings_unhandled {unhappy}");
    if let Some(k) = &state.kiosk {
        let d = k.devices().snapshot();
        family(
            &mut text,
            "greenwave_device_up",
            "gauge",
            "1 while a configured device works as last seen, 0 after it reported a problem.",
        );
        for (device, up) in d {
            let _ = writeln!(
                text,
                "greenwave_device_up{{device=\"{device}\"}} {}",
                u8::from(up)
            );
        }
    }
    kiosk_machines(&mut text, &state.fleet.views(std::time::Instant::now()));
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response())
}

/// The hall's kiosk machines (`[[kiosks]]`), if it has any.
fn kiosk_machines(text: &mut String, machines: &[super::fleet::MachineView]) {
    if machines.is_empty() {
        return;
    }
    family(
        text,
        "greenwave_kiosk_up",
        "gauge",
        "1 while a kiosk machine reports (heard from within 20 s), 0 otherwise.",
    );
    for m in machines {
        let _ = writeln!(
            text,
            "greenwave_kiosk_up{{kiosk=\"{}\"}} {}",
            m.id,
            u8::from(m.up)
        );
    }
    family(
        text,
        "greenwave_kiosk_last_contact_seconds",
        "gauge",
        "Seconds since a kiosk machine was last heard from; absent if never.",
    );
    for m in machines {
        if let Some(s) = m.seconds_since {
            let _ = writeln!(
                text,
                "greenwave_kiosk_last_contact_seconds{{kiosk=\"{}\"}} {s}",
                m.id
            );
        }
    }
    family(
        text,
        "greenwave_kiosk_device_up",
        "gauge",
        "A live kiosk machine's devices as it last reported them.",
    );
    for m in machines {
        for (device, up) in &m.devices {
            let _ = writeln!(
                text,
                "greenwave_kiosk_device_up{{kiosk=\"{}\",device=\"{device}\"}} {}",
                m.id,
                u8::from(*up)
            );
        }
    }
}

/// Waiting count and oldest wait in seconds, per (lane, service).
struct Gauges(BTreeMap<(Lane, String), (usize, f64)>);

impl Gauges {
    fn of(h: &Hall, cfg: &Config) -> Gauges {
        let q = h.queue();
        let now = h.now();
        let mut g = BTreeMap::new();
        for s in &cfg.services {
            for lane in [Lane::Priority, Lane::Normal] {
                g.insert(
                    (lane, s.code.clone()),
                    (q.waiting_count(&s.code, lane), 0.0),
                );
            }
        }
        for t in q.waiting() {
            let wait = now.since(t.issued_at).as_secs_f64();
            let e = g.entry((t.lane, t.service.clone())).or_insert((0, 0.0_f64));
            e.1 = e.1.max(wait);
        }
        Gauges(g)
    }
}

fn render(
    issued: &BTreeMap<(Lane, String), u64>,
    calls: &BTreeMap<u32, u64>,
    gauges: &Gauges,
) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "greenwave_up",
        "gauge",
        "1 when the daemon answers.",
    );
    out.push_str("greenwave_up 1\n");

    family(
        &mut out,
        "greenwave_tickets_issued_total",
        "counter",
        "Tickets issued since the daemon started, by lane and service.",
    );
    for ((lane, service), n) in issued {
        let _ = writeln!(
            out,
            "greenwave_tickets_issued_total{{lane=\"{}\",service=\"{}\"}} {n}",
            lane.as_str(),
            escape(service)
        );
    }

    family(
        &mut out,
        "greenwave_calls_total",
        "counter",
        "Tickets called (recalls excluded) since the daemon started, by window.",
    );
    for (window, n) in calls {
        let _ = writeln!(out, "greenwave_calls_total{{window=\"{window}\"}} {n}");
    }

    family(
        &mut out,
        "greenwave_waiting",
        "gauge",
        "Tickets waiting now, by lane and service.",
    );
    for ((lane, service), (n, _)) in &gauges.0 {
        let _ = writeln!(
            out,
            "greenwave_waiting{{lane=\"{}\",service=\"{}\"}} {n}",
            lane.as_str(),
            escape(service)
        );
    }

    family(
        &mut out,
        "greenwave_oldest_wait_seconds",
        "gauge",
        "Seconds the oldest waiting ticket has waited since issue; 0 when none waits.",
    );
    for ((lane, service), (_, secs)) in &gauges.0 {
        let _ = writeln!(
            out,
            "greenwave_oldest_wait_seconds{{lane=\"{}\",service=\"{}\"}} {secs:.3}",
            lane.as_str(),
            escape(service)
        );
    }
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a label value as the text format requires.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape("a\nb"), "a\\nb");
    }

    #[test]
    fn every_family_has_help_and_type() {
        let mut issued = BTreeMap::new();
        issued.insert((Lane::Priority, "civil".to_string()), 2);
        let calls = BTreeMap::from([(1, 3)]);
        let mut g = BTreeMap::new();
        g.insert((Lane::Normal, "civil".to_string()), (4, 12.5));
        let text = render(&issued, &calls, &Gauges(g));
        for name in [
            "greenwave_up",
            "greenwave_tickets_issued_total",
            "greenwave_calls_total",
            "greenwave_waiting",
            "greenwave_oldest_wait_seconds",
        ] {
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
        }
        assert!(text
            .contains("greenwave_tickets_issued_total{lane=\"priority\",service=\"civil\"} 2\n"));
        assert!(text.contains("greenwave_calls_total{window=\"1\"} 3\n"));
        assert!(text
            .contains("greenwave_oldest_wait_seconds{lane=\"normal\",service=\"civil\"} 12.500\n"));
    }
}
