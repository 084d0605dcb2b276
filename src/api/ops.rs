//! Operations without a token: liveness and the OpenAPI document.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{with_hall, ApiError, AppState, ErrorBody, Health};

/// Liveness: the service day and how many are waiting.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses(
        (status = 200, description = "The daemon is up", body = Health),
        (status = 503, description = "The hall is unusable", body = ErrorBody),
    ))]
pub(super) async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let (day, waiting) =
        with_hall(&state, |h| Ok((h.queue().day(), h.queue().waiting().len()))).await?;
    Ok(Json(Health {
        status: "ok".to_string(),
        day: day.to_string(),
        waiting,
    }))
}

/// This document (OpenAPI 3). No token needed.
#[utoipa::path(get, path = "/api/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
pub(super) async fn openapi_json(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json.as_str().to_owned(),
    )
        .into_response()
}
