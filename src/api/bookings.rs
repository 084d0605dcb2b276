//! Appointments over the API: a window, the manager or the booking hotline
//! books a slot for a resident by their ID number (kept as the hall's
//! keyed hash, as everywhere; the number itself goes no further than this
//! request), lists a day's bookings, looks one up by its code, moves or
//! cancels it. A window acts for the services it calls; the manager and
//! the hotline for every service. Who did what is kept with the booking.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{NaiveDate, NaiveTime};
use greenwave_drivers::id_number::mask;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Booker, Principal};
use super::error::bad_json;
use super::{ApiError, AppState, ErrorBody};
use crate::booking::{self, BookingRefusal, SLOT_MINUTES};
use crate::config::Config;
use crate::hall::{BookingAsk, BookingError};
use crate::store::Booking;

/// The booking routes.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(slots))
        .routes(routes!(list, book))
        .routes(routes!(find))
        .routes(routes!(one))
        .routes(routes!(move_booking))
        .routes(routes!(cancel))
}

impl From<BookingError> for ApiError {
    fn from(e: BookingError) -> ApiError {
        let (status, code) = match &e {
            BookingError::Refused(r) => match r {
                BookingRefusal::NoAppointments => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "no_appointments")
                }
                BookingRefusal::NotASlot { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "not_a_slot"),
                BookingRefusal::Past { .. } => (StatusCode::CONFLICT, "slot_past"),
                BookingRefusal::TooFarAhead { .. } => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "too_far_ahead")
                }
                BookingRefusal::Full { .. } => (StatusCode::CONFLICT, "slot_full"),
                BookingRefusal::AlreadyBooked { .. } => (StatusCode::CONFLICT, "already_booked"),
            },
            BookingError::Unknown(_) => (StatusCode::NOT_FOUND, "unknown_booking"),
            BookingError::Cancelled(_) => (StatusCode::CONFLICT, "booking_cancelled"),
            BookingError::Used { .. } => (StatusCode::CONFLICT, "booking_used"),
            BookingError::Store(s) => {
                tracing::error!(error = %s, "booking failed");
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "数据存储暂不可用，操作未记录，请稍后重试",
                );
            }
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// One half-hour slot of a day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SlotView {
    /// Start, `HH:MM`, the hall's time.
    pub start: String,
    /// End, `HH:MM`.
    pub end: String,
    /// Places per slot.
    pub capacity: u32,
    /// Places taken (cancelled bookings free theirs).
    pub booked: u32,
    /// Whether it can be booked now (ahead, within the days, a place free).
    pub open: bool,
}

/// A service's slots on a day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SlotsView {
    /// Service code.
    pub service: String,
    /// Service name.
    pub service_name: String,
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// Today, the hall's service day, `YYYY-MM-DD`.
    pub today: String,
    /// The last day that can be booked, `YYYY-MM-DD`.
    pub last_day: String,
    /// The kiosk gives the ticket from this many minutes before a slot.
    pub early_minutes: i64,
    /// … until this many minutes after its start.
    pub late_minutes: i64,
    /// The slots, in order (none: closed that day, or no appointments).
    pub slots: Vec<SlotView>,
}

/// One booking.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BookingView {
    /// The booking code the resident writes down (six digits).
    pub code: String,
    /// Service code.
    pub service: String,
    /// Service name.
    pub service_name: String,
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// The slot's start, `HH:MM`.
    pub slot: String,
    /// The slot's end, `HH:MM`.
    pub slot_end: String,
    /// `booked`, `kept`, `late`, `missed`, `cancelled`.
    pub status: String,
    /// The status for staff (`已预约`, `按时到`, `迟到`, `未到`, `已取消`).
    pub status_label: String,
    /// The ticket the resident came on, if they came.
    pub ticket: Option<String>,
    /// Who booked (`hotline`, `window:3`, `manager`).
    pub booked_by: String,
    /// When, milliseconds since the epoch.
    pub booked_at_ms: i64,
    /// The ID number as staff typed it, masked (`3717**********1234`):
    /// only in the answer to the request that carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_masked: Option<String>,
    /// Who booked, moved and cancelled it (one booking's lookup only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<BookingLogView>,
}

/// One line of a booking's history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BookingLogView {
    /// When, milliseconds since the epoch.
    pub at_ms: i64,
    /// Who (`hotline`, `window:3`, `manager`).
    pub actor: String,
    /// `booked`, `moved`, `cancelled`.
    pub action: String,
    /// What changed, or why.
    pub detail: Option<String>,
}

fn hm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

fn slot_end(t: NaiveTime) -> NaiveTime {
    t + chrono::Duration::minutes(SLOT_MINUTES)
}

impl BookingView {
    fn of(b: &Booking, cfg: &Config, now: chrono::NaiveDateTime) -> BookingView {
        let status = b.status(&cfg.appointments_of(&b.service), now);
        BookingView {
            code: b.code.clone(),
            service: b.service.clone(),
            service_name: cfg
                .service(&b.service)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            day: b.day.to_string(),
            slot: hm(b.slot),
            slot_end: hm(slot_end(b.slot)),
            status: status.as_str().to_string(),
            status_label: status.label().to_string(),
            ticket: b.ticket.as_ref().map(|(n, _)| n.clone()),
            booked_by: b.booked_by.clone(),
            booked_at_ms: b.booked_at,
            id_masked: None,
            history: Vec::new(),
        }
    }
}

/// Query of `GET /api/bookings/slots`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SlotsQuery {
    /// Service code.
    service: String,
    /// The day, `YYYY-MM-DD` [default: today].
    #[param(value_type = Option<String>)]
    day: Option<NaiveDate>,
}

/// Query of `GET /api/bookings`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// The day, `YYYY-MM-DD` [default: today].
    #[param(value_type = Option<String>)]
    day: Option<NaiveDate>,
    /// Only this service.
    service: Option<String>,
}

/// Body of `POST /api/bookings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookBody {
    /// The resident's ID number (kept only as the hall's keyed hash).
    id_number: String,
    /// Service code.
    service: String,
    /// The day, `YYYY-MM-DD`.
    #[schema(value_type = String)]
    day: NaiveDate,
    /// The slot's start, `HH:MM`.
    slot: String,
}

/// Body of `POST /api/bookings/find`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindBody {
    /// The resident's ID number.
    id_number: String,
}

/// Body of `POST /api/bookings/{code}/move`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// The new day, `YYYY-MM-DD`.
    #[schema(value_type = String)]
    day: NaiveDate,
    /// The new slot's start, `HH:MM`.
    slot: String,
}

/// Body of `POST /api/bookings/{code}/cancel`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Why (the resident called to cancel, …), up to 100 characters.
    reason: Option<String>,
}

fn parse_slot(raw: &str) -> Result<NaiveTime, ApiError> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M").map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
            format!("slot: \"{raw}\" 应为时段开始时间，如 \"09:30\""),
        )
    })
}

/// The service, if it exists and `who` may book for it.
fn service_for(cfg: &Config, who: &Principal, service: &str) -> Result<(), ApiError> {
    if cfg.service(service).is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_service",
            format!("service: 没有业务 \"{service}\""),
        ));
    }
    match who {
        Principal::Window(w)
            if !cfg
                .windows
                .iter()
                .any(|x| x.number == *w && x.services.iter().any(|s| s == service)) =>
        {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("{w} 号窗口不办理此业务，不能为其预约"),
            ))
        }
        _ => Ok(()),
    }
}

/// The keyed hash of an ID number (the kiosk's identity key) and its
/// masked form.
async fn person_of(state: &AppState, raw: String) -> Result<(String, String), ApiError> {
    let id = super::kiosk::id_number(&raw)?;
    let masked = mask(&raw);
    let person = super::kiosk::with_desk(state, move |d| Ok(d.person_of(&id))).await?;
    Ok((person, masked))
}

/// A service's half-hour slots on a day, with their places.
#[utoipa::path(get, path = "/api/bookings/slots", tag = "bookings", security(("bearer" = [])),
    params(SlotsQuery),
    responses(
        (status = 200, description = "The slots", body = SlotsView),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "A token that cannot book, or a window's for a service it does not call", body = ErrorBody),
        (status = 422, description = "Unknown service", body = ErrorBody),
    ))]
async fn slots(
    State(state): State<AppState>,
    Booker(who): Booker,
    Query(q): Query<SlotsQuery>,
) -> Result<Json<SlotsView>, ApiError> {
    let cfg = state.cfg.clone();
    service_for(&cfg, &who, &q.service)?;
    let service = cfg.service(&q.service).cloned().expect("checked above");
    let rules = cfg.appointments_of(&q.service);
    super::with_hall(&state, move |h| {
        let now = h.local_now();
        let day = q.day.unwrap_or(h.queue().day());
        let mut slots = Vec::new();
        if rules.capacity > 0 {
            for start in booking::slots(&service.schedule, day) {
                let booked = h.store().booked_in_slot(day, &service.code, start)?;
                let open =
                    booking::check_slot(&service.schedule, &rules, day, start, now, booked).is_ok();
                slots.push(SlotView {
                    start: hm(start),
                    end: hm(slot_end(start)),
                    capacity: rules.capacity,
                    booked,
                    open,
                });
            }
        }
        let today = h.queue().day();
        Ok(Json(SlotsView {
            service: service.code.clone(),
            service_name: service.name.clone(),
            day: day.to_string(),
            today: today.to_string(),
            last_day: (today + chrono::Duration::days(i64::from(rules.days_ahead))).to_string(),
            early_minutes: rules.early.num_minutes(),
            late_minutes: rules.late.num_minutes(),
            slots,
        }))
    })
    .await
}

/// Books a slot for a resident; answers the booking code to give them.
#[utoipa::path(post, path = "/api/bookings", tag = "bookings", security(("bearer" = [])),
    request_body = BookBody,
    responses(
        (status = 201, description = "Booked: the code, the slot, the ID number masked", body = BookingView),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "A token that cannot book, or a window's for a service it does not call", body = ErrorBody),
        (status = 409, description = "The slot is full or past (`slot_full`, `slot_past`), the resident has a booking of this service that day (`already_booked`), or no identity key (`no_kiosk`)", body = ErrorBody),
        (status = 422, description = "Bad body or ID number, unknown service, not a slot, too far ahead, or a service without appointments", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
async fn book(
    State(state): State<AppState>,
    Booker(who): Booker,
    body: Result<Json<BookBody>, JsonRejection>,
) -> Result<(StatusCode, Json<BookingView>), ApiError> {
    let Json(b) = body.map_err(bad_json)?;
    let cfg = state.cfg.clone();
    service_for(&cfg, &who, &b.service)?;
    let slot = parse_slot(&b.slot)?;
    let (person, masked) = person_of(&state, b.id_number).await?;
    let actor = who.actor();
    let view = super::locked(state.hall.clone(), move |h| -> Result<_, ApiError> {
        let schedule = &cfg.service(&b.service).expect("checked above").schedule;
        let booked = h.book(
            BookingAsk {
                actor: &actor,
                person,
                service: &b.service,
                day: b.day,
                slot,
                rules: cfg.appointments_of(&b.service),
                schedule,
            },
            random_u64,
        )?;
        tracing::info!(code = %booked.code, service = %booked.service, day = %booked.day, by = %actor.recorded(), "booked");
        Ok(BookingView::of(&booked, &cfg, h.local_now()))
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(BookingView {
            id_masked: Some(masked),
            ..view
        }),
    ))
}

/// Entropy for a booking code.
fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // No entropy source: the clock, unique enough for a retry loop.
        return std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
    }
    u64::from_le_bytes(b)
}

/// A day's bookings (a window sees those of its services), by slot.
#[utoipa::path(get, path = "/api/bookings", tag = "bookings", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "The bookings", body = Vec<BookingView>),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "A token that cannot book", body = ErrorBody),
    ))]
async fn list(
    State(state): State<AppState>,
    Booker(who): Booker,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<BookingView>>, ApiError> {
    let cfg = state.cfg.clone();
    if let Some(s) = &q.service {
        service_for(&cfg, &who, s)?;
    }
    super::with_hall(&state, move |h| {
        let day = q.day.unwrap_or(h.queue().day());
        let now = h.local_now();
        let all = h.store().bookings_of_day(day, q.service.as_deref())?;
        Ok(Json(
            all.iter()
                .filter(|b| service_for(&cfg, &who, &b.service).is_ok())
                .map(|b| BookingView::of(b, &cfg, now))
                .collect(),
        ))
    })
    .await
}

/// A resident's bookings from today on, by their ID number (in the body,
/// so that it never stands in a URL or an access log).
#[utoipa::path(post, path = "/api/bookings/find", tag = "bookings", security(("bearer" = [])),
    request_body = FindBody,
    responses(
        (status = 200, description = "Their bookings, today's and later ones", body = Vec<BookingView>),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "A token that cannot book", body = ErrorBody),
        (status = 409, description = "No identity key (`no_kiosk`)", body = ErrorBody),
        (status = 422, description = "Bad body or ID number", body = ErrorBody),
    ))]
async fn find(
    State(state): State<AppState>,
    Booker(who): Booker,
    body: Result<Json<FindBody>, JsonRejection>,
) -> Result<Json<Vec<BookingView>>, ApiError> {
    let Json(b) = body.map_err(bad_json)?;
    let (person, _) = person_of(&state, b.id_number).await?;
    let cfg = state.cfg.clone();
    super::with_hall(&state, move |h| {
        let now = h.local_now();
        let theirs = h.store().bookings_of_person(&person, h.queue().day())?;
        Ok(Json(
            theirs
                .iter()
                .filter(|b| service_for(&cfg, &who, &b.service).is_ok())
                .map(|b| BookingView::of(b, &cfg, now))
                .collect(),
        ))
    })
    .await
}

/// The booking of `code`, if `who` may see it.
fn visible(
    cfg: &Config,
    who: &Principal,
    b: Option<Booking>,
    code: &str,
) -> Result<Booking, ApiError> {
    let b = b.ok_or_else(|| ApiError::from(BookingError::Unknown(code.to_string())))?;
    service_for(cfg, who, &b.service)?;
    Ok(b)
}

/// One booking by its code, with who booked, moved and cancelled it.
#[utoipa::path(get, path = "/api/bookings/{code}", tag = "bookings", security(("bearer" = [])),
    params(("code" = String, Path, description = "Booking code", example = "483920")),
    responses(
        (status = 200, description = "The booking and its history", body = BookingView),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "A token that cannot book, or a window's for another service", body = ErrorBody),
        (status = 404, description = "No such booking", body = ErrorBody),
    ))]
async fn one(
    State(state): State<AppState>,
    Booker(who): Booker,
    Path(code): Path<String>,
) -> Result<Json<BookingView>, ApiError> {
    let cfg = state.cfg.clone();
    super::locked(state.hall.clone(), move |h| -> Result<_, ApiError> {
        let b = visible(&cfg, &who, h.store().booking(&code)?, &code)?;
        let history = h
            .store()
            .booking_log(&code)?
            .into_iter()
            .map(|e| BookingLogView {
                at_ms: e.at,
                actor: e.actor,
                action: e.action,
                detail: e.detail,
            })
            .collect();
        Ok(Json(BookingView {
            history,
            ..BookingView::of(&b, &cfg, h.local_now())
        }))
    })
    .await
}

/// Moves a booking to another day and slot (by the same rules as a new
/// one).
#[utoipa::path(post, path = "/api/bookings/{code}/move", tag = "bookings", security(("bearer" = [])),
    params(("code" = String, Path, description = "Booking code", example = "483920")),
    request_body = MoveBody,
    responses(
        (status = 200, description = "Moved", body = BookingView),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "A token that cannot book, or a window's for another service", body = ErrorBody),
        (status = 404, description = "No such booking", body = ErrorBody),
        (status = 409, description = "Cancelled or used already, the slot is full or past, or another booking that day", body = ErrorBody),
        (status = 422, description = "Bad body, not a slot, too far ahead", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
async fn move_booking(
    State(state): State<AppState>,
    Booker(who): Booker,
    Path(code): Path<String>,
    body: Result<Json<MoveBody>, JsonRejection>,
) -> Result<Json<BookingView>, ApiError> {
    let Json(m) = body.map_err(bad_json)?;
    let slot = parse_slot(&m.slot)?;
    let cfg = state.cfg.clone();
    super::locked(state.hall.clone(), move |h| -> Result<_, ApiError> {
        let b = visible(&cfg, &who, h.store().booking(&code)?, &code)?;
        let schedule = &cfg
            .service(&b.service)
            .map(|s| s.schedule.clone())
            .unwrap_or_default();
        let rules = cfg.appointments_of(&b.service);
        let moved = h.move_booking(&who.actor(), &code, (m.day, slot), &rules, schedule)?;
        Ok(Json(BookingView::of(&moved, &cfg, h.local_now())))
    })
    .await
}

/// Cancels a booking; its place is free at once.
#[utoipa::path(post, path = "/api/bookings/{code}/cancel", tag = "bookings", security(("bearer" = [])),
    params(("code" = String, Path, description = "Booking code", example = "483920")),
    request_body = CancelBody,
    responses(
        (status = 200, description = "Cancelled", body = BookingView),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "A token that cannot book, or a window's for another service", body = ErrorBody),
        (status = 404, description = "No such booking", body = ErrorBody),
        (status = 409, description = "Cancelled or used already", body = ErrorBody),
        (status = 422, description = "Bad body (a reason over 100 characters)", body = ErrorBody),
        (status = 503, description = "Storage unavailable; nothing recorded", body = ErrorBody),
    ))]
async fn cancel(
    State(state): State<AppState>,
    Booker(who): Booker,
    Path(code): Path<String>,
    body: Result<Json<CancelBody>, JsonRejection>,
) -> Result<Json<BookingView>, ApiError> {
    let Json(c) = body.map_err(bad_json)?;
    let reason = c
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 100) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
            "reason: 最多 100 个字",
        ));
    }
    let cfg = state.cfg.clone();
    super::locked(state.hall.clone(), move |h| -> Result<_, ApiError> {
        visible(&cfg, &who, h.store().booking(&code)?, &code)?;
        let b = h.cancel_booking(&who.actor(), &code, reason.as_deref())?;
        tracing::info!(code = %b.code, by = %who.actor().recorded(), "booking cancelled");
        Ok(Json(BookingView::of(&b, &cfg, h.local_now())))
    })
    .await
}
