//! The OpenAPI document served by the real daemon: every route of the API
//! is in it with its responses and the bearer scheme, and every operation
//! it describes is answered by the router (not by the fallback).

mod common;

use std::collections::BTreeSet;

use common::{get_text, http, TestHall, MANAGER};
use serde_json::{json, Value};

/// Every route of the router, as the README's API table lists them.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/api/openapi.json"),
    ("get", "/api/events"),
    ("get", "/api/queue"),
    ("get", "/api/tickets"),
    ("post", "/api/tickets"),
    ("get", "/api/tickets/{number}"),
    ("post", "/api/tickets/{number}/rejoin"),
    ("post", "/api/tickets/{number}/cancel"),
    ("get", "/api/cancellations"),
    ("get", "/api/bookings/slots"),
    ("get", "/api/bookings"),
    ("post", "/api/bookings"),
    ("post", "/api/bookings/find"),
    ("get", "/api/bookings/{code}"),
    ("post", "/api/bookings/{code}/move"),
    ("post", "/api/bookings/{code}/cancel"),
    ("post", "/api/windows/{window}/call"),
    ("post", "/api/windows/{window}/recall"),
    ("post", "/api/windows/{window}/start"),
    ("post", "/api/windows/{window}/finish"),
    ("post", "/api/windows/{window}/no-show"),
    ("post", "/api/windows/{window}/transfer"),
    ("post", "/api/windows/{window}/pause"),
    ("post", "/api/windows/{window}/resume"),
    ("post", "/api/tickets/priority"),
    ("post", "/api/tickets/{number}/upgrade"),
    ("post", "/api/cards"),
    ("post", "/api/tickets/{number}/reprint"),
    ("get", "/api/reprints"),
    ("get", "/api/kiosks"),
    ("get", "/api/kiosk/setup"),
    ("post", "/api/kiosk/heartbeat"),
    ("post", "/api/kiosk/tickets"),
    ("post", "/api/kiosk/prints"),
    ("get", "/api/kiosk/jobs"),
    ("post", "/api/kiosk/jobs/{job}"),
    ("get", "/api/status/{token}"),
    ("post", "/api/status/{token}/helper"),
    ("get", "/t/{token}"),
    ("post", "/t/{token}/helper"),
    ("get", "/api/policies"),
    ("get", "/api/helpers"),
    ("get", "/api/stats"),
    ("get", "/api/stats/charts"),
    ("post", "/api/helpers/me/duty"),
    ("get", "/api/cases"),
    ("get", "/api/cases/follow-ups"),
    ("get", "/api/cases/{number}"),
    ("post", "/api/cases/{number}/take"),
    ("post", "/api/cases/{number}/notes"),
    ("post", "/api/cases/{number}/policies"),
    ("post", "/api/cases/{number}/close"),
    ("post", "/api/cases/{number}/answer"),
    ("post", "/api/tickets/{number}/rating"),
    ("get", "/api/tickets/{number}/timeline"),
    ("get", "/api/me"),
    ("get", "/console"),
    ("get", "/helper"),
    ("get", "/manager"),
    ("get", "/booking"),
    ("get", "/assets/{file}"),
    ("get", "/api/rate/{window}"),
    ("post", "/api/rate/{window}"),
    ("post", "/api/status/{token}/rating"),
    ("get", "/api/alerts"),
    ("post", "/api/alerts/{ticket}/handled"),
    ("get", "/rate/{window}"),
    ("get", "/api/login/windows"),
    ("post", "/api/login/pin"),
    ("post", "/api/logout"),
    ("get", "/api/pins"),
    ("put", "/api/windows/{window}/pin"),
    ("delete", "/api/windows/{window}/pin"),
    ("post", "/api/windows/{window}/pin/unlock"),
];

/// Routes that need no token.
const OPEN: &[&str] = &[
    "/healthz",
    "/metrics",
    "/api/openapi.json",
    "/api/status/{token}",
    "/api/status/{token}/helper",
    "/t/{token}",
    "/t/{token}/helper",
    "/console",
    "/helper",
    "/manager",
    "/booking",
    "/assets/{file}",
    "/api/status/{token}/rating",
    "/rate/{window}",
    "/api/login/windows",
    "/api/login/pin",
];

fn statuses(op: &Value) -> BTreeSet<String> {
    op["responses"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn openapi_document_lists_every_route_with_its_errors_and_bearer_security() {
    // Every route is registered through utoipa_axum's routes!, which takes
    // path and method from the handler's #[utoipa::path]: a plain axum
    // `.route(` would bypass the document.
    for (file, src) in [
        ("mod.rs", include_str!("../src/api/mod.rs")),
        ("ops.rs", include_str!("../src/api/ops.rs")),
        ("tickets.rs", include_str!("../src/api/tickets.rs")),
        ("windows.rs", include_str!("../src/api/windows.rs")),
        ("stats.rs", include_str!("../src/api/stats.rs")),
        ("events.rs", include_str!("../src/api/events.rs")),
        ("metrics.rs", include_str!("../src/api/metrics.rs")),
        ("kiosk.rs", include_str!("../src/api/kiosk.rs")),
        ("progress.rs", include_str!("../src/api/progress.rs")),
        ("cases.rs", include_str!("../src/api/cases.rs")),
        ("pages.rs", include_str!("../src/api/pages.rs")),
        ("login.rs", include_str!("../src/api/login.rs")),
    ] {
        assert!(
            !src.contains(".route("),
            "src/api/{file} registers a route outside routes!()"
        );
    }

    let hall = TestHall::new("");
    let d = hall.start();
    let (st, ct, body) = get_text(&format!("{}/api/openapi.json", d.base), None);
    assert_eq!(st, 200, "no token needed: {body}");
    assert!(ct.starts_with("application/json"), "{ct}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );

    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http", "{bearer}");
    assert_eq!(bearer["scheme"], "bearer", "{bearer}");
    let query = &doc["components"]["securitySchemes"]["token_query"];
    assert_eq!(
        (&query["type"], &query["in"]),
        (&json!("apiKey"), &json!("query"))
    );
    let err = &doc["components"]["schemas"]["ErrorBody"];
    let props: BTreeSet<&str> = err["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(props, BTreeSet::from(["code", "error"]), "{err}");

    // The document holds exactly the router's routes.
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.clone(), path.clone()));
            }
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, expected);

    for (method, path) in ROUTES {
        let op = &doc["paths"][path][method];
        let codes = statuses(op);
        // A success, or the page form's redirect back to its page.
        assert!(
            codes.iter().any(|c| c.starts_with('2'))
                || (path.starts_with("/t/") && codes.contains("303")),
            "{method} {path}: no success response: {codes:?}"
        );
        if OPEN.contains(path) {
            assert!(
                op.get("security").is_none(),
                "{method} {path} needs no token"
            );
            continue;
        }
        let schemes: Vec<&str> = op["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path}: no security"))
            .iter()
            .flat_map(|s| s.as_object().unwrap().keys().map(String::as_str))
            .collect();
        assert!(schemes.contains(&"bearer"), "{method} {path}: {schemes:?}");
        assert!(codes.contains("401"), "{method} {path}: {codes:?}");
        let e401 = &op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(e401, "#/components/schemas/ErrorBody", "{method} {path}");
        // A window's queue actions (its login PIN is the manager's: no 409).
        if path.starts_with("/api/windows/") && !path.contains("/pin") {
            for c in ["400", "403", "404", "409"] {
                assert!(codes.contains(c), "{method} {path}: no {c} in {codes:?}");
            }
        }
        if path.contains("{number}") {
            assert!(codes.contains("404"), "{method} {path}: {codes:?}");
        }
    }
    for (method, path) in [
        ("post", "/api/tickets"),
        ("post", "/api/windows/{window}/call"),
        ("post", "/api/windows/{window}/transfer"),
    ] {
        assert!(
            statuses(&doc["paths"][path][method]).contains("422"),
            "{method} {path}"
        );
    }
    // The shared error sets never hide a route's own description of a code.
    let call = &doc["paths"]["/api/windows/{window}/call"]["post"]["responses"];
    assert!(
        call["404"]["description"]
            .as_str()
            .unwrap()
            .contains("nothing waiting"),
        "{call}"
    );
    assert_eq!(
        call["403"]["description"], "Another window's token",
        "{call}"
    );
    // /healthz answers 503 with the health body (and a reason) while the
    // store cannot commit.
    let health = &doc["paths"]["/healthz"]["get"]["responses"]["503"];
    assert_eq!(
        health["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Health",
        "{health}"
    );
    // Only the event stream takes the token in the query string.
    let events_security = doc["paths"]["/api/events"]["get"]["security"].to_string();
    assert!(events_security.contains("token_query"), "{events_security}");

    // Every documented operation is answered by its handler, not by the
    // fallback or a 405. (The event stream is exercised in api_events.rs.)
    let (_, t) = http(
        "POST",
        &format!("{}/api/tickets", d.base),
        Some(MANAGER),
        Some(json!({ "service": "civil" })),
    );
    assert_eq!(t["number"], "A001", "{t}");
    for (method, path) in ROUTES {
        if *path == "/api/events" {
            continue;
        }
        let url = format!(
            "{}{}",
            d.base,
            path.replace("{number}", "A001")
                .replace("{window}", "1")
                .replace("{job}", "1")
        );
        let (st, ct, body) = if *method == "get" {
            get_text(&url, Some(MANAGER))
        } else {
            let body = (*method != "delete").then(|| json!({}));
            let (st, v) = http(&method.to_uppercase(), &url, Some(MANAGER), body);
            (st, String::new(), v.to_string())
        };
        assert!(st != 0 && st != 405, "{method} {path}: {st} {body}");
        assert!(
            !body.contains("\"not_found\""),
            "{method} {path} fell through to the fallback: {st} {ct} {body}"
        );
    }
    // And an undocumented one is.
    let (st, v) = http("GET", &format!("{}/api/nope", d.base), Some(MANAGER), None);
    assert_eq!((st, &v["code"]), (404, &json!("not_found")));
}
