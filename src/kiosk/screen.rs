//! The kiosk's own screen (`greenwave run` on its terminal): the swipe
//! prompt in large print, the service keys when a choice is needed, the
//! issued number with its lane and the people ahead, and device problems
//! in plain words. Pure, like the hall display: the daemon's kiosk loop
//! turns what happens into [`Update`]s, and [`render`] draws the state.
//!
//! Without a terminal (a service, the tests) the same updates become the
//! `[自助机] ...` lines of [`Update::line`].

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};
use tui_big_text::{BigText, PixelSize};

use crate::queue::Lane;

/// How long a ticket or a message stays before the swipe prompt returns.
pub const SHOW_MS: i64 = 15_000;

/// The idle prompt.
pub const SWIPE: &str = "请刷身份证";

/// While a kiosk machine's hall server does not answer: in large print,
/// then [`PAUSED_HOW`].
pub const PAUSED_BIG: &str = "暂停取号";
/// Under [`PAUSED_BIG`].
pub const PAUSED_HOW: &str = "请稍候或联系工作人员";
/// The whole sentence, as the line mode writes it and the voice says it.
pub const PAUSED: &str = "暂停取号，请稍候或联系工作人员";

/// The keys a kiosk offers: the services' keys, and `0` for a ticket
/// without an ID card.
pub fn offered_keys(mut keys: Vec<(String, String)>) -> Vec<(String, String)> {
    keys.push(("0".into(), "无身份证取号".into()));
    keys
}

/// A ticket as the kiosk screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketShown {
    /// Its number.
    pub number: String,
    /// Its lane.
    pub lane: Lane,
    /// The service it is for, by name.
    pub service: String,
    /// People ahead.
    pub ahead: usize,
    /// The resident already had it: printed again.
    pub reprint: bool,
    /// Why it was not printed, in plain words, if it was not.
    pub print_problem: Option<String>,
    /// A word on the resident's booking (in their slot, or missed it).
    pub note: Option<String>,
}

/// What the kiosk has to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// A ticket was issued (or the open one printed again).
    Ticket {
        /// The ticket.
        ticket: TicketShown,
        /// The full sentence (for the line mode).
        sentence: String,
    },
    /// The resident must choose a service: `(key, name)`.
    Choose(Vec<(String, String)>),
    /// A message for the resident (a refusal, a read error).
    Message(String),
    /// The card reader is out of service: what is wrong, in plain words
    /// (`读卡器未连接`, `读卡器故障`).
    ReaderDown(String),
    /// The reader is back.
    ReaderUp,
    /// The printer, asked while the kiosk is idle, cannot print: why, in
    /// plain words (`打印机缺纸`).
    PrinterDown(String),
    /// The printer, asked while the kiosk is idle, prints again.
    PrinterUp,
    /// A kiosk machine's hall server does not answer: no tickets until it
    /// does.
    Paused,
    /// The hall server answers again.
    Resumed,
    /// What the kiosk knows of its hall changed (a kiosk machine got its
    /// hall server's settings): the hall's name and the keys offered.
    Hall {
        /// The hall's name.
        name: String,
        /// The keys offered, `0` included.
        keys: Vec<(String, String)>,
    },
}

impl Update {
    /// The line the kiosk writes without a screen.
    pub fn line(&self) -> String {
        match self {
            Update::Ticket { sentence, .. } => sentence.clone(),
            Update::Choose(keys) => format!(
                "请选择办理的业务：{}",
                keys.iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join("  ")
            ),
            Update::Message(m) => m.clone(),
            Update::ReaderDown(m) | Update::PrinterDown(m) => format!("{m}，请联系工作人员"),
            Update::ReaderUp => format!("读卡器已恢复，{SWIPE}"),
            Update::PrinterUp => "打印机已恢复".to_string(),
            Update::Paused => format!("{PAUSED_BIG}：大厅服务器无响应，{PAUSED_HOW}"),
            Update::Resumed => format!("已恢复取号，{SWIPE}"),
            Update::Hall { name, .. } => format!("{name} · 自助取号"),
        }
    }
}

/// What is on screen now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// Waiting for a resident.
    Swipe,
    /// Choosing a service.
    Choose(Vec<(String, String)>),
    /// A ticket.
    Ticket(TicketShown),
    /// A message.
    Message(String),
    /// No tickets: the hall server does not answer.
    Paused,
}

/// The paused view, for [`KioskScreen::view_at`].
static PAUSED_VIEW: View = View::Paused;

/// The kiosk screen's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskScreen {
    /// Hall name.
    pub hall: String,
    /// The service keys always offered (`(key, name)`), and `0` for a
    /// ticket without an ID card.
    pub keys: Vec<(String, String)>,
    /// What is shown.
    pub view: View,
    /// Until when (ms since the epoch) before the swipe prompt returns.
    pub until: Option<i64>,
    /// The reader's problem, in plain words.
    pub reader_problem: Option<String>,
    /// The printer's problem, in plain words (from the last print).
    pub printer_problem: Option<String>,
    /// The hall server does not answer: the paused view replaces the
    /// swipe prompt.
    pub paused: bool,
}

impl KioskScreen {
    /// A screen waiting for the first resident.
    pub fn new(hall: &str, keys: Vec<(String, String)>) -> KioskScreen {
        KioskScreen {
            hall: hall.to_string(),
            keys,
            view: View::Swipe,
            until: None,
            reader_problem: None,
            printer_problem: None,
            paused: false,
        }
    }

    /// Applies an update at `now_ms`.
    pub fn update(&mut self, u: &Update, now_ms: i64) {
        match u {
            Update::Ticket { ticket, .. } => {
                self.printer_problem = ticket.print_problem.clone();
                self.show(View::Ticket(ticket.clone()), now_ms);
            }
            Update::Choose(keys) => self.show(View::Choose(keys.clone()), now_ms),
            Update::Message(m) => self.show(View::Message(m.clone()), now_ms),
            Update::ReaderDown(m) => self.reader_problem = Some(m.clone()),
            Update::ReaderUp => self.reader_problem = None,
            Update::PrinterDown(m) => self.printer_problem = Some(m.clone()),
            Update::PrinterUp => self.printer_problem = None,
            Update::Paused => {
                self.paused = true;
                self.view = View::Swipe;
                self.until = None;
            }
            Update::Resumed => self.paused = false,
            Update::Hall { name, keys } => {
                self.hall = name.clone();
                self.keys = keys.clone();
            }
        }
    }

    fn show(&mut self, v: View, now_ms: i64) {
        self.view = v;
        self.until = Some(now_ms + SHOW_MS);
    }

    /// What is shown at `now_ms`: the swipe prompt once a ticket or a
    /// message has been up long enough.
    pub fn view_at(&self, now_ms: i64) -> &View {
        let view = match self.until {
            Some(u) if now_ms >= u => &View::Swipe,
            _ => &self.view,
        };
        match view {
            View::Swipe if self.paused => &PAUSED_VIEW,
            v => v,
        }
    }
}

/// Draws the kiosk screen. `clock` is shown as given.
pub fn render(s: &KioskScreen, clock: &str, now_ms: i64, area: Rect, buf: &mut Buffer) {
    let problems: Vec<&str> = [s.reader_problem.as_deref(), s.printer_problem.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let [title, alert, main, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(if problems.is_empty() { 0 } else { 1 }),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    Paragraph::new(Line::from(Span::styled(
        format!(" {} · 自助取号", s.hall),
        Style::new().add_modifier(Modifier::BOLD),
    )))
    .render(title, buf);
    Paragraph::new(format!("{clock} "))
        .alignment(Alignment::Right)
        .render(title, buf);
    if !problems.is_empty() {
        Paragraph::new(format!("⚠ {}，请联系工作人员", problems.join("，")))
            .style(
                Style::new()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
            )
            .alignment(Alignment::Center)
            .render(alert, buf);
    }
    let view = s.view_at(now_ms);
    // The swipe prompt takes the whole width (its large print needs every
    // column of an 80-column screen); the other views sit in a box.
    let inner = if matches!(view, View::Swipe | View::Paused) {
        main
    } else {
        let block = Block::new().borders(Borders::ALL);
        let inner = block.inner(main);
        block.render(main, buf);
        inner
    };
    match view {
        View::Swipe => draw_swipe(inner, buf),
        View::Paused => draw_paused(inner, buf),
        View::Choose(keys) => draw_choose(keys, inner, buf),
        View::Ticket(t) => draw_ticket(t, inner, buf),
        View::Message(m) => {
            let bold = Style::new().add_modifier(Modifier::BOLD);
            centered(vec![Line::from(Span::styled(m.clone(), bold))], inner, buf);
        }
    }
    let hint = s
        .keys
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join("   ");
    Paragraph::new(hint)
        .alignment(Alignment::Center)
        .style(Style::new().add_modifier(Modifier::DIM))
        .render(keys, buf);
}

/// The swipe prompt in the largest print that fits (drawn from bitmaps:
/// a terminal's own characters are one cell), then two lines that say how.
fn draw_swipe(area: Rect, buf: &mut Buffer) {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line<'_>> =
        match crate::bigtext::fit(SWIPE, area.width, area.height.saturating_sub(4)) {
            Some(scale) => crate::bigtext::render(SWIPE, scale)
                .into_iter()
                .map(|r| Line::from(Span::styled(r, bold)))
                .collect(),
            None => vec![Line::from(Span::styled(
                format!("  {}  ", spaced(SWIPE)),
                bold.fg(Color::Black).bg(Color::White),
            ))],
        };
    lines.extend([
        Line::from(""),
        Line::from(Span::styled("将身份证放在读卡区，取号后请取走身份证", bold)),
        Line::from(""),
        Line::from("低保、特困、低保边缘家庭刷身份证即可进入绿波通道"),
    ]);
    centered(lines, area, buf);
}

/// The paused view: no swipe prompt while no ticket can be issued.
fn draw_paused(area: Rect, buf: &mut Buffer) {
    let style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line<'_>> =
        match crate::bigtext::fit(PAUSED_BIG, area.width, area.height.saturating_sub(2)) {
            Some(scale) => crate::bigtext::render(PAUSED_BIG, scale)
                .into_iter()
                .map(|r| Line::from(Span::styled(r, style)))
                .collect(),
            None => vec![Line::from(Span::styled(spaced(PAUSED_BIG), style))],
        };
    lines.extend([
        Line::from(""),
        Line::from(Span::styled(
            PAUSED_HOW,
            Style::new().add_modifier(Modifier::BOLD),
        )),
    ]);
    centered(lines, area, buf);
}

fn draw_choose(keys: &[(String, String)], area: Rect, buf: &mut Buffer) {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut lines = vec![
        Line::from(Span::styled("请选择办理的业务", bold)),
        Line::from(""),
    ];
    for (k, n) in keys {
        lines.push(Line::from(vec![
            Span::styled(format!(" {k} "), bold.fg(Color::Black).bg(Color::White)),
            Span::styled(format!("  {n}"), bold),
        ]));
        lines.push(Line::from(""));
    }
    lines.push(Line::from("请按数字键"));
    centered(lines, area, buf);
}

fn draw_ticket(t: &TicketShown, area: Rect, buf: &mut Buffer) {
    let big = if area.height >= 20 && area.width >= 60 {
        (PixelSize::Full, 8)
    } else {
        (PixelSize::HalfHeight, 4)
    };
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let lane_style = match t.lane {
        Lane::Priority => bold.fg(Color::Green),
        Lane::Appointment | Lane::Normal => bold,
    };
    let [head, digits, tail] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(big.1 + 1),
        Constraint::Min(0),
    ])
    .areas(area);
    let label = match (t.reprint, t.print_problem.is_some(), t.lane) {
        (true, false, _) => "您已取号，已为您重新打印",
        (true, true, _) => "您已取号",
        (false, _, Lane::Priority) => "绿波通道 · 您的号码",
        (false, _, Lane::Appointment) => "预约 · 您的号码",
        (false, _, Lane::Normal) => "您的号码",
    };
    Paragraph::new(vec![
        Line::from(""),
        Line::from(Span::styled(label, lane_style)),
    ])
    .alignment(Alignment::Center)
    .render(head, buf);
    BigText::builder()
        .pixel_size(big.0)
        .style(lane_style)
        .lines(vec![Line::from(t.number.clone())])
        .centered()
        .build()
        .render(digits, buf);
    let mut lines = vec![
        Line::from(Span::styled(t.service.clone(), bold)),
        Line::from(Span::styled(format!("前面还有 {} 人", t.ahead), bold)),
        Line::from(""),
    ];
    if let Some(note) = &t.note {
        lines.insert(2, Line::from(Span::styled(note.clone(), bold)));
    }
    match &t.print_problem {
        None => lines.push(Line::from(Span::styled("请取票", bold))),
        Some(p) => lines.push(Line::from(Span::styled(
            format!("{p}，请记下号码 {} 或联系工作人员", t.number),
            bold.fg(Color::Red),
        ))),
    }
    Paragraph::new(lines)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true })
        .render(tail, buf);
}

/// Characters spaced out, for a prompt read from a distance.
fn spaced(s: &str) -> String {
    s.chars().map(String::from).collect::<Vec<_>>().join(" ")
}

fn centered(lines: Vec<Line<'_>>, area: Rect, buf: &mut Buffer) {
    let h = (lines.len() as u16).min(area.height);
    let y = area.y + area.height.saturating_sub(h) / 2;
    Paragraph::new(lines)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true })
        .render(Rect::new(area.x, y, area.width, h), buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_shows_for_a_while_then_the_prompt_returns() {
        let mut s = KioskScreen::new("h", vec![]);
        s.update(&Update::Message("不在名单".into()), 1_000);
        assert_eq!(s.view_at(2_000), &View::Message("不在名单".into()));
        assert_eq!(s.view_at(1_000 + SHOW_MS), &View::Swipe);
        s.update(&Update::ReaderDown("读卡器未连接".into()), 0);
        assert_eq!(s.reader_problem.as_deref(), Some("读卡器未连接"));
        s.update(&Update::ReaderUp, 0);
        assert_eq!(s.reader_problem, None);
    }

    #[test]
    fn a_paused_kiosk_never_invites_a_swipe() {
        let mut s = KioskScreen::new("h", vec![]);
        s.update(&Update::Paused, 1_000);
        assert_eq!(s.view_at(1_000), &View::Paused);
        assert_eq!(s.view_at(1_000 + 10 * SHOW_MS), &View::Paused);
        let mut buf = Buffer::empty(Rect::new(0, 0, 80, 24));
        render(&s, "09:00:00", 1_000, buf.area, &mut buf);
        // Cells after a wide character may hold a space: compare without.
        let text: String = buf
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect::<String>()
            .replace(' ', "");
        assert!(text.contains("请稍候或联系工作人员"), "{text}");
        assert!(!text.contains("将身份证放在读卡区"), "{text}");
        s.update(&Update::Resumed, 2_000);
        assert_eq!(s.view_at(2_000), &View::Swipe);
    }
}
