//! Large print on a terminal, Chinese included: a text drawn from the GNU
//! Unifont bitmaps (16×16 pixels a Chinese character, 8×16 a Latin one;
//! the `unifont` crate) with block characters, at the largest [`Scale`]
//! that fits. The kiosk's swipe prompt and the hall board's call are read
//! from a distance by people who may not see well: a prompt made of
//! one-cell characters is not enough. Pure: text in, rows of text out.

/// How many of a glyph's pixels one terminal cell shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scale {
    /// Two by two pixels a cell (quadrant blocks): a Chinese character is
    /// 8 cells wide and 8 rows high.
    Quadrant,
    /// One by two pixels a cell (half blocks): 16 cells wide, 8 rows high.
    Half,
    /// One pixel a cell: 16 cells wide, 16 rows high.
    Full,
    /// Each pixel two cells wide and one row high: 32 cells wide, 16 rows
    /// high (for a wall-sized board).
    Double,
}

impl Scale {
    /// Every scale, largest first.
    pub const LARGEST_FIRST: [Scale; 4] =
        [Scale::Double, Scale::Full, Scale::Half, Scale::Quadrant];

    /// Rows a line of text takes.
    pub fn rows(self) -> u16 {
        match self {
            Scale::Quadrant | Scale::Half => 8,
            Scale::Full | Scale::Double => 16,
        }
    }

    fn cells_per_pixel_x(self) -> (usize, usize) {
        // (pixels per cell, cells per pixel) horizontally.
        match self {
            Scale::Quadrant => (2, 1),
            Scale::Half | Scale::Full => (1, 1),
            Scale::Double => (1, 2),
        }
    }
}

/// A glyph's width in pixels (16 for Chinese, 8 for Latin and digits; a
/// space of 8 for a character Unifont lacks).
fn glyph_width(c: char) -> usize {
    unifont::get_glyph(c).map_or(8, |g| g.get_width())
}

fn pixel(c: char, x: usize, y: usize) -> bool {
    unifont::get_glyph(c).is_some_and(|g| x < g.get_width() && y < 16 && g.get_pixel(x, y))
}

/// Cells a text takes at `scale`.
pub fn width(text: &str, scale: Scale) -> usize {
    let px: usize = text.chars().map(glyph_width).sum();
    let (per_cell, cells) = scale.cells_per_pixel_x();
    px.div_ceil(per_cell) * cells
}

/// The largest scale at which `text` fits `cols` × `rows`, if any.
pub fn fit(text: &str, cols: u16, rows: u16) -> Option<Scale> {
    Scale::LARGEST_FIRST
        .into_iter()
        .find(|s| width(text, *s) <= usize::from(cols) && s.rows() <= rows)
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
    let w = px[0].len();
    match scale {
        Scale::Full => (0..16)
            .map(|y| (0..w).map(|x| if at(x, y) { '█' } else { ' ' }).collect())
            .collect(),
        Scale::Double => (0..16)
            .map(|y| {
                (0..w)
                    .flat_map(|x| if at(x, y) { ['█', '█'] } else { [' ', ' '] })
                    .collect()
            })
            .collect(),
        Scale::Half => (0..8)
            .map(|r| {
                (0..w)
                    .map(|x| half(at(x, 2 * r), at(x, 2 * r + 1)))
                    .collect()
            })
            .collect(),
        Scale::Quadrant => (0..8)
            .map(|r| {
                (0..w.div_ceil(2))
                    .map(|c| {
                        let (x, y) = (2 * c, 2 * r);
                        quadrant(at(x, y), at(x + 1, y), at(x, y + 1), at(x + 1, y + 1))
                    })
                    .collect()
            })
            .collect(),
    }
}

fn half(top: bool, bottom: bool) -> char {
    match (top, bottom) {
        (false, false) => ' ',
        (true, false) => '▀',
        (false, true) => '▄',
        (true, true) => '█',
    }
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
        for scale in Scale::LARGEST_FIRST {
            let rows = render("请刷身份证", scale);
            assert_eq!(rows.len(), usize::from(scale.rows()));
            for r in &rows {
                assert_eq!(r.width(), width("请刷身份证", scale), "{scale:?}");
            }
            assert!(
                rows.iter().any(|r| r.trim().len() > 3),
                "something is drawn"
            );
        }
        assert_eq!(width("请刷身份证", Scale::Half), 80);
        assert_eq!(width("请刷身份证", Scale::Quadrant), 40);
        assert_eq!(width("GA012", Scale::Half), 40);
    }

    #[test]
    fn the_largest_scale_that_fits_is_chosen() {
        assert_eq!(fit("请刷身份证", 78, 20), Some(Scale::Quadrant));
        assert_eq!(fit("请刷身份证", 118, 20), Some(Scale::Full));
        assert_eq!(fit("请刷身份证", 118, 12), Some(Scale::Half));
        assert_eq!(fit("请刷身份证", 198, 50), Some(Scale::Double));
        assert_eq!(fit("请刷身份证", 30, 20), None);
    }
}
