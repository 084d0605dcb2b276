//! A lenient ESC/POS reader that shows a ticket as text (for the `stdout`
//! transport and demos). It never panics: unknown or truncated commands are
//! shown as `<1B 7A>` markers.

use std::fmt::Write as _;

use super::layout::PaperWidth;

/// Columns a character takes on a terminal (CJK and full-width forms are
/// two, everything else one): the rendering is meant for a console.
fn terminal_width(s: &str) -> usize {
    s.chars()
        .map(|c| match u32::from(c) {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1F64F
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

#[derive(Debug, Clone, Copy, Default)]
struct Style {
    size: u8,
    align: u8,
    reverse: bool,
}

#[derive(Debug)]
enum Item {
    Line { text: String, style: Style },
    Qr(String, u8),
    Cut(&'static str),
    Marker(String),
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    chinese: bool,
    style: Style,
    line: Vec<u8>,
    line_style: Option<Style>,
    qr_data: Vec<u8>,
    items: Vec<Item>,
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Option<u8> {
        let b = self.bytes.get(self.pos).copied();
        if b.is_some() {
            self.pos += 1;
        }
        b
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let slice = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(slice)
    }

    fn end_line(&mut self, force: bool) {
        if self.line.is_empty() && !force {
            return;
        }
        let text = if self.chinese {
            encoding_rs::GB18030
                .decode_without_bom_handling(&self.line)
                .0
                .into_owned()
        } else {
            self.line
                .iter()
                .map(|&b| if b.is_ascii() { char::from(b) } else { '?' })
                .collect()
        };
        let style = self.line_style.take().unwrap_or(self.style);
        self.items.push(Item::Line { text, style });
        self.line.clear();
    }

    fn marker(&mut self, what: &[u8]) {
        self.end_line(false);
        let hex: Vec<String> = what.iter().map(|b| format!("{b:02X}")).collect();
        self.items.push(Item::Marker(hex.join(" ")));
    }

    fn run(&mut self) {
        while let Some(b) = self.next() {
            match b {
                0x0A => self.end_line(true),
                0x0D => {}
                0x1B => self.esc(),
                0x1C => match self.next() {
                    Some(b'&') => self.chinese = true,
                    Some(b'.') => self.chinese = false,
                    Some(other) => self.marker(&[0x1C, other]),
                    None => self.marker(&[0x1C]),
                },
                0x1D => self.gs(),
                0x10 => match self.take(2) {
                    Some([0x04, _]) => {}
                    Some(rest) => {
                        let mut m = vec![0x10];
                        m.extend_from_slice(rest);
                        self.marker(&m);
                    }
                    None => self.marker(&[0x10]),
                },
                b if b < 0x20 => self.marker(&[b]),
                b => {
                    if self.line.is_empty() {
                        self.line_style = Some(self.style);
                    }
                    self.line.push(b);
                }
            }
        }
        self.end_line(false);
    }

    fn esc(&mut self) {
        match self.next() {
            Some(b'@') => {
                self.end_line(false);
                self.chinese = false;
                self.style = Style::default();
            }
            Some(b'a') => match self.next() {
                Some(n) => self.style.align = n % 0x30,
                None => self.marker(&[0x1B, b'a']),
            },
            Some(b'd') => match self.next() {
                Some(n) => {
                    self.end_line(false);
                    for _ in 0..n.min(8) {
                        self.end_line(true);
                    }
                }
                None => self.marker(&[0x1B, b'd']),
            },
            Some(other) => self.marker(&[0x1B, other]),
            None => self.marker(&[0x1B]),
        }
    }

    fn gs(&mut self) {
        match self.next() {
            Some(b'!') => match self.next() {
                Some(n) => self.style.size = n,
                None => self.marker(&[0x1D, b'!']),
            },
            Some(b'B') => match self.next() {
                Some(n) => self.style.reverse = n & 1 == 1,
                None => self.marker(&[0x1D, b'B']),
            },
            Some(b'V') => match self.next() {
                Some(m @ (0x41 | 0x42)) => {
                    self.end_line(false);
                    let _feed = self.next();
                    self.items.push(Item::Cut(if m == 0x41 {
                        "full cut"
                    } else {
                        "partial cut"
                    }));
                }
                Some(m @ (0x00 | 0x01 | 0x30 | 0x31)) => {
                    self.end_line(false);
                    let kind = if m & 1 == 0 {
                        "full cut"
                    } else {
                        "partial cut"
                    };
                    self.items.push(Item::Cut(kind));
                }
                Some(other) => self.marker(&[0x1D, b'V', other]),
                None => self.marker(&[0x1D, b'V']),
            },
            Some(b'(') => self.gs_paren(),
            Some(other) => self.marker(&[0x1D, other]),
            None => self.marker(&[0x1D]),
        }
    }

    fn gs_paren(&mut self) {
        let Some(head) = self.take(3) else {
            self.marker(&[0x1D, b'(']);
            self.pos = self.bytes.len();
            return;
        };
        let (fn_letter, len) = (head[0], usize::from(head[1]) | usize::from(head[2]) << 8);
        let Some(body) = self.take(len) else {
            self.marker(&[0x1D, b'(', fn_letter]);
            self.pos = self.bytes.len();
            return;
        };
        if fn_letter != b'k' {
            return self.marker(&[0x1D, b'(', fn_letter]);
        }
        match body {
            [0x31, 0x50, 0x30, data @ ..] => self.qr_data = data.to_vec(),
            [0x31, 0x51, ..] => {
                self.end_line(false);
                let payload = String::from_utf8_lossy(&self.qr_data).into_owned();
                self.items.push(Item::Qr(payload, self.style.align));
            }
            [0x31, 0x41 | 0x43 | 0x45, ..] => {}
            _ => self.marker(&[0x1D, b'(', b'k']),
        }
    }
}

/// Shows ESC/POS bytes as the ticket a person would read: one boxed line per
/// printed line, aligned as printed, enlarged lines tagged `×WxH`, reversed
/// lines tagged `reverse`, the QR code as its payload and the cut as a rule.
/// Never panics, whatever the input.
pub fn render_text(bytes: &[u8], paper: PaperWidth) -> String {
    let mut reader = Reader {
        bytes,
        pos: 0,
        chinese: false,
        style: Style::default(),
        line: Vec::new(),
        line_style: None,
        qr_data: Vec::new(),
        items: Vec::new(),
    };
    reader.run();
    let cols = paper.columns();
    let rule = "-".repeat(cols);
    let mut out = String::new();
    let _ = writeln!(out, "+{rule}+");
    for item in reader.items {
        let (text, style) = match item {
            Item::Line { text, style } => (text, style),
            Item::Qr(payload, align) => (
                format!("[QR {payload}]"),
                Style {
                    align,
                    ..Style::default()
                },
            ),
            Item::Marker(hex) => (format!("<{hex}>"), Style::default()),
            Item::Cut(kind) => {
                let _ = writeln!(out, "+{:-^cols$}+", format!(" {kind} "));
                continue;
            }
        };
        let text: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let width = terminal_width(&text);
        let gap = cols.saturating_sub(width);
        let left = match style.align {
            1 => gap / 2,
            2 => gap,
            _ => 0,
        };
        let mut tags = Vec::new();
        if style.size != 0 {
            tags.push(format!(
                "×{}x{}",
                (style.size >> 4) + 1,
                (style.size & 0x0F) + 1
            ));
        }
        if style.reverse {
            tags.push("reverse".to_owned());
        }
        let line = format!(
            "|{}{}{}| {}",
            " ".repeat(left),
            text,
            " ".repeat(gap - left),
            tags.join(" ")
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}
