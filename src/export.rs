//! The daily statistics export, written to disk: one CSV file per finished
//! service day (`greenwave-stats-YYYY-MM-DD.csv`, columns in
//! [`stats::daily_csv_header`](crate::stats::daily_csv_header)), what a
//! city collects from every hall. `greenwave stats --daily-csv DIR` writes
//! it on demand; the daemon, with `[stats] daily_csv_dir`, writes each day
//! once it is over (at the rollover, and at start for days it missed).
//!
//! Each file is written under a temporary name and renamed, so a collector
//! never reads half a file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::stats::{daily_csv, daily_file_name, Sources};
use crate::store::{Store, StoreError};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the figures.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes the file of every day of `src` into `dir` (created if needed);
/// returns the days written.
pub fn write_days(
    dir: &Path,
    src: &Sources<'_>,
    hall: &str,
) -> Result<Vec<NaiveDate>, ExportError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let days: BTreeSet<NaiveDate> = src.tickets.iter().map(|t| t.day).collect();
    for day in &days {
        let path = dir.join(daily_file_name(*day));
        let tmp = path.with_extension("csv.part");
        std::fs::write(&tmp, daily_csv(src, hall, *day)).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
    }
    Ok(days.into_iter().collect())
}

/// Writes the file of each finished day of the last `lookback` days before
/// `today` that has tickets and no file yet; returns the days written.
pub fn export_missing(
    store: &Store,
    dir: &Path,
    hall: &str,
    today: NaiveDate,
    lookback: u32,
) -> Result<Vec<NaiveDate>, ExportError> {
    let Some(yesterday) = today.pred_opt() else {
        return Ok(Vec::new());
    };
    let first = today
        .checked_sub_days(chrono::Days::new(lookback.into()))
        .unwrap_or(yesterday);
    let mut written = Vec::new();
    for day in store.ticket_days(first, yesterday)? {
        if dir.join(daily_file_name(day)).exists() {
            continue;
        }
        let records = store.stats_records(Some(day), Some(day))?;
        written.extend(write_days(dir, &crate::stats::Sources::of(&records), hall)?);
    }
    Ok(written)
}
