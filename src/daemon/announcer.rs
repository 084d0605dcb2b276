//! The call announcer: follows the hall's committed events and says every
//! call and recall (a recall repeats the call's words). The ticket's number
//! and lane are read from the queue; nothing else about the resident is
//! used. Events missed after a lag are not announced late: the display
//! shows them.

use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::hall::Hall;
use crate::queue::Event;
use crate::voice::Voice;

/// What the announcer needs.
pub struct Deps {
    /// The hall (for the called ticket's number and lane).
    pub hall: Arc<Mutex<Hall>>,
    /// The hall's voice.
    pub voice: Voice,
    /// The hall's committed events.
    pub events: broadcast::Receiver<Event>,
}

/// Announces until cancelled.
pub async fn run(deps: Deps, cancel: CancellationToken) {
    use tokio::sync::broadcast::error::RecvError;
    let Deps {
        hall,
        voice,
        mut events,
    } = deps;
    loop {
        let (id, window) = tokio::select! {
            _ = cancel.cancelled() => return,
            ev = events.recv() => match ev {
                Ok(Event::Called { id, window, .. } | Event::Recalled { id, window, .. }) => (id, window),
                Ok(_) => continue,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "voice fell behind the calls; those are not announced");
                    continue;
                }
                Err(RecvError::Closed) => return,
            },
        };
        if !voice.is_on() {
            continue;
        }
        let h = hall.clone();
        let ticket = tokio::task::spawn_blocking(move || {
            let h = crate::sync::lock(&h);
            h.queue().ticket(id).map(|t| (t.number.clone(), t.lane))
        })
        .await;
        match ticket {
            Ok(Some((number, lane))) => {
                voice.announce(crate::voice::call_text(&number, lane, window))
            }
            Ok(None) => tracing::debug!(%id, "called ticket no longer in the queue; not announced"),
            Err(e) => tracing::error!(error = %e, "voice lookup failed"),
        }
    }
}
