//! `GET /api/events`: server-sent events for hall displays.
//!
//! The first message is always `event: snapshot` with the current
//! [`QueueView`], so a display that (re)connects has the whole state. Then
//! one message per committed hall event, `event: <kind>` (`issued`,
//! `called`, `recalled`, `started`, `finished`, `no_show`, `rejoined`,
//! `transferred`, `cancelled`, `paused`, `resumed`, `day_rolled_over`),
//! whose `data:` is a JSON object with the event's fields and, where the
//! event concerns a ticket, `"ticket"`: a [`DisplayTicket`] (number, lane,
//! service, window). Staff notes are left out; tickets hold no personal
//! data. After a day rollover, and whenever this client fell so far behind
//! that events were dropped, a fresh `snapshot` follows. A comment line is
//! sent every 15 s to keep proxies from closing an idle stream.
//!
//! The snapshot and the subscription are taken under the hall's lock, so a
//! display sees every event after its snapshot exactly once, in commit
//! order.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde_json::{json, Map, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use super::auth::Viewer;
use super::error::ViewerErrors;
use super::stream::StreamEvent;
use super::{with_hall, ApiError, AppState, DisplayTicket, QueueView};
use crate::config::Config;
use crate::hall::Committed;
use crate::queue::Event;

/// How often an idle stream gets a keep-alive comment.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The event stream for hall displays (server-sent events).
///
/// Authenticate with `Authorization: Bearer <token>` or, for browsers'
/// `EventSource` which cannot set headers, `?token=<token>`; any valid
/// token will do.
#[utoipa::path(get, path = "/api/events", tag = "displays",
    security(("bearer" = []), ("token_query" = [])),
    params(("token" = Option<String>, Query,
        description = "Any valid token, for clients that cannot set the Authorization header (EventSource)")),
    responses(
        (status = 200, content_type = "text/event-stream", body = String,
            description = "Server-sent events. First `event: snapshot` with a QueueView as data; \
                then per committed change `event: <kind>` (issued, called, recalled, started, finished, \
                no_show, rejoined, transferred, cancelled, paused, resumed, day_rolled_over) with data \
                a JSON object of the event's fields plus `ticket` (a DisplayTicket) when it concerns \
                a ticket. A new `snapshot` follows a day rollover and any overflow. Comments every 15 s."),
        ViewerErrors,
    ))]
pub(super) async fn events(
    State(state): State<AppState>,
    _viewer: Viewer,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let streams = StreamSlot::take(&state)?;
    let (rx, view) = open(&state).await?;
    let mut feed = Feed {
        stopping: state.stopping.clone(),
        state,
        rx,
        pending: VecDeque::new(),
        _slot: streams,
    };
    feed.pending.push_back(snapshot(&view));
    let stream = futures_util::stream::unfold(feed, |mut f| async move {
        loop {
            if let Some(msg) = f.pending.pop_front() {
                return Some((Ok(msg), f));
            }
            let next = tokio::select! {
                r = f.rx.recv() => r,
                _ = f.stopping.wait_for(|s| *s) => return None,
            };
            match next {
                Ok(c) => {
                    let msg = f.message(&c);
                    f.pending.push_back(msg);
                    if matches!(c.event, Event::DayRolledOver { .. }) && !f.resnapshot().await {
                        return None;
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "event stream client fell behind; sending a snapshot"
                    );
                    if !f.resnapshot().await {
                        return None;
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive")))
}

/// One client's stream. It keeps no copy of the hall: each message is
/// made from the committed event and its ticket, which every subscriber
/// shares.
struct Feed {
    state: AppState,
    rx: broadcast::Receiver<Arc<Committed>>,
    pending: VecDeque<SseEvent>,
    stopping: watch::Receiver<bool>,
    _slot: StreamSlot,
}

/// Most event streams open at once: hall boards, window consoles and the
/// manager's page, with room to spare. Beyond this a display is refused
/// (503) and retries; each stream costs a connection and a little memory.
pub const MAX_STREAMS: usize = 256;

/// One of the [`MAX_STREAMS`] places, given back when the stream ends.
struct StreamSlot(Arc<AtomicUsize>);

impl StreamSlot {
    fn take(state: &AppState) -> Result<StreamSlot, ApiError> {
        let open = &state.streams;
        let mut n = open.load(Ordering::SeqCst);
        loop {
            if n >= MAX_STREAMS {
                tracing::warn!(open = n, "event stream refused: too many open");
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too_many_streams",
                    "显示连接过多，请稍后重试",
                ));
            }
            match open.compare_exchange(n, n + 1, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return Ok(StreamSlot(open.clone())),
                Err(now) => n = now,
            }
        }
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Subscribes and takes the snapshot under the hall's lock: nothing is
/// committed between the two.
async fn open(
    state: &AppState,
) -> Result<(broadcast::Receiver<Arc<Committed>>, QueueView), ApiError> {
    let cfg = state.cfg.clone();
    with_hall(state, move |h| Ok((h.subscribe(), QueueView::of(h, &cfg)))).await
}

/// The snapshot message: the queue (as `GET /api/queue` has it), then the
/// stream's format.
fn snapshot(view: &QueueView) -> SseEvent {
    #[derive(serde::Serialize)]
    struct Snapshot<'a> {
        #[serde(flatten)]
        view: &'a QueueView,
        format: u32,
    }
    let data = Snapshot {
        view,
        format: super::stream::FORMAT,
    };
    SseEvent::default()
        .event("snapshot")
        .data(serde_json::to_string(&data).unwrap_or_default())
}

/// The ticket of a committed event as the displays see it: the window the
/// event concerns (called to, served at, transferred to), none once it is
/// back in line, else where it was or was heading before the event.
fn display(c: &Committed, cfg: &Config) -> Option<DisplayTicket> {
    let t = c.after.as_ref()?;
    let window = match &c.event {
        Event::Issued { .. } | Event::Rejoined { .. } => None,
        Event::Called { window, .. }
        | Event::Recalled { window, .. }
        | Event::Started { window, .. }
        | Event::Finished { window, .. }
        | Event::NoShow { window, .. } => Some(*window),
        Event::Transferred { to_window, .. } => *to_window,
        _ => c.before.as_ref().and_then(|b| match b.state {
            s if s.is_at_window() => b.window,
            s if s.is_waiting() => b.target_window,
            _ => None,
        }),
    };
    Some(DisplayTicket {
        id: t.id.0,
        number: t.number.clone(),
        lane: t.lane,
        service: t.service.clone(),
        service_name: service_name(&t.service, cfg),
        window,
        slot_at_ms: t.slot_at.map(|s| s.0),
    })
}

fn service_name(code: &str, cfg: &Config) -> String {
    cfg.service(code)
        .map(|s| s.name.clone())
        .unwrap_or_default()
}

impl Feed {
    /// Starts over with a new subscription and a fresh snapshot; false if
    /// the hall cannot be read (the stream then ends, and the display
    /// reconnects).
    async fn resnapshot(&mut self) -> bool {
        match open(&self.state).await {
            Ok((rx, view)) => {
                self.rx = rx;
                self.pending.push_back(snapshot(&view));
                true
            }
            Err(e) => {
                tracing::error!(error = ?e, "cannot take a snapshot for the event stream");
                false
            }
        }
    }

    /// The message of one committed event.
    fn message(&self, c: &Committed) -> SseEvent {
        let mut data = match serde_json::to_value(StreamEvent::from(&c.event)) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        if let Some(t) = display(c, &self.state.cfg) {
            data.insert("ticket".to_string(), json!(t));
        }
        SseEvent::default()
            .event(c.event.kind())
            .data(Value::Object(data).to_string())
    }
}
