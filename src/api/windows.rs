//! What a window does: call, recall, start, finish, no-show, transfer,
//! pause, resume. Every route names its window in the path and takes that
//! window's token or the manager's ([`WindowStaff`]).

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::WindowStaff;
use super::error::{bad_json, WindowErrors};
use super::{with_hall, ApiError, AppState, ErrorBody, TicketView, WindowView};
use crate::hall::{Actor, Hall, HallError};
use crate::queue::QueueError;

/// Body of `POST /api/windows/{n}/call`: empty for "next", or a number.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CallBody {
    /// Call this number instead of the next by the policy.
    number: Option<String>,
}

/// Calls the next ticket by the call policy, or a given number.
#[utoipa::path(post, path = "/api/windows/{window}/call", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    request_body(content = Option<CallBody>, description = "`{}` (or no body) for the next ticket, `{\"number\": \"A012\"}` for a given one"),
    responses(
        (status = 200, description = "The called ticket", body = TicketView),
        WindowErrors,
        (status = 404, description = "Unknown window or number, or nothing waiting", body = ErrorBody),
        (status = 409, description = "Window busy or paused, ticket not callable here", body = ErrorBody),
        (status = 422, description = "Bad body", body = ErrorBody),
    ))]
pub(super) async fn call(
    State(state): State<AppState>,
    WindowStaff(window, by): WindowStaff,
    body: Option<Json<serde_json::Value>>,
) -> Result<Json<TicketView>, ApiError> {
    let body: CallBody = match body {
        Some(Json(v)) if !v.is_null() => serde_json::from_value(v).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_request",
                format!("请求内容无效: {e}"),
            )
        })?,
        _ => CallBody::default(),
    };
    window_op(&state, move |h| match body.number {
        Some(n) => h.exec(&by, |q, now| q.call_number(window, &n, now)),
        None => h.exec(&by, |q, now| q.call_next(window, now)),
    })
    .await
}

pub(super) async fn window_op(
    state: &AppState,
    f: impl FnOnce(&mut Hall) -> Result<(crate::queue::Event, Option<crate::queue::Ticket>), HallError>
        + Send
        + 'static,
) -> Result<Json<TicketView>, ApiError> {
    let cfg = state.cfg.clone();
    with_hall(state, move |h| {
        let (ev, t) = f(h)?;
        tracing::info!(kind = ev.kind(), window = ?ev.window(), "window operation");
        let t = t.expect("window operations concern a ticket");
        Ok(Json(TicketView::of(&t, h.queue(), &cfg)))
    })
    .await
}

type WindowDecision = fn(
    &crate::queue::Queue,
    u32,
    crate::queue::Timestamp,
) -> Result<crate::queue::Event, QueueError>;

/// A window operation on the window's current ticket.
async fn simple_window_op(
    state: AppState,
    window: u32,
    by: Actor,
    decide: WindowDecision,
) -> Result<Json<TicketView>, ApiError> {
    window_op(&state, move |h| {
        h.exec(&by, |q, now| decide(q, window, now))
    })
    .await
}

/// Announces the window's current ticket again.
#[utoipa::path(post, path = "/api/windows/{window}/recall", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The recalled ticket", body = TicketView),
        WindowErrors,
        (status = 409, description = "No current ticket, or in the wrong state", body = ErrorBody),
    ))]
pub(super) async fn recall(
    State(state): State<AppState>,
    WindowStaff(window, by): WindowStaff,
) -> Result<Json<TicketView>, ApiError> {
    simple_window_op(state, window, by, |q, w, now| q.recall(w, now)).await
}

/// The resident arrived: service starts.
#[utoipa::path(post, path = "/api/windows/{window}/start", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The ticket being served", body = TicketView),
        WindowErrors,
        (status = 409, description = "No current ticket, or in the wrong state", body = ErrorBody),
    ))]
pub(super) async fn start(
    State(state): State<AppState>,
    WindowStaff(window, by): WindowStaff,
) -> Result<Json<TicketView>, ApiError> {
    simple_window_op(state, window, by, |q, w, now| q.start(w, now)).await
}

/// Service finished.
#[utoipa::path(post, path = "/api/windows/{window}/finish", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The finished ticket", body = TicketView),
        WindowErrors,
        (status = 409, description = "No current ticket, or in the wrong state", body = ErrorBody),
    ))]
pub(super) async fn finish(
    State(state): State<AppState>,
    WindowStaff(window, by): WindowStaff,
) -> Result<Json<TicketView>, ApiError> {
    simple_window_op(state, window, by, |q, w, now| q.finish(w, now)).await
}

/// The resident did not come.
#[utoipa::path(post, path = "/api/windows/{window}/no-show", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The ticket, now a no-show", body = TicketView),
        WindowErrors,
        (status = 409, description = "No current ticket, or in the wrong state", body = ErrorBody),
    ))]
pub(super) async fn no_show(
    State(state): State<AppState>,
    WindowStaff(window, by): WindowStaff,
) -> Result<Json<TicketView>, ApiError> {
    simple_window_op(state, window, by, |q, w, now| q.no_show(w, now)).await
}

/// Body of `POST /api/windows/{n}/transfer`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TransferBody {
    /// The service it goes to (default: the same).
    service: Option<String>,
    /// The only window that may call it next.
    window: Option<u32>,
    /// Staff's note (kept in the journal, never sent to displays).
    note: Option<String>,
}

/// Transfers the window's current ticket to another service and/or window;
/// it keeps its number, lane and place in line.
#[utoipa::path(post, path = "/api/windows/{window}/transfer", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    request_body = TransferBody,
    responses(
        (status = 200, description = "The transferred ticket", body = TicketView),
        WindowErrors,
        (status = 409, description = "No current ticket, or in the wrong state", body = ErrorBody),
        (status = 422, description = "Bad body, unknown service or nowhere to transfer to", body = ErrorBody),
    ))]
pub(super) async fn transfer(
    State(state): State<AppState>,
    WindowStaff(window, by): WindowStaff,
    body: Result<Json<TransferBody>, JsonRejection>,
) -> Result<Json<TicketView>, ApiError> {
    let Json(b) = body.map_err(bad_json)?;
    window_op(&state, move |h| {
        h.exec(&by, |q, now| {
            q.transfer(
                window,
                b.service.as_deref(),
                b.window,
                b.note.as_deref(),
                now,
            )
        })
    })
    .await
}

/// The window stops calling.
#[utoipa::path(post, path = "/api/windows/{window}/pause", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The window", body = WindowView),
        WindowErrors,
        (status = 409, description = "Already paused", body = ErrorBody),
    ))]
pub(super) async fn pause(
    State(state): State<AppState>,
    WindowStaff(window, by): WindowStaff,
) -> Result<Json<WindowView>, ApiError> {
    pause_resume(state, window, by, true).await
}

/// The window calls again.
#[utoipa::path(post, path = "/api/windows/{window}/resume", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The window", body = WindowView),
        WindowErrors,
        (status = 409, description = "Not paused", body = ErrorBody),
    ))]
pub(super) async fn resume(
    State(state): State<AppState>,
    WindowStaff(window, by): WindowStaff,
) -> Result<Json<WindowView>, ApiError> {
    pause_resume(state, window, by, false).await
}

async fn pause_resume(
    state: AppState,
    window: u32,
    by: Actor,
    pause: bool,
) -> Result<Json<WindowView>, ApiError> {
    with_hall(&state, move |h| {
        h.exec(&by, |q, now| {
            if pause {
                q.pause(window, now)
            } else {
                q.resume(window, now)
            }
        })?;
        Ok(Json(WindowView::of(window, h.queue())))
    })
    .await
}
