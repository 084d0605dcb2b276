//! Synthetic bureau exports for tests and benchmarks: realistic columns,
//! valid identity numbers (real area codes, real birth dates, correct check
//! digits), fake names, categories and end dates in mixed date formats.
//!
//! Identity numbers are unique within one export for up to 480 million
//! rows: row `i` maps one-to-one to (area, birth date, sequence). The same
//! `(rows, seed)` always gives the same bytes.

use std::io::{self, Write};

use greenwave_drivers::id_number::check_digit;

/// The categories used by generated exports, in this order.
pub const SYNTHETIC_CATEGORIES: [&str; 4] = ["低保", "特困", "低保边缘", "临时救助"];

/// Header row of generated exports.
pub const SYNTHETIC_HEADER: &str = "序号,姓名,身份证号码,救助类别,有效期至,所属街道";

/// Encoding of a generated CSV export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntheticFormat {
    /// UTF-8, no BOM.
    CsvUtf8,
    /// UTF-8 with a byte-order mark (as Excel writes "CSV UTF-8").
    CsvUtf8Bom,
    /// GB18030 (as Excel on a Chinese Windows writes plain "CSV").
    CsvGb18030,
}

const AREAS: [&str; 20] = [
    "110101", "110105", "120101", "310101", "310115", "320102", "330106", "370102", "370211",
    "371702", "410105", "420106", "440106", "440305", "500103", "510107", "610113", "130102",
    "210102", "230102",
];
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹";
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧建国平红霞桂兰玉珍凤";
const STREETS: [&str; 5] = ["东城街道", "西城街道", "南关街道", "北苑街道", "城关镇"];

/// Days from 1940-01-01 to 2005-12-31, the birth-date range used.
const BIRTH_DAYS: u64 = 24_107;
/// Three-digit sequence numbers per area and date.
const SEQS: u64 = 1000;

/// splitmix64: small, seedable, good enough for fake data (the city's
/// synthetic hall days use it too).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days-to-civil, days since 1970-01-01.
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The identity number of row `index` for `seed`: unique per index for
/// fewer than 20 × 24,107 × 1000 rows.
pub fn synthetic_id(index: u64, seed: u64) -> String {
    let space = AREAS.len() as u64 * BIRTH_DAYS * SEQS;
    // An odd multiplier co-prime with the space gives a bijection that
    // scatters consecutive rows across areas and dates.
    let k = (index.wrapping_mul(2_654_435_761) + seed % space) % space;
    let area = AREAS[(k % AREAS.len() as u64) as usize];
    let rest = k / AREAS.len() as u64;
    let day = rest % BIRTH_DAYS;
    let seq = rest / BIRTH_DAYS;
    // 1940-01-01 is day -10957 since 1970.
    let (y, m, d) = civil_from_days(-10_958 + day as i64);
    let first17 = format!("{area}{y:04}{m:02}{d:02}{seq:03}");
    let c = check_digit(first17.as_bytes()) as char;
    format!("{first17}{c}")
}

/// Writes a synthetic export of `rows` data rows (plus the header row
/// [`SYNTHETIC_HEADER`]) to `writer`.
pub fn generate_synthetic_export<W: Write>(
    rows: u64,
    seed: u64,
    format: SyntheticFormat,
    writer: W,
) -> io::Result<()> {
    let mut w = io::BufWriter::with_capacity(1 << 16, writer);
    if format == SyntheticFormat::CsvUtf8Bom {
        w.write_all(b"\xEF\xBB\xBF")?;
    }
    let mut rng = Rng(seed ^ 0x5EED_0F6E_E4A7_E5C3);
    let surnames: Vec<char> = SURNAMES.chars().collect();
    let given: Vec<char> = GIVEN.chars().collect();
    let mut line = String::with_capacity(128);
    let emit = |w: &mut io::BufWriter<W>, line: &str| -> io::Result<()> {
        match format {
            SyntheticFormat::CsvGb18030 => {
                let (bytes, _, _) = encoding_rs::GB18030.encode(line);
                w.write_all(&bytes)
            }
            _ => w.write_all(line.as_bytes()),
        }
    };
    emit(&mut w, &format!("{SYNTHETIC_HEADER}\r\n"))?;
    for i in 0..rows {
        line.clear();
        let mut name = String::new();
        name.push(surnames[rng.below(surnames.len() as u64) as usize]);
        for _ in 0..=rng.below(2) {
            name.push(given[rng.below(given.len() as u64) as usize]);
        }
        let category = match rng.below(100) {
            0..=59 => 0,
            60..=74 => 1,
            75..=94 => 2,
            _ => 3,
        };
        let valid_to = if rng.below(10) < 3 {
            String::new()
        } else {
            // 2025-01-01 .. about 2029.
            let (y, m, d) = civil_from_days(20_089 + rng.below(1500) as i64);
            match rng.below(3) {
                0 => format!("{y}-{m:02}-{d:02}"),
                1 => format!("{y}/{m}/{d}"),
                _ => format!("{y}{m:02}{d:02}"),
            }
        };
        let street = STREETS[rng.below(STREETS.len() as u64) as usize];
        use std::fmt::Write as _;
        let _ = write!(
            line,
            "{},{},{},{},{},{}\r\n",
            i + 1,
            name,
            synthetic_id(i, seed),
            SYNTHETIC_CATEGORIES[category],
            valid_to,
            street
        );
        emit(&mut w, &line)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenwave_drivers::id_number::IdNumber;
    use std::collections::HashSet;

    #[test]
    fn ids_are_valid_and_unique() {
        let mut seen = HashSet::new();
        for i in 0..20_000 {
            let id = synthetic_id(i, 42);
            let parsed = IdNumber::parse(&id).expect("valid synthetic id");
            let (y, _, _) = parsed.birth_date();
            assert!((1940..=2005).contains(&y));
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn days_to_civil_matches_known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-10_958), (1940, 1, 1));
        assert_eq!(civil_from_days(20_089), (2025, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn deterministic_and_encoded_as_asked() {
        let gen = |f| {
            let mut v = Vec::new();
            generate_synthetic_export(50, 7, f, &mut v).unwrap();
            v
        };
        let a = gen(SyntheticFormat::CsvUtf8);
        assert_eq!(a, gen(SyntheticFormat::CsvUtf8));
        assert_ne!(a, {
            let mut v = Vec::new();
            generate_synthetic_export(50, 8, SyntheticFormat::CsvUtf8, &mut v).unwrap();
            v
        });
        let text = String::from_utf8(a.clone()).unwrap();
        assert!(text.starts_with(SYNTHETIC_HEADER));
        assert_eq!(text.lines().count(), 51);
        let bom = gen(SyntheticFormat::CsvUtf8Bom);
        assert_eq!(&bom[..3], b"\xEF\xBB\xBF");
        assert_eq!(&bom[3..], &a[..]);
        let gb = gen(SyntheticFormat::CsvGb18030);
        assert!(std::str::from_utf8(&gb).is_err());
        let (decoded, _, bad) = encoding_rs::GB18030.decode(&gb);
        assert!(!bad);
        assert_eq!(decoded, text);
    }
}
