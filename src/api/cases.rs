//! Routes of accompanied service: helpers' duty, cases (list, show with the
//! ticket's full timeline, take, notes, policies explained, close), ratings
//! and the policy list.
//!
//! Helpers' tokens work here and nowhere else. A helper sees their own open
//! cases and the unassigned ones, and works only on their own; the manager
//! sees and does everything. A rating may be recorded by the window that
//! finished the ticket, by the helper of its case, or by the manager.
//!
//! Like every other route, these are registered through
//! [`utoipa_axum::routes!`] from each handler's `#[utoipa::path]`, so they
//! are in the OpenAPI document.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::TimeZone;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Caller, Helper, Manager, Principal, Staff};
use super::error::{bad_json, CallerErrors, HelperErrors, ManagerErrors, StaffErrors};
use super::{ApiError, AppState, ErrorBody, LaneSchema, TicketView};
use crate::cases::{
    self, Actor, Case, CaseError, CaseEventKind, Rating, RatingRecord, TimelineEntry,
};
use crate::config::Config;
use crate::hall::{Hall, HallError};
use crate::queue::{Lane, Ticket, Timestamp};
use crate::store::StoreError;

/// The routes with their OpenAPI description, merged into the API's router.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(policies))
        .routes(routes!(helpers))
        .routes(routes!(duty))
        .routes(routes!(list))
        .routes(routes!(follow_ups))
        .routes(routes!(show))
        .routes(routes!(take))
        .routes(routes!(note))
        .routes(routes!(explained))
        .routes(routes!(close))
        .routes(routes!(answer))
        .routes(routes!(rate))
        .routes(routes!(ticket_timeline))
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
            CaseError::BadRating(..) => (S::UNPROCESSABLE_ENTITY, "bad_rating"),
            CaseError::NotFinished { .. } => (S::CONFLICT, "not_finished"),
            CaseError::AlreadyRated(_) => (S::CONFLICT, "already_rated"),
            CaseError::UnknownHelper(_) => (S::UNPROCESSABLE_ENTITY, "unknown_helper"),
            CaseError::NoHelper(_) => (S::CONFLICT, "no_helper"),
            CaseError::NoResidentCall(_) => (S::CONFLICT, "no_resident_call"),
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
    let cfg = state.cfg.clone();
    super::locked(state.hall.clone(), move |h| f(h, &cfg)).await
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
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
#[derive(Debug, Clone, Serialize, ToSchema)]
struct CaseView {
    /// The ticket's number as printed (`GA012`).
    number: String,
    /// `priority` or `normal`.
    #[schema(value_type = LaneSchema)]
    lane: Lane,
    /// The lane for staff screens (`绿波通道`, ...).
    lane_label: String,
    /// Service code the ticket is queued for.
    service: String,
    /// Service name.
    service_name: String,
    /// The ticket's state name (`waiting`, `called`, ...).
    state: String,
    /// The ticket's state for staff screens (`等候中`, ...).
    state_label: String,
    /// Window the ticket is at or was last at.
    window: Option<u32>,
    /// Service day (`2025-03-01`).
    day: String,
    /// Id of the helper in charge, if assigned.
    helper: Option<String>,
    /// Name of the helper in charge, if assigned.
    helper_name: Option<String>,
    /// `open` or `closed`.
    status: String,
    /// When the case was opened, RFC 3339 in the hall's time zone.
    opened_at: String,
    /// When the case was opened, milliseconds since the epoch.
    opened_at_ms: i64,
    /// When the case was closed, milliseconds since the epoch.
    closed_at_ms: Option<i64>,
    /// While the resident waits for their helper (`请协办员过来` on the
    /// progress page, not answered yet): when they asked, milliseconds
    /// since the epoch.
    resident_called_at_ms: Option<i64>,
}

/// When the resident's open call for the helper of case `c` was made.
pub(super) fn open_call(h: &Hall, c: &Case) -> Result<Option<Timestamp>, ApiError> {
    Ok(cases::open_resident_call(&h.store().case_events(c.id)?))
}

impl CaseView {
    fn of(c: &Case, t: &Ticket, cfg: &Config, call: Option<Timestamp>) -> CaseView {
        CaseView {
            number: t.number.clone(),
            lane: t.lane,
            lane_label: t.lane.label().to_string(),
            service: t.service.clone(),
            service_name: cfg
                .service(&t.service)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            state: t.state.as_str().to_string(),
            state_label: t.state.label().to_string(),
            window: t.window,
            day: t.day.to_string(),
            helper: c.helper.clone(),
            helper_name: c
                .helper
                .as_deref()
                .and_then(|h| cfg.helper(h))
                .map(|h| h.name.clone()),
            status: if c.is_open() { "open" } else { "closed" }.to_string(),
            opened_at: local_time(c.opened_at, cfg),
            opened_at_ms: c.opened_at.0,
            closed_at_ms: c.closed_at.map(|t| t.0),
            resident_called_at_ms: call.map(|t| t.0),
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

/// The ratings, as residents choose them (the schema of
/// [`Rating`](crate::cases::Rating)).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = Rating)]
#[allow(dead_code)] // only describes the JSON
pub(super) enum RatingSchema {
    /// Very satisfied (residents only).
    #[serde(rename = "非常满意")]
    VerySatisfied,
    /// Satisfied.
    #[serde(rename = "满意")]
    Satisfied,
    /// Fairly satisfied.
    #[serde(rename = "基本满意")]
    FairlySatisfied,
    /// Dissatisfied.
    #[serde(rename = "不满意")]
    Dissatisfied,
    /// Very dissatisfied (residents only).
    #[serde(rename = "非常不满意")]
    VeryDissatisfied,
}

/// Whose rating (the JSON form of `RatingSource`).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = RatingSource)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // only describes the JSON
pub(super) enum RatingSourceSchema {
    /// The window's evaluator.
    ResidentWindow,
    /// The resident's phone.
    ResidentPhone,
    /// Staff entered it.
    Staff,
}

/// A ticket's rating, as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(super) struct RatingView {
    /// The rating.
    #[schema(value_type = RatingSchema)]
    rating: Rating,
    /// The resident's comment, if any.
    comment: Option<String>,
    /// When it was recorded, milliseconds since the epoch.
    at: i64,
    /// Who recorded it (`window:2`, `helper:h1`, `manager`, `resident`).
    by: String,
    /// Whose rating: `resident_window`, `resident_phone` or `staff`.
    #[schema(value_type = RatingSourceSchema)]
    source: crate::cases::RatingSource,
}

impl From<RatingRecord> for RatingView {
    fn from(r: RatingRecord) -> RatingView {
        RatingView {
            rating: r.rating,
            comment: r.comment,
            at: r.at.0,
            by: r.by,
            source: r.source,
        }
    }
}

/// One entry of a ticket's timeline: queue events, case events and the
/// rating, merged in time order.
#[derive(Debug, Clone, Serialize, ToSchema)]
struct TimelineEntryView {
    /// When, milliseconds since the epoch.
    at_ms: i64,
    /// `queue` (the journal) or `case`.
    source: String,
    /// What happened (`issued`, `called`, `assigned`, `note`, `rated`, ...).
    kind: String,
    /// The same, for staff screens (`取号`, `呼叫`, ...).
    label: String,
    /// Who did it, for case entries (`helper:h1`, `manager`, `system`).
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<String>,
    /// The window concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<u32>,
    /// Details: the helper, the note, the policy, the rating, the transfer.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    #[schema(value_type = Option<Object>)]
    detail: serde_json::Value,
}

impl From<TimelineEntry> for TimelineEntryView {
    fn from(e: TimelineEntry) -> TimelineEntryView {
        TimelineEntryView {
            at_ms: e.at_ms,
            source: e.source,
            kind: e.kind,
            label: e.label,
            actor: e.actor,
            window: e.window,
            detail: e.detail,
        }
    }
}

/// A ticket, its case (if any), its rating (if any) and the full timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
struct CaseDetail {
    /// The ticket's case; `null` when it has none.
    case: Option<CaseView>,
    /// The ticket.
    ticket: TicketView,
    /// The ticket's rating; `null` when not rated.
    rating: Option<RatingView>,
    /// Queue events, case events and the rating, oldest first.
    timeline: Vec<TimelineEntryView>,
    /// The resident's earlier case this one continues (same resident
    /// within `[cases] follow_up_days`): what was missing, the notes.
    earlier: Option<FollowUpView>,
}

/// A ticket, its case (if any), its rating (if any) and the full timeline.
fn detail(h: &Hall, cfg: &Config, t: &Ticket, c: Option<&Case>) -> Result<CaseDetail, ApiError> {
    let journal: Vec<_> = h
        .history(t.id)?
        .into_iter()
        .map(|e| (e.event, e.actor))
        .collect();
    let case_events = match c {
        Some(c) => h.store().case_events(c.id)?,
        None => Vec::new(),
    };
    let rating = h.store().rating(t.id)?;
    let earlier = match c {
        Some(c) => h
            .store()
            .earlier_case(c.id)?
            .map(|f| FollowUpView::of(f, cfg)),
        None => None,
    };
    let timeline = cases::timeline(&journal, &case_events, rating.as_ref());
    let call = cases::open_resident_call(&case_events);
    Ok(CaseDetail {
        case: c.map(|c| CaseView::of(c, t, cfg, call)),
        ticket: TicketView::of(t, h.queue(), cfg),
        rating: rating.map(RatingView::from),
        timeline: timeline.into_iter().map(TimelineEntryView::from).collect(),
        earlier,
    })
}

/// A department that owns policies.
#[derive(Debug, Clone, Serialize, ToSchema)]
struct DepartmentView {
    /// Short ASCII id (`civil`).
    id: String,
    /// Name (`民政局`).
    name: String,
}

/// One support policy, as helpers explain it.
#[derive(Debug, Clone, Serialize, ToSchema)]
struct PolicyView {
    /// Short ASCII id (`dibao`), used by `POST /api/cases/{number}/policies`.
    id: String,
    /// Title (`最低生活保障`).
    title: String,
    /// Id of the department in charge (主管部门).
    department: String,
    /// Who qualifies (适用对象).
    eligibility: String,
    /// How to apply (申请方式).
    how_to_apply: String,
    /// What is given (保障内容).
    benefit: String,
    /// The standard (保障标准).
    standard: String,
    /// The hotline (咨询电话).
    phone: String,
}

/// `GET /api/policies`: the hall's departments and policies (`policies.toml`).
#[derive(Debug, Clone, Serialize, ToSchema)]
struct PoliciesView {
    /// Departments in file order.
    departments: Vec<DepartmentView>,
    /// Policies in file order.
    policies: Vec<PolicyView>,
}

impl From<&cases::Policies> for PoliciesView {
    fn from(p: &cases::Policies) -> PoliciesView {
        PoliciesView {
            departments: p
                .departments
                .iter()
                .map(|d| DepartmentView {
                    id: d.id.clone(),
                    name: d.name.clone(),
                })
                .collect(),
            policies: p
                .policies
                .iter()
                .map(|p| PolicyView {
                    id: p.id.clone(),
                    title: p.title.clone(),
                    department: p.department.clone(),
                    eligibility: p.eligibility.clone(),
                    how_to_apply: p.how_to_apply.clone(),
                    benefit: p.benefit.clone(),
                    standard: p.standard.clone(),
                    phone: p.phone.clone(),
                })
                .collect(),
        }
    }
}

/// One helper and their load, for the manager.
#[derive(Debug, Clone, Serialize, ToSchema)]
struct HelperView {
    /// Id (`[[helpers]] id`).
    id: String,
    /// Name.
    name: String,
    /// On duty now.
    on_duty: bool,
    /// Cases assigned and not closed.
    open_cases: u32,
}

/// A case assigned when a helper came on duty.
#[derive(Debug, Clone, Serialize, ToSchema)]
struct AssignedCase {
    /// The ticket's number.
    number: String,
    /// The helper it went to.
    helper: String,
}

/// `POST /api/helpers/me/duty`: the helper's duty, and the waiting cases
/// assigned as a result.
#[derive(Debug, Clone, Serialize, ToSchema)]
struct DutyView {
    /// The helper's id.
    helper: String,
    /// On duty now.
    on_duty: bool,
    /// Unassigned cases given out when the helper came on duty.
    assigned: Vec<AssignedCase>,
}

// ----- handlers ----------------------------------------------------------------

/// The support policies helpers explain, with their departments. Any
/// token: the manager's, a window's or a helper's.
#[utoipa::path(get, path = "/api/policies", tag = "cases", security(("bearer" = [])),
    responses(
        (status = 200, description = "Departments and policies (empty lists without `policies.toml`)", body = PoliciesView),
        CallerErrors,
    ))]
async fn policies(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<PoliciesView>, ApiError> {
    Ok(Json(PoliciesView::from(&state.cfg.policies)))
}

/// The helpers, whether on duty, and their open cases. Manager only.
#[utoipa::path(get, path = "/api/helpers", tag = "cases", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every configured helper, in configuration order", body = Vec<HelperView>),
        ManagerErrors,
        (status = 403, description = "Not the manager's token", body = ErrorBody),
    ))]
async fn helpers(
    State(state): State<AppState>,
    _manager: Manager,
) -> Result<Json<Vec<HelperView>>, ApiError> {
    run(&state, |h, cfg| {
        let loads = h.store().helper_loads(&ids(cfg))?;
        let list: Vec<_> = cfg
            .helpers
            .iter()
            .zip(loads)
            .map(|(c, l)| HelperView {
                id: c.id.clone(),
                name: c.name.clone(),
                on_duty: l.on_duty,
                open_cases: l.open_cases,
            })
            .collect();
        Ok(Json(list))
    })
    .await
}

/// Body of `POST /api/helpers/me/duty`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DutyBody {
    /// `true` to come on duty, `false` to leave.
    on: bool,
}

/// The helper comes on or goes off duty. Coming on duty takes waiting
/// unassigned cases by the assignment rule. Helpers' tokens only.
#[utoipa::path(post, path = "/api/helpers/me/duty", tag = "cases", security(("bearer" = [])),
    request_body = DutyBody,
    responses(
        (status = 200, description = "The helper's duty and the cases assigned to them now", body = DutyView),
        HelperErrors,
        (status = 403, description = "Not a helper's token", body = ErrorBody),
        (status = 422, description = "Bad body", body = ErrorBody),
    ))]
async fn duty(
    State(state): State<AppState>,
    Helper(actor): Helper,
    body: Result<Json<DutyBody>, JsonRejection>,
) -> Result<Json<DutyView>, ApiError> {
    let Actor::Helper(me) = actor else {
        return Err(forbidden("只有协办员可以上岗、离岗"));
    };
    let Json(b) = body.map_err(bad_json)?;
    run(&state, move |h, cfg| {
        let now = h.now();
        let picked = h.store().set_duty(&me, b.on, now, &ids(cfg))?;
        tracing::info!(helper = %me, on_duty = b.on, backlog = picked.len(), "helper duty");
        let assigned: Vec<_> = picked
            .into_iter()
            .map(|(number, helper)| AssignedCase { number, helper })
            .collect();
        Ok(Json(DutyView {
            helper: me,
            on_duty: b.on,
            assigned,
        }))
    })
    .await
}

/// Open and recent cases: a helper sees their own and the unassigned ones,
/// the manager every case.
#[utoipa::path(get, path = "/api/cases", tag = "cases", security(("bearer" = [])),
    responses(
        (status = 200, description = "The cases the token may see", body = Vec<CaseView>),
        HelperErrors,
        (status = 403, description = "A window's token (case routes are for helpers and the manager)", body = ErrorBody),
    ))]
async fn list(
    State(state): State<AppState>,
    Helper(actor): Helper,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    run(&state, move |h, cfg| {
        let who = match &actor {
            Actor::Helper(me) => Some(me.as_str()),
            _ => None,
        };
        let rows = h.store().list_cases(who)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let call = match r.case.is_open() {
                true => open_call(h, &r.case)?,
                false => None,
            };
            out.push(CaseView::of(&r.case, &r.ticket, cfg, call));
        }
        Ok(Json(out))
    })
    .await
}

/// A case with its ticket, its rating and the ticket's full timeline.
#[utoipa::path(get, path = "/api/cases/{number}", tag = "cases", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed (case-insensitive)", example = "GA001")),
    responses(
        (status = 200, description = "The case, its ticket, rating and timeline", body = CaseDetail),
        HelperErrors,
        (status = 403, description = "A window's token, or another helper's case (`not_your_case`)", body = ErrorBody),
        (status = 404, description = "No such number (`unknown_number`) or no case for it (`no_case`)", body = ErrorBody),
    ))]
async fn show(
    State(state): State<AppState>,
    Helper(actor): Helper,
    Path(number): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    run(&state, move |h, cfg| {
        let n = number_param(&number);
        let (t, c) = ticket_and_case(h, &n)?;
        may_see(&c, &n, &actor)?;
        Ok(Json(detail(h, cfg, &t, Some(&c))?))
    })
    .await
}

/// Any ticket's full timeline (queue events, its case's events if it has
/// one, its rating), for windows and the manager.
#[utoipa::path(get, path = "/api/tickets/{number}/timeline", tag = "tickets", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed (case-insensitive)", example = "GA001")),
    responses(
        (status = 200, description = "The ticket, its case and rating (or `null`) and timeline", body = CaseDetail),
        StaffErrors,
        (status = 403, description = "A helper's token", body = ErrorBody),
        (status = 404, description = "No such number", body = ErrorBody),
    ))]
async fn ticket_timeline(
    State(state): State<AppState>,
    _staff: Staff,
    Path(number): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
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
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TakeBody {
    /// The helper to assign the case to (the manager only; required then).
    helper: Option<String>,
}

/// A helper takes an unassigned case; the manager assigns (or reassigns) a
/// case to the helper named in the body.
#[utoipa::path(post, path = "/api/cases/{number}/take", tag = "cases", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed (case-insensitive)", example = "GA001")),
    request_body(content = Option<TakeBody>, description = "A helper: `{}` or no body. The manager: `{\"helper\": \"h1\"}`"),
    responses(
        (status = 200, description = "The case, now assigned", body = CaseView),
        HelperErrors,
        (status = 403, description = "A window's token, or a case another helper holds (`not_your_case`)", body = ErrorBody),
        (status = 404, description = "No such number (`unknown_number`) or no case for it (`no_case`)", body = ErrorBody),
        (status = 409, description = "The case is closed (`case_closed`)", body = ErrorBody),
        (status = 422, description = "Bad body, no helper named by the manager, or unknown helper (`unknown_helper`)", body = ErrorBody),
    ))]
async fn take(
    State(state): State<AppState>,
    Helper(actor): Helper,
    Path(number): Path<String>,
    body: Option<Json<serde_json::Value>>,
) -> Result<Json<CaseView>, ApiError> {
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
            (
                Actor::System
                | Actor::Window(_)
                | Actor::Kiosk(_)
                | Actor::Evaluator(_)
                | Actor::Resident
                | Actor::Hotline,
                _,
            ) => return Err(forbidden("不能分配案件")),
        }
        let (_, c) = ticket_and_case(h, &n)?;
        let call = open_call(h, &c)?;
        Ok(Json(CaseView::of(&c, &t, cfg, call)))
    })
    .await
}

/// Body of `POST /api/cases/{number}/notes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    /// The progress note (not empty, at most the case text limit).
    text: String,
}

/// Records a progress note on an open case (its helper or the manager).
#[utoipa::path(post, path = "/api/cases/{number}/notes", tag = "cases", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed (case-insensitive)", example = "GA001")),
    request_body = NoteBody,
    responses(
        (status = 201, description = "Recorded; the case with its timeline", body = CaseDetail),
        HelperErrors,
        (status = 403, description = "A window's token, or another helper's case (`not_your_case`)", body = ErrorBody),
        (status = 404, description = "No such number (`unknown_number`) or no case for it (`no_case`)", body = ErrorBody),
        (status = 409, description = "The case is closed (`case_closed`) or not assigned yet (`unassigned`)", body = ErrorBody),
        (status = 422, description = "Bad body, empty note (`empty_note`) or too long (`too_long`)", body = ErrorBody),
    ))]
async fn note(
    State(state): State<AppState>,
    Helper(actor): Helper,
    Path(number): Path<String>,
    body: Result<Json<NoteBody>, JsonRejection>,
) -> Result<(StatusCode, Json<CaseDetail>), ApiError> {
    let Json(b) = body.map_err(bad_json)?;
    work(&state, actor, number, move |_| {
        Ok(vec![CaseEventKind::Note {
            text: cases::check_note(&b.text)?,
        }])
    })
    .await
}

/// Body of `POST /api/cases/{number}/policies`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PoliciesBody {
    /// Ids of the policies explained (from `GET /api/policies`), at least one.
    ids: Vec<String>,
}

/// Records that policies were explained to the resident (政策解读).
#[utoipa::path(post, path = "/api/cases/{number}/policies", tag = "cases", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed (case-insensitive)", example = "GA001")),
    request_body = PoliciesBody,
    responses(
        (status = 201, description = "Recorded; the case with its timeline", body = CaseDetail),
        HelperErrors,
        (status = 403, description = "A window's token, or another helper's case (`not_your_case`)", body = ErrorBody),
        (status = 404, description = "No such number (`unknown_number`) or no case for it (`no_case`)", body = ErrorBody),
        (status = 409, description = "The case is closed (`case_closed`) or not assigned yet (`unassigned`)", body = ErrorBody),
        (status = 422, description = "Bad body, no policies (`no_policies`) or an unknown one (`unknown_policy`)", body = ErrorBody),
    ))]
async fn explained(
    State(state): State<AppState>,
    Helper(actor): Helper,
    Path(number): Path<String>,
    body: Result<Json<PoliciesBody>, JsonRejection>,
) -> Result<(StatusCode, Json<CaseDetail>), ApiError> {
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

/// Closes a case once the resident's ticket is done (its helper or the
/// manager).
#[utoipa::path(post, path = "/api/cases/{number}/close", tag = "cases", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed (case-insensitive)", example = "GA001")),
    responses(
        (status = 201, description = "Closed; the case with its timeline", body = CaseDetail),
        HelperErrors,
        (status = 403, description = "A window's token, or another helper's case (`not_your_case`)", body = ErrorBody),
        (status = 404, description = "No such number (`unknown_number`) or no case for it (`no_case`)", body = ErrorBody),
        (status = 409, description = "Already closed (`case_closed`), not assigned (`unassigned`), or the ticket is still open (`ticket_open`)", body = ErrorBody),
    ))]
async fn close(
    State(state): State<AppState>,
    Helper(actor): Helper,
    Path(number): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<CaseDetail>), ApiError> {
    let b: CloseBody = if body.iter().all(u8::is_ascii_whitespace) {
        CloseBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_request",
                format!("请求内容无效: {e}"),
            )
        })?
    };
    let mut kinds = Vec::new();
    match (b.outcome, b.missing) {
        (None | Some(CloseOutcome::Done), None) => {}
        (Some(CloseOutcome::Done) | None, Some(_)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_request",
                "missing: 只有“待补材料”结案才写缺少的材料",
            ))
        }
        (Some(o), missing) => {
            let missing = match missing {
                Some(m) => Some(cases::check_note(&m)?),
                None => None,
            };
            let reason = match o {
                CloseOutcome::MissingDocuments => cases::FollowUpReason::MissingDocuments,
                _ => cases::FollowUpReason::PendingReview,
            };
            kinds.push(CaseEventKind::FollowUp { reason, missing });
        }
    }
    kinds.push(CaseEventKind::Closed);
    work(&state, actor, number, move |_| Ok(kinds)).await
}

/// How a case is closed (`POST /api/cases/{number}/close`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum CloseOutcome {
    /// Done (the default).
    Done,
    /// `待补材料`: the resident must come back with documents.
    MissingDocuments,
    /// `待审核`: waiting for a back-office decision.
    PendingReview,
}

/// Body of `POST /api/cases/{number}/close` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    /// `done` (default), `missing_documents` (待补材料) or `pending_review`
    /// (待审核): the last two keep the case on the follow-up list until
    /// the resident's next visit is closed done.
    outcome: Option<CloseOutcome>,
    /// For `missing_documents`: what the resident must bring (`户口簿`).
    missing: Option<String>,
}

/// A case waiting for documents or a review, or the earlier case a case
/// continues.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowUpView {
    /// The ticket's number.
    number: String,
    /// Its service day.
    day: String,
    /// The helper.
    helper: Option<String>,
    /// The helper's duty name.
    helper_name: Option<String>,
    /// `missing_documents`, `pending_review`, or null (closed done).
    reason: Option<String>,
    /// `待补材料` / `待审核` / `已办结`.
    reason_label: String,
    /// What the resident must bring.
    missing: Option<String>,
    /// The helper's notes, oldest first.
    notes: Vec<String>,
}

impl FollowUpView {
    fn of(f: crate::store::FollowUpCase, cfg: &Config) -> FollowUpView {
        let name = f
            .helper
            .as_ref()
            .and_then(|h| cfg.helpers.iter().find(|x| &x.id == h))
            .map(|h| h.name.clone());
        FollowUpView {
            number: f.number,
            day: f.day.to_string(),
            helper_name: name,
            helper: f.helper,
            reason: f.reason.map(|r| {
                serde_json::to_value(r)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            }),
            reason_label: f.reason.map_or("已办结", |r| r.label()).to_string(),
            missing: f.missing,
            notes: f.notes,
        }
    }
}

/// The follow-up list: cases closed as `待补材料` or `待审核` whose
/// resident has not yet had a later visit closed done; a helper's own, or
/// (for the manager) everyone's. Oldest first.
#[utoipa::path(get, path = "/api/cases/follow-ups", tag = "cases", security(("bearer" = [])),
    responses(
        (status = 200, description = "The follow-up list", body = Vec<FollowUpView>),
        HelperErrors,
        (status = 403, description = "A window's token", body = ErrorBody),
    ))]
async fn follow_ups(
    State(state): State<AppState>,
    Helper(actor): Helper,
) -> Result<Json<Vec<FollowUpView>>, ApiError> {
    run(&state, move |h, cfg| {
        let who = match &actor {
            Actor::Helper(me) => Some(me.as_str()),
            _ => None,
        };
        let list = h.store().follow_ups(who)?;
        Ok(Json(
            list.into_iter().map(|f| FollowUpView::of(f, cfg)).collect(),
        ))
    })
    .await
}

/// The helper answers the resident's call from the progress page (`我这就
/// 过去`): the call is no longer open, and the resident may call again.
/// A note or a policy explained answers it too.
#[utoipa::path(post, path = "/api/cases/{number}/answer", tag = "cases", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed (case-insensitive)", example = "GA001")),
    responses(
        (status = 201, description = "Answered; the case with its timeline", body = CaseDetail),
        HelperErrors,
        (status = 403, description = "A window's token, or another helper's case (`not_your_case`)", body = ErrorBody),
        (status = 404, description = "No such number (`unknown_number`) or no case for it (`no_case`)", body = ErrorBody),
        (status = 409, description = "No open call (`no_resident_call`), the case is closed (`case_closed`) or not assigned (`unassigned`)", body = ErrorBody),
    ))]
async fn answer(
    State(state): State<AppState>,
    Helper(actor): Helper,
    Path(number): Path<String>,
) -> Result<(StatusCode, Json<CaseDetail>), ApiError> {
    run(&state, move |h, cfg| {
        let n = number_param(&number);
        let (t, c) = ticket_and_case(h, &n)?;
        cases::check_work(&c, &n, &actor)?;
        if open_call(h, &c)?.is_none() {
            return Err(CaseError::NoResidentCall(n).into());
        }
        let now = h.now();
        if !h.store().record_case_events(
            c.id,
            now,
            &actor.recorded(),
            &[CaseEventKind::CallAnswered],
        )? {
            return Err(CaseError::Closed(n).into());
        }
        tracing::info!(number = %t.number, "resident's call answered");
        let (_, c) = ticket_and_case(h, &n)?;
        Ok((StatusCode::CREATED, Json(detail(h, cfg, &t, Some(&c))?)))
    })
    .await
}

/// Notes, policies and closing: the owner (or the manager) records events
/// on an open case; closing also needs the resident to be done.
async fn work(
    state: &AppState,
    actor: Actor,
    number: String,
    events: impl FnOnce(&Config) -> Result<Vec<CaseEventKind>, CaseError> + Send + 'static,
) -> Result<(StatusCode, Json<CaseDetail>), ApiError> {
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RatingBody {
    /// `满意`, `基本满意` or `不满意` (staff record three levels).
    #[schema(value_type = RatingSchema)]
    rating: String,
    /// The resident's comment.
    comment: Option<String>,
}

/// Records the resident's satisfaction rating of a finished ticket: by the
/// window that finished it, the helper of its case, or the manager.
#[utoipa::path(post, path = "/api/tickets/{number}/rating", tag = "tickets", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed (case-insensitive)", example = "GA001")),
    request_body = RatingBody,
    responses(
        (status = 201, description = "The recorded rating", body = RatingView),
        CallerErrors,
        (status = 403, description = "Another window's ticket, or not the helper's case", body = ErrorBody),
        (status = 404, description = "No such number", body = ErrorBody),
        (status = 409, description = "Not finished (`not_finished`) or already rated (`already_rated`)", body = ErrorBody),
        (status = 422, description = "Bad body, unknown rating (`bad_rating`) or comment too long (`too_long`)", body = ErrorBody),
    ))]
async fn rate(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(number): Path<String>,
    body: Result<Json<RatingBody>, JsonRejection>,
) -> Result<(StatusCode, Json<RatingView>), ApiError> {
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
            Principal::Display => return Err(super::auth::display_refused()),
            Principal::Kiosk(_) => return Err(super::auth::kiosk_refused()),
            Principal::Evaluator(_) => return Err(super::auth::evaluator_refused()),
            Principal::Hotline => return Err(super::auth::hotline_refused()),
        };
        let already = h.store().rating(t.id)?.is_some();
        let (rating, comment) =
            cases::check_rating(&n, t.state, already, &b.rating, b.comment.as_deref())?;
        let rec = RatingRecord {
            rating,
            comment,
            at: h.now(),
            by: actor.recorded(),
            source: crate::cases::RatingSource::Staff,
        };
        if !h.store().record_rating(t.id, &rec)? {
            return Err(CaseError::AlreadyRated(n).into());
        }
        tracing::info!(number = %t.number, rating = rec.rating.as_str(), "ticket rated");
        Ok((StatusCode::CREATED, Json(rec.into())))
    })
    .await
}
