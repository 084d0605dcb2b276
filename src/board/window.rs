//! Drawing a window screen, `greenwave board --window N`: the small display
//! over one window (窗口屏, 80×8 and up). Pure, like [`super::render`].
//!
//! It shows the window (`3号窗口`); the ticket called to or served at it in
//! the largest digits that fit, green and marked `绿波通道` in the priority
//! lane, with `请到本窗口办理` or `正在办理`; and the next two tickets this
//! window would call ([`Board::next_for`]: the queue core's call policy
//! over the stream's state). With no ticket at the window it says
//! `暂停服务` if the window is paused, else `请稍候`; a paused window shows
//! no next tickets (it calls none). A window the hall does not have says
//! `未找到 N 号窗口`.
//!
//! Under 16 rows the number (or the message) takes the left and a column
//! of text the right. From 16 rows the parts are stacked, and the window's
//! name, the `绿波通道` tag and the next tickets are in big print too when
//! that leaves the number as large as it can be.

use super::glyphs;
use super::model::{Board, Call, Next};
use super::render::{flash_on, flash_style, lane_style, priority_tag, Frame};
use crate::bigtext::Scale;
use crate::queue::Lane;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// How many waiting tickets a window screen shows.
pub const NEXT: usize = 2;

/// Window screens of fewer rows put the text beside the number.
const STACKED_FROM: u16 = 16;

/// What the big print says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Main<'a> {
    /// The ticket at the window.
    Call(&'a Call),
    /// `请稍候`, `暂停服务`, `未找到 N 号窗口`, `连接中…`.
    Message(String),
}

/// Everything a window screen shows, whatever its size.
#[derive(Debug, Clone, PartialEq, Eq)]
struct View<'a> {
    /// `3号窗口` (none for a window the hall does not have: the message
    /// says it).
    label: Option<String>,
    main: Main<'a>,
    /// The next tickets, when the window calls any.
    next: Option<Vec<Next>>,
    /// A line under the message: what to check for an unknown window, or
    /// that a paused window stops after its ticket.
    hint: Option<&'static str>,
    connected: bool,
    flash: bool,
}

impl View<'_> {
    fn of<'a>(board: &'a Board, f: &Frame<'_>, window: u32) -> View<'a> {
        let mut v = View {
            label: Some(format!("{window}号窗口")),
            main: Main::Message("连接中…".into()),
            next: None,
            hint: None,
            // Before the first snapshot the message itself says it.
            connected: board.connected || !board.has_snapshot(),
            flash: flash_on(board, f, window),
        };
        if !board.has_snapshot() {
            return v;
        }
        let Some(w) = board.windows.get(&window) else {
            v.label = None;
            v.main = Main::Message(format!("未找到 {window} 号窗口"));
            v.hint = Some("请检查显示屏的 --window 设置");
            return v;
        };
        v.main = match board.at_window(window) {
            Some(c) => Main::Call(c),
            None if w.paused => Main::Message("暂停服务".into()),
            None => Main::Message("请稍候".into()),
        };
        if !w.paused {
            v.next = Some(board.next_for(window, f.now_ms, NEXT));
        } else if v.call().is_some() {
            v.hint = Some("此号办完后暂停服务");
        }
        v
    }

    /// The text of the big print and its style.
    fn main_text(&self) -> (&str, Style) {
        match &self.main {
            Main::Call(c) if self.flash => (c.number.as_str(), flash_style()),
            Main::Call(c) => (c.number.as_str(), lane_style(c.lane)),
            Main::Message(m) => (m.as_str(), Style::new().add_modifier(Modifier::BOLD)),
        }
    }

    fn call(&self) -> Option<&Call> {
        match self.main {
            Main::Call(c) => Some(c),
            Main::Message(_) => None,
        }
    }

    /// `请到本窗口办理` or `正在办理`, for a ticket at the window.
    fn status(&self) -> Option<&'static str> {
        self.call().map(|c| {
            if c.serving {
                "正在办理"
            } else {
                "请到本窗口办理"
            }
        })
    }

    fn priority(&self) -> bool {
        self.call().is_some_and(|c| c.lane == Lane::Priority)
    }
}

/// Draws the screen of window `window`.
pub fn render(board: &Board, f: &Frame<'_>, window: u32, area: Rect, buf: &mut Buffer) {
    let v = View::of(board, f, window);
    if area.height >= STACKED_FROM {
        stacked(&v, area, buf);
    } else {
        side_by_side(&v, area, buf);
    }
}

/// `连接中…`, in the colours of the hall board's banner.
fn connecting() -> Span<'static> {
    Span::styled(
        " 连接中… ",
        Style::new()
            .fg(Color::Black)
            .bg(Color::Yellow)
            .add_modifier(Modifier::BOLD),
    )
}

/// `下一位 GA013 A031` (priority tickets green), or `暂无等候`.
fn next_line(next: &[Next]) -> Line<'static> {
    if next.is_empty() {
        return Line::from("暂无等候");
    }
    let mut spans = vec![Span::raw("下一位")];
    for n in next {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(n.number.clone(), lane_style(n.lane)));
    }
    Line::from(spans)
}

/// The column of text beside the number on a small screen.
fn panel(v: &View<'_>) -> Vec<Line<'static>> {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line> = v
        .label
        .iter()
        .map(|l| Line::from(Span::styled(l.clone(), bold)))
        .collect();
    if !v.connected {
        lines.push(Line::from(connecting()));
    }
    if v.priority() {
        lines.push(Line::from(Span::styled(" 绿波通道 ", priority_tag())));
    }
    if let Some(s) = v.status() {
        lines.push(Line::from(s));
    }
    if let Some(h) = v.hint {
        lines.push(Line::from(h));
    }
    if let Some(next) = &v.next {
        lines.push(Line::from(""));
        lines.push(next_line(next));
    }
    lines
}

/// Under [`STACKED_FROM`] rows: the big print left, the text right.
fn side_by_side(v: &View<'_>, area: Rect, buf: &mut Buffer) {
    let mut lines = panel(v);
    let text_w = lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 2;
    let (text, style) = v.main_text();
    // The panel goes if the big print does not fit beside it.
    let beside = area.width.saturating_sub(text_w + 1);
    let (main, side) = match glyphs::fit(text, beside.saturating_sub(2), area.height) {
        Some(_) => (
            Rect::new(area.x, area.y, beside, area.height),
            Some(Rect::new(area.x + beside + 1, area.y, text_w, area.height)),
        ),
        None => (area, None),
    };
    match glyphs::fit(text, main.width.saturating_sub(2), main.height) {
        Some(scale) => draw_centred(buf, main, text, scale, style, v.flash),
        None => {
            // Not even the smallest big print fits: everything in text.
            let at = usize::from(v.label.is_some());
            lines.insert(at, Line::from(Span::styled(text.to_string(), style)));
            let top = area.height.saturating_sub(lines.len() as u16) / 2;
            Paragraph::new(lines).alignment(Alignment::Center).render(
                Rect::new(area.x, area.y + top, area.width, area.height - top),
                buf,
            );
            return;
        }
    }
    if let Some(side) = side {
        lines.truncate(usize::from(side.height));
        let top = side.height.saturating_sub(lines.len() as u16) / 2;
        Paragraph::new(lines).render(
            Rect::new(side.x, side.y + top, side.width, side.height - top),
            buf,
        );
    }
}

/// Draws `text` at `scale` in the middle of `area` (on a flash's
/// background if `flash`).
fn draw_centred(buf: &mut Buffer, area: Rect, text: &str, scale: Scale, style: Style, flash: bool) {
    if flash {
        buf.set_style(area, flash_style());
    }
    let x = area.x + area.width.saturating_sub(glyphs::width(text, scale)) / 2;
    let y = area.y + area.height.saturating_sub(scale.rows()) / 2;
    glyphs::draw(buf, area, (x, y), text, scale, style);
}

/// One band of the stacked layout: a line of text, or big print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Band {
    Text,
    Big(Scale),
}

impl Band {
    fn rows(self) -> u16 {
        match self {
            Band::Text => 1,
            Band::Big(s) => s.rows(),
        }
    }
}

/// The bands of the stacked layout, top to bottom, and the big print's
/// scale in the middle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stack {
    label: Option<Band>,
    /// `绿波通道` in big print (a priority ticket, when it fits).
    tag: Option<Scale>,
    next: Option<Band>,
    main: Option<Scale>,
}

impl Stack {
    /// The bands with the label, tag and next tickets in big print (`big`)
    /// or in text, and the largest main print that leaves room for them.
    fn plan(v: &View<'_>, area: Rect, big: bool) -> Stack {
        let room = area.width.saturating_sub(2);
        let small = |text: &str| glyphs::fit(text, room, (area.height / 6).max(8));
        let band = |text: &str| match small(text).filter(|_| big) {
            Some(s) => Band::Big(s),
            None => Band::Text,
        };
        let tag = small("绿波通道").filter(|_| big && v.priority());
        let next = v.next.as_ref().map(|n| band(&next_text(n)));
        let label = v.label.as_deref().map(band);
        let mut used = label.map_or(0, |l| l.rows() + 1) + tag.map_or(0, |s| s.rows() + 1);
        used += u16::from(v.status().is_some() || v.hint.is_some()) + 1;
        used += next.map_or(0, |n| n.rows() + 1);
        let main = glyphs::fit(v.main_text().0, room, area.height.saturating_sub(used));
        Stack {
            label,
            tag,
            next,
            main,
        }
    }
}

/// The next tickets as one string, for big print.
fn next_text(next: &[Next]) -> String {
    let line = next_line(next);
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

/// How large a main print is: its rows, then its width for the same text.
fn size_key(s: Option<Scale>, text: &str) -> (u16, u16) {
    s.map_or((0, 0), |s| (s.rows(), glyphs::width(text, s)))
}

/// From [`STACKED_FROM`] rows: the window, the tag and status, the big
/// print, the next tickets, top to bottom.
fn stacked(v: &View<'_>, area: Rect, buf: &mut Buffer) {
    let (text, style) = v.main_text();
    let big = Stack::plan(v, area, true);
    let plain = Stack::plan(v, area, false);
    let s = if size_key(big.main, text) >= size_key(plain.main, text) {
        big
    } else {
        plain
    };
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut y = area.y;
    if let (Some(band), Some(label)) = (s.label, &v.label) {
        y += draw_band(buf, area, y, band, &[(label, bold)]) + 1;
    }
    if let Some(scale) = s.tag {
        y += draw_band(
            buf,
            area,
            y,
            Band::Big(scale),
            &[("绿波通道", lane_style(Lane::Priority))],
        ) + 1;
    }
    let mut status: Vec<Span> = Vec::new();
    if v.priority() && s.tag.is_none() {
        status.push(Span::styled(" 绿波通道 ", priority_tag()));
        status.push(Span::raw(" "));
    }
    let words: Vec<&str> = v.status().into_iter().chain(v.hint).collect();
    if !words.is_empty() {
        status.push(Span::raw(words.join("　")));
    }
    if !status.is_empty() {
        Paragraph::new(Line::from(status))
            .alignment(Alignment::Center)
            .render(Rect::new(area.x, y, area.width, 1).intersection(area), buf);
        y += 2;
    }
    let mut bottom = area.bottom();
    if let (Some(band), Some(next)) = (s.next, &v.next) {
        bottom -= band.rows();
        let pieces: Vec<(String, Style)> = next_pieces(next);
        let refs: Vec<(&str, Style)> = pieces.iter().map(|(t, s)| (t.as_str(), *s)).collect();
        draw_band(buf, area, bottom, band, &refs);
        bottom = bottom.saturating_sub(1);
    }
    let main = Rect::new(area.x, y, area.width, bottom.saturating_sub(y)).intersection(area);
    match s.main {
        Some(scale) => draw_centred(buf, main, text, scale, style, v.flash),
        None => Paragraph::new(Span::styled(text.to_string(), style))
            .alignment(Alignment::Center)
            .render(super::render::centered_row(main), buf),
    }
    if !v.connected {
        let w = connecting().width() as u16;
        let at = Rect::new(area.right().saturating_sub(w + 1), area.y, w, 1).intersection(area);
        Paragraph::new(connecting()).render(at, buf);
    }
}

/// The next tickets as pieces of text and style.
fn next_pieces(next: &[Next]) -> Vec<(String, Style)> {
    next_line(next)
        .spans
        .into_iter()
        .map(|s| (s.content.into_owned(), s.style))
        .collect()
}

/// Draws a band centred at row `y`: pieces of text in one line, or in big
/// print; returns its rows.
fn draw_band(buf: &mut Buffer, area: Rect, y: u16, band: Band, pieces: &[(&str, Style)]) -> u16 {
    match band {
        Band::Text => {
            let line = Line::from(
                pieces
                    .iter()
                    .map(|(t, s)| Span::styled(t.to_string(), *s))
                    .collect::<Vec<_>>(),
            );
            Paragraph::new(line)
                .alignment(Alignment::Center)
                .render(Rect::new(area.x, y, area.width, 1).intersection(area), buf);
        }
        Band::Big(scale) => {
            let big: Vec<(&str, Scale, Style)> =
                pieces.iter().map(|(t, s)| (*t, scale, *s)).collect();
            let w = glyphs::line_width(&big);
            let x = area.x + area.width.saturating_sub(w) / 2;
            glyphs::draw_line(buf, area, (x, y), &big);
        }
    }
    band.rows()
}
