//! The resident rates, end to end against the real binary: at the window's
//! evaluator (`/api/rate/{window}`, its own token) and on the phone (the
//! ticket's token), five levels, once per ticket whichever comes first;
//! staff keep their three levels; the statistics count the residents' own
//! ratings apart (`—`/empty, never 0 %, without any); an unhappy rating is
//! an alert on the manager's list and in /metrics until handled.

mod common;

use std::time::Duration;

use common::{get_text, http, window_token, Daemon, TestHall, MANAGER};
use greenwave_drivers::printer::sim::{PrinterSim, SimState};
use serde_json::{json, Value};

const EVALUATOR1: &str = "evaluator-window-1-token-01";
const EVALUATOR2: &str = "evaluator-window-2-token-02";

struct Hall {
    _hall: TestHall,
    printer: PrinterSim,
    daemon: Daemon,
}

impl Hall {
    fn start() -> Hall {
        let printer = PrinterSim::start(SimState::Ready).unwrap();
        let hall = TestHall::builder()
            .evaluator(1, EVALUATOR1)
            .evaluator(2, EVALUATOR2)
            .extra(&format!(
                "[devices.printer]\nuri = \"{}\"\n[kiosk]\npublic_url = \"http://hall.example\"\n",
                printer.uri()
            ))
            .build();
        let daemon = hall.start();
        Hall {
            _hall: hall,
            printer,
            daemon,
        }
    }

    /// A ticket from the kiosk's keypad (no ID card, service 1): its
    /// progress token, from the printed QR code.
    fn ticket(&mut self) -> String {
        let before = self.printer.control().jobs().len();
        self.daemon.key("1");
        let jobs = self
            .printer
            .control()
            .wait_for_jobs(before + 1, Duration::from_secs(20));
        let raw = String::from_utf8_lossy(&jobs[before]).into_owned();
        let at = raw.find("/t/").expect("a progress URL on the ticket") + 3;
        raw[at..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase())
            .collect()
    }

    fn window(&self, w: u32, op: &str) -> Value {
        let (st, v) = self.daemon.post(
            &format!("/api/windows/{w}/{op}"),
            &window_token(w),
            json!({}),
        );
        assert_eq!(st, 200, "{op} at {w}: {v}");
        v
    }

    fn rate_at(&self, w: u32, token: &str, number: &str, rating: &str) -> (u16, Value) {
        self.daemon.post(
            &format!("/api/rate/{w}"),
            token,
            json!({ "number": number, "rating": rating }),
        )
    }

    fn rate_on_phone(&self, token: &str, rating: &str, comment: Option<&str>) -> (u16, Value) {
        http(
            "POST",
            &format!("{}/api/status/{token}/rating", self.daemon.base),
            None,
            Some(json!({ "rating": rating, "comment": comment })),
        )
    }

    fn total(&self) -> Value {
        let (st, rows) = self.daemon.get("/api/stats", MANAGER);
        assert_eq!(st, 200, "{rows}");
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == "合计")
            .cloned()
            .unwrap()
    }

    fn metric(&self, name: &str) -> String {
        let (_, _, text) = get_text(&format!("{}/metrics", self.daemon.base), None);
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} not in /metrics:\n{text}"))
            .to_string()
    }
}

#[test]
fn residents_rate_at_the_window_and_on_the_phone_once_each_ticket() {
    let mut hall = Hall::start();
    let t1 = hall.ticket();
    let t2 = hall.ticket();

    // Nothing at window 1 yet: the evaluator is idle.
    let (st, v) = hall.daemon.get("/api/rate/1", EVALUATOR1);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["ticket"], Value::Null, "{v}");
    assert_eq!(
        v["levels"],
        json!(["非常满意", "满意", "基本满意", "不满意", "非常不满意"])
    );

    // A001 is being served at window 1: the evaluator shows it.
    hall.window(1, "call");
    hall.window(1, "start");
    let (_, v) = hall.daemon.get("/api/rate/1", EVALUATOR1);
    assert_eq!(v["ticket"]["number"], "A001", "{v}");
    assert_eq!(v["ticket"]["service_name"], "民政救助");
    assert_eq!(v["ticket"]["state"], "serving");
    // The resident presses 非常满意 once the service is done.
    hall.window(1, "finish");
    let (_, v) = hall.daemon.get("/api/rate/1", EVALUATOR1);
    assert_eq!(
        (&v["ticket"]["state"], &v["ticket"]["rated"]),
        (&json!("finished"), &json!(false))
    );
    let (st, r) = hall.rate_at(1, EVALUATOR1, "A001", "非常满意");
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["source"], "resident_window");
    assert_eq!(r["by"], "evaluator:1");
    // One rating per ticket, whichever comes first.
    let (st, r) = hall.rate_at(1, EVALUATOR1, "A001", "满意");
    assert_eq!(
        (st, r["code"].as_str()),
        (409, Some("already_rated")),
        "{r}"
    );
    let (st, r) = hall.rate_on_phone(&t1, "不满意", None);
    assert_eq!(
        (st, r["code"].as_str()),
        (409, Some("already_rated")),
        "{r}"
    );
    let (_, v) = hall.daemon.get("/api/rate/1", EVALUATOR1);
    assert_eq!(v["ticket"]["rated"], true, "{v}");

    // The evaluator of window 2 rates nothing at window 1, and an
    // evaluator's token opens nothing else.
    let (st, r) = hall.rate_at(1, EVALUATOR2, "A001", "满意");
    assert_eq!(st, 403, "{r}");
    for path in ["/api/queue", "/api/tickets", "/api/alerts"] {
        let (st, r) = hall.daemon.get(path, EVALUATOR1);
        assert_eq!(st, 403, "{path}: {r}");
    }
    let (st, r) = hall
        .daemon
        .post("/api/windows/1/call", EVALUATOR1, json!({}));
    assert_eq!(st, 403, "{r}");
    // A number no longer at the window.
    let (st, r) = hall.rate_at(1, EVALUATOR1, "A002", "满意");
    assert_eq!(
        (st, r["code"].as_str()),
        (409, Some("nothing_to_rate")),
        "{r}"
    );

    // On the phone: not before the ticket is finished; then once, with a
    // comment.
    let (st, r) = hall.rate_on_phone(&t2, "满意", None);
    assert_eq!((st, r["code"].as_str()), (409, Some("not_finished")), "{r}");
    hall.window(2, "call");
    hall.window(2, "start");
    hall.window(2, "finish");
    let (st, r) = hall.rate_on_phone(&t2, "很好", None);
    assert_eq!((st, r["code"].as_str()), (422, Some("bad_rating")), "{r}");
    let (st, r) = hall.rate_on_phone(&t2, "非常不满意", Some("等了很久，窗口态度差"));
    assert_eq!(st, 201, "{r}");
    assert_eq!(
        (&r["source"], &r["by"]),
        (&json!("resident_phone"), &json!("resident"))
    );
    let (st, r) = hall.rate_on_phone("nosuchtokennosuchtokennosuch", "满意", None);
    assert_eq!(
        (st, r["code"].as_str()),
        (404, Some("unknown_ticket")),
        "{r}"
    );

    // Staff keep their three levels.
    let t3 = hall.ticket();
    assert!(!t3.is_empty());
    hall.window(1, "call");
    hall.window(1, "start");
    hall.window(1, "finish");
    let (st, r) = hall.daemon.post(
        "/api/tickets/A003/rating",
        &window_token(1),
        json!({ "rating": "非常满意" }),
    );
    assert_eq!((st, r["code"].as_str()), (422, Some("bad_rating")), "{r}");
    let (st, r) = hall.daemon.post(
        "/api/tickets/A003/rating",
        &window_token(1),
        json!({ "rating": "满意" }),
    );
    assert_eq!((st, &r["source"]), (201, &json!("staff")), "{r}");

    // The figures: the residents' two ratings apart from staff's one.
    let total = hall.total();
    assert_eq!(total["resident"]["ratings"], 2, "{total}");
    assert_eq!(
        total["resident"]["levels"],
        json!([1, 0, 0, 0, 1]),
        "{total}"
    );
    assert_eq!(total["resident"]["satisfaction_rate"], 0.5, "{total}");
    assert_eq!(
        (&total["ratings"], &total["satisfied"]),
        (&json!(1), &json!(1))
    );
    let (st, _, csv) = get_text(
        &format!("{}/api/stats?format=csv", hall.daemon.base),
        Some(MANAGER),
    );
    assert_eq!(st, 200);
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.ends_with(
            ",by_manual,resident_ratings,resident_very_satisfied,resident_satisfied,\
             resident_fairly_satisfied,resident_dissatisfied,resident_very_dissatisfied,\
             resident_satisfaction_rate"
        ),
        "{header}"
    );
    let total_line = csv.lines().find(|l| l.starts_with("合计,")).unwrap();
    assert!(total_line.ends_with(",2,1,0,0,0,1,0.5000"), "{total_line}");
}

#[test]
fn an_unhappy_rating_is_an_alert_until_the_manager_handles_it() {
    let mut hall = Hall::start();
    // No resident rating yet: the rate is none, never 0 %.
    let total = hall.total();
    assert_eq!(
        total["resident"]["satisfaction_rate"],
        Value::Null,
        "{total}"
    );
    let (_, _, csv) = get_text(
        &format!("{}/api/stats?format=csv", hall.daemon.base),
        Some(MANAGER),
    );
    let total_line = csv.lines().find(|l| l.starts_with("合计,")).unwrap();
    assert!(total_line.ends_with(",0,0,0,0,0,0,"), "{total_line}");
    assert_eq!(
        hall.metric("greenwave_unhappy_ratings_unhandled"),
        "greenwave_unhappy_ratings_unhandled 0"
    );

    let _ = hall.ticket();
    hall.window(2, "call");
    hall.window(2, "start");
    hall.window(2, "finish");
    let (st, r) = hall.rate_at(2, EVALUATOR2, "A001", "不满意");
    assert_eq!(st, 201, "{r}");

    // At once on the manager's list and in /metrics.
    let (st, alerts) = hall.daemon.get("/api/alerts", MANAGER);
    assert_eq!(st, 200, "{alerts}");
    let a = &alerts[0];
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    assert_eq!(
        (&a["number"], &a["window"], &a["rating"], &a["source"]),
        (
            &json!("A001"),
            &json!(2),
            &json!("不满意"),
            &json!("resident_window")
        ),
        "{a}"
    );
    assert_eq!(a["handled"], Value::Null);
    assert_eq!(
        hall.metric("greenwave_unhappy_ratings_unhandled"),
        "greenwave_unhappy_ratings_unhandled 1"
    );
    // Only the manager sees and handles them.
    let (st, _) = hall.daemon.get("/api/alerts", &window_token(2));
    assert_eq!(st, 403);
    let id = a["ticket_id"].as_u64().unwrap();
    let path = format!("/api/alerts/{id}/handled");
    let (st, r) = hall.daemon.post(&path, MANAGER, json!({ "note": "  " }));
    assert_eq!(st, 422, "{r}");
    let (st, r) = hall.daemon.post(
        &path,
        MANAGER,
        json!({ "note": "已电话回访，约定明日优先办理" }),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["handled"]["note"], "已电话回访，约定明日优先办理");
    assert_eq!(r["handled"]["by"], "manager");
    let (st, r) = hall.daemon.post(&path, MANAGER, json!({ "note": "再次" }));
    assert_eq!(
        (st, r["code"].as_str()),
        (409, Some("already_handled")),
        "{r}"
    );
    let (st, r) = hall
        .daemon
        .post("/api/alerts/999/handled", MANAGER, json!({ "note": "x" }));
    assert_eq!(
        (st, r["code"].as_str()),
        (404, Some("unknown_alert")),
        "{r}"
    );
    assert_eq!(
        hall.metric("greenwave_unhappy_ratings_unhandled"),
        "greenwave_unhappy_ratings_unhandled 0"
    );
    // Handled alerts stay listed for the day, marked.
    let (_, alerts) = hall.daemon.get("/api/alerts", MANAGER);
    assert_eq!(alerts[0]["handled"]["note"], "已电话回访，约定明日优先办理");
}
