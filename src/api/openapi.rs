//! The fixed parts of the OpenAPI document: title, tags and the security
//! schemes. The paths and schemas come from the handlers' `#[utoipa::path]`
//! as they are registered in [`super::api_router`].

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "greenwave staff API",
        description = "Queue ticketing for a government service hall with a priority lane \
            (绿波通道). Staff operations need a bearer token: a window's token acts for that \
            window only, the manager token for every window. Errors are JSON \
            `{\"error\": \"...\", \"code\": \"...\"}`. `/healthz`, `/metrics` and this \
            document need no token."
    ),
    modifiers(&SecuritySchemes),
    components(schemas(super::DisplayTicket, super::ErrorBody)),
    tags(
        (name = "queue", description = "The queue as a whole"),
        (name = "tickets", description = "Issuing and looking up tickets"),
        (name = "windows", description = "What a window does: call, recall, start, finish, no-show, transfer, pause, resume"),
        (name = "cases", description = "Accompanied service: helpers' duty, cases, notes, policies explained, closing"),
        (name = "kiosk", description = "Manual identification, upgrades, priority-card binding, reprints, and the resident's ticket status by token"),
        (name = "displays", description = "The event stream for hall displays"),
        (name = "ops", description = "Health, metrics and this document"),
        (name = "login", description = "Windows' login PINs: the manager sets them; a PIN opens a session that acts as the window's token; lock-out after repeated wrong PINs"),
        (name = "bookings", description = "Appointments: slots and their places, booking for a resident by ID number (kept as a keyed hash), a day's bookings, one booking by code, moving and cancelling; for windows (their services), the manager and the booking hotline"),
        (name = "pages", description = "The browser pages (window console, helper, manager), their assets, and who holds a token"),
    )
)]
struct ApiDoc;

/// Adds the security schemes: `bearer` (the `Authorization: Bearer` header,
/// every staff route) and `token_query` (`?token=`, the event stream only,
/// because a browser's `EventSource` cannot set headers).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A window's token (`[[windows]] token`) or the manager token \
                         (`[api] manager_token`) from the configuration.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "token_query",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "The same tokens as `bearer`, in the query string. Only `GET /api/events` \
                 accepts it (browsers' EventSource cannot send headers). A URL may end up \
                 in proxy logs and browser history: prefer the header where possible.",
            ))),
        );
    }
}

/// The document before the routes are added.
pub(super) fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
