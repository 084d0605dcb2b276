//! The data a ticket is made of, and the printer options that shape it.

use serde::{Deserialize, Serialize};

/// What the kiosk wants on a ticket. Plain data, already worded by the
/// kiosk: the driver knows nothing of queues and speaks no language, it
/// lays the lines out. There is deliberately no field for a name or an ID
/// number.
///
/// Every text is wrapped to the paper by display width (a CJK character
/// takes two columns); only the fields that say so are ever cut.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TicketLayout {
    /// The service hall's name, printed first at double size (wrapped at
    /// half the columns, lines balanced, never cut).
    pub hall_name: String,
    /// A banner printed in reverse video under the hall's name (the kiosk
    /// gives one for priority tickets, so they are visibly different).
    pub banner: Option<String>,
    /// The ticket number, e.g. `GA012`, printed at quadruple size.
    pub number: String,
    /// The service the ticket is for (wrapped over at most two lines).
    pub service_name: String,
    /// The line under the number, at double size when it fits (the kiosk
    /// says how many people are ahead).
    pub ahead: String,
    /// Paragraphs printed at normal size under the `ahead` line, in order,
    /// each wrapped and never cut (the kiosk says how long, where and what
    /// to bring). Empty ones are left out.
    #[serde(default)]
    pub details: Vec<String>,
    /// Date and time, already formatted by the kiosk (e.g. `2026-11-23 09:41`).
    pub issued_at: String,
    /// Optional QR code payload, typically a progress-query URL.
    pub qr_payload: Option<String>,
    /// What the QR code is for, printed under it, wrapped and never cut;
    /// left out with the QR code when there is none (or it cannot be
    /// printed).
    #[serde(default)]
    pub qr_caption: Option<String>,
    /// Paragraphs printed last at normal size, in order, each wrapped and
    /// never cut (the rules of the ticket, the hall's notices). Empty ones
    /// are left out.
    #[serde(default)]
    pub notices: Vec<String>,
}

/// Paper roll width. Characters per line at normal size: 32 for 58 mm,
/// 48 for 80 mm (a CJK character takes two columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub enum PaperWidth {
    /// 58 mm roll, 32 columns.
    Mm58,
    /// 80 mm roll, 48 columns.
    #[default]
    Mm80,
}

impl PaperWidth {
    /// Columns per line at normal character size.
    pub fn columns(self) -> usize {
        match self {
            PaperWidth::Mm58 => 32,
            PaperWidth::Mm80 => 48,
        }
    }

    /// The width in millimetres.
    pub fn mm(self) -> u16 {
        match self {
            PaperWidth::Mm58 => 58,
            PaperWidth::Mm80 => 80,
        }
    }
}

impl TryFrom<u16> for PaperWidth {
    type Error = String;
    fn try_from(mm: u16) -> Result<Self, Self::Error> {
        match mm {
            58 => Ok(PaperWidth::Mm58),
            80 => Ok(PaperWidth::Mm80),
            other => Err(format!("paper width {other} mm: expected 58 or 80")),
        }
    }
}

impl From<PaperWidth> for u16 {
    fn from(w: PaperWidth) -> u16 {
        w.mm()
    }
}

/// How the ticket is cut off the roll (`GS V 42 n` / `GS V 41 n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CutMode {
    /// Feed, then partial cut (`GS V 42 n`): works on every Chinese printer.
    #[default]
    Partial,
    /// Feed, then full cut (`GS V 41 n`).
    Full,
}

/// Device-dependent options of the encoder; they come from the printer
/// configuration, not from the kiosk's ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterOptions {
    /// Paper roll width.
    pub paper: PaperWidth,
    /// Cut mode.
    pub cut: CutMode,
    /// Motion units (`n` of `GS V m n`) fed before the cut, so the last line
    /// clears the cutter.
    pub feed_before_cut: u8,
    /// QR module size in dots (1..=16).
    pub qr_module_size: u8,
}

impl Default for PrinterOptions {
    fn default() -> Self {
        PrinterOptions {
            paper: PaperWidth::Mm80,
            cut: CutMode::Partial,
            feed_before_cut: 48,
            qr_module_size: 6,
        }
    }
}
