//! The tickets and the queue: issue, look up, rejoin, cancel; the queue
//! as a whole.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::Staff;
use super::error::{bad_json, StaffErrors};
use super::windows::window_op;
use super::{
    with_hall, ApiError, AppState, ErrorBody, LaneSchema, QueueView, TicketHistory, TicketView,
};
use crate::queue::{Lane, QueueError};

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
        StaffErrors,
        (status = 422, description = "Bad body or unknown service (`bad_request`, `unknown_service`)", body = ErrorBody),
    ))]
pub(super) async fn issue(
    State(state): State<AppState>,
    _staff: Staff,
    body: Result<Json<IssueBody>, JsonRejection>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
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

/// Puts a no-show ticket back in its place in line, within the grace period.
#[utoipa::path(post, path = "/api/tickets/{number}/rejoin", tag = "tickets", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed", example = "A012")),
    responses(
        (status = 200, description = "The ticket, waiting again", body = TicketView),
        StaffErrors,
        (status = 404, description = "No such number today", body = ErrorBody),
        (status = 409, description = "Not a no-show, or the grace period is over", body = ErrorBody),
    ))]
pub(super) async fn rejoin(
    State(state): State<AppState>,
    _staff: Staff,
    Path(number): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    window_op(&state, move |h| h.exec(|q, now| q.rejoin(&number, now))).await
}

/// Withdraws a ticket.
#[utoipa::path(post, path = "/api/tickets/{number}/cancel", tag = "tickets", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed", example = "A012")),
    responses(
        (status = 200, description = "The cancelled ticket", body = TicketView),
        StaffErrors,
        (status = 404, description = "No such number today", body = ErrorBody),
        (status = 409, description = "Already closed", body = ErrorBody),
    ))]
pub(super) async fn cancel(
    State(state): State<AppState>,
    _staff: Staff,
    Path(number): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    window_op(&state, move |h| h.exec(|q, now| q.cancel(&number, now))).await
}
