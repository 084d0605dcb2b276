//! `GET /api/stats`: the figures of `greenwave stats` for the manager, from
//! the same pure function over the same records, so the two agree to the
//! digit. The records are read on a connection of their own, off the
//! hall's mutex: a year's figures never hold up a window's call.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Manager;
use super::error::ManagerErrors;
use super::{ApiError, AppState, ErrorBody};
use crate::hall::HallError;
use crate::stats::{figures, to_csv, GroupBy, Row};
use crate::store::Store;

/// The query of `GET /api/stats`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct StatsQuery {
    /// First service day (YYYY-MM-DD); default: the first recorded.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<NaiveDate>,
    /// Last service day (YYYY-MM-DD); default: the last recorded.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<NaiveDate>,
    /// Grouping: day (default), service, window, lane or helper.
    by: Option<GroupBy>,
    /// `json` (default), `csv` (the columns of `greenwave stats --format
    /// csv`), `excel_csv` (the same for Excel: UTF-8 with a byte-order mark,
    /// Chinese headings) or `xlsx` (a workbook, one sheet per grouping).
    format: Option<StatsFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum StatsFormat {
    Json,
    Csv,
    ExcelCsv,
    Xlsx,
}

/// Figures over the journal, the cases and the ratings: one row per group
/// and a last row `合计`. Manager only.
#[utoipa::path(get, path = "/api/stats", tag = "queue", security(("bearer" = [])),
    params(StatsQuery),
    responses(
        (status = 200, description = "The rows, as `greenwave stats --format json` prints them", body = Vec<Row>),
        ManagerErrors,
        (status = 200, description = "With `format=csv` or `excel_csv`: the same rows as CSV", content_type = "text/csv", body = String),
        (status = 200, description = "With `format=xlsx`: a workbook, one sheet per grouping", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 400, description = "Bad query (date, grouping, format)", body = ErrorBody),
        (status = 403, description = "Not the manager's token", body = ErrorBody),
    ))]
async fn stats(
    State(state): State<AppState>,
    _manager: Manager,
    query: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("查询参数无效: {}", e.body_text()),
        )
    })?;
    let by = q.by.unwrap_or(GroupBy::Day);
    let format = q.format.unwrap_or(StatsFormat::Json);
    let hall = state.cfg.hall_name.clone();
    let (from, to) = (q.from, q.to);
    let out = read_days(&state, from, to, move |src| {
        let rows = figures(src, from, to, by);
        Ok(match format {
            StatsFormat::Json => Json(rows).into_response(),
            StatsFormat::Csv => csv_response(to_csv(&rows), "stats.csv"),
            StatsFormat::ExcelCsv => {
                csv_response(crate::tables::excel_csv(&to_csv(&rows)), "统计.csv")
            }
            StatsFormat::Xlsx => {
                let book = crate::stats::workbook(&hall, src, from, to)
                    .map_err(|e| internal(e.to_string()))?;
                (
                    [
                        (header::CONTENT_TYPE, XLSX),
                        (
                            header::CONTENT_DISPOSITION,
                            "attachment; filename=\"stats.xlsx\"",
                        ),
                    ],
                    book,
                )
                    .into_response()
            }
        })
    })
    .await?;
    Ok(out)
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn csv_response(text: String, name: &str) -> Response {
    let disposition = format!("attachment; filename*=UTF-8''{}", percent(name));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response()
}

/// Percent-encodes a file name for `filename*` (RFC 5987).
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn internal(e: String) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        format!("内部错误: {e}"),
    )
}

/// Runs `f` over the records of the days `from..=to` (either bound
/// optional), on a connection of its own, on the blocking pool: a year's
/// figures never hold up a window's call.
async fn read_days<T: Send + 'static>(
    state: &AppState,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    f: impl FnOnce(&crate::stats::Sources<'_>) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let path = {
        let h = crate::sync::lock(&state.hall);
        h.store().path().to_string()
    };
    let tz = state.cfg.day.timezone;
    tokio::task::spawn_blocking(move || -> Result<T, ApiError> {
        let store = Store::open(std::path::Path::new(&path)).map_err(HallError::from)?;
        let records = store.stats_records(from, to).map_err(HallError::from)?;
        f(&crate::stats::Sources::of(&records).in_tz(tz))
    })
    .await
    .map_err(|e| internal(e.to_string()))?
}

/// The query of `GET /api/stats/charts`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ChartsQuery {
    /// The service day (YYYY-MM-DD); default: today.
    #[param(value_type = Option<String>, format = Date)]
    day: Option<NaiveDate>,
}

/// A day's charts, drawn by the server.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct Charts {
    /// The day.
    day: String,
    /// People waiting (at each hour's end) and served per hour, per lane:
    /// an SVG document.
    hourly: String,
    /// Mean wait (and 90th percentile) per service: an SVG document.
    waits: String,
}

/// A day's charts for the manager's page: people waiting and served per
/// hour per lane, waits per service; SVG drawn by the server. Manager only.
#[utoipa::path(get, path = "/api/stats/charts", tag = "queue", security(("bearer" = [])),
    params(ChartsQuery),
    responses(
        (status = 200, description = "The day's charts", body = Charts),
        ManagerErrors,
        (status = 400, description = "Bad query (date)", body = ErrorBody),
        (status = 403, description = "Not the manager's token", body = ErrorBody),
    ))]
async fn charts(
    State(state): State<AppState>,
    _manager: Manager,
    query: Result<Query<ChartsQuery>, QueryRejection>,
) -> Result<Json<Charts>, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("查询参数无效: {}", e.body_text()),
        )
    })?;
    let day = q
        .day
        .unwrap_or_else(|| crate::sync::lock(&state.hall).queue().day());
    let cfg = state.cfg.clone();
    read_days(&state, Some(day), Some(day), move |src| {
        use crate::stats::charts;
        let name = |code: &str| {
            cfg.service(code)
                .map_or(code.to_string(), |s| s.name.clone())
        };
        Ok(Json(Charts {
            day: day.to_string(),
            hourly: charts::hourly_svg(&charts::hourly(src.tickets, day, cfg.day.timezone)),
            waits: charts::waits_svg(src, day, &name),
        }))
    })
    .await
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stats))
        .routes(routes!(charts))
}
