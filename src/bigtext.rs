//! Large print on a terminal, Chinese included: a text drawn from bitmaps
//! with block characters, at the largest [`Scale`] that fits. Chinese
//! (and everything else) comes from GNU Unifont (16×16 pixels a Chinese
//! character; the `unifont` crate); ASCII letters and digits come from the
//! bold font8x8 font doubled in height (8×16 pixels), because Unifont's
//! are thin strokes in the middle of the cell, smaller than the Chinese
//! beside them: a ticket number must be the boldest thing on a board.
//! The kiosk's swipe prompt and the boards' calls are read from a distance
//! by people who may not see well: one-cell characters are not enough.
//! Pure: text in, rows of text out.

use font8x8::UnicodeFonts;

/// How many terminal cells a glyph's pixel takes, in half cells across
/// and half rows down. Every cell is drawn with quadrant block characters
/// (2×2 sub-cells), so any such scale can be drawn: a terminal cell is
/// about twice as high as it is wide, so `x == 2 * y` keeps a glyph's
/// proportions and a smaller `x` draws it narrower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scale {
    /// Half cells across per pixel (at least 1).
    pub x: u8,
    /// Half rows down per pixel (at least 1).
    pub y: u8,
}

impl Scale {
    /// Two by two pixels a cell (quadrant blocks): a Chinese character is
    /// 8 cells wide and 8 rows high.
    pub const QUADRANT: Scale = Scale { x: 1, y: 1 };
    /// One by two pixels a cell (half blocks): 16 cells wide, 8 rows high.
    pub const HALF: Scale = Scale { x: 2, y: 1 };
    /// One pixel a cell: 16 cells wide, 16 rows high.
    pub const FULL: Scale = Scale { x: 2, y: 2 };
    /// Each pixel two cells wide and one row high: 32 cells wide, 16 rows
    /// high (for a wall-sized board).
    pub const DOUBLE: Scale = Scale { x: 4, y: 2 };

    /// Square pixels `k` cells wide and `k` half rows high: a Chinese
    /// character is `16k` cells wide and `8k` rows high.
    pub fn square(k: u8) -> Scale {
        Scale {
            x: k.saturating_mul(2),
            y: k,
        }
    }

    /// The kiosk's scales at most `rows` high, largest first: the squares
    /// from the highest that fits down to [`Scale::DOUBLE`], then
    /// [`Scale::FULL`], [`Scale::HALF`], [`Scale::QUADRANT`].
    pub fn largest_first(rows: u16) -> impl Iterator<Item = Scale> {
        let top = (rows / 8).min(127) as u8;
        (3..=top)
            .rev()
            .map(Scale::square)
            .chain([Scale::DOUBLE, Scale::FULL, Scale::HALF, Scale::QUADRANT])
            .filter(move |s| s.rows() <= rows)
    }

    /// Rows a line of text takes.
    pub fn rows(self) -> u16 {
        8 * u16::from(self.y.max(1))
    }
}

/// The bold Latin glyph of `c`: font8x8's, for ASCII letters and digits.
fn latin(c: char) -> Option<[u8; 8]> {
    c.is_ascii_alphanumeric()
        .then(|| font8x8::BASIC_FONTS.get(c))
        .flatten()
}

/// A glyph's width in pixels (16 for Chinese, 8 for Latin and digits; a
/// space of 8 for a character Unifont lacks).
fn glyph_width(c: char) -> usize {
    if latin(c).is_some() {
        return 8;
    }
    unifont::get_glyph(c).map_or(8, |g| g.get_width())
}

/// Pixel `(x, y)` of `c`'s 16-pixel-high glyph. font8x8's rows are
/// doubled and start one pixel down, level with Unifont's Chinese.
fn pixel(c: char, x: usize, y: usize) -> bool {
    if let Some(rows) = latin(c) {
        let row = y.checked_sub(1).map(|y| y / 2);
        return x < 8 && row.is_some_and(|r| r < 8 && (rows[r] >> x) & 1 == 1);
    }
    unifont::get_glyph(c).is_some_and(|g| x < g.get_width() && y < 16 && g.get_pixel(x, y))
}

/// Cells a text takes at `scale`.
pub fn width(text: &str, scale: Scale) -> usize {
    let px: usize = text.chars().map(glyph_width).sum();
    (px * usize::from(scale.x.max(1))).div_ceil(2)
}

/// The largest of [`Scale::largest_first`] at which `text` fits `cols` ×
/// `rows`, if any.
pub fn fit(text: &str, cols: u16, rows: u16) -> Option<Scale> {
    Scale::largest_first(rows).find(|s| width(text, *s) <= usize::from(cols))
}

/// `text` drawn at `scale`: [`Scale::rows`] strings of block characters,
/// each [`width`] cells wide.
pub fn render(text: &str, scale: Scale) -> Vec<String> {
    // The text's pixels, one row of booleans per pixel row.
    let mut px: Vec<Vec<bool>> = vec![Vec::new(); 16];
    for c in text.chars() {
        for (y, row) in px.iter_mut().enumerate() {
            row.extend((0..glyph_width(c)).map(|x| pixel(c, x, y)));
        }
    }
    let at = |x: usize, y: usize| px.get(y).and_then(|r| r.get(x)).copied().unwrap_or(false);
    let (sx, sy) = (usize::from(scale.x.max(1)), usize::from(scale.y.max(1)));
    // A sub-cell (half a cell across, half a row down) shows the pixel
    // it falls in.
    let sub = |hx: usize, hy: usize| at(hx / sx, hy / sy);
    (0..usize::from(scale.rows()))
        .map(|r| {
            (0..width(text, scale))
                .map(|c| {
                    let (hx, hy) = (2 * c, 2 * r);
                    quadrant(
                        sub(hx, hy),
                        sub(hx + 1, hy),
                        sub(hx, hy + 1),
                        sub(hx + 1, hy + 1),
                    )
                })
                .collect()
        })
        .collect()
}

fn quadrant(tl: bool, tr: bool, bl: bool, br: bool) -> char {
    const QUADRANTS: [char; 16] = [
        ' ', '▘', '▝', '▀', '▖', '▌', '▞', '▛', '▗', '▚', '▐', '▜', '▄', '▙', '▟', '█',
    ];
    QUADRANTS[usize::from(tl) | usize::from(tr) << 1 | usize::from(bl) << 2 | usize::from(br) << 3]
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn chinese_is_drawn_large_and_every_row_has_the_stated_width() {
        let scales = Scale::largest_first(40).chain([Scale { x: 3, y: 2 }, Scale { x: 1, y: 3 }]);
        for scale in scales {
            for text in ["请刷身份证", "GA012号"] {
                let rows = render(text, scale);
                assert_eq!(rows.len(), usize::from(scale.rows()));
                for r in &rows {
                    assert_eq!(r.width(), width(text, scale), "{scale:?}");
                }
                assert!(
                    rows.iter().any(|r| r.trim().len() > 3),
                    "something is drawn"
                );
            }
        }
        assert_eq!(width("请刷身份证", Scale::HALF), 80);
        assert_eq!(width("请刷身份证", Scale::QUADRANT), 40);
        assert_eq!(width("GA012", Scale::HALF), 40);
        assert_eq!(width("GA012", Scale { x: 3, y: 2 }), 60);
    }

    #[test]
    fn the_classic_scales_draw_as_before() {
        // Full: a block per pixel; half: half blocks; double: two cells.
        let full = render("一", Scale::FULL).concat();
        assert!(full.chars().all(|c| c == ' ' || c == '█'), "{full}");
        let half = render("一", Scale::HALF).concat();
        assert!(half.chars().all(|c| " ▀▄█".contains(c)), "{half}");
        let double = render("一", Scale::DOUBLE);
        assert_eq!(
            double[7].trim(),
            "█".repeat(double[7].trim().chars().count())
        );
    }

    #[test]
    fn digits_are_bold_and_as_high_as_chinese() {
        let rows = render("0号", Scale::FULL);
        let inked = |range: std::ops::Range<usize>| {
            rows.iter()
                .filter(|r| {
                    r.chars()
                        .skip(range.start)
                        .take(range.len())
                        .any(|c| c != ' ')
                })
                .count()
        };
        assert!(inked(0..8) >= 13, "the digit fills the line: {rows:#?}");
        assert!(inked(8..24) >= 13, "{rows:#?}");
        // Strokes two pixels wide: a row of the 0 has `██`.
        assert!(rows.iter().any(|r| r.starts_with("██")), "{rows:#?}");
    }

    #[test]
    fn the_largest_scale_that_fits_is_chosen() {
        assert_eq!(fit("请刷身份证", 78, 20), Some(Scale::QUADRANT));
        assert_eq!(fit("请刷身份证", 118, 20), Some(Scale::FULL));
        assert_eq!(fit("请刷身份证", 118, 12), Some(Scale::HALF));
        assert_eq!(fit("请刷身份证", 198, 50), Some(Scale::DOUBLE));
        assert_eq!(fit("请刷身份证", 30, 20), None);
        assert_eq!(fit("3", 200, 60), Some(Scale::square(7)));
    }
}
