//! The roster inbox: scans the watched directory every [`SCAN`] and
//! installs what ops dropped there. Uses its own database connection, so a
//! long import never holds up ticket operations.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::roster::inbox::{Inbox, InboxEvent};
use crate::roster::install::RosterConfig;

/// How often the inbox is scanned.
pub const SCAN: Duration = Duration::from_secs(2);

/// What the inbox watcher needs.
pub struct Deps {
    /// The watched directory.
    pub dir: PathBuf,
    /// The hall's data directory (rosters are installed under it).
    pub data_dir: PathBuf,
    /// The hall's database.
    pub db: PathBuf,
    /// `[roster]`.
    pub roster: RosterConfig,
}

/// Scans until cancelled.
pub async fn run(deps: Deps, cancel: CancellationToken) {
    let deps = Arc::new(deps);
    let inbox = Arc::new(Mutex::new(Inbox::new()));
    let mut every = tokio::time::interval(SCAN);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = cancel.cancelled() => return,
        }
        let (inbox, d) = (inbox.clone(), deps.clone());
        let res = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<InboxEvent>> {
            let mut store = crate::store::Store::open(&d.db)?;
            let mut inbox = crate::sync::lock(&inbox);
            Ok(inbox.scan(&d.dir, &mut store, &d.data_dir, &d.roster)?)
        })
        .await;
        match res {
            Ok(Ok(events)) => events.into_iter().for_each(log),
            Ok(Err(e)) => {
                tracing::error!(error = %e, dir = %deps.dir.display(), "roster inbox scan failed")
            }
            Err(e) => tracing::error!(error = %e, "roster inbox task failed"),
        }
    }
}

fn log(e: InboxEvent) {
    match e {
        InboxEvent::Installed { file, outcome } => {
            tracing::info!(%file, version = outcome.state.version, rows = outcome.state.rows, "roster from inbox installed")
        }
        InboxEvent::Refused { file, reason } => {
            tracing::warn!(%file, %reason, "roster from inbox refused")
        }
    }
}
