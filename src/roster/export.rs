//! Reading the civil-affairs bureau's roster export: CSV (UTF-8, UTF-8 with
//! BOM or GB18030) or `.xlsx`, mapped to columns by header name.
//!
//! The format is detected from the content, not the file name: the zip
//! magic `PK\x03\x04` means `.xlsx`; otherwise a UTF-8 BOM means UTF-8; a
//! file that is valid UTF-8 throughout is UTF-8; anything else is GB18030.
//!
//! Only the identity number, category and end-of-validity cells are taken
//! from each row; names and all other columns are never read.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use calamine::{DataRef, Reader as _, Xlsx};
use chrono::NaiveDate;
use greenwave_drivers::id_number::mask;
use serde::{Deserialize, Deserializer};

/// Header names of the export's columns, for a `[roster.columns]` config
/// table. Each field takes a name or a list of names; a header matching any
/// of them (after trimming) is that column. Omitted fields keep the
/// defaults.
///
/// ```toml
/// [roster.columns]
/// id_number = ["公民身份号码", "身份证号码"]
/// valid_to = "救助截止日期"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnMap {
    /// The identity number column (required).
    #[serde(deserialize_with = "one_or_many")]
    pub id_number: Vec<String>,
    /// The category column (required).
    #[serde(deserialize_with = "one_or_many")]
    pub category: Vec<String>,
    /// The end-of-validity column (optional in the export).
    #[serde(deserialize_with = "one_or_many")]
    pub valid_to: Vec<String>,
    /// The name column: recognised only so that it is known to be dropped.
    #[serde(deserialize_with = "one_or_many")]
    pub name: Vec<String>,
}

impl Default for ColumnMap {
    fn default() -> Self {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
        ColumnMap {
            id_number: v(&["身份证号码", "身份证号", "证件号码"]),
            category: v(&["救助类别", "类别", "人员类别"]),
            valid_to: v(&["有效期至", "终止日期"]),
            name: v(&["姓名"]),
        }
    }
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// Text encoding of a CSV export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
    /// GB18030 (which includes GBK and GB2312).
    Gb18030,
}

/// The detected kind of an export file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated values in the given encoding.
    Csv(TextEncoding),
    /// An Excel `.xlsx` workbook (first worksheet).
    Xlsx,
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExportFormat::Csv(TextEncoding::Utf8) => "CSV (UTF-8)",
            ExportFormat::Csv(TextEncoding::Utf8Bom) => "CSV (UTF-8 with BOM)",
            ExportFormat::Csv(TextEncoding::Gb18030) => "CSV (GB18030)",
            ExportFormat::Xlsx => "Excel .xlsx",
        })
    }
}

/// Why an export file cannot be read at all (as opposed to a bad row).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Opening or reading the file failed.
    #[error("export {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// An old binary `.xls` workbook.
    #[error("export {0} is an old binary .xls workbook, which is not supported: save it as .xlsx or CSV")]
    LegacyXls(PathBuf),
    /// The workbook cannot be parsed.
    #[error("export {path}: cannot read the .xlsx workbook: {message}")]
    Xlsx {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The CSV cannot be parsed.
    #[error("export {path}: CSV error at line {line}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// Physical line, 1-based (0 if unknown).
        line: u64,
        /// The parser's message.
        message: String,
    },
    /// No non-blank row.
    #[error("export {0} has no header row (no non-blank row at all)")]
    NoHeader(PathBuf),
    /// A required column is not among the headers.
    #[error("export {path}: no {column} column; expected a header named one of: {}; headers found: {}", expected.join(", "), found.join(", "))]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// Which column ("ID number", "category").
        column: &'static str,
        /// The names that would have matched.
        expected: Vec<String>,
        /// The headers of the first non-blank row (masked where they look
        /// like personal data).
        found: Vec<String>,
    },
    /// The first row is data, not a header.
    #[error("export {path}: the first non-blank row (line {line}) holds an identity number, so the file has no header row; expected headers such as: {}", expected.join(", "))]
    HeaderIsData {
        /// The file.
        path: PathBuf,
        /// The row.
        line: u64,
        /// The ID-number header names that would have matched.
        expected: Vec<String>,
    },
    /// Two headers match the same column.
    #[error("export {path}: the {column} column is ambiguous, headers {} all match", headers.join(", "))]
    AmbiguousColumn {
        /// The file.
        path: PathBuf,
        /// Which column.
        column: &'static str,
        /// The matching headers.
        headers: Vec<String>,
    },
}

/// One data row of an export, reduced to the cells the roster needs.
///
/// `Debug` masks the identity number.
pub(crate) struct ExportRow {
    /// CSV physical line of the row's start, or sheet row number (header =
    /// 1 when it is the first line).
    pub line: u64,
    /// The identity-number cell text, or why there is none.
    pub id: Result<String, String>,
    /// The category cell text (trimmed, may be empty).
    pub category: String,
    /// The end of validity, or why it cannot be read.
    pub valid_to: Result<Option<NaiveDate>, String>,
}

impl fmt::Debug for ExportRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportRow")
            .field("line", &self.line)
            .field("id", &self.id.as_ref().map(|s| mask(s)))
            .field("category", &self.category)
            .field("valid_to", &self.valid_to)
            .finish()
    }
}

/// What was learned about the export while reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportInfo {
    /// Detected format.
    pub format: ExportFormat,
    /// Line (or sheet row) of the header row.
    pub header_line: u64,
    /// Data rows passed to the callback (blank rows are not counted).
    pub data_rows: u64,
}

/// A cell value before interpretation.
enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(Option<NaiveDate>),
    Error(String),
}

impl Cell {
    fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
    fn header_text(&self) -> String {
        match self {
            Cell::Text(s) => s.trim().trim_start_matches('\u{feff}').trim().to_owned(),
            Cell::Number(n) => n.to_string(),
            _ => String::new(),
        }
    }
}

/// Detects the format of an export from its content.
pub fn detect_format(path: &Path) -> Result<ExportFormat, ExportError> {
    let io_err = |source| ExportError::Io {
        path: path.to_owned(),
        source,
    };
    let mut f = File::open(path).map_err(io_err)?;
    let mut head = [0u8; 8];
    let n = read_up_to(&mut f, &mut head).map_err(io_err)?;
    let head = &head[..n];
    if head.starts_with(b"PK\x03\x04") {
        return Ok(ExportFormat::Xlsx);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(ExportError::LegacyXls(path.to_owned()));
    }
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Ok(ExportFormat::Csv(TextEncoding::Utf8Bom));
    }
    f.seek(SeekFrom::Start(0)).map_err(io_err)?;
    Ok(if is_utf8(BufReader::new(f)).map_err(io_err)? {
        ExportFormat::Csv(TextEncoding::Utf8)
    } else {
        ExportFormat::Csv(TextEncoding::Gb18030)
    })
}

fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Whether the whole stream is valid UTF-8, checked in chunks.
fn is_utf8<R: Read>(mut r: R) -> io::Result<bool> {
    let mut buf = vec![0u8; 1 << 16];
    let mut carry = 0usize;
    loop {
        let n = r.read(&mut buf[carry..])?;
        if n == 0 {
            return Ok(carry == 0);
        }
        let filled = carry + n;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_some() => return Ok(false),
            Err(e) => {
                // An incomplete sequence at the end: keep it for the next
                // read (at most 3 bytes).
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
        }
    }
}

/// Parses an end-of-validity text: `2026-12-31`, `2026/12/31`,
/// `2026.12.31`, `20261231`, `2026年12月31日`, with an optional time part
/// after a space or `T`. Empty means no end date.
pub fn parse_date_text(s: &str) -> Result<Option<NaiveDate>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || {
        let shown = if s.chars().count() > 12 {
            mask(s)
        } else {
            s.to_owned()
        };
        format!(
            "end-of-validity date {shown:?} is not a date like 2026-12-31, 2026/12/31 or 20261231"
        )
    };
    let date = s.split([' ', 'T']).next().unwrap_or(s);
    let (y, m, d) = if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) {
        (&date[..4], &date[4..6], &date[6..])
    } else {
        let norm = date.replace(['年', '月'], "-").replace('日', "");
        let sep = ['-', '/', '.']
            .into_iter()
            .find(|c| norm.contains(*c))
            .ok_or_else(bad)?;
        let parts: Vec<&str> = norm.split(sep).collect();
        if parts.len() != 3 {
            return Err(bad());
        }
        return ymd(parts[0], parts[1], parts[2]).ok_or_else(bad).map(Some);
    };
    ymd(y, m, d).ok_or_else(bad).map(Some)
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    let digits = |s: &str, max: usize| {
        (!s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())).then_some(())?;
        s.parse::<u32>().ok()
    };
    let (y, m, d) = (digits(y, 4)?, digits(m, 2)?, digits(d, 2)?);
    if !(1900..=9999).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// Header texts as shown in an error: anything with a digit is masked, as
/// it may be personal data from a file without a header row.
fn shown_headers(headers: &[String]) -> Vec<String> {
    headers
        .iter()
        .map(|h| {
            if h.chars().any(|c| c.is_ascii_digit()) {
                mask(h)
            } else {
                h.clone()
            }
        })
        .collect()
}

/// Column positions found in the header row.
struct Columns {
    id: usize,
    category: usize,
    valid_to: Option<usize>,
}

/// How many non-blank rows before the header (a title line) are tolerated.
const MAX_ROWS_BEFORE_HEADER: usize = 5;

/// Turns rows of cells into [`ExportRow`]s once the header is found.
struct Mapper<'a> {
    path: &'a Path,
    map: &'a ColumnMap,
    columns: Option<Columns>,
    first_row: Option<(u64, Vec<String>, bool)>,
    rows_seen: usize,
    header_line: u64,
    data_rows: u64,
}

impl<'a> Mapper<'a> {
    fn new(path: &'a Path, map: &'a ColumnMap) -> Self {
        Mapper {
            path,
            map,
            columns: None,
            first_row: None,
            rows_seen: 0,
            header_line: 0,
            data_rows: 0,
        }
    }

    fn find(
        &self,
        headers: &[String],
        names: &[String],
        column: &'static str,
    ) -> Result<Option<usize>, ExportError> {
        let hits: Vec<usize> = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| names.iter().any(|n| n.trim() == h.as_str()))
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            _ => Err(ExportError::AmbiguousColumn {
                path: self.path.to_owned(),
                column,
                headers: hits.iter().map(|&i| headers[i].clone()).collect(),
            }),
        }
    }

    fn missing(&self, column: &'static str, expected: &[String]) -> ExportError {
        match &self.first_row {
            Some((line, _, true)) => ExportError::HeaderIsData {
                path: self.path.to_owned(),
                line: *line,
                expected: self.map.id_number.clone(),
            },
            Some((_, found, false)) => ExportError::MissingColumn {
                path: self.path.to_owned(),
                column,
                expected: expected.to_vec(),
                found: found.clone(),
            },
            None => ExportError::NoHeader(self.path.to_owned()),
        }
    }

    /// Feeds one physical row; returns a data row once the header is known.
    fn row(&mut self, line: u64, cells: Vec<Cell>) -> Result<Option<ExportRow>, ExportError> {
        if cells.iter().all(Cell::is_blank) {
            return Ok(None);
        }
        let Some(cols) = &self.columns else {
            let headers: Vec<String> = cells.iter().map(Cell::header_text).collect();
            if self.first_row.is_none() {
                // Never echo personal data in an error: mask anything with
                // digits, and note when the row holds an identity number.
                let has_id = headers.iter().any(|h| {
                    greenwave_drivers::id_number::IdNumber::parse(h).is_ok()
                        || h.chars().filter(char::is_ascii_digit).count() >= 15
                });
                self.first_row = Some((line, shown_headers(&headers), has_id));
            }
            self.rows_seen += 1;
            let id = self.find(&headers, &self.map.id_number, "ID number")?;
            let Some(id) = id else {
                if self.rows_seen >= MAX_ROWS_BEFORE_HEADER
                    || self.first_row.as_ref().is_some_and(|f| f.2)
                {
                    return Err(self.missing("ID number", &self.map.id_number));
                }
                return Ok(None);
            };
            let Some(category) = self.find(&headers, &self.map.category, "category")? else {
                return Err(ExportError::MissingColumn {
                    path: self.path.to_owned(),
                    column: "category",
                    expected: self.map.category.clone(),
                    found: shown_headers(&headers),
                });
            };
            let valid_to = self.find(&headers, &self.map.valid_to, "end-of-validity")?;
            self.find(&headers, &self.map.name, "name")?;
            self.columns = Some(Columns {
                id,
                category,
                valid_to,
            });
            self.header_line = line;
            return Ok(None);
        };
        self.data_rows += 1;
        let mut cells = cells;
        let mut take = |i: usize| {
            cells
                .get_mut(i)
                .map_or(Cell::Empty, |c| std::mem::replace(c, Cell::Empty))
        };
        let id = match take(cols.id) {
            Cell::Text(s) if !s.trim().is_empty() => Ok(s),
            Cell::Empty | Cell::Text(_) => Err("the ID number cell is empty".to_owned()),
            Cell::Number(_) => Err("the ID number cell is a number, not text: Excel keeps only 15 digits of a number, format the column as text and export again".to_owned()),
            Cell::Date(_) => Err("the ID number cell is a date".to_owned()),
            Cell::Error(e) => Err(format!("the ID number cell holds an error ({e})")),
        };
        let category = match take(cols.category) {
            Cell::Text(s) => s.trim().to_owned(),
            Cell::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let valid_to = match cols.valid_to.map_or(Cell::Empty, &mut take) {
            Cell::Empty => Ok(None),
            Cell::Text(s) => parse_date_text(&s),
            Cell::Date(Some(d)) => Ok(Some(d)),
            Cell::Date(None) => Err("the end-of-validity cell is a time, not a date".to_owned()),
            Cell::Number(n) if n.fract() == 0.0 && (19_000_101.0..=99_991_231.0).contains(&n) => {
                parse_date_text(&format!("{n:.0}"))
            }
            Cell::Number(_) => Err(
                "the end-of-validity cell is a plain number, not a date (format it as a date)"
                    .to_owned(),
            ),
            Cell::Error(e) => Err(format!("the end-of-validity cell holds an error ({e})")),
        };
        Ok(Some(ExportRow {
            line,
            id,
            category,
            valid_to,
        }))
    }

    fn finish(self, format: ExportFormat) -> Result<ExportInfo, ExportError> {
        if self.columns.is_none() {
            return Err(self.missing("ID number", &self.map.id_number));
        }
        Ok(ExportInfo {
            format,
            header_line: self.header_line,
            data_rows: self.data_rows,
        })
    }
}

/// Reads an export and calls `on_row` for each data row, in file order.
/// Blank rows are skipped; up to four non-blank rows before the header row
/// (a title line) are ignored.
pub(crate) fn read_export<E: From<ExportError>>(
    path: &Path,
    map: &ColumnMap,
    mut on_row: impl FnMut(ExportRow) -> Result<(), E>,
) -> Result<ExportInfo, E> {
    let format = detect_format(path)?;
    let io_err = |source| ExportError::Io {
        path: path.to_owned(),
        source,
    };
    let mut mapper = Mapper::new(path, map);
    match format {
        ExportFormat::Xlsx => {
            let file = BufReader::new(File::open(path).map_err(io_err)?);
            let xerr = |e: calamine::XlsxError| ExportError::Xlsx {
                path: path.to_owned(),
                message: e.to_string(),
            };
            let mut book = Xlsx::new(file).map_err(xerr)?;
            let sheet = book
                .sheet_names()
                .first()
                .cloned()
                .ok_or_else(|| ExportError::NoHeader(path.to_owned()))?;
            let mut cells = book.worksheet_cells_reader(&sheet).map_err(xerr)?;
            let mut row: Vec<Cell> = Vec::new();
            let mut row_no: Option<u32> = None;
            while let Some(cell) = cells.next_cell().map_err(xerr)? {
                let (r, c) = cell.get_position();
                if row_no != Some(r) {
                    if let Some(prev) = row_no {
                        let done = std::mem::take(&mut row);
                        if let Some(x) = mapper.row(u64::from(prev) + 1, done)? {
                            on_row(x)?;
                        }
                    }
                    row_no = Some(r);
                }
                let c = c as usize;
                if c >= 16_384 {
                    continue; // beyond Excel's last column: ignore
                }
                if row.len() <= c {
                    row.resize_with(c + 1, || Cell::Empty);
                }
                row[c] = xlsx_cell(cell.get_value());
            }
            if let Some(prev) = row_no {
                if let Some(x) = mapper.row(u64::from(prev) + 1, row)? {
                    on_row(x)?;
                }
            }
        }
        ExportFormat::Csv(enc) => {
            let mut file = File::open(path).map_err(io_err)?;
            let input: Box<dyn Read> = match enc {
                TextEncoding::Utf8 => Box::new(file),
                TextEncoding::Utf8Bom => {
                    file.seek(SeekFrom::Start(3)).map_err(io_err)?;
                    Box::new(file)
                }
                TextEncoding::Gb18030 => Box::new(
                    encoding_rs_io::DecodeReaderBytesBuilder::new()
                        .encoding(Some(encoding_rs::GB18030))
                        .build(file),
                ),
            };
            let input = BlankLineFiller::new(input);
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .buffer_capacity(1 << 16)
                .from_reader(input);
            let mut rec = csv::ByteRecord::new();
            loop {
                let more = rdr
                    .read_byte_record(&mut rec)
                    .map_err(|e| ExportError::Csv {
                        path: path.to_owned(),
                        line: e.position().map_or(0, |p| p.line()),
                        message: e.to_string(),
                    })?;
                if !more {
                    break;
                }
                let line = rec.position().map_or(0, |p| p.line());
                let cells = rec
                    .iter()
                    .map(|f| match std::str::from_utf8(f) {
                        Ok("") => Cell::Empty,
                        Ok(s) => Cell::Text(s.to_owned()),
                        Err(_) => Cell::Error("not valid UTF-8 text".to_owned()),
                    })
                    .collect();
                if let Some(x) = mapper.row(line, cells)? {
                    on_row(x)?;
                }
            }
        }
    }
    Ok(mapper.finish(format)?)
}

/// Puts a space on every empty line, and reads a CRLF line end as LF. The
/// csv crate skips empty lines and then reports the following record at
/// the line where skipping began, and counts CRLF-terminated lines (what
/// Excel writes) one short; with LF line ends and no empty lines its line
/// numbers are the file's. (A space inside a quoted multi-line field is
/// harmless: cells are trimmed.)
struct BlankLineFiller<R> {
    inner: R,
    at_line_start: bool,
    /// A CR read last, not yet known to start a CRLF.
    pending_cr: bool,
    buf: Vec<u8>,
}

impl<R: Read> BlankLineFiller<R> {
    fn new(inner: R) -> Self {
        BlankLineFiller {
            inner,
            at_line_start: true,
            pending_cr: false,
            buf: Vec::new(),
        }
    }

    fn emit(&mut self, b: u8, out: &mut [u8], w: &mut usize) {
        if self.at_line_start && (b == b'\n' || b == b'\r') {
            out[*w] = b' ';
            *w += 1;
        }
        out[*w] = b;
        *w += 1;
        self.at_line_start = b == b'\n';
    }
}

impl<R: Read> Read for BlankLineFiller<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.len() < 4 {
            // Too small to expand into; callers here use large buffers.
            return self.inner.read(out);
        }
        // Each input byte expands to at most four output bytes (a held CR
        // and the byte, each after a space).
        let mut buf = std::mem::take(&mut self.buf);
        buf.resize(out.len() / 4, 0);
        let n = self.inner.read(&mut buf)?;
        let mut w = 0;
        if n == 0 && self.pending_cr {
            self.pending_cr = false;
            self.emit(b'\r', out, &mut w);
        }
        for &b in &buf[..n] {
            if std::mem::take(&mut self.pending_cr) && b != b'\n' {
                self.emit(b'\r', out, &mut w);
            }
            if b == b'\r' {
                self.pending_cr = true;
            } else {
                self.emit(b, out, &mut w);
            }
        }
        self.buf = buf;
        if w == 0 && n > 0 {
            // Only a CR was read: read on rather than report an end.
            return self.read(out);
        }
        Ok(w)
    }
}

fn xlsx_cell(v: &DataRef<'_>) -> Cell {
    match v {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Text(b.to_string()),
        DataRef::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            Cell::Date(NaiveDate::from_ymd_opt(
                i32::from(y),
                u32::from(m),
                u32::from(d),
            ))
        }
        DataRef::DateTime(_) => Cell::Date(None),
        DataRef::DateTimeIso(s) => match parse_date_text(s) {
            Ok(d) => Cell::Date(d),
            Err(e) => Cell::Error(e),
        },
        DataRef::DurationIso(_) => Cell::Date(None),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        File::create(&p).unwrap().write_all(bytes).unwrap();
        p
    }

    fn collect(path: &Path, map: &ColumnMap) -> Result<(ExportInfo, Vec<ExportRow>), ExportError> {
        let mut rows = Vec::new();
        let info = read_export(path, map, |r| {
            rows.push(r);
            Ok::<_, ExportError>(())
        })?;
        Ok((info, rows))
    }

    #[test]
    fn detects_formats_by_content() {
        let d = tempfile::tempdir().unwrap();
        let utf8 = write(d.path(), "a.xlsx", "姓名,身份证号码\n".as_bytes());
        assert_eq!(
            detect_format(&utf8).unwrap(),
            ExportFormat::Csv(TextEncoding::Utf8)
        );
        let bom = write(d.path(), "b.csv", b"\xEF\xBB\xBFa,b\n");
        assert_eq!(
            detect_format(&bom).unwrap(),
            ExportFormat::Csv(TextEncoding::Utf8Bom)
        );
        let (gb, _, _) = encoding_rs::GB18030.encode("姓名,身份证号码\n");
        let gb = write(d.path(), "c.csv", &gb);
        assert_eq!(
            detect_format(&gb).unwrap(),
            ExportFormat::Csv(TextEncoding::Gb18030)
        );
        let zip = write(d.path(), "d.csv", b"PK\x03\x04rest");
        assert_eq!(detect_format(&zip).unwrap(), ExportFormat::Xlsx);
        let xls = write(
            d.path(),
            "e.xls",
            &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0],
        );
        assert!(detect_format(&xls)
            .unwrap_err()
            .to_string()
            .contains(".xls workbook"));
    }

    #[test]
    fn utf8_check_handles_sequences_split_across_chunks() {
        let mut text = "a".repeat((1 << 16) - 1).into_bytes();
        text.extend_from_slice("低保".as_bytes());
        assert!(is_utf8(&text[..]).unwrap());
        text.push(0xB5);
        assert!(!is_utf8(&text[..]).unwrap());
        // Incomplete sequence at the very end.
        assert!(!is_utf8(&"低".as_bytes()[..2]).unwrap());
    }

    #[test]
    fn blank_line_filler_keeps_line_structure() {
        let mut out = Vec::new();
        BlankLineFiller::new(&b"\na\r\n\r\n\nb\rc\n\r"[..])
            .read_to_end(&mut out)
            .unwrap();
        // CRLF read as LF; a lone CR (also at the very end) kept.
        assert_eq!(out, b" \na\n \n \nb\rc\n \r");
    }

    #[test]
    fn parses_date_forms() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 31);
        for s in [
            "2026-12-31",
            "2026/12/31",
            "20261231",
            "2026.12.31",
            "2026年12月31日",
            " 2026-12-31 00:00:00",
        ] {
            assert_eq!(parse_date_text(s), Ok(d), "{s}");
        }
        assert_eq!(
            parse_date_text("2026-1-5"),
            Ok(NaiveDate::from_ymd_opt(2026, 1, 5))
        );
        assert_eq!(parse_date_text(""), Ok(None));
        for s in [
            "2026-02-30",
            "31/12/2026",
            "2026-12",
            "tomorrow",
            "20261301",
        ] {
            assert!(parse_date_text(s).is_err(), "{s}");
        }
        let e = parse_date_text("110105194912310021").unwrap_err();
        assert!(!e.contains("110105194912310021"), "{e}");
    }

    #[test]
    fn missing_column_names_expected_and_found_headers() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "x.csv",
            "序号,姓名,号码,类别\n1,张三,1,低保\n".as_bytes(),
        );
        let msg = collect(&p, &ColumnMap::default()).unwrap_err().to_string();
        assert!(msg.contains("no ID number column"), "{msg}");
        assert!(msg.contains("身份证号码, 身份证号, 证件号码"), "{msg}");
        assert!(
            msg.contains("headers found: 序号, 姓名, 号码, 类别"),
            "{msg}"
        );

        let p = write(d.path(), "y.csv", "姓名,身份证号码,备注\n".as_bytes());
        let msg = collect(&p, &ColumnMap::default()).unwrap_err().to_string();
        assert!(msg.contains("no category column"), "{msg}");
        assert!(msg.contains("救助类别"), "{msg}");

        let p = write(d.path(), "z.csv", "身份证号码,证件号码,类别\n".as_bytes());
        let msg = collect(&p, &ColumnMap::default()).unwrap_err().to_string();
        assert!(msg.contains("ambiguous"), "{msg}");
    }

    #[test]
    fn headerless_file_error_does_not_echo_the_data() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "x.csv",
            "张三,11010519491231002X,低保\n".as_bytes(),
        );
        let msg = collect(&p, &ColumnMap::default()).unwrap_err().to_string();
        assert!(msg.contains("no header row"), "{msg}");
        assert!(
            !msg.contains("11010519491231002X") && !msg.contains("张三"),
            "{msg}"
        );
        let empty = write(d.path(), "e.csv", b"\n\n");
        assert!(matches!(
            collect(&empty, &ColumnMap::default()),
            Err(ExportError::NoHeader(_))
        ));
    }

    #[test]
    fn title_line_and_blank_rows_are_skipped_and_lines_counted() {
        let d = tempfile::tempdir().unwrap();
        let text = "某市低保名单,,\n\n姓名,证件号码,人员类别,终止日期\n张三,11010519491231002X,低保,2026/12/31\n,,,\n\"李\n四\",1,特困,\n";
        let p = write(d.path(), "x.csv", text.as_bytes());
        let (info, rows) = collect(&p, &ColumnMap::default()).unwrap();
        assert_eq!(info.header_line, 3);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 4);
        assert_eq!(rows[1].line, 6);
        assert_eq!(rows[1].category, "特困");
        assert_eq!(rows[1].valid_to, Ok(None));
        assert!(!format!("{:?}", rows[0]).contains("11010519491231002X"));
    }

    /// Regression: a CSV with CRLF line ends (what Excel writes) had every
    /// line number one short of the file's and Excel's.
    #[test]
    fn crlf_line_numbers_match_the_file() {
        let d = tempfile::tempdir().unwrap();
        let text = "某市低保名单,,\r\n\r\n姓名,证件号码,人员类别,终止日期\r\n张三,11010519491231002X,低保,2026/12/31\r\n\r\n李四,1,特困,\r\n王五,1,特困,\r\n";
        let p = write(d.path(), "x.csv", text.as_bytes());
        let (info, rows) = collect(&p, &ColumnMap::default()).unwrap();
        assert_eq!(info.header_line, 3);
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [4, 6, 7]);
    }

    #[test]
    fn column_map_from_config_accepts_one_or_many() {
        let m: ColumnMap =
            serde_json::from_str(r#"{"id_number":"公民身份号码","category":["类型","类别"]}"#)
                .unwrap();
        assert_eq!(m.id_number, vec!["公民身份号码"]);
        assert_eq!(m.category, vec!["类型", "类别"]);
        assert_eq!(m.valid_to, ColumnMap::default().valid_to);
        assert!(serde_json::from_str::<ColumnMap>(r#"{"idnumber":"x"}"#).is_err());
    }
}
