//! The daily statistics exporter: at start (days missed while the daemon
//! was down) and after each rollover, the finished days' CSV files, each
//! read on a connection of its own off the hall's lock.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::hall::Committed;
use crate::hall::Hall;
use crate::queue::Event;

/// How many days back the exporter fills in at start.
const MISSED_DAYS: u32 = 31;

/// What the exporter needs.
pub struct Deps {
    /// Where the files go (`[stats] daily_csv_dir`).
    pub dir: PathBuf,
    /// The hall's database.
    pub db: PathBuf,
    /// The hall's label in the files (`[hall] code`, or its name).
    pub hall_label: String,
    /// The hall (for today's service day).
    pub hall: Arc<Mutex<Hall>>,
    /// The hall's committed events.
    pub events: broadcast::Receiver<Arc<Committed>>,
}

/// Exports until cancelled.
pub async fn run(deps: Deps, cancel: CancellationToken) {
    use tokio::sync::broadcast::error::RecvError;
    let Deps {
        dir,
        db,
        hall_label,
        hall,
        mut events,
    } = deps;
    let mut today = tokio::task::spawn_blocking(move || crate::sync::lock(&hall).queue().day())
        .await
        .ok();
    loop {
        if let Some(day) = today.take() {
            export(&dir, &db, &hall_label, day).await;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            ev = events.recv() => match ev.as_deref().map(|c| &c.event) {
                Ok(Event::DayRolledOver { to, .. }) => today = Some(*to),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

/// Writes the files of the finished days before `day` that are missing.
async fn export(dir: &std::path::Path, db: &std::path::Path, label: &str, day: chrono::NaiveDate) {
    let (dir, db, label) = (dir.to_path_buf(), db.to_path_buf(), label.to_string());
    let res = tokio::task::spawn_blocking(move || {
        let store = crate::store::Store::open(&db)?;
        crate::export::export_missing(&store, &dir, &label, day, MISSED_DAYS)
    })
    .await;
    match res {
        Ok(Ok(days)) if !days.is_empty() => {
            tracing::info!(days = days.len(), "daily statistics exported")
        }
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::error!(error = %e, "daily statistics not exported; will retry at the next rollover")
        }
        Err(e) => tracing::error!(error = %e, "daily statistics export panicked"),
    }
}
