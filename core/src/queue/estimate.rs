//! How long a waiting resident may still wait: an honest range, or
//! nothing. From the day's observed service times of the ticket's service
//! (its lane's when there are enough of them), the people ahead and the
//! windows that serve it and are open. Pure.

use std::time::Duration;

use super::{Lane, Queue, TicketId, TicketState};

/// Finished services of the day needed before any estimate is given.
pub const MIN_SAMPLES: usize = 5;

/// An estimated wait, in minutes: `low..=high`, both multiples of five and
/// at least ten apart (`预计等候 10–20 分钟`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitRange {
    /// At least this many minutes.
    pub low: u32,
    /// At most this many minutes.
    pub high: u32,
}

impl Queue {
    /// The wait ahead of ticket `id`, while it waits; `None` while the day
    /// has too little data (fewer than [`MIN_SAMPLES`] services finished
    /// for its service), no open window serves it, or it is not waiting.
    pub fn estimated_wait(&self, id: TicketId) -> Option<WaitRange> {
        let t = self.ticket(id)?;
        if !t.state.is_waiting() {
            return None;
        }
        let per_person = self.mean_service(&t.service, t.lane)?;
        let windows = self.open_windows(&t.service, t.target_window);
        if windows == 0 {
            return None;
        }
        let ahead = self.ahead(id)? as f64;
        // The resident's own turn comes when those ahead are done, spread
        // over the open windows.
        let minutes = ahead * per_person.as_secs_f64() / 60.0 / windows as f64;
        Some(range(minutes))
    }

    /// The mean service time (start → finish) of the day's finished
    /// tickets of `service`, in `lane` when that lane has enough of them.
    fn mean_service(&self, service: &str, lane: Lane) -> Option<Duration> {
        let times = |lane: Option<Lane>| -> Vec<Duration> {
            self.tickets()
                .into_iter()
                .filter(|t| t.state == TicketState::Done && t.service == service)
                .filter(|t| lane.is_none_or(|l| t.lane == l))
                .filter_map(|t| Some(t.closed_at?.since(t.started_at?)))
                .collect()
        };
        let own = times(Some(lane));
        let all = if own.len() >= MIN_SAMPLES {
            own
        } else {
            times(None)
        };
        if all.len() < MIN_SAMPLES {
            return None;
        }
        Some(all.iter().sum::<Duration>() / all.len() as u32)
    }

    /// Open windows that call `service` (only `target` for a ticket
    /// transferred to one window).
    fn open_windows(&self, service: &str, target: Option<u32>) -> usize {
        self.config()
            .windows
            .iter()
            .filter(|w| target.is_none_or(|t| t == w.number))
            .filter(|w| w.services.iter().any(|s| s == service))
            .filter(|w| self.windows().get(&w.number).is_some_and(|s| !s.paused))
            .count()
    }
}

/// A range around `minutes`: a third either side, rounded out to five
/// minutes, ten wide at least; never below zero.
fn range(minutes: f64) -> WaitRange {
    let low = ((minutes * 2.0 / 3.0) / 5.0).floor() as u32 * 5;
    let high = ((minutes * 4.0 / 3.0) / 5.0).ceil() as u32 * 5;
    let high = high.max(low + 10);
    WaitRange { low, high }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_honest_and_never_precise() {
        assert_eq!(range(0.0), WaitRange { low: 0, high: 10 });
        assert_eq!(range(4.0), WaitRange { low: 0, high: 10 });
        assert_eq!(range(15.0), WaitRange { low: 10, high: 20 });
        assert_eq!(range(30.0), WaitRange { low: 20, high: 40 });
        assert_eq!(range(90.0), WaitRange { low: 60, high: 120 });
    }
}
