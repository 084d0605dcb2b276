//! Test support for the printer tests: an ESC/POS decoder written
//! independently of the library's renderer. It is strict: every byte must
//! belong to a command it knows, or to text; anything else is an error.
//! It recovers what a person would read on the paper.

#![allow(dead_code)]

use std::fmt;

/// Horizontal alignment (`ESC a n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Centre,
    Right,
}

/// One printed line of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    /// Character width multiplier (1..=8).
    pub width: u8,
    /// Character height multiplier (1..=8).
    pub height: u8,
    pub align: Align,
    pub reverse: bool,
}

/// A QR code as stored and printed with `GS ( k`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qr {
    pub model: u8,
    pub module_size: u8,
    /// 'L', 'M', 'Q' or 'H'.
    pub error_correction: char,
    pub payload: String,
    /// Number of text lines (blank ones included) printed before it.
    pub after_lines: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub full: bool,
    pub feed: u8,
}

/// What came out of the printer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Paper {
    pub initialised: bool,
    /// Every line, blank ones included.
    pub lines: Vec<Line>,
    pub qr_codes: Vec<Qr>,
    pub cut: Option<Cut>,
}

impl Paper {
    /// The non-blank lines' texts.
    pub fn texts(&self) -> Vec<&str> {
        self.lines
            .iter()
            .filter(|l| !l.text.is_empty())
            .map(|l| l.text.as_str())
            .collect()
    }

    /// All printed text and QR payloads, for searching.
    pub fn everything(&self) -> String {
        let mut all: Vec<&str> = self.lines.iter().map(|l| l.text.as_str()).collect();
        all.extend(self.qr_codes.iter().map(|q| q.payload.as_str()));
        all.join("\n")
    }

    pub fn line(&self, text: &str) -> Option<&Line> {
        self.lines.iter().find(|l| l.text == text)
    }
}

#[derive(Debug)]
pub struct DecodeError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}: {}", self.offset, self.message)
    }
}

struct State {
    chinese: bool,
    width: u8,
    height: u8,
    align: Align,
    reverse: bool,
}

/// Decodes a whole job. Fails on unknown commands, malformed GB18030,
/// non-ASCII text outside Chinese mode, a style change in the middle of a
/// line, unterminated text, anything after the cut, QR print without store.
pub fn decode(bytes: &[u8]) -> Result<Paper, DecodeError> {
    let mut paper = Paper::default();
    let mut st = State {
        chinese: false,
        width: 1,
        height: 1,
        align: Align::Left,
        reverse: false,
    };
    let mut text: Vec<u8> = Vec::new();
    let (mut qr_model, mut qr_size, mut qr_ec) = (None, None, None);
    let mut qr_stored: Option<Vec<u8>> = None;
    let mut i = 0usize;
    let err = |offset: usize, message: String| DecodeError { offset, message };
    let need = |i: usize, n: usize| -> Result<&[u8], DecodeError> {
        bytes
            .get(i..i + n)
            .ok_or_else(|| err(i, format!("truncated command, {n} bytes needed")))
    };

    while i < bytes.len() {
        if paper.cut.is_some() {
            return Err(err(i, "data after the cut".into()));
        }
        let b = bytes[i];
        let style_change = |text: &Vec<u8>, i: usize| -> Result<(), DecodeError> {
            if text.is_empty() {
                Ok(())
            } else {
                Err(err(i, "style change in the middle of a line".into()))
            }
        };
        match b {
            0x0A => {
                let s = if st.chinese {
                    let (cow, had_errors) = encoding_rs::GB18030
                        .decode_without_bom_handling_and_without_replacement(&text)
                        .map(|c| (c, false))
                        .unwrap_or_else(|| (Default::default(), true));
                    if had_errors {
                        return Err(err(i, format!("malformed GB18030 text {text:02X?}")));
                    }
                    cow.into_owned()
                } else {
                    String::from_utf8(text.clone())
                        .map_err(|_| err(i, "non-ASCII text outside Chinese mode".into()))?
                };
                paper.lines.push(Line {
                    text: s,
                    width: st.width,
                    height: st.height,
                    align: st.align,
                    reverse: st.reverse,
                });
                text.clear();
                i += 1;
            }
            0x1B => {
                let cmd = need(i, 2)?;
                match cmd[1] {
                    b'@' => {
                        style_change(&text, i)?;
                        paper.initialised = true;
                        st = State {
                            chinese: false,
                            width: 1,
                            height: 1,
                            align: Align::Left,
                            reverse: false,
                        };
                        i += 2;
                    }
                    b'a' => {
                        style_change(&text, i)?;
                        st.align = match need(i, 3)?[2] {
                            0 | b'0' => Align::Left,
                            1 | b'1' => Align::Centre,
                            2 | b'2' => Align::Right,
                            n => return Err(err(i, format!("ESC a {n:#04x}"))),
                        };
                        i += 3;
                    }
                    other => return Err(err(i, format!("unknown command ESC {other:#04x}"))),
                }
            }
            0x1C => match need(i, 2)?[1] {
                b'&' => {
                    style_change(&text, i)?;
                    st.chinese = true;
                    i += 2;
                }
                b'.' => {
                    style_change(&text, i)?;
                    st.chinese = false;
                    i += 2;
                }
                other => return Err(err(i, format!("unknown command FS {other:#04x}"))),
            },
            0x1D => {
                let cmd = need(i, 2)?;
                match cmd[1] {
                    b'!' => {
                        style_change(&text, i)?;
                        let n = need(i, 3)?[2];
                        st.width = (n >> 4) + 1;
                        st.height = (n & 0x0F) + 1;
                        if st.width > 8 || st.height > 8 {
                            return Err(err(i, format!("GS ! {n:#04x} out of range")));
                        }
                        i += 3;
                    }
                    b'B' => {
                        style_change(&text, i)?;
                        st.reverse = match need(i, 3)?[2] {
                            0 => false,
                            1 => true,
                            n => return Err(err(i, format!("GS B {n:#04x}"))),
                        };
                        i += 3;
                    }
                    b'V' => {
                        if !text.is_empty() {
                            return Err(err(i, "cut with unterminated text".into()));
                        }
                        let c = need(i, 4)?;
                        let full = match c[2] {
                            0x41 => true,
                            0x42 => false,
                            m => return Err(err(i, format!("GS V {m:#04x}"))),
                        };
                        paper.cut = Some(Cut { full, feed: c[3] });
                        i += 4;
                    }
                    b'(' => {
                        let h = need(i, 5)?;
                        if h[2] != b'k' {
                            return Err(err(i, format!("GS ( {:#04x}", h[2])));
                        }
                        let len = usize::from(h[3]) + 256 * usize::from(h[4]);
                        let body = need(i + 5, len)?;
                        match body {
                            [0x31, 0x41, m, 0x00] => qr_model = Some(m - 0x30),
                            [0x31, 0x43, n] => qr_size = Some(*n),
                            [0x31, 0x45, e @ 0x30..=0x33] => {
                                qr_ec = Some(['L', 'M', 'Q', 'H'][usize::from(e - 0x30)])
                            }
                            [0x31, 0x50, 0x30, data @ ..] => qr_stored = Some(data.to_vec()),
                            [0x31, 0x51, 0x30] => {
                                if !text.is_empty() {
                                    return Err(err(i, "QR in the middle of a line".into()));
                                }
                                let data = qr_stored
                                    .take()
                                    .ok_or_else(|| err(i, "QR print without stored data".into()))?;
                                paper.qr_codes.push(Qr {
                                    model: qr_model
                                        .ok_or_else(|| err(i, "QR model not set".into()))?,
                                    module_size: qr_size
                                        .ok_or_else(|| err(i, "QR size not set".into()))?,
                                    error_correction: qr_ec.ok_or_else(|| {
                                        err(i, "QR error correction not set".into())
                                    })?,
                                    payload: String::from_utf8(data)
                                        .map_err(|_| err(i, "QR payload not UTF-8".into()))?,
                                    after_lines: paper.lines.len(),
                                });
                            }
                            other => {
                                return Err(err(i, format!("unknown GS ( k function {other:02X?}")))
                            }
                        }
                        i += 5 + len;
                    }
                    other => return Err(err(i, format!("unknown command GS {other:#04x}"))),
                }
            }
            0x20..=0x7E => {
                text.push(b);
                i += 1;
            }
            0x81..=0xFE if st.chinese => {
                // GB18030: two bytes, or four when the second is a digit.
                let n = match bytes.get(i + 1) {
                    Some(0x30..=0x39) => 4,
                    Some(_) => 2,
                    None => return Err(err(i, "truncated GB18030 character".into())),
                };
                text.extend_from_slice(need(i, n)?);
                i += n;
            }
            other => return Err(err(i, format!("unexpected byte {other:#04x}"))),
        }
    }
    if !text.is_empty() {
        return Err(err(bytes.len(), "text without a final LF".into()));
    }
    Ok(paper)
}

/// True when `s` holds 18 consecutive digits (or 17 and an X): the shape of
/// a resident ID number.
pub fn has_id_number(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    chars.windows(18).any(|w| {
        w[..17].iter().all(char::is_ascii_digit)
            && (w[17].is_ascii_digit() || w[17] == 'X' || w[17] == 'x')
    })
}

/// Parses "1B 40 1C 26 ..." (whitespace and `|` separators allowed).
pub fn hex(s: &str) -> Vec<u8> {
    s.split(|c: char| c.is_whitespace() || c == '|')
        .filter(|t| !t.is_empty())
        .map(|t| u8::from_str_radix(t, 16).unwrap_or_else(|_| panic!("bad hex {t:?}")))
        .collect()
}
