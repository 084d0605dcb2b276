//! What the hall display knows, kept from the daemon's event stream: a
//! snapshot, then one event at a time. Pure: no IO, time is a parameter.
//! Unknown events and fields are ignored, so a newer daemon never breaks an
//! older board.

use std::collections::{HashMap, VecDeque};

use serde::Deserialize;
use serde_json::Value;

use crate::api::QueueView;
use crate::queue::Lane;

/// How many past calls the board keeps (it shows as many as fit).
pub const RECENT: usize = 12;

/// How long a recall makes the call flash, in milliseconds.
pub const FLASH_MS: i64 = 6_000;

/// One call as the board shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Number as printed.
    pub number: String,
    /// The lane: priority calls are marked 绿波通道.
    pub lane: Lane,
    /// Service name.
    pub service_name: String,
    /// The window called to.
    pub window: u32,
}

/// Waiting counts of one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLine {
    /// Service code.
    pub code: String,
    /// Name residents read.
    pub name: String,
    /// Waiting in the priority lane.
    pub priority: usize,
    /// Waiting in the normal lane.
    pub normal: usize,
}

/// The board's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    /// Hall name (empty until the first snapshot).
    pub hall: String,
    /// Service day.
    pub day: String,
    /// Services in display order, with their waiting counts.
    pub services: Vec<ServiceLine>,
    /// The latest call first; `calls[0]` is the one shown large.
    pub calls: VecDeque<Call>,
    /// The notice line.
    pub notice: Option<String>,
    /// The hall's time zone, from the snapshot (the board's machine's own
    /// until then).
    pub timezone: Option<chrono_tz::Tz>,
    /// Whether the stream is up. While it is down the board keeps its last
    /// state and says `连接中…`.
    pub connected: bool,
    /// A recall flashes the call until this time (ms since the epoch).
    pub flash_until: Option<i64>,
    /// Waiting tickets: id → (service code, lane), for the counts.
    waiting: HashMap<u64, (String, Lane)>,
}

/// The ticket part of an event (`DisplayTicket`).
#[derive(Debug, Deserialize)]
struct Shown {
    id: u64,
    number: String,
    lane: Lane,
    service: String,
    #[serde(default)]
    service_name: String,
    window: Option<u32>,
}

impl Board {
    /// Starts over from a snapshot (the first message of every stream, and
    /// after a day rollover).
    pub fn snapshot(&mut self, v: &QueueView) {
        self.hall = v.hall.clone();
        self.day = v.day.clone();
        self.notice = v.notice.clone().filter(|n| !n.trim().is_empty());
        self.timezone = v.timezone.as_deref().and_then(|z| z.parse().ok());
        self.waiting = v
            .waiting
            .iter()
            .map(|t| (t.id, (t.service.clone(), t.lane)))
            .collect();
        self.services = v
            .services
            .iter()
            .map(|s| ServiceLine {
                code: s.code.clone(),
                name: s.name.clone(),
                priority: 0,
                normal: 0,
            })
            .collect();
        self.calls = v
            .at_windows
            .iter()
            .take(RECENT)
            .map(|c| Call {
                number: c.number.clone(),
                lane: c.lane,
                service_name: c.service_name.clone(),
                window: c.window,
            })
            .collect();
        self.flash_until = None;
        self.connected = true;
        self.recount();
    }

    /// Applies one event of the stream (`kind` is the SSE event name,
    /// `data` its JSON). Returns whether anything shown changed.
    pub fn event(&mut self, kind: &str, data: &Value, now_ms: i64) -> bool {
        let shown: Option<Shown> = data
            .get("ticket")
            .and_then(|t| serde_json::from_value(t.clone()).ok());
        let Some(t) = shown else {
            return false;
        };
        match kind {
            "issued" | "rejoined" => {
                self.waiting.insert(t.id, (t.service.clone(), t.lane));
            }
            "transferred" => {
                // Back in line, for its new service.
                self.waiting.insert(t.id, (t.service.clone(), t.lane));
            }
            "upgraded" => {
                if let Some(w) = self.waiting.get_mut(&t.id) {
                    w.1 = Lane::Priority;
                }
            }
            "cancelled" => {
                self.waiting.remove(&t.id);
            }
            "called" | "recalled" => {
                self.waiting.remove(&t.id);
                let Some(window) = data
                    .get("window")
                    .and_then(Value::as_u64)
                    .map(|w| w as u32)
                    .or(t.window)
                else {
                    return false;
                };
                let call = Call {
                    number: t.number.clone(),
                    lane: t.lane,
                    service_name: t.service_name.clone(),
                    window,
                };
                self.calls.retain(|c| c.number != call.number);
                self.calls.push_front(call);
                self.calls.truncate(RECENT);
                self.flash_until = (kind == "recalled").then_some(now_ms + FLASH_MS);
            }
            _ => return false,
        }
        self.recount();
        true
    }

    /// Whether a recall is flashing at `now_ms`.
    pub fn flashing(&self, now_ms: i64) -> bool {
        self.flash_until.is_some_and(|u| now_ms < u)
    }

    fn recount(&mut self) {
        for s in &mut self.services {
            s.priority = 0;
            s.normal = 0;
        }
        for (service, lane) in self.waiting.values() {
            if let Some(s) = self.services.iter_mut().find(|s| &s.code == service) {
                match lane {
                    Lane::Priority => s.priority += 1,
                    Lane::Normal => s.normal += 1,
                }
            }
        }
    }
}
