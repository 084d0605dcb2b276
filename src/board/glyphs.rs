//! Big print for the board's screens, drawn with [`crate::bigtext`]
//! (Unifont, Chinese included) into a ratatui buffer. A line is made of
//! pieces at their own scales but of one height, so that a ticket number
//! can be drawn larger than the words around it when only that fits.
//! Pure: text in, cells out.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::bigtext::{self, Scale};

/// The scales of a line of numbers and words, of one height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// For ticket and window numbers.
    pub digits: Scale,
    /// For the words around them (`号`, `到`, `号窗口`).
    pub words: Scale,
}

impl Sizes {
    /// Rows the line takes.
    pub fn rows(self) -> u16 {
        self.digits.rows()
    }

    /// Every pair at most `rows` high, largest first: the highest first;
    /// at one height, the widest numbers first, and with them the widest
    /// words, never wider than the numbers. Numbers go from square pixels
    /// down to half as wide, words likewise.
    pub fn largest_first(rows: u16) -> impl Iterator<Item = Sizes> {
        heights(rows).flat_map(|y| {
            let xs = widths(y);
            xs.clone().into_iter().flat_map(move |xd| {
                xs.clone()
                    .into_iter()
                    .filter(move |xw| *xw <= xd)
                    .map(move |xw| Sizes {
                        digits: Scale { x: xd, y },
                        words: Scale { x: xw, y },
                    })
            })
        })
    }

    /// The gap between words, in cells: a quarter of the line's height.
    pub fn gap(self) -> u16 {
        (self.rows() / 4).max(2)
    }
}

/// Pixel heights (half rows a pixel) of lines at most `rows` high,
/// highest first.
fn heights(rows: u16) -> impl Iterator<Item = u8> {
    (1..=(rows / 8).min(127) as u8).rev()
}

/// Pixel widths (half cells a pixel) at pixel height `y`, widest first:
/// square pixels, three quarters, half.
fn widths(y: u8) -> Vec<u8> {
    let mut xs = vec![y * 2, y + y.div_ceil(2), y];
    xs.dedup();
    xs
}

/// The largest scale at which `text` fits `cols` × `rows`: the highest,
/// and at that height the widest (down to half as wide as square).
pub fn fit(text: &str, cols: u16, rows: u16) -> Option<Scale> {
    heights(rows)
        .flat_map(|y| widths(y).into_iter().map(move |x| Scale { x, y }))
        .find(|s| width(text, *s) <= cols)
}

/// Cells `text` takes at `scale`.
pub fn width(text: &str, scale: Scale) -> u16 {
    u16::try_from(bigtext::width(text, scale)).unwrap_or(u16::MAX)
}

/// Draws `text` at `scale` with its top left corner at `(x, y)`, clipped
/// to `clip`; returns the cells it takes. Blank pixels are drawn too (as
/// spaces in `style`), so a background colour covers the whole text.
pub fn draw(
    buf: &mut Buffer,
    clip: Rect,
    (x, y): (u16, u16),
    text: &str,
    scale: Scale,
    style: Style,
) -> u16 {
    let clip = clip.intersection(buf.area);
    for (dy, row) in bigtext::render(text, scale).iter().enumerate() {
        let Some(py) = u16::try_from(dy).ok().and_then(|d| y.checked_add(d)) else {
            break;
        };
        for (dx, ch) in row.chars().enumerate() {
            let Some(px) = u16::try_from(dx).ok().and_then(|d| x.checked_add(d)) else {
                break;
            };
            if clip.contains((px, py).into()) {
                buf[(px, py)].set_char(ch).set_style(style);
            }
        }
    }
    width(text, scale)
}

/// Draws a line of pieces (text, scale, style) from `(x, y)`, one after
/// the other; returns the cells it takes.
pub fn draw_line(
    buf: &mut Buffer,
    clip: Rect,
    (x, y): (u16, u16),
    pieces: &[(&str, Scale, Style)],
) -> u16 {
    let mut at = x;
    for (text, scale, style) in pieces {
        at = at.saturating_add(draw(buf, clip, (at, y), text, *scale, *style));
    }
    at - x
}

/// Cells a line of pieces takes.
pub fn line_width(pieces: &[(&str, Scale, Style)]) -> u16 {
    pieces
        .iter()
        .map(|(t, s, _)| width(t, *s))
        .fold(0, u16::saturating_add)
}
