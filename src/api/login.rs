//! Logging a window in with a short PIN instead of its 32-character token.
//!
//! The manager sets or clears each window's PIN (`PUT`/`DELETE
//! /api/windows/{window}/pin`), sees every window's PIN and lock-out
//! (`GET /api/pins`) and lifts a lock-out (`POST
//! /api/windows/{window}/pin/unlock`). A clerk picks the window from `GET
//! /api/login/windows` (numbers only) and exchanges its PIN for a session
//! (`POST /api/login/pin`) that acts as the window's token; `POST
//! /api/logout` ends it. The rules (what a PIN may be, the hash, the
//! lock-out, the sessions) are `crate::pins`'; every attempt and change is
//! in the audit log with its actor and window, never the PIN.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Manager, ManagerOfWindow, Presented, Principal};
use super::error::{CallerErrors, ManagerErrors};
use super::{ApiError, AppState, ErrorBody};
use crate::cases::Actor;
use crate::config::Config;
use crate::hall::{Hall, HallError};
use crate::pins;
use crate::store::{AuditEntry, PinAttempts, StoreError};

/// The routes, merged into the API's router.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login_windows))
        .routes(routes!(pin_login))
        .routes(routes!(logout))
        .routes(routes!(pin_list))
        .routes(routes!(set_pin, clear_pin))
        .routes(routes!(unlock))
}

/// `GET /api/login/windows`: the hall's window numbers, for the login
/// form's choice. Nothing else.
#[derive(Debug, Serialize, ToSchema)]
struct LoginWindows {
    /// Window numbers, in configuration order.
    windows: Vec<u32>,
}

/// Body of `POST /api/login/pin` (no `Debug`: it holds the PIN).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PinLogin {
    /// The window to log in to.
    window: u32,
    /// Its PIN, 4 to 8 digits.
    pin: String,
}

/// A window's PIN session: use `token` as the window's bearer token.
#[derive(Serialize, ToSchema)]
struct PinSession {
    /// The session's bearer token (64 hex characters).
    token: String,
    /// The window it acts for.
    window: u32,
    /// When it ends (ms since the epoch).
    expires_at_ms: i64,
    /// When it ends, in the hall's time (`2026-12-01 21:30`).
    expires: String,
}

/// Body of `PUT /api/windows/{window}/pin` (no `Debug`: it holds the PIN).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SetPin {
    /// 4 to 8 digits, not a trivial one (1111, 1234, 1212…).
    pin: String,
}

/// A window's PIN login as the manager sees it (never the PIN).
#[derive(Debug, Serialize, ToSchema)]
struct PinView {
    /// The window.
    window: u32,
    /// Whether it has a PIN.
    set: bool,
    /// When the PIN was set, in the hall's time.
    set_at: Option<String>,
    /// Who set it (`manager`).
    set_by: Option<String>,
    /// Wrong PINs counted now (a lock-out at 5).
    failures: u32,
    /// Until when PIN login is locked out (ms since the epoch), if it is.
    locked_until_ms: Option<i64>,
    /// The same, in the hall's time (`10:45`).
    locked_until: Option<String>,
}

/// `POST /api/logout`'s answer.
#[derive(Debug, Serialize, ToSchema)]
struct LoggedOut {
    /// Whether a PIN session ended (a configured token cannot be revoked).
    revoked: bool,
}

fn local(t: i64, cfg: &Config, format: &str) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map(|d| {
            d.with_timezone(&cfg.day.timezone)
                .format(format)
                .to_string()
        })
        .unwrap_or_default()
}

fn store_err(e: StoreError) -> ApiError {
    HallError::from(e).into()
}

fn internal(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "no randomness for a PIN or session");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "内部错误：无法生成随机数",
    )
}

/// A body that does not parse: never echoed (it may hold a PIN).
fn bad_body(_: JsonRejection, shape: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_request",
        format!("请求内容无效，应为 {shape}"),
    )
}

fn known_window(cfg: &Config, window: u32) -> Result<(), ApiError> {
    if cfg.windows.iter().any(|w| w.number == window) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_window",
            format!("没有 {window} 号窗口"),
        ))
    }
}

/// One line of the audit log about a window's PIN login.
fn audit(h: &Hall, actor: &Actor, action: &str, window: u32, result: &str) {
    let entry = AuditEntry {
        at: h.now().0,
        actor: actor.recorded(),
        action: action.into(),
        subject: Some(format!("window {window}")),
        result: result.into(),
        detail: None,
    };
    if let Err(e) = h.store().audit(&entry) {
        tracing::error!(error = %e, window, action, "cannot audit a PIN login");
    }
}

fn view_of(h: &Hall, cfg: &Config, window: u32) -> Result<PinView, StoreError> {
    let pin = h.store().window_pin(window)?;
    let attempts = h.store().pin_attempts(window)?;
    Ok(view(
        cfg,
        window,
        pin.map(|p| (p.set_at, p.set_by)),
        attempts,
        h.now().0,
    ))
}

fn view(
    cfg: &Config,
    window: u32,
    set: Option<(i64, String)>,
    a: PinAttempts,
    now: i64,
) -> PinView {
    let locked = pins::locked_until(&a, now);
    let counting = a
        .first_at
        .is_some_and(|f| now - f < pins::FAILURE_PERIOD_MS);
    PinView {
        window,
        set: set.is_some(),
        set_at: set
            .as_ref()
            .map(|(at, _)| local(*at, cfg, "%Y-%m-%d %H:%M")),
        set_by: set.map(|(_, by)| by),
        failures: if counting || locked.is_some() {
            a.failures
        } else {
            0
        },
        locked_until_ms: locked,
        locked_until: locked.map(|t| local(t, cfg, "%H:%M")),
    }
}

/// The hall's window numbers, for the console's login form (no token:
/// numbers only).
#[utoipa::path(get, path = "/api/login/windows", tag = "login",
    responses((status = 200, description = "The window numbers", body = LoginWindows)))]
async fn login_windows(State(state): State<AppState>) -> Json<LoginWindows> {
    Json(LoginWindows {
        windows: state.cfg.windows.iter().map(|w| w.number).collect(),
    })
}

/// What one PIN login attempt came to.
enum Attempt {
    Right,
    Wrong { left: u32 },
    Locked { until: i64 },
    NoPin,
}

/// Checks a PIN against the window's, counting a wrong one and locking
/// the window's PIN login out at the fifth; audits the attempt.
fn attempt(h: &Hall, window: u32, pin: &str) -> Result<Attempt, StoreError> {
    let now = h.now().0;
    let who = Actor::Window(window);
    let Some(stored) = h.store().window_pin(window)? else {
        audit(h, &who, "pin.login", window, "no_pin");
        return Ok(Attempt::NoPin);
    };
    let before = h.store().pin_attempts(window)?;
    if let Some(until) = pins::locked_until(&before, now) {
        audit(h, &who, "pin.login", window, "locked_out");
        return Ok(Attempt::Locked { until });
    }
    if pins::matches(&stored, pin) {
        h.store()
            .record_pin_attempts(window, &PinAttempts::default())?;
        audit(h, &who, "pin.login", window, "ok");
        return Ok(Attempt::Right);
    }
    let after = pins::after_failure(before, now);
    h.store().record_pin_attempts(window, &after)?;
    match pins::locked_until(&after, now) {
        Some(until) => {
            audit(h, &who, "pin.login", window, "wrong_pin_locked");
            tracing::warn!(window, "PIN login locked out after repeated wrong PINs");
            Ok(Attempt::Locked { until })
        }
        None => {
            audit(h, &who, "pin.login", window, "wrong_pin");
            Ok(Attempt::Wrong {
                left: pins::attempts_left(&after),
            })
        }
    }
}

/// 429 with `Retry-After` and when to try again.
fn locked_out(cfg: &Config, window: u32, until: i64, now: i64) -> Response {
    let secs = ((until - now).max(0) + 999) / 1000;
    let message = format!(
        "密码错误次数过多，{window} 号窗口的密码登录已锁定，请在 {} 后重试，或请管理员解除锁定",
        local(until, cfg, "%H:%M")
    );
    let mut resp =
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "locked_out", message).into_response();
    resp.headers_mut().insert(
        header::RETRY_AFTER,
        secs.to_string().parse().expect("digits"),
    );
    resp
}

/// Exchanges a window's PIN for a session that acts as the window's
/// token for 12 hours (or until logout, a new PIN, or a restart). Five
/// wrong PINs within 15 minutes lock the window's PIN login out for 15
/// minutes (429, even for the right PIN).
#[utoipa::path(post, path = "/api/login/pin", tag = "login",
    request_body = PinLogin,
    responses(
        (status = 200, description = "The window's session", body = PinSession),
        (status = 401, description = "Wrong PIN (`wrong_pin`; the message says how many tries are left)", body = ErrorBody),
        (status = 404, description = "Unknown window", body = ErrorBody),
        (status = 409, description = "The window has no PIN (`no_pin`): log in with its token", body = ErrorBody),
        (status = 422, description = "Bad body", body = ErrorBody),
        (status = 429, description = "Locked out (`locked_out`) after repeated wrong PINs; `Retry-After` says for how long", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
async fn pin_login(
    State(state): State<AppState>,
    body: Result<Json<PinLogin>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|r| bad_body(r, "{\"window\": 窗口号, \"pin\": \"密码\"}"))?;
    let window = body.window;
    known_window(&state.cfg, window)?;
    let outcome = super::locked(state.hall.clone(), move |h| attempt(h, window, &body.pin)).await?;
    let now = state.clock.now().0;
    match outcome {
        Attempt::Right => {
            let (token, expires_at_ms) = crate::sync::lock(&state.sessions)
                .open(window, now)
                .map_err(internal)?;
            Ok(Json(PinSession {
                token,
                window,
                expires_at_ms,
                expires: local(expires_at_ms, &state.cfg, "%Y-%m-%d %H:%M"),
            })
            .into_response())
        }
        Attempt::Wrong { left } => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong_pin",
            format!("密码错误，还可再试 {left} 次"),
        )),
        Attempt::Locked { until } => Ok(locked_out(&state.cfg, window, until, now)),
        Attempt::NoPin => Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_pin",
            format!("{window} 号窗口尚未设置登录密码，请管理员设置，或使用令牌登录"),
        )),
    }
}

/// Ends the PIN session whose token is presented. A configured token is
/// accepted and stays valid (`revoked: false`).
#[utoipa::path(post, path = "/api/logout", tag = "login", security(("bearer" = [])),
    responses(
        (status = 200, description = "Logged out", body = LoggedOut),
        CallerErrors,
    ))]
async fn logout(
    State(state): State<AppState>,
    Presented(token, who): Presented,
) -> Result<Json<LoggedOut>, ApiError> {
    let revoked = crate::sync::lock(&state.sessions).revoke(&token);
    if let (true, Principal::Window(w)) = (revoked, &who) {
        let (w, actor) = (*w, who.actor());
        super::locked(state.hall.clone(), move |h| -> Result<(), ApiError> {
            audit(h, &actor, "pin.logout", w, "ok");
            Ok(())
        })
        .await?;
    }
    Ok(Json(LoggedOut { revoked }))
}

/// Every window's PIN login: whether it has a PIN, wrong PINs, lock-out.
#[utoipa::path(get, path = "/api/pins", tag = "login", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every window, in configuration order", body = Vec<PinView>),
        ManagerErrors,
    ))]
async fn pin_list(
    State(state): State<AppState>,
    _: Manager,
) -> Result<Json<Vec<PinView>>, ApiError> {
    let cfg = state.cfg.clone();
    super::locked(state.hall.clone(), move |h| -> Result<_, ApiError> {
        let now = h.now().0;
        let known = h.store().pin_statuses().map_err(store_err)?;
        let views = cfg
            .windows
            .iter()
            .map(|w| match known.iter().find(|s| s.window == w.number) {
                Some(s) => view(&cfg, w.number, s.set.clone(), s.attempts, now),
                None => view(&cfg, w.number, None, PinAttempts::default(), now),
            })
            .collect();
        Ok(Json(views))
    })
    .await
}

/// Sets (or replaces) a window's PIN; clears its lock-out and ends its
/// PIN sessions.
#[utoipa::path(put, path = "/api/windows/{window}/pin", tag = "login", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    request_body = SetPin,
    responses(
        (status = 200, description = "The window's PIN login", body = PinView),
        (status = 400, description = "Bad window number", body = ErrorBody),
        (status = 404, description = "Unknown window", body = ErrorBody),
        (status = 422, description = "Not 4 to 8 digits (`bad_pin`), too easy to guess (`trivial_pin`), or a bad body", body = ErrorBody),
        ManagerErrors,
    ))]
async fn set_pin(
    State(state): State<AppState>,
    ManagerOfWindow(window): ManagerOfWindow,
    body: Result<Json<SetPin>, JsonRejection>,
) -> Result<Json<PinView>, ApiError> {
    known_window(&state.cfg, window)?;
    let Json(body) = body.map_err(|r| bad_body(r, "{\"pin\": \"4 到 8 位数字\"}"))?;
    pins::check(&body.pin).map_err(|e| match e {
        pins::PinRefused::Format => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_pin",
            "密码须为 4 到 8 位数字",
        ),
        pins::PinRefused::Trivial => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "trivial_pin",
            "密码过于简单（同一数字重复、连续数字或重复的数字组，如 1111、1234、1212），请换一个",
        ),
    })?;
    let stored = pins::stored(&body.pin, state.clock.now().0, Actor::Manager.recorded())
        .map_err(internal)?;
    let cfg = state.cfg.clone();
    let view = super::locked(state.hall.clone(), move |h| -> Result<_, ApiError> {
        h.store()
            .set_window_pin(window, &stored)
            .map_err(store_err)?;
        audit(h, &Actor::Manager, "pin.set", window, "ok");
        view_of(h, &cfg, window).map_err(store_err)
    })
    .await?;
    crate::sync::lock(&state.sessions).revoke_window(window);
    Ok(Json(view))
}

/// Clears a window's PIN (its token still works); ends its PIN sessions.
#[utoipa::path(delete, path = "/api/windows/{window}/pin", tag = "login", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The window's PIN login, now without a PIN", body = PinView),
        (status = 400, description = "Bad window number", body = ErrorBody),
        (status = 404, description = "Unknown window", body = ErrorBody),
        ManagerErrors,
    ))]
async fn clear_pin(
    State(state): State<AppState>,
    ManagerOfWindow(window): ManagerOfWindow,
) -> Result<Json<PinView>, ApiError> {
    known_window(&state.cfg, window)?;
    let cfg = state.cfg.clone();
    let view = super::locked(state.hall.clone(), move |h| -> Result<_, ApiError> {
        let had = h.store().clear_window_pin(window).map_err(store_err)?;
        audit(
            h,
            &Actor::Manager,
            "pin.clear",
            window,
            if had { "ok" } else { "none" },
        );
        view_of(h, &cfg, window).map_err(store_err)
    })
    .await?;
    crate::sync::lock(&state.sessions).revoke_window(window);
    Ok(Json(view))
}

/// Lifts a window's PIN lock-out and forgets its wrong PINs.
#[utoipa::path(post, path = "/api/windows/{window}/pin/unlock", tag = "login", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The window's PIN login, unlocked", body = PinView),
        (status = 400, description = "Bad window number", body = ErrorBody),
        (status = 404, description = "Unknown window", body = ErrorBody),
        ManagerErrors,
    ))]
async fn unlock(
    State(state): State<AppState>,
    ManagerOfWindow(window): ManagerOfWindow,
) -> Result<Json<PinView>, ApiError> {
    known_window(&state.cfg, window)?;
    let cfg = state.cfg.clone();
    let view = super::locked(state.hall.clone(), move |h| -> Result<_, ApiError> {
        h.store()
            .record_pin_attempts(window, &PinAttempts::default())
            .map_err(store_err)?;
        audit(h, &Actor::Manager, "pin.unlock", window, "ok");
        view_of(h, &cfg, window).map_err(store_err)
    })
    .await?;
    Ok(Json(view))
}
