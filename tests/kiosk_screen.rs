//! The kiosk's own screen at 80×24 and 120×40 (insta snapshots of
//! ratatui's TestBackend, fixed clock): the swipe prompt, the service
//! choice, a priority ticket, and a ticket that could not be printed while
//! the reader is also gone, in plain words.

mod common;

use common::screen_text;
use greenwave::kiosk::screen::{render, KioskScreen, TicketShown, Update, View, SHOW_MS};
use greenwave::kiosk::words;
use greenwave::queue::Lane;
use greenwave_drivers::card::DeviceFault;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;
use unicode_width::UnicodeWidthStr;

fn keys() -> Vec<(String, String)> {
    vec![
        ("1".into(), "民政救助".into()),
        ("2".into(), "医保业务".into()),
        ("0".into(), "无身份证取号".into()),
    ]
}

fn screen() -> KioskScreen {
    KioskScreen::new("某某街道便民服务中心", keys())
}

fn draw(s: &KioskScreen, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        let area = f.area();
        render(s, "09:30:00", 1_000, area, f.buffer_mut())
    })
    .unwrap();
    t.backend().buffer().clone()
}

fn ticket(number: &str, lane: Lane, ahead: usize, problem: Option<&str>) -> Update {
    Update::Ticket {
        ticket: TicketShown {
            number: number.into(),
            lane,
            service: "民政救助".into(),
            ahead,
            reprint: false,
            print_problem: problem.map(String::from),
            note: None,
        },
        sentence: String::new(),
    }
}

fn priority_ticket(problem: Option<&str>) -> Update {
    ticket("GA012", Lane::Priority, 2, problem)
}

#[test]
fn the_swipe_prompt() {
    let s = screen();
    insta::assert_snapshot!("kiosk_swipe_80x24", screen_text(&draw(&s, 80, 24)));
}

#[test]
fn the_service_choice() {
    let mut s = screen();
    s.update(&Update::Choose(keys()[..2].to_vec()), 0);
    insta::assert_snapshot!("kiosk_choose_80x24", screen_text(&draw(&s, 80, 24)));
}

#[test]
fn a_priority_ticket_in_green() {
    let mut s = screen();
    s.update(&priority_ticket(None), 0);
    let buf = draw(&s, 120, 40);
    let text = screen_text(&buf);
    insta::assert_snapshot!("kiosk_ticket_120x40", text);
    assert!(text.contains("绿波通道 · 您的号码") && text.contains("前面还有 2 人"));
    assert!(text.contains("请取票"));
    let (y, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("绿波通道"))
        .unwrap();
    let x = line[..line.find("绿波通道").unwrap()].width() as u16;
    assert_eq!(buf[(x, y as u16)].fg, Color::Green);
}

/// An appointment ticket says so over the number and under it; a late
/// resident's walk-in ticket carries the kind word; both fit at 80×24.
#[test]
fn appointment_tickets_and_the_late_word() {
    let mut s = screen();
    let mut u = ticket("YA001", Lane::Appointment, 3, None);
    if let Update::Ticket { ticket, .. } = &mut u {
        ticket.note = Some(words::BOOKED_IN_TIME.into());
    }
    s.update(&u, 0);
    let text = screen_text(&draw(&s, 80, 24));
    assert!(text.contains("预约 · 您的号码"), "{text}");
    assert!(text.contains("已按您的预约时间排队"), "{text}");
    let mut u = ticket("A007", Lane::Normal, 9, None);
    if let Update::Ticket { ticket, .. } = &mut u {
        ticket.note = Some(words::BOOKED_LATE.into());
    }
    s.update(&u, 0);
    let text = screen_text(&draw(&s, 80, 24));
    assert!(text.contains("您已错过预约时段"), "{text}");
    assert!(
        text.contains("前面还有 9 人") && text.contains("请取票"),
        "{text}"
    );
}

#[test]
fn device_problems_in_plain_words() {
    let mut s = screen();
    s.update(&priority_ticket(Some("打印机缺纸")), 0);
    s.update(
        &words::reader_down(&DeviceFault::Disconnected(
            "/dev/ttyUSB0: No such file".into(),
        )),
        0,
    );
    let text = screen_text(&draw(&s, 80, 24));
    insta::assert_snapshot!("kiosk_problems_80x24", text);
    assert!(
        text.contains("读卡器未连接，打印机缺纸，请联系工作人员"),
        "{text}"
    );
    assert!(text.contains("打印机缺纸，请记下号码 GA012"), "{text}");
    assert!(!text.contains("ttyUSB0"), "no device paths for residents");
    // The ticket goes, the prompt returns; the problem stays until fixed.
    assert_eq!(s.view_at(SHOW_MS), &View::Swipe);
    s.update(&ticket("A001", Lane::Normal, 0, None), SHOW_MS);
    assert_eq!(s.printer_problem, None, "a printed ticket clears it");
}

#[test]
fn every_line_fits_its_width() {
    let mut s = screen();
    s.update(&priority_ticket(Some("打印机缺纸")), 0);
    s.update(&words::reader_down(&DeviceFault::NoAnswer("x".into())), 0);
    for (w, h) in [(80, 24), (120, 40), (200, 60), (40, 12)] {
        for (y, line) in screen_text(&draw(&s, w, h)).lines().enumerate() {
            assert_eq!(line.width(), w as usize, "row {y} at {w}x{h}");
        }
    }
}
