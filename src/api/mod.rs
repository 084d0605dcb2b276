//! The staff API: HTTP + JSON on the hall LAN (axum).
//!
//! Each window has a bearer token and acts only for itself; the manager
//! token acts for every window. A refused token gets 401/403, a refused
//! operation 404/409, bad input 400/422, always with a JSON body
//! `{"error": "...", "code": "..."}`. Helpers' tokens work on the case
//! routes only (`cases.rs`). Hall operations run on the blocking
//! pool, one at a time behind the hall's mutex: two windows calling at the
//! same instant are serialised and never get the same ticket.

mod cases;
mod views;

use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::hall::{Hall, HallError};
use crate::queue::{Lane, QueueError};

pub use views::{QueueView, TicketView, WindowView};

/// Shared state of the API.
#[derive(Clone)]
pub struct AppState {
    hall: Arc<Mutex<Hall>>,
    cfg: Arc<Config>,
}

impl AppState {
    /// State over an opened hall.
    pub fn new(hall: Hall, cfg: Config) -> AppState {
        AppState {
            hall: Arc::new(Mutex::new(hall)),
            cfg: Arc::new(cfg),
        }
    }

    /// The hall, for the daemon's own periodic work.
    pub fn hall(&self) -> Arc<Mutex<Hall>> {
        self.hall.clone()
    }
}

/// The API's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/queue", get(queue))
        .route("/api/tickets", get(tickets).post(issue))
        .route("/api/tickets/{number}", get(ticket))
        .route("/api/tickets/{number}/rejoin", post(rejoin))
        .route("/api/tickets/{number}/cancel", post(cancel))
        .route("/api/windows/{window}/call", post(call))
        .route("/api/windows/{window}/recall", post(recall))
        .route("/api/windows/{window}/start", post(start))
        .route("/api/windows/{window}/finish", post(finish))
        .route("/api/windows/{window}/no-show", post(no_show))
        .route("/api/windows/{window}/transfer", post(transfer))
        .route("/api/windows/{window}/pause", post(pause))
        .route("/api/windows/{window}/resume", post(resume))
        .merge(cases::routes())
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "没有这个接口")
        })
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then finishes
/// the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

// ----- errors --------------------------------------------------------------

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": self.message, "code": self.code })),
        )
            .into_response()
    }
}

impl From<HallError> for ApiError {
    fn from(e: HallError) -> ApiError {
        match e {
            HallError::Queue(q) => {
                let (status, code) = match &q {
                    QueueError::UnknownService(_) => {
                        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_service")
                    }
                    QueueError::UnknownWindow(_) => (StatusCode::NOT_FOUND, "unknown_window"),
                    QueueError::UnknownNumber(_) => (StatusCode::NOT_FOUND, "unknown_number"),
                    QueueError::NothingWaiting(_) => (StatusCode::NOT_FOUND, "nothing_waiting"),
                    QueueError::WindowBusy { .. } => (StatusCode::CONFLICT, "window_busy"),
                    QueueError::WindowPaused(_) => (StatusCode::CONFLICT, "window_paused"),
                    QueueError::WindowNotPaused(_) => (StatusCode::CONFLICT, "window_not_paused"),
                    QueueError::NoCurrentTicket(_) => (StatusCode::CONFLICT, "no_current_ticket"),
                    QueueError::WrongState { .. } => (StatusCode::CONFLICT, "wrong_state"),
                    QueueError::NotForThisWindow { .. } => {
                        (StatusCode::CONFLICT, "not_for_this_window")
                    }
                    QueueError::GraceExpired(_) => (StatusCode::CONFLICT, "grace_expired"),
                    QueueError::BadTransfer => (StatusCode::UNPROCESSABLE_ENTITY, "bad_transfer"),
                    QueueError::DayNotAfter { .. } => (StatusCode::CONFLICT, "day_not_after"),
                };
                ApiError::new(status, code, q.to_string())
            }
            other => {
                tracing::error!(error = %other, "hall operation failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "数据存储暂不可用，操作未记录，请稍后重试",
                )
            }
        }
    }
}

fn bad_json(r: JsonRejection) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_request",
        format!("请求内容无效: {}", r.body_text()),
    )
}

// ----- auth ----------------------------------------------------------------

/// Who presented the token.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Principal {
    Manager,
    Window(u32),
    /// A helper (协办员), by id: case routes only.
    Helper(String),
}

/// A window's or the manager's token; a helper's is refused (403): helpers
/// use the case routes only.
fn principal(cfg: &Config, headers: &HeaderMap) -> Result<Principal, ApiError> {
    match authenticate(cfg, headers)? {
        Principal::Helper(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "协办员令牌只能用于协办接口",
        )),
        p => Ok(p),
    }
}

/// Any valid token: the manager's, a window's or a helper's.
fn authenticate(cfg: &Config, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "缺少令牌 (Authorization: Bearer ...)",
            )
        })?;
    if cfg
        .api
        .manager_token
        .as_ref()
        .is_some_and(|m| constant_eq(m.expose(), token))
    {
        return Ok(Principal::Manager);
    }
    if let Some(w) = cfg
        .windows
        .iter()
        .find(|w| constant_eq(w.token.expose(), token))
    {
        return Ok(Principal::Window(w.number));
    }
    cfg.helpers
        .iter()
        .find(|h| constant_eq(h.token.expose(), token))
        .map(|h| Principal::Helper(h.id.clone()))
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "令牌无效"))
}

fn for_window(cfg: &Config, headers: &HeaderMap, window: u32) -> Result<(), ApiError> {
    match principal(cfg, headers)? {
        Principal::Manager => Ok(()),
        Principal::Window(w) if w == window => Ok(()),
        Principal::Window(w) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("{w} 号窗口的令牌不能操作 {window} 号窗口"),
        )),
        Principal::Helper(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "协办员令牌只能用于协办接口",
        )),
    }
}

/// Compares without an early exit on the first differing byte.
fn constant_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ----- running hall operations ---------------------------------------------

async fn with_hall<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut Hall) -> Result<T, HallError> + Send + 'static,
) -> Result<T, ApiError> {
    let hall = state.hall.clone();
    tokio::task::spawn_blocking(move || {
        let mut h = hall.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut h)
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("内部错误: {e}"),
        )
    })?
    .map_err(ApiError::from)
}

fn window_param(raw: &str) -> Result<u32, ApiError> {
    raw.parse::<u32>().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("窗口号 \"{raw}\" 无效"),
        )
    })
}

// ----- handlers ------------------------------------------------------------

async fn healthz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let (day, waiting) =
        with_hall(&state, |h| Ok((h.queue().day(), h.queue().waiting().len()))).await?;
    Ok(Json(
        json!({ "status": "ok", "day": day.to_string(), "waiting": waiting }),
    ))
}

async fn queue(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<QueueView>, ApiError> {
    principal(&state.cfg, &headers)?;
    let cfg = state.cfg.clone();
    let view = with_hall(&state, move |h| Ok(QueueView::of(h, &cfg))).await?;
    Ok(Json(view))
}

async fn tickets(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<TicketView>>, ApiError> {
    principal(&state.cfg, &headers)?;
    let cfg = state.cfg.clone();
    let list = with_hall(&state, move |h| {
        Ok(h.queue()
            .tickets()
            .into_iter()
            .map(|t| TicketView::of(t, h.queue(), &cfg))
            .collect())
    })
    .await?;
    Ok(Json(list))
}

async fn ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    principal(&state.cfg, &headers)?;
    let cfg = state.cfg.clone();
    with_hall(&state, move |h| {
        let n = number.trim().to_ascii_uppercase();
        let t = h
            .queue()
            .ticket_by_number(&n)
            .cloned()
            .ok_or(QueueError::UnknownNumber(n))?;
        let history: Vec<serde_json::Value> = h
            .history(t.id)?
            .into_iter()
            .map(|e| serde_json::to_value(&e.event).unwrap_or_default())
            .collect();
        Ok(Json(
            json!({ "ticket": TicketView::of(&t, h.queue(), &cfg), "history": history }),
        ))
    })
    .await
}

/// Body of `POST /api/tickets`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueBody {
    service: String,
    #[serde(default)]
    lane: Option<Lane>,
}

async fn issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<IssueBody>, JsonRejection>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    principal(&state.cfg, &headers)?;
    let Json(body) = body.map_err(bad_json)?;
    let cfg = state.cfg.clone();
    let view = with_hall(&state, move |h| {
        let t = h.issue(&body.service, body.lane.unwrap_or(Lane::Normal))?;
        tracing::info!(number = %t.number, service = %t.service, lane = t.lane.as_str(), "ticket issued");
        Ok(TicketView::of(&t, h.queue(), &cfg))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Body of `POST /api/windows/{n}/call`: empty for "next", or a number.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallBody {
    number: Option<String>,
}

async fn call(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(window): Path<String>,
    body: Option<Json<serde_json::Value>>,
) -> Result<Json<TicketView>, ApiError> {
    let window = window_param(&window)?;
    for_window(&state.cfg, &headers, window)?;
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
        Some(n) => h.exec(|q, now| q.call_number(window, &n, now)),
        None => h.exec(|q, now| q.call_next(window, now)),
    })
    .await
}

async fn window_op(
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

macro_rules! simple_window_op {
    ($name:ident, $method:ident) => {
        async fn $name(
            State(state): State<AppState>,
            headers: HeaderMap,
            Path(window): Path<String>,
        ) -> Result<Json<TicketView>, ApiError> {
            let window = window_param(&window)?;
            for_window(&state.cfg, &headers, window)?;
            window_op(&state, move |h| h.exec(|q, now| q.$method(window, now))).await
        }
    };
}

simple_window_op!(recall, recall);
simple_window_op!(start, start);
simple_window_op!(finish, finish);
simple_window_op!(no_show, no_show);

/// Body of `POST /api/windows/{n}/transfer`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    service: Option<String>,
    window: Option<u32>,
    note: Option<String>,
}

async fn transfer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(window): Path<String>,
    body: Result<Json<TransferBody>, JsonRejection>,
) -> Result<Json<TicketView>, ApiError> {
    let window = window_param(&window)?;
    for_window(&state.cfg, &headers, window)?;
    let Json(b) = body.map_err(bad_json)?;
    window_op(&state, move |h| {
        h.exec(|q, now| {
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

async fn pause(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(window): Path<String>,
) -> Result<Json<WindowView>, ApiError> {
    pause_resume(state, headers, window, true).await
}

async fn resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(window): Path<String>,
) -> Result<Json<WindowView>, ApiError> {
    pause_resume(state, headers, window, false).await
}

async fn pause_resume(
    state: AppState,
    headers: HeaderMap,
    window: String,
    pause: bool,
) -> Result<Json<WindowView>, ApiError> {
    let window = window_param(&window)?;
    for_window(&state.cfg, &headers, window)?;
    with_hall(&state, move |h| {
        h.exec(|q, now| {
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

async fn rejoin(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    principal(&state.cfg, &headers)?;
    window_op(&state, move |h| h.exec(|q, now| q.rejoin(&number, now))).await
}

async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    principal(&state.cfg, &headers)?;
    window_op(&state, move |h| h.exec(|q, now| q.cancel(&number, now))).await
}
