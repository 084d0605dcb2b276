//! The browser pages as HTTP sees them (no browser: tests/browser.rs drives
//! them in chromium): who `GET /api/me` says a token belongs to, the pages
//! and assets with their content types and security headers, an unknown
//! asset, and that the pages carry no inline script.

mod common;

use std::time::Duration;

use common::{get_text, http, window_token, TestHall, MANAGER};
use serde_json::json;

const HELPER: &str = "test-helper-1-token-0001";

fn hall() -> TestHall {
    TestHall::builder()
        .helpers(&[("h1", "王协办", HELPER)])
        .build()
}

/// (status, header value) of a GET.
fn header(url: &str, name: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let resp = agent.get(url).call().unwrap();
    let v = resp
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (resp.status().as_u16(), v)
}

#[test]
fn me_tells_whose_token_it_is() {
    let hall = hall();
    let d = hall.start();

    let (st, me) = d.get("/api/me", &window_token(2));
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["role"], "window");
    assert_eq!(me["window"], 2);
    assert_eq!(me["hall"], "测试大厅");
    assert_eq!(
        me["services"],
        json!([{"code": "civil", "name": "民政救助"}, {"code": "medical", "name": "医保业务"}])
    );
    assert_eq!(
        me["windows"][1],
        json!({"number": 2, "services": ["civil", "medical"]})
    );
    assert!(!me.to_string().contains("token-0001"), "no token in {me}");

    let (st, me) = d.get("/api/me", MANAGER);
    assert_eq!(
        (st, &me["role"], &me["window"]),
        (200, &json!("manager"), &json!(null))
    );

    let (st, me) = d.get("/api/me", HELPER);
    assert_eq!(st, 200, "{me}");
    assert_eq!(
        (&me["role"], &me["helper"], &me["name"], &me["on_duty"]),
        (
            &json!("helper"),
            &json!("h1"),
            &json!("王协办"),
            &json!(false)
        )
    );
    d.post("/api/helpers/me/duty", HELPER, json!({ "on": true }));
    assert_eq!(d.get("/api/me", HELPER).1["on_duty"], true);

    let (st, e) = d.get("/api/me", "not-a-token-of-this-hall");
    assert_eq!((st, &e["code"]), (401, &json!("unauthorized")));
    let (st, _) = http("GET", &format!("{}/api/me", d.base), None, None);
    assert_eq!(st, 401);
}

#[test]
fn pages_and_assets_are_served_with_their_types_and_headers() {
    let hall = hall();
    let d = hall.start();
    for (path, marker) in [
        ("/console", "/assets/console.js"),
        ("/helper", "/assets/helper.js"),
        ("/manager", "/assets/manager.js"),
    ] {
        let url = format!("{}{path}", d.base);
        let (st, ct, body) = get_text(&url, None);
        assert_eq!(st, 200, "{path}");
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        assert!(
            body.contains(marker) && body.contains("lang=\"zh-CN\""),
            "{path}"
        );
        let (_, csp) = header(&url, "content-security-policy");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert_eq!(header(&url, "referrer-policy").1, "no-referrer", "{path}");
    }
    for (file, ct_prefix) in [
        ("greenwave.css", "text/css"),
        ("common.js", "text/javascript"),
        ("console.js", "text/javascript"),
        ("progress.js", "text/javascript"),
    ] {
        let (st, ct, body) = get_text(&format!("{}/assets/{file}", d.base), None);
        assert_eq!(st, 200, "{file}");
        assert!(ct.starts_with(ct_prefix), "{file}: {ct}");
        assert!(!body.is_empty());
    }
    let (st, _, body) = get_text(&format!("{}/assets/../Cargo.toml", d.base), None);
    assert_eq!(st, 404, "{body}");
    let (st, _, _) = get_text(&format!("{}/assets/nope.js", d.base), None);
    assert_eq!(st, 404);

    // The progress page of an unknown token: plain "not found", the same
    // headers.
    let url = format!("{}/t/nosuchtoken", d.base);
    let (st, ct, body) = get_text(&url, None);
    assert_eq!(st, 404);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(body.contains("没有找到这张票"), "{body}");
    assert!(body.contains("data-status=\"missing\""), "{body}");
    assert_eq!(header(&url, "referrer-policy").1, "no-referrer");
}
