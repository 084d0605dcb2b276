//! Ticket layout to ESC/POS bytes, built with the `escpos` crate.
//!
//! escpos writes the commands: initialisation, justification, character
//! size, reverse video, the text (GB18030, through its encoder) and the QR
//! code. Three things go through its escape hatch (`custom`), each in one
//! function of [`TicketWriter`]: the printer's Chinese mode (`FS &` …
//! `FS .`), which escpos does not know; the cut, because escpos's partial
//! cut is `GS V 41 01` (a full cut) and it cannot feed before cutting; and a
//! QR module size of 16, which escpos clamps to 15. The tests in
//! `drivers/tests/printer_escpos.rs` show each of these against the
//! simulator.

use std::cell::RefCell;
use std::rc::Rc;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{
    Encoder, JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption,
};

use super::error::LayoutError;
use super::layout::{CutMode, PrinterOptions, TicketLayout};
use super::text::{display_width, looks_like_id_number, scrub_id_numbers, wrap, wrap_balanced};

/// Longest QR payload accepted, in bytes: a version 40 symbol at error
/// correction level M holds 2331 bytes.
pub const QR_MAX_PAYLOAD: usize = 2331;

const GS: u8 = 0x1D;
const FS: u8 = 0x1C;

/// Checks that a layout can be printed as given. [`encode_ticket`] never
/// fails, so it silently repairs what this function refuses (it masks
/// ID-like digit runs and leaves out an unusable QR code); a printer calls
/// this first and refuses the job instead.
///
/// A new field of [`TicketLayout`] that is printed belongs in this list too.
pub fn validate_layout(layout: &TicketLayout) -> Result<(), LayoutError> {
    if layout.number.trim().is_empty() {
        return Err(LayoutError::EmptyNumber);
    }
    let mut fields: Vec<(&'static str, &str)> = vec![("hall_name", &layout.hall_name)];
    fields.extend(layout.banner.as_deref().map(|b| ("banner", b)));
    fields.extend([
        ("ahead", layout.ahead.as_str()),
        ("number", &layout.number),
        ("service_name", &layout.service_name),
        ("issued_at", &layout.issued_at),
    ]);
    fields.extend(layout.details.iter().map(|d| ("details", d.as_str())));
    fields.extend(layout.notices.iter().map(|n| ("notices", n.as_str())));
    fields.extend(layout.qr_payload.as_deref().map(|q| ("qr_payload", q)));
    fields.extend(layout.qr_caption.as_deref().map(|c| ("qr_caption", c)));
    for (field, value) in fields {
        if looks_like_id_number(value) {
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
/// hall name at double size (`GS ! 11`), the banner (reverse video, when
/// there is one), the service name, the number at quadruple size
/// (`GS ! 33`), the `ahead` line, the details, the date and time, the QR
/// code (`GS ( k`: model 2, module size, error correction M, store, print)
/// with its caption under it, the notices, `FS .` and the cut (`GS V 42 n`
/// partial or `GS V 41 n` full).
///
/// Never fails: text is wrapped to the paper width by display width (the
/// service name and the `ahead` line are truncated with `…` past two and
/// one lines; the hall name, details, caption and notices are never cut),
/// control characters become spaces, runs of 15+ digits are masked and a
/// QR payload that [`validate_layout`] would refuse is left out, with its
/// caption.
///
/// A new line on the ticket is one more `TicketWriter::text` (or
/// `TicketWriter::headline`, `TicketWriter::paragraph`) call here, in
/// paper order, with how many lines it may wrap over.
pub fn encode_ticket(layout: &TicketLayout, options: &PrinterOptions) -> Vec<u8> {
    let mut t = TicketWriter::new(options.paper.columns());
    t.start();

    t.heading(&layout.hall_name);
    t.blank_line();

    if let Some(banner) = layout.banner.as_deref().filter(|b| !b.trim().is_empty()) {
        t.reverse(true);
        t.headline(banner, 2);
        t.reverse(false);
    }

    let service = scrub_id_numbers(&layout.service_name);
    t.headline(&service, 2);

    t.text(&layout.number, Size::Quadruple, 3);

    t.headline(&layout.ahead, 1);

    for detail in &layout.details {
        t.paragraph(detail);
    }

    t.text(&layout.issued_at, Size::Normal, 1);

    let qr = layout.qr_payload.as_deref().filter(|payload| {
        let problem = qr_problem(payload);
        if let Some(problem) = &problem {
            tracing::warn!(%problem, "qr payload left out of the ticket");
        }
        problem.is_none()
    });
    if let Some(payload) = qr {
        t.blank_line();
        t.qr_code(payload, options.qr_module_size);
        if let Some(caption) = &layout.qr_caption {
            t.paragraph(caption);
        }
    }
    if qr.is_some() || layout.notices.iter().any(|n| !n.trim().is_empty()) {
        t.blank_line();
    }

    for notice in &layout.notices {
        t.paragraph(notice);
    }

    t.finish(options.cut, options.feed_before_cut)
}

/// Character sizes used on tickets (`GS ! n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    Normal,
    DoubleHeight,
    Double,
    Quadruple,
}

impl Size {
    /// Width and height multipliers, as escpos's `size` takes them.
    fn scale(self) -> (u8, u8) {
        match self {
            Size::Normal => (1, 1),
            Size::DoubleHeight => (1, 2),
            Size::Double => (2, 2),
            Size::Quadruple => (4, 4),
        }
    }

    fn width(self) -> usize {
        usize::from(self.scale().0)
    }
}

/// An escpos driver that keeps what it is given: the ticket is built in
/// memory and sent by the printer's own transport in one write.
#[derive(Clone, Default)]
struct Capture(Rc<RefCell<Vec<u8>>>);

impl Driver for Capture {
    fn name(&self) -> String {
        "memory".to_owned()
    }

    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }

    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }

    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// An escpos [`Printer`] writing GB18030 into memory, with the ticket's
/// own building blocks. Text is centred; every line ends with LF.
struct TicketWriter {
    printer: Printer<Capture>,
    out: Capture,
    columns: usize,
}

impl TicketWriter {
    fn new(columns: usize) -> Self {
        let out = Capture::default();
        // GB18030 encodes every Unicode scalar value; "unencodable" is never
        // hit, and allowing it keeps the encoder from refusing a ticket.
        let encoder = Encoder::new(encoding_rs::GB18030).allow_unencodable(true);
        TicketWriter {
            printer: Printer::new(out.clone(), Protocol::new(encoder), None),
            out,
            columns,
        }
    }

    /// Runs one escpos call. escpos refuses only out-of-range values, which
    /// the ticket never passes; should it refuse, that command is left out
    /// (the ticket stays well-formed) and the refusal is logged.
    fn run(
        &mut self,
        what: &'static str,
        step: impl FnOnce(&mut Printer<Capture>) -> escpos::errors::Result<()>,
    ) {
        if let Err(error) = step(&mut self.printer) {
            tracing::error!(what, %error, "escpos refused a ticket command; left out");
        }
    }

    /// `ESC @`, Chinese mode, centred.
    fn start(&mut self) {
        self.run("initialise", |p| p.init().map(drop));
        self.chinese_mode(true);
        self.run("justify", |p| p.justify(JustifyMode::CENTER).map(drop));
    }

    /// `FS &` / `FS .`: the printer's Chinese (GB18030) mode on or off.
    /// escpos has no such page code; this is its escape hatch.
    fn chinese_mode(&mut self, on: bool) {
        let cmd = [FS, if on { b'&' } else { b'.' }];
        self.run("chinese mode", move |p| p.custom(&cmd).map(drop));
    }

    /// Text at double size when it fits on one line so, else at double
    /// height (wrapped over at most `max_lines`).
    fn headline(&mut self, text: &str, max_lines: usize) {
        let size = if display_width(text.trim()) * Size::Double.width() <= self.columns {
            Size::Double
        } else {
            Size::DoubleHeight
        };
        self.text(text, size, max_lines);
    }

    /// The size, then the text wrapped to the columns left at that size
    /// over at most `max_lines` lines, each followed by LF. Nothing (not
    /// even the size) for an empty text.
    fn text(&mut self, text: &str, size: Size, max_lines: usize) {
        let lines = wrap(
            &scrub_id_numbers(text),
            self.columns / size.width(),
            max_lines,
        );
        self.lines(lines, size);
    }

    /// Text at normal size, wrapped over as many lines as it takes: never
    /// cut.
    fn paragraph(&mut self, text: &str) {
        self.text(text, Size::Normal, 0);
    }

    /// Text at double size, wrapped at half the columns over as many lines
    /// as it takes, the lines balanced: never cut.
    fn heading(&mut self, text: &str) {
        let columns = self.columns / Size::Double.width();
        let lines = wrap_balanced(&scrub_id_numbers(text), columns);
        self.lines(lines, Size::Double);
    }

    /// The size, then each line followed by LF; nothing for no line.
    fn lines(&mut self, lines: Vec<String>, size: Size) {
        if lines.is_empty() {
            return;
        }
        let (w, h) = size.scale();
        self.run("size", move |p| p.size(w, h).map(drop));
        for mut line in lines {
            line.push('\n');
            self.run("text", move |p| p.write(&line).map(drop));
        }
    }

    /// An empty line (LF).
    fn blank_line(&mut self) {
        self.run("blank line", |p| p.write("\n").map(drop));
    }

    /// `GS B 1` / `GS B 0`.
    fn reverse(&mut self, on: bool) {
        self.run("reverse", move |p| p.reverse(on).map(drop));
    }

    /// escpos's QR code: `GS ( k` functions 165 (model 2), 167 (module
    /// size), 169 (error correction M), 180 (store) and 181 (print).
    /// escpos clamps the module size to 15 where ESC/POS allows 16; for 16
    /// the size byte of its function 167 is set back.
    fn qr_code(&mut self, payload: &str, module_size: u8) {
        let module_size = module_size.clamp(1, 16);
        self.flush();
        let start = self.out.0.borrow().len();
        let option = QRCodeOption::new(QRCodeModel::Model2, module_size, QRCodeCorrectionLevel::M);
        self.run("qr code", move |p| {
            p.qrcode_option(payload, option).map(drop)
        });
        self.flush();
        // Function 165 (model) is 9 bytes, then function 167: 7 bytes and n.
        let mut out = self.out.0.borrow_mut();
        let size_fn = [GS, b'(', b'k', 0x03, 0x00, 0x31, 0x43];
        if out.get(start + 9..start + 16) == Some(&size_fn[..]) {
            if let Some(n) = out.get_mut(start + 16) {
                *n = module_size;
            }
        }
    }

    /// Hands every command given so far to the capture.
    fn flush(&mut self) {
        self.run("flush", |p| p.print().map(drop));
    }

    /// `FS .`, then feed and cut (`GS V 42 n` or `GS V 41 n`): escpos's cut
    /// does not feed, and its partial cut is a full one. The ticket's bytes.
    fn finish(mut self, cut: CutMode, feed: u8) -> Vec<u8> {
        self.chinese_mode(false);
        let m = match cut {
            CutMode::Partial => 0x42,
            CutMode::Full => 0x41,
        };
        let cmd = [GS, b'V', m, feed];
        self.run("cut", move |p| p.custom(&cmd).map(drop));
        self.flush();
        self.out.0.take()
    }
}
