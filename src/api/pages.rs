//! The browser pages: the window console (`/console`), the helper's phone
//! view (`/helper`), the manager's overview (`/manager`), the resident's
//! progress page (`/t/{token}`, rendered here, routed in `progress.rs`), their
//! scripts and style sheet (`/assets/{file}`), and `GET /api/me`, which
//! tells a page whose token it holds.
//!
//! The pages are plain HTML, CSS and JavaScript from `src/web/`, embedded
//! with `include_str!`: nothing to build, nothing to install beside the
//! binary. They hold no data: they log in with a token (kept in the
//! browser's local storage) and use the staff API like any other client.
//! Every page is served with a content security policy that allows only
//! this origin's scripts and styles (no inline script), and no referrer, so
//! a progress page's token does not leave the hall in a `Referer` header.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Caller, Principal};
use super::error::CallerErrors;
use super::progress::TicketStatus;
use super::{ApiError, AppState, ErrorBody};

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const CONSOLE: &str = include_str!("../web/console.html");
const HELPER: &str = include_str!("../web/helper.html");
const MANAGER: &str = include_str!("../web/manager.html");
const BOOKING: &str = include_str!("../web/booking.html");
const PROGRESS: &str = include_str!("../web/progress.html");
/// The window's evaluator (`/rate/{window}`, routed in `ratings.rs`).
pub(super) const RATE: &str = include_str!("../web/rate.html");

const JS: &str = "text/javascript; charset=utf-8";

/// What `/assets/{file}` serves; nothing else.
const ASSETS: &[Asset] = &[
    Asset {
        name: "greenwave.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../web/greenwave.css"),
    },
    Asset {
        name: "common.js",
        content_type: JS,
        body: include_str!("../web/common.js"),
    },
    Asset {
        name: "console.js",
        content_type: JS,
        body: include_str!("../web/console.js"),
    },
    Asset {
        name: "helper.js",
        content_type: JS,
        body: include_str!("../web/helper.js"),
    },
    Asset {
        name: "manager.js",
        content_type: JS,
        body: include_str!("../web/manager.js"),
    },
    Asset {
        name: "booking.js",
        content_type: JS,
        body: include_str!("../web/booking.js"),
    },
    Asset {
        name: "progress.js",
        content_type: JS,
        body: include_str!("../web/progress.js"),
    },
    Asset {
        name: "rate.js",
        content_type: JS,
        body: include_str!("../web/rate.js"),
    },
];

/// A static page, with the pages' headers.
pub(super) fn page(body: &str) -> Response {
    html(StatusCode::OK, body.to_string())
}

/// Only this origin's scripts, styles and connections; no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

/// The routes, merged into the API's router.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(console))
        .routes(routes!(helper))
        .routes(routes!(manager))
        .routes(routes!(booking))
        .routes(routes!(asset))
}

/// The window console: log in with the window's token, call, recall,
/// start, finish, no-show, transfer (F1–F6), the live waiting list.
#[utoipa::path(get, path = "/console", tag = "pages",
    responses((status = 200, description = "The window console (HTML); it asks for the window's token", content_type = "text/html", body = String)))]
async fn console() -> Response {
    html(StatusCode::OK, CONSOLE.to_string())
}

/// The helper's view, phone-sized: cases, timeline, notes, policies,
/// rating, closing.
#[utoipa::path(get, path = "/helper", tag = "pages",
    responses((status = 200, description = "The helper's view (HTML); it asks for the helper's token", content_type = "text/html", body = String)))]
async fn helper() -> Response {
    html(StatusCode::OK, HELPER.to_string())
}

/// Appointments (预约登记): book a slot for a resident, find, move and
/// cancel bookings, a day's bookings; for windows, the manager and the
/// booking hotline.
#[utoipa::path(get, path = "/booking", tag = "pages",
    responses((status = 200, description = "The booking page (HTML); it asks for a window's, the manager's or the hotline's token", content_type = "text/html", body = String)))]
async fn booking() -> Response {
    html(StatusCode::OK, BOOKING.to_string())
}

/// The manager's overview: queues and waits, windows, helpers and cases,
/// today's figures.
#[utoipa::path(get, path = "/manager", tag = "pages",
    responses((status = 200, description = "The manager's overview (HTML); it asks for the manager token", content_type = "text/html", body = String)))]
async fn manager() -> Response {
    html(StatusCode::OK, MANAGER.to_string())
}

/// The pages' scripts and style sheet (embedded in the binary).
#[utoipa::path(get, path = "/assets/{file}", tag = "pages",
    params(("file" = String, Path, description = "File name, e.g. `console.js`")),
    responses(
        (status = 200, description = "The file", content_type = "text/javascript", body = String),
        (status = 404, description = "No such file", content_type = "text/plain", body = String),
    ))]
async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            a.body,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "没有找到",
        )
            .into_response(),
    }
}

/// A service, for the pages' menus.
#[derive(Debug, Clone, Serialize, ToSchema)]
struct ServiceRef {
    /// Code (`civil`).
    code: String,
    /// Name (`民政救助`).
    name: String,
}

/// A window and the services it calls.
#[derive(Debug, Clone, Serialize, ToSchema)]
struct WindowRef {
    /// Number.
    number: u32,
    /// Codes of the services it calls.
    services: Vec<String>,
}

/// `GET /api/me`: whose token this is, and the hall's services and windows
/// (what a page needs to draw itself). No secrets, no personal data.
#[derive(Debug, Clone, Serialize, ToSchema)]
struct Me {
    /// `window`, `manager`, `helper`, `evaluator` or `hotline`.
    role: String,
    /// The window's number, for a window's token.
    window: Option<u32>,
    /// The helper's id, for a helper's token.
    helper: Option<String>,
    /// The helper's name, for a helper's token.
    name: Option<String>,
    /// Whether the helper is on duty, for a helper's token.
    on_duty: Option<bool>,
    /// The hall's name.
    hall: String,
    /// Every service, in configuration order.
    services: Vec<ServiceRef>,
    /// Every window and its services.
    windows: Vec<WindowRef>,
}

/// Who holds this token (any valid token: the manager's, a window's or a
/// helper's), with the hall's services and windows.
#[utoipa::path(get, path = "/api/me", tag = "pages", security(("bearer" = [])),
    responses(
        (status = 200, description = "The token's holder", body = Me),
        CallerErrors,
        (status = 403, description = "The display token (event stream only)", body = ErrorBody),
    ))]
async fn me(State(state): State<AppState>, Caller(who): Caller) -> Result<Json<Me>, ApiError> {
    let cfg = &state.cfg;
    let (role, window, helper) = match who {
        Principal::Manager => ("manager", None, None),
        Principal::Window(w) => ("window", Some(w), None),
        Principal::Helper(h) => ("helper", None, Some(h)),
        Principal::Display => return Err(super::auth::display_refused()),
        Principal::Kiosk(_) => ("kiosk", None, None),
        Principal::Evaluator(w) => ("evaluator", Some(w), None),
        Principal::Hotline => ("hotline", None, None),
    };
    let on_duty = match &helper {
        Some(id) => {
            let ids = vec![id.clone()];
            super::with_hall(&state, move |h| Ok(h.store().helper_loads(&ids)?))
                .await?
                .first()
                .map(|l| l.on_duty)
        }
        None => None,
    };
    Ok(Json(Me {
        on_duty,
        role: role.to_string(),
        window,
        name: helper
            .as_deref()
            .and_then(|h| cfg.helper(h))
            .map(|h| h.name.clone()),
        helper,
        hall: cfg.hall_name.clone(),
        services: cfg
            .services
            .iter()
            .map(|s| ServiceRef {
                code: s.code.clone(),
                name: s.name.clone(),
            })
            .collect(),
        windows: cfg
            .windows
            .iter()
            .map(|w| WindowRef {
                number: w.number,
                services: w.services.clone(),
            })
            .collect(),
    }))
}

/// The progress page's refresh without JavaScript (every 15 s); left out
/// of the "not found" page, which has nothing to wait for.
const NOSCRIPT_REFRESH: &str =
    "<noscript><meta http-equiv=\"refresh\" content=\"15\"></noscript>\n";

/// The progress page (`/t/{token}`) of a ticket (its token and status), or
/// the "not found" page (`None`, 404). Filled in on the server so that it
/// reads right without JavaScript; `progress.js` then keeps it up to date.
/// What shows depends on the body's `data-*` (lane, near, helper), by the
/// style sheet.
pub(super) fn progress_page(hall: &str, ticket: Option<(&str, &TicketStatus)>) -> Response {
    let Some((token, s)) = ticket else {
        let body = fill(
            &PROGRESS.replace(NOSCRIPT_REFRESH, ""),
            &[
                ("hall", hall),
                ("status", "missing"),
                ("number", "没有找到这张票"),
                ("message", "请核对号码，或咨询工作人员"),
                ("near", "false"),
                ("helper", "none"),
            ],
        );
        return html(StatusCode::NOT_FOUND, clear_placeholders(&body));
    };
    let issued = format!("{} 取号", s.issued_at);
    let (wait, guide, advice) = (
        keep_numbers(s.wait.as_deref().unwrap_or("")),
        keep_numbers(&s.guide),
        keep_numbers(&s.advice),
    );
    let lane = s.lane.as_str();
    let helper = match &s.helper {
        None => "none",
        Some(h) if h.called => "called",
        Some(_) => "ready",
    };
    let body = fill(
        PROGRESS,
        &[
            ("hall", hall),
            ("token", token),
            ("status", &s.status),
            ("state", &s.state),
            ("lane", lane),
            ("near", if s.near { "true" } else { "false" }),
            ("helper", helper),
            ("number", &s.number),
            ("service", &s.service_name),
            ("issued", &issued),
            ("message", &s.message),
            ("wait", &wait),
            ("guide", &guide),
            ("advice", &advice),
            (
                "helper_text",
                s.helper.as_ref().map_or("", |h| h.message.as_str()),
            ),
            ("updated", "页面会自动刷新"),
        ],
    );
    html(StatusCode::OK, body)
}

/// Keeps a number on the line of the word it counts (`1 号窗口`, `02:32
/// 前`, `20 分钟`): the space between becomes a no-break space, so that a
/// long line breaks elsewhere. Display only (`progress.js` does the same);
/// the JSON keeps plain spaces.
fn keep_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let bind = c == ' '
            && prev.is_some_and(|p: char| p.is_ascii_digit())
            && chars.peek().is_some_and(|n| !n.is_ascii());
        out.push(if bind { '\u{a0}' } else { c });
        prev = Some(c);
    }
    out
}

/// Empties the placeholders a page left unfilled.
fn clear_placeholders(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        match rest[i..].find("}}") {
            Some(j) => rest = &rest[i + j + 2..],
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Replaces each `{{key}}` of `template` by its value, HTML-escaped, in
/// one pass (a value is never read as a placeholder); unknown keys stay.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after.find("}}").and_then(|j| {
            values
                .iter()
                .find(|(k, _)| *k == &after[..j])
                .map(|(_, v)| (j, v))
        }) {
            Some((j, v)) => {
                out.push_str(&escape(v));
                rest = &after[j + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// HTML-escapes text for element content and quoted attributes.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn fill_escapes_values_and_never_reads_them_as_placeholders() {
        let out = fill("<b>{{a}}</b>{{b}}{{c}}", &[("a", "{{b}}<i>"), ("b", "x&y")]);
        assert_eq!(out, "<b>{{b}}&lt;i&gt;</b>x&amp;y{{c}}");
    }

    #[test]
    fn numbers_stay_with_their_words() {
        assert_eq!(
            keep_numbers("请在 10:15 前到 1 号窗口重新排队"),
            "请在 10:15\u{a0}前到 1\u{a0}号窗口重新排队"
        );
        assert_eq!(
            keep_numbers("预计等候 10–20 分钟"),
            "预计等候 10–20\u{a0}分钟"
        );
        assert_eq!(keep_numbers("A 1 b 2"), "A 1 b 2");
    }

    #[test]
    fn the_progress_template_has_the_refresh_that_the_missing_page_drops() {
        assert!(PROGRESS.contains(NOSCRIPT_REFRESH));
        assert_eq!(clear_placeholders("a{{x}}b{{y}}c{{"), "abc{{");
    }

    #[test]
    fn every_asset_is_referenced_by_a_page_and_every_page_asset_exists() {
        let pages = [CONSOLE, HELPER, MANAGER, PROGRESS, RATE, BOOKING].concat();
        for a in ASSETS {
            assert!(
                pages.contains(&format!("/assets/{}", a.name)),
                "{} unused",
                a.name
            );
        }
        for part in pages.split("/assets/").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                .collect();
            assert!(
                ASSETS.iter().any(|a| a.name == name),
                "{name} is not embedded"
            );
        }
    }

    #[test]
    fn pages_have_no_inline_script() {
        // The content security policy refuses inline scripts: every script
        // must come from /assets/.
        for page in [CONSOLE, HELPER, MANAGER, PROGRESS, RATE, BOOKING] {
            for part in page.split("<script").skip(1) {
                assert!(
                    part.trim_start().starts_with("src=\"/assets/"),
                    "inline script: {part}"
                );
            }
            assert!(!page.contains(" onclick="), "inline handler");
        }
    }
}
