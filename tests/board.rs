//! The hall display: its layout at 80×24, 120×40 and 200×60 (insta
//! snapshots of ratatui's TestBackend, with a fixed clock), the priority
//! marking, CJK width, and what the state does with the stream; then the
//! real `greenwave board` in tmux against a live daemon, through a daemon
//! restart.

mod common;

use common::screen_text as text;
use greenwave::api::{CalledView, QueueView, ServiceCounts, TicketView, WindowView};
use greenwave::board::apply;
use greenwave::board::client::Message;
use greenwave::board::model::Board;
use greenwave::board::render::{render, Frame, GREEN};
use greenwave::queue::Lane;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;
use serde_json::json;
use unicode_width::UnicodeWidthStr;

const NOW: i64 = 1_800_000_000_000;

fn waiting(id: u64, number: &str, service: &str, lane: Lane) -> TicketView {
    TicketView {
        id,
        number: number.into(),
        service: service.into(),
        service_name: String::new(),
        lane,
        state: "waiting".into(),
        state_label: "等候中".into(),
        window: None,
        target_window: None,
        issued_at: String::new(),
        issued_at_ms: 0,
        called_at_ms: None,
        ahead: Some(0),
        calls: 0,
        transfers: 0,
    }
}

/// A hall in mid-morning: GA012 just called to window 3, three earlier
/// calls, people waiting in both lanes of two services.
fn hall() -> Board {
    let view = QueueView {
        hall: "某某街道便民服务中心".into(),
        day: "2026-12-01".into(),
        services: vec![
            ServiceCounts {
                code: "civil".into(),
                name: "民政救助".into(),
                priority_waiting: 0,
                normal_waiting: 0,
            },
            ServiceCounts {
                code: "medical".into(),
                name: "医疗保险业务办理".into(),
                priority_waiting: 0,
                normal_waiting: 0,
            },
        ],
        waiting: vec![
            waiting(20, "GA013", "civil", Lane::Priority),
            waiting(21, "A031", "civil", Lane::Normal),
            waiting(22, "A032", "civil", Lane::Normal),
            waiting(23, "B007", "medical", Lane::Normal),
        ],
        windows: vec![WindowView {
            number: 1,
            paused: false,
            current: None,
            priority_streak: 0,
        }],
        at_windows: vec![
            CalledView {
                number: "A030".into(),
                lane: Lane::Normal,
                service_name: "民政救助".into(),
                window: 1,
                called_at_ms: NOW - 60_000,
            },
            CalledView {
                number: "B006".into(),
                lane: Lane::Normal,
                service_name: "医疗保险业务办理".into(),
                window: 12,
                called_at_ms: NOW - 120_000,
            },
        ],
        notice: Some("政策咨询热线 12345，低保、特困人员请走绿波通道".into()),
        timezone: Some("Asia/Shanghai".into()),
    };
    let mut b = Board::default();
    b.snapshot(&view);
    let called = json!({
        "id": 19, "window": 3, "reason": "priority_first", "at": NOW,
        "ticket": { "id": 19, "number": "GA012", "lane": "priority", "service": "civil",
                    "service_name": "民政救助", "window": 3 }
    });
    assert!(b.event("called", &called, NOW));
    b
}

fn draw(board: &Board, w: u16, h: u16, now_ms: i64) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        let area = f.area();
        render(
            board,
            &Frame {
                clock: "09:30:00",
                now_ms,
                scroll: 0,
            },
            area,
            f.buffer_mut(),
        )
    })
    .unwrap();
    t.backend().buffer().clone()
}

/// Where `needle` starts on screen, in cells.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let t = text(buf);
    for (y, line) in t.lines().enumerate() {
        if let Some(i) = line.find(needle) {
            return Some((line[..i].width() as u16, y as u16));
        }
    }
    None
}

#[test]
fn the_board_at_80x24() {
    let buf = draw(&hall(), 80, 24, NOW);
    insta::assert_snapshot!("board_80x24", text(&buf));
}

#[test]
fn the_board_at_120x40() {
    let buf = draw(&hall(), 120, 40, NOW);
    insta::assert_snapshot!("board_120x40", text(&buf));
}

#[test]
fn the_board_at_200x60() {
    let buf = draw(&hall(), 200, 60, NOW);
    insta::assert_snapshot!("board_200x60", text(&buf));
}

#[test]
fn every_line_fits_its_width_and_no_wide_character_is_cut() {
    for (w, h) in [(80, 24), (120, 40), (200, 60), (60, 16), (30, 8)] {
        let buf = draw(&hall(), w, h, NOW);
        for (y, line) in text(&buf).lines().enumerate() {
            assert_eq!(line.width(), w as usize, "row {y} at {w}x{h}: {line:?}");
        }
    }
}

#[test]
fn the_priority_call_is_green_and_labelled() {
    let buf = draw(&hall(), 120, 40, NOW);
    let t = text(&buf);
    assert!(t.contains("绿波通道"), "{t}");
    assert!(t.contains("请 GA012 号 到 3 号窗口办理"), "{t}");
    let (x, y) = find(&buf, "请 GA012 号").unwrap();
    assert_eq!(
        buf[(x + 2, y)].fg,
        GREEN,
        "the sentence of a priority call is green"
    );
    // The waiting counts: priority column green, CJK names aligned.
    let (x, y) = find(&buf, "民政救助").unwrap();
    let (x2, y2) = find(&buf, "医疗保险业务办理").unwrap();
    assert_eq!(x, x2, "service names start in one column");
    let row = text(&buf).lines().nth(y as usize).unwrap().to_string();
    assert!(row.contains("   1") && row.contains("   2"), "{row}");
    let row2 = text(&buf).lines().nth(y2 as usize).unwrap().to_string();
    assert!(row2.contains("   0") && row2.contains("   1"), "{row2}");
}

#[test]
fn a_recall_flashes_and_moves_the_call_to_the_top_again() {
    let mut b = hall();
    let recall = json!({
        "id": 18, "window": 1, "at": NOW,
        "ticket": { "id": 18, "number": "A030", "lane": "normal", "service": "civil",
                    "service_name": "民政救助", "window": 1 }
    });
    assert!(b.event("recalled", &recall, NOW));
    assert_eq!(b.calls[0].number, "A030");
    assert_eq!(b.calls[1].number, "GA012");
    assert_eq!(b.calls.iter().filter(|c| c.number == "A030").count(), 1);
    assert!(b.flashing(NOW + 1_000));
    assert!(!b.flashing(NOW + 60_000), "the flash ends");
    let on = draw(&b, 80, 24, NOW);
    let off = draw(&b, 80, 24, NOW + 500);
    let (x, y) = find(&on, "请 A030 号").unwrap();
    assert_ne!(on[(x, y)].bg, off[(x, y)].bg, "the call blinks");
    assert_eq!(text(&on), text(&off), "only the colours change");
}

#[test]
fn the_counts_follow_the_stream() {
    let mut b = hall();
    let t = |id: u64, number: &str, lane: &str, service: &str| {
        json!({ "id": id, "number": number, "lane": lane, "service": service,
                "service_name": "", "window": null })
    };
    b.event(
        "issued",
        &json!({ "id": 30, "ticket": t(30, "GA014", "priority", "civil") }),
        NOW,
    );
    assert_eq!((b.services[0].priority, b.services[0].normal), (2, 2));
    b.event(
        "called",
        &json!({ "id": 21, "window": 1, "ticket": t(21, "A031", "normal", "civil") }),
        NOW,
    );
    assert_eq!(b.services[0].normal, 1);
    // A transfer puts it back in line for the new service.
    b.event(
        "transferred",
        &json!({ "id": 21, "ticket": t(21, "A031", "normal", "medical") }),
        NOW,
    );
    assert_eq!((b.services[0].normal, b.services[1].normal), (1, 2));
    b.event(
        "cancelled",
        &json!({ "id": 22, "ticket": t(22, "A032", "normal", "civil") }),
        NOW,
    );
    assert_eq!(b.services[0].normal, 0);
    // Unknown events and garbage change nothing and never panic.
    let before = b.clone();
    assert!(!b.event(
        "fireworks",
        &json!({ "ticket": t(1, "Z1", "normal", "x") }),
        NOW
    ));
    assert!(!b.event("called", &json!({ "ticket": "nonsense" }), NOW));
    assert!(!b.event("called", &json!(null), NOW));
    assert_eq!(b, before);
}

#[test]
fn a_lost_stream_keeps_the_last_state_and_says_connecting() {
    let mut b = hall();
    assert!(apply(
        &mut b,
        &Message::Down("connection refused".into()),
        NOW
    ));
    assert!(!b.connected);
    let t = text(&draw(&b, 80, 24, NOW));
    assert!(t.contains("连接中…"), "{t}");
    assert!(
        t.contains("请 GA012 号 到 3 号窗口办理"),
        "last call still shown: {t}"
    );
    // A bad snapshot is ignored; a good one brings the board back.
    assert!(!apply(
        &mut b,
        &Message::Event {
            kind: "snapshot".into(),
            data: json!({"hall": 3})
        },
        NOW
    ));
    assert!(!b.connected);
}

// ----- the real board in tmux ------------------------------------------------

#[test]
fn the_real_board_follows_a_live_daemon_and_survives_its_restart() {
    let hall = common::TestHall::new("[kiosk]\nnotice = \"政策咨询热线 12345\"\n");
    // A fixed port, so that the restarted daemon is found at the same place.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = std::fs::read_to_string(&hall.config).unwrap();
    std::fs::write(
        &hall.config,
        text.replace("127.0.0.1:0", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    let d = hall.start();
    let tmux = common::Tmux::start(
        &format!(
            "GREENWAVE_TOKEN={} {} board --server {}",
            common::MANAGER,
            common::BIN,
            d.base
        ),
        120,
        40,
    );
    tmux.wait_for(&["测试大厅", "等候人数", "政策咨询热线 12345"]);

    let issue = |lane: &str| {
        d.post(
            "/api/tickets",
            common::MANAGER,
            json!({ "service": "civil", "lane": lane, "reason": "测试" }),
        )
    };
    issue("normal");
    issue("priority");
    let (st, c) = d.post("/api/windows/1/call", common::MANAGER, json!({}));
    assert_eq!((st, c["number"].as_str()), (200, Some("GA001")), "{c}");
    tmux.wait_for(&["请 GA001 号 到 1 号窗口办理", "绿波通道"]);

    // The daemon goes away: the board keeps the call and says so.
    drop(d);
    let pane = tmux.wait_for(&["连接中…"]);
    assert!(pane.contains("请 GA001 号 到 1 号窗口办理"), "{pane}");

    // It comes back: the board reconnects by itself and follows again.
    let d = hall.start();
    let (st, c) = d.post("/api/windows/2/call", common::MANAGER, json!({}));
    assert_eq!((st, c["number"].as_str()), (200, Some("A001")), "{c}");
    let pane = tmux.wait_for(&["请 A001 号 到 2 号窗口办理"]);
    assert!(!pane.contains("连接中…"), "{pane}");
    assert!(
        pane.contains("GA001"),
        "the earlier call is in the list: {pane}"
    );
}
