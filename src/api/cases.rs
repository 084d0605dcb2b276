//! Routes of accompanied service: helpers' duty, cases (list, show with the
//! ticket's full timeline, take, notes, policies explained, close), ratings
//! and the policy list.
//!
//! Helpers' tokens work here and nowhere else. A helper sees their own open
//! cases and the unassigned ones, and works only on their own; the manager
//! sees and does everything. A rating may be recorded by the window that
//! finished the ticket, by the helper of its case, or by the manager.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{authenticate, bad_json, principal, ApiError, AppState, Principal, TicketView};
use crate::cases::{self, Actor, Case, CaseError, CaseEventKind, RatingRecord};
use crate::config::Config;
use crate::hall::{Hall, HallError};
use crate::queue::{Lane, Ticket, Timestamp};
use crate::store::StoreError;

/// The routes, merged into the API's router.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/policies", get(policies))
        .route("/api/helpers", get(helpers))
        .route("/api/helpers/me/duty", post(duty))
        .route("/api/cases", get(list))
        .route("/api/cases/{number}", get(show))
        .route("/api/cases/{number}/take", post(take))
        .route("/api/cases/{number}/notes", post(note))
        .route("/api/cases/{number}/policies", post(explained))
        .route("/api/cases/{number}/close", post(close))
        .route("/api/tickets/{number}/rating", post(rate))
        .route("/api/tickets/{number}/timeline", get(ticket_timeline))
}

// ----- errors and running ---------------------------------------------------

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> ApiError {
        use StatusCode as S;
        let (status, code) = match &e {
            CaseError::UnknownNumber(_) => (S::NOT_FOUND, "unknown_number"),
            CaseError::NoCase(_) => (S::NOT_FOUND, "no_case"),
            CaseError::NotYours { .. } => (S::FORBIDDEN, "not_your_case"),
            CaseError::Unassigned(_) => (S::CONFLICT, "unassigned"),
            CaseError::Closed(_) => (S::CONFLICT, "case_closed"),
            CaseError::TicketOpen { .. } => (S::CONFLICT, "ticket_open"),
            CaseError::EmptyNote => (S::UNPROCESSABLE_ENTITY, "empty_note"),
            CaseError::TooLong => (S::UNPROCESSABLE_ENTITY, "too_long"),
            CaseError::NoPolicies => (S::UNPROCESSABLE_ENTITY, "no_policies"),
            CaseError::UnknownPolicy(_) => (S::UNPROCESSABLE_ENTITY, "unknown_policy"),
            CaseError::BadRating(_) => (S::UNPROCESSABLE_ENTITY, "bad_rating"),
            CaseError::NotFinished { .. } => (S::CONFLICT, "not_finished"),
            CaseError::AlreadyRated(_) => (S::CONFLICT, "already_rated"),
            CaseError::UnknownHelper(_) => (S::UNPROCESSABLE_ENTITY, "unknown_helper"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::from(HallError::Store(e))
    }
}

/// Runs `f` on the blocking pool behind the hall's mutex: case operations
/// are serialised with the queue's, and see the queue as committed.
async fn run<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut Hall, &Config) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let hall = state.hall.clone();
    let cfg = state.cfg.clone();
    tokio::task::spawn_blocking(move || {
        let mut h = hall.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut h, &cfg)
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("内部错误: {e}"),
        )
    })?
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

/// The helper or the manager; window tokens do not use case routes.
fn case_actor(cfg: &Config, headers: &HeaderMap) -> Result<Actor, ApiError> {
    match authenticate(cfg, headers)? {
        Principal::Manager => Ok(Actor::Manager),
        Principal::Helper(id) => Ok(Actor::Helper(id)),
        Principal::Window(_) => Err(forbidden("窗口令牌不能使用协办接口")),
    }
}

fn ids(cfg: &Config) -> Vec<String> {
    cfg.helpers.iter().map(|h| h.id.clone()).collect()
}

fn number_param(raw: &str) -> String {
    raw.trim().to_ascii_uppercase()
}

/// The ticket with this number and its case.
fn ticket_and_case(h: &Hall, number: &str) -> Result<(Ticket, Case), ApiError> {
    let t = h
        .store()
        .ticket_by_number(number)?
        .ok_or_else(|| CaseError::UnknownNumber(number.to_string()))?;
    let c = h
        .store()
        .case_of_ticket(t.id)?
        .ok_or_else(|| CaseError::NoCase(number.to_string()))?;
    Ok((t, c))
}

/// May `actor` see this case? The manager always; a helper when it is
/// theirs or unassigned.
fn may_see(case: &Case, number: &str, actor: &Actor) -> Result<(), CaseError> {
    match (actor, &case.helper) {
        (Actor::Helper(me), Some(owner)) if me != owner => Err(CaseError::NotYours {
            number: number.to_string(),
            owner: owner.clone(),
        }),
        _ => Ok(()),
    }
}

// ----- views -----------------------------------------------------------------

/// One case, as helpers' and the manager's screens show it. Ticket facts
/// only: no name, no ID number.
#[derive(Debug, Clone, Serialize)]
struct CaseView {
    number: String,
    lane: Lane,
    lane_label: &'static str,
    service: String,
    service_name: String,
    state: &'static str,
    state_label: &'static str,
    window: Option<u32>,
    day: String,
    helper: Option<String>,
    helper_name: Option<String>,
    status: &'static str,
    opened_at: String,
    opened_at_ms: i64,
    closed_at_ms: Option<i64>,
}

impl CaseView {
    fn of(c: &Case, t: &Ticket, cfg: &Config) -> CaseView {
        CaseView {
            number: t.number.clone(),
            lane: t.lane,
            lane_label: t.lane.label(),
            service: t.service.clone(),
            service_name: cfg
                .service(&t.service)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            state: t.state.as_str(),
            state_label: t.state.label(),
            window: t.window,
            day: t.day.to_string(),
            helper: c.helper.clone(),
            helper_name: c
                .helper
                .as_deref()
                .and_then(|h| cfg.helper(h))
                .map(|h| h.name.clone()),
            status: if c.is_open() { "open" } else { "closed" },
            opened_at: local_time(c.opened_at, cfg),
            opened_at_ms: c.opened_at.0,
            closed_at_ms: c.closed_at.map(|t| t.0),
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

/// A ticket, its case (if any), its rating (if any) and the full timeline.
fn detail(
    h: &Hall,
    cfg: &Config,
    t: &Ticket,
    c: Option<&Case>,
) -> Result<serde_json::Value, ApiError> {
    let journal: Vec<_> = h.history(t.id)?.into_iter().map(|e| e.event).collect();
    let case_events = match c {
        Some(c) => h.store().case_events(c.id)?,
        None => Vec::new(),
    };
    let rating = h.store().rating(t.id)?;
    let timeline = cases::timeline(&journal, &case_events, rating.as_ref());
    Ok(json!({
        "case": c.map(|c| CaseView::of(c, t, cfg)),
        "ticket": TicketView::of(t, h.queue(), cfg),
        "rating": rating,
        "timeline": timeline,
    }))
}

// ----- handlers ----------------------------------------------------------------

async fn policies(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<cases::Policies>, ApiError> {
    authenticate(&state.cfg, &headers)?;
    Ok(Json(state.cfg.policies.clone()))
}

async fn helpers(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    if authenticate(&state.cfg, &headers)? != Principal::Manager {
        return Err(forbidden("只有管理员可以查看协办员"));
    }
    run(&state, |h, cfg| {
        let loads = h.store().helper_loads(&ids(cfg))?;
        let list: Vec<_> = cfg
            .helpers
            .iter()
            .zip(loads)
            .map(|(c, l)| {
                json!({ "id": c.id, "name": c.name, "on_duty": l.on_duty, "open_cases": l.open_cases })
            })
            .collect();
        Ok(Json(json!(list)))
    })
    .await
}

/// Body of `POST /api/helpers/me/duty`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DutyBody {
    on: bool,
}

async fn duty(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<DutyBody>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Principal::Helper(me) = authenticate(&state.cfg, &headers)? else {
        return Err(forbidden("只有协办员可以上岗、离岗"));
    };
    let Json(b) = body.map_err(bad_json)?;
    run(&state, move |h, cfg| {
        let now = h.now();
        let picked = h.store().set_duty(&me, b.on, now, &ids(cfg))?;
        tracing::info!(helper = %me, on_duty = b.on, backlog = picked.len(), "helper duty");
        let assigned: Vec<_> = picked
            .into_iter()
            .map(|(number, helper)| json!({ "number": number, "helper": helper }))
            .collect();
        Ok(Json(
            json!({ "helper": me, "on_duty": b.on, "assigned": assigned }),
        ))
    })
    .await
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    let actor = case_actor(&state.cfg, &headers)?;
    run(&state, move |h, cfg| {
        let who = match &actor {
            Actor::Helper(me) => Some(me.as_str()),
            _ => None,
        };
        let rows = h.store().list_cases(who)?;
        Ok(Json(
            rows.iter()
                .map(|r| CaseView::of(&r.case, &r.ticket, cfg))
                .collect(),
        ))
    })
    .await
}

async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = case_actor(&state.cfg, &headers)?;
    run(&state, move |h, cfg| {
        let n = number_param(&number);
        let (t, c) = ticket_and_case(h, &n)?;
        may_see(&c, &n, &actor)?;
        Ok(Json(detail(h, cfg, &t, Some(&c))?))
    })
    .await
}

async fn ticket_timeline(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    principal(&state.cfg, &headers)?;
    run(&state, move |h, cfg| {
        let n = number_param(&number);
        let t = h
            .store()
            .ticket_by_number(&n)?
            .ok_or(CaseError::UnknownNumber(n))?;
        let c = h.store().case_of_ticket(t.id)?;
        Ok(Json(detail(h, cfg, &t, c.as_ref())?))
    })
    .await
}

/// Body of `POST /api/cases/{number}/take`: the manager names the helper.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TakeBody {
    helper: Option<String>,
}

async fn take(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Option<Json<serde_json::Value>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = case_actor(&state.cfg, &headers)?;
    let body: TakeBody = match body {
        Some(Json(v)) if !v.is_null() => serde_json::from_value(v).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_request",
                format!("请求内容无效: {e}"),
            )
        })?,
        _ => TakeBody::default(),
    };
    run(&state, move |h, cfg| {
        let n = number_param(&number);
        let (t, c) = ticket_and_case(h, &n)?;
        let now = h.now();
        match (&actor, body.helper) {
            (Actor::Manager, Some(to)) => {
                if cfg.helper(&to).is_none() {
                    return Err(CaseError::UnknownHelper(to).into());
                }
                if !c.is_open() {
                    return Err(CaseError::Closed(n).into());
                }
                if c.helper.as_deref() != Some(to.as_str())
                    && !h.store().assign_case(c.id, &to, "manager", now, false)?
                {
                    return Err(CaseError::Closed(n).into());
                }
            }
            (Actor::Manager, None) => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad_request",
                    "管理员分配案件时请指定协办员 {\"helper\": \"...\"}",
                ))
            }
            (Actor::Helper(me), _) => {
                if cases::check_take(&c, &n, me)?
                    && !h
                        .store()
                        .assign_case(c.id, me, &actor.recorded(), now, true)?
                {
                    // Someone else got it between the read and the write.
                    let (_, c) = ticket_and_case(h, &n)?;
                    cases::check_take(&c, &n, me)?;
                }
            }
            (Actor::System | Actor::Window(_), _) => return Err(forbidden("不能分配案件")),
        }
        let (_, c) = ticket_and_case(h, &n)?;
        Ok(Json(json!(CaseView::of(&c, &t, cfg))))
    })
    .await
}

/// Body of `POST /api/cases/{number}/notes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
}

async fn note(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Result<Json<NoteBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let actor = case_actor(&state.cfg, &headers)?;
    let Json(b) = body.map_err(bad_json)?;
    work(&state, actor, number, move |_| {
        Ok(vec![CaseEventKind::Note {
            text: cases::check_note(&b.text)?,
        }])
    })
    .await
}

/// Body of `POST /api/cases/{number}/policies`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PoliciesBody {
    ids: Vec<String>,
}

async fn explained(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Result<Json<PoliciesBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let actor = case_actor(&state.cfg, &headers)?;
    let Json(b) = body.map_err(bad_json)?;
    work(&state, actor, number, move |cfg| {
        if b.ids.is_empty() {
            return Err(CaseError::NoPolicies);
        }
        let mut out: Vec<CaseEventKind> = Vec::new();
        for id in &b.ids {
            let p = cfg
                .policies
                .get(id.trim())
                .ok_or_else(|| CaseError::UnknownPolicy(id.clone()))?;
            let kind = CaseEventKind::PolicyExplained {
                policy: p.id.clone(),
                title: p.title.clone(),
            };
            if !out.contains(&kind) {
                out.push(kind);
            }
        }
        Ok(out)
    })
    .await
}

async fn close(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let actor = case_actor(&state.cfg, &headers)?;
    work(&state, actor, number, |_| Ok(vec![CaseEventKind::Closed])).await
}

/// Notes, policies and closing: the owner (or the manager) records events
/// on an open case; closing also needs the resident to be done.
async fn work(
    state: &AppState,
    actor: Actor,
    number: String,
    events: impl FnOnce(&Config) -> Result<Vec<CaseEventKind>, CaseError> + Send + 'static,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    run(state, move |h, cfg| {
        let n = number_param(&number);
        let (t, c) = ticket_and_case(h, &n)?;
        cases::check_work(&c, &n, &actor)?;
        let kinds = events(cfg)?;
        if kinds.contains(&CaseEventKind::Closed) {
            cases::check_close(&c, &n, &actor, t.state)?;
        }
        let now = h.now();
        if !h
            .store()
            .record_case_events(c.id, now, &actor.recorded(), &kinds)?
        {
            return Err(CaseError::Closed(n).into());
        }
        let (_, c) = ticket_and_case(h, &n)?;
        Ok((StatusCode::CREATED, Json(detail(h, cfg, &t, Some(&c))?)))
    })
    .await
}

/// Body of `POST /api/tickets/{number}/rating`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RatingBody {
    rating: String,
    comment: Option<String>,
}

async fn rate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Result<Json<RatingBody>, JsonRejection>,
) -> Result<(StatusCode, Json<RatingRecord>), ApiError> {
    let who = authenticate(&state.cfg, &headers)?;
    let Json(b) = body.map_err(bad_json)?;
    run(&state, move |h, _cfg| {
        let n = number_param(&number);
        let t = h
            .store()
            .ticket_by_number(&n)?
            .ok_or_else(|| CaseError::UnknownNumber(n.clone()))?;
        let actor = match who {
            Principal::Manager => Actor::Manager,
            Principal::Window(w) if t.window == Some(w) => Actor::Window(w),
            Principal::Window(w) => {
                return Err(forbidden(&format!(
                    "{w} 号窗口的令牌只能为本窗口办结的号码记录评价"
                )))
            }
            Principal::Helper(me) => {
                let mine = h
                    .store()
                    .case_of_ticket(t.id)?
                    .is_some_and(|c| c.helper.as_deref() == Some(me.as_str()));
                if !mine {
                    return Err(forbidden("协办员只能为自己负责的案件记录评价"));
                }
                Actor::Helper(me)
            }
        };
        let already = h.store().rating(t.id)?.is_some();
        let (rating, comment) =
            cases::check_rating(&n, t.state, already, &b.rating, b.comment.as_deref())?;
        let rec = RatingRecord {
            rating,
            comment,
            at: h.now(),
            by: actor.recorded(),
        };
        if !h.store().record_rating(t.id, &rec)? {
            return Err(CaseError::AlreadyRated(n).into());
        }
        tracing::info!(number = %t.number, rating = rec.rating.as_str(), "ticket rated");
        Ok((StatusCode::CREATED, Json(rec)))
    })
    .await
}
