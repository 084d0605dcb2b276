//! Ticket layout to ESC/POS bytes.

use super::error::LayoutError;
use super::layout::{CutMode, PrinterOptions, TicketLayout};
use super::text::{display_width, looks_like_id_number, scrub_id_numbers, wrap};

/// Longest QR payload accepted, in bytes: a version 40 symbol at error
/// correction level M holds 2331 bytes.
pub const QR_MAX_PAYLOAD: usize = 2331;

pub(crate) const ESC: u8 = 0x1B;
pub(crate) const GS: u8 = 0x1D;
pub(crate) const FS: u8 = 0x1C;
pub(crate) const LF: u8 = 0x0A;

/// `GS !` size byte: normal.
const SIZE_NORMAL: u8 = 0x00;
/// `GS !` size byte: double height only.
const SIZE_DOUBLE_HEIGHT: u8 = 0x01;
/// `GS !` size byte: double width and height.
const SIZE_DOUBLE: u8 = 0x11;
/// `GS !` size byte: quadruple width and height.
const SIZE_QUADRUPLE: u8 = 0x33;

/// Checks that a layout can be printed as given. [`encode_ticket`] never
/// fails, so it silently repairs what this function refuses (it masks
/// ID-like digit runs and leaves out an unusable QR code); a printer calls
/// this first and refuses the job instead.
pub fn validate_layout(layout: &TicketLayout) -> Result<(), LayoutError> {
    if layout.number.trim().is_empty() {
        return Err(LayoutError::EmptyNumber);
    }
    let fields: [(&'static str, Option<&str>); 8] = [
        ("hall_name", Some(&layout.hall_name)),
        ("banner", layout.banner.as_deref()),
        ("ahead", Some(&layout.ahead)),
        ("number", Some(&layout.number)),
        ("service_name", Some(&layout.service_name)),
        ("issued_at", Some(&layout.issued_at)),
        ("notice", layout.notice.as_deref()),
        ("qr_payload", layout.qr_payload.as_deref()),
    ];
    for (field, value) in fields {
        if value.is_some_and(looks_like_id_number) {
            return Err(LayoutError::PersonalData { field });
        }
    }
    if let Some(qr) = &layout.qr_payload {
        qr_problem(qr).map_or(Ok(()), |p| Err(LayoutError::QrPayload(p)))?;
    }
    Ok(())
}

fn qr_problem(payload: &str) -> Option<String> {
    if payload.is_empty() {
        Some("empty".to_owned())
    } else if payload.len() > QR_MAX_PAYLOAD {
        Some(format!(
            "{} bytes, at most {QR_MAX_PAYLOAD} fit",
            payload.len()
        ))
    } else if payload.chars().any(char::is_control) {
        Some("contains control characters".to_owned())
    } else if looks_like_id_number(payload) {
        Some("looks like it carries an ID number".to_owned())
    } else {
        None
    }
}

/// Encodes a ticket as ESC/POS bytes for a GB18030 Chinese printer.
///
/// Sequence: `ESC @`, `FS &` (Chinese mode), `ESC a 1` (centred), then the
/// hall name, the banner (reverse video, when there is one), the service
/// name, the number at quadruple size (`GS ! 33`), the `ahead` line,
/// the date and time, the QR code (`GS ( k`: model 2, module size, error
/// correction M, store, print), the notice, `FS .` and the cut
/// (`GS V 42 n` partial or `GS V 41 n` full).
///
/// Never fails: text is wrapped or truncated to the paper width by display
/// width, control characters become spaces, runs of 15+ digits are masked
/// and a QR payload that [`validate_layout`] would refuse is left out.
pub fn encode_ticket(layout: &TicketLayout, options: &PrinterOptions) -> Vec<u8> {
    let cols = options.paper.columns();
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&[ESC, b'@']);
    out.extend_from_slice(&[FS, b'&']);
    out.extend_from_slice(&[ESC, b'a', 1]);

    text_block(&mut out, &layout.hall_name, SIZE_NORMAL, cols, 2);
    out.push(LF);

    if let Some(banner) = layout.banner.as_deref().filter(|b| !b.trim().is_empty()) {
        out.extend_from_slice(&[GS, b'B', 1]);
        let size = fitting_size(banner, cols, SIZE_DOUBLE, SIZE_DOUBLE_HEIGHT);
        text_block(&mut out, banner, size, cols, 2);
        out.extend_from_slice(&[GS, b'B', 0]);
    }

    let service = scrub_id_numbers(&layout.service_name);
    let size = fitting_size(&service, cols, SIZE_DOUBLE, SIZE_DOUBLE_HEIGHT);
    text_block(&mut out, &service, size, cols, 2);

    text_block(&mut out, &layout.number, SIZE_QUADRUPLE, cols, 3);

    let size = fitting_size(&layout.ahead, cols, SIZE_DOUBLE, SIZE_DOUBLE_HEIGHT);
    text_block(&mut out, &layout.ahead, size, cols, 1);

    text_block(&mut out, &layout.issued_at, SIZE_NORMAL, cols, 1);

    if let Some(payload) = &layout.qr_payload {
        match qr_problem(payload) {
            None => {
                out.push(LF);
                qr_code(&mut out, payload.as_bytes(), options.qr_module_size);
                out.push(LF);
            }
            Some(problem) => tracing::warn!(%problem, "qr payload left out of the ticket"),
        }
    }

    if let Some(notice) = &layout.notice {
        text_block(&mut out, notice, SIZE_NORMAL, cols, 1);
    }

    out.extend_from_slice(&[FS, b'.']);
    let m = match options.cut {
        CutMode::Partial => 0x42,
        CutMode::Full => 0x41,
    };
    out.extend_from_slice(&[GS, b'V', m, options.feed_before_cut]);
    out
}

/// `preferred` when the text fits on one line at that size, else `fallback`.
fn fitting_size(text: &str, cols: usize, preferred: u8, fallback: u8) -> u8 {
    let width_mul = usize::from(preferred >> 4) + 1;
    if display_width(text.trim()) * width_mul <= cols {
        preferred
    } else {
        fallback
    }
}

/// `GS ! size`, then the text wrapped to the columns left at that size, each
/// line followed by LF. Nothing (not even the size) for an empty text.
fn text_block(out: &mut Vec<u8>, text: &str, size: u8, cols: usize, max_lines: usize) {
    let width_mul = usize::from(size >> 4) + 1;
    let lines = wrap(&scrub_id_numbers(text), cols / width_mul, max_lines);
    if lines.is_empty() {
        return;
    }
    out.extend_from_slice(&[GS, b'!', size]);
    for line in lines {
        let (bytes, _, _) = encoding_rs::GB18030.encode(&line);
        out.extend_from_slice(&bytes);
        out.push(LF);
    }
}

/// `GS ( k` function 165 (model 2), 167 (module size), 169 (error
/// correction M), 180 (store) and 181 (print).
fn qr_code(out: &mut Vec<u8>, data: &[u8], module_size: u8) {
    out.extend_from_slice(&[GS, b'(', b'k', 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]);
    out.extend_from_slice(&[
        GS,
        b'(',
        b'k',
        0x03,
        0x00,
        0x31,
        0x43,
        module_size.clamp(1, 16),
    ]);
    out.extend_from_slice(&[GS, b'(', b'k', 0x03, 0x00, 0x31, 0x45, 0x31]);
    let len = data.len() + 3;
    // The payload is at most QR_MAX_PAYLOAD bytes, so len fits in u16.
    let [pl, ph] = u16::try_from(len).unwrap_or(u16::MAX).to_le_bytes();
    out.extend_from_slice(&[GS, b'(', b'k', pl, ph, 0x31, 0x50, 0x30]);
    out.extend_from_slice(data);
    out.extend_from_slice(&[GS, b'(', b'k', 0x03, 0x00, 0x31, 0x51, 0x30]);
}
