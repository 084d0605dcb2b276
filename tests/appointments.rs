//! Appointments (issue 20). In the hall itself with a manual clock: the
//! slot rules at booking (capacity, one booking per resident and day), and
//! a morning at the kiosk: too early (told when to come back, nothing
//! printed), in the slot's window (a Y ticket, printed with its slot,
//! placed at the slot's time ahead of walk-ins who came later), too late
//! (a walk-in ticket with a kind word), a green-wave resident who keeps
//! their priority, bookings missed; after a restart the places stand and
//! the journal replays. Through the real daemon: the booking routes, who
//! may use them, and that the ID number is kept nowhere.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use common::{TestHall, MANAGER};
use greenwave::booking::{BookingRefusal, Status};
use greenwave::config::Config;
use greenwave::hall::{Actor, BookingAsk, BookingError, Hall, ManualClock};
use greenwave::kiosk::{Identity, Kiosk, Outcome};
use greenwave::queue::{Lane, Timestamp};
use greenwave::schedule::Refusal;
use greenwave_drivers::id_number::IdNumber;
use greenwave_drivers::idcard::sim::fake;
use greenwave_drivers::printer::sim::{PrinterSim, SimState};
use greenwave_drivers::printer::{open_printer, render_text, PaperWidth, PrinterConfig};
use serde_json::json;

/// Monday 2026-12-07, 09:00 in the hall (Asia/Shanghai).
const MONDAY_0900: i64 = 1_796_605_200_000;
const MIN: u64 = 60;

fn at(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
}

/// A hall whose civil service (A) is open 08:30-12:00 with two
/// appointments a half hour; residents of 80 and over get priority.
fn hall_config(extra: &str) -> TestHall {
    let builder = TestHall::builder().extra(&format!(
        "[kiosk]\ndefault_service = \"civil\"\n[priority]\nmin_age = 80\n{extra}"
    ));
    let text = builder
        .toml()
        .replacen(
            "letter = \"A\"\n",
            "letter = \"A\"\nhours = [\"08:30-12:00\"]\nappointments = 2\n",
            1,
        )
        .replacen(
            "[api]\n",
            "[api]\nhotline_token = \"test-hotline-token-0001\"\n",
            1,
        );
    let hall = builder.build();
    std::fs::write(&hall.config, text).unwrap();
    hall
}

fn resident(seq: u32, born: i32) -> IdNumber {
    fake::id_number("110105", NaiveDate::from_ymd_opt(born, 3, 1).unwrap(), seq)
}

fn card(id: &IdNumber) -> Identity {
    Identity::IdCard {
        id: id.clone(),
        birth: id_birth(id),
    }
}

fn id_birth(id: &IdNumber) -> NaiveDate {
    let (y, m, d) = id.birth_date();
    NaiveDate::from_ymd_opt(y.into(), m.into(), d.into()).unwrap()
}

struct Morning {
    cfg: Config,
    clock: Arc<ManualClock>,
    hall: Arc<Mutex<Hall>>,
    kiosk: Kiosk,
    desk: Arc<greenwave::kiosk::HallDesk>,
    printer: PrinterSim,
}

impl Morning {
    fn start(dir: &TestHall) -> Morning {
        let cfg = Config::load(&dir.config).unwrap();
        let clock = Arc::new(ManualClock::new(Timestamp(MONDAY_0900)));
        let hall = Arc::new(Mutex::new(Hall::open(&cfg, clock.clone()).unwrap()));
        let printer = PrinterSim::start(SimState::Ready).unwrap();
        let device = open_printer(&PrinterConfig::new(printer.uri())).unwrap();
        let (kiosk, desk) =
            Kiosk::in_process(&cfg, hall.clone(), Some(device), Arc::new(|_| {})).unwrap();
        Morning {
            cfg,
            clock,
            hall,
            kiosk,
            desk,
            printer,
        }
    }

    fn set(&self, h: u32, m: u32) {
        let t = MONDAY_0900 + ((i64::from(h) - 9) * 60 + i64::from(m)) * 60_000;
        self.clock.set(Timestamp(t));
    }

    fn book(&self, id: &IdNumber, slot: NaiveTime) -> Result<String, BookingError> {
        let schedule = self.cfg.service("civil").unwrap().schedule.clone();
        let mut n = 0u64;
        let b = self.hall.lock().unwrap().book(
            BookingAsk {
                actor: &Actor::Hotline,
                person: self.desk.person_of(id),
                service: "civil",
                day: monday(),
                slot,
                rules: self.cfg.appointments_of("civil"),
                schedule: &schedule,
            },
            || {
                n += 1;
                u64::from(id.expose().as_bytes()[17]) * 1000 + n
            },
        )?;
        Ok(b.code)
    }

    fn swipe(&mut self, id: &IdNumber) -> Outcome {
        self.kiosk.serve(card(id), Some("civil"))
    }

    fn status(&self, code: &str) -> Status {
        let h = self.hall.lock().unwrap();
        let b = h.store().booking(code).unwrap().unwrap();
        b.status(&self.cfg.appointments_of("civil"), h.local_now())
    }

    fn printed(&self, n: usize) -> String {
        let jobs = self
            .printer
            .control()
            .wait_for_jobs(n, Duration::from_secs(10));
        assert!(jobs.len() >= n, "{} tickets printed", jobs.len());
        render_text(&jobs[n - 1], PaperWidth::Mm80)
    }
}

fn number(o: &Outcome) -> (String, Lane) {
    match o {
        Outcome::Ticket { ticket, .. } => (ticket.number.clone(), ticket.lane),
        other => panic!("no ticket: {other:?}"),
    }
}

#[test]
fn a_slot_takes_its_capacity_and_a_resident_one_booking_a_day() {
    let dir = hall_config("");
    let m = Morning::start(&dir);
    let (a, b, c) = (resident(1, 1970), resident(2, 1971), resident(3, 1972));
    let code = m.book(&a, at(10, 0)).unwrap();
    assert!(greenwave::booking::is_code(&code), "{code}");
    m.book(&b, at(10, 0)).unwrap();
    assert!(matches!(
        m.book(&c, at(10, 0)),
        Err(BookingError::Refused(BookingRefusal::Full { .. }))
    ));
    match m.book(&a, at(11, 0)) {
        Err(BookingError::Refused(BookingRefusal::AlreadyBooked { code: theirs })) => {
            assert_eq!(theirs, code)
        }
        other => panic!("a second booking the same day: {other:?}"),
    }
    // Not on the half-hour grid, in the lunch break, already begun.
    for slot in [at(10, 10), at(12, 30), at(8, 30)] {
        assert!(m.book(&c, slot).is_err(), "{slot} booked");
    }
    // Cancelling frees the place at once; moving keeps the code.
    let mut h = m.hall.lock().unwrap();
    h.cancel_booking(&Actor::Window(1), &code, Some("居民来电取消"))
        .unwrap();
    drop(h);
    let c_code = m.book(&c, at(10, 0)).unwrap();
    let schedule = m.cfg.service("civil").unwrap().schedule.clone();
    let rules = m.cfg.appointments_of("civil");
    let moved = m
        .hall
        .lock()
        .unwrap()
        .move_booking(
            &Actor::Manager,
            &c_code,
            (monday(), at(11, 30)),
            &rules,
            &schedule,
        )
        .unwrap();
    assert_eq!(
        (moved.code.as_str(), moved.slot),
        (c_code.as_str(), at(11, 30))
    );
    let log = m.hall.lock().unwrap().store().booking_log(&c_code).unwrap();
    let who: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(who, [("hotline", "booked"), ("manager", "moved")]);
    assert_eq!(
        log[1].detail.as_deref(),
        Some("2026-12-07 10:00 → 2026-12-07 11:30")
    );
}

#[test]
fn a_morning_of_appointments_at_the_kiosk() {
    let dir = hall_config("");
    let mut m = Morning::start(&dir);
    let booked = resident(11, 1970);
    let late = resident(12, 1975);
    let elder = resident(13, 1940);
    let absent = resident(14, 1980);
    let walk_ins: Vec<IdNumber> = (21..24).map(|s| resident(s, 1985)).collect();
    let code = m.book(&booked, at(10, 0)).unwrap();
    let late_code = m.book(&late, at(9, 30)).unwrap();
    let elder_code = m.book(&elder, at(10, 30)).unwrap();
    let absent_code = m.book(&absent, at(11, 0)).unwrap();

    // 09:10, fifty minutes early: told when to come back, nothing issued
    // or printed.
    m.set(9, 10);
    match m.swipe(&booked) {
        Outcome::NotNow { refusal, today, .. } => {
            assert_eq!(
                refusal,
                Refusal::EarlyForBooking {
                    slot: at(10, 0),
                    from: at(9, 30)
                }
            );
            let (screen, spoken) = greenwave::kiosk::words::not_now(&refusal, "民政救助", today);
            assert_eq!(
                screen,
                "您预约了民政救助上午 10:00 的时段，请上午 9:30 后再来取号"
            );
            assert!(!spoken.contains(|c: char| c.is_ascii_digit()), "{spoken}");
        }
        other => panic!("too early: {other:?}"),
    }
    assert!(m.hall.lock().unwrap().queue().tickets().is_empty());
    assert!(m.printer.control().jobs().is_empty(), "nothing printed");

    m.set(9, 15);
    assert_eq!(
        number(&m.swipe(&walk_ins[0])),
        ("A001".into(), Lane::Normal)
    );
    // 09:40, in the window: a Y ticket, printed with its slot.
    m.set(9, 40);
    assert_eq!(
        number(&m.swipe(&booked)),
        ("YA001".into(), Lane::Appointment)
    );
    let slip = m.printed(2);
    for line in [
        "预约服务",
        "YA001",
        "预约时段 10:00–10:30",
        "已按您的预约时间排队",
    ] {
        assert!(slip.contains(line), "{line} not on the ticket:\n{slip}");
    }
    // 09:50, five minutes past the 09:30 slot's window: a walk-in ticket
    // and a kind word, on the screen and on paper.
    m.set(9, 50);
    let o = m.swipe(&late);
    assert_eq!(number(&o), ("A002".into(), Lane::Normal));
    let shown = greenwave::kiosk::words::present(&o, &[], "民政救助");
    assert!(
        shown.spoken.starts_with("您已错过预约时段"),
        "{}",
        shown.spoken
    );
    assert!(m.printed(3).contains("您已错过预约时段"));
    m.set(9, 55);
    assert_eq!(number(&m.swipe(&walk_ins[1])).0, "A003");
    m.set(10, 5);
    assert_eq!(number(&m.swipe(&walk_ins[2])).0, "A004");
    // 10:06, the elder booked 10:30: a green-wave resident keeps their
    // priority and need not wait for the slot.
    m.set(10, 6);
    assert_eq!(number(&m.swipe(&elder)), ("GA001".into(), Lane::Priority));
    // A second swipe gives the same ticket again, not a second one.
    let again = m.swipe(&booked);
    assert!(
        matches!(&again, Outcome::Ticket { reprint: true, .. }),
        "{again:?}"
    );

    // The calls: priority first; then by place: those who came before
    // 10:00, the appointment at 10:00, then the walk-in of 10:05.
    m.set(10, 10);
    let mut order = Vec::new();
    for _ in 0..6 {
        let mut h = m.hall.lock().unwrap();
        order.push(h.call_next(1).unwrap().number);
        let now = h.now();
        h.exec(&Actor::Window(1), |q, _| q.finish(1, now)).unwrap();
    }
    assert_eq!(order, ["GA001", "A001", "A002", "A003", "YA001", "A004"]);

    m.set(11, 30);
    assert_eq!(m.status(&code), Status::Kept);
    assert_eq!(m.status(&late_code), Status::Late);
    assert_eq!(m.status(&elder_code), Status::Kept);
    assert_eq!(m.status(&absent_code), Status::Missed);

    // After a restart the appointment ticket keeps its slot, and the
    // journal replays to the stored state.
    let ya_slot = m
        .hall
        .lock()
        .unwrap()
        .queue()
        .ticket_by_number("YA001")
        .unwrap()
        .slot_at;
    drop(m);
    let cfg = Config::load(&dir.config).unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(
        MONDAY_0900 + 150 * MIN as i64 * 1000,
    )));
    let h = Hall::open(&cfg, clock).unwrap();
    let ya = h.queue().ticket_by_number("YA001").unwrap();
    assert_eq!(ya.slot_at, ya_slot);
    assert_eq!(ya.booking.as_deref(), Some(code.as_str()));
    let problems = greenwave::hall::verify(h.store(), &cfg.queue_config()).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    drop(h);

    // The day's appointment figures on the command line. Whether the
    // absent resident's booking reads missed or still ahead depends on
    // the real clock of the run; the rest does not.
    let (st, out, err) = dir.cli(&[
        "stats",
        "--appointments",
        "--format",
        "json",
        "--from",
        "2026-12-07",
        "--to",
        "2026-12-07",
    ]);
    assert!(st.success(), "{err}");
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    let day = &rows[0];
    assert_eq!(day["key"], "2026-12-07");
    let n = |k: &str| day[k].as_u64().unwrap();
    assert_eq!((n("booked"), n("kept"), n("late")), (4, 2, 1), "{day}");
    assert_eq!(n("missed") + n("pending"), 1, "{day}");
    // Six tickets, three of them on bookings.
    assert_eq!(n("walk_ins"), 3, "{day}");
    // The appointment lane's wait counts from the slot (10:00), not from
    // the arrival (09:40): called at 10:10, it waited ten minutes.
    let (st, out, err) = dir.cli(&[
        "stats",
        "--by",
        "lane",
        "--format",
        "json",
        "--from",
        "2026-12-07",
        "--to",
        "2026-12-07",
    ]);
    assert!(st.success(), "{err}");
    let lanes: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ya = lanes
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "appointment")
        .expect("an appointment row");
    assert_eq!(ya["wait"]["max_s"].as_f64(), Some(600.0), "{ya}");
    let (st, table, _) = dir.cli(&["stats", "--appointments", "--from", "2026-12-07"]);
    assert!(st.success());
    assert!(table.starts_with("日期"), "{table}");
    assert!(table.contains("现场取号"), "{table}");
}

/// The booking routes of the real daemon: who may book, the refusals staff
/// see, moving and cancelling with their history; and the ID number is
/// neither logged nor stored.
#[test]
fn the_booking_routes_book_move_and_cancel_for_whoever_may() {
    const HOTLINE: &str = "test-hotline-token-0001";
    let dir = hall_config("");
    let d = dir.start();
    // Tomorrow's 09:00 slot is ahead whatever the time of the run.
    let (st, today) = d.get("/api/queue", MANAGER);
    assert_eq!(st, 200, "{today}");
    let day: NaiveDate = today["day"].as_str().unwrap().parse().unwrap();
    let tomorrow = (day + chrono::Duration::days(1)).to_string();
    let a = resident(31, 1960);
    let b = resident(32, 1961);
    let c = resident(33, 1962);
    let book = |token: &str, id: &IdNumber, slot: &str| {
        d.post(
            "/api/bookings",
            token,
            json!({ "id_number": id.expose(), "service": "civil", "day": tomorrow, "slot": slot }),
        )
    };
    let (st, made) = book(HOTLINE, &a, "09:00");
    assert_eq!(st, 201, "{made}");
    let code = made["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    assert_eq!(made["slot_end"], "09:30");
    assert_eq!(made["status"], "booked");
    assert_eq!(made["booked_by"], "hotline");
    let masked = made["id_masked"].as_str().unwrap();
    assert!(
        masked.starts_with("1101") && masked.contains("**********"),
        "{masked}"
    );
    let (st, _) = book(&common::window_token(1), &b, "09:00");
    assert_eq!(st, 201, "a window books for its own service");
    let (st, full) = book(MANAGER, &c, "09:00");
    assert_eq!(
        (st, full["code"].as_str()),
        (409, Some("slot_full")),
        "{full}"
    );
    assert_eq!(full["error"], format!("{tomorrow} 09:00 的时段已约满"));
    let (st, twice) = book(HOTLINE, &a, "10:00");
    assert_eq!(
        (st, twice["code"].as_str()),
        (409, Some("already_booked")),
        "{twice}"
    );
    assert!(twice["error"].as_str().unwrap().contains(&code), "{twice}");
    let (st, off) = book(HOTLINE, &c, "09:10");
    assert_eq!(
        (st, off["code"].as_str()),
        (422, Some("not_a_slot")),
        "{off}"
    );

    let (st, slots) = d.get(
        &format!("/api/bookings/slots?service=civil&day={tomorrow}"),
        HOTLINE,
    );
    assert_eq!(st, 200, "{slots}");
    let first = &slots["slots"][0];
    assert_eq!(
        (first["start"].as_str(), first["booked"].as_u64()),
        (Some("08:30"), Some(0))
    );
    let nine = &slots["slots"][1];
    assert_eq!(
        (nine["booked"].as_u64(), nine["open"].as_bool()),
        (Some(2), Some(false))
    );
    assert_eq!(slots["slots"].as_array().unwrap().len(), 7, "08:30 … 11:30");

    // The hotline books and nothing else.
    let (st, no) = d.get("/api/tickets", HOTLINE);
    assert_eq!(st, 403, "{no}");
    let (st, _) = d.post("/api/tickets", HOTLINE, json!({ "service": "civil" }));
    assert_eq!(st, 403);

    let (st, moved) = d.post(
        &format!("/api/bookings/{code}/move"),
        MANAGER,
        json!({ "day": tomorrow, "slot": "10:30" }),
    );
    assert_eq!(
        (st, moved["slot"].as_str()),
        (200, Some("10:30")),
        "{moved}"
    );
    let (st, _) = book(MANAGER, &c, "09:00");
    assert_eq!(st, 201, "the moved booking freed its place");
    let (st, found) = d.post(
        "/api/bookings/find",
        HOTLINE,
        json!({ "id_number": a.expose() }),
    );
    assert_eq!(st, 200, "{found}");
    assert_eq!(found[0]["code"].as_str(), Some(code.as_str()));
    let (st, gone) = d.post(
        &format!("/api/bookings/{code}/cancel"),
        HOTLINE,
        json!({ "reason": "居民来电取消" }),
    );
    assert_eq!(
        (st, gone["status"].as_str()),
        (200, Some("cancelled")),
        "{gone}"
    );
    let (st, again) = d.post(&format!("/api/bookings/{code}/cancel"), HOTLINE, json!({}));
    assert_eq!(
        (st, again["code"].as_str()),
        (409, Some("booking_cancelled"))
    );
    let (st, one) = d.get(&format!("/api/bookings/{code}"), MANAGER);
    assert_eq!(st, 200, "{one}");
    let history: Vec<(&str, &str)> = one["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        history,
        [
            ("hotline", "booked"),
            ("manager", "moved"),
            ("hotline", "cancelled")
        ]
    );
    let (st, list) = d.get(&format!("/api/bookings?day={tomorrow}"), MANAGER);
    assert_eq!(st, 200);
    assert_eq!(list.as_array().unwrap().len(), 3);

    // Never the ID number: not in the log, not in the database.
    let log = d.stderr();
    let data = dir.data_dir();
    let mut stored = Vec::new();
    for f in std::fs::read_dir(&data).unwrap().flatten() {
        if f.path().is_file() {
            stored.extend(std::fs::read(f.path()).unwrap());
        }
    }
    for id in [&a, &b, &c] {
        assert!(!log.contains(id.expose()), "an ID number in the log");
        let needle = id.expose().as_bytes();
        assert!(
            !stored.windows(needle.len()).any(|w| w == needle),
            "an ID number in {}",
            data.display()
        );
    }
}

/// The booking page as the hotline uses it, in chromium
/// (`tests/browser/booking.mjs`): book, see the places go down, find by
/// code, move, cancel; screenshots in target/screenshots/booking-*.png.
#[test]
fn the_booking_page_books_moves_and_cancels() {
    let dir = hall_config("");
    let d = dir.start();
    let (st, q) = d.get("/api/queue", MANAGER);
    assert_eq!(st, 200, "{q}");
    let day: NaiveDate = q["day"].as_str().unwrap().parse().unwrap();
    common::browser::browser_dir();
    let env = [
        ("GW_BASE", d.base.clone()),
        ("GW_HOTLINE", "test-hotline-token-0001".to_string()),
        ("GW_ID", resident(41, 1950).expose().to_string()),
        ("GW_DAY", (day + chrono::Duration::days(1)).to_string()),
        (
            "GW_SHOTS",
            common::browser::shots_dir().display().to_string(),
        ),
    ];
    let (status, log) =
        common::browser::drive("booking.mjs", &env, Duration::from_secs(90), |_| {
            Err("no requests".into())
        });
    assert!(
        status.success() && log.iter().any(|l| l == "booking: all steps passed"),
        "{}",
        log.join("\n")
    );
}
