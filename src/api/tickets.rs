//! The tickets and the queue: issue, look up, rejoin, cancel; the queue
//! as a whole.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::{Principal, Staff};
use super::error::{bad_json, StaffErrors};
use super::{
    with_hall, ApiError, AppState, ErrorBody, LaneSchema, QueueView, TicketHistory, TicketView,
};
use crate::hall::{Actor, Hall, HallError};
use crate::queue::{Lane, QueueError, Ticket};

/// Waiting tickets, counts per service and lane, windows.
#[utoipa::path(get, path = "/api/queue", tag = "queue", security(("bearer" = [])),
    responses(
        (status = 200, description = "The queue", body = QueueView),
        StaffErrors,
    ))]
pub(super) async fn queue(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<QueueView>, ApiError> {
    let cfg = state.cfg.clone();
    let view = with_hall(&state, move |h| Ok(QueueView::of(h, &cfg))).await?;
    Ok(Json(view))
}

/// All tickets of the service day.
#[utoipa::path(get, path = "/api/tickets", tag = "tickets", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every ticket of the day", body = Vec<TicketView>),
        StaffErrors,
    ))]
pub(super) async fn tickets(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<Vec<TicketView>>, ApiError> {
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
        StaffErrors,
        (status = 404, description = "No such number today (`unknown_number`)", body = ErrorBody),
    ))]
pub(super) async fn ticket(
    State(state): State<AppState>,
    _staff: Staff,
    Path(number): Path<String>,
) -> Result<Json<TicketHistory>, ApiError> {
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
            .map(|e| {
                serde_json::to_value(crate::store::journal::JournalEvent::from(&e.event))
                    .unwrap_or_default()
            })
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
pub(super) struct IssueBody {
    /// Service code (`civil`).
    service: String,
    /// `priority` or `normal` (the default). Only the manager issues a
    /// priority ticket here, with a `reason`; residents reach the priority
    /// lane through the roster (a swipe, a bound card, the audited manual
    /// identification `POST /api/tickets/priority`) or the age rule.
    #[serde(default)]
    #[schema(value_type = Option<LaneSchema>)]
    lane: Option<Lane>,
    /// Why the manager gives this resident the priority lane (kept in the
    /// audit log); required for `"lane": "priority"`.
    reason: Option<String>,
}

/// The longest reason kept for a manager's priority ticket.
const MAX_REASON: usize = 200;

/// Issues a ticket. A normal ticket: any staff. A priority ticket: the
/// manager alone, with a stated reason, audited.
#[utoipa::path(post, path = "/api/tickets", tag = "tickets", security(("bearer" = [])),
    request_body = IssueBody,
    responses(
        (status = 201, description = "The new ticket, committed", body = TicketView),
        StaffErrors,
        (status = 403, description = "A window's token asking for the priority lane (`priority_needs_identification`), a helper's or a display's token", body = ErrorBody),
        (status = 422, description = "Bad body, unknown service, or a priority ticket without a reason (`bad_request`, `unknown_service`, `reason_required`)", body = ErrorBody),
    ))]
pub(super) async fn issue(
    State(state): State<AppState>,
    Staff(who): Staff,
    body: Result<Json<IssueBody>, JsonRejection>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let Json(body) = body.map_err(bad_json)?;
    let lane = body.lane.unwrap_or(Lane::Normal);
    let reason = match lane {
        Lane::Normal => None,
        Lane::Priority => Some(priority_reason(&who, body.reason.as_deref())?),
        Lane::Appointment => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_request",
                "预约号由预约的居民在取号机刷身份证取得，不能由窗口发放",
            ))
        }
    };
    let cfg = state.cfg.clone();
    let by = who.actor();
    let view = super::locked(state.hall.clone(), move |h| -> Result<_, ApiError> {
        // With a progress token, like the kiosk's: printed at a window's
        // or a kiosk's printer, the ticket carries its QR code.
        let token = crate::kiosk::new_token();
        let (_, t) = h.exec(&by, |q, now| {
            q.issue_with(&body.service, lane, now, token, None, None)
        })?;
        let t = t.expect("an issued ticket is in the queue");
        if let Some(reason) = reason {
            audit_priority(h, &by, &t, reason);
        }
        tracing::info!(number = %t.number, service = %t.service, lane = t.lane.as_str(), by = %by.recorded(), "ticket issued");
        Ok(TicketView::of(&t, h.queue(), &cfg))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The manager's reason for a priority ticket; a window is refused: the
/// green wave comes from the roster, not from a button.
fn priority_reason(who: &Principal, reason: Option<&str>) -> Result<String, ApiError> {
    if *who != Principal::Manager {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "priority_needs_identification",
            "绿波通道号须经名单核对（刷身份证、优先卡或人工核对）取得，或由管理员说明理由签发",
        ));
    }
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) if r.chars().count() <= MAX_REASON => Ok(r.to_string()),
        Some(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason_required",
            format!("reason: 理由不能超过 {MAX_REASON} 字"),
        )),
        None => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason_required",
            "reason: 管理员签发绿波通道号须说明理由",
        )),
    }
}

/// The audit line of a priority ticket the manager gave.
fn audit_priority(h: &Hall, by: &Actor, t: &Ticket, reason: String) {
    let entry = crate::store::AuditEntry {
        at: h.now().0,
        actor: by.recorded(),
        action: "ticket.priority".into(),
        subject: Some(t.number.clone()),
        result: "issued".into(),
        detail: Some(reason),
    };
    if let Err(e) = h.store().audit(&entry) {
        tracing::error!(error = %e, number = %t.number, "cannot audit a priority ticket");
    }
}

/// Runs a decision on ticket `number` for `who`: a window's token only on
/// a ticket in its scope ([`crate::queue::Queue::window_may_act`]), the
/// manager's on any.
async fn ticket_op(
    state: &AppState,
    who: Principal,
    number: String,
    decide: impl FnOnce(
            &crate::queue::Queue,
            &str,
            crate::queue::Timestamp,
        ) -> Result<crate::queue::Event, QueueError>
        + Send
        + 'static,
) -> Result<Json<TicketView>, ApiError> {
    let cfg = state.cfg.clone();
    super::locked(state.hall.clone(), move |h| -> Result<_, ApiError> {
        let n = number.trim().to_ascii_uppercase();
        if let Principal::Window(w) = who {
            let t = h
                .queue()
                .ticket_by_number(&n)
                .ok_or_else(|| QueueError::UnknownNumber(n.clone()))
                .map_err(HallError::from)?;
            if !h.queue().window_may_act(w, t) {
                return Err(not_your_ticket(w, &n));
            }
        }
        let (ev, t) = h.exec(&who.actor(), |q, now| decide(q, &n, now))?;
        tracing::info!(kind = ev.kind(), number = %n, by = %who.actor().recorded(), "ticket operation");
        let t = t.expect("ticket operations concern a ticket");
        Ok(Json(TicketView::of(&t, h.queue(), &cfg)))
    })
    .await
}

/// A window's token on a ticket outside its scope.
pub(super) fn not_your_ticket(window: u32, number: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "not_your_ticket",
        format!("{window} 号窗口不能操作 {number}：它不在本窗口，也不是本窗口业务的等候号"),
    )
}

/// Puts a no-show ticket back in its place in line, within the grace
/// period. A window: only a no-show it marked itself.
#[utoipa::path(post, path = "/api/tickets/{number}/rejoin", tag = "tickets", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed", example = "A012")),
    responses(
        (status = 200, description = "The ticket, waiting again", body = TicketView),
        StaffErrors,
        (status = 403, description = "A window's token on another window's ticket (`not_your_ticket`)", body = ErrorBody),
        (status = 404, description = "No such number today", body = ErrorBody),
        (status = 409, description = "Not a no-show, or the grace period is over", body = ErrorBody),
    ))]
pub(super) async fn rejoin(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(number): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    ticket_op(&state, who, number, |q, n, now| q.rejoin(n, now)).await
}

/// Why a ticket is withdrawn: required, kept in the journal with who did
/// it, never sent to displays or the city.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CancelBody {
    /// Staff's reason (`本人放弃`, `重复取号`, …), at most 100 characters.
    #[schema(example = "重复取号")]
    #[serde(default)]
    reason: String,
}

/// The longest cancel reason, in characters.
const REASON_MAX: usize = 100;

/// Withdraws a ticket, for a reason. A window: only a ticket at its own
/// window, or one waiting for a service it serves.
#[utoipa::path(post, path = "/api/tickets/{number}/cancel", tag = "tickets", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed", example = "A012")),
    request_body = CancelBody,
    responses(
        (status = 200, description = "The cancelled ticket", body = TicketView),
        StaffErrors,
        (status = 403, description = "A window's token on a ticket outside its scope (`not_your_ticket`)", body = ErrorBody),
        (status = 404, description = "No such number today", body = ErrorBody),
        (status = 409, description = "Already closed", body = ErrorBody),
        (status = 422, description = "No reason, or a reason over 100 characters (`reason_required`)", body = ErrorBody),
    ))]
pub(super) async fn cancel(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(number): Path<String>,
    body: Result<Json<CancelBody>, JsonRejection>,
) -> Result<Json<TicketView>, ApiError> {
    let Json(b) = body.map_err(bad_json)?;
    let reason = b.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > REASON_MAX {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason_required",
            format!("取消号票须填写原因（1 到 {REASON_MAX} 个字）"),
        ));
    }
    ticket_op(&state, who, number, move |q, n, now| {
        q.cancel(n, Some(reason), now)
    })
    .await
}

/// One ticket withdrawn today.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub(super) struct CancellationView {
    /// Number as printed.
    number: String,
    /// Service name.
    service_name: String,
    /// `priority` or `normal`.
    #[schema(value_type = LaneSchema)]
    lane: Lane,
    /// When, milliseconds since the epoch.
    at_ms: i64,
    /// Who withdrew it (`manager`, `window:3`, …).
    by: Option<String>,
    /// Staff's reason (none for tickets withdrawn before reasons were
    /// asked for).
    reason: Option<String>,
}

/// The tickets withdrawn today, with who did it and why, newest first.
#[utoipa::path(get, path = "/api/cancellations", tag = "tickets", security(("bearer" = [])),
    responses(
        (status = 200, description = "Today's cancellations", body = Vec<CancellationView>),
        StaffErrors,
    ))]
pub(super) async fn cancellations(
    State(state): State<AppState>,
    _manager: super::auth::Manager,
) -> Result<Json<Vec<CancellationView>>, ApiError> {
    let cfg = state.cfg.clone();
    let list = with_hall(&state, move |h| {
        let day = h.queue().day();
        let journal = h.store().journal_between(Some(day), Some(day))?;
        let mut out: Vec<CancellationView> = journal
            .into_iter()
            .filter_map(|e| match e.event {
                crate::queue::Event::Cancelled { id, reason, at } => {
                    let t = h.queue().ticket(id)?;
                    Some(CancellationView {
                        number: t.number.clone(),
                        service_name: cfg
                            .service(&t.service)
                            .map_or_else(|| t.service.clone(), |s| s.name.clone()),
                        lane: t.lane,
                        at_ms: at.0,
                        by: e.actor,
                        reason,
                    })
                }
                _ => None,
            })
            .collect();
        out.reverse();
        Ok(out)
    })
    .await?;
    Ok(Json(list))
}
