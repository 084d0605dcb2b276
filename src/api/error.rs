//! Errors: the JSON error body every refusal carries, the mapping of the
//! hall's refusals to HTTP statuses, and the response sets the OpenAPI
//! document shares among handlers (the 401/403/503 every route of a role
//! can answer), so that each handler lists only what is its own.

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr};

use crate::hall::HallError;
use crate::queue::QueueError;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(super) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl ApiError {
    /// The machine-readable code (`unknown_number`, `forbidden`, ...).
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": self.message, "code": self.code })),
        )
            .into_response()
    }
}

impl From<HallError> for ApiError {
    fn from(e: HallError) -> ApiError {
        match e {
            HallError::Queue(q) => {
                let (status, code) = match &q {
                    QueueError::UnknownService(_) => {
                        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_service")
                    }
                    QueueError::UnknownWindow(_) => (StatusCode::NOT_FOUND, "unknown_window"),
                    QueueError::UnknownNumber(_) => (StatusCode::NOT_FOUND, "unknown_number"),
                    QueueError::NothingWaiting(_) => (StatusCode::NOT_FOUND, "nothing_waiting"),
                    QueueError::WindowBusy { .. } => (StatusCode::CONFLICT, "window_busy"),
                    QueueError::WindowPaused(_) => (StatusCode::CONFLICT, "window_paused"),
                    QueueError::WindowNotPaused(_) => (StatusCode::CONFLICT, "window_not_paused"),
                    QueueError::NoCurrentTicket(_) => (StatusCode::CONFLICT, "no_current_ticket"),
                    QueueError::WrongState { .. } => (StatusCode::CONFLICT, "wrong_state"),
                    QueueError::NotForThisWindow { .. } => {
                        (StatusCode::CONFLICT, "not_for_this_window")
                    }
                    QueueError::GraceExpired(_) => (StatusCode::CONFLICT, "grace_expired"),
                    QueueError::BadTransfer => (StatusCode::UNPROCESSABLE_ENTITY, "bad_transfer"),
                    QueueError::DayNotAfter { .. } => (StatusCode::CONFLICT, "day_not_after"),
                };
                ApiError::new(status, code, q.to_string())
            }
            other => {
                tracing::error!(error = %other, "hall operation failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "数据存储暂不可用，操作未记录，请稍后重试",
                )
            }
        }
    }
}

pub(super) fn bad_json(r: JsonRejection) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_request",
        format!("请求内容无效: {}", r.body_text()),
    )
}

/// The responses of `codes`, each an [`super::ErrorBody`] with its
/// description.
fn errors(codes: &[(u16, &str)]) -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
    codes
        .iter()
        .map(|(code, description)| {
            let body = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build();
            let response = ResponseBuilder::new()
                .description(*description)
                .content("application/json", body)
                .build();
            (code.to_string(), RefOr::T(response))
        })
        .collect()
}

macro_rules! response_set {
    ($(#[$doc:meta])* $name:ident: $(($code:literal, $text:literal)),+ $(,)?) => {
        $(#[$doc])*
        pub(super) struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
                errors(&[$(($code, $text)),+])
            }
        }
    };
}

response_set! {
    /// What every route of [`super::auth::Staff`] may answer besides its own.
    StaffErrors:
    (401, "Missing or wrong token"),
    (403, "A helper's, a kiosk machine's, an evaluator's or a display's token"),
    (503, "Storage unavailable; nothing recorded"),
}

response_set! {
    /// What every route of [`super::auth::WindowStaff`] may answer besides
    /// its own.
    WindowErrors:
    (400, "Bad window number"),
    (401, "Missing or wrong token"),
    (403, "Another window's token"),
    (404, "Unknown window"),
    (503, "Storage unavailable; nothing recorded"),
}

response_set! {
    /// What every route of [`super::auth::Manager`] may answer besides its own.
    ManagerErrors:
    (401, "Missing or wrong token"),
    (403, "Not the manager's token"),
    (503, "Storage unavailable"),
}

response_set! {
    /// What every route of [`super::auth::Helper`] may answer besides its own.
    HelperErrors:
    (401, "Missing or wrong token"),
    (403, "A window's or a display's token, or another helper's case"),
    (503, "Storage unavailable; nothing recorded"),
}

response_set! {
    /// What every route of [`super::auth::Caller`] may answer besides its own.
    CallerErrors:
    (401, "Missing or wrong token"),
    (403, "A display's token (event stream only)"),
    (503, "Storage unavailable"),
}

response_set! {
    /// What the event stream ([`super::auth::Viewer`]) may answer besides
    /// the stream.
    ViewerErrors:
    (400, "Bad query string"),
    (401, "Missing or wrong token"),
    (403, "A helper's token"),
    (503, "Too many open streams (`too_many_streams`), or the hall is unusable"),
}

response_set! {
    /// What every route of [`super::auth::EvaluatorOf`] may answer besides
    /// its own.
    EvaluatorErrors:
    (400, "Bad window number"),
    (401, "Missing or wrong token"),
    (403, "Another window's token, or a token that is not a window's, its evaluator's or the manager's"),
    (503, "Storage unavailable; nothing recorded"),
}

response_set! {
    /// What every route of [`super::auth::KioskMachine`] may answer besides
    /// its own.
    KioskErrors:
    (401, "Missing or wrong token"),
    (403, "Not a kiosk machine's token"),
    (503, "Storage unavailable; nothing issued"),
}
