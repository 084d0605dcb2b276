//! The roster source: every `[roster] source_interval`, one round of
//! [`Source::poll`] on a blocking thread (index, downloads, imports through
//! the inbox's own import path). While the source is unreachable the
//! rounds come sooner, doubling from one second up to the interval. A line
//! is logged when the state changes (reachable, unreachable, a refusal),
//! not every round; installs are logged by the import itself. Logs name
//! files, versions and the source's host, never anyone on the roster.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::roster::install::{RosterConfig, RosterSource};
use crate::roster::source::{Round, Source, SourceError};

/// The first retry after a failed round.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// What the source worker needs.
pub struct Deps {
    /// `[roster] source` and `source_interval`.
    pub source: RosterSource,
    /// The hall's data directory (rosters and part files live under it).
    pub data_dir: PathBuf,
    /// The hall's database.
    pub db: PathBuf,
    /// `[roster]`.
    pub roster: RosterConfig,
}

/// Fetches until cancelled.
pub async fn run(deps: Deps, cancel: CancellationToken) {
    let shown = without_credentials(&deps.source.url);
    let key = match deps
        .roster
        .public_key
        .as_deref()
        .map(crate::roster::load_public_key)
    {
        Some(Ok(k)) => k,
        Some(Err(e)) => {
            tracing::error!(error = %e, "roster source disabled: cannot read roster.public_key");
            return;
        }
        None => {
            tracing::error!("roster source disabled: roster.public_key is not configured");
            return;
        }
    };
    let deps = Arc::new(deps);
    let stop = Arc::new(AtomicBool::new(false));
    let mut source = Some(Source::new(&deps.source.url, key, &deps.data_dir));
    let mut state: Option<String> = None;
    let mut retry = FIRST_RETRY;
    tracing::info!(source = %shown, every = %humantime::format_duration(deps.source.interval), "roster source: following");
    loop {
        let Some(src) = source.take() else { return };
        let (d, s) = (deps.clone(), stop.clone());
        let round = tokio::task::spawn_blocking(move || {
            let mut src = src;
            let r = crate::store::Store::open(&d.db)
                .map_err(SourceError::from)
                .and_then(|mut store| src.poll(&mut store, &d.data_dir, &d.roster, &s));
            (src, r)
        });
        let outcome = tokio::select! {
            r = round => r,
            _ = cancel.cancelled() => {
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
                return;
            }
        };
        let Ok((src, result)) = outcome else {
            tracing::error!("roster source: the round panicked; stopped");
            return;
        };
        source = Some(src);
        let wait = match result {
            Ok(round) => {
                report(&round, &mut state, &shown);
                retry = FIRST_RETRY;
                deps.source.interval
            }
            Err(e) => {
                let transient = e.is_transient();
                failed(&e, &mut state, &shown);
                if transient {
                    let wait = retry.min(deps.source.interval);
                    retry = (retry * 2).min(deps.source.interval);
                    wait
                } else {
                    deps.source.interval
                }
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// A good round: what was installed, and a line when the source is back.
fn report(round: &Round, state: &mut Option<String>, shown: &str) {
    for (file, o) in &round.installed {
        tracing::info!(source = %shown, %file, version = o.state.version, kind = o.kind, rows = o.state.rows, "roster from source installed");
    }
    if state.as_deref() != Some("ok") {
        tracing::info!(source = %shown, offered = round.offered, "roster source reachable; index verified");
        *state = Some("ok".into());
    }
}

/// A failed round: one line per change of state.
fn failed(e: &SourceError, state: &mut Option<String>, shown: &str) {
    if matches!(e, SourceError::Stopped) {
        return;
    }
    let key = e.state_key();
    if state.as_deref() == Some(key.as_str()) {
        return;
    }
    if e.is_transient() {
        tracing::warn!(source = %shown, error = %e, "roster source unreachable; retrying with back-off");
    } else {
        tracing::warn!(source = %shown, error = %e, "roster source: nothing installed, the roster in use stays");
    }
    *state = Some(key);
}

/// The URL without any `user:password@`, for the log.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_left_out_of_the_log() {
        assert_eq!(
            without_credentials("http://ops:secret@10.0.0.5/greenwave/"),
            "http://10.0.0.5/greenwave/"
        );
        assert_eq!(
            without_credentials("http://10.0.0.5/g@x/"),
            "http://10.0.0.5/g@x/"
        );
    }
}
