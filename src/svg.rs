//! Charts drawn by the server as inline SVG (no script, no external
//! asset): the bureau's page and the manager's. Written by hand: a plotting crate (plotters) lays
//! out text with font files it must load, and the labels here are Chinese;
//! plain SVG `<text>` leaves the glyphs to the browser's own fonts. Two
//! shapes are all the page needs: lines over days and horizontal bars.

use std::fmt::Write;

/// A series of a line chart: its name and its values, one per day (the
/// days are the chart's, in order).
pub struct Series {
    /// Name in the legend.
    pub name: String,
    /// One value per day.
    pub values: Vec<f64>,
}

const PALETTE: [&str; 8] = [
    "#1b7f3b", "#1f5fbf", "#c0392b", "#8e44ad", "#d68910", "#117a8b", "#6d4c41", "#555555",
];

/// Escapes text for XML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A line chart of `series` over `days` (labels), `title` for screen
/// readers. Width 1000, height 300.
pub fn lines(title: &str, days: &[String], series: &[Series]) -> String {
    let (w, h, left, right, top, bottom) = (1000.0, 300.0, 48.0, 230.0, 16.0, 40.0);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let max = nice(max);
    let pw = w - left - right;
    let ph = h - top - bottom;
    let x = |i: usize| {
        left + if days.len() > 1 {
            pw * i as f64 / (days.len() - 1) as f64
        } else {
            pw / 2.0
        }
    };
    let y = |v: f64| top + ph - ph * v / max;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}">"#,
        esc(title)
    );
    let steps = grid_steps(max);
    for k in 0..=steps {
        let v = max * f64::from(k) / f64::from(steps);
        let _ = write!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" font-size="12" text-anchor="end" fill="#444">{}</text>"##,
            left + pw,
            left - 6.0,
            y(v) + 4.0,
            v.round(),
            y = y(v),
        );
    }
    let step = days.len().div_ceil(6).max(1);
    for (i, d) in days.iter().enumerate().step_by(step) {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{}" font-size="12" text-anchor="middle" fill="#444">{}</text>"##,
            x(i),
            h - bottom + 18.0,
            esc(d)
        );
    }
    for (n, se) in series.iter().enumerate() {
        let color = PALETTE[n % PALETTE.len()];
        let pts: Vec<String> = se
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        // A dot on each value: a day (or an hour) alone is a point, not a
        // line, and still shows.
        for p in &pts {
            let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(s, r#"<circle cx="{cx}" cy="{cy}" r="3" fill="{color}"/>"#);
        }
        let ly = top + 18.0 * n as f64 + 8.0;
        let _ = write!(
            s,
            r#"<rect x="{}" y="{}" width="12" height="4" fill="{color}"/><text x="{}" y="{}" font-size="13">{}</text>"#,
            w - right + 12.0,
            ly - 4.0,
            w - right + 30.0,
            ly + 1.0,
            esc(&se.name)
        );
    }
    s + "</svg>"
}

/// One bar: its label, its length (0..=1 of the chart) and the text shown
/// at its end, and whether it is flagged (drawn in red).
pub struct Bar {
    /// Label on the left.
    pub label: String,
    /// Length, 0..=1.
    pub share: f64,
    /// Text at the bar's end.
    pub text: String,
    /// Flagged.
    pub alert: bool,
}

/// Horizontal bars, one per row, 1000 wide.
pub fn bars(title: &str, bars: &[Bar]) -> String {
    let (w, left, row) = (1000.0, 200.0, 26.0);
    let h = row * bars.len().max(1) as f64 + 8.0;
    let pw = w - left - 200.0;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}">"#,
        esc(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        let len = (pw * b.share.clamp(0.0, 1.0)).max(1.0);
        let color = if b.alert { "#c0392b" } else { "#1b7f3b" };
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-size="14" text-anchor="end">{}</text><rect x="{left}" y="{y}" width="{len:.1}" height="{}" fill="{color}"/><text x="{:.1}" y="{}" font-size="14" fill="#222">{}</text>"##,
            left - 8.0,
            y + 16.0,
            esc(&b.label),
            row - 8.0,
            left + len + 6.0,
            y + 16.0,
            esc(&b.text)
        );
    }
    s + "</svg>"
}

/// How many gridlines up to `max` (a [`nice`] bound), so that every label
/// is a whole number and none repeats: 4 or 5 where they divide it, else
/// 2 or 1 (an axis up to 2 is 0, 1, 2, never 0, 1, 1, 2, 2).
fn grid_steps(max: f64) -> u32 {
    [4u32, 5, 2, 1]
        .into_iter()
        .find(|n| {
            let step = max / f64::from(*n);
            step >= 1.0 && step.fract() == 0.0
        })
        .unwrap_or(1)
}

/// A round upper bound for an axis: 1, 2 or 5 times a power of ten.
fn nice(max: f64) -> f64 {
    let p = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|v| *v >= max)
        .unwrap_or(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_tops_are_round_and_never_below_the_data() {
        assert_eq!(nice(7.0), 10.0);
        assert_eq!(nice(13.0), 20.0);
        assert_eq!(nice(480.0), 500.0);
        assert_eq!(nice(1.0), 1.0);
    }

    /// Regression: the manager's hourly chart of a quiet hour read
    /// 0, 1, 1, 2, 2 up its axis (quarters of 2, rounded).
    #[test]
    fn regression_a_small_axis_has_whole_labels_that_never_repeat() {
        for top in [1.0, 2.0, 3.0, 5.0, 7.0, 13.0, 48.0, 480.0] {
            let svg = lines(
                "t",
                &["08:00".to_string(), "09:00".to_string()],
                &[Series {
                    name: "s".into(),
                    values: vec![0.0, top],
                }],
            );
            let labels: Vec<&str> = svg
                .split(r##"text-anchor="end" fill="#444">"##)
                .skip(1)
                .map(|rest| rest.split('<').next().unwrap())
                .collect();
            let mut seen = labels.clone();
            seen.dedup();
            assert_eq!(seen, labels, "{top}: {labels:?}");
            let max = nice(top);
            assert_eq!(labels.last().copied(), Some(max.to_string().as_str()));
            assert!(labels.len() >= 2, "{top}: {labels:?}");
        }
    }

    #[test]
    fn labels_are_escaped() {
        let svg = bars(
            "t",
            &[Bar {
                label: "<大厅&>".into(),
                share: 0.5,
                text: "50%".into(),
                alert: false,
            }],
        );
        assert!(svg.contains("&lt;大厅&amp;&gt;"), "{svg}");
    }
}
