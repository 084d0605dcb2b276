//! Drawing the hall display into a ratatui buffer. Pure: the board's
//! state, the clock text and the time come in, cells come out, so the
//! layout is tested with ratatui's `TestBackend` at every size.
//!
//! Layout, top to bottom: the title (hall, `连接中…` while the stream is
//! down, the clock); the current call in large digits with its window and
//! the same sentence in plain text; the last calls beside the waiting
//! counts per service (the priority lane in green, `绿波通道`); the notice
//! line, scrolling when it is wider than the screen. Chinese text is laid
//! out by display width (CJK characters take two cells): ratatui never
//! splits a wide character, and the columns here are sized in cells.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Widget};
use tui_big_text::{BigText, PixelSize};
use unicode_width::UnicodeWidthChar;

use super::model::{Board, Call};
use crate::queue::Lane;

/// The green of the priority lane.
pub const GREEN: Color = Color::Green;

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

/// The sentence of a call, as shown under the large digits and as voiced.
pub fn call_sentence(c: &Call) -> String {
    format!("请 {} 号 到 {} 号窗口办理", c.number, c.window)
}

fn lane_style(lane: Lane) -> Style {
    match lane {
        Lane::Priority => Style::new().fg(GREEN).add_modifier(Modifier::BOLD),
        Lane::Normal => Style::new().add_modifier(Modifier::BOLD),
    }
}

/// Glyph size of the large digits for a screen: full 8×8 cells per digit
/// on big screens, half height on ordinary ones, quadrants on tiny ones.
fn pixel_size(area: Rect) -> (PixelSize, u16, u16) {
    if area.height >= 36 && area.width >= 100 {
        (PixelSize::Full, 8, 8)
    } else if area.height >= 20 && area.width >= 70 {
        (PixelSize::HalfHeight, 4, 8)
    } else {
        (PixelSize::Quadrant, 4, 4)
    }
}

/// Draws the whole board.
pub fn render(board: &Board, f: &Frame<'_>, area: Rect, buf: &mut Buffer) {
    let (size, glyph_h, glyph_w) = pixel_size(area);
    let call_h = glyph_h + 4;
    let [title, call, lower, notice] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(call_h),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    render_title(board, f, title, buf);
    render_call(board, f, (size, glyph_h, glyph_w), call, buf);
    let [recent, counts] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(lower);
    render_recent(board, recent, buf);
    render_counts(board, counts, buf);
    render_notice(board, f, notice, buf);
}

fn render_title(board: &Board, f: &Frame<'_>, area: Rect, buf: &mut Buffer) {
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

fn render_call(
    board: &Board,
    f: &Frame<'_>,
    (size, glyph_h, glyph_w): (PixelSize, u16, u16),
    area: Rect,
    buf: &mut Buffer,
) {
    let flashing = board.flashing(f.now_ms) && (f.now_ms / 500) % 2 == 0;
    let mut block = Block::new().borders(Borders::ALL).title(" 正在呼叫 ");
    if flashing {
        block = block.style(Style::new().fg(Color::Black).bg(Color::Yellow));
    }
    let inner = block.inner(area);
    block.render(area, buf);
    let Some(c) = board.calls.front() else {
        Paragraph::new("请留意叫号")
            .alignment(Alignment::Center)
            .render(centered_row(inner), buf);
        return;
    };
    let [tag, digits, sentence] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(glyph_h),
        Constraint::Min(1),
    ])
    .areas(inner);
    if c.lane == Lane::Priority {
        Paragraph::new(Line::from(Span::styled(
            " 绿波通道 ",
            Style::new()
                .fg(Color::Black)
                .bg(GREEN)
                .add_modifier(Modifier::BOLD),
        )))
        .alignment(Alignment::Center)
        .render(tag, buf);
    }
    // Number, "号 到", window, "号窗口": centred as one group.
    let window = c.window.to_string();
    let num_w = glyph_w * c.number.chars().count() as u16;
    let win_w = glyph_w * window.chars().count() as u16;
    let parts = [num_w, 6, win_w, 8];
    let total: u16 = parts.iter().sum();
    let x0 = digits.x + digits.width.saturating_sub(total) / 2;
    let style = if flashing {
        Style::new().fg(Color::Black).bg(Color::Yellow)
    } else {
        lane_style(c.lane)
    };
    let mut x = x0;
    let mut place = |w: u16| {
        let r = Rect::new(x, digits.y, w, digits.height).intersection(digits);
        x = x.saturating_add(w);
        r
    };
    let num_area = place(num_w);
    let label_a = place(6);
    let win_area = place(win_w);
    let label_b = place(8);
    BigText::builder()
        .pixel_size(size)
        .style(style)
        .lines(vec![Line::from(c.number.clone())])
        .build()
        .render(num_area, buf);
    let mid = |r: Rect| {
        Rect::new(
            r.x,
            r.y + r.height.saturating_sub(1) / 2,
            r.width,
            1.min(r.height),
        )
    };
    Paragraph::new(" 号 到")
        .style(style)
        .render(mid(label_a).intersection(digits), buf);
    BigText::builder()
        .pixel_size(size)
        .style(style)
        .lines(vec![Line::from(window)])
        .build()
        .render(win_area, buf);
    Paragraph::new(" 号窗口")
        .style(style)
        .render(mid(label_b).intersection(digits), buf);
    Paragraph::new(Line::from(Span::styled(call_sentence(c), style)))
        .alignment(Alignment::Center)
        .render(centered_row(sentence), buf);
}

fn centered_row(area: Rect) -> Rect {
    Rect::new(
        area.x,
        area.y + area.height.saturating_sub(1) / 2,
        area.width,
        1.min(area.height),
    )
}

fn render_recent(board: &Board, area: Rect, buf: &mut Buffer) {
    let block = Block::new().borders(Borders::ALL).title(" 最近呼叫 ");
    let rows: Vec<Row> = board
        .calls
        .iter()
        .skip(1)
        .map(|c| {
            let style = lane_style(c.lane);
            let lane = match c.lane {
                Lane::Priority => "绿波",
                Lane::Normal => "",
            };
            Row::new(vec![
                Cell::from(c.number.clone()).style(style),
                Cell::from(format!("{} 号窗口", c.window)),
                Cell::from(c.service_name.clone()),
                Cell::from(lane).style(Style::new().fg(GREEN)),
            ])
        })
        .collect();
    Table::new(
        rows,
        [
            Constraint::Length(7),
            Constraint::Length(10),
            Constraint::Min(8),
            Constraint::Length(4),
        ],
    )
    .header(Row::new(["号码", "窗口", "业务", ""]).style(Style::new().add_modifier(Modifier::DIM)))
    .block(block)
    .render(area, buf);
}

fn render_counts(board: &Board, area: Rect, buf: &mut Buffer) {
    let block = Block::new().borders(Borders::ALL).title(" 等候人数 ");
    let rows: Vec<Row> = board
        .services
        .iter()
        .map(|s| {
            Row::new(vec![
                Cell::from(s.name.clone()),
                Cell::from(format!("{:>4}", s.priority)).style(Style::new().fg(GREEN)),
                Cell::from(format!("{:>4}", s.normal)),
            ])
        })
        .collect();
    Table::new(
        rows,
        [
            Constraint::Min(8),
            Constraint::Length(8),
            Constraint::Length(6),
        ],
    )
    .header(Row::new(vec![
        Cell::from("业务"),
        Cell::from("绿波通道").style(Style::new().fg(GREEN).add_modifier(Modifier::BOLD)),
        Cell::from("普通"),
    ]))
    .block(block)
    .render(area, buf);
}

fn render_notice(board: &Board, f: &Frame<'_>, area: Rect, buf: &mut Buffer) {
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
