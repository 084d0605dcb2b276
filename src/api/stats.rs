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
    /// `json` (default) or `csv` (the columns of `greenwave stats --format csv`).
    format: Option<StatsFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum StatsFormat {
    Json,
    Csv,
}

/// Figures over the journal, the cases and the ratings: one row per group
/// and a last row `合计`. Manager only.
#[utoipa::path(get, path = "/api/stats", tag = "queue", security(("bearer" = [])),
    params(StatsQuery),
    responses(
        (status = 200, description = "The rows, as `greenwave stats --format json` prints them", body = Vec<Row>),
        ManagerErrors,
        (status = 200, description = "With `format=csv`: the same rows as CSV", content_type = "text/csv", body = String),
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
    let path = {
        let h = crate::sync::lock(&state.hall);
        h.store().path().to_string()
    };
    let by = q.by.unwrap_or(GroupBy::Day);
    let rows = tokio::task::spawn_blocking(move || -> Result<Vec<Row>, HallError> {
        let store = Store::open(std::path::Path::new(&path))?;
        let records = store.stats_records(q.from, q.to)?;
        Ok(figures(
            &crate::stats::Sources::of(&records),
            q.from,
            q.to,
            by,
        ))
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("内部错误: {e}"),
        )
    })??;
    Ok(match q.format.unwrap_or(StatsFormat::Json) {
        StatsFormat::Json => Json(rows).into_response(),
        StatsFormat::Csv => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            to_csv(&rows),
        )
            .into_response(),
    })
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stats))
}
