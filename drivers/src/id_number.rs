//! Resident identity numbers (GB 11643-1999): parsing, check digit, birth
//! date, and masking.
//!
//! An [`IdNumber`] never shows itself in full through `Debug` or `Display`:
//! both print the masked form `3717**********1234`, so that a stray `{:?}` in
//! a log line cannot leak personal data. Use [`IdNumber::expose`] where the
//! full number is genuinely needed (hashing it for a roster lookup).

use std::fmt;

/// Weights of the 17 leading digits in the GB 11643 check-digit sum.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each value of the weighted sum modulo 11.
const CHECK: [u8; 11] = *b"10X98765432";

/// Why a string is not a valid identity number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// Not 18 characters after trimming.
    #[error("ID number has {0} characters, expected 18")]
    Length(usize),
    /// A character other than a digit (or `X` in the last place).
    #[error("ID number character {0} is not a digit")]
    BadCharacter(usize),
    /// The birth date (characters 7–14) is not a real calendar date.
    #[error("ID number holds an impossible birth date")]
    BirthDate,
    /// The last character does not match the GB 11643 check digit.
    #[error("ID number check digit is wrong")]
    CheckDigit,
}

/// A validated, normalised 18-character identity number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses and validates an identity number. Surrounding whitespace is
    /// ignored, full-width digits and `Ｘ` are accepted, a lower-case `x` is
    /// normalised to `X`.
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let normalised: String = input.trim().chars().map(normalise_char).collect();
        let len = normalised.chars().count();
        if len != 18 {
            return Err(IdNumberError::Length(len));
        }
        let bytes = normalised.as_bytes();
        // 18 chars and len == bytes: everything is ASCII if the counts agree.
        if bytes.len() != 18 {
            let pos = normalised
                .chars()
                .position(|c| !c.is_ascii())
                .map_or(1, |p| p + 1);
            return Err(IdNumberError::BadCharacter(pos));
        }
        for (i, b) in bytes.iter().enumerate() {
            let ok = b.is_ascii_digit() || (i == 17 && *b == b'X');
            if !ok {
                return Err(IdNumberError::BadCharacter(i + 1));
            }
        }
        let year = digits(&bytes[6..10]);
        let month = digits(&bytes[10..12]);
        let day = digits(&bytes[12..14]);
        if !(1900..=2099).contains(&year) || !is_real_date(year, month, day) {
            return Err(IdNumberError::BirthDate);
        }
        if check_digit(bytes) != bytes[17] {
            return Err(IdNumberError::CheckDigit);
        }
        Ok(IdNumber(normalised))
    }

    /// The full number. Only for hashing and for the card reader's own
    /// validation; never log, print or store what this returns.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Birth date as (year, month, day).
    pub fn birth_date(&self) -> (u16, u8, u8) {
        let b = self.0.as_bytes();
        (
            digits(&b[6..10]) as u16,
            digits(&b[10..12]) as u8,
            digits(&b[12..14]) as u8,
        )
    }

    /// The masked form, `3717**********1234`.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Masks any identifier-like string for logs and screens: the first four and
/// the last four characters stay, everything between becomes `*`. Strings of
/// eight characters or fewer are masked entirely.
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.trim().chars().collect();
    let n = chars.len();
    if n <= 8 {
        return "*".repeat(n);
    }
    let mut out = String::with_capacity(n);
    out.extend(&chars[..4]);
    out.extend(std::iter::repeat_n('*', n - 8));
    out.extend(&chars[n - 4..]);
    out
}

/// The GB 11643 check character for the first 17 digits of `bytes`.
/// `bytes` must hold at least 17 ASCII digits.
pub fn check_digit(bytes: &[u8]) -> u8 {
    let sum: u32 = bytes[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

fn normalise_char(c: char) -> char {
    match c {
        '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
        'x' | 'Ｘ' | 'ｘ' => 'X',
        _ => c,
    }
}

fn digits(b: &[u8]) -> u32 {
    b.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
}

fn is_real_date(year: u32, month: u32, day: u32) -> bool {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a valid number from 17 digits by appending the check digit.
    fn with_check(first17: &str) -> String {
        let c = check_digit(first17.as_bytes()) as char;
        format!("{first17}{c}")
    }

    #[test]
    fn accepts_a_published_example() {
        // The example number from GB 11643's annex.
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), (1949, 12, 31));
        assert_eq!(id.expose(), "11010519491231002X");
    }

    #[test]
    fn normalises_lower_case_and_full_width() {
        let id = IdNumber::parse(" １１０１０５１９４９１２３１００２x ").unwrap();
        assert_eq!(id.expose(), "11010519491231002X");
    }

    #[test]
    fn rejects_wrong_check_digit() {
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::CheckDigit)
        );
    }

    #[test]
    fn rejects_impossible_birth_dates() {
        for date in ["19490230", "20230229", "19491301", "18991231"] {
            let n = with_check(&format!("110105{date}002"));
            assert_eq!(IdNumber::parse(&n), Err(IdNumberError::BirthDate), "{date}");
        }
        assert!(IdNumber::parse(&with_check("11010520000229002")).is_ok());
    }

    #[test]
    fn rejects_wrong_length_and_characters() {
        assert_eq!(IdNumber::parse("1234"), Err(IdNumberError::Length(4)));
        assert_eq!(
            IdNumber::parse("1101051949123100XX"),
            Err(IdNumberError::BadCharacter(17))
        );
        assert_eq!(
            IdNumber::parse("11010519491231002号"),
            Err(IdNumberError::BadCharacter(18))
        );
    }

    #[test]
    fn debug_and_display_never_show_the_full_number() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(format!("{id}"), "1101**********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(1101**********002X)");
    }

    #[test]
    fn mask_keeps_four_and_four() {
        assert_eq!(mask("371702198001011234"), "3717**********1234");
        assert_eq!(mask("12345678"), "********");
    }
}
