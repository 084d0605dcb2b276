//! What the hall board and the window screens know, kept from the daemon's
//! event stream: a snapshot, then one event at a time. Pure: no IO, time is
//! a parameter. Unknown events and fields are ignored, so a newer daemon
//! never breaks an older board.
//!
//! Whom a window calls next is not in the stream: it is worked out here by
//! the queue core's own call policy ([`Queue::next_for`]) over what the
//! stream says (the waiting tickets with their issue times, the window's
//! services and priority streak, the hall's `[call_policy]`), so a window
//! screen and the window's actual next call agree unless staff call a
//! number by hand.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::api::{CallPolicyView, QueueView};
use crate::queue::{
    CallPolicy, Event, Lane, Queue, QueueConfig, Ticket, TicketId, TicketState, Timestamp,
    WindowDef, WindowState,
};

/// Most tickets at windows the board keeps: one per window, and window
/// numbers go from 1 to 999.
pub const MAX_CALLS: usize = 999;

/// How long a recall makes the call flash, in milliseconds.
pub const FLASH_MS: i64 = 6_000;

/// A ticket at a window (called or being served), as the screens show it.
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
    /// Whether the window has started serving it (else it is called).
    pub serving: bool,
}

/// A window as the screens know it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowLine {
    /// Paused windows call nothing.
    pub paused: bool,
    /// Codes of the services it calls (empty: the daemon did not say).
    pub services: Vec<String>,
    /// Consecutive priority calls (the call policy's streak rule).
    pub priority_streak: u32,
}

/// A waiting ticket a window would call next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Next {
    /// Number as printed.
    pub number: String,
    /// Its lane.
    pub lane: Lane,
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
    /// Waiting in the appointment lane.
    pub appointment: usize,
    /// Waiting in the normal lane.
    pub normal: usize,
}

/// A recall flashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flash {
    /// The window whose call was recalled.
    pub window: u32,
    /// Until when, ms since the epoch.
    pub until: i64,
}

/// The board's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    /// Hall name (empty until the first snapshot).
    pub hall: String,
    /// Service day (empty until the first snapshot).
    pub day: String,
    /// Services in display order, with their waiting counts.
    pub services: Vec<ServiceLine>,
    /// Tickets at a window now, one per window, the most recently called
    /// first: `calls[0]` is the call the hall just heard.
    pub calls: VecDeque<Call>,
    /// The hall's windows, from the snapshot.
    pub windows: BTreeMap<u32, WindowLine>,
    /// The hall's call policy (`None`: the daemon did not say; the next
    /// tickets are then simply the oldest, priority lane first).
    pub policy: Option<CallPolicyView>,
    /// The notice line.
    pub notice: Option<String>,
    /// The hall's time zone, from the snapshot (the board's machine's own
    /// until then).
    pub timezone: Option<chrono_tz::Tz>,
    /// Whether the stream is up. While it is down the board keeps its last
    /// state and says `连接中…`.
    pub connected: bool,
    /// The last recall, flashing for [`FLASH_MS`].
    pub flash: Option<Flash>,
    /// Waiting tickets by id.
    waiting: HashMap<u64, Waiting>,
    /// Issue times by number (a ticket's place in line when it comes back
    /// after a transfer or a no-show).
    issued: HashMap<String, i64>,
}

/// A waiting ticket, as far as counts and the call order need it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Waiting {
    number: String,
    service: String,
    lane: Lane,
    issued_at_ms: i64,
    slot_at_ms: Option<i64>,
    target_window: Option<u32>,
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
    #[serde(default)]
    slot_at_ms: Option<i64>,
}

fn window_of(data: &Value, key: &str) -> Option<u32> {
    data.get(key)
        .and_then(Value::as_u64)
        .and_then(|w| u32::try_from(w).ok())
}

impl Board {
    /// Starts over from a snapshot (the first message of every stream, and
    /// after a day rollover).
    pub fn snapshot(&mut self, v: &QueueView) {
        self.hall = v.hall.clone();
        self.day = v.day.clone();
        self.notice = v.notice.clone().filter(|n| !n.trim().is_empty());
        self.timezone = v.timezone.as_deref().and_then(|z| z.parse().ok());
        self.policy = v.call_policy;
        self.waiting = v
            .waiting
            .iter()
            .map(|t| {
                let w = Waiting {
                    number: t.number.clone(),
                    service: t.service.clone(),
                    lane: t.lane,
                    issued_at_ms: t.issued_at_ms,
                    slot_at_ms: t.slot_at_ms,
                    target_window: t.target_window,
                };
                (t.id, w)
            })
            .collect();
        self.issued = v
            .waiting
            .iter()
            .map(|t| (t.number.clone(), t.issued_at_ms))
            .chain(
                v.at_windows
                    .iter()
                    .filter_map(|c| Some((c.number.clone(), c.issued_at_ms?))),
            )
            .collect();
        self.services = v
            .services
            .iter()
            .map(|s| ServiceLine {
                code: s.code.clone(),
                name: s.name.clone(),
                priority: 0,
                appointment: 0,
                normal: 0,
            })
            .collect();
        self.windows = v
            .windows
            .iter()
            .map(|w| {
                let line = WindowLine {
                    paused: w.paused,
                    services: w.services.clone(),
                    priority_streak: w.priority_streak,
                };
                (w.number, line)
            })
            .collect();
        self.calls = v
            .at_windows
            .iter()
            .take(MAX_CALLS)
            .map(|c| Call {
                number: c.number.clone(),
                lane: c.lane,
                service_name: c.service_name.clone(),
                window: c.window,
                serving: c.serving,
            })
            .collect();
        self.flash = None;
        self.connected = true;
        self.recount();
    }

    /// Whether a snapshot has come (before it the board knows nothing).
    pub fn has_snapshot(&self) -> bool {
        !self.day.is_empty()
    }

    /// Applies one event of the stream (`kind` is the SSE event name,
    /// `data` its JSON). Returns whether anything shown changed.
    pub fn event(&mut self, kind: &str, data: &Value, now_ms: i64) -> bool {
        if let "paused" | "resumed" = kind {
            let Some(w) = window_of(data, "window").and_then(|w| self.windows.get_mut(&w)) else {
                return false;
            };
            w.paused = kind == "paused";
            return true;
        }
        let shown: Option<Shown> = data
            .get("ticket")
            .and_then(|t| serde_json::from_value(t.clone()).ok());
        let Some(t) = shown else {
            return false;
        };
        let at = data.get("at").and_then(Value::as_i64).unwrap_or(now_ms);
        match kind {
            "issued" => {
                self.issued.insert(t.number.clone(), at);
                self.wait(&t, None, at);
            }
            // Back in line; a no-show's target window was cleared by its call.
            "rejoined" => self.wait(&t, None, at),
            "transferred" => {
                self.release(&t.number);
                let to = window_of(data, "to_window").or(t.window);
                self.wait(&t, to, at);
            }
            "upgraded" => {
                if let Some(w) = self.waiting.get_mut(&t.id) {
                    w.lane = Lane::Priority;
                }
            }
            "cancelled" => {
                self.waiting.remove(&t.id);
                self.release(&t.number);
            }
            "called" | "recalled" => {
                if !self.call(kind, &t, data, now_ms) {
                    return false;
                }
            }
            "started" => {
                let Some(c) = self.calls.iter_mut().find(|c| c.number == t.number) else {
                    return false;
                };
                c.serving = true;
            }
            "finished" | "no_show" => self.release(&t.number),
            _ => return false,
        }
        self.recount();
        true
    }

    /// A call or recall: the ticket goes to the top of the calls, in place
    /// of whatever its window had.
    fn call(&mut self, kind: &str, t: &Shown, data: &Value, now_ms: i64) -> bool {
        self.waiting.remove(&t.id);
        let Some(window) = window_of(data, "window").or(t.window) else {
            return false;
        };
        self.calls
            .retain(|c| c.number != t.number && c.window != window);
        self.calls.push_front(Call {
            number: t.number.clone(),
            lane: t.lane,
            service_name: t.service_name.clone(),
            window,
            serving: false,
        });
        self.calls.truncate(MAX_CALLS);
        if kind == "called" {
            // As the core counts it: every priority call extends the
            // streak, any normal call ends it.
            if let Some(w) = self.windows.get_mut(&window) {
                w.priority_streak = match t.lane {
                    Lane::Priority => w.priority_streak + 1,
                    Lane::Appointment | Lane::Normal => 0,
                };
            }
        }
        self.flash = (kind == "recalled").then_some(Flash {
            window,
            until: now_ms + FLASH_MS,
        });
        true
    }

    /// The ticket is back in line (for its service, or for one window).
    fn wait(&mut self, t: &Shown, target_window: Option<u32>, at: i64) {
        let issued_at_ms = self.issued.get(&t.number).copied().unwrap_or(at);
        self.waiting.insert(
            t.id,
            Waiting {
                number: t.number.clone(),
                service: t.service.clone(),
                lane: t.lane,
                issued_at_ms,
                slot_at_ms: t.slot_at_ms,
                target_window,
            },
        );
    }

    /// The ticket has left its window.
    fn release(&mut self, number: &str) {
        self.calls.retain(|c| c.number != number);
        if let Some(f) = self.flash {
            if self.at_window(f.window).is_none() {
                self.flash = None;
            }
        }
    }

    /// Whether a recall is flashing at `now_ms`.
    pub fn flashing(&self, now_ms: i64) -> bool {
        self.flash.is_some_and(|f| now_ms < f.until)
    }

    /// The window whose call flashes at `now_ms`, if any.
    pub fn flashing_window(&self, now_ms: i64) -> Option<u32> {
        self.flash.filter(|f| now_ms < f.until).map(|f| f.window)
    }

    /// The ticket at window `number`, if any.
    pub fn at_window(&self, number: u32) -> Option<&Call> {
        self.calls.iter().find(|c| c.window == number)
    }

    /// The next `n` tickets window `number` would call at `now_ms`: the
    /// queue core's call policy over the waiting tickets the window serves
    /// (those for its services, and those transferred to it). If the
    /// daemon did not send the window's services, every waiting ticket
    /// counts; if it did not send the policy, its rules are off. Empty for
    /// an unknown window.
    pub fn next_for(&self, number: u32, now_ms: i64, n: usize) -> Vec<Next> {
        let Some(w) = self.windows.get(&number) else {
            return Vec::new();
        };
        let services = if w.services.is_empty() {
            let mut all: Vec<String> = self.waiting.values().map(|t| t.service.clone()).collect();
            all.sort();
            all.dedup();
            all
        } else {
            w.services.clone()
        };
        let policy = match self.policy {
            Some(p) => CallPolicy {
                max_priority_streak: p.max_priority_streak,
                normal_max_wait: p.normal_max_wait_s.map(Duration::from_secs),
                ..CallPolicy::default()
            },
            None => CallPolicy {
                max_priority_streak: 0,
                normal_max_wait: None,
                ..CallPolicy::default()
            },
        };
        let cfg = QueueConfig {
            services: Vec::new(),
            windows: vec![WindowDef { number, services }],
            priority_prefix: String::new(),
            policy,
        };
        let day = self.day.parse().unwrap_or_default();
        let tickets = self
            .waiting
            .iter()
            .map(|(id, t)| waiting_ticket(*id, t, day))
            .collect();
        let state = WindowState {
            current: None,
            paused: false,
            priority_streak: w.priority_streak,
        };
        let mut q = Queue::restore(cfg, day, tickets, vec![(number, state)], 0);
        let now = Timestamp(now_ms);
        let mut out = Vec::new();
        while out.len() < n {
            let Some((id, reason)) = q.next_for(number, now) else {
                break;
            };
            if let Some(t) = q.ticket(id) {
                out.push(Next {
                    number: t.number.clone(),
                    lane: t.lane,
                });
            }
            q.apply(&Event::Called {
                id,
                window: number,
                reason,
                at: now,
            });
        }
        out
    }

    fn recount(&mut self) {
        for s in &mut self.services {
            s.priority = 0;
            s.appointment = 0;
            s.normal = 0;
        }
        for t in self.waiting.values() {
            if let Some(s) = self.services.iter_mut().find(|s| s.code == t.service) {
                match t.lane {
                    Lane::Priority => s.priority += 1,
                    Lane::Appointment => s.appointment += 1,
                    Lane::Normal => s.normal += 1,
                }
            }
        }
    }
}

/// A waiting ticket as the queue core takes it (only what the call order
/// reads is known; the rest is empty).
fn waiting_ticket(id: u64, t: &Waiting, day: chrono::NaiveDate) -> Ticket {
    Ticket {
        id: TicketId(id),
        day,
        number: t.number.clone(),
        service: t.service.clone(),
        origin_service: t.service.clone(),
        lane: t.lane,
        seq: 0,
        issued_at: Timestamp(t.issued_at_ms),
        state: match t.target_window {
            Some(_) => TicketState::Transferred,
            None => TicketState::Waiting,
        },
        window: None,
        target_window: t.target_window,
        called_at: None,
        first_called_at: None,
        started_at: None,
        closed_at: None,
        calls: 0,
        transfers: 0,
        token: String::new(),
        person: None,
        identified: None,
        slot_at: t.slot_at_ms.map(Timestamp),
        booking: None,
    }
}
