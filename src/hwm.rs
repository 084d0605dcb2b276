//! The hall's side of the high-water record (`greenwave.hwm`, see
//! [`crate::store::hwm`]): at start, a database behind its record is
//! refused (or, with `greenwave run --accept-loss`, accepted with a warning,
//! an audit line and numbering that continues above the record); after
//! every commit that changes numbering the record is rewritten; and whether
//! the store can commit now, for `/healthz`.
//!
//! Invariant: numbering never goes backwards within a service day. The
//! queue's counters and next ticket id are raised to what the record and
//! the database vouch for, at start, after a failed commit's reload and
//! after a rollover.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::queue::{Event, Queue, Timestamp};
use crate::store::hwm::{Found, HighWater, RecordError, RecordFile, Shortfall, FILE_NAME};
use crate::store::{AuditEntry, Store, StoreError};

/// How a hall guards its numbering with the high-water record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guarding {
    /// Open a database that is behind its record (or whose record is
    /// damaged) anyway, numbering above the record: `--accept-loss`.
    pub accept_loss: bool,
    /// Keep the record at all. Only benchmarks turn it off, to measure
    /// what it costs.
    pub record: bool,
}

impl Default for Guarding {
    fn default() -> Self {
        Guarding {
            accept_loss: false,
            record: true,
        }
    }
}

/// Why the data directory was not opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The record cannot be read (not: is damaged).
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The database is behind its record, or the record is damaged: the
    /// whole message, with the files and the way out.
    #[error("{0}")]
    Refused(String),
}

/// Whether the store can commit, as `/healthz` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreStatus {
    /// `false` while commits (or the record's writes) fail.
    pub ok: bool,
    /// What is wrong, for hall staff.
    pub reason: Option<String>,
    /// The error itself, for ops.
    pub detail: Option<String>,
}

/// How long a write's outcome stands before `/healthz` probes again.
const PROBE_AFTER: Duration = Duration::from_secs(2);

/// The record, its file, and the store's health.
#[derive(Debug)]
pub struct Guard {
    path: PathBuf,
    file: Option<RecordFile>,
    guarding: Guarding,
    /// The record read at start (to raise the hall's numbering above).
    found: Option<HighWater>,
    /// What the record says now.
    hw: Option<HighWater>,
    /// When the store was last written to (a commit or a probe).
    last_try: Option<Instant>,
    commit_error: Option<String>,
    record_error: Option<String>,
}

/// Opens the database of `data_dir` after checking it against its
/// high-water record: refuses a database that is behind it (a missing or
/// zero-byte file, a shorter journal, fewer numbers of the record's day)
/// unless `guarding.accept_loss`, which records the loss in the database
/// (a numbering floor and an audit line) and opens it.
pub fn open_store(
    data_dir: &Path,
    guarding: Guarding,
    now: Timestamp,
) -> Result<(Store, Guard), OpenError> {
    let db = data_dir.join("greenwave.db");
    let path = data_dir.join(FILE_NAME);
    let mut guard = Guard {
        path: path.clone(),
        file: None,
        guarding,
        found: None,
        hw: None,
        last_try: None,
        commit_error: None,
        record_error: None,
    };
    if !guarding.record {
        return Ok((Store::open(&db)?, guard));
    }
    let found = match RecordFile::read(&path) {
        Ok(f) => f,
        Err(RecordError::Damaged { detail, .. }) => {
            tracing::error!(record = %path.display(), %detail, "the high-water record is damaged");
            if !guarding.accept_loss {
                return Err(OpenError::Refused(damaged_message(&db, &path)));
            }
            let mut store = Store::open(&db)?;
            accept(&mut store, &db, &path, None, &[], now)?;
            return Ok((store, guard));
        }
        Err(e) => return Err(e.into()),
    };
    let Some(Found { record, generation }) = found else {
        return Ok((Store::open(&db)?, guard));
    };
    let size = std::fs::metadata(&db).map(|m| m.len()).ok();
    if size.unwrap_or(0) == 0 && !guarding.accept_loss {
        let all = record.shortfall(&HighWater::empty(record.day));
        return Err(OpenError::Refused(behind_message(
            &db, &path, size, &record, &all,
        )));
    }
    let mut store = Store::open(&db)?;
    let missing = record.shortfall(&store.held(record.day)?);
    if !missing.is_empty() {
        if !guarding.accept_loss {
            return Err(OpenError::Refused(behind_message(
                &db, &path, size, &record, &missing,
            )));
        }
        accept(&mut store, &db, &path, Some(&record), &missing, now)?;
    }
    guard.file = Some(RecordFile::open(&path, generation)?);
    guard.found = Some(record);
    Ok((store, guard))
}

/// `--accept-loss`: the warning, the audit line, the floor in the database.
fn accept(
    store: &mut Store,
    db: &Path,
    path: &Path,
    record: Option<&HighWater>,
    missing: &[Shortfall],
    now: Timestamp,
) -> Result<(), OpenError> {
    let numbers = numbers_missing(missing);
    tracing::warn!(
        database = %db.display(),
        record = %path.display(),
        missing = %numbers,
        "the database is behind its high-water record (or the record is damaged); \
         starting anyway (--accept-loss), numbering continues above the record"
    );
    let detail = match record {
        Some(r) => format!("day {}; missing: {numbers}; record: {}", r.day, r.encode()),
        None => "the high-water record was damaged; rebuilt from the database".to_string(),
    };
    let audit = AuditEntry {
        at: now.0,
        actor: "ops".into(),
        action: "store.accept_loss".into(),
        subject: Some(FILE_NAME.into()),
        result: "accepted".into(),
        detail: Some(detail.replace('\n', "; ")),
    };
    match record {
        Some(r) => store.accept_loss(r, &audit)?,
        None => store.audit(&audit)?,
    }
    Ok(())
}

impl Guard {
    /// Raises `queue`'s numbering to what the database and the record
    /// vouch for, and writes the record for the queue's day (creating the
    /// file the first time).
    pub fn start(&mut self, store: &Store, queue: &mut Queue) {
        if !self.guarding.record {
            return;
        }
        let mut hw = match store.held(queue.day()) {
            Ok(hw) => hw,
            Err(e) => {
                self.record_failed(e.to_string());
                return;
            }
        };
        if let Some(found) = &self.found {
            hw.raise(found);
        }
        self.hw = Some(hw);
        self.raise(queue);
        self.write();
    }

    /// Numbering of `queue` continues above the record: its counters of
    /// the record's day and its next ticket id.
    pub fn raise(&self, queue: &mut Queue) {
        let Some(hw) = &self.hw else { return };
        if hw.day == queue.day() {
            for ((service, lane), last) in &hw.lanes {
                queue.raise_numbering(service, *lane, last.seq);
            }
        }
        queue.raise_next_id(hw.max_id + 1);
    }

    /// `ev` was committed: the store works; an issue or a rollover
    /// rewrites the record (a failure is logged and reported by
    /// `/healthz`, the committed ticket stands).
    pub fn committed(&mut self, ev: &Event, store: &Store, queue: &mut Queue) {
        self.last_try = Some(Instant::now());
        self.commit_error = None;
        if self.hw.is_none() {
            return;
        }
        match ev {
            Event::Issued { ticket } => match store.last_seq() {
                Ok(seq) => {
                    if let Some(hw) = self.hw.as_mut() {
                        hw.issued(ticket, seq);
                    }
                }
                Err(e) => return self.record_failed(e.to_string()),
            },
            Event::DayRolledOver { to, .. } => match store.held(*to) {
                Ok(mut new) => {
                    if let Some(old) = &self.hw {
                        new.raise(old);
                    }
                    self.hw = Some(new);
                    self.raise(queue);
                }
                Err(e) => return self.record_failed(e.to_string()),
            },
            _ => return,
        }
        self.write();
    }

    /// A commit failed.
    pub fn failed(&mut self, e: &StoreError) {
        self.last_try = Some(Instant::now());
        if !matches!(e, StoreError::Conflict(_)) {
            self.commit_error = Some(e.to_string());
        }
    }

    fn write(&mut self) {
        let Some(hw) = &self.hw else { return };
        let written = match self.file.as_mut() {
            Some(f) => f.write(hw),
            None => RecordFile::create(&self.path, hw).map(|f| {
                self.file = Some(f);
            }),
        };
        match written {
            Ok(()) => {
                if self.record_error.take().is_some() {
                    tracing::info!(record = %self.path.display(), "the high-water record is written again");
                }
            }
            Err(e) => self.record_failed(e.to_string()),
        }
    }

    fn record_failed(&mut self, e: String) {
        tracing::error!(error = %e, "the high-water record was not written; the committed ticket stands");
        self.record_error = Some(e);
    }

    /// Whether the store can commit: the last write's outcome, or a probe
    /// (one small durable transaction) when that is older than two
    /// seconds. A record that could not be written is tried again.
    pub fn status(&mut self, store: &mut Store, now: Timestamp) -> StoreStatus {
        let stale = self.last_try.is_none_or(|t| t.elapsed() >= PROBE_AFTER);
        if stale {
            self.last_try = Some(Instant::now());
            match store.probe(now.0) {
                Ok(()) => self.commit_error = None,
                Err(e) => self.commit_error = Some(e.to_string()),
            }
            if self.record_error.is_some() && self.commit_error.is_none() {
                self.write();
            }
        }
        match (&self.commit_error, &self.record_error) {
            (Some(e), _) => StoreStatus {
                ok: false,
                reason: Some("数据库无法写入，无法取号和叫号".to_string()),
                detail: Some(e.clone()),
            },
            (None, Some(e)) => StoreStatus {
                ok: false,
                reason: Some(
                    "高水位记录无法写入：若数据库丢失已发出的号码，重启时将无法发现".to_string(),
                ),
                detail: Some(e.clone()),
            },
            (None, None) => StoreStatus {
                ok: true,
                reason: None,
                detail: None,
            },
        }
    }
}

/// The missing numbers, language-neutral (`A436–A455, GA001–GA012`), for
/// logs and the audit line.
fn numbers_missing(missing: &[Shortfall]) -> String {
    let v: Vec<String> = missing
        .iter()
        .filter_map(|s| match s {
            Shortfall::Numbers { first, last, .. } if first == last => Some(last.clone()),
            Shortfall::Numbers { first, last, .. } => Some(format!("{first}–{last}")),
            _ => None,
        })
        .collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// One shortfall in words, for the refusal and `greenwave store verify`.
pub fn describe(s: &Shortfall) -> String {
    match s {
        Shortfall::Numbers {
            service,
            lane,
            first,
            last,
            count,
        } => {
            let range = if first == last {
                last.clone()
            } else {
                format!("{first}–{last}")
            };
            format!(
                "缺少号码 {range}（{service}，{}，{count} 个）",
                lane.label()
            )
        }
        Shortfall::Journal { recorded, held } => {
            format!("事件日志只到第 {held} 条，记录为第 {recorded} 条")
        }
        Shortfall::TicketIds { recorded, held } => {
            format!("号票编号只到 {held}，记录为 {recorded}")
        }
    }
}

/// The way out, the same in every refusal.
const WAY_OUT: &str = "处理办法：运行 greenwave store verify 查看；或从备份恢复数据库；\
    或确认接受丢失后以 greenwave run --accept-loss 启动（号码将接着记录继续，不会重复）。";

/// Why `run` refuses a database behind its record. `size`: the database
/// file's size (`None`: it does not exist).
fn behind_message(
    db: &Path,
    path: &Path,
    size: Option<u64>,
    record: &HighWater,
    missing: &[Shortfall],
) -> String {
    let what = match size {
        None => format!("数据库 {} 不存在", db.display()),
        Some(0) => format!("数据库 {} 是空文件（0 字节）", db.display()),
        Some(_) => format!("数据库 {} 缺少已提交的数据", db.display()),
    };
    let lines: Vec<String> = missing.iter().map(describe).collect();
    format!(
        "{what}：高水位记录 {} 记有营业日 {} 的以下数据，数据库中没有：{}。\
         这些号码已经发出，为避免重复发号，greenwave 拒绝启动。{WAY_OUT}",
        path.display(),
        record.day,
        lines.join("；")
    )
}

fn damaged_message(db: &Path, path: &Path) -> String {
    format!(
        "高水位记录 {} 已损坏，无法确认数据库 {} 是否完整，greenwave 拒绝启动。{WAY_OUT}",
        path.display(),
        db.display()
    )
}

/// What `greenwave store verify` says about the record: one line per
/// problem (empty: the database is not behind it, or there is none).
pub fn verify(data_dir: &Path, store: &Store) -> Result<Vec<String>, OpenError> {
    let path = data_dir.join(FILE_NAME);
    let found = match RecordFile::read(&path) {
        Ok(f) => f,
        Err(RecordError::Damaged { .. }) => {
            return Ok(vec![format!("高水位记录 {} 已损坏", path.display())])
        }
        Err(e) => return Err(e.into()),
    };
    let Some(Found { record, .. }) = found else {
        return Ok(Vec::new());
    };
    let missing = record.shortfall(&store.held(record.day)?);
    Ok(missing
        .iter()
        .map(|s| {
            format!(
                "数据库落后于高水位记录 {}（营业日 {}）：{}",
                path.display(),
                record.day,
                describe(s)
            )
        })
        .collect())
}

/// What `greenwave store verify` says about a zero-byte database (which it
/// leaves untouched): that, and everything the record knows of.
pub fn verify_empty(data_dir: &Path) -> Result<Vec<String>, OpenError> {
    let db = data_dir.join("greenwave.db");
    let path = data_dir.join(FILE_NAME);
    let mut out = vec![format!("数据库 {} 是空文件（0 字节）", db.display())];
    match RecordFile::read(&path) {
        Ok(Some(Found { record, .. })) => {
            for s in record.shortfall(&HighWater::empty(record.day)) {
                out.push(format!(
                    "数据库落后于高水位记录 {}（营业日 {}）：{}",
                    path.display(),
                    record.day,
                    describe(&s)
                ));
            }
        }
        Ok(None) => {}
        Err(RecordError::Damaged { .. }) => {
            out.push(format!("高水位记录 {} 已损坏", path.display()))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(out)
}
