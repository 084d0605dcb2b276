//! The high-water record: `greenwave.hwm` beside the database, a small file
//! that says how far the data directory is known to have got: the service
//! day, the last journal seq, the largest ticket id and, per (service,
//! lane), the last number of that day. The hall rewrites it (`pwrite` +
//! `fdatasync`) after every commit that changes numbering, so that a
//! database which lost committed transactions (a zero-byte file after a bad
//! copy, a damaged write-ahead log after a crash: SQLite's recovery drops
//! such frames without a word) is noticed at the next start instead of
//! issuing the same numbers again.
//!
//! The file has a fixed size and two slots. Each write goes to the slot not
//! holding the newest record, with a generation counter and a CRC-32, so
//! that a torn write loses at most the record being written, never the one
//! before it. The first record is written to a temporary file and renamed
//! into place, so a zero-byte `greenwave.hwm` is damage, not a fresh start.
//!
//! This module also holds what the database itself says in the same terms
//! ([`Store::held`]) and the accepted loss ([`Store::accept_loss`]): a
//! numbering floor kept in the database, so that numbering never goes
//! backwards within a day even after the operator accepted a loss.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{parse_day, sql, AuditEntry, Store, StoreError};
use crate::queue::{Lane, Ticket};

/// The record's file name in the data directory.
pub const FILE_NAME: &str = "greenwave.hwm";

/// Bytes per slot; the file is two slots.
const SLOT: usize = 8192;
/// Magic (8), generation (8), payload length (4), CRC-32 (4).
const HEADER: usize = 24;
/// Format 1 of the slot.
const MAGIC: &[u8; 8] = b"GWHWM\0\0\x01";
/// The `meta` key of an accepted loss.
const FLOOR_KEY: &str = "numbering_floor";

/// The last number issued in one service's lane on the record's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastNumber {
    /// Its sequence in the lane (`A455` → 455).
    pub seq: u32,
    /// The number as printed.
    pub number: String,
}

/// How far a data directory got: what the high-water record says, or what
/// a database holds, in the same terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HighWater {
    /// The service day `lanes` belong to.
    pub day: NaiveDate,
    /// The last journal seq (0: none).
    pub seq: i64,
    /// The largest ticket id (0: none).
    pub max_id: u64,
    /// Per (origin service code, lane): the last number issued on `day`.
    pub lanes: BTreeMap<(String, Lane), LastNumber>,
}

/// One way a database falls short of a high-water record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shortfall {
    /// Numbers of the record's day that the database does not hold.
    Numbers {
        /// Service code.
        service: String,
        /// Lane.
        lane: Lane,
        /// The first missing number.
        first: String,
        /// The last number the record knows.
        last: String,
        /// How many.
        count: u32,
    },
    /// The journal ends before the record's last seq.
    Journal {
        /// The record's last seq.
        recorded: i64,
        /// The journal's.
        held: i64,
    },
    /// The largest ticket id is below the record's.
    TicketIds {
        /// The record's.
        recorded: u64,
        /// The database's.
        held: u64,
    },
}

impl HighWater {
    /// Nothing yet on `day`.
    pub fn empty(day: NaiveDate) -> HighWater {
        HighWater {
            day,
            seq: 0,
            max_id: 0,
            lanes: BTreeMap::new(),
        }
    }

    /// A ticket was issued and journalled at `seq`.
    pub fn issued(&mut self, t: &Ticket, seq: i64) {
        if t.day > self.day {
            self.day = t.day;
            self.lanes.clear();
        }
        self.seq = self.seq.max(seq);
        self.max_id = self.max_id.max(t.id.0);
        if t.day == self.day {
            let last = LastNumber {
                seq: t.seq,
                number: t.number.clone(),
            };
            self.lanes
                .entry((t.origin_service.clone(), t.lane))
                .and_modify(|l| {
                    if last.seq > l.seq {
                        *l = last.clone();
                    }
                })
                .or_insert(last);
        }
    }

    /// Everything `other` vouches for, kept: the larger seq and ticket id,
    /// and on the same day the larger number of each lane. `self.day` stays.
    pub fn raise(&mut self, other: &HighWater) {
        self.seq = self.seq.max(other.seq);
        self.max_id = self.max_id.max(other.max_id);
        if other.day != self.day {
            return;
        }
        for (k, l) in &other.lanes {
            match self.lanes.get(k) {
                Some(mine) if mine.seq >= l.seq => {}
                _ => {
                    self.lanes.insert(k.clone(), l.clone());
                }
            }
        }
    }

    /// What `held` (a database's own high water for this record's day)
    /// lacks of this record. Empty: the database has everything.
    pub fn shortfall(&self, held: &HighWater) -> Vec<Shortfall> {
        let mut out = Vec::new();
        for ((service, lane), last) in &self.lanes {
            let have = match held.lanes.get(&(service.clone(), *lane)) {
                Some(l) if held.day == self.day => l.seq,
                _ => 0,
            };
            if have < last.seq {
                out.push(Shortfall::Numbers {
                    service: service.clone(),
                    lane: *lane,
                    first: renumber(&last.number, have + 1),
                    last: last.number.clone(),
                    count: last.seq - have,
                });
            }
        }
        if held.seq < self.seq {
            out.push(Shortfall::Journal {
                recorded: self.seq,
                held: held.seq,
            });
        }
        if held.max_id < self.max_id {
            out.push(Shortfall::TicketIds {
                recorded: self.max_id,
                held: held.max_id,
            });
        }
        out
    }

    /// The record as text (the slot's payload and the floor in `meta`).
    pub fn encode(&self) -> String {
        let mut s = format!(
            "day {}\nseq {}\nmax_id {}\n",
            self.day, self.seq, self.max_id
        );
        for ((service, lane), l) in &self.lanes {
            s += &format!("lane {service} {} {} {}\n", lane.as_str(), l.seq, l.number);
        }
        s
    }

    /// Parses [`HighWater::encode`]'s text.
    pub fn decode(text: &str) -> Result<HighWater, String> {
        let mut day = None;
        let (mut seq, mut max_id) = (None, None);
        let mut lanes = BTreeMap::new();
        for line in text.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            match f.as_slice() {
                ["day", d] => day = parse_day(d),
                ["seq", n] => seq = n.parse().ok(),
                ["max_id", n] => max_id = n.parse().ok(),
                ["lane", service, lane, n, number] => {
                    let lane = Lane::parse(lane).ok_or(format!("bad lane in {line:?}"))?;
                    let seq = n.parse().map_err(|_| format!("bad number in {line:?}"))?;
                    let number = number.to_string();
                    lanes.insert((service.to_string(), lane), LastNumber { seq, number });
                }
                _ => return Err(format!("unknown line {line:?}")),
            }
        }
        match (day, seq, max_id) {
            (Some(day), Some(seq), Some(max_id)) => Ok(HighWater {
                day,
                seq,
                max_id,
                lanes,
            }),
            _ => Err("day, seq or max_id missing".to_string()),
        }
    }
}

/// `number` with its digits replaced by `seq`'s (`GA455`, 436 → `GA436`).
fn renumber(number: &str, seq: u32) -> String {
    let prefix = number.trim_end_matches(|c: char| c.is_ascii_digit());
    format!("{prefix}{seq:03}")
}

/// Why the record cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file system refused.
    #[error("high-water record {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The file is there but holds no valid record.
    #[error("high-water record {path} is damaged: {detail}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// A valid record as read, with its generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The record.
    pub record: HighWater,
    /// Its slot's generation (the next write uses the next one).
    pub generation: u64,
}

/// The record file, open for writing.
#[derive(Debug)]
pub struct RecordFile {
    file: File,
    path: PathBuf,
    generation: u64,
}

impl RecordFile {
    /// Reads the newest valid record of the file at `path`; `Ok(None)` if
    /// there is no file.
    pub fn read(path: &Path) -> Result<Option<Found>, RecordError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(RecordError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let damaged = |detail: String| RecordError::Damaged {
            path: path.to_path_buf(),
            detail,
        };
        if bytes.len() != 2 * SLOT {
            return Err(damaged(format!(
                "{} bytes instead of {}",
                bytes.len(),
                2 * SLOT
            )));
        }
        let slots = [decode_slot(&bytes[..SLOT]), decode_slot(&bytes[SLOT..])];
        let newest = slots.into_iter().flatten().max_by_key(|f| f.generation);
        newest
            .map(Some)
            .ok_or_else(|| damaged("neither slot holds a valid record".to_string()))
    }

    /// Writes a new file at `path` holding `record` (replacing any): a
    /// temporary file, synced, renamed into place, the directory synced.
    pub fn create(path: &Path, record: &HighWater) -> Result<RecordFile, RecordError> {
        let io = |source| RecordError::Io {
            path: path.to_path_buf(),
            source,
        };
        let tmp = path.with_extension("hwm.tmp");
        let mut image = vec![0u8; 2 * SLOT];
        let slot = encode_slot(1, record).map_err(io)?;
        let at = slot_offset(1);
        image[at..at + slot.len()].copy_from_slice(&slot);
        let mut f = File::create(&tmp).map_err(io)?;
        f.write_all(&image).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(io)?;
        if let Some(dir) = path.parent() {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        RecordFile::open(path, 1)
    }

    /// Opens the existing file at `path` whose newest record has
    /// `generation`.
    pub fn open(path: &Path, generation: u64) -> Result<RecordFile, RecordError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|source| RecordError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(RecordFile {
            file,
            path: path.to_path_buf(),
            generation,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `record` into the older slot and waits until it is on disk.
    pub fn write(&mut self, record: &HighWater) -> Result<(), RecordError> {
        let generation = self.generation + 1;
        encode_slot(generation, record)
            .and_then(|s| self.file.write_all_at(&s, slot_offset(generation) as u64))
            .and_then(|()| self.file.sync_data())
            .map_err(|source| RecordError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.generation = generation;
        Ok(())
    }
}

/// Where the slot of `generation` starts: odd generations in the second.
fn slot_offset(generation: u64) -> usize {
    (generation % 2) as usize * SLOT
}

fn encode_slot(generation: u64, record: &HighWater) -> std::io::Result<Vec<u8>> {
    let payload = record.encode();
    if payload.len() > SLOT - HEADER {
        return Err(std::io::Error::other(format!(
            "record of {} bytes does not fit a slot of {}",
            payload.len(),
            SLOT - HEADER
        )));
    }
    let mut s = Vec::with_capacity(HEADER + payload.len());
    s.extend_from_slice(MAGIC);
    s.extend_from_slice(&generation.to_le_bytes());
    s.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    let crc = crc32(&[&s, payload.as_bytes()]);
    s.extend_from_slice(&crc.to_le_bytes());
    s.extend_from_slice(payload.as_bytes());
    Ok(s)
}

fn decode_slot(slot: &[u8]) -> Option<Found> {
    let (head, rest) = slot.split_at(HEADER);
    if &head[..8] != MAGIC {
        return None;
    }
    let generation = u64::from_le_bytes(head[8..16].try_into().ok()?);
    let len = u32::from_le_bytes(head[16..20].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(head[20..24].try_into().ok()?);
    let payload = rest.get(..len)?;
    if crc32(&[&head[..20], payload]) != crc {
        return None;
    }
    let record = HighWater::decode(std::str::from_utf8(payload).ok()?).ok()?;
    Some(Found { record, generation })
}

/// CRC-32 (IEEE 802.3, as zlib) of the parts, one after the other.
fn crc32(parts: &[&[u8]]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    let mut c = !0u32;
    for b in parts.iter().flat_map(|p| p.iter()) {
        c = TABLE[((c ^ u32::from(*b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

impl Store {
    /// What the database vouches for, in a high-water record's terms for
    /// `day`: its journal's last seq, its largest ticket id and the last
    /// number of each (service, lane) on `day`, raised by any loss accepted
    /// with [`Store::accept_loss`].
    pub fn held(&self, day: NaiveDate) -> Result<HighWater, StoreError> {
        let mut hw = HighWater::empty(day);
        hw.seq = self.last_seq()?;
        hw.max_id = self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM tickets", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(|e| self.err(e))? as u64;
        // SQLite takes the bare columns from the row holding the MAX.
        let mut stmt = self
            .conn
            .prepare(
                "SELECT origin_service, lane, MAX(seq), number FROM tickets
                  WHERE day = ?1 GROUP BY origin_service, lane",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([day.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (service, lane, seq, number) = row.map_err(|e| self.err(e))?;
            let lane = Lane::parse(&lane)
                .ok_or_else(|| self.corrupt("tickets", format!("lane {lane:?}")))?;
            hw.lanes.insert((service, lane), LastNumber { seq, number });
        }
        if let Some(floor) = self.floor()? {
            hw.raise(&floor);
        }
        Ok(hw)
    }

    /// The journal's last seq (0: empty).
    pub fn last_seq(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// The numbering floor of an accepted loss, if one was accepted.
    pub fn floor(&self) -> Result<Option<HighWater>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [FLOOR_KEY], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        text.map(|t| HighWater::decode(&t).map_err(|d| self.corrupt("meta", d)))
            .transpose()
    }

    /// The operator accepted that the database lost what `record` says was
    /// committed: in one transaction, the numbering floor becomes `record`
    /// (merged with any earlier one), the journal's next seq comes after
    /// the record's, and `audit` is appended to the audit log.
    pub fn accept_loss(
        &mut self,
        record: &HighWater,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut floor = record.clone();
        if let Some(old) = self.floor()? {
            if old.day > floor.day {
                floor = old;
                floor.raise(record);
            } else {
                floor.raise(&old);
            }
        }
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql(&path, e))?;
        let steps: [(&str, &[&dyn rusqlite::ToSql]); 4] = [
            (
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![FLOOR_KEY, floor.encode()],
            ),
            (
                "UPDATE sqlite_sequence SET seq = MAX(seq, ?1) WHERE name = 'events'",
                params![floor.seq],
            ),
            (
                "INSERT INTO sqlite_sequence (name, seq) SELECT 'events', ?1
                 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events')",
                params![floor.seq],
            ),
            (
                "INSERT INTO audit (at, actor, action, subject, result, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![audit.at, audit.actor, audit.action, audit.subject, audit.result, audit.detail],
            ),
        ];
        for (q, p) in steps {
            tx.execute(q, p).map_err(|e| sql(&path, e))?;
        }
        tx.commit().map_err(|e| sql(&path, e))
    }

    /// One tiny durable write, to learn whether the database can commit
    /// now (the health check's probe).
    pub fn probe(&mut self, at: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('health_probe', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [at.to_string()],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn record() -> HighWater {
        let mut hw = HighWater::empty(day(24));
        hw.seq = 912;
        hw.max_id = 455;
        hw.lanes.insert(
            ("civil".into(), Lane::Normal),
            LastNumber {
                seq: 455,
                number: "A455".into(),
            },
        );
        hw.lanes.insert(
            ("civil".into(), Lane::Priority),
            LastNumber {
                seq: 12,
                number: "GA012".into(),
            },
        );
        hw
    }

    #[test]
    fn crc32_is_zlibs() {
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xCBF4_3926);
    }

    #[test]
    fn a_record_reads_back_as_written() {
        let r = record();
        assert_eq!(HighWater::decode(&r.encode()).unwrap(), r);
        let slot = encode_slot(7, &r).unwrap();
        let mut padded = slot.clone();
        padded.resize(SLOT, 0);
        let found = decode_slot(&padded).unwrap();
        assert_eq!((found.generation, found.record), (7, r));
    }

    #[test]
    fn a_torn_write_keeps_the_record_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut first = record();
        let mut f = RecordFile::create(&path, &first).unwrap();
        first.seq += 1;
        f.write(&first).unwrap();
        let mut second = first.clone();
        second.seq += 1;
        f.write(&second).unwrap();
        assert_eq!(RecordFile::read(&path).unwrap().unwrap().record, second);
        // The newest slot (generation 3, slot 1) torn halfway: the one
        // before it serves.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[SLOT + HEADER + 10] ^= 0xFF;
        std::fs::write(&path, &bytes).unwrap();
        let found = RecordFile::read(&path).unwrap().unwrap();
        assert_eq!((found.generation, found.record), (2, first));
        // Both gone, or a file of the wrong size: damaged, never "none".
        bytes[HEADER + 3] ^= 0xFF;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            RecordFile::read(&path),
            Err(RecordError::Damaged { .. })
        ));
        std::fs::write(&path, b"").unwrap();
        assert!(matches!(
            RecordFile::read(&path),
            Err(RecordError::Damaged { .. })
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(RecordFile::read(&path).unwrap().is_none());
    }

    #[test]
    fn the_shortfall_names_the_missing_numbers() {
        let r = record();
        let mut held = HighWater::empty(day(24));
        held.seq = 870;
        held.max_id = 435;
        held.lanes.insert(
            ("civil".into(), Lane::Normal),
            LastNumber {
                seq: 435,
                number: "A435".into(),
            },
        );
        assert_eq!(
            r.shortfall(&held),
            vec![
                Shortfall::Numbers {
                    service: "civil".into(),
                    lane: Lane::Priority,
                    first: "GA001".into(),
                    last: "GA012".into(),
                    count: 12,
                },
                Shortfall::Numbers {
                    service: "civil".into(),
                    lane: Lane::Normal,
                    first: "A436".into(),
                    last: "A455".into(),
                    count: 20,
                },
                Shortfall::Journal {
                    recorded: 912,
                    held: 870
                },
                Shortfall::TicketIds {
                    recorded: 455,
                    held: 435
                },
            ]
        );
        let mut all = held.clone();
        all.raise(&r);
        assert!(r.shortfall(&all).is_empty());
        // Another day's numbers are not this day's.
        let mut other = all.clone();
        other.day = day(23);
        assert_eq!(r.shortfall(&other).len(), 2);
    }
}
