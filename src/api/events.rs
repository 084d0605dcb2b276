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

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
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
use crate::queue::{Event, Ticket, TicketId};

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
    let (rx, view, shown) = open(&state).await?;
    let mut feed = Feed {
        stopping: state.stopping.clone(),
        state,
        rx,
        shown,
        pending: VecDeque::new(),
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
                Ok(ev) => {
                    let msg = f.message(&ev);
                    f.pending.push_back(msg);
                    if matches!(ev, Event::DayRolledOver { .. }) && !f.resnapshot().await {
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

/// One client's stream.
struct Feed {
    state: AppState,
    rx: broadcast::Receiver<Event>,
    /// Every ticket of the day as displays see it, kept up to date from the
    /// events themselves, so that each message shows the ticket as it was
    /// at that event (not as it is when the message is sent).
    shown: HashMap<TicketId, DisplayTicket>,
    pending: VecDeque<SseEvent>,
    stopping: watch::Receiver<bool>,
}

type Opened = (
    broadcast::Receiver<Event>,
    QueueView,
    HashMap<TicketId, DisplayTicket>,
);

/// Subscribes and takes the snapshot under the hall's lock: nothing is
/// committed between the two.
async fn open(state: &AppState) -> Result<Opened, ApiError> {
    let cfg = state.cfg.clone();
    with_hall(state, move |h| {
        let rx = h.subscribe();
        let view = QueueView::of(h, &cfg);
        let shown = h
            .queue()
            .tickets()
            .into_iter()
            .map(|t| (t.id, display(t, &cfg)))
            .collect();
        Ok((rx, view, shown))
    })
    .await
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

fn display(t: &Ticket, cfg: &Config) -> DisplayTicket {
    DisplayTicket {
        id: t.id.0,
        number: t.number.clone(),
        lane: t.lane,
        service: t.service.clone(),
        service_name: service_name(&t.service, cfg),
        window: t.target_window.or(t.window),
    }
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
            Ok((rx, view, shown)) => {
                self.rx = rx;
                self.shown = shown;
                self.pending.push_back(snapshot(&view));
                true
            }
            Err(e) => {
                tracing::error!(error = ?e, "cannot take a snapshot for the event stream");
                false
            }
        }
    }

    /// The message of one event; updates what displays know of its ticket.
    fn message(&mut self, ev: &Event) -> SseEvent {
        let cfg = self.state.cfg.clone();
        match ev {
            Event::Issued { ticket } => {
                self.shown.insert(ticket.id, display(ticket, &cfg));
            }
            Event::Called { id, window, .. }
            | Event::Recalled { id, window, .. }
            | Event::Started { id, window, .. }
            | Event::Finished { id, window, .. }
            | Event::NoShow { id, window, .. } => {
                if let Some(t) = self.shown.get_mut(id) {
                    t.window = Some(*window);
                }
            }
            Event::Transferred {
                id,
                to_service,
                to_window,
                ..
            } => {
                if let Some(t) = self.shown.get_mut(id) {
                    t.service = to_service.clone();
                    t.service_name = service_name(to_service, &cfg);
                    t.window = *to_window;
                }
            }
            Event::Rejoined { id, .. } => {
                if let Some(t) = self.shown.get_mut(id) {
                    t.window = None;
                }
            }
            _ => {}
        }
        let mut data = match serde_json::to_value(StreamEvent::from(ev)) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        if let Some(t) = ev.ticket_id().and_then(|id| self.shown.get(&id)) {
            data.insert("ticket".to_string(), json!(t));
        }
        SseEvent::default()
            .event(ev.kind())
            .data(Value::Object(data).to_string())
    }
}
