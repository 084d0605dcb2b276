//! One push of a hall to the city: read what changed from the hall's store
//! (blocking, on its own connection), send it in one transaction, then
//! move the hall's cursor. A crash between the city's commit and the
//! cursor's move sends the same again, which the city takes without
//! counting anything twice (tickets are upserted, a day's figures replaced).

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::citydb::{CityDb, CityTicket, DailyRow, InstalledRoster, Push};
use crate::store::{CardBinding, Store};

/// What one push sends, read from the hall's store.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Changed tickets.
    pub tickets: Vec<CityTicket>,
    /// Their days.
    pub days: Vec<chrono::NaiveDate>,
    /// The figures of those days.
    pub daily: Vec<DailyRow>,
    /// The outbox row reached.
    pub up_to: i64,
    /// More waiting.
    pub more: bool,
    /// The roster installed.
    pub roster: Option<InstalledRoster>,
    /// Bindings to share.
    pub cards: Vec<CardBinding>,
}

/// Reads the next batch after the store's cursor; `tz` is the hall's time
/// zone (the hours of the daily rows).
pub fn read_batch(store: &Store, limit: usize, tz: chrono_tz::Tz) -> anyhow::Result<Batch> {
    let cursor = store.city_cursor()?;
    let pending = store.city_pending(cursor, limit)?;
    let ids: HashSet<_> = pending.tickets.iter().copied().collect();
    let mut batch = Batch {
        up_to: pending.up_to,
        more: pending.more,
        days: pending.days.clone(),
        ..Batch::default()
    };
    for day in &pending.days {
        let records = store.stats_records(Some(*day), Some(*day))?;
        batch.tickets.extend(super::city_tickets(&records, &ids));
        batch.daily.extend(super::daily_rows(&records, tz));
    }
    batch.roster = store.roster_state()?.map(|s| InstalledRoster {
        version: s.version as i64,
        digest: s.body_digest,
        installed_at: DateTime::<Utc>::from_timestamp_millis(s.imported_at).unwrap_or_default(),
    });
    batch.cards = store.cards_to_share()?;
    Ok(batch)
}

/// Sends `batch` as hall `hall` (named `name`).
pub async fn send(db: &mut CityDb, hall: &str, name: &str, batch: &Batch) -> anyhow::Result<()> {
    let cards: Vec<crate::citydb::CardBinding> = batch
        .cards
        .iter()
        .map(|c| crate::citydb::CardBinding {
            uid: c.uid.clone(),
            person: c.person.clone(),
            bound_at: c.bound_at,
        })
        .collect();
    db.push(&Push {
        hall,
        name,
        tickets: &batch.tickets,
        days: &batch.days,
        daily: &batch.daily,
        up_to: batch.up_to,
        roster: batch.roster.clone(),
        cards: &cards,
    })
    .await?;
    Ok(())
}

/// After the city committed `batch`: the cursor moves and the shared
/// bindings are marked.
pub fn commit(db: &Path, batch: &Batch) -> anyhow::Result<()> {
    let mut store = Store::open(db)?;
    store.set_city_cursor(batch.up_to)?;
    store.cards_shared(&batch.cards)?;
    Ok(())
}

/// Takes the bindings other halls made since the hall's card cursor.
/// Returns how many bindings changed here.
pub async fn take_cards(db: &CityDb, store_path: &Path, hall: &str) -> anyhow::Result<usize> {
    const KEY: &str = "city_cards_cursor";
    let path = store_path.to_path_buf();
    let after = tokio::task::spawn_blocking(move || -> anyhow::Result<i64> {
        let store = Store::open(&path)?;
        Ok(store
            .meta_value(KEY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    })
    .await??;
    let (cards, cursor) = db.bindings_after(hall, after).await?;
    if cursor == after {
        return Ok(0);
    }
    let cards: Vec<(CardBinding, String)> = cards
        .into_iter()
        .map(|(c, hall)| {
            let c = CardBinding {
                uid: c.uid,
                person: c.person,
                bound_at: c.bound_at,
            };
            (c, hall)
        })
        .collect();
    let path = store_path.to_path_buf();
    tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let mut store = Store::open(&path)?;
        let n = store.take_city_cards(&cards)?;
        store.set_meta_value(KEY, &cursor.to_string())?;
        Ok(n)
    })
    .await?
}
