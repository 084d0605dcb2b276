//! Drawing the hall board into a ratatui buffer. Pure: the board's state,
//! the clock text and the time come in, cells come out, so the layout is
//! tested with ratatui's `TestBackend` at every size.
//!
//! Layout, top to bottom: the title (hall, `连接中…` while the stream is
//! down, the clock); the newest call as a sentence (`正在呼叫　请 GA012 号
//! 到 3 号窗口办理`); the table of calls in big print, one row per window
//! with a ticket at it, `GA012号 到 3号窗口`, words and numbers alike
//! drawn from Unifont (src/bigtext.rs) at the largest scale that still
//! shows three rows, the most recent call first (it is the one the hall
//! just heard, and a recall brings a call back to the top and flashes
//! it); priority calls green and marked `绿波通道`; the calls that do not
//! fit, in one line under the table; the waiting counts per service; the
//! notice line, scrolling when it is wider than the screen. Chinese text
//! is laid out by display width (CJK characters take two cells): ratatui
//! never splits a wide character, and the columns here are sized in cells.
//! The window screens (`--window N`) are drawn by [`super::window`].

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::glyphs::{self, Sizes};
use super::model::{Board, Call};
use crate::queue::Lane;

/// The green of the priority lane.
pub const GREEN: Color = Color::Green;

/// How many rows of calls the board keeps large before it shrinks them to
/// show more: three, the calls a hall has heard in the last minutes.
pub const WANT_ROWS: usize = 3;

/// What changes from frame to frame besides the board.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// The clock as shown (`09:30:15`).
    pub clock: &'a str,
    /// Now, ms since the epoch (recall flashing).
    pub now_ms: i64,
    /// How far the notice has scrolled, in characters.
    pub scroll: usize,
}

/// The sentence of a call, as shown over the big print and as voiced.
pub fn call_sentence(c: &Call) -> String {
    format!("请 {} 号 到 {} 号窗口办理", c.number, c.window)
}

/// The style of a lane's numbers: bold, and green for the priority lane.
pub fn lane_style(lane: Lane) -> Style {
    match lane {
        Lane::Priority => Style::new().fg(GREEN).add_modifier(Modifier::BOLD),
        Lane::Appointment | Lane::Normal => Style::new().add_modifier(Modifier::BOLD),
    }
}

/// The style of a recall's flash (its bright phase).
pub fn flash_style() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

/// Whether the call at `window` is in the bright phase of its flash.
pub fn flash_on(board: &Board, f: &Frame<'_>, window: u32) -> bool {
    board.flashing_window(f.now_ms) == Some(window) && (f.now_ms / 500) % 2 == 0
}

/// The `绿波通道` tag: black on green.
pub fn priority_tag() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(GREEN)
        .add_modifier(Modifier::BOLD)
}

/// Draws the whole hall board.
pub fn render(board: &Board, f: &Frame<'_>, area: Rect, buf: &mut Buffer) {
    let counts = count_lines(board, area.width.saturating_sub(2));
    let counts_h = if area.height >= 16 && !counts.is_empty() {
        counts.len() as u16 + 2
    } else {
        0
    };
    let [title, caption, calls, counts_area, notice] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(counts_h),
        Constraint::Length(1),
    ])
    .areas(area);
    render_title(board, f, title, buf);
    render_caption(board, f, caption, buf);
    render_calls(board, f, calls, buf);
    if counts_h > 0 {
        let block = Block::new().borders(Borders::ALL).title(" 等候人数 ");
        let inner = block.inner(counts_area);
        block.render(counts_area, buf);
        Paragraph::new(counts).render(inner, buf);
    }
    render_notice(board, f, notice, buf);
}

/// The title row: the hall, `连接中…` while the stream is down, the clock.
pub fn render_title(board: &Board, f: &Frame<'_>, area: Rect, buf: &mut Buffer) {
    let hall = if board.hall.is_empty() {
        "叫号显示屏"
    } else {
        board.hall.as_str()
    };
    Paragraph::new(Line::from(Span::styled(
        format!(" {hall}"),
        Style::new().add_modifier(Modifier::BOLD),
    )))
    .render(area, buf);
    if !board.connected {
        Paragraph::new(Line::from(Span::styled(
            " 连接中… ",
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        )))
        .alignment(Alignment::Center)
        .render(area, buf);
    }
    Paragraph::new(format!("{} ", f.clock))
        .alignment(Alignment::Right)
        .render(area, buf);
}

/// The newest call as a sentence, for whoever reads better in small
/// print (and the same words the voice says).
fn render_caption(board: &Board, f: &Frame<'_>, area: Rect, buf: &mut Buffer) {
    let line = match board.calls.front() {
        Some(c) => {
            let style = if flash_on(board, f, c.window) {
                flash_style()
            } else {
                lane_style(c.lane)
            };
            let mut spans = vec![Span::raw("正在呼叫　")];
            if c.lane == Lane::Priority {
                spans.push(Span::styled(" 绿波通道 ", priority_tag()));
                spans.push(Span::raw(" "));
            }
            spans.push(Span::styled(call_sentence(c), style));
            Line::from(spans)
        }
        None => Line::from("请留意叫号"),
    };
    Paragraph::new(line)
        .alignment(Alignment::Center)
        .render(area, buf);
}

/// How the calls are drawn in an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Table {
    sizes: Sizes,
    /// Rows shown.
    rows: usize,
    /// Width of the number column (`GA012号`), of the window column
    /// (`3号窗口`), and whether there is a tag column.
    number_w: u16,
    window_w: u16,
    tags: bool,
}

impl Table {
    const TAG_W: u16 = 4;

    fn width(&self) -> u16 {
        let gap = self.sizes.gap();
        let tag = if self.tags { Self::TAG_W + gap } else { 0 };
        tag + self.number_w + gap + glyphs::width("到", self.sizes.words) + gap + self.window_w
    }

    /// The table of `calls` at `sizes` in `area`, if at least one row fits.
    fn fit(calls: &[&Call], sizes: Sizes, area: Rect) -> Option<Table> {
        let h = sizes.rows() + 1;
        let mut rows = usize::from((area.height + 1) / h);
        if rows < calls.len() {
            // Keep a line for the calls that do not fit.
            rows = usize::from(area.height / h);
        }
        let rows = rows.min(calls.len());
        if rows == 0 {
            return None;
        }
        let shown = &calls[..rows];
        let widest = |f: &dyn Fn(&Call) -> u16| shown.iter().map(|c| f(c)).max().unwrap_or(0);
        let t = Table {
            sizes,
            rows,
            number_w: widest(&|c| {
                glyphs::width(&c.number, sizes.digits) + glyphs::width("号", sizes.words)
            }),
            window_w: widest(&|c| {
                glyphs::width(&c.window.to_string(), sizes.digits)
                    + glyphs::width("号窗口", sizes.words)
            }),
            tags: shown.iter().any(|c| c.lane == Lane::Priority),
        };
        (t.width() <= area.width).then_some(t)
    }

    /// The largest table that shows [`WANT_ROWS`] rows (or every call if
    /// fewer); failing that, the one with the most rows.
    fn choose(calls: &[&Call], area: Rect) -> Option<Table> {
        let want = calls.len().min(WANT_ROWS);
        let tables: Vec<Table> = Sizes::largest_first(area.height)
            .filter_map(|s| Table::fit(calls, s, area))
            .collect();
        tables
            .iter()
            .find(|t| t.rows >= want)
            .or_else(|| tables.iter().max_by_key(|t| t.rows))
            .copied()
    }
}

/// The calls: big print if it fits, else one line each.
fn render_calls(board: &Board, f: &Frame<'_>, area: Rect, buf: &mut Buffer) {
    let calls: Vec<&Call> = board.calls.iter().collect();
    if calls.is_empty() {
        render_idle(area, buf);
        return;
    }
    let Some(t) = Table::choose(&calls, area) else {
        render_plain(&calls, area, buf);
        return;
    };
    let h = t.sizes.rows();
    let height = t.rows as u16 * (h + 1) - 1;
    let x0 = area.x + (area.width - t.width()) / 2;
    let y0 = area.y + area.height.saturating_sub(height + 1) / 2;
    for (i, c) in calls.iter().take(t.rows).enumerate() {
        let row = Rect::new(area.x, y0 + i as u16 * (h + 1), area.width, h).intersection(area);
        render_row(board, f, c, &t, (x0, row), buf);
    }
    let rest = &calls[t.rows..];
    if !rest.is_empty() {
        let y = (y0 + height + 1).min(area.bottom().saturating_sub(1));
        let line = Rect::new(area.x, y, area.width, 1).intersection(area);
        Paragraph::new(others(rest, line.width))
            .alignment(Alignment::Center)
            .render(line, buf);
    }
}

/// One row of the table: `[绿波/通道] GA012号 到 3号窗口`.
fn render_row(
    board: &Board,
    f: &Frame<'_>,
    c: &Call,
    t: &Table,
    (x0, row): (u16, Rect),
    buf: &mut Buffer,
) {
    let (s, gap) = (t.sizes, t.sizes.gap());
    let style = if flash_on(board, f, c.window) {
        buf.set_style(row, flash_style());
        flash_style()
    } else {
        lane_style(c.lane)
    };
    let mut x = x0;
    if t.tags {
        if c.lane == Lane::Priority {
            let mid = row.y + row.height.saturating_sub(2) / 2;
            buf.set_string(x, mid, "绿波", priority_tag());
            buf.set_string(x, mid + 1, "通道", priority_tag());
        }
        x += Table::TAG_W + gap;
    }
    let number_w = glyphs::line_width(&[(&c.number, s.digits, style), ("号", s.words, style)]);
    glyphs::draw_line(
        buf,
        row,
        (x + t.number_w - number_w, row.y),
        &[(&c.number, s.digits, style), ("号", s.words, style)],
    );
    x += t.number_w + gap;
    x += glyphs::draw(buf, row, (x, row.y), "到", s.words, style) + gap;
    glyphs::draw_line(
        buf,
        row,
        (x, row.y),
        &[
            (&c.window.to_string(), s.digits, style),
            ("号窗口", s.words, style),
        ],
    );
}

/// No call yet: `请留意叫号`, as large as it fits.
fn render_idle(area: Rect, buf: &mut Buffer) {
    const TEXT: &str = "请留意叫号";
    match glyphs::fit(TEXT, area.width, area.height) {
        Some(scale) => {
            let w = glyphs::width(TEXT, scale);
            let x = area.x + (area.width - w) / 2;
            let y = area.y + (area.height - scale.rows()) / 2;
            glyphs::draw(buf, area, (x, y), TEXT, scale, Style::new());
        }
        None => Paragraph::new(TEXT)
            .alignment(Alignment::Center)
            .render(centered_row(area), buf),
    }
}

/// A screen too small for big print: one line a call.
fn render_plain(calls: &[&Call], area: Rect, buf: &mut Buffer) {
    let lines: Vec<Line> = calls
        .iter()
        .take(usize::from(area.height))
        .map(|c| {
            let mut spans = Vec::new();
            if c.lane == Lane::Priority {
                spans.push(Span::styled("绿波", priority_tag()));
                spans.push(Span::raw(" "));
            }
            spans.push(Span::styled(
                format!("{} 号 → {} 号窗口", c.number, c.window),
                lane_style(c.lane),
            ));
            Line::from(spans)
        })
        .collect();
    Paragraph::new(lines)
        .alignment(Alignment::Center)
        .render(area, buf);
}

/// The calls that did not fit, in one line as far as it goes (whole
/// calls only).
fn others(rest: &[&Call], width: u16) -> Line<'static> {
    let mut spans = vec![Span::styled(
        "其他窗口：",
        Style::new().add_modifier(Modifier::DIM),
    )];
    let mut used = spans[0].content.width();
    for (i, c) in rest.iter().enumerate() {
        let text = format!(
            "{}{} → {} 号窗口",
            if i > 0 { "　" } else { "" },
            c.number,
            c.window
        );
        if used + text.width() > usize::from(width) {
            break;
        }
        used += text.width();
        spans.push(Span::styled(text, lane_style(c.lane)));
    }
    Line::from(spans)
}

/// The waiting counts, one chip per service (`民政救助 绿波通道 1 普通 2`,
/// with `预约 3` while appointment tickets wait), as many to a line as fit
/// `width`.
fn count_lines(board: &Board, width: u16) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = Vec::new();
    let mut line: Vec<Span> = Vec::new();
    let mut used = 0usize;
    for s in &board.services {
        let mut chip = vec![
            Span::styled(s.name.clone(), Style::new().add_modifier(Modifier::BOLD)),
            Span::styled(" 绿波通道 ", Style::new().fg(GREEN)),
            Span::styled(
                s.priority.to_string(),
                Style::new().fg(GREEN).add_modifier(Modifier::BOLD),
            ),
        ];
        if s.appointment > 0 {
            chip.push(Span::raw(" 预约 "));
            chip.push(Span::styled(
                s.appointment.to_string(),
                Style::new().add_modifier(Modifier::BOLD),
            ));
        }
        chip.push(Span::raw(" 普通 "));
        chip.push(Span::styled(
            s.normal.to_string(),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        let w: usize = chip.iter().map(|s| s.content.width()).sum();
        let sep = if line.is_empty() { " " } else { "　│ " };
        if !line.is_empty() && used + sep.width() + w > usize::from(width) {
            lines.push(Line::from(std::mem::take(&mut line)));
            used = 0;
        }
        let sep = if line.is_empty() { " " } else { "　│ " };
        used += sep.width() + w;
        line.push(Span::raw(sep));
        line.extend(chip);
    }
    if !line.is_empty() {
        lines.push(Line::from(line));
    }
    lines
}

/// The middle row of `area`.
pub fn centered_row(area: Rect) -> Rect {
    Rect::new(
        area.x,
        area.y + area.height.saturating_sub(1) / 2,
        area.width,
        1.min(area.height),
    )
}

pub fn render_notice(board: &Board, f: &Frame<'_>, area: Rect, buf: &mut Buffer) {
    let Some(notice) = &board.notice else { return };
    let line = marquee(notice, area.width as usize, f.scroll);
    Paragraph::new(line)
        .alignment(Alignment::Center)
        .style(Style::new().add_modifier(Modifier::BOLD))
        .render(area, buf);
}

/// The part of `text` shown in `width` cells after scrolling `scroll`
/// characters: the whole text when it fits, otherwise a window over the
/// text repeated with a gap, never ending in half a wide character.
pub fn marquee(text: &str, width: usize, scroll: usize) -> String {
    let w = |c: char| c.width().unwrap_or(0);
    let total: usize = text.chars().map(w).sum();
    if total <= width {
        return text.to_string();
    }
    let ring: Vec<char> = text.chars().chain("　　　".chars()).collect();
    let mut out = String::new();
    let mut used = 0;
    for c in ring.iter().cycle().skip(scroll % ring.len()) {
        if used + w(*c) > width {
            break;
        }
        used += w(*c);
        out.push(*c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marquee_never_cuts_a_wide_character() {
        assert_eq!(marquee("热线 12345", 20, 3), "热线 12345");
        let m = marquee("政策咨询热线 12345", 9, 0);
        assert_eq!(m, "政策咨询");
        let m = marquee("政策咨询热线 12345", 9, 1);
        assert_eq!(m, "策咨询热");
        // Scrolls round through the gap and starts again.
        let len = "政策咨询热线 12345".chars().count() + 3;
        assert_eq!(marquee("政策咨询热线 12345", 9, len), "政策咨询");
    }
}
