//! The rollover ticker: rolls the service day over once it has ended,
//! checking every [`DAY_CHECK`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::hall::Hall;

/// How often the daemon checks whether the service day has ended.
pub const DAY_CHECK: Duration = Duration::from_secs(15);

/// Ticks until cancelled.
pub async fn run(hall: Arc<Mutex<Hall>>, cancel: CancellationToken) {
    let mut every = tokio::time::interval(DAY_CHECK);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = cancel.cancelled() => return,
        }
        let h = hall.clone();
        let res = tokio::task::spawn_blocking(move || crate::sync::lock(&h).tick()).await;
        if let Ok(Err(e)) = res {
            tracing::error!(error = %e, "day rollover failed; will retry");
        }
    }
}
