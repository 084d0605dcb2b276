//! Operations without a token: liveness and the OpenAPI document.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{with_hall, ApiError, AppState, Health};

/// Liveness: the service day and how many are waiting, whether the store
/// can commit (503 while it cannot) and which kiosk devices are down.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses(
        (status = 200, description = "The daemon is up and can commit; `status` is `degraded` \
            while a kiosk device is down (named in `devices_down`)", body = Health),
        (status = 503, description = "The store cannot commit (a full disk, a failing \
            high-water record): `status` is `degraded`, `reason` and `detail` say why", body = Health),
    ))]
pub(super) async fn healthz(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (day, waiting, store) = with_hall(&state, |h| {
        let store = h.store_status();
        Ok((h.queue().day(), h.queue().waiting().len(), store))
    })
    .await?;
    let down: Vec<&str> = state
        .kiosk
        .as_ref()
        .map(|k| k.devices().snapshot())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(d, up)| (!up).then_some(d))
        .collect();
    let reason = store.reason.or_else(|| {
        let names: Vec<&str> = down.iter().map(|d| device_label(d)).collect();
        (!names.is_empty()).then(|| format!("设备故障：{}", names.join("、")))
    });
    let health = Health {
        status: if store.ok && down.is_empty() {
            "ok"
        } else {
            "degraded"
        }
        .to_string(),
        day: day.to_string(),
        waiting,
        reason,
        detail: store.detail,
        devices_down: down.iter().map(|d| d.to_string()).collect(),
    };
    let status = if store.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok((status, Json(health)).into_response())
}

/// A kiosk device's name for hall staff.
fn device_label(device: &str) -> &str {
    match device {
        "id_reader" => "身份证读卡器",
        "pcsc" => "优先卡读卡器",
        "printer" => "打印机",
        other => other,
    }
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
