//! Printing a ticket for staff (`POST /api/tickets/{number}/reprint`): at
//! this machine's own kiosk printer, at a kiosk machine of the hall
//! (`{"kiosk": "k1"}`), or at a window's printer (`{"window": 3}`). A
//! ticket staff issued at a window (a manual identification, a resident
//! without an ID card) is printed this way, with its QR code. The answer
//! says whether it printed: the request waits for the printer.

use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::{Principal, Staff};
use super::error::StaffErrors;
use super::fleet::SendError;
use super::kiosk::{no_kiosk, view, with_desk, ReprintResult};
use super::{ApiError, AppState, ErrorBody};
use crate::kiosk::wire::WireIssued;
use crate::kiosk::{PrintProblem, TicketDesk};

/// How long a staff member waits for a kiosk machine's printer.
const KIOSK_PRINT_WAIT: Duration = Duration::from_secs(20);

/// Where to print (`POST /api/tickets/{number}/reprint`); neither: this
/// machine's kiosk printer.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrintAt {
    /// A kiosk machine of the hall, by id (`k1`).
    kiosk: Option<String>,
    /// A window's printer, by window number (a window's token: its own).
    window: Option<u32>,
}

/// Prints a ticket (again): at this machine's kiosk printer, at a kiosk
/// machine of the hall, or at a window's printer.
#[utoipa::path(post, path = "/api/tickets/{number}/reprint", tag = "kiosk", security(("bearer" = [])),
    params(("number" = String, Path, description = "Ticket number as printed", example = "A012")),
    request_body(content = Option<PrintAt>, description = "Where to print; none: this machine's kiosk printer"),
    responses(
        (status = 200, description = "Printed, or why not", body = ReprintResult),
        StaffErrors,
        (status = 403, description = "A window's token on a ticket outside its scope (`not_your_ticket`) or at another window's printer (`not_your_window`)", body = ErrorBody),
        (status = 404, description = "No such number today (`unknown_number`) or kiosk machine (`unknown_kiosk`)", body = ErrorBody),
        (status = 409, description = "No kiosk on this machine (`no_kiosk`), the kiosk machine is down (`kiosk_down`), no printer at that window (`no_window_printer`)", body = ErrorBody),
        (status = 422, description = "Both a kiosk and a window", body = ErrorBody),
        (status = 504, description = "The kiosk machine did not answer in time (`kiosk_timeout`)", body = ErrorBody),
    ))]
pub(super) async fn reprint(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(number): Path<String>,
    body: Option<Json<PrintAt>>,
) -> Result<Json<ReprintResult>, ApiError> {
    let at = body.map(|Json(b)| b).unwrap_or_default();
    let (n, by) = (number.clone(), who.actor());
    with_desk(&state, move |d| d.check_scope(&n, &by)).await?;
    let (ticket, problem) = match (at.kiosk, at.window) {
        (None, None) => {
            let kiosk = state.kiosk.clone().ok_or_else(no_kiosk)?;
            let done = kiosk.reprint(number).await?;
            (done.ticket, done.problem)
        }
        (Some(k), None) => at_machine(&state, &k, number).await?,
        (None, Some(w)) => at_window(&state, &who, w, number).await?,
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_request",
                "kiosk 与 window 只能选一个",
            ))
        }
    };
    let ticket = view(&state, ticket).await?;
    Ok(Json(ReprintResult {
        ticket,
        printed: problem.is_none(),
        error: problem.map(|p| crate::kiosk::words::print_problem(p).to_string()),
    }))
}

/// At kiosk machine `kiosk`: the job goes with its next poll; waits for
/// its printer.
async fn at_machine(
    state: &AppState,
    kiosk: &str,
    number: String,
) -> Result<(crate::queue::Ticket, Option<PrintProblem>), ApiError> {
    let issued = with_desk(state, move |d| d.ticket(&number)).await?;
    let wire = WireIssued::of(&issued);
    let rx = state
        .fleet
        .send(kiosk, wire, Instant::now())
        .map_err(|e| match e {
            SendError::Unknown => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_kiosk",
                format!("没有编号为 {kiosk} 的自助机"),
            ),
            SendError::Down => ApiError::new(
                StatusCode::CONFLICT,
                "kiosk_down",
                format!("自助机 {kiosk} 未连接，请选择其他自助机或窗口打印机"),
            ),
        })?;
    match tokio::time::timeout(KIOSK_PRINT_WAIT, rx).await {
        Ok(Ok(result)) => {
            let problem = result
                .problem
                .map(|p| PrintProblem::parse(&p).unwrap_or(PrintProblem::Fault));
            Ok((issued.ticket, problem))
        }
        _ => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "kiosk_timeout",
            format!("自助机 {kiosk} 未在 20 秒内回复打印结果，请查看该机或重新打印"),
        )),
    }
}

/// At window `window`'s printer; a window's token prints only at its own.
async fn at_window(
    state: &AppState,
    who: &Principal,
    window: u32,
    number: String,
) -> Result<(crate::queue::Ticket, Option<PrintProblem>), ApiError> {
    if let Principal::Window(mine) = who {
        if *mine != window {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_your_window",
                format!("{mine} 号窗口的令牌只能使用本窗口的打印机"),
            ));
        }
    }
    let station = state.stations.get(&window).cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "no_window_printer",
            format!("{window} 号窗口未配置打印机"),
        )
    })?;
    let issued = with_desk(state, move |d| d.ticket(&number)).await?;
    let settings = state.kiosk_settings.borrow().clone();
    let layout = crate::kiosk::ticket::layout(&settings, &issued);
    let problem = station.print(layout).await.err();
    let id = issued.ticket.id;
    with_desk(state, move |d| {
        d.record_print(id, problem.map(PrintProblem::as_str))
    })
    .await?;
    Ok((issued.ticket, problem))
}
