//! Staff routes of the kiosk: manual identification (a priority ticket or an
//! upgrade after checking an ID number against the roster), binding priority
//! cards, the reprint list. (The resident's ticket status by its token is
//! `progress.rs`'s.)
//! ID numbers arrive in request bodies only; answers carry them masked.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use greenwave_drivers::id_number::{mask, IdNumber, IdNumberError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Staff;
use super::error::{bad_json, StaffErrors};
use super::{with_hall, ApiError, AppState, ErrorBody, TicketView};
use crate::kiosk::{HallDesk, KioskError, RosterCheck, StaffRefusal};

impl From<KioskError> for ApiError {
    fn from(e: KioskError) -> ApiError {
        match e {
            KioskError::Hall(h) => h.into(),
            KioskError::Refused(r) => {
                let (status, code) = match &r {
                    StaffRefusal::NoRoster => (StatusCode::CONFLICT, "no_roster"),
                    StaffRefusal::NotGranted { .. } => (StatusCode::CONFLICT, "not_granted"),
                    StaffRefusal::UnknownNumber(_) => (StatusCode::NOT_FOUND, "unknown_number"),
                    StaffRefusal::NotYourTicket { .. } => {
                        (StatusCode::FORBIDDEN, "not_your_ticket")
                    }
                    StaffRefusal::NotYourService { .. } => {
                        (StatusCode::FORBIDDEN, "not_your_service")
                    }
                };
                ApiError::new(status, code, r.to_string())
            }
            KioskError::NotRunning => no_kiosk(),
            other => {
                tracing::error!(error = %other, "kiosk operation failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "名单或数据存储暂不可用，请稍后重试",
                )
            }
        }
    }
}

/// The roster's answer for a resident, as staff see it (never a name).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RosterCheckView {
    /// On the roster.
    pub listed: bool,
    /// Category, if listed.
    pub category: Option<String>,
    /// Last valid day (YYYY-MM-DD), if limited.
    pub valid_to: Option<String>,
    /// Whether the entry grants the priority lane today.
    pub grants_priority: bool,
    /// The ID number, masked (`3717**********1234`).
    pub id_masked: String,
}

impl From<RosterCheck> for RosterCheckView {
    fn from(c: RosterCheck) -> Self {
        RosterCheckView {
            listed: c.listed,
            category: c.category,
            valid_to: c.valid_to.map(|d| d.to_string()),
            grants_priority: c.grants_priority,
            id_masked: c.masked,
        }
    }
}

/// A ticket issued or changed after a manual identification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StaffTicket {
    /// The ticket.
    pub ticket: TicketView,
    /// What the roster said.
    pub roster: RosterCheckView,
}

/// Body of `POST /api/tickets/priority`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualBody {
    /// The resident's ID number, as staff read it from the card.
    id_number: String,
    /// Service code [default: the kiosk's default service].
    service: Option<String>,
}

/// Body of `POST /api/tickets/{number}/upgrade`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeBody {
    /// The resident's ID number.
    id_number: String,
}

/// Body of `POST /api/cards`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindBody {
    /// The card's UID, hex (as the kiosk's PC/SC reader reports it).
    uid: String,
    /// The resident's ID number.
    id_number: String,
}

/// Result of a reprint.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReprintResult {
    /// The ticket.
    pub ticket: TicketView,
    /// Printed now.
    pub printed: bool,
    /// Why not, if not.
    pub error: Option<String>,
}

pub(super) fn id_number(raw: &str) -> Result<IdNumber, ApiError> {
    IdNumber::parse(raw).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_id_number",
            format!("身份证号码 {} 无效：{}", mask(raw), id_number_problem(&e)),
        )
    })
}

/// What is wrong with an ID number staff typed, in their words.
fn id_number_problem(e: &IdNumberError) -> String {
    match e {
        IdNumberError::Length(n) => format!("应为 18 位，实际 {n} 位"),
        IdNumberError::BadCharacter(p) => format!("第 {p} 位不是数字"),
        IdNumberError::BirthDate => "出生日期无效".to_string(),
        IdNumberError::CheckDigit => "校验位错误".to_string(),
    }
}

pub(super) fn no_kiosk() -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "no_kiosk", "本机未启用自助取号")
}

/// Runs `f` with the hall's desk on the blocking pool. The desk never
/// waits on the kiosk's printer.
pub(super) async fn with_desk<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&HallDesk) -> Result<T, KioskError> + Send + 'static,
) -> Result<T, ApiError> {
    let desk: Arc<HallDesk> = state.desk.clone().ok_or_else(no_kiosk)?;
    super::blocking(move || f(&desk)).await
}

pub(super) async fn view(
    state: &AppState,
    t: crate::queue::Ticket,
) -> Result<TicketView, ApiError> {
    let cfg = state.cfg.clone();
    with_hall(state, move |h| Ok(TicketView::of(&t, h.queue(), &cfg))).await
}

/// Issues a priority ticket after staff checked the resident's ID number
/// against the roster (manual identification). The check is audited.
#[utoipa::path(post, path = "/api/tickets/priority", tag = "kiosk", security(("bearer" = [])),
    request_body = ManualBody,
    responses(
        (status = 201, description = "The priority ticket (or the resident's open one) and the roster's answer", body = StaffTicket),
        StaffErrors,
        (status = 409, description = "Not on the roster in a granting category (`not_granted`), or no roster (`no_roster`)", body = ErrorBody),
        (status = 422, description = "Bad body, bad ID number or unknown service", body = ErrorBody),
    ))]
async fn manual_priority(
    State(state): State<AppState>,
    Staff(who): Staff,
    body: Result<Json<ManualBody>, JsonRejection>,
) -> Result<(StatusCode, Json<StaffTicket>), ApiError> {
    let who = who.actor();
    let Json(b) = body.map_err(bad_json)?;
    let id = id_number(&b.id_number)?;
    let service = match b
        .service
        .or_else(|| state.cfg.kiosk.default_service.clone())
    {
        Some(s) => s,
        None if state.cfg.services.len() == 1 => state.cfg.services[0].code.clone(),
        None => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_request",
                "service: 请指定业务",
            ))
        }
    };
    if state.cfg.service(&service).is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_service",
            format!("service: 没有业务 \"{service}\""),
        ));
    }
    let (check, t) = with_desk(&state, move |d| d.manual_priority(&id, &service, &who)).await?;
    let ticket = view(&state, t).await?;
    Ok((
        StatusCode::CREATED,
        Json(StaffTicket {
            ticket,
            roster: check.into(),
        }),
    ))
}

/// Moves a waiting normal ticket to the priority lane after a manual
/// identification; the ticket keeps its number.
#[utoipa::path(post, path = "/api/tickets/{number}/upgrade", tag = "kiosk", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed", example = "A012")),
    request_body = UpgradeBody,
    responses(
        (status = 200, description = "The ticket, now in the priority lane", body = StaffTicket),
        StaffErrors,
        (status = 404, description = "No such number today", body = ErrorBody),
        (status = 409, description = "Not granted, no roster, or the ticket is not waiting in the normal lane", body = ErrorBody),
        (status = 422, description = "Bad body or bad ID number", body = ErrorBody),
    ))]
async fn upgrade(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(number): Path<String>,
    body: Result<Json<UpgradeBody>, JsonRejection>,
) -> Result<Json<StaffTicket>, ApiError> {
    let who = who.actor();
    let Json(b) = body.map_err(bad_json)?;
    let id = id_number(&b.id_number)?;
    let (check, t) = with_desk(&state, move |d| d.upgrade(&number, &id, &who)).await?;
    let ticket = view(&state, t).await?;
    Ok(Json(StaffTicket {
        ticket,
        roster: check.into(),
    }))
}

/// Binds a priority card to a resident on the roster (stored as the card
/// UID and the roster entry's hash).
#[utoipa::path(post, path = "/api/cards", tag = "kiosk", security(("bearer" = [])),
    request_body = BindBody,
    responses(
        (status = 200, description = "Bound; the roster's answer", body = RosterCheckView),
        StaffErrors,
        (status = 409, description = "Not granted or no roster", body = ErrorBody),
        (status = 422, description = "Bad body, UID or ID number", body = ErrorBody),
    ))]
async fn bind_card(
    State(state): State<AppState>,
    Staff(who): Staff,
    body: Result<Json<BindBody>, JsonRejection>,
) -> Result<Json<RosterCheckView>, ApiError> {
    let who = who.actor();
    let Json(b) = body.map_err(bad_json)?;
    let uid = hex::decode(b.uid.trim())
        .ok()
        .filter(|u| (4..=10).contains(&u.len()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_request",
                "uid: 应为 4 到 10 字节的十六进制卡号",
            )
        })?;
    let id = id_number(&b.id_number)?;
    let check = with_desk(&state, move |d| d.bind_card(&uid, &id, &who)).await?;
    Ok(Json(check.into()))
}

/// Open tickets whose last print failed.
#[utoipa::path(get, path = "/api/reprints", tag = "kiosk", security(("bearer" = [])),
    responses(
        (status = 200, description = "The reprint list", body = Vec<TicketView>),
        StaffErrors,
        (status = 409, description = "No kiosk on this machine", body = ErrorBody),
    ))]
async fn reprints(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<Vec<TicketView>>, ApiError> {
    let list = with_desk(&state, |d| d.reprint_list()).await?;
    let cfg = state.cfg.clone();
    let views = with_hall(&state, move |h| {
        Ok(list
            .iter()
            .map(|t| TicketView::of(t, h.queue(), &cfg))
            .collect())
    })
    .await?;
    Ok(Json(views))
}

/// The kiosk routes, for the router.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(manual_priority))
        .routes(routes!(upgrade))
        .routes(routes!(bind_card))
        .routes(routes!(reprints))
}
