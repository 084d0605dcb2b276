//! The case follower: opens a case for every priority ticket (issued in the
//! priority lane, or upgraded to it), assigned by the rule of
//! `crate::cases`. It follows the hall's committed events and uses its own
//! database connection on the blocking pool. At start, after a broadcast
//! lag, and after a failure it reconciles: every priority ticket of the
//! service day without a case gets one. Every few seconds it shares the
//! work: a helper two or more open cases above another gives them an
//! unstarted one (`cases::rebalance`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::hall::Clock;
use crate::hall::Committed;
use crate::queue::Event;
use crate::store::{Store, StoreError};

/// How soon the follower retries after a failed or missed case.
const RETRY: Duration = Duration::from_secs(5);

/// What the case follower needs.
pub struct Deps {
    /// The hall's database.
    pub db: std::path::PathBuf,
    /// The helpers' ids, in configuration order.
    pub helpers: Vec<String>,
    /// The hall's clock.
    pub clock: Arc<dyn Clock>,
    /// The hall's committed events.
    pub events: broadcast::Receiver<Arc<Committed>>,
    /// `[cases] follow_up_days`.
    pub follow_up_days: u32,
}

/// Follows the events until cancelled.
pub async fn run(deps: Deps, cancel: CancellationToken) {
    use crate::queue::Lane;
    use tokio::sync::broadcast::error::RecvError;
    let Deps {
        db,
        helpers,
        clock,
        mut events,
        follow_up_days,
    } = deps;
    let follower = Follower {
        db: Arc::new(db),
        helpers: Arc::new(helpers),
        store: Arc::new(Mutex::new(None)),
        follow: follow_up_days,
    };
    let mut reconcile = true;
    let mut retry = tokio::time::interval(RETRY);
    loop {
        if reconcile {
            reconcile = !follower.reconcile(clock.now()).await;
        }
        let (ticket, at) = tokio::select! {
            _ = cancel.cancelled() => return,
            _ = retry.tick() => {
                // Loads change as cases close: share the unstarted ones.
                follower.rebalance(clock.now()).await;
                continue;
            }
            ev = events.recv() => match ev.as_deref().map(|c| &c.event) {
                Ok(Event::Issued { ticket }) if ticket.lane == Lane::Priority => (ticket.id, ticket.issued_at),
                Ok(Event::Upgraded { id, at }) => (*id, *at),
                Ok(_) => continue,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "case follower lagged; reconciling");
                    reconcile = true;
                    continue;
                }
                Err(RecvError::Closed) => return,
            },
        };
        reconcile = !follower.open(ticket, at).await;
    }
}

/// The follower's connection, opened on first use and again after a
/// failure.
struct Follower {
    db: Arc<std::path::PathBuf>,
    helpers: Arc<Vec<String>>,
    store: Arc<Mutex<Option<Store>>>,
    follow: u32,
}

impl Follower {
    /// Opens the missing cases of the day; `true` when done.
    async fn reconcile(&self, at: crate::queue::Timestamp) -> bool {
        let (store, db, helpers) = (self.store.clone(), self.db.clone(), self.helpers.clone());
        let follow = self.follow;
        let res = tokio::task::spawn_blocking(move || {
            with_store(&store, &db, |s| s.open_missing_cases(at, &helpers, follow))
        })
        .await;
        match res {
            Ok(Ok(opened)) => {
                for (ticket, _, helper) in opened {
                    tracing::info!(%ticket, helper = helper.as_deref().unwrap_or("-"), "case opened (reconciled)");
                }
                true
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot reconcile cases; will retry");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "case task failed; will retry");
                false
            }
        }
    }

    /// Moves unstarted cases from a helper two or more cases above another.
    async fn rebalance(&self, at: crate::queue::Timestamp) {
        let (store, db, helpers) = (self.store.clone(), self.db.clone(), self.helpers.clone());
        let res = tokio::task::spawn_blocking(move || {
            with_store(&store, &db, |s| s.rebalance_cases(at, &helpers))
        })
        .await;
        match res {
            Ok(Ok(moves)) => {
                for (ticket, helper) in moves {
                    tracing::info!(%ticket, %helper, "case moved to share the work");
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot share the cases; will retry"),
            Err(e) => tracing::warn!(error = %e, "case task failed; will retry"),
        }
    }

    /// Opens the case of one ticket; `true` when done.
    async fn open(&self, ticket: crate::queue::TicketId, at: crate::queue::Timestamp) -> bool {
        let (store, db, helpers) = (self.store.clone(), self.db.clone(), self.helpers.clone());
        let follow = self.follow;
        let res = tokio::task::spawn_blocking(move || {
            with_store(&store, &db, |s| s.open_case(ticket, at, &helpers, follow))
        })
        .await;
        match res {
            Ok(Ok(Some((_, helper)))) => {
                tracing::info!(%ticket, helper = helper.as_deref().unwrap_or("-"), "case opened");
                true
            }
            Ok(Ok(None)) => true,
            Ok(Err(e)) => {
                tracing::error!(error = %e, %ticket, "cannot open case; will retry");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "case task failed; will retry");
                false
            }
        }
    }
}

/// Runs `f` on the follower's connection, opening it if needed; a failure
/// drops the connection so that the next call starts afresh.
fn with_store<T>(
    slot: &Mutex<Option<Store>>,
    db: &std::path::Path,
    f: impl FnOnce(&Store) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut guard = crate::sync::lock(slot);
    if guard.is_none() {
        *guard = Some(Store::open(db)?);
    }
    let res = f(guard.as_ref().expect("opened above"));
    if res.is_err() {
        *guard = None;
    }
    res
}
