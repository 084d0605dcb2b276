//! Preparing a roster file from the bureau's export: validate, hash, drop
//! everything else, sort, deduplicate, diff (for a delta) and sign.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use greenwave_drivers::id_number::{mask, IdNumber, IdNumberError};

use super::export::{read_export, ColumnMap, ExportError, ExportFormat, ExportRow};
use super::file::{
    decode_date, encode_date, FormatError, RosterHeader, RosterKind, RosterMeta, RosterWriter,
};
use super::keys::HashKey;
use super::sort::{ExternalSorter, Sorted};
use super::{Categories, RosterEntry};

/// At most this many rejected rows and duplicates are listed one by one
/// in a report; the totals are always exact.
pub const MAX_LISTED: usize = 10_000;

/// Packed sort record: hash (32), line (u32), category (1), date (u32).
const PACKED: usize = 41;
type Packed = [u8; PACKED];

/// Options of [`prepare`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareOptions {
    /// Leave out invalid rows (listed in the report) instead of refusing
    /// the whole export.
    pub skip_invalid: bool,
    /// The previous export: when given, a delta against it is written
    /// instead of a full roster.
    pub delta_from: Option<PathBuf>,
    /// The roster version the delta applies to; `None` means
    /// `version - 1`. Ignored without `delta_from`.
    pub base_version: Option<u64>,
    /// Where sort runs and the roster body are spooled (hashes only);
    /// the system temporary directory if `None`.
    pub temp_dir: Option<PathBuf>,
    /// Records sorted in memory at a time (41 bytes each); the default
    /// of 1 Mi records keeps sort memory near 45 MB for any export size.
    pub sort_chunk_rows: usize,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        PrepareOptions {
            skip_invalid: false,
            delta_from: None,
            base_version: None,
            temp_dir: None,
            sort_chunk_rows: 1 << 20,
        }
    }
}

/// Which export a reported row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The export being prepared.
    Export,
    /// The previous export given as `delta_from`.
    Previous,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Export => "export",
            Source::Previous => "previous export",
        })
    }
}

/// How many lines of each reason the summary names.
pub const SUMMARY_LINES: usize = 20;

/// Invalid rows of one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCount {
    /// The reason, its numbers as `N` (`ID number has N characters,
    /// expected N`).
    pub reason: String,
    /// How many rows.
    pub count: u64,
    /// The first [`SUMMARY_LINES`] of them.
    pub first_lines: Vec<(Source, u64)>,
}

/// A reason with its numbers replaced by `N`, so that rows wrong in the
/// same way count together.
fn reason_kind(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut in_number = false;
    for c in reason.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

/// An invalid row, left out (or the reason the export was refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// Which export.
    pub source: Source,
    /// CSV physical line (header is line 1) or sheet row number.
    pub line: u64,
    /// The identity number masked (`1101**********002X`), if there was one.
    pub masked_id: Option<String>,
    /// Why the row is invalid.
    pub reason: String,
}

/// A row whose identity number already appeared on an earlier line; the
/// earlier row is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateRow {
    /// Which export.
    pub source: Source,
    /// The line left out.
    pub line: u64,
    /// The line kept.
    pub first_line: u64,
    /// Whether category or end date differ from the kept row.
    pub conflicting: bool,
}

/// What [`prepare`] did. Holds no identity number in full and no name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareReport {
    /// Detected format of the export.
    pub format: Option<ExportFormat>,
    /// Data rows in the export (blank rows not counted).
    pub rows_read: u64,
    /// Data rows in the previous export, for a delta.
    pub previous_rows_read: Option<u64>,
    /// Invalid rows, at most [`MAX_LISTED`], in file order per source.
    pub rejected: Vec<RejectedRow>,
    /// Number of invalid rows.
    pub rejected_total: u64,
    /// Duplicate rows left out, at most [`MAX_LISTED`].
    pub duplicates: Vec<DuplicateRow>,
    /// Number of duplicate rows left out.
    pub duplicates_total: u64,
    /// Residents per category in the export after validation and
    /// deduplication, category index order.
    pub per_category: Vec<(String, u64)>,
    /// Valid rows read per category (before deduplication), category
    /// index order: what a refused run shows, since it never deduplicates.
    pub valid_per_category: Vec<(String, u64)>,
    /// Invalid rows per reason (numbers in it as `N`), with the first
    /// [`SUMMARY_LINES`] lines of each: the report's summary.
    pub reasons: Vec<ReasonCount>,
    /// The header written; `None` if nothing was written.
    pub header: Option<RosterHeader>,
}

impl PrepareReport {
    /// A report with nothing read yet, a zero count per category.
    fn empty(categories: &Categories) -> PrepareReport {
        PrepareReport {
            format: None,
            rows_read: 0,
            previous_rows_read: None,
            rejected: Vec::new(),
            rejected_total: 0,
            duplicates: Vec::new(),
            duplicates_total: 0,
            per_category: categories.names().iter().map(|n| (n.clone(), 0)).collect(),
            valid_per_category: categories.names().iter().map(|n| (n.clone(), 0)).collect(),
            reasons: Vec::new(),
            header: None,
        }
    }

    fn reject(&mut self, r: RejectedRow) {
        self.rejected_total += 1;
        let kind = reason_kind(&r.reason);
        let at = match self.reasons.iter().position(|c| c.reason == kind) {
            Some(i) => i,
            None => {
                self.reasons.push(ReasonCount {
                    reason: kind,
                    count: 0,
                    first_lines: Vec::new(),
                });
                self.reasons.len() - 1
            }
        };
        let c = &mut self.reasons[at];
        c.count += 1;
        if c.first_lines.len() < SUMMARY_LINES {
            c.first_lines.push((r.source, r.line));
        }
        if self.rejected.len() < MAX_LISTED {
            self.rejected.push(r);
        }
    }
}

/// The report for a terminal: the summary, without the list of every
/// invalid and duplicate row (which the report file holds).
pub struct Summary<'a>(pub &'a PrepareReport);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(f, false)
    }
}

impl fmt::Display for PrepareReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, true)
    }
}

impl PrepareReport {
    /// The report; `full`: with every invalid and duplicate row listed.
    fn write(&self, f: &mut fmt::Formatter<'_>, full: bool) -> fmt::Result {
        if let Some(fmt) = &self.format {
            writeln!(f, "format: {fmt}")?;
        }
        writeln!(f, "data rows: {}", self.rows_read)?;
        if let Some(p) = self.previous_rows_read {
            writeln!(f, "previous export data rows: {p}")?;
        }
        // A refused run never deduplicates: it shows the valid rows it read.
        let refused = self.header.is_none() && self.rejected_total > 0;
        let counts = if refused {
            writeln!(f, "valid rows read, per category (before duplicates):")?;
            &self.valid_per_category
        } else {
            &self.per_category
        };
        for (name, n) in counts {
            writeln!(f, "  {name}: {n}")?;
        }
        writeln!(f, "invalid rows: {}", self.rejected_total)?;
        if !self.reasons.is_empty() {
            writeln!(
                f,
                "invalid rows by reason (the first {SUMMARY_LINES} lines of each):"
            )?;
            for c in &self.reasons {
                let lines: Vec<String> = c
                    .first_lines
                    .iter()
                    .map(|(s, l)| match s {
                        Source::Export => l.to_string(),
                        Source::Previous => format!("previous {l}"),
                    })
                    .collect();
                let more = if c.count > c.first_lines.len() as u64 {
                    ", …"
                } else {
                    ""
                };
                let word = if c.count == 1 { "line" } else { "lines" };
                writeln!(
                    f,
                    "  {:>7}  {}: {word} {}{more}",
                    c.count,
                    c.reason,
                    lines.join(", ")
                )?;
            }
            if full {
                writeln!(f, "every invalid row:")?;
            }
        }
        for r in self.rejected.iter().filter(|_| full) {
            write!(f, "  {} line {}: {}", r.source, r.line, r.reason)?;
            match &r.masked_id {
                Some(m) => writeln!(f, " ({m})")?,
                None => writeln!(f)?,
            }
        }
        writeln!(f, "duplicate rows left out: {}", self.duplicates_total)?;
        for d in self
            .duplicates
            .iter()
            .take(if full { usize::MAX } else { SUMMARY_LINES })
        {
            writeln!(
                f,
                "  {} line {}: same ID number as line {}{}",
                d.source,
                d.line,
                d.first_line,
                if d.conflicting {
                    ", with a different category or end date (line kept: the first)"
                } else {
                    ""
                }
            )?;
        }
        if let Some(h) = &self.header {
            match h.meta.kind {
                RosterKind::Full => writeln!(
                    f,
                    "wrote full roster version {}: {} entries",
                    h.meta.version, h.entry_count
                )?,
                RosterKind::Delta { base_version } => writeln!(
                    f,
                    "wrote delta {base_version} -> {}: {} added or changed, {} removed",
                    h.meta.version, h.entry_count, h.remove_count
                )?,
            }
            writeln!(f, "body sha256: {}", hex::encode(h.body_digest))?;
        }
        Ok(())
    }
}

/// Why [`prepare`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The export (or previous export) cannot be read.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// Writing the roster file failed.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// Sorting (temporary files) failed.
    #[error("sorting the roster failed: {0}")]
    Io(#[from] io::Error),
    /// Invalid rows and `skip_invalid` not set. The report lists them.
    #[error("export refused: {} invalid row(s){}; fix them, or prepare with skip-invalid to leave them out", report.rejected_total, first_reason(report))]
    Refused {
        /// Everything found, including each invalid row.
        report: Box<PrepareReport>,
    },
    /// A full roster with no valid row would empty every hall's roster.
    #[error("export has no valid row: refusing to write an empty full roster")]
    EmptyRoster {
        /// Everything found.
        report: Box<PrepareReport>,
    },
    /// Version numbers that cannot be.
    #[error("invalid roster version: {0}")]
    Version(String),
    /// A file with more lines than a roster record can number.
    #[error("export has more than {} lines", u32::MAX)]
    TooManyLines,
}

fn first_reason(r: &PrepareReport) -> String {
    r.rejected.first().map_or_else(String::new, |x| {
        format!(" (first: {} line {}: {})", x.source, x.line, x.reason)
    })
}

fn id_reason(e: &IdNumberError) -> String {
    match e {
        IdNumberError::Length(n) => format!("ID number has {n} characters, expected 18"),
        IdNumberError::BadCharacter(p) => format!("ID number character {p} is not a digit"),
        IdNumberError::BirthDate => "ID number holds an impossible birth date".to_owned(),
        IdNumberError::CheckDigit => "ID number check digit is wrong".to_owned(),
    }
}

/// Validates one row into a packed sort record, or says why it is invalid.
fn validate(
    row: &ExportRow,
    categories: &Categories,
    key: &HashKey,
) -> Result<Packed, (String, Option<String>)> {
    let raw = row.id.as_ref().map_err(|e| (e.clone(), None))?;
    let masked = Some(mask(raw));
    let id = IdNumber::parse(raw).map_err(|e| (id_reason(&e), masked.clone()))?;
    let masked = Some(id.masked());
    let category = if row.category.is_empty() {
        return Err(("the category cell is empty".to_owned(), masked));
    } else {
        categories.index_of(&row.category).ok_or_else(|| {
            let shown = if row.category.chars().any(|c| c.is_ascii_digit()) {
                mask(&row.category)
            } else {
                row.category.clone()
            };
            (
                format!(
                    "unknown category {shown:?} (configured: {})",
                    categories.names().join(", ")
                ),
                masked.clone(),
            )
        })?
    };
    let valid_to = row.valid_to.clone().map_err(|e| (e, masked.clone()))?;
    let line = u32::try_from(row.line).map_err(|_| ("line number too large".to_owned(), None))?;
    let mut p = [0u8; PACKED];
    p[..32].copy_from_slice(&key.hash(&id));
    p[32..36].copy_from_slice(&line.to_be_bytes());
    p[36] = category;
    p[37..41].copy_from_slice(&encode_date(valid_to).to_be_bytes());
    Ok(p)
}

/// Reads, validates and sorts one export.
fn load(
    path: &Path,
    source: Source,
    columns: &ColumnMap,
    categories: &Categories,
    key: &HashKey,
    options: &PrepareOptions,
    report: &mut PrepareReport,
) -> Result<(ExportFormat, u64, Sorted<PACKED>), PrepareError> {
    let mut sorter =
        ExternalSorter::<PACKED>::new(options.sort_chunk_rows, options.temp_dir.clone());
    let info = read_export(path, columns, |row| {
        if row.line > u64::from(u32::MAX) {
            return Err(PrepareError::TooManyLines);
        }
        match validate(&row, categories, key) {
            Ok(p) => {
                if source == Source::Export {
                    if let Some(c) = report.valid_per_category.get_mut(usize::from(p[36])) {
                        c.1 += 1;
                    }
                }
                sorter.push(p)?
            }
            Err((reason, masked_id)) => report.reject(RejectedRow {
                source,
                line: row.line,
                masked_id,
                reason,
            }),
        }
        Ok(())
    })?;
    Ok((info.format, info.data_rows, sorter.finish()?))
}

/// Sorted, deduplicated entries; duplicates and per-category counts are
/// collected for the report.
struct Dedup {
    inner: std::iter::Peekable<Sorted<PACKED>>,
    source: Source,
    duplicates: Vec<DuplicateRow>,
    duplicates_total: u64,
    counts: Vec<u64>,
}

fn unpack(p: &Packed) -> Result<(RosterEntry, u64), io::Error> {
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&p[..32]);
    let line = u64::from(u32::from_be_bytes([p[32], p[33], p[34], p[35]]));
    let date = u32::from_be_bytes([p[37], p[38], p[39], p[40]]);
    let valid_to = decode_date(date)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "corrupt sort record"))?;
    Ok((
        RosterEntry {
            hash,
            category: p[36],
            valid_to,
        },
        line,
    ))
}

impl Dedup {
    fn new(sorted: Sorted<PACKED>, source: Source, categories: usize) -> Self {
        Dedup {
            inner: sorted.peekable(),
            source,
            duplicates: Vec::new(),
            duplicates_total: 0,
            counts: vec![0; categories],
        }
    }

    fn next_entry(&mut self) -> Result<Option<RosterEntry>, PrepareError> {
        let Some(first) = self.inner.next().transpose()? else {
            return Ok(None);
        };
        let (entry, first_line) = unpack(&first)?;
        loop {
            match self.inner.peek() {
                Some(Ok(n)) if n[..32] == first[..32] => {}
                Some(Err(_)) => {
                    // Surface the error.
                    self.inner.next().transpose()?;
                }
                _ => break,
            }
            let Some(dup) = self.inner.next().transpose()? else {
                break;
            };
            let (d, line) = unpack(&dup)?;
            self.duplicates_total += 1;
            if self.duplicates.len() < MAX_LISTED {
                self.duplicates.push(DuplicateRow {
                    source: self.source,
                    line,
                    first_line,
                    conflicting: d.category != entry.category || d.valid_to != entry.valid_to,
                });
            }
        }
        if let Some(c) = self.counts.get_mut(usize::from(entry.category)) {
            *c += 1;
        }
        Ok(Some(entry))
    }

    fn into_report(self, report: &mut PrepareReport) {
        report.duplicates_total += self.duplicates_total;
        let room = MAX_LISTED.saturating_sub(report.duplicates.len());
        report
            .duplicates
            .extend(self.duplicates.into_iter().take(room));
        if self.source == Source::Export {
            for (slot, n) in report.per_category.iter_mut().zip(self.counts) {
                slot.1 = n;
            }
        }
    }
}

/// Prepares a signed roster file from a bureau export.
///
/// Every row is validated (identity number with check digit and real birth
/// date, known category, readable end date). Invalid rows refuse the whole
/// export ([`PrepareError::Refused`], whose report lists each row with its
/// line and reason) unless `options.skip_invalid`. A repeated identity
/// number keeps its first row; the others are listed as duplicates. With
/// `options.delta_from`, the previous export is processed the same way
/// and a delta is written: rows new or changed since then, and hashes of
/// rows gone. `created_at` is recorded in the header as given.
///
/// Nothing is written to `out` unless the whole export is accepted.
#[allow(clippy::too_many_arguments)]
pub fn prepare<W: Write>(
    export_path: &Path,
    columns: &ColumnMap,
    categories: &Categories,
    hash_key: &HashKey,
    signing_key: &SigningKey,
    version: u64,
    created_at: DateTime<Utc>,
    options: &PrepareOptions,
    out: W,
) -> Result<PrepareReport, PrepareError> {
    let kind = roster_kind(version, options)?;
    let mut report = PrepareReport::empty(categories);
    let load_one = |path: &Path, source: Source, report: &mut PrepareReport| {
        load(path, source, columns, categories, hash_key, options, report)
    };
    let previous = match &options.delta_from {
        Some(p) => {
            let (_, rows, sorted) = load_one(p, Source::Previous, &mut report)?;
            report.previous_rows_read = Some(rows);
            Some(sorted)
        }
        None => None,
    };
    let (format, rows, current) = load_one(export_path, Source::Export, &mut report)?;
    report.format = Some(format);
    report.rows_read = rows;
    if report.rejected_total > 0 && !options.skip_invalid {
        return Err(PrepareError::Refused {
            report: Box::new(report),
        });
    }

    let meta = RosterMeta {
        kind,
        version,
        created_at,
        categories: categories.names().to_vec(),
        hash_key_id: hash_key.id(),
    };
    let mut writer = RosterWriter::new(out, meta, signing_key, options.temp_dir.as_deref())?;
    let n_cat = categories.names().len();
    let mut cur = Dedup::new(current, Source::Export, n_cat);
    match previous {
        None => write_full(&mut cur, &mut writer)?,
        Some(prev) => {
            let mut old = Dedup::new(prev, Source::Previous, n_cat);
            write_delta(&mut cur, &mut old, &mut writer)?;
            old.into_report(&mut report);
        }
    }
    cur.into_report(&mut report);
    if kind == RosterKind::Full && report.per_category.iter().all(|c| c.1 == 0) {
        return Err(PrepareError::EmptyRoster {
            report: Box::new(report),
        });
    }
    let (header, _) = writer.finish()?;
    report.header = Some(header);
    Ok(report)
}

/// A full roster, or a delta on `options.base_version` (default: the
/// version before); versions start at 1.
fn roster_kind(version: u64, options: &PrepareOptions) -> Result<RosterKind, PrepareError> {
    if version == 0 {
        return Err(PrepareError::Version(
            "roster versions start at 1".to_owned(),
        ));
    }
    if options.delta_from.is_none() {
        return Ok(RosterKind::Full);
    }
    let base = options.base_version.unwrap_or(version - 1);
    if base == 0 || base >= version {
        return Err(PrepareError::Version(format!(
            "delta base version {base} must be at least 1 and below version {version}"
        )));
    }
    Ok(RosterKind::Delta { base_version: base })
}

/// A full roster: every entry of the export.
fn write_full<W: Write>(cur: &mut Dedup, writer: &mut RosterWriter<W>) -> Result<(), PrepareError> {
    while let Some(e) = cur.next_entry()? {
        writer.push_entry(&e)?;
    }
    Ok(())
}

/// A delta: both sorted exports merged by hash; entries new or changed in
/// `cur`, removals of hashes only in `old`.
fn write_delta<W: Write>(
    cur: &mut Dedup,
    old: &mut Dedup,
    writer: &mut RosterWriter<W>,
) -> Result<(), PrepareError> {
    let mut n = cur.next_entry()?;
    let mut o = old.next_entry()?;
    loop {
        match (n, o) {
            (None, None) => return Ok(()),
            (Some(ne), None) => {
                writer.push_entry(&ne)?;
                n = cur.next_entry()?;
            }
            (None, Some(oe)) => {
                writer.push_removal(&oe.hash)?;
                o = old.next_entry()?;
            }
            (Some(ne), Some(oe)) => match ne.hash.cmp(&oe.hash) {
                std::cmp::Ordering::Less => {
                    writer.push_entry(&ne)?;
                    n = cur.next_entry()?;
                }
                std::cmp::Ordering::Greater => {
                    writer.push_removal(&oe.hash)?;
                    o = old.next_entry()?;
                }
                std::cmp::Ordering::Equal => {
                    if ne != oe {
                        writer.push_entry(&ne)?;
                    }
                    n = cur.next_entry()?;
                    o = old.next_entry()?;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::export::parse_date_text;
    use crate::roster::file::{RosterReader, RosterRecord};
    use crate::roster::keys::{keygen, load_hash_key, load_public_key, load_signing_key};
    use crate::roster::synthetic::{generate_synthetic_export, SyntheticFormat};
    use chrono::NaiveDate;
    use ed25519_dalek::VerifyingKey;
    use std::fs;

    struct Fx {
        dir: tempfile::TempDir,
        sk: SigningKey,
        vk: VerifyingKey,
        hk: HashKey,
        cats: Categories,
    }

    fn fx() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        fs::create_dir(&keys).unwrap();
        let p = keygen(&keys).unwrap();
        let names = ["低保", "特困", "低保边缘", "临时救助"];
        Fx {
            sk: load_signing_key(&p.signing).unwrap(),
            vk: load_public_key(&p.public).unwrap(),
            hk: load_hash_key(&p.hash).unwrap(),
            cats: Categories::new(
                names.iter().map(|s| s.to_string()).collect(),
                &["低保", "特困"],
            )
            .unwrap(),
            dir,
        }
    }

    fn at() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap()
    }

    impl Fx {
        fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
            let p = self.dir.path().join(name);
            fs::write(&p, bytes).unwrap();
            p
        }

        fn run(
            &self,
            path: &Path,
            version: u64,
            opts: &PrepareOptions,
        ) -> (Result<PrepareReport, PrepareError>, Vec<u8>) {
            let mut out = Vec::new();
            let r = prepare(
                path,
                &ColumnMap::default(),
                &self.cats,
                &self.hk,
                &self.sk,
                version,
                at(),
                opts,
                &mut out,
            );
            (r, out)
        }

        fn read(&self, bytes: &[u8]) -> (RosterHeader, Vec<RosterRecord>) {
            let mut r = RosterReader::open(bytes, Some(&self.vk)).unwrap();
            let recs = r.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
            (r.finish().unwrap(), recs)
        }

        fn entry(&self, id: &str, cat: &str, date: Option<NaiveDate>) -> RosterEntry {
            RosterEntry {
                hash: self.hk.hash(&IdNumber::parse(id).unwrap()),
                category: self.cats.index_of(cat).unwrap(),
                valid_to: date,
            }
        }

        /// The entries a synthetic CSV (UTF-8 text) should yield, sorted.
        fn expected(&self, text: &str) -> Vec<RosterEntry> {
            let mut v: Vec<RosterEntry> = text
                .lines()
                .skip(1)
                .map(|l| {
                    let c: Vec<&str> = l.split(',').collect();
                    self.entry(c[2], c[3], parse_date_text(c[4]).unwrap())
                })
                .collect();
            v.sort_by_key(|e| e.hash);
            v
        }
    }

    fn entries(recs: &[RosterRecord]) -> Vec<RosterEntry> {
        recs.iter()
            .map(|r| match r {
                RosterRecord::Entry(e) => *e,
                RosterRecord::Remove(_) => panic!("removal in a full roster"),
            })
            .collect()
    }

    /// Asserts that none of the export's ID numbers or names (columns
    /// `cols`) occur in the bytes, in UTF-8 or GB18030.
    fn assert_private(text: &str, cols: [usize; 2], haystacks: &[&[u8]]) {
        for line in text.lines().skip(1) {
            let c: Vec<&str> = line.split(',').collect();
            for secret in [c[cols[0]], c[cols[1]]]
                .into_iter()
                .filter(|s| !s.is_empty())
            {
                let utf8 = secret.as_bytes().to_vec();
                let gb = encoding_rs::GB18030.encode(secret).0.into_owned();
                for h in haystacks {
                    for needle in [&utf8, &gb] {
                        assert!(
                            !h.windows(needle.len()).any(|w| w == &needle[..]),
                            "found personal data in output: {:?} (line {line:?})",
                            mask(secret)
                        );
                    }
                }
            }
        }
    }

    fn synthetic(rows: u64, format: SyntheticFormat) -> Vec<u8> {
        let mut v = Vec::new();
        generate_synthetic_export(rows, 11, format, &mut v).unwrap();
        v
    }

    #[test]
    fn csv_round_trip_in_every_encoding_and_nothing_personal_leaks() {
        let f = fx();
        let text = String::from_utf8(synthetic(300, SyntheticFormat::CsvUtf8)).unwrap();
        let want = f.expected(&text);
        for (format, detected) in [
            (SyntheticFormat::CsvUtf8, "CSV (UTF-8)"),
            (SyntheticFormat::CsvUtf8Bom, "CSV (UTF-8 with BOM)"),
            (SyntheticFormat::CsvGb18030, "CSV (GB18030)"),
        ] {
            // A misleading extension: detection is by content.
            let path = f.file("export.xlsx", &synthetic(300, format));
            let (report, bytes) = f.run(&path, 7, &PrepareOptions::default());
            let report = report.unwrap();
            assert_eq!(report.format.unwrap().to_string(), detected);
            assert_eq!(report.rows_read, 300);
            assert_eq!(report.rejected_total, 0);
            assert_eq!(report.per_category.iter().map(|c| c.1).sum::<u64>(), 300);
            let (header, recs) = f.read(&bytes);
            assert_eq!(header.meta.version, 7);
            assert_eq!(header.meta.kind, RosterKind::Full);
            assert_eq!(header.meta.created_at, at());
            assert_eq!(header.meta.hash_key_id, f.hk.id());
            assert_eq!(header.meta.categories, f.cats.names());
            assert_eq!(Some(&header), report.header.as_ref());
            assert_eq!(entries(&recs), want, "{format:?}");
            let shown = format!("{report}\n{report:?}");
            assert_private(&text, [1, 2], &[&bytes, shown.as_bytes()]);
        }
    }

    #[test]
    fn spilled_sort_gives_the_same_file() {
        let f = fx();
        let path = f.file("e.csv", &synthetic(500, SyntheticFormat::CsvUtf8));
        let (_, in_memory) = f.run(&path, 1, &PrepareOptions::default());
        let opts = PrepareOptions {
            sort_chunk_rows: 7,
            temp_dir: Some(f.dir.path().to_owned()),
            ..PrepareOptions::default()
        };
        let (r, spilled) = f.run(&path, 1, &opts);
        r.unwrap();
        assert!(!in_memory.is_empty());
        assert_eq!(in_memory, spilled);
    }

    #[test]
    fn xlsx_round_trip_with_date_cells_and_a_numeric_id_cell() {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let f = fx();
        let (i1, i2) = (ok(1), ok(2));
        let ids = [GOOD, i1.as_str(), i2.as_str()];
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
        for (c, h) in ["姓名", "身份证号码", "救助类别", "有效期至"]
            .iter()
            .enumerate()
        {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        ws.write_string(1, 0, "张三").unwrap();
        ws.write_string(1, 1, ids[0]).unwrap();
        ws.write_string(1, 2, "低保").unwrap();
        ws.write_datetime_with_format(
            1,
            3,
            ExcelDateTime::from_ymd(2026, 12, 31).unwrap(),
            &date_fmt,
        )
        .unwrap();
        ws.write_string(2, 0, "李四").unwrap();
        ws.write_string(2, 1, ids[1]).unwrap();
        ws.write_string(2, 2, "特困").unwrap();
        ws.write_string(2, 3, "2027/1/5").unwrap();
        ws.write_string(3, 0, "王五").unwrap();
        ws.write_string(3, 1, ids[2]).unwrap();
        ws.write_string(3, 2, "低保边缘").unwrap();
        ws.write_number(3, 3, 20_280_229.0).unwrap();
        // Row 6 (after a blank row 5): an ID typed as a number.
        ws.write_string(5, 0, "赵六").unwrap();
        ws.write_number(5, 1, 110_105_194_912_310_020.0).unwrap();
        ws.write_string(5, 2, "低保").unwrap();
        let path = f.dir.path().join("roster.dat");
        wb.save(&path).unwrap();

        let (r, out) = f.run(&path, 1, &PrepareOptions::default());
        let Err(PrepareError::Refused { report }) = r else {
            panic!("numeric ID cell must refuse the export");
        };
        assert!(out.is_empty());
        assert_eq!(report.format, Some(ExportFormat::Xlsx));
        assert_eq!(report.rejected.len(), 1);
        assert_eq!(report.rejected[0].line, 6);
        assert!(report.rejected[0]
            .reason
            .contains("format the column as text"));

        let skip = PrepareOptions {
            skip_invalid: true,
            ..PrepareOptions::default()
        };
        let (r, out) = f.run(&path, 1, &skip);
        let report = r.unwrap();
        assert_eq!(report.rows_read, 4);
        let (_, recs) = f.read(&out);
        let mut want = vec![
            f.entry(ids[0], "低保", NaiveDate::from_ymd_opt(2026, 12, 31)),
            f.entry(ids[1], "特困", NaiveDate::from_ymd_opt(2027, 1, 5)),
            f.entry(ids[2], "低保边缘", NaiveDate::from_ymd_opt(2028, 2, 29)),
        ];
        want.sort_by_key(|e| e.hash);
        assert_eq!(entries(&recs), want);
        for id in ids {
            assert!(!out.windows(18).any(|w| w == id.as_bytes()));
        }
    }

    const GOOD: &str = "11010519491231002X";

    /// A valid identity number other than `GOOD`.
    fn ok(n: u64) -> String {
        crate::roster::synthetic::synthetic_id(n, 0)
    }

    #[test]
    fn malformed_rows_refuse_the_export_with_line_numbers() {
        let f = fx();
        let text = format!(
            "姓名,身份证号码,救助类别,有效期至\n\
             甲,{GOOD},低保,2026-12-31\n\
             乙,110105194912310021,低保,\n\
             丙,11010519491231002,低保,\n\
             丁,110105194902300017,低保,\n\
             戊,{},优抚,\n\
             己,{},特困,2026-13-01\n\
             庚,,特困,\n\
             辛,{},,\n",
            ok(1),
            ok(2),
            ok(3)
        );
        let path = f.file("bad.csv", text.as_bytes());
        let (r, out) = f.run(&path, 1, &PrepareOptions::default());
        assert!(out.is_empty(), "nothing written for a refused export");
        let err = r.unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("7 invalid row(s)"), "{msg}");
        assert!(
            msg.contains("line 3: ID number check digit is wrong"),
            "{msg}"
        );
        let PrepareError::Refused { report } = err else {
            panic!("expected Refused");
        };
        let got: Vec<(u64, &str)> = report
            .rejected
            .iter()
            .map(|r| (r.line, r.reason.as_str()))
            .collect();
        let want_prefix = [
            (3, "ID number check digit is wrong"),
            (4, "ID number has 17 characters, expected 18"),
            (5, "ID number holds an impossible birth date"),
            (
                6,
                "unknown category \"优抚\" (configured: 低保, 特困, 低保边缘, 临时救助)",
            ),
            (7, "end-of-validity date \"2026-13-01\" is not a date"),
            (8, "the ID number cell is empty"),
            (9, "the category cell is empty"),
        ];
        assert_eq!(got.len(), want_prefix.len());
        for ((line, reason), (wl, wr)) in got.iter().zip(want_prefix) {
            assert_eq!(*line, wl);
            assert!(reason.starts_with(wr), "line {line}: {reason}");
        }
        assert_eq!(
            report.rejected[0].masked_id.as_deref(),
            Some("1101**********0021")
        );
        assert_private(
            &text,
            [0, 1],
            &[format!("{report}{report:?}{msg}").as_bytes()],
        );

        // With skip_invalid the good row is written and the rest listed.
        let skip = PrepareOptions {
            skip_invalid: true,
            ..PrepareOptions::default()
        };
        let (r, out) = f.run(&path, 1, &skip);
        let report = r.unwrap();
        assert_eq!(report.rejected_total, 7);
        assert!(format!("{report}").contains("export line 6: unknown category"));
        let (_, recs) = f.read(&out);
        assert_eq!(
            entries(&recs),
            vec![f.entry(GOOD, "低保", NaiveDate::from_ymd_opt(2026, 12, 31))]
        );
    }

    #[test]
    fn duplicates_keep_the_first_row_and_are_reported() {
        let f = fx();
        let other = &ok(1);
        let text = format!(
            "身份证号码,类别\n{GOOD},低保\n{other},特困\n{GOOD},特困\n{},低保\n",
            GOOD.to_lowercase()
        );
        let path = f.file("dup.csv", text.as_bytes());
        let (r, out) = f.run(&path, 1, &PrepareOptions::default());
        let report = r.unwrap();
        let mut want = vec![f.entry(GOOD, "低保", None), f.entry(other, "特困", None)];
        want.sort_by_key(|e| e.hash);
        assert_eq!(entries(&f.read(&out).1), want);
        assert_eq!(report.duplicates_total, 2);
        let d: Vec<(u64, u64, bool)> = report
            .duplicates
            .iter()
            .map(|d| (d.line, d.first_line, d.conflicting))
            .collect();
        assert_eq!(d, vec![(4, 2, true), (5, 2, false)]);
        assert_eq!(report.per_category[0], ("低保".to_owned(), 1));
        assert!(format!("{report}").contains("line 4: same ID number as line 2"));
    }

    #[test]
    fn delta_holds_adds_changes_and_removals_and_applies_cleanly() {
        let f = fx();
        let (b, c, d) = (ok(1), ok(2), ok(3));
        let (a, b, c, d) = (GOOD, b.as_str(), c.as_str(), d.as_str());
        let old = format!("身份证号码,类别,有效期至\n{a},低保,\n{b},特困,2026-01-01\n{c},低保,\n");
        let new = format!(
            "身份证号码,类别,有效期至\n{a},低保,\n{b},特困,2027-01-01\n{d},临时救助,20261231\n"
        );
        let old_p = f.file("old.csv", old.as_bytes());
        let new_p = f.file("new.csv", new.as_bytes());
        let opts = PrepareOptions {
            delta_from: Some(old_p.clone()),
            ..PrepareOptions::default()
        };
        let (r, delta) = f.run(&new_p, 3, &opts);
        let report = r.unwrap();
        assert_eq!(report.previous_rows_read, Some(3));
        let (h, recs) = f.read(&delta);
        assert_eq!(h.meta.kind, RosterKind::Delta { base_version: 2 });
        assert_eq!((h.entry_count, h.remove_count), (2, 1));
        let mut want = vec![
            RosterRecord::Entry(f.entry(b, "特困", NaiveDate::from_ymd_opt(2027, 1, 1))),
            RosterRecord::Entry(f.entry(d, "临时救助", NaiveDate::from_ymd_opt(2026, 12, 31))),
            RosterRecord::Remove(f.hk.hash(&IdNumber::parse(c).unwrap())),
        ];
        want.sort_by_key(|r| *r.hash());
        assert_eq!(recs, want);

        // Applying the delta to the old full roster gives the new one.
        let (_, old_full) = f.run(&old_p, 2, &PrepareOptions::default());
        let (_, new_full) = f.run(&new_p, 3, &PrepareOptions::default());
        let mut applied: Vec<RosterEntry> = entries(&f.read(&old_full).1);
        for r in recs {
            applied.retain(|e| e.hash != *r.hash());
            if let RosterRecord::Entry(e) = r {
                applied.push(e);
            }
        }
        applied.sort_by_key(|e| e.hash);
        assert_eq!(applied, entries(&f.read(&new_full).1));

        // Explicit base version; impossible versions refused.
        let explicit = PrepareOptions {
            base_version: Some(1),
            ..opts.clone()
        };
        let (r, out) = f.run(&new_p, 3, &explicit);
        r.unwrap();
        assert_eq!(
            f.read(&out).0.meta.kind,
            RosterKind::Delta { base_version: 1 }
        );
        for (v, base) in [(3, Some(3)), (1, None), (3, Some(0))] {
            let o = PrepareOptions {
                base_version: base,
                ..opts.clone()
            };
            assert!(matches!(
                f.run(&new_p, v, &o).0,
                Err(PrepareError::Version(_))
            ));
        }
        assert!(matches!(
            f.run(&new_p, 0, &PrepareOptions::default()).0,
            Err(PrepareError::Version(_))
        ));
    }

    #[test]
    fn identical_exports_give_an_empty_delta() {
        let f = fx();
        let p = f.file("e.csv", &synthetic(50, SyntheticFormat::CsvUtf8));
        let opts = PrepareOptions {
            delta_from: Some(p.clone()),
            ..PrepareOptions::default()
        };
        let (r, out) = f.run(&p, 2, &opts);
        r.unwrap();
        let (h, recs) = f.read(&out);
        assert_eq!((h.entry_count, h.remove_count, recs.len()), (0, 0, 0));
    }

    #[test]
    fn header_only_export_is_refused_as_an_empty_roster() {
        let f = fx();
        let p = f.file("e.csv", "姓名,身份证号码,救助类别\n".as_bytes());
        let (r, out) = f.run(&p, 1, &PrepareOptions::default());
        assert!(matches!(r, Err(PrepareError::EmptyRoster { .. })));
        assert!(out.is_empty());
    }

    #[test]
    fn wrong_columns_are_refused_with_names() {
        let f = fx();
        let p = f.file("e.csv", "姓名,号码,类型\n张三,1,低保\n".as_bytes());
        let msg = f
            .run(&p, 1, &PrepareOptions::default())
            .0
            .unwrap_err()
            .to_string();
        assert!(msg.contains("no ID number column"), "{msg}");
        assert!(msg.contains("headers found: 姓名, 号码, 类型"), "{msg}");
        // A config override makes the same file acceptable.
        let map = ColumnMap {
            id_number: vec!["号码".into()],
            category: vec!["类型".into()],
            ..ColumnMap::default()
        };
        let p = f.file(
            "e2.csv",
            format!("姓名,号码,类型\n张三,{GOOD},低保\n").as_bytes(),
        );
        let mut out = Vec::new();
        let r = prepare(
            &p,
            &map,
            &f.cats,
            &f.hk,
            &f.sk,
            1,
            at(),
            &PrepareOptions::default(),
            &mut out,
        );
        assert_eq!(r.unwrap().header.unwrap().entry_count, 1);
    }
}
