//! The resident's progress, by the ticket's unguessable token (what the
//! printed QR code opens): `GET /api/status/{token}` (JSON), the page
//! `GET /t/{token}` (rendered in `pages.rs`, kept up to date by
//! `src/web/progress.js`), and the call for an accompanied resident's
//! helper, `POST /api/status/{token}/helper` (and `POST /t/{token}/helper`,
//! the same from the page without JavaScript).
//!
//! The token is the only credential: no login, and nothing that names the
//! resident. What the page says is worded here, in one pure function
//! ([`words`]), so that the JSON, the first paint and the tests agree.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, AppState, ErrorBody, LaneSchema};
use crate::cases::{self, CaseError, CaseEventKind};
use crate::config::Config;
use crate::hall::Hall;
use crate::queue::{Lane, Ticket, TicketState, Timestamp};

/// People ahead at which the page says `快到您了` (and the phone vibrates
/// once).
pub const NEAR: usize = 3;

/// An accompanied resident's helper, as their progress page shows them:
/// the helper's duty name only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusHelper {
    /// The helper's configured name (`王协办`).
    pub name: String,
    /// The resident asked the helper to come (`请协办员过来`) and the helper
    /// has not answered yet: the page shows no button until they do.
    pub called: bool,
    /// In words: `您的协办员：王协办` or `已通知协办员 王协办，请稍候`.
    pub message: String,
}

/// A ticket's progress, for the resident (the QR code's page): no personal
/// data.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TicketStatus {
    /// Number as printed.
    pub number: String,
    /// Service name (the service it is queued for now).
    pub service_name: String,
    /// `waiting`, `called`, `serving`, `done` or `closed`.
    pub status: String,
    /// People ahead while waiting.
    pub ahead: Option<usize>,
    /// The window to go to, once called.
    pub window: Option<u32>,
    /// In words: `前面还有 3 人`, `请到 3 号窗口`, `已办结`, `您已过号`.
    pub message: String,
    /// While waiting, once the day has enough finished services: the
    /// estimated wait as a range (`预计等候 10–20 分钟`).
    pub wait: Option<String>,
    /// The ticket's own state: `waiting`, `transferred`, `called`,
    /// `serving`, `done`, `no_show`, `cancelled` or `expired`.
    pub state: String,
    /// `priority` (the green-wave lane, `绿波通道`) or `normal`.
    #[schema(value_type = LaneSchema)]
    pub lane: Lane,
    /// Time of issue in the hall's time zone (`09:41`).
    pub issued_at: String,
    /// While waiting: the windows that may call it (after a transfer to a
    /// window, that one only).
    pub windows: Vec<u32>,
    /// While waiting with at most three people ahead (`快到您了`).
    pub near: bool,
    /// What to do, in words: `请留意 1、2 号窗口叫号`, `已转到 医保业务，请留意
    /// 3 号窗口叫号`, `请在 10:15 前到 1 号窗口重新排队`, `已超过重新排队时间，
    /// 请重新取号`; empty when there is nothing to do.
    pub guide: String,
    /// A reminder while waiting (`请不要走远，以免过号`); else empty.
    pub advice: String,
    /// After a no-show, while it may still be put back in line: until when
    /// (`10:15`, the hall's time; the no-show's time plus the rejoin grace).
    pub rejoin_by: Option<String>,
    /// An accompanied resident's helper, once the case has one.
    pub helper: Option<StatusHelper>,
    /// When this was read, in the hall's time zone (`09:41:05`): the
    /// page's `更新于`, in the hall's time whatever the phone's zone.
    pub as_of: String,
    /// The ticket's rating once given (`满意`), from any source; while
    /// none and the ticket is finished, the page offers the five levels
    /// (`POST /api/status/{token}/rating`).
    pub rating: Option<String>,
}

/// `t` in the hall's time zone, formatted (`%H:%M`).
fn local(t: Timestamp, cfg: &Config, format: &str) -> String {
    chrono::DateTime::from_timestamp_millis(t.0)
        .map(|d| {
            d.with_timezone(&cfg.day.timezone)
                .format(format)
                .to_string()
        })
        .unwrap_or_default()
}

/// `HH:MM` in the hall's time zone.
fn clock_time(t: Timestamp, cfg: &Config) -> String {
    local(t, cfg, "%H:%M")
}

/// The windows that may call a waiting ticket: the one it was transferred
/// to, or every window serving its service.
fn windows_for(t: &Ticket, cfg: &Config) -> Vec<u32> {
    match t.target_window {
        Some(w) => vec![w],
        None => cfg
            .windows
            .iter()
            .filter(|w| w.services.contains(&t.service))
            .map(|w| w.number)
            .collect(),
    }
}

/// `1、2`.
fn list(windows: &[u32]) -> String {
    let w: Vec<String> = windows.iter().map(u32::to_string).collect();
    w.join("、")
}

/// What to do while waiting: which windows to watch, and after a transfer
/// where it went.
fn waiting_guide(t: &Ticket, service: &str, windows: &[u32]) -> String {
    let watch = match windows {
        [] => "请留意叫号".to_string(),
        w => format!("请留意 {} 号窗口叫号", list(w)),
    };
    if t.state != TicketState::Transferred {
        return watch;
    }
    if t.service != t.origin_service {
        format!("已转到 {service}，{watch}")
    } else if let Some(w) = t.target_window {
        format!("已转到 {w} 号窗口，请留意叫号")
    } else {
        format!("已转办，{watch}")
    }
}

/// After a no-show: until when it may be put back in line (`None` once
/// the grace is over), and what to do.
fn no_show_guide(t: &Ticket, cfg: &Config, now: Timestamp) -> (Option<String>, String) {
    let at = t.closed_at.unwrap_or(t.issued_at);
    let grace = cfg.policy.rejoin_grace;
    // The queue's own rule (`Queue::rejoin`): within the grace, inclusive.
    if now.since(at) > grace {
        return (None, "已超过重新排队时间，请重新取号".to_string());
    }
    let by = clock_time(
        Timestamp(at.0 + i64::try_from(grace.as_millis()).unwrap_or(i64::MAX / 2)),
        cfg,
    );
    let place = match t.window {
        Some(w) => format!(" {w} 号窗口"),
        None => "窗口".to_string(),
    };
    (Some(by.clone()), format!("请在 {by} 前到{place}重新排队"))
}

/// The helper's words on the page.
pub fn helper_words(name: &str, called: bool) -> StatusHelper {
    StatusHelper {
        name: name.to_string(),
        called,
        message: if called {
            format!("已通知协办员 {name}，请稍候")
        } else {
            format!("您的协办员：{name}")
        },
    }
}

/// What the resident's page says about ticket `t` at `now`. Pure: the
/// queue's figures (`ahead`, `wait`) and the helper are read by the caller.
pub fn words(
    t: &Ticket,
    cfg: &Config,
    now: Timestamp,
    ahead: Option<usize>,
    wait: Option<String>,
    helper: Option<StatusHelper>,
) -> TicketStatus {
    let service = cfg
        .service(&t.service)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let window = t.window.unwrap_or(0);
    let mut windows = Vec::new();
    let mut rejoin_by = None;
    let (status, message, guide) = match t.state {
        s if s.is_waiting() => {
            windows = windows_for(t, cfg);
            let guide = waiting_guide(t, &service, &windows);
            (
                "waiting",
                format!("前面还有 {} 人", ahead.unwrap_or(0)),
                guide,
            )
        }
        TicketState::Called => ("called", format!("请到 {window} 号窗口"), String::new()),
        TicketState::Serving => (
            "serving",
            format!("正在 {window} 号窗口办理"),
            String::new(),
        ),
        TicketState::Done => ("done", "已办结".to_string(), String::new()),
        TicketState::NoShow => {
            let (by, guide) = no_show_guide(t, cfg, now);
            rejoin_by = by;
            ("closed", "您已过号".to_string(), guide)
        }
        TicketState::Cancelled => (
            "closed",
            "已取消".to_string(),
            "如有疑问，请咨询工作人员".to_string(),
        ),
        _ => (
            "closed",
            t.state.label().to_string(),
            "请重新取号".to_string(),
        ),
    };
    let waiting = t.state.is_waiting();
    let near = waiting && ahead.is_some_and(|a| a <= NEAR);
    let advice = match (waiting, near) {
        (false, _) => "",
        (true, false) => "请不要走远，以免过号",
        (true, true) => "请到窗口附近等候",
    };
    TicketStatus {
        number: t.number.clone(),
        service_name: service,
        status: status.to_string(),
        ahead,
        window: t.window.filter(|_| t.state.is_at_window()),
        message,
        wait: wait.filter(|_| waiting),
        state: t.state.as_str().to_string(),
        lane: t.lane,
        issued_at: clock_time(t.issued_at, cfg),
        windows,
        near,
        guide,
        advice: advice.to_string(),
        rejoin_by,
        helper,
        as_of: local(now, cfg, "%H:%M:%S"),
        rating: None,
    }
}

fn unknown_ticket() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "unknown_ticket", "没有找到这张票")
}

/// Today's ticket with this token.
fn ticket_of(h: &Hall, token: &str) -> Result<Ticket, ApiError> {
    h.queue()
        .ticket_by_token(token.trim())
        .cloned()
        .ok_or_else(unknown_ticket)
}

/// The helper of a priority ticket's open, assigned case, and whether the
/// resident's call is open.
fn helper_of(h: &Hall, cfg: &Config, t: &Ticket) -> Result<Option<StatusHelper>, ApiError> {
    if t.lane != Lane::Priority {
        return Ok(None);
    }
    let Some(case) = h.store().case_of_ticket(t.id)? else {
        return Ok(None);
    };
    let Some(id) = case.helper.as_deref().filter(|_| case.is_open()) else {
        return Ok(None);
    };
    let name = cfg.helper(id).map(|c| c.name.as_str()).unwrap_or(id);
    let called = super::cases::open_call(h, &case)?.is_some();
    Ok(Some(helper_words(name, called)))
}

/// The status of today's ticket with this token, under the hall's lock.
fn status_of(h: &Hall, cfg: &Config, token: &str) -> Result<TicketStatus, ApiError> {
    let t = ticket_of(h, token)?;
    let q = h.queue();
    let ahead = q.ahead(t.id);
    let wait = q.estimated_wait(t.id).map(crate::kiosk::words::wait_words);
    let helper = helper_of(h, cfg, &t)?;
    // Only a finished ticket can be rated: no store read for the others.
    let rating = match t.state {
        TicketState::Done => h
            .store()
            .rating(t.id)?
            .map(|r| r.rating.as_str().to_string()),
        _ => None,
    };
    Ok(TicketStatus {
        rating,
        ..words(&t, cfg, h.now(), ahead, wait, helper)
    })
}

/// The status of the ticket with this token, read under the hall's lock.
pub(super) async fn read(state: &AppState, token: String) -> Result<TicketStatus, ApiError> {
    let cfg = state.cfg.clone();
    super::locked(state.hall.clone(), move |h| status_of(h, &cfg, &token)).await
}

/// A ticket's progress by its unguessable token (what the printed QR code
/// opens). No token needed, no personal data given.
#[utoipa::path(get, path = "/api/status/{token}", tag = "kiosk",
    params(("token" = String, Path, description = "The ticket's token from its QR code")),
    responses(
        (status = 200, description = "The ticket's progress", body = TicketStatus),
        (status = 404, description = "No such ticket today", body = ErrorBody),
    ))]
async fn status(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<TicketStatus>, ApiError> {
    read(&state, token).await.map(Json)
}

/// Records the resident's call for their helper unless one is open.
/// Returns whether it recorded one, and the status after.
fn call_helper(h: &Hall, cfg: &Config, token: &str) -> Result<(bool, TicketStatus), ApiError> {
    let t = ticket_of(h, token)?;
    let no_case = || {
        ApiError::new(
            StatusCode::CONFLICT,
            "no_case",
            "这张票没有协办服务（仅绿波通道号码有协办员）",
        )
    };
    let case = match t.lane {
        Lane::Priority => h.store().case_of_ticket(t.id)?.ok_or_else(no_case)?,
        Lane::Appointment | Lane::Normal => return Err(no_case()),
    };
    let events = h.store().case_events(case.id)?;
    let new = cases::check_resident_call(&case, &t.number, &events)?;
    if new {
        let kinds = [CaseEventKind::ResidentCalled];
        if !h
            .store()
            .record_case_events(case.id, h.now(), cases::RESIDENT, &kinds)?
        {
            return Err(CaseError::Closed(t.number.clone()).into());
        }
        tracing::info!(number = %t.number, "resident called their helper");
    }
    Ok((new, status_of(h, cfg, token)?))
}

/// An accompanied resident asks their helper to come (`请协办员过来` on the
/// progress page): recorded in the case's timeline and shown on the
/// helper's page until the helper answers. One open call per ticket:
/// asking again while it is open records nothing (200).
#[utoipa::path(post, path = "/api/status/{token}/helper", tag = "kiosk",
    params(("token" = String, Path, description = "The ticket's token from its QR code")),
    responses(
        (status = 201, description = "Called; the ticket's progress, now with `helper.called`", body = TicketStatus),
        (status = 200, description = "A call was open already; nothing recorded", body = TicketStatus),
        (status = 404, description = "No such ticket today (`unknown_ticket`)", body = ErrorBody),
        (status = 409, description = "No case (`no_case`: not a priority ticket), no helper yet (`no_helper`), or the case is closed (`case_closed`)", body = ErrorBody),
    ))]
async fn call(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<(StatusCode, Json<TicketStatus>), ApiError> {
    let cfg = state.cfg.clone();
    let (new, s) = super::locked(state.hall.clone(), move |h| call_helper(h, &cfg, &token)).await?;
    let code = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(s)))
}

/// The page's `请协办员过来` button without JavaScript: the same call as
/// `POST /api/status/{token}/helper`, then back to the page (303), which
/// shows the outcome.
#[utoipa::path(post, path = "/t/{token}/helper", tag = "kiosk",
    params(("token" = String, Path, description = "The ticket's token from its QR code")),
    responses(
        (status = 303, description = "Back to the progress page `/t/{token}`"),
        (status = 404, description = "No such ticket today", content_type = "text/html", body = String),
    ))]
async fn call_from_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let cfg = state.cfg.clone();
    let t = token.clone();
    match super::locked(state.hall.clone(), move |h| call_helper(h, &cfg, &t)).await {
        Err(e) if e.code() == "unknown_ticket" => page_response(&state, None),
        _ => {
            // The token is the page's own: letters only (anything else is
            // no ticket, answered above).
            let to = format!("/t/{}", token.trim());
            (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
        }
    }
}

/// The page for a status (or the "not found" page).
fn page_response(state: &AppState, s: Option<(&str, &TicketStatus)>) -> Response {
    super::pages::progress_page(&state.cfg.hall_name, s)
}

/// The page the ticket's QR code opens: the number, the lane, the time of
/// issue, `前面还有 N 人` and the windows to watch, `快到您了`, `请到 3 号窗口`,
/// what to do after a no-show or a transfer, an accompanied resident's
/// helper; kept up to date by its script (`src/web/progress.js`, every
/// 5 s; without JavaScript it reloads every 15 s). Large print, no
/// personal data; an unknown token gives a plain "not found" that does not
/// refresh.
#[utoipa::path(get, path = "/t/{token}", tag = "kiosk",
    params(("token" = String, Path, description = "The ticket's token from its QR code")),
    responses(
        (status = 200, description = "The progress page", content_type = "text/html", body = String),
        (status = 404, description = "No such ticket today", content_type = "text/html", body = String),
    ))]
async fn progress_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match read(&state, token.clone()).await {
        Ok(s) => page_response(&state, Some((token.trim(), &s))),
        Err(_) => page_response(&state, None),
    }
}

/// The resident's routes, for the router.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(call))
        .routes(routes!(progress_page))
        .routes(routes!(call_from_page))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::NaiveDate;

    use super::*;
    use crate::queue::TicketId;

    fn cfg() -> Config {
        Config::parse(
            r#"
data_dir = "data"
[hall]
name = "测试大厅"
[[services]]
code = "civil"
name = "民政救助"
letter = "A"
[[services]]
code = "medical"
name = "医保业务"
letter = "B"
[[windows]]
number = 1
token = "window-1-token-for-tests-only"
services = ["civil"]
[[windows]]
number = 2
token = "window-2-token-for-tests-only"
services = ["civil", "medical"]
[[windows]]
number = 3
token = "window-3-token-for-tests-only"
services = ["medical"]
[call_policy]
rejoin_grace = "15m"
[day]
timezone = "Asia/Shanghai"
"#,
            std::path::Path::new("/tmp/test.toml"),
        )
        .unwrap()
    }

    /// 2026-11-23 09:41 in Shanghai.
    const ISSUED: i64 = 1_795_398_060_000;
    const MIN: i64 = 60_000;

    fn ticket(state: TicketState) -> Ticket {
        Ticket {
            id: TicketId(1),
            day: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            number: "GA012".into(),
            service: "civil".into(),
            origin_service: "civil".into(),
            lane: Lane::Priority,
            seq: 12,
            issued_at: Timestamp(ISSUED),
            state,
            window: None,
            target_window: None,
            called_at: None,
            first_called_at: None,
            started_at: None,
            closed_at: None,
            calls: 0,
            transfers: 0,
            token: "tok".into(),
            person: Some("hash".into()),
            identified: None,
            slot_at: None,
            booking: None,
        }
    }

    #[test]
    fn waiting_says_lane_time_windows_and_when_it_is_near() {
        let c = cfg();
        let t = ticket(TicketState::Waiting);
        let s = words(
            &t,
            &c,
            Timestamp(ISSUED),
            Some(5),
            Some("预计等候 10–20 分钟".into()),
            None,
        );
        assert_eq!(
            (
                s.status.as_str(),
                s.state.as_str(),
                s.lane,
                s.issued_at.as_str()
            ),
            ("waiting", "waiting", Lane::Priority, "09:41")
        );
        assert_eq!(s.message, "前面还有 5 人");
        assert_eq!(s.windows, [1, 2]);
        assert_eq!(s.guide, "请留意 1、2 号窗口叫号");
        assert_eq!(s.advice, "请不要走远，以免过号");
        assert!(!s.near);
        assert_eq!(s.wait.as_deref(), Some("预计等候 10–20 分钟"));
        assert_eq!(s.as_of, "09:41:00");
        for ahead in [0, 3] {
            let s = words(&t, &c, Timestamp(ISSUED), Some(ahead), None, None);
            assert!(s.near, "{ahead} ahead is near");
            assert_eq!(s.advice, "请到窗口附近等候");
        }
        assert!(!words(&t, &c, Timestamp(ISSUED), Some(4), None, None).near);
    }

    #[test]
    fn called_and_serving_say_the_window() {
        let c = cfg();
        let mut t = ticket(TicketState::Called);
        t.window = Some(2);
        let s = words(&t, &c, Timestamp(ISSUED), None, Some("x".into()), None);
        assert_eq!(
            (s.status.as_str(), s.message.as_str()),
            ("called", "请到 2 号窗口")
        );
        assert_eq!((s.window, s.near, s.wait), (Some(2), false, None));
        assert!(s.windows.is_empty() && s.guide.is_empty() && s.advice.is_empty());
        t.state = TicketState::Serving;
        assert_eq!(
            words(&t, &c, Timestamp(ISSUED), None, None, None).message,
            "正在 2 号窗口办理"
        );
    }

    #[test]
    fn a_no_show_says_until_when_it_may_rejoin_then_that_the_grace_is_over() {
        let c = cfg();
        assert_eq!(c.policy.rejoin_grace, Duration::from_secs(15 * 60));
        let mut t = ticket(TicketState::NoShow);
        t.window = Some(1);
        // No-show at 10:00:30: until 10:15:30, shown as 10:15 (never later
        // than the truth).
        let at = ISSUED + 19 * MIN + 30_000;
        t.closed_at = Some(Timestamp(at));
        let s = words(&t, &c, Timestamp(at + MIN), None, None, None);
        assert_eq!((s.status.as_str(), s.state.as_str()), ("closed", "no_show"));
        assert_eq!(s.message, "您已过号");
        assert_eq!(s.rejoin_by.as_deref(), Some("10:15"));
        assert_eq!(s.guide, "请在 10:15 前到 1 号窗口重新排队");
        // The last instant of the grace still counts, as in Queue::rejoin.
        let s = words(&t, &c, Timestamp(at + 15 * MIN), None, None, None);
        assert_eq!(s.rejoin_by.as_deref(), Some("10:15"));
        let s = words(&t, &c, Timestamp(at + 15 * MIN + 1), None, None, None);
        assert_eq!(s.rejoin_by, None);
        assert_eq!(s.guide, "已超过重新排队时间，请重新取号");
    }

    #[test]
    fn a_transfer_says_where_it_went() {
        let c = cfg();
        let mut t = ticket(TicketState::Transferred);
        t.service = "medical".into();
        t.transfers = 1;
        let s = words(&t, &c, Timestamp(ISSUED), Some(1), None, None);
        assert_eq!(s.status, "waiting");
        assert_eq!(s.state, "transferred");
        assert_eq!(s.service_name, "医保业务");
        assert_eq!(s.windows, [2, 3]);
        assert_eq!(s.guide, "已转到 医保业务，请留意 2、3 号窗口叫号");
        t.target_window = Some(3);
        let s = words(&t, &c, Timestamp(ISSUED), Some(0), None, None);
        assert_eq!(
            (s.windows.as_slice(), s.guide.as_str()),
            (&[3][..], "已转到 医保业务，请留意 3 号窗口叫号")
        );
        t.service = "civil".into();
        t.target_window = Some(2);
        let s = words(&t, &c, Timestamp(ISSUED), Some(0), None, None);
        assert_eq!(s.guide, "已转到 2 号窗口，请留意叫号");
    }

    #[test]
    fn the_helper_is_named_and_a_call_is_acknowledged() {
        let c = cfg();
        let t = ticket(TicketState::Waiting);
        let s = words(
            &t,
            &c,
            Timestamp(ISSUED),
            Some(9),
            None,
            Some(helper_words("王协办", false)),
        );
        assert_eq!(s.helper.as_ref().unwrap().message, "您的协办员：王协办");
        let h = helper_words("王协办", true);
        assert!(h.called);
        assert_eq!(h.message, "已通知协办员 王协办，请稍候");
    }

    #[test]
    fn the_json_has_no_personal_data_and_keeps_the_old_fields() {
        let c = cfg();
        let t = ticket(TicketState::Waiting);
        let v =
            serde_json::to_value(words(&t, &c, Timestamp(ISSUED), Some(2), None, None)).unwrap();
        for k in [
            "number",
            "service_name",
            "status",
            "ahead",
            "window",
            "message",
            "wait",
        ] {
            assert!(v.get(k).is_some(), "{k} kept");
        }
        let text = v.to_string();
        assert!(!text.contains("hash") && !text.contains("tok"), "{text}");
    }
}
