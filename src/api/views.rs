//! JSON shapes of the API: what staff screens and clients read.

use chrono::TimeZone;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::Config;
use crate::hall::Hall;
use crate::queue::{CallPolicy, Lane, Queue, Ticket, TicketState, Timestamp};

/// The two lanes, as the API spells them (the schema of
/// [`Lane`](crate::queue::Lane)).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = Lane)]
pub enum LaneSchema {
    /// The priority lane (绿波通道).
    Priority,
    /// Residents who booked a slot (预约): placed at the slot's start.
    Appointment,
    /// Everyone else.
    Normal,
}

/// One ticket.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct TicketView {
    /// Identity.
    pub id: u64,
    /// Number as printed (`GA012`).
    pub number: String,
    /// Service code it is queued for.
    pub service: String,
    /// Service name.
    pub service_name: String,
    /// `priority` or `normal`.
    #[schema(value_type = LaneSchema)]
    pub lane: Lane,
    /// State name (`waiting`, `called`, ...).
    pub state: String,
    /// State for staff screens (`等候中`, ...).
    pub state_label: String,
    /// Window it is at or was last at.
    pub window: Option<u32>,
    /// Window it was transferred to, if any.
    pub target_window: Option<u32>,
    /// Issue time, RFC 3339 in the hall's time zone.
    pub issued_at: String,
    /// Issue time, milliseconds since the epoch.
    pub issued_at_ms: i64,
    /// An appointment ticket's slot start (its place in line),
    /// milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_at_ms: Option<i64>,
    /// Last call time, milliseconds since the epoch.
    pub called_at_ms: Option<i64>,
    /// People ahead, while waiting.
    pub ahead: Option<usize>,
    /// Times called.
    pub calls: u32,
    /// Times transferred.
    pub transfers: u32,
}

impl TicketView {
    /// The view of a ticket.
    pub fn of(t: &Ticket, q: &Queue, cfg: &Config) -> TicketView {
        TicketView {
            id: t.id.0,
            number: t.number.clone(),
            service: t.service.clone(),
            service_name: cfg
                .service(&t.service)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            lane: t.lane,
            state: t.state.as_str().to_string(),
            state_label: t.state.label().to_string(),
            window: t.window,
            target_window: t.target_window,
            issued_at: local_time(t.issued_at, cfg),
            issued_at_ms: t.issued_at.0,
            slot_at_ms: t.slot_at.map(|c| c.0),
            called_at_ms: t.called_at.map(|c| c.0),
            ahead: q.ahead(t.id),
            calls: t.calls,
            transfers: t.transfers,
        }
    }
}

/// One window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct WindowView {
    /// Number.
    pub number: u32,
    /// Paused windows call nothing.
    pub paused: bool,
    /// Number of the ticket called to or served at the window.
    pub current: Option<String>,
    /// Consecutive priority calls.
    pub priority_streak: u32,
    /// Codes of the services it calls (so that a window screen can tell
    /// who it calls next). Absent from daemons before it: then unknown.
    #[serde(default)]
    pub services: Vec<String>,
}

impl WindowView {
    /// The view of a window.
    pub fn of(number: u32, q: &Queue) -> WindowView {
        let w = q.windows().get(&number).cloned().unwrap_or_default();
        WindowView {
            number,
            paused: w.paused,
            current: w
                .current
                .and_then(|id| q.ticket(id))
                .filter(|t| t.state.is_at_window())
                .map(|t| t.number.clone()),
            priority_streak: w.priority_streak,
            services: q
                .config()
                .windows
                .iter()
                .find(|d| d.number == number)
                .map(|d| d.services.clone())
                .unwrap_or_default(),
        }
    }
}

/// Waiting counts of one service.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct ServiceCounts {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Waiting in the priority lane.
    pub priority_waiting: usize,
    /// Waiting in the normal lane.
    pub normal_waiting: usize,
    /// Waiting in the appointment lane (absent while none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub appointment_waiting: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The whole queue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct QueueView {
    /// Hall name.
    pub hall: String,
    /// Service day.
    pub day: String,
    /// Counts per service.
    pub services: Vec<ServiceCounts>,
    /// Waiting tickets, priority lane first, oldest first.
    pub waiting: Vec<TicketView>,
    /// Windows.
    pub windows: Vec<WindowView>,
    /// Tickets at a window now (called or being served), the most
    /// recently called first: what a hall display shows as the last calls.
    #[serde(default)]
    pub at_windows: Vec<CalledView>,
    /// The hall's notice line (`[kiosk] notice`), for displays.
    #[serde(default)]
    pub notice: Option<String>,
    /// The hall's time zone (`[day] timezone`, e.g. `Asia/Shanghai`): a
    /// display shows the hall's time whatever its own machine's zone.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The fairness rules the windows call by (`[call_policy]`), so that a
    /// window screen shows whom its window calls next. Absent from daemons
    /// before it: then unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_policy: Option<CallPolicyView>,
}

/// The call policy's rules, as a window screen needs them.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct CallPolicyView {
    /// After this many consecutive priority calls at a window, the oldest
    /// normal ticket comes next (0: off).
    pub max_priority_streak: u32,
    /// A normal ticket waiting longer than this many seconds is called
    /// first (absent: off).
    pub normal_max_wait_s: Option<u64>,
}

impl From<&CallPolicy> for CallPolicyView {
    fn from(p: &CallPolicy) -> Self {
        CallPolicyView {
            max_priority_streak: p.max_priority_streak,
            normal_max_wait_s: p.normal_max_wait.map(|d| d.as_secs()),
        }
    }
}

/// A ticket at a window, as a hall display shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct CalledView {
    /// Number as printed (`GA012`).
    pub number: String,
    /// `priority` or `normal`.
    #[schema(value_type = LaneSchema)]
    pub lane: Lane,
    /// Service name.
    pub service_name: String,
    /// The window.
    pub window: u32,
    /// Last call time, milliseconds since the epoch.
    pub called_at_ms: i64,
    /// Issue time, milliseconds since the epoch: its place in line if it
    /// is transferred or comes back after a no-show. Absent from daemons
    /// before it.
    #[serde(default)]
    pub issued_at_ms: Option<i64>,
    /// Whether the window has started serving it (else it is called).
    #[serde(default)]
    pub serving: bool,
}

impl QueueView {
    /// The view of the hall's queue.
    pub fn of(h: &Hall, cfg: &Config) -> QueueView {
        let q = h.queue();
        QueueView {
            hall: cfg.hall_name.clone(),
            day: q.day().to_string(),
            services: cfg
                .services
                .iter()
                .map(|s| ServiceCounts {
                    code: s.code.clone(),
                    name: s.name.clone(),
                    priority_waiting: q.waiting_count(&s.code, Lane::Priority),
                    normal_waiting: q.waiting_count(&s.code, Lane::Normal),
                    appointment_waiting: q.waiting_count(&s.code, Lane::Appointment),
                })
                .collect(),
            waiting: q
                .waiting()
                .into_iter()
                .map(|t| TicketView::of(t, q, cfg))
                .collect(),
            windows: q.windows().keys().map(|n| WindowView::of(*n, q)).collect(),
            at_windows: {
                let mut v: Vec<CalledView> = q
                    .tickets()
                    .into_iter()
                    .filter(|t| t.state.is_at_window())
                    .filter_map(|t| {
                        Some(CalledView {
                            number: t.number.clone(),
                            lane: t.lane,
                            service_name: cfg
                                .service(&t.service)
                                .map(|s| s.name.clone())
                                .unwrap_or_default(),
                            window: t.window?,
                            called_at_ms: t.called_at?.0,
                            issued_at_ms: Some(t.issued_at.0),
                            serving: t.state == TicketState::Serving,
                        })
                    })
                    .collect();
                v.sort_by_key(|c| std::cmp::Reverse(c.called_at_ms));
                v
            },
            notice: (!cfg.kiosk.notice.is_empty()).then(|| cfg.kiosk.notice.join("　")),
            timezone: Some(cfg.day.timezone.name().to_string()),
            call_policy: Some(CallPolicyView::from(&cfg.policy)),
        }
    }
}

fn local_time(t: Timestamp, cfg: &Config) -> String {
    cfg.day
        .timezone
        .timestamp_millis_opt(t.0)
        .single()
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
        .unwrap_or_default()
}

/// A ticket as a hall display may show it: no personal data, no staff
/// notes. Sent in the event stream.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct DisplayTicket {
    /// Identity.
    pub id: u64,
    /// Number as printed (`GA012`).
    pub number: String,
    /// `priority` or `normal`.
    #[schema(value_type = LaneSchema)]
    pub lane: Lane,
    /// Service code it is queued for.
    pub service: String,
    /// Service name.
    pub service_name: String,
    /// The window the event concerns (called to, served at, transferred
    /// to), or the last one it was at.
    pub window: Option<u32>,
    /// An appointment ticket's slot start (its place in line),
    /// milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_at_ms: Option<i64>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded`: the store cannot commit (answered with 503) or
    /// a kiosk device is out of service (200).
    pub status: String,
    /// Service day (`2025-03-01`).
    pub day: String,
    /// Tickets waiting.
    pub waiting: usize,
    /// What is wrong, for hall staff (`数据库无法写入，无法取号和叫号`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The store's error, for ops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Configured kiosk devices out of service as last seen (`id_reader`,
    /// `pcsc`, `printer`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices_down: Vec<String>,
}

/// `GET /api/tickets/{number}`: the ticket and its journal entries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct TicketHistory {
    /// The ticket.
    pub ticket: TicketView,
    /// Its events, oldest first, as journalled (`{"kind": "called", ...}`).
    pub history: Vec<serde_json::Value>,
}

/// The JSON body of every error.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"error": "缺少令牌 (Authorization: Bearer ...)", "code": "unauthorized"}))]
pub struct ErrorBody {
    /// What went wrong, for staff (Simplified Chinese).
    pub error: String,
    /// Stable machine-readable code (`unauthorized`, `forbidden`,
    /// `not_found`, `unknown_number`, `nothing_waiting`, `window_busy`,
    /// `wrong_state`, `bad_request`, `unknown_service`, ...).
    pub code: String,
}
