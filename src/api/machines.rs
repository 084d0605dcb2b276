//! The kiosk machines' routes (`/api/kiosk/*`, a `[[kiosks]]` token
//! only): a kiosk machine of a hall of several asks its hall server for
//! its setup and for each resident's ticket, reports its prints and its
//! devices, and takes the print jobs staff send it. Bodies are defined once
//! in [`crate::kiosk::wire`], for both sides.
//!
//! The server decides the lane and applies one person, one number across
//! every machine, under the hall's one lock; the request's idempotency key
//! is committed with the ticket, so that a kiosk asking again after a lost
//! answer gets the same ticket, never a second.

use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::routes;

use super::auth::{KioskMachine, Staff};
use super::error::{bad_json, KioskErrors, StaffErrors};
use super::fleet::MachineView;
use super::{ApiError, AppState, ErrorBody};
use crate::kiosk::desk::DeskAnswer;
use crate::kiosk::wire::{
    Heartbeat, JobResult, MachineSetup, PrintJob as Job, PrintReport, TicketAnswer, TicketRequest,
};
use crate::kiosk::PrintProblem;
use crate::queue::TicketId;

/// The longest a kiosk's poll for print jobs is held open.
const MAX_POLL: Duration = Duration::from_secs(25);

pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(setup))
        .routes(routes!(heartbeat))
        .routes(routes!(ticket))
        .routes(routes!(prints))
        .routes(routes!(jobs))
        .routes(routes!(job_done))
        .routes(routes!(machines))
}

/// Kiosk `id` was heard from now.
fn touch(state: &AppState, id: &str) {
    state.fleet.contact(id, Instant::now(), state.clock.now().0);
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_request", message)
}

/// The setup of kiosk `id` as of now (a reload on the server shows here).
fn setup_of(state: &AppState, id: &str) -> Result<MachineSetup, ApiError> {
    let desk = state.desk.as_ref().ok_or_else(super::kiosk::no_kiosk)?;
    let name = state
        .cfg
        .kiosks
        .iter()
        .find(|k| k.id == id)
        .map(|k| k.name.clone())
        .unwrap_or_default();
    Ok(MachineSetup {
        kiosk: id.to_string(),
        name,
        key_id: desk.key_id(),
        settings: (**state.kiosk_settings.borrow()).clone(),
    })
}

/// What a kiosk machine needs to serve residents: the hall's settings and
/// the id of the hall's identity key (never the key).
#[utoipa::path(get, path = "/api/kiosk/setup", tag = "kiosk machines", security(("bearer" = [])),
    responses(
        (status = 200, description = "The kiosk's setup", body = MachineSetup),
        KioskErrors,
    ))]
async fn setup(
    State(state): State<AppState>,
    KioskMachine(id): KioskMachine,
) -> Result<Json<MachineSetup>, ApiError> {
    touch(&state, &id);
    Ok(Json(setup_of(&state, &id)?))
}

/// A kiosk machine reports its devices (every 5 seconds); the answer is
/// its setup in force.
#[utoipa::path(post, path = "/api/kiosk/heartbeat", tag = "kiosk machines", security(("bearer" = [])),
    request_body = Heartbeat,
    responses(
        (status = 200, description = "The kiosk's setup", body = MachineSetup),
        KioskErrors,
        (status = 422, description = "Bad body", body = ErrorBody),
    ))]
async fn heartbeat(
    State(state): State<AppState>,
    KioskMachine(id): KioskMachine,
    body: Result<Json<Heartbeat>, JsonRejection>,
) -> Result<Json<MachineSetup>, ApiError> {
    let Json(b) = body.map_err(bad_json)?;
    touch(&state, &id);
    state.fleet.report(&id, b.devices, b.version);
    Ok(Json(setup_of(&state, &id)?))
}

/// Whether an idempotency key is acceptable: 8 to 64 of `[A-Za-z0-9-]`.
fn request_key_ok(k: &str) -> bool {
    (8..=64).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A resident at a kiosk machine: their open ticket for the service, or a
/// new one. The server decides the lane; the same request key always
/// gets the same answer.
#[utoipa::path(post, path = "/api/kiosk/tickets", tag = "kiosk machines", security(("bearer" = [])),
    request_body = TicketRequest,
    responses(
        (status = 200, description = "The ticket, or a priority card bound to nobody", body = TicketAnswer),
        KioskErrors,
        (status = 422, description = "Bad body, key or applicant (`bad_request`), unknown service (`unknown_service`)", body = ErrorBody),
    ))]
async fn ticket(
    State(state): State<AppState>,
    KioskMachine(id): KioskMachine,
    body: Result<Json<TicketRequest>, JsonRejection>,
) -> Result<Json<TicketAnswer>, ApiError> {
    let Json(b) = body.map_err(bad_json)?;
    touch(&state, &id);
    if !request_key_ok(&b.request) {
        return Err(unprocessable("request: 应为 8 到 64 位字母、数字或连字符"));
    }
    let who = b.applicant.applicant().ok_or_else(|| {
        unprocessable("applicant: 应为 64 位十六进制的身份摘要，或 4 到 10 字节的十六进制卡号")
    })?;
    let kiosk = id.clone();
    let answer = super::kiosk::with_desk(&state, move |d| {
        d.ticket_for_machine(&kiosk, &who, &b.service, &b.request)
    })
    .await?;
    if let DeskAnswer::Ticket(t) = &answer {
        state.fleet.handed(&id, t.ticket.id.0);
    }
    Ok(Json(TicketAnswer::of(&answer)))
}

/// A print attempt at a kiosk machine, for a ticket it was handed.
#[utoipa::path(post, path = "/api/kiosk/prints", tag = "kiosk machines", security(("bearer" = [])),
    request_body = PrintReport,
    responses(
        (status = 204, description = "Recorded"),
        KioskErrors,
        (status = 403, description = "A ticket this kiosk was not handed (`not_your_ticket`)", body = ErrorBody),
        (status = 422, description = "Bad body or unknown problem", body = ErrorBody),
    ))]
async fn prints(
    State(state): State<AppState>,
    KioskMachine(id): KioskMachine,
    body: Result<Json<PrintReport>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(b) = body.map_err(bad_json)?;
    touch(&state, &id);
    if let Some(p) = &b.problem {
        if PrintProblem::parse(p).is_none() {
            return Err(unprocessable(format!("problem: 未知的打印问题 \"{p}\"")));
        }
    }
    if !state.fleet.was_handed(&id, b.ticket) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_your_ticket",
            "自助机只能报告本机取得或收到的号码的打印结果",
        ));
    }
    super::kiosk::with_desk(&state, move |d| {
        use crate::kiosk::TicketDesk;
        d.record_print(TicketId(b.ticket), b.problem.as_deref())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How long to wait for a job.
#[derive(Debug, Deserialize, IntoParams)]
struct Wait {
    /// Milliseconds to wait when there is no job (at most 25,000).
    wait_ms: Option<u64>,
}

/// The print jobs staff sent this kiosk machine: at once if there are
/// some, else when one comes (or after `wait_ms`, with none).
#[utoipa::path(get, path = "/api/kiosk/jobs", tag = "kiosk machines", security(("bearer" = [])),
    params(Wait),
    responses(
        (status = 200, description = "Jobs, oldest first (taken: each is handed out once)", body = Vec<Job>),
        KioskErrors,
    ))]
async fn jobs(
    State(state): State<AppState>,
    KioskMachine(id): KioskMachine,
    Query(wait): Query<Wait>,
) -> Result<Json<Vec<Job>>, ApiError> {
    touch(&state, &id);
    let limit = Duration::from_millis(wait.wait_ms.unwrap_or(0)).min(MAX_POLL);
    let deadline = tokio::time::Instant::now() + limit;
    let mut stopping = state.stopping.clone();
    loop {
        let (jobs, notify) = state.fleet.take_jobs(&id);
        if !jobs.is_empty() {
            return Ok(Json(jobs));
        }
        let Some(notify) = notify else {
            return Ok(Json(jobs));
        };
        tokio::select! {
            _ = notify.notified() => {}
            _ = tokio::time::sleep_until(deadline) => return Ok(Json(Vec::new())),
            _ = stopping.changed() => return Ok(Json(Vec::new())),
        }
    }
}

/// How a print job went.
#[utoipa::path(post, path = "/api/kiosk/jobs/{job}", tag = "kiosk machines", security(("bearer" = [])),
    params(("job" = u64, Path, description = "The job's id")),
    request_body = JobResult,
    responses(
        (status = 204, description = "Passed on to the staff member who asked"),
        KioskErrors,
        (status = 404, description = "Nobody waits for this job (`unknown_job`)", body = ErrorBody),
        (status = 422, description = "Bad body", body = ErrorBody),
    ))]
async fn job_done(
    State(state): State<AppState>,
    KioskMachine(id): KioskMachine,
    Path(job): Path<u64>,
    body: Result<Json<JobResult>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(b) = body.map_err(bad_json)?;
    touch(&state, &id);
    if state.fleet.job_done(&id, job, b) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_job",
            "没有人在等这个打印任务（可能已超时）",
        ))
    }
}

/// The hall's kiosk machines: each one's last contact and devices; one
/// not heard from for 20 seconds is down.
#[utoipa::path(get, path = "/api/kiosks", tag = "kiosk machines", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every configured kiosk machine", body = Vec<MachineView>),
        StaffErrors,
    ))]
async fn machines(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<Vec<MachineView>>, ApiError> {
    Ok(Json(state.fleet.views(Instant::now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_keys_are_short_plain_tokens() {
        assert!(request_key_ok("0123456789abcdef"));
        assert!(request_key_ok("a1b2c3d4-e5f6"));
        assert!(!request_key_ok("short"));
        assert!(!request_key_ok(&"a".repeat(65)));
        assert!(
            !request_key_ok("k1:0123456789"),
            "the server adds the kiosk"
        );
    }
}
