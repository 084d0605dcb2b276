//! The call announcer: follows the hall's committed events and says every
//! call and recall (a recall repeats the call's words). The ticket's number
//! and lane are read from the queue; nothing else about the resident is
//! used. Events missed after a lag are not announced late: the display
//! shows them.

use std::sync::Arc;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::hall::Committed;
use crate::queue::Event;
use crate::voice::Voice;

/// What the announcer needs.
pub struct Deps {
    /// The hall's voice.
    pub voice: Voice,
    /// The hall's committed events.
    pub events: broadcast::Receiver<Arc<Committed>>,
}

/// Announces until cancelled.
pub async fn run(deps: Deps, cancel: CancellationToken) {
    use tokio::sync::broadcast::error::RecvError;
    let Deps { voice, mut events } = deps;
    loop {
        let committed = tokio::select! {
            _ = cancel.cancelled() => return,
            ev = events.recv() => match ev {
                Ok(c) => c,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "voice fell behind the calls; those are not announced");
                    continue;
                }
                Err(RecvError::Closed) => return,
            },
        };
        let window = match committed.event {
            Event::Called { window, .. } | Event::Recalled { window, .. } => window,
            _ => continue,
        };
        if let (true, Some(t)) = (voice.is_on(), &committed.after) {
            voice.announce(crate::voice::call_text(&t.number, t.lane, window));
        }
    }
}
