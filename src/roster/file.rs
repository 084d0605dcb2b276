//! The signed roster file: a header signed with ed25519, then fixed-size
//! binary records sorted by hash.
//!
//! # Layout (all integers big-endian)
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `GWROSTER` |
//! | 8 | 2 | format version, 1 |
//! | 10 | 4 | length L of the header fields that follow |
//! | 14 | L | header fields, see below |
//! | 14+L | 64 | ed25519 signature over bytes `0 .. 14+L` |
//! | 78+L | … | body: records |
//!
//! Header fields: kind (u8: 1 full, 2 delta), roster version (u64), base
//! version (u64, 0 for a full roster), created-at (i64, Unix seconds UTC),
//! entry count (u64: rows of a full roster, adds of a delta), remove count
//! (u64, 0 for a full roster), hash key id (8 bytes, see
//! [`super::keys::HashKey::id`]), category count (u8), then per category its
//! UTF-8 name length (u8) and name, and last the SHA-256 of the body (32).
//!
//! A full roster's record is 37 bytes: hash (32), category index (1),
//! valid-to as `YYYYMMDD` (u32, 0 = no end date). A delta's record is 38
//! bytes: an operation byte (1 add or replace, 2 remove) then the same 37
//! bytes (category and date are zero for a remove). Records are sorted by
//! hash, strictly ascending, so a hall can merge a delta into its roster in
//! one pass. A full roster of 10 million rows is about 370 MB.
//!
//! Which categories grant priority is hall configuration and is not in the
//! file.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::RosterEntry;

/// The eight bytes every roster file starts with.
pub const MAGIC: [u8; 8] = *b"GWROSTER";
/// The format version written and read by this module.
pub const FORMAT_VERSION: u16 = 1;
/// Size of a full roster's record.
pub const FULL_RECORD_LEN: usize = 37;
/// Size of a delta's record.
pub const DELTA_RECORD_LEN: usize = 38;
const PREAMBLE_LEN: usize = 14;
const SIGNATURE_LEN: usize = 64;
/// Largest header accepted: fixed fields plus 255 names of 255 bytes.
const MAX_HEADER_LEN: usize = 1 + 8 * 5 + 8 + 1 + 255 * 256 + 32;
const OP_ADD: u8 = 1;
const OP_REMOVE: u8 = 2;

/// Full roster, or delta against an earlier version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterKind {
    /// The whole roster.
    Full,
    /// Changes against roster version `base_version`.
    Delta {
        /// The version this delta applies to.
        base_version: u64,
    },
}

/// What the writer of a roster file is told up front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterMeta {
    /// Full or delta.
    pub kind: RosterKind,
    /// The roster version N this file is (or, for a delta, leads to).
    pub version: u64,
    /// When the roster was prepared; given by the caller, never read from
    /// the clock here.
    pub created_at: DateTime<Utc>,
    /// Category names, index order.
    pub categories: Vec<String>,
    /// [`super::keys::HashKey::id`] of the hash key used.
    pub hash_key_id: [u8; 8],
}

/// A roster file's header, as read back (or as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterHeader {
    /// Kind, version, time, categories and hash key id.
    pub meta: RosterMeta,
    /// Rows of a full roster, or adds (including replacements) of a delta.
    pub entry_count: u64,
    /// Removals of a delta; 0 for a full roster.
    pub remove_count: u64,
    /// SHA-256 of the body bytes.
    pub body_digest: [u8; 32],
}

/// One record of a roster file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterRecord {
    /// A roster row (in a delta: a new or changed row, which replaces any
    /// row with the same hash).
    Entry(RosterEntry),
    /// In a delta only: the row with this hash is gone.
    Remove([u8; 32]),
}

impl RosterRecord {
    /// The hash the record is about.
    pub fn hash(&self) -> &[u8; 32] {
        match self {
            RosterRecord::Entry(e) => &e.hash,
            RosterRecord::Remove(h) => h,
        }
    }
}

/// Everything that can be wrong with a roster file, or with writing one.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Reading or writing failed.
    #[error("roster file I/O error: {0}")]
    Io(#[from] io::Error),
    /// Zero bytes.
    #[error("roster file is empty (0 bytes)")]
    Empty,
    /// The first bytes are not `GWROSTER`.
    #[error("not a greenwave roster file: wrong magic bytes at offset 0 (found {found})")]
    BadMagic {
        /// The bytes found, hex.
        found: String,
    },
    /// A format version this code does not read.
    #[error(
        "roster format version {0} is not supported (this program reads version {FORMAT_VERSION})"
    )]
    UnsupportedVersion(u16),
    /// The file ended early.
    #[error("roster file is truncated: it ends at byte offset {offset}, inside the {part}")]
    Truncated {
        /// File length.
        offset: u64,
        /// Which part was being read.
        part: String,
    },
    /// The signature does not verify.
    #[error("roster header signature does not verify with the given public key: the file was signed with another key, or its header was altered")]
    BadSignature,
    /// A header field is impossible (after a valid signature, or when the
    /// signature is not checked).
    #[error("roster header is malformed at byte offset {offset}: {reason}")]
    BadHeader {
        /// Offset of the field.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A record with an impossible field.
    #[error("roster record {row} at byte offset {offset} is malformed: {reason}")]
    BadRecord {
        /// 1-based record number.
        row: u64,
        /// Offset of the record.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// Records not strictly ascending by hash.
    #[error("roster record {row} at byte offset {offset} is out of order (hashes must be strictly ascending)")]
    OutOfOrder {
        /// 1-based record number.
        row: u64,
        /// Offset of the record.
        offset: u64,
    },
    /// The body does not have the digest the signed header promises.
    #[error("roster body digest mismatch: the records were altered after signing (expected SHA-256 {expected}, got {actual})")]
    DigestMismatch {
        /// From the header, hex.
        expected: String,
        /// Computed, hex.
        actual: String,
    },
    /// The body holds a different split of adds and removals than the
    /// header says.
    #[error("roster body holds {actual_removes} removals, the header says {expected_removes}")]
    CountMismatch {
        /// From the header.
        expected_removes: u64,
        /// Counted.
        actual_removes: u64,
    },
    /// Bytes after the last record.
    #[error("roster file has trailing data after the last record, at byte offset {offset}")]
    TrailingData {
        /// Offset of the first extra byte.
        offset: u64,
    },
    /// The writer was given an impossible record.
    #[error("cannot write roster record {row}: {reason}")]
    InvalidWrite {
        /// 1-based record number.
        row: u64,
        /// What is wrong.
        reason: String,
    },
}

/// Encodes a date as `YYYYMMDD`, 0 for none.
pub fn encode_date(d: Option<NaiveDate>) -> u32 {
    d.map_or(0, |d| {
        let y = u32::try_from(d.year()).unwrap_or(0);
        y * 10_000 + d.month() * 100 + d.day()
    })
}

/// A `YYYYMMDD` value that is not a date between 1900 and 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid YYYYMMDD date {0}")]
pub struct InvalidDate(pub u32);

/// Decodes a `YYYYMMDD` date, 0 meaning none.
pub fn decode_date(v: u32) -> Result<Option<NaiveDate>, InvalidDate> {
    if v == 0 {
        return Ok(None);
    }
    let (y, m, d) = (v / 10_000, v / 100 % 100, v % 100);
    if !(1900..=9999).contains(&y) {
        return Err(InvalidDate(v));
    }
    NaiveDate::from_ymd_opt(y as i32, m, d)
        .map(Some)
        .ok_or(InvalidDate(v))
}

fn encode_header(meta: &RosterMeta, entries: u64, removes: u64, digest: &[u8; 32]) -> Vec<u8> {
    let mut f = Vec::new();
    let (kind, base) = match meta.kind {
        RosterKind::Full => (1u8, 0u64),
        RosterKind::Delta { base_version } => (2u8, base_version),
    };
    f.push(kind);
    f.extend_from_slice(&meta.version.to_be_bytes());
    f.extend_from_slice(&base.to_be_bytes());
    f.extend_from_slice(&meta.created_at.timestamp().to_be_bytes());
    f.extend_from_slice(&entries.to_be_bytes());
    f.extend_from_slice(&removes.to_be_bytes());
    f.extend_from_slice(&meta.hash_key_id);
    // Checked by RosterWriter::new: at most 255 names of at most 255 bytes.
    f.push(meta.categories.len() as u8);
    for c in &meta.categories {
        f.push(c.len() as u8);
        f.extend_from_slice(c.as_bytes());
    }
    f.extend_from_slice(digest);
    let mut out = Vec::with_capacity(PREAMBLE_LEN + f.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    out.extend_from_slice(&(f.len() as u32).to_be_bytes());
    out.extend_from_slice(&f);
    out
}

/// Parses header fields (the bytes after the preamble).
fn decode_header(fields: &[u8]) -> Result<RosterHeader, FormatError> {
    let mut c = Cursor {
        buf: fields,
        pos: 0,
    };
    let kind = c.u8()?;
    let version = c.u64()?;
    let base = c.u64()?;
    let created = c.i64()?;
    let created_at = DateTime::<Utc>::from_timestamp(created, 0)
        .ok_or_else(|| c.bad(24, "created-at out of range"))?;
    let entry_count = c.u64()?;
    let remove_count = c.u64()?;
    let hash_key_id: [u8; 8] = c.take(8)?.try_into().map_err(|_| c.bad(0, "hash key id"))?;
    let kind = match kind {
        1 if base == 0 && remove_count == 0 => RosterKind::Full,
        1 => return Err(c.bad(0, "full roster with a base version or removals")),
        2 if base < version => RosterKind::Delta { base_version: base },
        2 => return Err(c.bad(9, "delta base version is not below the roster version")),
        k => return Err(c.bad(0, &format!("unknown kind {k}"))),
    };
    let n = c.u8()?;
    if n == 0 {
        return Err(c.bad(c.pos - 1, "no categories"));
    }
    let mut categories = Vec::with_capacity(usize::from(n));
    for _ in 0..n {
        let at = c.pos;
        let len = c.u8()?;
        let name = std::str::from_utf8(c.take(usize::from(len))?)
            .map_err(|_| c.bad(at, "category name is not UTF-8"))?;
        categories.push(name.to_owned());
    }
    let body_digest: [u8; 32] = c.take(32)?.try_into().map_err(|_| c.bad(0, "digest"))?;
    if c.pos != fields.len() {
        return Err(c.bad(c.pos, "extra bytes after the body digest"));
    }
    Ok(RosterHeader {
        meta: RosterMeta {
            kind,
            version,
            created_at,
            categories,
            hash_key_id,
        },
        entry_count,
        remove_count,
        body_digest,
    })
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn bad(&self, field_pos: usize, reason: &str) -> FormatError {
        FormatError::BadHeader {
            offset: (PREAMBLE_LEN + field_pos) as u64,
            reason: reason.to_owned(),
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        let end = self.pos + n;
        if end > self.buf.len() {
            return Err(self.bad(self.pos, "header fields end early"));
        }
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.take(1)?[0])
    }
    fn u64(&mut self) -> Result<u64, FormatError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(b))
    }
    fn i64(&mut self) -> Result<i64, FormatError> {
        Ok(self.u64()? as i64)
    }
}

fn encode_entry(e: &RosterEntry, out: &mut [u8]) {
    out[..32].copy_from_slice(&e.hash);
    out[32] = e.category;
    out[33..37].copy_from_slice(&encode_date(e.valid_to).to_be_bytes());
}

/// Writes a roster file in one pass over sorted records.
///
/// The header (which holds the counts and the body digest) comes first in
/// the file, so the body is spooled to an anonymous temporary file and
/// copied to the output by [`RosterWriter::finish`]. It holds hashes only.
pub struct RosterWriter<W: Write> {
    out: W,
    meta: RosterMeta,
    key: SigningKey,
    body: BufWriter<File>,
    sha: Sha256,
    entries: u64,
    removes: u64,
    last: Option<[u8; 32]>,
}

impl<W: Write> fmt::Debug for RosterWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RosterWriter")
            .field("meta", &self.meta)
            .field("entries", &self.entries)
            .field("removes", &self.removes)
            .finish_non_exhaustive()
    }
}

impl<W: Write> RosterWriter<W> {
    /// Starts a roster file. `temp_dir` is where the body is spooled
    /// (the system temporary directory if `None`).
    pub fn new(
        out: W,
        meta: RosterMeta,
        key: &SigningKey,
        temp_dir: Option<&Path>,
    ) -> Result<Self, FormatError> {
        let invalid = |reason: String| FormatError::InvalidWrite { row: 0, reason };
        if meta.categories.is_empty() || meta.categories.len() > 255 {
            return Err(invalid(format!(
                "{} categories, need 1 to 255",
                meta.categories.len()
            )));
        }
        if let Some(c) = meta.categories.iter().find(|c| c.len() > 255) {
            return Err(invalid(format!("category name {c:?} is over 255 bytes")));
        }
        if let RosterKind::Delta { base_version } = meta.kind {
            if base_version >= meta.version {
                return Err(invalid(format!(
                    "delta base version {base_version} is not below version {}",
                    meta.version
                )));
            }
        }
        let spool = match temp_dir {
            Some(d) => tempfile::tempfile_in(d)?,
            None => tempfile::tempfile()?,
        };
        Ok(RosterWriter {
            out,
            meta,
            key: key.clone(),
            body: BufWriter::with_capacity(1 << 16, spool),
            sha: Sha256::new(),
            entries: 0,
            removes: 0,
            last: None,
        })
    }

    fn row(&self) -> u64 {
        self.entries + self.removes + 1
    }

    fn check_order(&mut self, hash: &[u8; 32]) -> Result<(), FormatError> {
        if self.last.is_some_and(|l| l >= *hash) {
            return Err(FormatError::InvalidWrite {
                row: self.row(),
                reason: "hashes must be strictly ascending".to_owned(),
            });
        }
        self.last = Some(*hash);
        Ok(())
    }

    fn emit(&mut self, bytes: &[u8]) -> Result<(), FormatError> {
        self.sha.update(bytes);
        self.body.write_all(bytes)?;
        Ok(())
    }

    /// Appends a row (in a delta: an add or replacement). Hashes must come
    /// strictly ascending across entries and removals.
    pub fn push_entry(&mut self, e: &RosterEntry) -> Result<(), FormatError> {
        if usize::from(e.category) >= self.meta.categories.len() {
            return Err(FormatError::InvalidWrite {
                row: self.row(),
                reason: format!("category index {} out of range", e.category),
            });
        }
        if encode_date(e.valid_to) != 0 && decode_date(encode_date(e.valid_to)).is_err() {
            return Err(FormatError::InvalidWrite {
                row: self.row(),
                reason: "valid-to date outside 1900..=9999".to_owned(),
            });
        }
        self.check_order(&e.hash)?;
        let mut buf = [0u8; DELTA_RECORD_LEN];
        let rec = match self.meta.kind {
            RosterKind::Full => {
                encode_entry(e, &mut buf[..FULL_RECORD_LEN]);
                &buf[..FULL_RECORD_LEN]
            }
            RosterKind::Delta { .. } => {
                buf[0] = OP_ADD;
                encode_entry(e, &mut buf[1..]);
                &buf[..]
            }
        };
        self.emit(rec)?;
        self.entries += 1;
        Ok(())
    }

    /// Appends a removal; only in a delta.
    pub fn push_removal(&mut self, hash: &[u8; 32]) -> Result<(), FormatError> {
        if self.meta.kind == RosterKind::Full {
            return Err(FormatError::InvalidWrite {
                row: self.row(),
                reason: "a full roster cannot hold removals".to_owned(),
            });
        }
        self.check_order(hash)?;
        let mut buf = [0u8; DELTA_RECORD_LEN];
        buf[0] = OP_REMOVE;
        buf[1..33].copy_from_slice(hash);
        self.emit(&buf)?;
        self.removes += 1;
        Ok(())
    }

    /// Appends a record of either kind.
    pub fn push(&mut self, r: &RosterRecord) -> Result<(), FormatError> {
        match r {
            RosterRecord::Entry(e) => self.push_entry(e),
            RosterRecord::Remove(h) => self.push_removal(h),
        }
    }

    /// Signs the header, writes header, signature and body to the output,
    /// flushes it and returns the header and the writer's output.
    pub fn finish(self) -> Result<(RosterHeader, W), FormatError> {
        let RosterWriter {
            mut out,
            meta,
            key,
            body,
            sha,
            entries,
            removes,
            ..
        } = self;
        let digest: [u8; 32] = sha.finalize().into();
        let header = encode_header(&meta, entries, removes, &digest);
        let sig = key.sign(&header);
        out.write_all(&header)?;
        out.write_all(&sig.to_bytes())?;
        let mut spool = body.into_inner().map_err(|e| e.into_error())?;
        spool.seek(SeekFrom::Start(0))?;
        io::copy(&mut spool, &mut out)?;
        out.flush()?;
        Ok((
            RosterHeader {
                meta,
                entry_count: entries,
                remove_count: removes,
                body_digest: digest,
            },
            out,
        ))
    }
}

/// Reads and verifies a roster file as a stream.
///
/// [`RosterReader::open`] checks magic, version and the header signature
/// before anything else; the records are then yielded by the iterator, each
/// checked for a valid category index, date and ascending order. The body
/// digest, the record count and the absence of trailing data can only be
/// confirmed after the last record: a caller must stage what it reads and
/// commit it only when [`RosterReader::finish`] returns `Ok`.
pub struct RosterReader<R: Read> {
    input: BufReader<R>,
    header: RosterHeader,
    offset: u64,
    read: u64,
    sha: Sha256,
    last: Option<[u8; 32]>,
    removes_seen: u64,
    failed: bool,
}

impl<R: Read> fmt::Debug for RosterReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RosterReader")
            .field("header", &self.header)
            .field("offset", &self.offset)
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
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

impl RosterReader<File> {
    /// Opens a roster file by path.
    pub fn open_path(path: &Path, key: Option<&VerifyingKey>) -> Result<Self, FormatError> {
        Self::open(File::open(path)?, key)
    }
}

impl<R: Read> RosterReader<R> {
    /// Reads and checks the header. With `key`, the signature must verify
    /// before any header field is trusted; `None` skips the check (for
    /// inspection tools only; never load an unverified roster).
    pub fn open(input: R, key: Option<&VerifyingKey>) -> Result<Self, FormatError> {
        let mut input = BufReader::with_capacity(1 << 16, input);
        let mut pre = [0u8; PREAMBLE_LEN];
        let n = read_up_to(&mut input, &mut pre)?;
        if n == 0 {
            return Err(FormatError::Empty);
        }
        let m = n.min(MAGIC.len());
        if pre[..m] != MAGIC[..m] {
            return Err(FormatError::BadMagic {
                found: hex::encode(&pre[..m]),
            });
        }
        if n < PREAMBLE_LEN {
            return Err(FormatError::Truncated {
                offset: n as u64,
                part: "header preamble".to_owned(),
            });
        }
        let version = u16::from_be_bytes([pre[8], pre[9]]);
        if version != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion(version));
        }
        let len = u32::from_be_bytes([pre[10], pre[11], pre[12], pre[13]]) as usize;
        if len > MAX_HEADER_LEN {
            return Err(FormatError::BadHeader {
                offset: 10,
                reason: format!("header length {len} exceeds the maximum {MAX_HEADER_LEN}"),
            });
        }
        let mut signed = vec![0u8; PREAMBLE_LEN + len + SIGNATURE_LEN];
        signed[..PREAMBLE_LEN].copy_from_slice(&pre);
        let got = read_up_to(&mut input, &mut signed[PREAMBLE_LEN..])?;
        if got < len + SIGNATURE_LEN {
            let part = if got < len {
                "header"
            } else {
                "header signature"
            };
            return Err(FormatError::Truncated {
                offset: (PREAMBLE_LEN + got) as u64,
                part: part.to_owned(),
            });
        }
        let (message, sig) = signed.split_at(PREAMBLE_LEN + len);
        if let Some(key) = key {
            let sig = Signature::from_slice(sig).map_err(|_| FormatError::BadSignature)?;
            key.verify_strict(message, &sig)
                .map_err(|_| FormatError::BadSignature)?;
        }
        let header = decode_header(&message[PREAMBLE_LEN..])?;
        Ok(RosterReader {
            input,
            header,
            offset: signed.len() as u64,
            read: 0,
            sha: Sha256::new(),
            last: None,
            removes_seen: 0,
            failed: false,
        })
    }

    /// The verified header.
    pub fn header(&self) -> &RosterHeader {
        &self.header
    }

    fn total(&self) -> u64 {
        self.header.entry_count + self.header.remove_count
    }

    fn next_record(&mut self) -> Result<Option<RosterRecord>, FormatError> {
        if self.read >= self.total() {
            return Ok(None);
        }
        let delta = self.header.meta.kind != RosterKind::Full;
        let len = if delta {
            DELTA_RECORD_LEN
        } else {
            FULL_RECORD_LEN
        };
        let mut buf = [0u8; DELTA_RECORD_LEN];
        let rec = &mut buf[..len];
        let n = read_up_to(&mut self.input, rec)?;
        let row = self.read + 1;
        let at = self.offset;
        if n < len {
            return Err(FormatError::Truncated {
                offset: at + n as u64,
                part: format!("record {row} of {}", self.total()),
            });
        }
        self.sha.update(&*rec);
        self.offset += len as u64;
        self.read += 1;
        let bad = |reason: String| FormatError::BadRecord {
            row,
            offset: at,
            reason,
        };
        let (op, body) = if delta {
            (rec[0], &rec[1..])
        } else {
            (OP_ADD, &rec[..])
        };
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&body[..32]);
        if self.last.is_some_and(|l| l >= hash) {
            return Err(FormatError::OutOfOrder { row, offset: at });
        }
        self.last = Some(hash);
        let category = body[32];
        let date = u32::from_be_bytes([body[33], body[34], body[35], body[36]]);
        match op {
            OP_ADD => {
                if usize::from(category) >= self.header.meta.categories.len() {
                    return Err(bad(format!("category index {category} out of range")));
                }
                let valid_to =
                    decode_date(date).map_err(|_| bad(format!("invalid valid-to date {date}")))?;
                Ok(Some(RosterRecord::Entry(RosterEntry {
                    hash,
                    category,
                    valid_to,
                })))
            }
            OP_REMOVE if category == 0 && date == 0 => {
                self.removes_seen += 1;
                Ok(Some(RosterRecord::Remove(hash)))
            }
            OP_REMOVE => Err(bad("removal with non-zero category or date".to_owned())),
            op => Err(bad(format!("unknown operation byte {op}"))),
        }
    }

    /// Reads any records not yet read, then confirms the body digest, the
    /// record counts and that nothing follows the last record. Returns the
    /// header once the whole file is proven intact.
    pub fn finish(mut self) -> Result<RosterHeader, FormatError> {
        if self.failed {
            return Err(FormatError::BadRecord {
                row: self.read,
                offset: self.offset,
                reason: "finish called after a record error".to_owned(),
            });
        }
        while self.next_record()?.is_some() {}
        let actual: [u8; 32] = self.sha.finalize_reset().into();
        if actual != self.header.body_digest {
            return Err(FormatError::DigestMismatch {
                expected: hex::encode(self.header.body_digest),
                actual: hex::encode(actual),
            });
        }
        let mut extra = [0u8; 1];
        if read_up_to(&mut self.input, &mut extra)? != 0 {
            return Err(FormatError::TrailingData {
                offset: self.offset,
            });
        }
        if self.removes_seen != self.header.remove_count {
            return Err(FormatError::CountMismatch {
                expected_removes: self.header.remove_count,
                actual_removes: self.removes_seen,
            });
        }
        Ok(self.header)
    }
}

impl<R: Read> Iterator for RosterReader<R> {
    type Item = Result<RosterRecord, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SigningKey {
        SigningKey::from_bytes(&[b; 32])
    }

    fn meta(kind: RosterKind) -> RosterMeta {
        RosterMeta {
            kind,
            version: 5,
            created_at: DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap(),
            categories: vec!["低保".into(), "特困".into()],
            hash_key_id: [9; 8],
        }
    }

    fn entries(n: u8) -> Vec<RosterEntry> {
        (0..n)
            .map(|i| RosterEntry {
                hash: [i * 2 + 1; 32],
                category: i % 2,
                valid_to: if i % 3 == 0 {
                    None
                } else {
                    NaiveDate::from_ymd_opt(2026, 12, u32::from(i % 28) + 1)
                },
            })
            .collect()
    }

    fn write_full(n: u8) -> Vec<u8> {
        let mut w = RosterWriter::new(Vec::new(), meta(RosterKind::Full), &key(1), None).unwrap();
        for e in entries(n) {
            w.push_entry(&e).unwrap();
        }
        w.finish().unwrap().1
    }

    fn read_all(bytes: &[u8], k: Option<&VerifyingKey>) -> Result<Vec<RosterRecord>, FormatError> {
        let mut r = RosterReader::open(bytes, k)?;
        let recs = r.by_ref().collect::<Result<Vec<_>, _>>()?;
        r.finish()?;
        Ok(recs)
    }

    #[test]
    fn full_round_trip_and_size() {
        let bytes = write_full(10);
        let vk = key(1).verifying_key();
        let mut r = RosterReader::open(&bytes[..], Some(&vk)).unwrap();
        assert_eq!(r.header().meta, meta(RosterKind::Full));
        assert_eq!(r.header().entry_count, 10);
        let recs: Vec<RosterRecord> = r.by_ref().map(Result::unwrap).collect();
        let want: Vec<RosterRecord> = entries(10).into_iter().map(RosterRecord::Entry).collect();
        assert_eq!(recs, want);
        r.finish().unwrap();
        // Header + signature + 37 bytes a record.
        let header_len = encode_header(&meta(RosterKind::Full), 0, 0, &[0; 32]).len();
        assert_eq!(
            bytes.len(),
            header_len + SIGNATURE_LEN + 10 * FULL_RECORD_LEN
        );
    }

    #[test]
    fn delta_round_trip() {
        let m = meta(RosterKind::Delta { base_version: 4 });
        let mut w = RosterWriter::new(Vec::new(), m.clone(), &key(1), None).unwrap();
        let e = entries(3);
        w.push_entry(&e[0]).unwrap();
        w.push_removal(&[2; 32]).unwrap();
        w.push_entry(&e[1]).unwrap();
        let (h, bytes) = w.finish().unwrap();
        assert_eq!((h.entry_count, h.remove_count), (2, 1));
        let recs = read_all(&bytes, Some(&key(1).verifying_key())).unwrap();
        assert_eq!(
            recs,
            vec![
                RosterRecord::Entry(e[0]),
                RosterRecord::Remove([2; 32]),
                RosterRecord::Entry(e[1])
            ]
        );
    }

    #[test]
    fn writer_refuses_unsorted_duplicate_and_misplaced_records() {
        let mut w = RosterWriter::new(Vec::new(), meta(RosterKind::Full), &key(1), None).unwrap();
        let e = entries(2);
        w.push_entry(&e[1]).unwrap();
        let err = w.push_entry(&e[0]).unwrap_err().to_string();
        assert!(
            err.contains("record 2") && err.contains("ascending"),
            "{err}"
        );
        assert!(w.push_entry(&e[1]).is_err());
        assert!(w
            .push_removal(&[200; 32])
            .unwrap_err()
            .to_string()
            .contains("full roster"));
        let mut bad = e[1];
        bad.hash = [250; 32];
        bad.category = 2;
        assert!(w
            .push_entry(&bad)
            .unwrap_err()
            .to_string()
            .contains("out of range"));
        let m = RosterMeta {
            kind: RosterKind::Delta { base_version: 5 },
            ..meta(RosterKind::Full)
        };
        assert!(RosterWriter::new(Vec::new(), m, &key(1), None).is_err());
    }

    #[test]
    fn other_key_is_a_bad_signature() {
        let bytes = write_full(3);
        let err = read_all(&bytes, Some(&key(2).verifying_key())).unwrap_err();
        assert!(matches!(err, FormatError::BadSignature), "{err}");
        assert!(err.to_string().contains("signed with another key"));
        // Without a key (inspection) it reads.
        assert_eq!(read_all(&bytes, None).unwrap().len(), 3);
    }

    #[test]
    fn altered_header_is_a_bad_signature() {
        let mut bytes = write_full(3);
        bytes[PREAMBLE_LEN + 8] ^= 1; // roster version
        let err = read_all(&bytes, Some(&key(1).verifying_key())).unwrap_err();
        assert!(matches!(err, FormatError::BadSignature), "{err}");
    }

    #[test]
    fn tampered_body_byte_is_a_digest_mismatch_after_the_last_record() {
        let bytes = write_full(5);
        let vk = key(1).verifying_key();
        let body = bytes.len() - 5 * FULL_RECORD_LEN;
        for pos in [body, body + 2 * FULL_RECORD_LEN + 31, bytes.len() - 6] {
            let mut t = bytes.clone();
            t[pos] ^= 0x01;
            let mut r = RosterReader::open(&t[..], Some(&vk)).unwrap();
            assert!(r.by_ref().all(|x| x.is_ok()), "records still parse");
            let err = r.finish().unwrap_err();
            assert!(matches!(err, FormatError::DigestMismatch { .. }), "{err}");
            assert!(err.to_string().contains("altered after signing"));
        }
        // A category byte pushed out of range is caught at its record.
        let mut t = bytes.clone();
        t[body + 32] = 7;
        let err = read_all(&t, Some(&vk)).unwrap_err();
        assert!(
            matches!(err, FormatError::BadRecord { row: 1, .. }),
            "{err}"
        );
        assert!(err.to_string().contains(&format!("offset {body}")), "{err}");
    }

    #[test]
    fn truncation_anywhere_is_reported_with_the_offset() {
        let bytes = write_full(4);
        let vk = key(1).verifying_key();
        let body = bytes.len() - 4 * FULL_RECORD_LEN;
        for cut in [3, 8, 12, 20, body - 10, body + 1, bytes.len() - 1] {
            let err = read_all(&bytes[..cut], Some(&vk)).unwrap_err();
            assert!(
                matches!(err, FormatError::Truncated { .. }),
                "cut {cut}: {err}"
            );
            assert!(err.to_string().contains(&format!("offset {cut}")), "{err}");
        }
        let err = read_all(&bytes[..body + 1], Some(&vk)).unwrap_err();
        assert!(err.to_string().contains("record 1 of 4"), "{err}");
        let err = read_all(&bytes[..body - 10], Some(&vk)).unwrap_err();
        assert!(err.to_string().contains("signature"), "{err}");
    }

    #[test]
    fn empty_wrong_magic_version_and_trailing_data() {
        let vk = key(1).verifying_key();
        assert!(matches!(read_all(b"", Some(&vk)), Err(FormatError::Empty)));
        let err = read_all("身份证号码,类别\n".as_bytes(), Some(&vk)).unwrap_err();
        assert!(matches!(err, FormatError::BadMagic { .. }), "{err}");
        assert!(err.to_string().contains("not a greenwave roster file"));
        let mut bytes = write_full(2);
        bytes[9] = 9;
        assert!(matches!(
            read_all(&bytes, Some(&vk)),
            Err(FormatError::UnsupportedVersion(9))
        ));
        let mut bytes = write_full(2);
        let len = bytes.len() as u64;
        bytes.extend_from_slice(b"junk");
        let err = read_all(&bytes, Some(&vk)).unwrap_err();
        assert!(
            matches!(err, FormatError::TrailingData { offset } if offset == len),
            "{err}"
        );
        // Absurd header length is refused before allocating.
        let mut bytes = write_full(1);
        bytes[10..14].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            read_all(&bytes, Some(&vk)),
            Err(FormatError::BadHeader { offset: 10, .. })
        ));
    }

    #[test]
    fn finish_without_iterating_still_checks_everything() {
        let bytes = write_full(6);
        let vk = key(1).verifying_key();
        let h = RosterReader::open(&bytes[..], Some(&vk))
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(h.entry_count, 6);
        let mut t = bytes.clone();
        let last = t.len() - 1;
        t[last] ^= 0x10;
        assert!(RosterReader::open(&t[..], Some(&vk))
            .unwrap()
            .finish()
            .is_err());
    }

    #[test]
    fn date_codec() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 28);
        assert_eq!(encode_date(d), 20_260_228);
        assert_eq!(decode_date(20_260_228), Ok(d));
        assert_eq!(decode_date(0), Ok(None));
        assert!(decode_date(20_260_230).is_err());
        assert!(decode_date(1).is_err());
    }

    proptest::proptest! {
        #[test]
        fn reader_never_panics_on_arbitrary_bytes(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = read_all(&data, None);
            let _ = read_all(&data, Some(&key(1).verifying_key()));
        }

        #[test]
        fn reader_never_panics_on_mutated_files(pos in 0usize..300, byte in proptest::prelude::any::<u8>()) {
            let mut bytes = write_full(4);
            let p = pos % bytes.len();
            bytes[p] = byte;
            let _ = read_all(&bytes, None);
        }
    }
}
