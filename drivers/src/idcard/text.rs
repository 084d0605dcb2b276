//! The 256-byte text block of a GA 467 read: UCS-2 little-endian,
//! space-padded fixed fields, in four layouts chosen by the card type at
//! offset 248.
//!
//! [`decode`] turns a block into a [`CardRead`]; [`encode`] is its inverse
//! (used by the simulator and by tests to make fake people).
//!
//! The document types themselves live in [`crate::document`] (re-exported
//! here); personal data in them prints masked only.

use chrono::NaiveDate;

pub use crate::document::{CardDetails, CardKind, CardRead, DocumentId, Expiry, Private, Sex};
use crate::id_number::{IdNumber, IdNumberError};

/// Size of the text block.
pub const TEXT_LEN: usize = 256;
/// Offset of the two card-type bytes.
const TYPE_AT: usize = 248;

/// Why a text block is not a usable card (English, for the log; the kiosk
/// words a [`crate::card::ReadFailure::BadCard`] for the resident).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The block is not 256 bytes.
    #[error("text block of {0} bytes, expected 256")]
    Length(usize),
    /// The GB 11643 number on a resident card or permit is invalid.
    #[error("invalid identity number: {0}")]
    IdNumber(#[from] IdNumberError),
    /// A date field is not a real `YYYYMMDD` date.
    #[error("invalid {0}")]
    Date(&'static str),
    /// The birth date field disagrees with the identity number.
    #[error("birth date disagrees with the identity number")]
    BirthDateMismatch,
    /// A required field is empty.
    #[error("missing {0}")]
    Missing(&'static str),
}

/// Reads the UCS-2LE field `[at, at + len)`, trimming padding.
fn field(block: &[u8], at: usize, len: usize) -> String {
    let bytes = block.get(at..at + len).unwrap_or(&[]);
    let units = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect::<String>()
        .trim_end_matches([' ', '\0', '\u{3000}'])
        .trim_start()
        .to_string()
}

fn date(s: &str, what: &'static str) -> Result<NaiveDate, TextError> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TextError::Date(what));
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").map_err(|_| TextError::Date(what))
}

fn expiry(s: &str) -> Result<Expiry, TextError> {
    if s.starts_with("长期") {
        Ok(Expiry::LongTerm)
    } else {
        date(s, "valid-to date").map(Expiry::Date)
    }
}

fn gb_number(s: &str, birth: NaiveDate) -> Result<DocumentId, TextError> {
    let n = IdNumber::parse(s)?;
    let (y, m, d) = n.birth_date();
    if NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d)) != Some(birth) {
        return Err(TextError::BirthDateMismatch);
    }
    Ok(DocumentId::Gb11643(n))
}

/// The card type of a block (resident unless offset 248 says `J`, `I`, `Y`).
pub fn kind_of(block: &[u8]) -> CardKind {
    match block.get(TYPE_AT..TYPE_AT + 2) {
        Some([b'J', 0]) => CardKind::HkMacauTaiwanPermit,
        Some([b'I', 0]) => CardKind::ForeignPermanent2017,
        Some([b'Y', 0]) => CardKind::Foreign2023,
        _ => CardKind::Resident,
    }
}

/// Decodes a 256-byte text block.
pub fn decode(block: &[u8]) -> Result<CardRead, TextError> {
    if block.len() != TEXT_LEN {
        return Err(TextError::Length(block.len()));
    }
    let f = |at, len| field(block, at, len);
    let kind = kind_of(block);
    match kind {
        CardKind::Resident | CardKind::HkMacauTaiwanPermit => {
            let birth_date = date(&f(36, 16), "birth date")?;
            let id_number = gb_number(&f(122, 36), birth_date)?;
            let address = Private::new(f(52, 70));
            let authority = f(158, 30);
            let details = if kind == CardKind::Resident {
                CardDetails::Resident {
                    nation: f(32, 4),
                    address,
                    authority,
                }
            } else {
                CardDetails::HkMacauTaiwanPermit {
                    address,
                    authority,
                    pass_number: Private::new(f(220, 18)),
                    issue_count: f(238, 4),
                }
            };
            Ok(CardRead {
                kind,
                name: Private::new(f(0, 30)),
                sex: Sex::from_code(&f(30, 2)),
                birth_date,
                id_number,
                valid_from: date(&f(188, 16), "valid-from date")?,
                valid_to: expiry(&f(204, 16))?,
                details,
            })
        }
        CardKind::ForeignPermanent2017 => {
            let number = f(122, 30);
            if number.is_empty() {
                return Err(TextError::Missing("identity number"));
            }
            Ok(CardRead {
                kind,
                name: Private::new(f(158, 30)),
                sex: Sex::from_code(&f(120, 2)),
                birth_date: date(&f(220, 16), "birth date")?,
                id_number: DocumentId::Foreign(Private::new(number)),
                valid_from: date(&f(188, 16), "valid-from date")?,
                valid_to: expiry(&f(204, 16))?,
                details: CardDetails::ForeignPermanent2017 {
                    english_name: Private::new(f(0, 120)),
                    nationality: f(152, 6),
                    card_version: f(236, 4),
                    authority_code: f(240, 8),
                },
            })
        }
        CardKind::Foreign2023 => {
            let number = f(122, 36);
            if number.is_empty() {
                return Err(TextError::Missing("identity number"));
            }
            // The English name runs on from part 1 (70 bytes) into part 2.
            let mut english = String::new();
            english.push_str(&raw_field(block, 52, 70));
            english.push_str(&raw_field(block, 220, 22));
            Ok(CardRead {
                kind,
                name: Private::new(f(0, 30)),
                sex: Sex::from_code(&f(30, 2)),
                birth_date: date(&f(36, 16), "birth date")?,
                id_number: DocumentId::Foreign(Private::new(number)),
                valid_from: date(&f(188, 16), "valid-from date")?,
                valid_to: expiry(&f(204, 16))?,
                details: CardDetails::Foreign2023 {
                    english_name: Private::new(english.trim().to_string()),
                    nationality: f(242, 6),
                    renewal_count: f(32, 4),
                    old_card_link: f(250, 6),
                },
            })
        }
    }
}

/// A field without trimming (for names split over two fields).
fn raw_field(block: &[u8], at: usize, len: usize) -> String {
    let bytes = block.get(at..at + len).unwrap_or(&[]);
    let units = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .filter(|c| *c != '\0')
        .collect()
}

/// Writes `s` as UCS-2LE into `[at, at + len)`, truncated to fit (characters
/// outside the BMP become `?`); the rest stays space padding.
fn put(block: &mut [u8], at: usize, len: usize, s: &str) {
    let units = s.chars().map(|c| {
        let mut b = [0u16; 2];
        match c.encode_utf16(&mut b) {
            [u] => *u,
            _ => u16::from(b'?'),
        }
    });
    for (i, u) in units.take(len / 2).enumerate() {
        let [lo, hi] = u.to_le_bytes();
        block[at + 2 * i] = lo;
        block[at + 2 * i + 1] = hi;
    }
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

fn expiry_text(e: Expiry) -> String {
    match e {
        Expiry::Date(d) => ymd(d),
        Expiry::LongTerm => "长期".to_string(),
    }
}

/// Builds the text block of a card (the inverse of [`decode`]). The layout
/// follows `card.details`; `card.kind` is written from it too.
pub fn encode(card: &CardRead) -> [u8; TEXT_LEN] {
    let mut b = [0u8; TEXT_LEN];
    for pair in b.chunks_exact_mut(2) {
        pair[0] = b' ';
    }
    let p = &mut b;
    match &card.details {
        CardDetails::Resident { .. } | CardDetails::HkMacauTaiwanPermit { .. } => {
            put(p, 0, 30, card.name.expose());
            put(p, 30, 2, card.sex.code());
            put(p, 36, 16, &ymd(card.birth_date));
            put(p, 122, 36, card.id_number.expose());
            put(p, 188, 16, &ymd(card.valid_from));
            put(p, 204, 16, &expiry_text(card.valid_to));
            match &card.details {
                CardDetails::Resident {
                    nation,
                    address,
                    authority,
                } => {
                    put(p, 32, 4, nation);
                    put(p, 52, 70, address.expose());
                    put(p, 158, 30, authority);
                }
                CardDetails::HkMacauTaiwanPermit {
                    address,
                    authority,
                    pass_number,
                    issue_count,
                } => {
                    put(p, 52, 70, address.expose());
                    put(p, 158, 30, authority);
                    put(p, 220, 18, pass_number.expose());
                    put(p, 238, 4, issue_count);
                    put(p, TYPE_AT, 2, "J");
                }
                _ => {}
            }
        }
        CardDetails::ForeignPermanent2017 {
            english_name,
            nationality,
            card_version,
            authority_code,
        } => {
            put(p, 0, 120, english_name.expose());
            put(p, 120, 2, card.sex.code());
            put(p, 122, 30, card.id_number.expose());
            put(p, 152, 6, nationality);
            put(p, 158, 30, card.name.expose());
            put(p, 188, 16, &ymd(card.valid_from));
            put(p, 204, 16, &expiry_text(card.valid_to));
            put(p, 220, 16, &ymd(card.birth_date));
            put(p, 236, 4, card_version);
            put(p, 240, 8, authority_code);
            put(p, TYPE_AT, 2, "I");
        }
        CardDetails::Foreign2023 {
            english_name,
            nationality,
            renewal_count,
            old_card_link,
        } => {
            put(p, 0, 30, card.name.expose());
            put(p, 30, 2, card.sex.code());
            put(p, 32, 4, renewal_count);
            put(p, 36, 16, &ymd(card.birth_date));
            let name: Vec<char> = english_name.expose().chars().collect();
            let (first, second) = name.split_at(name.len().min(35));
            put(p, 52, 70, &first.iter().collect::<String>());
            put(p, 122, 36, card.id_number.expose());
            put(p, 188, 16, &ymd(card.valid_from));
            put(p, 204, 16, &expiry_text(card.valid_to));
            put(p, 220, 22, &second.iter().collect::<String>());
            put(p, 242, 6, nationality);
            put(p, TYPE_AT, 2, "Y");
            put(p, 250, 6, old_card_link);
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idcard::sim::fake;

    #[test]
    fn round_trips_every_kind() {
        for card in [
            fake::resident(1),
            fake::permit(2),
            fake::foreign_2017(3),
            fake::foreign_2023(4),
        ] {
            let block = encode(&card);
            assert_eq!(decode(&block).unwrap(), card);
        }
    }

    #[test]
    fn long_english_name_spans_both_parts() {
        let mut card = fake::foreign_2023(5);
        let long = "MARIA ALEJANDRA DE LOS ANGELES GONZALEZ RUIZ";
        if let CardDetails::Foreign2023 { english_name, .. } = &mut card.details {
            *english_name = Private::new(long);
        }
        let back = decode(&encode(&card)).unwrap();
        match back.details {
            CardDetails::Foreign2023 { english_name, .. } => {
                assert_eq!(english_name.expose(), long)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_check_digit_is_a_read_error() {
        let mut block = encode(&fake::resident(7));
        // Change the last digit of the number (offset 122 + 17 * 2).
        let at = 122 + 34;
        block[at] = if block[at] == b'0' { b'1' } else { b'0' };
        assert!(matches!(decode(&block), Err(TextError::IdNumber(_))));
    }

    #[test]
    fn long_term_validity() {
        let mut card = fake::resident(8);
        card.valid_to = Expiry::LongTerm;
        assert_eq!(decode(&encode(&card)).unwrap().valid_to, Expiry::LongTerm);
    }

    #[test]
    fn debug_output_is_masked() {
        let card = fake::resident(9);
        let dbg = format!("{card:?}");
        assert!(!dbg.contains(card.id_number.expose()), "{dbg}");
        assert!(!dbg.contains(card.name.expose()), "{dbg}");
        assert!(dbg.contains(&card.id_number.masked()));
    }

    #[test]
    fn short_block_and_garbage_do_not_panic() {
        assert_eq!(decode(&[0; 10]), Err(TextError::Length(10)));
        assert!(decode(&[0xFF; 256]).is_err());
        let mut odd = [0xD8u8; 256];
        odd[248] = b'Y';
        odd[249] = 0;
        assert!(decode(&odd).is_err());
    }
}
