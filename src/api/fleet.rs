//! The hall's kiosk machines as the hall server knows them: when each was
//! last heard from, its devices, and the print jobs staff sent it.
//!
//! A kiosk machine reports every [`HEARTBEAT`]; one not heard from for
//! [`STALE_AFTER`] is shown as down (on the manager page and in
//! `/metrics`), so that a machine that stops reporting is flagged within
//! half a minute. Print jobs wait here until the kiosk's long poll takes
//! them; the staff request that sent one waits for its result.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{oneshot, Notify};
use utoipa::ToSchema;

use crate::config::Config;
use crate::kiosk::wire::{JobResult, PrintJob as Job, WireIssued};

/// How often a kiosk machine reports.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// A kiosk not heard from for this long is down.
pub const STALE_AFTER: Duration = Duration::from_secs(20);
/// Ticket ids a kiosk may report prints of (the ones it was handed).
const REMEMBERED_TICKETS: usize = 4_096;

#[derive(Debug, Default)]
struct Machine {
    name: String,
    /// Last contact: monotonic, and wall clock for the page.
    seen: Option<(Instant, i64)>,
    devices: BTreeMap<String, bool>,
    version: String,
    jobs: VecDeque<Job>,
    waiting: HashMap<u64, oneshot::Sender<JobResult>>,
    notify: Arc<Notify>,
    handed: VecDeque<u64>,
}

/// A kiosk machine as the manager page and `/metrics` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct MachineView {
    /// Its id (`k1`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Heard from within the last 20 seconds.
    pub up: bool,
    /// Last contact, ms since the epoch; none if never.
    pub last_contact_ms: Option<i64>,
    /// Seconds since the last contact; none if never.
    pub seconds_since: Option<u64>,
    /// Its devices as it last reported them (`id_reader`, `printer`...).
    pub devices: BTreeMap<String, bool>,
    /// The greenwave version it runs.
    pub version: String,
}

/// Why a print job could not be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// No kiosk machine by that id.
    Unknown,
    /// It has not been heard from lately.
    Down,
}

/// The hall's kiosk machines.
#[derive(Debug, Default)]
pub struct Fleet {
    machines: Mutex<BTreeMap<String, Machine>>,
    next_job: AtomicU64,
}

impl Fleet {
    /// The kiosk machines of the configuration, none heard from yet.
    pub fn of(cfg: &Config) -> Fleet {
        let machines = cfg
            .kiosks
            .iter()
            .map(|k| {
                let m = Machine {
                    name: k.name.clone(),
                    ..Machine::default()
                };
                (k.id.clone(), m)
            })
            .collect();
        Fleet {
            machines: Mutex::new(machines),
            next_job: AtomicU64::new(1),
        }
    }

    fn with<T>(&self, id: &str, f: impl FnOnce(&mut Machine) -> T) -> Option<T> {
        crate::sync::lock(&self.machines).get_mut(id).map(f)
    }

    /// Any request from kiosk `id`: it is alive.
    pub fn contact(&self, id: &str, at: Instant, at_ms: i64) {
        self.with(id, |m| m.seen = Some((at, at_ms)));
    }

    /// A heartbeat: its devices and version.
    pub fn report(&self, id: &str, devices: BTreeMap<String, bool>, version: String) {
        self.with(id, |m| {
            m.devices = devices;
            m.version = version;
        });
    }

    /// Kiosk `id` was handed ticket `ticket` (it may report its prints).
    pub fn handed(&self, id: &str, ticket: u64) {
        self.with(id, |m| {
            if m.handed.len() >= REMEMBERED_TICKETS {
                m.handed.pop_front();
            }
            m.handed.push_back(ticket);
        });
    }

    /// Whether kiosk `id` was handed ticket `ticket`.
    pub fn was_handed(&self, id: &str, ticket: u64) -> bool {
        self.with(id, |m| m.handed.contains(&ticket))
            .unwrap_or(false)
    }

    /// Every kiosk machine as of `now`. A machine that is down shows no
    /// devices: what it last said of them is no longer known.
    pub fn views(&self, now: Instant) -> Vec<MachineView> {
        crate::sync::lock(&self.machines)
            .iter()
            .map(|(id, m)| {
                let since = m.seen.map(|(t, _)| now.saturating_duration_since(t));
                let up = since.is_some_and(|s| s < STALE_AFTER);
                MachineView {
                    id: id.clone(),
                    name: m.name.clone(),
                    up,
                    last_contact_ms: m.seen.map(|(_, ms)| ms),
                    seconds_since: since.map(|s| s.as_secs()),
                    devices: if up {
                        m.devices.clone()
                    } else {
                        BTreeMap::new()
                    },
                    version: m.version.clone(),
                }
            })
            .collect()
    }

    /// Sends a print job to kiosk `id`; the receiver gets its result.
    pub fn send(
        &self,
        id: &str,
        ticket: WireIssued,
        now: Instant,
    ) -> Result<oneshot::Receiver<JobResult>, SendError> {
        let job = self.next_job.fetch_add(1, Ordering::Relaxed);
        let ticket_id = ticket.ticket.id;
        let rx = self
            .with(id, |m| {
                let up = m
                    .seen
                    .is_some_and(|(t, _)| now.saturating_duration_since(t) < STALE_AFTER);
                if !up {
                    return Err(SendError::Down);
                }
                let (tx, rx) = oneshot::channel();
                m.waiting.insert(job, tx);
                m.jobs.push_back(Job { job, ticket });
                m.notify.notify_one();
                Ok(rx)
            })
            .ok_or(SendError::Unknown)??;
        self.handed(id, ticket_id);
        Ok(rx)
    }

    /// A job nobody waits for any more (the staff request timed out).
    pub fn forget(&self, id: &str, job: u64) {
        self.with(id, |m| {
            m.waiting.remove(&job);
            m.jobs.retain(|j| j.job != job);
        });
    }

    /// The jobs waiting for kiosk `id` (taken), and what to wait on when
    /// there are none.
    pub fn take_jobs(&self, id: &str) -> (Vec<Job>, Option<Arc<Notify>>) {
        self.with(id, |m| (m.jobs.drain(..).collect(), Some(m.notify.clone())))
            .unwrap_or_default()
    }

    /// Kiosk `id` reports how job `job` went; false if nobody waits.
    pub fn job_done(&self, id: &str, job: u64, result: JobResult) -> bool {
        self.with(id, |m| m.waiting.remove(&job))
            .flatten()
            .is_some_and(|tx| tx.send(result).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiosk::wire::WireTicket;
    use crate::queue::Lane;

    fn fleet() -> Fleet {
        let f = Fleet::default();
        crate::sync::lock(&f.machines).insert(
            "k1".into(),
            Machine {
                name: "入口".into(),
                ..Machine::default()
            },
        );
        f
    }

    fn ticket(id: u64) -> WireIssued {
        WireIssued {
            ticket: WireTicket {
                id,
                day: "2026-12-01".into(),
                number: "A001".into(),
                service: "civil".into(),
                lane: Lane::Normal,
                state: "waiting".into(),
                issued_at_ms: 0,
                token: String::new(),
                slot_at_ms: None,
                booking: None,
            },
            reprint: true,
            ahead: 0,
            wait: None,
            reason: None,
        }
    }

    #[test]
    fn a_kiosk_that_stops_reporting_is_down_within_half_a_minute() {
        let f = fleet();
        let t0 = Instant::now();
        assert!(!f.views(t0)[0].up, "never heard from");
        f.contact("k1", t0, 1_000);
        f.report("k1", BTreeMap::from([("printer".into(), true)]), "1".into());
        let v = &f.views(t0 + Duration::from_secs(4))[0];
        assert!(v.up);
        assert_eq!(v.devices.get("printer"), Some(&true));
        // The last heartbeat arrived at t0; it stops there.
        let later = f.views(t0 + STALE_AFTER);
        assert!(!later[0].up);
        assert_eq!(later[0].seconds_since, Some(STALE_AFTER.as_secs()));
        assert!(
            later[0].devices.is_empty(),
            "a down kiosk's devices are unknown"
        );
        // Flagged within 30 s of the last report even if that report came
        // just before it stopped.
        assert!(STALE_AFTER + HEARTBEAT <= Duration::from_secs(30));
    }

    #[test]
    fn a_job_reaches_only_a_live_kiosk_and_its_result_comes_back() {
        let f = fleet();
        let t0 = Instant::now();
        assert_eq!(f.send("k9", ticket(1), t0).err(), Some(SendError::Unknown));
        assert_eq!(f.send("k1", ticket(1), t0).err(), Some(SendError::Down));
        f.contact("k1", t0, 0);
        let mut rx = f.send("k1", ticket(7), t0).unwrap();
        let (jobs, _) = f.take_jobs("k1");
        assert_eq!(jobs.len(), 1);
        assert!(f.was_handed("k1", 7));
        assert!(f.take_jobs("k1").0.is_empty(), "a job is taken once");
        assert!(f.job_done("k1", jobs[0].job, JobResult { problem: None }));
        assert_eq!(rx.try_recv().unwrap(), JobResult { problem: None });
        assert!(!f.job_done("k1", jobs[0].job, JobResult { problem: None }));
    }
}
