//! The city push: every `[city] push_interval`, what changed at the hall
//! goes to the city database ([`crate::city::push`]); a hall that cannot
//! reach it keeps its outbox and catches up by itself, logging once when
//! the city becomes unreachable and once when it is back. The cards other
//! halls bound come back with each push.

use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::city::push::{self, Batch};
use crate::citydb::CityDb;
use crate::config::CityConfig;
use crate::store::Store;

/// What the push needs.
pub struct Deps {
    /// The hall's database.
    pub db: PathBuf,
    /// `[city]`.
    pub city: CityConfig,
    /// The hall's name, as the bureau reads it.
    pub hall_name: String,
    /// The hall's time zone (the hours of the daily rows).
    pub tz: chrono_tz::Tz,
}

/// How long a connection attempt may take.
const CONNECT: Duration = Duration::from_secs(10);

/// Pushes until cancelled.
pub async fn run(deps: Deps, cancel: CancellationToken) {
    let mut outbox = switch_outbox_on(&deps, true).await;
    let mut conn: Option<CityDb> = None;
    let mut reachable = true;
    let mut wait = deps.city.push_interval;
    loop {
        // Until the outbox is on, no change is recorded for the city: a
        // failure to switch it on (the database busy at start) is tried
        // again every round, never left for good.
        if !outbox {
            outbox = switch_outbox_on(&deps, false).await;
        }
        match cycle(&deps, &mut conn).await {
            Ok(more) => {
                if !reachable {
                    tracing::info!(hall = %deps.city.hall, "city database reachable again; pushing");
                    reachable = true;
                }
                wait = deps.city.push_interval;
                if more {
                    continue;
                }
            }
            Err(e) => {
                conn = None;
                if reachable {
                    tracing::warn!(error = %e, "city push failed; the hall keeps its outbox and retries");
                    reachable = false;
                }
                // Back off up to ten intervals (at most 5 minutes).
                let cap = (deps.city.push_interval * 10).min(Duration::from_secs(300));
                wait = (wait * 2).min(cap.max(deps.city.push_interval));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// Switches the city outbox on (putting the hall's tickets so far in it
/// the first time); whether it is on. A failure is logged when `first`.
async fn switch_outbox_on(deps: &Deps, first: bool) -> bool {
    let path = deps.db.clone();
    let on = tokio::task::spawn_blocking(move || Store::open(&path)?.city_outbox_on()).await;
    match on {
        Ok(Ok(true)) => {
            tracing::info!("city outbox on: the hall's tickets so far will be pushed");
            true
        }
        Ok(Ok(false)) => true,
        Ok(Err(e)) => {
            if first {
                tracing::error!(error = %e, "city outbox could not be switched on; trying again");
            }
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "city outbox task failed");
            false
        }
    }
}

/// On each connection: if the city has less of this hall than the hall
/// believes it sent, the city lost commits it had acknowledged; the hall
/// sends everything again. If the city has days of this hall without their
/// hour rows (pushed before the hour of the day was a daily dimension),
/// the hall sends those days' tickets again, which replaces the days'
/// daily rows with all of today's dimensions.
async fn resend_if_lost(db: &CityDb, deps: &Deps) -> anyhow::Result<()> {
    let city_has = db.pushed_seq(&deps.city.hall).await?;
    let without_hours = db.days_without(&deps.city.hall, "hour").await?;
    let path = deps.db.clone();
    let days = without_hours.clone();
    let resent = tokio::task::spawn_blocking(move || -> anyhow::Result<bool> {
        let store = Store::open(&path)?;
        let sent = store.city_cursor()?;
        if city_has < sent {
            store.city_resend_all()?;
            return Ok(true);
        }
        store.city_resend_days(&days)?;
        Ok(false)
    })
    .await??;
    if resent {
        tracing::warn!(
            city_has,
            "the city database has less of this hall than was pushed (restored or crashed); pushing the hall's history again"
        );
    } else if !without_hours.is_empty() {
        tracing::info!(
            days = without_hours.len(),
            "the city database has days of this hall without hourly figures; pushing those days again"
        );
    }
    Ok(())
}

/// One push; whether more waits in the outbox.
async fn cycle(deps: &Deps, conn: &mut Option<CityDb>) -> anyhow::Result<bool> {
    if conn.is_none() {
        let url = deps.city.database_url.expose().to_string();
        let db = tokio::time::timeout(CONNECT, CityDb::connect(&url))
            .await
            .map_err(|_| anyhow::anyhow!("city database: no answer within {CONNECT:?}"))??;
        resend_if_lost(&db, deps).await?;
        *conn = Some(db);
    }
    let db = conn.as_mut().expect("connected above");
    let (path, limit, tz) = (deps.db.clone(), deps.city.push_batch, deps.tz);
    let batch: Batch = tokio::task::spawn_blocking(move || {
        let store = Store::open(&path)?;
        push::read_batch(&store, limit, tz)
    })
    .await??;
    push::send(db, &deps.city.hall, &deps.hall_name, &batch).await?;
    let (path, more) = (deps.db.clone(), batch.more);
    tokio::task::spawn_blocking(move || push::commit(&path, &batch)).await??;
    let taken = push::take_cards(db, &deps.db, &deps.city.hall).await?;
    if taken > 0 {
        tracing::info!(cards = taken, "priority card bindings taken from the city");
    }
    Ok(more)
}
