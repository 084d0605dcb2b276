//! Who is asking: bearer tokens, and one extractor per role.
//!
//! Each handler names the role it serves in its signature — [`Staff`]
//! (the manager or a window), [`WindowStaff`] (the window in the path, or
//! the manager), [`Manager`], [`Helper`] (a helper or the manager, on the
//! case routes), [`Caller`] (any token but a display's) and [`Viewer`] (the
//! event stream: staff or a display, also by `?token=`) — and the extractor
//! refuses everyone else with 401 or 403 before the handler runs.
//!
//! A PIN session's token (`crate::pins::Sessions`, opened by
//! `POST /api/login/pin`) is looked up after the configured ones and names
//! its window, exactly as that window's configured token does.
//!
//! Tokens are compared in constant time: the presented token's SHA-256 is
//! compared with every configured token's, all of them every time, and the
//! match is selected without a branch, so the time taken tells neither the
//! length of a token nor which role matched.

use axum::extract::{FromRequestParts, Query, RawPathParams};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::{ApiError, AppState};
use crate::cases::Actor;
use crate::config::Config;

/// Who presented the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The hall manager.
    Manager,
    /// A window's staff.
    Window(u32),
    /// A helper (协办员), by id: case routes only.
    Helper(String),
    /// A hall display (`[api] display_token`): the event stream only.
    Display,
    /// A ticket machine of the hall (`[[kiosks]]`), by id: the kiosk
    /// routes only.
    Kiosk(String),
    /// A window's evaluator (`[[windows]] evaluator_token`): rates that
    /// window's tickets, nothing else.
    Evaluator(u32),
    /// The booking hotline (`[api] hotline_token`): the booking routes
    /// only.
    Hotline,
}

impl Principal {
    /// The actor the journal and the audit log record for this token's
    /// holder (a display never acts).
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Manager => Actor::Manager,
            Principal::Window(w) => Actor::Window(*w),
            Principal::Helper(h) => Actor::Helper(h.clone()),
            Principal::Kiosk(k) => Actor::Kiosk(Some(k.clone())),
            Principal::Display => Actor::System,
            Principal::Evaluator(w) => Actor::Evaluator(*w),
            Principal::Hotline => Actor::Hotline,
        }
    }
}

/// The configured tokens, as digests.
#[derive(Debug, Clone)]
pub struct Tokens(Vec<([u8; 32], Principal)>);

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Tokens {
    /// Every token of the configuration.
    pub fn of(cfg: &Config) -> Tokens {
        let mut all = Vec::new();
        if let Some(m) = &cfg.api.manager_token {
            all.push((digest(m.expose()), Principal::Manager));
        }
        if let Some(d) = &cfg.api.display_token {
            all.push((digest(d.expose()), Principal::Display));
        }
        if let Some(t) = &cfg.api.hotline_token {
            all.push((digest(t.expose()), Principal::Hotline));
        }
        for w in &cfg.windows {
            all.push((digest(w.token.expose()), Principal::Window(w.number)));
            if let Some(e) = &w.evaluator_token {
                all.push((digest(e.expose()), Principal::Evaluator(w.number)));
            }
        }
        for h in &cfg.helpers {
            all.push((digest(h.token.expose()), Principal::Helper(h.id.clone())));
        }
        for k in &cfg.kiosks {
            all.push((digest(k.token.expose()), Principal::Kiosk(k.id.clone())));
        }
        Tokens(all)
    }

    /// Whose token this is, if anyone's.
    pub fn identify(&self, token: &str) -> Option<Principal> {
        let presented = digest(token);
        // 0: none; i + 1: the i-th token.
        let mut found = 0u32;
        for (i, (d, _)) in self.0.iter().enumerate() {
            let hit = presented.ct_eq(d);
            found.conditional_assign(&(i as u32 + 1), hit);
        }
        let i = usize::try_from(found).ok()?.checked_sub(1)?;
        self.0.get(i).map(|(_, p)| p.clone())
    }
}

/// The bearer token of the `Authorization` header, if any.
pub(super) fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

pub(super) fn display_refused() -> ApiError {
    forbidden("显示屏令牌只能用于事件流 (/api/events)")
}

fn helper_refused() -> ApiError {
    forbidden("协办员令牌只能用于协办接口")
}

pub(super) fn kiosk_refused() -> ApiError {
    forbidden("自助机令牌只能用于自助机接口")
}

pub(super) fn evaluator_refused() -> ApiError {
    forbidden("评价器令牌只能用于本窗口的评价 (/api/rate/{window})")
}

pub(super) fn hotline_refused() -> ApiError {
    forbidden("预约热线令牌只能用于预约接口 (/api/bookings)")
}

/// Any valid token's holder.
fn identify(state: &AppState, token: Option<&str>) -> Result<Principal, ApiError> {
    let token = token.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "缺少令牌 (Authorization: Bearer ...)",
        )
    })?;
    state
        .tokens
        .identify(token)
        .or_else(|| {
            // A PIN session acts as its window's token, no more.
            crate::sync::lock(&state.sessions)
                .window_of(token, state.clock.now().0)
                .map(Principal::Window)
        })
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "令牌无效"))
}

/// The manager or a window's staff: the queue's routes.
#[derive(Debug, Clone)]
pub struct Staff(pub Principal);

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match identify(state, bearer(parts))? {
            p @ (Principal::Manager | Principal::Window(_)) => Ok(Staff(p)),
            Principal::Helper(_) => Err(helper_refused()),
            Principal::Kiosk(_) => Err(kiosk_refused()),
            Principal::Display => Err(display_refused()),
            Principal::Evaluator(_) => Err(evaluator_refused()),
            Principal::Hotline => Err(hotline_refused()),
        }
    }
}

/// Any token but a display's or a kiosk machine's: the manager's, a
/// window's, a helper's, an evaluator's or the hotline's (whose routes
/// refuse them but `GET /api/me` and, for an evaluator, its window's
/// ratings).
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match identify(state, bearer(parts))? {
            Principal::Display => Err(display_refused()),
            Principal::Kiosk(_) => Err(kiosk_refused()),
            p => Ok(Caller(p)),
        }
    }
}

/// The manager alone.
#[derive(Debug, Clone, Copy)]
pub struct Manager;

impl FromRequestParts<AppState> for Manager {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match identify(state, bearer(parts))? {
            Principal::Manager => Ok(Manager),
            Principal::Display => Err(display_refused()),
            Principal::Kiosk(_) => Err(kiosk_refused()),
            Principal::Evaluator(_) => Err(evaluator_refused()),
            Principal::Hotline => Err(hotline_refused()),
            _ => Err(forbidden("只有管理员可以使用此接口")),
        }
    }
}

/// A helper or the manager, on the case routes (as the cases' actor).
#[derive(Debug, Clone)]
pub struct Helper(pub Actor);

impl FromRequestParts<AppState> for Helper {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match identify(state, bearer(parts))? {
            Principal::Manager => Ok(Helper(Actor::Manager)),
            Principal::Helper(id) => Ok(Helper(Actor::Helper(id))),
            Principal::Window(_) => Err(forbidden("窗口令牌不能使用协办接口")),
            Principal::Kiosk(_) => Err(kiosk_refused()),
            Principal::Display => Err(display_refused()),
            Principal::Evaluator(_) => Err(evaluator_refused()),
            Principal::Hotline => Err(hotline_refused()),
        }
    }
}

/// The window named by the path's `{window}`, for its own staff or the
/// manager (the second field: who acts). A window number that does not
/// parse is a 400, before any token is looked at.
#[derive(Debug, Clone)]
pub struct WindowStaff(pub u32, pub Actor);

impl FromRequestParts<AppState> for WindowStaff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let window = path_window(parts, state).await?;
        match identify(state, bearer(parts))? {
            Principal::Manager => Ok(WindowStaff(window, Actor::Manager)),
            Principal::Window(w) if w == window => Ok(WindowStaff(window, Actor::Window(w))),
            Principal::Window(w) => Err(forbidden(format!(
                "{w} 号窗口的令牌不能操作 {window} 号窗口"
            ))),
            Principal::Helper(_) => Err(helper_refused()),
            Principal::Kiosk(_) => Err(kiosk_refused()),
            Principal::Display => Err(display_refused()),
            Principal::Evaluator(_) => Err(evaluator_refused()),
            Principal::Hotline => Err(hotline_refused()),
        }
    }
}

/// The window named by the path's `{window}`, for the manager alone: the
/// window's login PIN. A window number that does not parse is a 400,
/// before any token is looked at.
#[derive(Debug, Clone, Copy)]
pub struct ManagerOfWindow(pub u32);

impl FromRequestParts<AppState> for ManagerOfWindow {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let window = path_window(parts, state).await?;
        Manager::from_request_parts(parts, state).await?;
        Ok(ManagerOfWindow(window))
    }
}

/// Any valid token, with the token itself: logging a session out.
#[derive(Debug, Clone)]
pub struct Presented(pub String, pub Principal);

impl FromRequestParts<AppState> for Presented {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts);
        let who = identify(state, token)?;
        Ok(Presented(token.unwrap_or_default().to_string(), who))
    }
}

/// The window named by the path's `{window}`, for its evaluator, its own
/// staff or the manager: the evaluator's routes. The second field is who
/// rates (the evaluator, or staff setting the page up).
#[derive(Debug, Clone)]
pub struct EvaluatorOf(pub u32, pub Actor);

impl FromRequestParts<AppState> for EvaluatorOf {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let window = path_window(parts, state).await?;
        match identify(state, bearer(parts))? {
            Principal::Manager => Ok(EvaluatorOf(window, Actor::Manager)),
            Principal::Window(w) | Principal::Evaluator(w) if w != window => Err(forbidden(
                format!("{w} 号窗口的令牌不能为 {window} 号窗口评价"),
            )),
            Principal::Window(w) => Ok(EvaluatorOf(window, Actor::Window(w))),
            Principal::Evaluator(w) => Ok(EvaluatorOf(window, Actor::Evaluator(w))),
            Principal::Helper(_) => Err(helper_refused()),
            Principal::Kiosk(_) => Err(kiosk_refused()),
            Principal::Display => Err(display_refused()),
            Principal::Hotline => Err(hotline_refused()),
        }
    }
}

/// The path's `{window}`; one that does not parse is a 400, before any
/// token is looked at.
async fn path_window(parts: &mut Parts, state: &AppState) -> Result<u32, ApiError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let raw = params
        .iter()
        .find(|(k, _)| *k == "window")
        .map(|(_, v)| v.to_string())
        .unwrap_or_default();
    raw.parse::<u32>().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("窗口号 \"{raw}\" 无效"),
        )
    })
}

/// A ticket machine of the hall, by id: the kiosk routes only.
#[derive(Debug, Clone)]
pub struct KioskMachine(pub String);

impl FromRequestParts<AppState> for KioskMachine {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match identify(state, bearer(parts))? {
            Principal::Kiosk(id) => Ok(KioskMachine(id)),
            Principal::Display => Err(display_refused()),
            _ => Err(forbidden("只有自助机的令牌可以使用自助机接口")),
        }
    }
}

/// Who may book, move and cancel appointments: the manager and the
/// hotline for every service, a window's staff for the services its
/// window calls (the handlers check the service).
#[derive(Debug, Clone)]
pub struct Booker(pub Principal);

impl FromRequestParts<AppState> for Booker {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match identify(state, bearer(parts))? {
            p @ (Principal::Manager | Principal::Window(_) | Principal::Hotline) => Ok(Booker(p)),
            Principal::Helper(_) => Err(helper_refused()),
            Principal::Kiosk(_) => Err(kiosk_refused()),
            Principal::Display => Err(display_refused()),
            Principal::Evaluator(_) => Err(evaluator_refused()),
        }
    }
}

/// Query string of the event stream: `?token=` for browsers' EventSource,
/// which cannot set a header.
#[derive(Debug, Default, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// Who may follow the event stream: staff (not helpers) and the hall
/// displays' own token; from the header or `?token=`.
#[derive(Debug, Clone, Copy)]
pub struct Viewer;

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Query(query) = Query::<TokenQuery>::try_from_uri(&parts.uri).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("查询参数无效: {}", e.body_text()),
            )
        })?;
        let from_query = query.token;
        let token = bearer(parts).map(str::to_string).or(from_query);
        match identify(state, token.as_deref())? {
            Principal::Helper(_) => Err(helper_refused()),
            Principal::Kiosk(_) => Err(kiosk_refused()),
            Principal::Evaluator(_) => Err(evaluator_refused()),
            Principal::Hotline => Err(hotline_refused()),
            _ => Ok(Viewer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens(vec![
            (digest("manager-token-000001"), Principal::Manager),
            (digest("window-1-token-00001"), Principal::Window(1)),
            (digest("window-2-token-00002"), Principal::Window(2)),
            (
                digest("helper-token-0000001"),
                Principal::Helper("h1".into()),
            ),
        ])
    }

    #[test]
    fn each_token_names_its_holder_and_nothing_else_matches() {
        let t = tokens();
        assert_eq!(t.identify("manager-token-000001"), Some(Principal::Manager));
        assert_eq!(
            t.identify("window-2-token-00002"),
            Some(Principal::Window(2))
        );
        assert_eq!(
            t.identify("helper-token-0000001"),
            Some(Principal::Helper("h1".into()))
        );
        for wrong in [
            "",
            "window-2-token-0000",
            "window-2-token-000021",
            "manager",
        ] {
            assert_eq!(t.identify(wrong), None, "{wrong:?}");
        }
    }
}
