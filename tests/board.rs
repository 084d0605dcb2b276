//! The hall display and the window screens: their layouts at 80×24,
//! 120×36 and 200×60 (and 80×8 for a window screen), as insta snapshots of
//! ratatui's TestBackend with a fixed clock; what a person in the hall
//! checks (the number's size, the priority marking, the next tickets, CJK
//! width); what the state does with the stream; then the real
//! `greenwave board` in tmux against a live daemon, through a daemon
//! restart, and a real window screen.

mod common;

use common::screen_text as text;
use greenwave::api::{
    CallPolicyView, CalledView, QueueView, ServiceCounts, TicketView, WindowView,
};

use greenwave::bigtext::{self, Scale};
use greenwave::board::client::Message;
use greenwave::board::model::Board;
use greenwave::board::render::{Frame, GREEN};
use greenwave::board::{apply, draw as draw_screen, Screen};
use greenwave::queue::Lane;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;
use serde_json::json;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

const NOW: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;

fn waiting(id: u64, number: &str, service: &str, lane: Lane, issued_at_ms: i64) -> TicketView {
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
        issued_at_ms,
        slot_at_ms: None,
        called_at_ms: None,
        ahead: Some(0),
        calls: 0,
        transfers: 0,
    }
}

fn window(number: u32, paused: bool, services: &[&str]) -> WindowView {
    WindowView {
        number,
        paused,
        current: None,
        priority_streak: 0,
        services: services.iter().map(|s| s.to_string()).collect(),
    }
}

fn at_window(number: &str, lane: Lane, service_name: &str, window: u32, ago: i64) -> CalledView {
    CalledView {
        number: number.into(),
        lane,
        service_name: service_name.into(),
        window,
        called_at_ms: NOW - ago,
        issued_at_ms: Some(NOW - 40 * MIN),
        serving: true,
    }
}

/// A hall in mid-morning: GA012 (priority) just called to window 3, A030
/// served at window 1, B006 at window 12; window 2 paused, window 5 free;
/// people waiting in both lanes of two services.
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
                appointment_waiting: 0,
            },
            ServiceCounts {
                code: "medical".into(),
                name: "医疗保险业务办理".into(),
                priority_waiting: 0,
                normal_waiting: 0,
                appointment_waiting: 0,
            },
        ],
        waiting: vec![
            waiting(20, "GA013", "civil", Lane::Priority, NOW - 12 * MIN),
            waiting(21, "A031", "civil", Lane::Normal, NOW - 20 * MIN),
            waiting(22, "A032", "civil", Lane::Normal, NOW - 15 * MIN),
            waiting(23, "B007", "medical", Lane::Normal, NOW - 10 * MIN),
        ],
        windows: vec![
            window(1, false, &["civil"]),
            window(2, true, &["civil", "medical"]),
            window(3, false, &["civil"]),
            window(5, false, &["medical"]),
            window(12, false, &["medical"]),
        ],
        at_windows: vec![
            at_window("A030", Lane::Normal, "民政救助", 1, MIN),
            at_window("B006", Lane::Normal, "医疗保险业务办理", 12, 2 * MIN),
        ],
        notice: Some("政策咨询热线 12345，低保、特困人员请走绿波通道".into()),
        timezone: Some("Asia/Shanghai".into()),
        call_policy: Some(CallPolicyView {
            max_priority_streak: 3,
            normal_max_wait_s: Some(30 * 60),
        }),
    };
    let mut b = Board::default();
    b.snapshot(&view);
    let called = json!({
        "id": 19, "window": 3, "reason": "priority", "at": NOW,
        "ticket": { "id": 19, "number": "GA012", "lane": "priority", "service": "civil",
                    "service_name": "民政救助", "window": 3 }
    });
    assert!(b.event("called", &called, NOW));
    b
}

fn draw(board: &Board, w: u16, h: u16, now_ms: i64) -> Buffer {
    draw_as(board, Screen::Hall, w, h, now_ms)
}

fn draw_as(board: &Board, screen: Screen, w: u16, h: u16, now_ms: i64) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        let area = f.area();
        draw_screen(
            board,
            screen,
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

/// Where big print of `text` is on screen: its scale and top row, if the
/// screen shows it at any scale (the rows `bigtext` draws, one under the
/// other in one column). Works on a TestBackend's text and a tmux pane.
fn find_big(screen: &str, text: &str) -> Option<(Scale, usize)> {
    // The screen as cells: a wide character, then an empty cell.
    let cells: Vec<Vec<String>> = screen
        .lines()
        .map(|l| {
            l.chars()
                .flat_map(|c| {
                    let mut v = vec![c.to_string()];
                    if c.width().unwrap_or(1) == 2 {
                        v.push(String::new());
                    }
                    v
                })
                .collect()
        })
        .collect();
    let at = |y: usize, x: usize| cells.get(y).and_then(|r| r.get(x)).map(String::as_str);
    // tmux drops the spaces at the end of a line.
    let width = cells.iter().map(Vec::len).max().unwrap_or(0);
    for y in (1..=8u8).rev() {
        for x in (1..=16u8).rev() {
            let scale = Scale { x, y };
            let rows: Vec<Vec<char>> = bigtext::render(text, scale)
                .iter()
                .map(|r| r.chars().collect())
                .collect();
            for top in 0..cells.len().saturating_sub(rows.len() - 1) {
                for left in 0..width {
                    let here = rows.iter().enumerate().all(|(dy, row)| {
                        row.iter().enumerate().all(|(dx, ch)| {
                            let cell = at(top + dy, left + dx).unwrap_or(" ");
                            cell == ch.to_string() || (*ch == ' ' && cell.is_empty())
                        })
                    });
                    if here {
                        return Some((scale, top));
                    }
                }
            }
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
fn the_board_at_120x36() {
    let buf = draw(&hall(), 120, 36, NOW);
    insta::assert_snapshot!("board_120x36", text(&buf));
}

#[test]
fn the_board_at_200x60() {
    let buf = draw(&hall(), 200, 60, NOW);
    insta::assert_snapshot!("board_200x60", text(&buf));
}

#[test]
fn the_window_screen_at_80x8() {
    let buf = draw_as(&hall(), Screen::Window(3), 80, 8, NOW);
    insta::assert_snapshot!("window_80x8", text(&buf));
}

#[test]
fn the_window_screen_at_80x24() {
    let buf = draw_as(&hall(), Screen::Window(3), 80, 24, NOW);
    insta::assert_snapshot!("window_80x24", text(&buf));
}

#[test]
fn the_window_screen_at_120x36() {
    let buf = draw_as(&hall(), Screen::Window(3), 120, 36, NOW);
    insta::assert_snapshot!("window_120x36", text(&buf));
}

#[test]
fn the_window_screen_at_200x60() {
    let buf = draw_as(&hall(), Screen::Window(3), 200, 60, NOW);
    insta::assert_snapshot!("window_200x60", text(&buf));
}

#[test]
fn a_paused_and_an_unknown_window_at_80x8() {
    let b = hall();
    let paused = text(&draw_as(&b, Screen::Window(2), 80, 8, NOW));
    insta::assert_snapshot!("window_paused_80x8", paused);
    assert!(find_big(&paused, "暂停服务").is_some(), "{paused}");
    assert!(paused.contains("2号窗口"), "{paused}");
    assert!(
        !paused.contains("下一位"),
        "a paused window calls nobody: {paused}"
    );
    let unknown = text(&draw_as(&b, Screen::Window(9), 80, 8, NOW));
    insta::assert_snapshot!("window_unknown_80x8", unknown);
    assert!(find_big(&unknown, "未找到 9 号窗口").is_some(), "{unknown}");
    let unknown = text(&draw_as(&b, Screen::Window(9), 120, 36, NOW));
    assert!(find_big(&unknown, "未找到 9 号窗口").is_some(), "{unknown}");
    assert!(unknown.contains("--window"), "{unknown}");
}

#[test]
fn every_line_fits_its_width_and_no_wide_character_is_cut() {
    let sizes = [
        (80, 24),
        (120, 36),
        (200, 60),
        (60, 16),
        (30, 8),
        (80, 8),
        (20, 3),
        (1, 1),
    ];
    let screens = [
        Screen::Hall,
        Screen::Window(3),
        Screen::Window(2),
        Screen::Window(5),
        Screen::Window(9),
    ];
    for screen in screens {
        for (w, h) in sizes {
            let buf = draw_as(&hall(), screen, w, h, NOW);
            for (y, line) in text(&buf).lines().enumerate() {
                assert_eq!(
                    line.width(),
                    w as usize,
                    "{screen:?} row {y} at {w}x{h}: {line:?}"
                );
            }
        }
    }
}

#[test]
fn the_calls_grow_with_the_screen_and_their_words_are_big_too() {
    let b = hall();
    let small = text(&draw(&b, 80, 24, NOW));
    let large = text(&draw(&b, 200, 60, NOW));
    let (s, _) = find_big(&small, "GA012").expect("the number in big print at 80x24");
    let (l, top) = find_big(&large, "GA012").expect("the number in big print at 200x60");
    assert!(l.rows() > 8, "at 200x60 the digits take {} rows", l.rows());
    assert!(l.rows() > s.rows());
    // 号, 到 and 号窗口 are big print too, on the call's rows.
    for words in ["号", "到", "号窗口"] {
        let (w, at) = find_big(&large, words).unwrap_or_else(|| panic!("{words}: {large}"));
        assert_eq!((w.rows(), at), (l.rows(), top), "{words}");
    }
    // Every window's call, the newest first: GA012 over A030 over B006.
    let row = |n: &str| find_big(&large, n).map(|(_, y)| y);
    assert!(
        row("GA012") < row("A030") && row("A030") < row("B006"),
        "{large}"
    );
    // At 80x24 the ones that do not fit are listed in one line.
    assert!(small.contains("B006 → 12 号窗口"), "{small}");
}

/// An appointment ticket waiting adds 预约 n to its service's counts; a
/// service without one shows no such count.
#[test]
fn appointment_tickets_are_counted_on_the_board() {
    let mut b = hall();
    let e = json!({ "id": 50, "at": NOW, "ticket": {
        "id": 50, "number": "YA001", "lane": "appointment", "service": "civil",
        "window": null, "slot_at_ms": NOW - 17 * MIN } });
    assert!(b.event("issued", &e, NOW));
    let t = text(&draw(&b, 120, 36, NOW));
    assert!(t.contains("民政救助 绿波通道 1 预约 1 普通 2"), "{t}");
    assert!(t.contains("医疗保险业务办理 绿波通道 0 普通 1"), "{t}");
    // Issued now, placed at its slot 17 minutes ago: between the tickets
    // issued 20 and 15 minutes ago.
    let next: Vec<String> = b
        .next_for(1, NOW, 4)
        .into_iter()
        .map(|n| n.number)
        .collect();
    assert_eq!(next, ["GA013", "A031", "YA001", "A032"]);
}

#[test]
fn the_priority_call_is_green_and_labelled() {
    let buf = draw(&hall(), 120, 36, NOW);
    let t = text(&buf);
    assert!(t.contains("绿波通道"), "{t}");
    assert!(t.contains("请 GA012 号 到 3 号窗口办理"), "{t}");
    let (x, y) = find(&buf, "请 GA012 号").unwrap();
    assert_eq!(
        buf[(x + 2, y)].fg,
        GREEN,
        "the sentence of a priority call is green"
    );
    // Its row in the table: marked 绿波/通道, its digits green.
    let (_, top) = find_big(&t, "GA012").unwrap();
    let row: String = t.lines().skip(top).take(8).collect();
    assert!(row.contains("绿波") && row.contains("通道"), "{t}");
    let (gx, _) = find(&buf, "通道").unwrap();
    let green_ink = (top..top + 8)
        .flat_map(|y| (gx + 4..120).map(move |x| (x, y as u16)))
        .any(|p| buf[p].symbol() != " " && buf[p].fg == GREEN);
    assert!(green_ink, "the priority call's digits are green");
    // The waiting counts, both lanes, the priority one in green.
    assert!(t.contains("民政救助 绿波通道 1 普通 2"), "{t}");
    assert!(t.contains("医疗保险业务办理 绿波通道 0 普通 1"), "{t}");
    let (x, y) = find(&buf, "民政救助 绿波通道 1").unwrap();
    assert_eq!(buf[(x + 9, y)].fg, GREEN);
}

#[test]
fn the_window_screen_shows_its_ticket_and_the_next_two() {
    let b = hall();
    let t = text(&draw_as(&b, Screen::Window(3), 80, 8, NOW));
    assert!(t.contains("3号窗口"), "{t}");
    assert!(
        find_big(&t, "GA012").is_some(),
        "the number being served: {t}"
    );
    assert!(t.contains("绿波通道"), "{t}");
    assert!(t.contains("请到本窗口办理"), "{t}");
    // Window 3 calls civil: the priority lane first, then the oldest.
    assert!(t.contains("下一位  GA013  A031"), "{t}");
    let buf = draw_as(&b, Screen::Window(3), 80, 8, NOW);
    let (x, y) = find(&buf, "GA013").unwrap();
    assert_eq!(buf[(x, y)].fg, GREEN, "a priority ticket next is green");
    // Larger screens: larger digits.
    let big = text(&draw_as(&b, Screen::Window(3), 200, 60, NOW));
    let (scale, _) = find_big(&big, "GA012").unwrap();
    assert!(scale.rows() >= 32, "{scale:?}");
    // A window with a ticket being served says so; a free one says 请稍候
    // and who comes next.
    let t = text(&draw_as(&b, Screen::Window(1), 80, 8, NOW));
    assert!(
        find_big(&t, "A030").is_some() && t.contains("正在办理"),
        "{t}"
    );
    assert!(!t.contains("绿波通道"), "{t}");
    let t = text(&draw_as(&b, Screen::Window(5), 80, 8, NOW));
    assert!(find_big(&t, "请稍候").is_some(), "{t}");
    assert!(t.contains("5号窗口") && t.contains("下一位  B007"), "{t}");
}

#[test]
fn the_next_tickets_follow_the_call_policy() {
    let mut b = hall();
    // Window 3 has made three priority calls in a row: the streak rule
    // gives the next call to the oldest normal ticket.
    for (id, n) in [(40u64, "GA020"), (41, "GA021")] {
        let e = json!({ "id": id, "window": 3, "at": NOW, "ticket": {
            "id": id, "number": n, "lane": "priority", "service": "civil", "window": 3 } });
        b.event("called", &e, NOW);
    }
    let next: Vec<String> = b
        .next_for(3, NOW, 2)
        .into_iter()
        .map(|n| n.number)
        .collect();
    assert_eq!(next, ["A031", "GA013"]);
    // A normal ticket that waited over 30 minutes alternates with the
    // priority lane: window 1 called no priority ticket last, so the
    // priority ticket first, then the overdue one; at window 3, after a
    // priority call, the overdue one first.
    let next: Vec<String> = b
        .next_for(1, NOW + 11 * MIN, 2)
        .into_iter()
        .map(|n| n.number)
        .collect();
    assert_eq!(next, ["GA013", "A031"]);
    let next: Vec<String> = b
        .next_for(3, NOW + 11 * MIN, 1)
        .into_iter()
        .map(|n| n.number)
        .collect();
    assert_eq!(next, ["A031"]);
    let next: Vec<String> = b
        .next_for(1, NOW, 2)
        .into_iter()
        .map(|n| n.number)
        .collect();
    assert_eq!(next, ["GA013", "A031"]);
    // A ticket transferred to window 5 waits for it alone, in its place.
    let e = json!({ "id": 30, "from_window": 1, "to_service": "medical", "to_window": 5, "at": NOW,
        "ticket": { "id": 30, "number": "A030", "lane": "normal", "service": "medical", "window": 5 } });
    assert!(b.event("transferred", &e, NOW));
    let next: Vec<String> = b
        .next_for(5, NOW, 2)
        .into_iter()
        .map(|n| n.number)
        .collect();
    assert_eq!(
        next,
        ["A030", "B007"],
        "issued 40 minutes ago, it comes first"
    );
    let next: Vec<String> = b
        .next_for(12, NOW, 2)
        .into_iter()
        .map(|n| n.number)
        .collect();
    assert_eq!(next, ["B007"]);
    assert!(b.next_for(9, NOW, 2).is_empty(), "no such window");
}

#[test]
fn the_window_screen_follows_its_window() {
    let mut b = hall();
    let t = |id: u64, number: &str, lane: &str| {
        json!({ "id": id, "number": number, "lane": lane, "service": "civil",
                "service_name": "民政救助", "window": 3 })
    };
    let screen = |b: &Board| text(&draw_as(b, Screen::Window(3), 80, 8, NOW));
    assert!(b.event(
        "started",
        &json!({ "id": 19, "window": 3, "ticket": t(19, "GA012", "priority") }),
        NOW
    ));
    assert!(screen(&b).contains("正在办理"));
    assert!(b.event(
        "finished",
        &json!({ "id": 19, "window": 3, "ticket": t(19, "GA012", "priority") }),
        NOW
    ));
    let s = screen(&b);
    assert!(
        find_big(&s, "请稍候").is_some() && find_big(&s, "GA012").is_none(),
        "{s}"
    );
    assert!(b.event(
        "called",
        &json!({ "id": 20, "window": 3, "ticket": t(20, "GA013", "priority") }),
        NOW
    ));
    let s = screen(&b);
    assert!(
        find_big(&s, "GA013").is_some() && s.contains("下一位  A031  A032"),
        "{s}"
    );
    // A recall flashes the number on the window screen.
    assert!(b.event(
        "recalled",
        &json!({ "id": 20, "window": 3, "ticket": t(20, "GA013", "priority") }),
        NOW
    ));
    let on = draw_as(&b, Screen::Window(3), 80, 8, NOW);
    let off = draw_as(&b, Screen::Window(3), 80, 8, NOW + 500);
    assert_ne!(on[(0, 0)].bg, off[(0, 0)].bg, "the number blinks");
    // No-show: free again; pause: 暂停服务, and no next tickets.
    assert!(b.event(
        "no_show",
        &json!({ "id": 20, "window": 3, "ticket": t(20, "GA013", "priority") }),
        NOW
    ));
    assert!(b.event("paused", &json!({ "window": 3, "at": NOW }), NOW));
    let s = screen(&b);
    assert!(
        find_big(&s, "暂停服务").is_some() && !s.contains("下一位"),
        "{s}"
    );
    assert!(b.event("resumed", &json!({ "window": 3, "at": NOW }), NOW));
    assert!(find_big(&screen(&b), "请稍候").is_some());
    assert!(
        !b.event("paused", &json!({ "window": 77, "at": NOW }), NOW),
        "unknown window"
    );
    // A transfer away frees the window and puts the ticket back in line.
    assert!(b.event(
        "called",
        &json!({ "id": 21, "window": 3, "ticket": t(21, "A031", "normal") }),
        NOW
    ));
    // Paused with a ticket at the window: it stays, nobody comes next.
    assert!(b.event("paused", &json!({ "window": 3, "at": NOW }), NOW));
    let s = text(&draw_as(&b, Screen::Window(3), 80, 24, NOW));
    assert!(find_big(&s, "A031").is_some(), "{s}");
    assert!(
        s.contains("此号办完后暂停服务") && !s.contains("下一位"),
        "{s}"
    );
    assert!(b.event("resumed", &json!({ "window": 3, "at": NOW }), NOW));
    let moved = json!({ "id": 21, "window": 3, "from_window": 3, "to_service": "medical", "to_window": null,
        "ticket": { "id": 21, "number": "A031", "lane": "normal", "service": "medical", "window": null } });
    assert!(b.event("transferred", &moved, NOW));
    assert!(b.at_window(3).is_none());
    assert_eq!(b.services[1].normal, 2, "A031 waits for medical now");
    // Before the first snapshot: connecting, never a crash.
    let t = text(&draw_as(&Board::default(), Screen::Window(3), 80, 8, NOW));
    assert!(find_big(&t, "连接中…").is_some(), "{t}");
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
    // Regression: the lost stream's log line was written over the board.
    assert!(!pane.contains("event stream lost"), "{pane}");

    // It comes back: the board reconnects by itself and follows again.
    let d = hall.start();
    let (st, c) = d.post("/api/windows/2/call", common::MANAGER, json!({}));
    assert_eq!((st, c["number"].as_str()), (200, Some("A001")), "{c}");
    let pane = tmux.wait_for(&["请 A001 号 到 2 号窗口办理"]);
    assert!(!pane.contains("连接中…"), "{pane}");
    assert!(
        find_big(&pane, "GA001").is_some() && find_big(&pane, "A001").is_some(),
        "both calls in big print: {pane}"
    );
}

/// Waits until the pane shows `text` in big print.
fn wait_for_big(tmux: &common::Tmux, text: &str) -> String {
    let mut pane = String::new();
    common::eventually(
        std::time::Duration::from_secs(20),
        &format!("the pane never showed {text} in big print"),
        || {
            pane = tmux.capture();
            find_big(&pane, text).is_some()
        },
        || tmux.capture(),
    );
    pane
}

#[test]
fn a_real_window_screen_follows_its_window() {
    let hall = common::TestHall::new("");
    let d = hall.start();
    let board = |window: u32, w: u16, h: u16| {
        common::Tmux::start(
            &format!(
                "GREENWAVE_TOKEN={} {} board --server {} --window {window}",
                common::MANAGER,
                common::BIN,
                d.base
            ),
            w,
            h,
        )
    };
    // Window 2 (civil and medical), on the small screen over it.
    let tmux = board(2, 80, 8);
    tmux.wait_for(&["2号窗口", "暂无等候"]);
    wait_for_big(&tmux, "请稍候");
    for (service, lane) in [
        ("civil", "normal"),
        ("civil", "priority"),
        ("medical", "normal"),
    ] {
        let (st, _) = d.post(
            "/api/tickets",
            common::MANAGER,
            json!({ "service": service, "lane": lane, "reason": "测试" }),
        );
        assert!(st < 300, "{st}");
    }
    tmux.wait_for(&["下一位  GA001  A001"]);
    // A call elsewhere changes who comes next here, not the screen's number.
    let (st, c) = d.post("/api/windows/1/call", common::MANAGER, json!({}));
    assert_eq!((st, c["number"].as_str()), (200, Some("GA001")), "{c}");
    tmux.wait_for(&["下一位  A001  B001"]);
    let (st, c) = d.post("/api/windows/2/call", common::MANAGER, json!({}));
    assert_eq!((st, c["number"].as_str()), (200, Some("A001")), "{c}");
    let pane = wait_for_big(&tmux, "A001");
    assert!(
        pane.contains("请到本窗口办理") && pane.contains("下一位  B001"),
        "{pane}"
    );
    d.post("/api/windows/2/start", common::MANAGER, json!({}));
    tmux.wait_for(&["正在办理"]);
    d.post("/api/windows/2/finish", common::MANAGER, json!({}));
    wait_for_big(&tmux, "请稍候");
    let (st, _) = d.post("/api/windows/2/pause", common::MANAGER, json!({}));
    assert!(st < 300, "{st}");
    let pane = wait_for_big(&tmux, "暂停服务");
    assert!(!pane.contains("下一位"), "{pane}");
    // A window the hall does not have says so.
    let other = board(7, 80, 24);
    wait_for_big(&other, "未找到 7 号窗口");
}
