//! The resident's own ratings, on the five levels of the 好差评 scheme:
//! at the window's evaluator (评价器: the page `/rate/{window}` on a tablet
//! at the counter, `GET`/`POST /api/rate/{window}`) and on their phone (the
//! ticket's progress page, `POST /api/status/{token}/rating`), once per
//! ticket whichever comes first; and the manager's alerts for the unhappy
//! ones (`GET /api/alerts`, `POST /api/alerts/{ticket}/handled`), so the
//! hall can call the resident back the same day.

use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{EvaluatorOf, Manager};
use super::cases::{RatingSchema, RatingSourceSchema, RatingView};
use super::error::{bad_json, EvaluatorErrors, ManagerErrors};
use super::{locked, ApiError, AppState, ErrorBody};
use crate::cases::{self, Actor, Rating, RatingRecord, RatingSource, MAX_TEXT};
use crate::config::Config;
use crate::hall::Hall;
use crate::queue::{Lane, Ticket, TicketState, Timestamp};
use crate::store::{Handled, UnhappyRating};

/// The routes, merged into the API's router.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(evaluator, evaluator_rate))
        .routes(routes!(phone_rate))
        .routes(routes!(alerts))
        .routes(routes!(handled))
        .routes(routes!(rate_page))
}

/// The ticket the evaluator of `window` offers at `now`: the one being
/// served there, else the one finished there most recently, for `open`
/// after it finished.
pub fn evaluator_ticket<'a>(
    tickets: impl IntoIterator<Item = &'a Ticket>,
    window: u32,
    now: Timestamp,
    open: Duration,
) -> Option<&'a Ticket> {
    let here: Vec<&Ticket> = tickets
        .into_iter()
        .filter(|t| t.window == Some(window))
        .collect();
    if let Some(t) = here.iter().find(|t| t.state == TicketState::Serving) {
        return Some(t);
    }
    let since = now.0 - open.as_millis() as i64;
    here.into_iter()
        .filter(|t| t.state == TicketState::Done)
        .filter(|t| t.closed_at.is_some_and(|c| c.0 >= since && c.0 <= now.0))
        .max_by_key(|t| (t.closed_at, t.id))
}

/// The ticket an evaluator shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(super) struct EvaluatedTicket {
    /// Its number (`GA012`).
    number: String,
    /// The service's name (`民政救助`).
    service_name: String,
    /// `priority` or `normal`.
    lane: String,
    /// `serving` or `finished`.
    state: String,
    /// Already rated (by the evaluator, the phone or staff).
    rated: bool,
}

/// `GET /api/rate/{window}`: what the window's evaluator shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(super) struct EvaluatorView {
    /// The window.
    window: u32,
    /// The ticket being served there or just finished; none: the idle
    /// screen.
    ticket: Option<EvaluatedTicket>,
    /// The levels offered, best first.
    #[schema(value_type = Vec<RatingSchema>)]
    levels: Vec<Rating>,
    /// How long after the finish a ticket can still be rated, seconds.
    open_s: u64,
}

fn evaluator_view(h: &Hall, cfg: &Config, window: u32) -> Result<EvaluatorView, ApiError> {
    let q = h.queue();
    let t = evaluator_ticket(q.tickets(), window, h.now(), cfg.evaluator_open);
    let ticket = match t {
        Some(t) => Some(EvaluatedTicket {
            number: t.number.clone(),
            service_name: service_name(cfg, &t.service),
            lane: lane(t.lane).into(),
            state: if t.state == TicketState::Serving {
                "serving"
            } else {
                "finished"
            }
            .into(),
            rated: h.store().rating(t.id)?.is_some(),
        }),
        None => None,
    };
    Ok(EvaluatorView {
        window,
        ticket,
        levels: Rating::ALL.to_vec(),
        open_s: cfg.evaluator_open.as_secs(),
    })
}

fn service_name(cfg: &Config, code: &str) -> String {
    cfg.service(code)
        .map(|s| s.name.clone())
        .unwrap_or_default()
}

fn lane(l: Lane) -> &'static str {
    l.as_str()
}

/// What the window's evaluator shows: the ticket being served at the
/// window or just finished there, and the five levels.
#[utoipa::path(get, path = "/api/rate/{window}", tag = "ratings", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    responses(
        (status = 200, description = "The evaluator's screen", body = EvaluatorView),
        EvaluatorErrors,
    ))]
async fn evaluator(
    State(state): State<AppState>,
    EvaluatorOf(window, _): EvaluatorOf,
) -> Result<Json<EvaluatorView>, ApiError> {
    let cfg = state.cfg.clone();
    locked(state.hall.clone(), move |h| {
        evaluator_view(h, &cfg, window).map(Json)
    })
    .await
}

/// Body of `POST /api/rate/{window}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EvaluatorRating {
    /// The number the evaluator showed (a guard against a ticket that
    /// changed meanwhile).
    number: String,
    /// One of the five levels.
    #[schema(value_type = RatingSchema)]
    rating: String,
}

/// The resident rates at the window's evaluator: the ticket being served
/// there or finished there within `[ratings] evaluator_open`.
#[utoipa::path(post, path = "/api/rate/{window}", tag = "ratings", security(("bearer" = [])),
    params(("window" = u32, Path, description = "Window number")),
    request_body = EvaluatorRating,
    responses(
        (status = 201, description = "The recorded rating", body = RatingView),
        EvaluatorErrors,
        (status = 409, description = "That ticket is no longer at this window (`nothing_to_rate`) or was rated (`already_rated`)", body = ErrorBody),
        (status = 422, description = "Bad body or unknown rating (`bad_rating`)", body = ErrorBody),
    ))]
async fn evaluator_rate(
    State(state): State<AppState>,
    EvaluatorOf(window, by): EvaluatorOf,
    body: Result<Json<EvaluatorRating>, JsonRejection>,
) -> Result<(StatusCode, Json<RatingView>), ApiError> {
    let Json(b) = body.map_err(bad_json)?;
    let cfg = state.cfg.clone();
    locked(state.hall.clone(), move |h| {
        let now = h.now();
        let number = b.number.trim().to_ascii_uppercase();
        let t = evaluator_ticket(h.queue().tickets(), window, now, cfg.evaluator_open)
            .filter(|t| t.number == number)
            .cloned()
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "nothing_to_rate",
                    format!("{number} 已不在 {window} 号窗口，无法评价"),
                )
            })?;
        let rec = record(
            h,
            &t,
            true,
            (&b.rating, RatingSource::ResidentWindow),
            None,
            &by,
        )?;
        Ok::<_, ApiError>((StatusCode::CREATED, Json(rec.into())))
    })
    .await
}

/// Checks and records one rating of `t`.
fn record(
    h: &Hall,
    t: &Ticket,
    open: bool,
    (rating, source): (&str, RatingSource),
    comment: Option<&str>,
    by: &Actor,
) -> Result<RatingRecord, ApiError> {
    let already = h.store().rating(t.id)?.is_some();
    let (rating, comment) =
        cases::check_rating_of(&t.number, open, t.state, already, (rating, source), comment)?;
    let rec = RatingRecord {
        rating,
        comment,
        at: h.now(),
        by: by.recorded(),
        source,
    };
    if !h.store().record_rating(t.id, &rec)? {
        return Err(cases::CaseError::AlreadyRated(t.number.clone()).into());
    }
    tracing::info!(
        number = %t.number,
        rating = rec.rating.as_str(),
        source = source.as_str(),
        "ticket rated"
    );
    Ok(rec)
}

/// Body of `POST /api/status/{token}/rating`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PhoneRating {
    /// One of the five levels.
    #[schema(value_type = RatingSchema)]
    rating: String,
    /// What the resident wants to say (optional, up to 500 characters).
    comment: Option<String>,
}

/// The resident rates on their phone, from the ticket's progress page,
/// once the ticket is finished. No login: the ticket's token is the
/// capability.
#[utoipa::path(post, path = "/api/status/{token}/rating", tag = "ratings",
    params(("token" = String, Path, description = "The ticket's token from its QR code")),
    request_body = PhoneRating,
    responses(
        (status = 201, description = "The recorded rating", body = RatingView),
        (status = 404, description = "No such ticket today (`unknown_ticket`)", body = ErrorBody),
        (status = 409, description = "Not finished (`not_finished`) or already rated (`already_rated`)", body = ErrorBody),
        (status = 422, description = "Bad body, unknown rating (`bad_rating`) or comment too long (`too_long`)", body = ErrorBody),
    ))]
async fn phone_rate(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Result<Json<PhoneRating>, JsonRejection>,
) -> Result<(StatusCode, Json<RatingView>), ApiError> {
    let Json(b) = body.map_err(bad_json)?;
    locked(state.hall.clone(), move |h| {
        let t = h
            .queue()
            .ticket_by_token(token.trim())
            .filter(|_| !token.trim().is_empty())
            .cloned()
            .ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_ticket", "没有找到这张票")
            })?;
        let rec = record(
            h,
            &t,
            t.state == TicketState::Done,
            (&b.rating, RatingSource::ResidentPhone),
            b.comment.as_deref(),
            &Actor::Resident,
        )?;
        Ok::<_, ApiError>((StatusCode::CREATED, Json(rec.into())))
    })
    .await
}

/// An unhappy rating (不满意, 非常不满意) for the manager to follow up.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(super) struct AlertView {
    /// The ticket's id (the handle route's path).
    ticket_id: u64,
    /// Its number.
    number: String,
    /// Its service day.
    day: String,
    /// The service's name.
    service_name: String,
    /// The window that served it.
    window: Option<u32>,
    /// The accompanying helper's duty name, for a priority case.
    helper: Option<String>,
    /// The rating.
    #[schema(value_type = RatingSchema)]
    rating: Rating,
    /// Whose rating.
    #[schema(value_type = RatingSourceSchema)]
    source: RatingSource,
    /// The resident's comment.
    comment: Option<String>,
    /// When it was given, milliseconds since the epoch.
    at_ms: i64,
    /// The manager's follow-up; none while it waits.
    handled: Option<HandledView>,
}

/// How an unhappy rating was handled.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(super) struct HandledView {
    /// When, milliseconds since the epoch.
    at_ms: i64,
    /// Who (`manager`).
    by: String,
    /// What was done.
    note: String,
}

fn alert_view(h: &Hall, cfg: &Config, u: UnhappyRating) -> Result<AlertView, ApiError> {
    let t = h.store().ticket_by_id(u.ticket)?;
    let helper = h
        .store()
        .case_of_ticket(u.ticket)?
        .and_then(|c| c.helper)
        .map(|id| cfg.helper(&id).map_or(id.clone(), |x| x.name.clone()));
    Ok(AlertView {
        ticket_id: u.ticket.0,
        number: t.as_ref().map(|t| t.number.clone()).unwrap_or_default(),
        day: t.as_ref().map(|t| t.day.to_string()).unwrap_or_default(),
        service_name: t
            .as_ref()
            .map(|t| service_name(cfg, &t.service))
            .unwrap_or_default(),
        window: t.as_ref().and_then(|t| t.window),
        helper,
        rating: u.record.rating,
        source: u.record.source,
        comment: u.record.comment,
        at_ms: u.record.at.0,
        handled: u.handled.map(|x| HandledView {
            at_ms: x.at.0,
            by: x.by,
            note: x.note,
        }),
    })
}

/// How far back handled alerts are still listed.
const ALERTS_SHOWN: Duration = Duration::from_secs(24 * 3600);

/// The unhappy ratings of the last 24 hours, and any older one not handled
/// yet, newest first.
#[utoipa::path(get, path = "/api/alerts", tag = "ratings", security(("bearer" = [])),
    responses(
        (status = 200, description = "Unhappy ratings to follow up", body = Vec<AlertView>),
        ManagerErrors,
    ))]
async fn alerts(
    State(state): State<AppState>,
    _m: Manager,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    let cfg = state.cfg.clone();
    locked(state.hall.clone(), move |h| {
        let since = Timestamp(h.now().0 - ALERTS_SHOWN.as_millis() as i64);
        let list = h.store().unhappy_ratings(since)?;
        list.into_iter()
            .map(|u| alert_view(h, &cfg, u))
            .collect::<Result<Vec<_>, _>>()
            .map(Json)
    })
    .await
}

/// Body of `POST /api/alerts/{ticket}/handled`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct HandledBody {
    /// What was done (`已电话回访，问题已解决`), up to 500 characters.
    note: String,
}

/// The manager marks an unhappy rating handled, with a note.
#[utoipa::path(post, path = "/api/alerts/{ticket}/handled", tag = "ratings", security(("bearer" = [])),
    params(("ticket" = u64, Path, description = "The ticket's id (`ticket_id` of the alert)")),
    request_body = HandledBody,
    responses(
        (status = 200, description = "The alert, handled", body = AlertView),
        ManagerErrors,
        (status = 404, description = "No unhappy rating of that ticket (`unknown_alert`)", body = ErrorBody),
        (status = 409, description = "Handled already (`already_handled`)", body = ErrorBody),
        (status = 422, description = "Empty or too long note", body = ErrorBody),
    ))]
async fn handled(
    State(state): State<AppState>,
    _m: Manager,
    Path(ticket): Path<u64>,
    body: Result<Json<HandledBody>, JsonRejection>,
) -> Result<Json<AlertView>, ApiError> {
    let Json(b) = body.map_err(bad_json)?;
    let note = b.note.trim().to_string();
    if note.is_empty() || note.chars().count() > MAX_TEXT {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
            format!("请填写处理情况（1 到 {MAX_TEXT} 字）"),
        ));
    }
    let cfg = state.cfg.clone();
    locked(state.hall.clone(), move |h| {
        let id = crate::queue::TicketId(ticket);
        let handled = Handled {
            at: h.now(),
            by: Actor::Manager.recorded(),
            note,
        };
        let record = h.store().rating(id)?.filter(|r| r.rating.is_unhappy());
        let Some(record) = record else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_alert",
                "没有这条不满意评价",
            ));
        };
        if !h.store().mark_handled(id, &handled)? {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "already_handled",
                "该评价已处理",
            ));
        }
        let u = UnhappyRating {
            ticket: id,
            record,
            handled: Some(handled),
        };
        alert_view(h, &cfg, u).map(Json)
    })
    .await
}

/// The window's evaluator (评价器) page, for a tablet fixed at the counter:
/// it logs in once with the window's evaluator token (or the window's
/// token) and shows the ticket and five large buttons.
#[utoipa::path(get, path = "/rate/{window}", tag = "pages",
    params(("window" = u32, Path, description = "Window number")),
    responses((status = 200, description = "The evaluator page (HTML); it asks for the token once", content_type = "text/html", body = String)))]
async fn rate_page(Path(_window): Path<u32>) -> Response {
    super::pages::page(super::pages::RATE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::TicketId;

    fn ticket(id: u64, window: u32, state: TicketState, closed_ms: Option<i64>) -> Ticket {
        Ticket {
            id: TicketId(id),
            day: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            number: format!("A{id:03}"),
            service: "civil".into(),
            origin_service: "civil".into(),
            lane: Lane::Normal,
            seq: id as u32,
            issued_at: Timestamp(0),
            state,
            window: Some(window),
            target_window: None,
            called_at: None,
            first_called_at: None,
            started_at: None,
            closed_at: closed_ms.map(Timestamp),
            calls: 1,
            transfers: 0,
            token: String::new(),
            person: None,
            identified: None,
            slot_at: None,
            booking: None,
        }
    }

    const OPEN: Duration = Duration::from_secs(120);

    #[test]
    fn the_evaluator_offers_the_ticket_being_served_first() {
        let ts = [
            ticket(1, 3, TicketState::Done, Some(100_000)),
            ticket(2, 3, TicketState::Serving, None),
        ];
        let t = evaluator_ticket(&ts, 3, Timestamp(110_000), OPEN).unwrap();
        assert_eq!(t.number, "A002");
    }

    #[test]
    fn a_finished_ticket_stays_offered_for_the_open_time_then_goes() {
        let ts = [
            ticket(1, 3, TicketState::Done, Some(100_000)),
            ticket(2, 3, TicketState::Done, Some(150_000)),
            ticket(3, 4, TicketState::Done, Some(160_000)),
        ];
        let at = |ms| evaluator_ticket(&ts, 3, Timestamp(ms), OPEN).map(|t| t.number.clone());
        assert_eq!(
            at(160_000).as_deref(),
            Some("A002"),
            "the latest at window 3"
        );
        assert_eq!(at(270_000).as_deref(), Some("A002"), "2 minutes after");
        assert_eq!(at(270_001), None, "gone after 2 minutes");
        assert_eq!(
            evaluator_ticket(&ts, 5, Timestamp(160_000), OPEN).map(|t| t.id),
            None,
            "nothing at a window that served nobody"
        );
    }

    #[test]
    fn a_called_ticket_is_not_offered_before_service_starts() {
        let ts = [ticket(1, 3, TicketState::Called, None)];
        assert!(evaluator_ticket(&ts, 3, Timestamp(1), OPEN).is_none());
    }
}
