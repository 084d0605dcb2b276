//! The staff API: HTTP + JSON on the hall LAN (axum).
//!
//! Each window has a bearer token and acts only for itself; the manager
//! token acts for every window. A refused token gets 401/403, a refused
//! operation 404/409, bad input 400/422, always with a JSON body
//! `{"error": "...", "code": "..."}`. Helpers' tokens work on the case
//! routes only (`cases.rs`). Hall operations run on the blocking
//! pool, one at a time behind the hall's mutex: two windows calling at the
//! same instant are serialised and never get the same ticket.
//!
//! Every route is registered through [`utoipa_axum::routes!`] from the
//! handler's `#[utoipa::path]`, so the OpenAPI document served at
//! `GET /api/openapi.json` ([`openapi`]) and the router cannot drift apart.
//! Besides the staff operations: `GET /api/events` (server-sent events for
//! hall displays, [`events`]) and `GET /metrics` (Prometheus, [`metrics`]);
//! and the browser pages (`/console`, `/helper`, `/manager`, `/t/{token}`,
//! `pages.rs`), plain HTML/CSS/JS from `src/web/` embedded in the binary.

mod cases;
pub mod events;
mod kiosk;
pub mod metrics;
mod openapi;
mod pages;
mod stats;
mod views;

use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::Config;
use crate::hall::{Hall, HallError};
use crate::queue::{Lane, QueueError};

pub use views::{
    CalledView, DisplayTicket, ErrorBody, Health, LaneSchema, QueueView, ServiceCounts,
    TicketHistory, TicketView, WindowView,
};

/// Shared state of the API.
#[derive(Clone)]
pub struct AppState {
    hall: Arc<Mutex<Hall>>,
    cfg: Arc<Config>,
    counters: Arc<Mutex<metrics::Counters>>,
    /// Set to `true` when the server shuts down: ends the event streams,
    /// which would otherwise keep a graceful shutdown waiting forever.
    stopping: watch::Receiver<bool>,
    stop: Arc<watch::Sender<bool>>,
    /// The OpenAPI document, serialised once.
    openapi_json: Arc<String>,
    /// The hall's desk: manual identification, upgrades, card binding,
    /// the reprint list (never waits on a device).
    desk: Option<Arc<crate::kiosk::HallDesk>>,
    /// The kiosk thread, for reprints (and its devices, for the metrics).
    kiosk: Option<crate::kiosk::KioskHandle>,
}

impl AppState {
    /// State over an opened hall.
    pub fn new(hall: Hall, cfg: Config) -> AppState {
        let counters = metrics::Counters::new(&hall, &cfg);
        let (stop, stopping) = watch::channel(false);
        AppState {
            hall: Arc::new(Mutex::new(hall)),
            cfg: Arc::new(cfg),
            counters: Arc::new(Mutex::new(counters)),
            stopping,
            stop: Arc::new(stop),
            openapi_json: Arc::new(String::new()),
            desk: None,
            kiosk: None,
        }
    }

    /// Gives the staff routes the hall's desk (manual identification,
    /// upgrades, card binding, the reprint list).
    pub fn with_desk(mut self, desk: Arc<crate::kiosk::HallDesk>) -> AppState {
        self.desk = Some(desk);
        self
    }

    /// Gives the staff routes the kiosk thread (reprints), if this machine
    /// has a kiosk.
    pub fn with_kiosk(mut self, kiosk: Option<crate::kiosk::KioskHandle>) -> AppState {
        self.kiosk = kiosk;
        self
    }

    /// The hall, for the daemon's own periodic work.
    pub fn hall(&self) -> Arc<Mutex<Hall>> {
        self.hall.clone()
    }
}

/// Every route with its OpenAPI description.
fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(healthz))
        .routes(routes!(openapi_json))
        .routes(routes!(metrics::metrics))
        .routes(routes!(events::events))
        .routes(routes!(queue))
        .routes(routes!(tickets, issue))
        .routes(routes!(ticket))
        .routes(routes!(rejoin))
        .routes(routes!(cancel))
        .routes(routes!(call))
        .routes(routes!(recall))
        .routes(routes!(start))
        .routes(routes!(finish))
        .routes(routes!(no_show))
        .routes(routes!(transfer))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .merge(kiosk::routes())
        .merge(cases::routes())
        .merge(stats::routes())
        .merge(pages::routes())
}

/// The OpenAPI 3 document of the API, as served at `GET /api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().into_openapi()
}

/// The API's routes.
pub fn router(mut state: AppState) -> Router {
    let (router, doc) = api_router().split_for_parts();
    state.openapi_json = Arc::new(doc.to_json().expect("the OpenAPI document serialises"));
    router
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "没有这个接口")
        })
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then ends the
/// event streams and finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = state.stop.clone();
    let stop_on_signal = stop.clone();
    let drain = tokio::spawn(metrics::drain_periodically(
        state.counters.clone(),
        state.stopping.clone(),
    ));
    let res = axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_on_signal.send(true);
        })
        .await;
    let _ = stop.send(true);
    drain.await.ok();
    res
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
    /// A hall display (`[api] display_token`): the event stream only.
    Display,
}

fn display_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "显示屏令牌只能用于事件流 (/api/events)",
    )
}

/// The bearer token of the `Authorization` header, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// A window's or the manager's token; a helper's is refused (403): helpers
/// use the case routes only.
fn principal(cfg: &Config, headers: &HeaderMap) -> Result<Principal, ApiError> {
    principal_of(cfg, bearer(headers))
}

/// [`principal`] for a token from elsewhere (the event stream's `?token=`).
fn principal_of(cfg: &Config, token: Option<&str>) -> Result<Principal, ApiError> {
    match authenticate_token(cfg, token)? {
        Principal::Helper(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "协办员令牌只能用于协办接口",
        )),
        Principal::Display => Err(display_refused()),
        p => Ok(p),
    }
}

/// Who may follow the event stream: staff (not helpers) and the hall
/// displays' own token.
fn viewer_of(cfg: &Config, token: Option<&str>) -> Result<Principal, ApiError> {
    match authenticate_token(cfg, token)? {
        Principal::Display => Ok(Principal::Display),
        _ => principal_of(cfg, token),
    }
}

/// Any valid token but a display's: the manager's, a window's or a
/// helper's.
fn authenticate(cfg: &Config, headers: &HeaderMap) -> Result<Principal, ApiError> {
    match authenticate_token(cfg, bearer(headers))? {
        Principal::Display => Err(display_refused()),
        p => Ok(p),
    }
}

fn authenticate_token(cfg: &Config, token: Option<&str>) -> Result<Principal, ApiError> {
    let token = token.ok_or_else(|| {
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
    if cfg
        .api
        .display_token
        .as_ref()
        .is_some_and(|d| constant_eq(d.expose(), token))
    {
        return Ok(Principal::Display);
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
        Principal::Display => Err(display_refused()),
    }
}

/// Compares without an early exit on the first differing byte.
fn constant_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ----- running hall operations ---------------------------------------------

/// Runs `f` on the blocking pool with `shared` locked: the hall, the kiosk.
/// A panic inside becomes a 500 with a JSON body, never a dropped request.
async fn locked<M: Send + 'static, T: Send + 'static, E: Into<ApiError> + Send + 'static>(
    shared: Arc<Mutex<M>>,
    f: impl FnOnce(&mut M) -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut m = shared.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut m)
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("内部错误: {e}"),
        )
    })?
    .map_err(Into::into)
}

/// Runs `f` on the blocking pool. A panic inside becomes a 500 with a
/// JSON body, never a dropped request.
async fn blocking<T: Send + 'static, E: Into<ApiError> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("内部错误: {e}"),
            )
        })?
        .map_err(Into::into)
}

async fn with_hall<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut Hall) -> Result<T, HallError> + Send + 'static,
) -> Result<T, ApiError> {
    locked(state.hall.clone(), f).await
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

/// Liveness: the service day and how many are waiting.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses(
        (status = 200, description = "The daemon is up", body = Health),
        (status = 503, description = "The hall is unusable", body = ErrorBody),
    ))]
async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let (day, waiting) =
        with_hall(&state, |h| Ok((h.queue().day(), h.queue().waiting().len()))).await?;
    Ok(Json(Health {
        status: "ok".to_string(),
        day: day.to_string(),
        waiting,
    }))
}

/// This document (OpenAPI 3). No token needed.
#[utoipa::path(get, path = "/api/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
async fn openapi_json(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json.as_str().to_owned(),
    )
        .into_response()
}

/// Waiting tickets, counts per service and lane, windows.
#[utoipa::path(get, path = "/api/queue", tag = "queue", security(("bearer" = [])),
    responses(
        (status = 200, description = "The queue", body = QueueView),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 503, description = "Storage unavailable", body = ErrorBody),
    ))]
async fn queue(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<QueueView>, ApiError> {
    principal(&state.cfg, &headers)?;
    let cfg = state.cfg.clone();
    let view = with_hall(&state, move |h| Ok(QueueView::of(h, &cfg))).await?;
    Ok(Json(view))
}

/// All tickets of the service day.
#[utoipa::path(get, path = "/api/tickets", tag = "tickets", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every ticket of the day", body = Vec<TicketView>),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 503, description = "Storage unavailable", body = ErrorBody),
    ))]
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

/// One ticket and its history.
#[utoipa::path(get, path = "/api/tickets/{number}", tag = "tickets", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed", example = "GA012")),
    responses(
        (status = 200, description = "The ticket and its events", body = TicketHistory),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 404, description = "No such number today (`unknown_number`)", body = ErrorBody),
        (status = 503, description = "Storage unavailable", body = ErrorBody),
    ))]
async fn ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<TicketHistory>, ApiError> {
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
        Ok(Json(TicketHistory {
            ticket: TicketView::of(&t, h.queue(), &cfg),
            history,
        }))
    })
    .await
}

/// Body of `POST /api/tickets`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct IssueBody {
    /// Service code (`civil`).
    service: String,
    /// `priority` or `normal` (the default).
    #[serde(default)]
    #[schema(value_type = Option<LaneSchema>)]
    lane: Option<Lane>,
}

/// Issues a ticket.
#[utoipa::path(post, path = "/api/tickets", tag = "tickets", security(("bearer" = [])),
    request_body = IssueBody,
    responses(
        (status = 201, description = "The new ticket, committed", body = TicketView),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 422, description = "Bad body or unknown service (`bad_request`, `unknown_service`)", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
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
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CallBody {
    /// Call this number instead of the next by the policy.
    number: Option<String>,
}

/// Calls the next ticket by the call policy, or a given number.
#[utoipa::path(post, path = "/api/windows/{window}/call", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    request_body(content = Option<CallBody>, description = "`{}` (or no body) for the next ticket, `{\"number\": \"A012\"}` for a given one"),
    responses(
        (status = 200, description = "The called ticket", body = TicketView),
        (status = 400, description = "Bad window number", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "Another window's token", body = ErrorBody),
        (status = 404, description = "Unknown window or number, or nothing waiting", body = ErrorBody),
        (status = 409, description = "Window busy or paused, ticket not callable here", body = ErrorBody),
        (status = 422, description = "Bad body", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
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

type WindowDecision = fn(
    &crate::queue::Queue,
    u32,
    crate::queue::Timestamp,
) -> Result<crate::queue::Event, QueueError>;

/// A window operation on the window's current ticket.
async fn simple_window_op(
    state: AppState,
    headers: HeaderMap,
    window: String,
    decide: WindowDecision,
) -> Result<Json<TicketView>, ApiError> {
    let window = window_param(&window)?;
    for_window(&state.cfg, &headers, window)?;
    window_op(&state, move |h| h.exec(|q, now| decide(q, window, now))).await
}

/// Announces the window's current ticket again.
#[utoipa::path(post, path = "/api/windows/{window}/recall", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The recalled ticket", body = TicketView),
        (status = 400, description = "Bad window number", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "Another window's token", body = ErrorBody),
        (status = 404, description = "Unknown window", body = ErrorBody),
        (status = 409, description = "No current ticket, or in the wrong state", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
async fn recall(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(window): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    simple_window_op(state, headers, window, |q, w, now| q.recall(w, now)).await
}

/// The resident arrived: service starts.
#[utoipa::path(post, path = "/api/windows/{window}/start", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The ticket being served", body = TicketView),
        (status = 400, description = "Bad window number", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "Another window's token", body = ErrorBody),
        (status = 404, description = "Unknown window", body = ErrorBody),
        (status = 409, description = "No current ticket, or in the wrong state", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(window): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    simple_window_op(state, headers, window, |q, w, now| q.start(w, now)).await
}

/// Service finished.
#[utoipa::path(post, path = "/api/windows/{window}/finish", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The finished ticket", body = TicketView),
        (status = 400, description = "Bad window number", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "Another window's token", body = ErrorBody),
        (status = 404, description = "Unknown window", body = ErrorBody),
        (status = 409, description = "No current ticket, or in the wrong state", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
async fn finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(window): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    simple_window_op(state, headers, window, |q, w, now| q.finish(w, now)).await
}

/// The resident did not come.
#[utoipa::path(post, path = "/api/windows/{window}/no-show", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The ticket, now a no-show", body = TicketView),
        (status = 400, description = "Bad window number", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "Another window's token", body = ErrorBody),
        (status = 404, description = "Unknown window", body = ErrorBody),
        (status = 409, description = "No current ticket, or in the wrong state", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
async fn no_show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(window): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    simple_window_op(state, headers, window, |q, w, now| q.no_show(w, now)).await
}

/// Body of `POST /api/windows/{n}/transfer`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TransferBody {
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
        (status = 400, description = "Bad window number", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "Another window's token", body = ErrorBody),
        (status = 404, description = "Unknown window", body = ErrorBody),
        (status = 409, description = "No current ticket, or in the wrong state", body = ErrorBody),
        (status = 422, description = "Bad body, unknown service or nowhere to transfer to", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
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

/// The window stops calling.
#[utoipa::path(post, path = "/api/windows/{window}/pause", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The window", body = WindowView),
        (status = 400, description = "Bad window number", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "Another window's token", body = ErrorBody),
        (status = 404, description = "Unknown window", body = ErrorBody),
        (status = 409, description = "Already paused", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
async fn pause(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(window): Path<String>,
) -> Result<Json<WindowView>, ApiError> {
    pause_resume(state, headers, window, true).await
}

/// The window calls again.
#[utoipa::path(post, path = "/api/windows/{window}/resume", tag = "windows", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The window", body = WindowView),
        (status = 400, description = "Bad window number", body = ErrorBody),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "Another window's token", body = ErrorBody),
        (status = 404, description = "Unknown window", body = ErrorBody),
        (status = 409, description = "Not paused", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
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

/// Puts a no-show ticket back in its place in line, within the grace period.
#[utoipa::path(post, path = "/api/tickets/{number}/rejoin", tag = "tickets", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed", example = "A012")),
    responses(
        (status = 200, description = "The ticket, waiting again", body = TicketView),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 404, description = "No such number today", body = ErrorBody),
        (status = 409, description = "Not a no-show, or the grace period is over", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
async fn rejoin(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    principal(&state.cfg, &headers)?;
    window_op(&state, move |h| h.exec(|q, now| q.rejoin(&number, now))).await
}

/// Withdraws a ticket.
#[utoipa::path(post, path = "/api/tickets/{number}/cancel", tag = "tickets", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed", example = "A012")),
    responses(
        (status = 200, description = "The cancelled ticket", body = TicketView),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 404, description = "No such number today", body = ErrorBody),
        (status = 409, description = "Already closed", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    principal(&state.cfg, &headers)?;
    window_op(&state, move |h| h.exec(|q, now| q.cancel(&number, now))).await
}
