//! The hall: the queue core joined to its store and a clock. Every operation
//! reads the clock once, rolls the service day over if it is due, asks the
//! core for a decision, applies it, and commits event and state in one
//! durable transaction before returning. If the commit fails, the in-memory
//! queue is rebuilt from the database, so memory never runs ahead of disk.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::config::Config;
use crate::hwm::{Guard, Guarding, StoreStatus};
use crate::queue::{
    service_day, DayBoundary, Event, Lane, Queue, QueueConfig, QueueError, Ticket, TicketId,
    Timestamp,
};
use crate::store::{JournalEntry, Store, StoreError};
pub use bookings::{BookingAsk, BookingError};
pub use greenwave_core::Actor;

mod bookings;

/// Where the time comes from. The daemon uses [`SystemClock`]; tests use
/// [`ManualClock`].
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(chrono::Utc::now().timestamp_millis())
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `t`.
    pub fn new(t: Timestamp) -> ManualClock {
        ManualClock(AtomicI64::new(t.0))
    }

    /// Moves the clock forward.
    pub fn advance(&self, d: std::time::Duration) {
        self.0.fetch_add(d.as_millis() as i64, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// Why a hall operation failed.
#[derive(Debug, thiserror::Error)]
pub enum HallError {
    /// The queue refused (a staff-facing reason).
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The database failed; nothing was recorded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The database is behind its high-water record (or the record is
    /// damaged): the whole message, with the files and the way out.
    #[error("{0}")]
    Refused(String),
    /// The high-water record cannot be read.
    #[error(transparent)]
    Record(#[from] crate::store::hwm::RecordError),
    /// The service gives out no ticket now (hours, a limit): why, and
    /// when to come back. Nothing issued.
    #[error("no ticket now: {0:?}")]
    NotNow(crate::schedule::Refusal),
    /// The data directory is unusable.
    #[error("data directory {path}: {message}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The queue of one hall, durable.
pub struct Hall {
    queue: Queue,
    store: Store,
    boundary: DayBoundary,
    clock: Arc<dyn Clock>,
    events: tokio::sync::broadcast::Sender<Arc<Committed>>,
    guard: Guard,
    _lock: File,
}

impl From<crate::hwm::OpenError> for HallError {
    fn from(e: crate::hwm::OpenError) -> HallError {
        match e {
            crate::hwm::OpenError::Store(e) => HallError::Store(e),
            crate::hwm::OpenError::Record(e) => HallError::Record(e),
            crate::hwm::OpenError::Refused(m) => HallError::Refused(m),
        }
    }
}

impl std::fmt::Debug for Hall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hall")
            .field("day", &self.queue.day())
            .field("store", &self.store)
            .finish()
    }
}

/// How long [`Hall::open_at_with`] waits for the data directory's lock.
/// A lock is briefly held by someone else without a second greenwave:
/// a process that is still exiting while systemd restarts the service,
/// or a child forked by another thread of this process that has not yet
/// reached `exec` (the forked descriptor shares the lock until then).
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

fn take_lock(lock: &File) -> Result<(), std::fs::TryLockError> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

impl Hall {
    /// Opens the hall's data directory: takes the directory's lock (one
    /// daemon per data directory), opens the database (refused if it is
    /// behind its high-water record, see [`crate::hwm`]), rebuilds the
    /// queue as it was, and rolls the day over if the last one has ended.
    pub fn open(cfg: &Config, clock: Arc<dyn Clock>) -> Result<Hall, HallError> {
        Hall::open_with(cfg, clock, Guarding::default())
    }

    /// [`Hall::open`], guarding the numbering as `guarding` says
    /// (`--accept-loss`).
    pub fn open_with(
        cfg: &Config,
        clock: Arc<dyn Clock>,
        guarding: Guarding,
    ) -> Result<Hall, HallError> {
        let (qcfg, day) = (cfg.queue_config(), cfg.day);
        Hall::open_at_with(&cfg.data_dir, qcfg, day, clock, guarding)
    }

    /// [`Hall::open`] with the parts spelled out.
    pub fn open_at(
        data_dir: &Path,
        qcfg: QueueConfig,
        boundary: DayBoundary,
        clock: Arc<dyn Clock>,
    ) -> Result<Hall, HallError> {
        Hall::open_at_with(data_dir, qcfg, boundary, clock, Guarding::default())
    }

    /// [`Hall::open_at`], guarding the numbering as `guarding` says: a
    /// database behind its high-water record is refused unless the loss is
    /// accepted, and then numbering continues above the record.
    pub fn open_at_with(
        data_dir: &Path,
        qcfg: QueueConfig,
        boundary: DayBoundary,
        clock: Arc<dyn Clock>,
        guarding: Guarding,
    ) -> Result<Hall, HallError> {
        let dir_err = |message: String| HallError::DataDir {
            path: data_dir.to_path_buf(),
            message,
        };
        std::fs::create_dir_all(data_dir).map_err(|e| dir_err(format!("cannot create: {e}")))?;
        let lock = File::create(data_dir.join("greenwave.lock"))
            .map_err(|e| dir_err(format!("cannot create lock file: {e}")))?;
        take_lock(&lock).map_err(|_| {
            dir_err("another greenwave process is using it (greenwave.lock is held)".to_string())
        })?;
        let now = clock.now();
        let (mut store, mut guard) = crate::hwm::open_store(data_dir, guarding, now)?;
        let today = service_day(now, &boundary);
        let snap = store.snapshot()?;
        let day = match snap.day {
            Some(d) => d,
            None => {
                store.init_day(today)?;
                today
            }
        };
        let mut queue = Queue::restore(qcfg, day, snap.tickets, snap.windows, snap.next_id);
        guard.start(&store, &mut queue);
        let (events, _) = tokio::sync::broadcast::channel(1024);
        let mut hall = Hall {
            queue,
            store,
            boundary,
            clock,
            events,
            guard,
            _lock: lock,
        };
        hall.roll_if_due(now)?;
        Ok(hall)
    }

    /// The queue as it stands.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// The hall's clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The clock's current instant.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Rolls the service day over if it has ended; returns the rollover
    /// event if one happened. The daemon calls this periodically.
    pub fn tick(&mut self) -> Result<Option<Event>, HallError> {
        let now = self.clock.now();
        self.roll_if_due(now)
    }

    fn roll_if_due(&mut self, now: Timestamp) -> Result<Option<Event>, HallError> {
        let today = service_day(now, &self.boundary);
        if today <= self.queue.day() {
            return Ok(None);
        }
        let ev = self.queue.rollover(today, now)?;
        self.record(ev.clone(), &Actor::System)?;
        tracing::info!(day = %today, "service day rolled over");
        Ok(Some(ev))
    }

    fn record(&mut self, ev: Event, actor: &Actor) -> Result<(), HallError> {
        self.record_request(ev, actor, None, None)
    }

    /// The ticket of today that a request already caused, if any.
    fn answered(&self, request: Option<&str>) -> Result<Option<Ticket>, HallError> {
        let Some(r) = request else { return Ok(None) };
        Ok(self
            .store
            .ticket_of_request(r)?
            .and_then(|id| self.queue.ticket(id).cloned()))
    }

    /// [`Hall::record`] with the idempotency key of the request that
    /// caused the event, committed in the same transaction.
    fn record_request(
        &mut self,
        ev: Event,
        actor: &Actor,
        request: Option<&str>,
        profile: Option<&crate::store::Profile>,
    ) -> Result<(), HallError> {
        let day = self.queue.day();
        let before = ev.ticket_id().and_then(|id| self.queue.ticket(id).cloned());
        let changes = self.queue.apply(&ev);
        let committed =
            self.store
                .commit_request(day, actor, &[(ev.clone(), changes)], request, profile);
        if let Err(e) = committed {
            tracing::error!(error = %e, "commit failed; reloading the queue from the database");
            self.guard.failed(&e);
            self.reload()?;
            return Err(e.into());
        }
        self.guard.committed(&ev, &self.store, &mut self.queue);
        // Only committed events are announced; nobody listening is fine.
        if self.events.receiver_count() > 0 {
            let after = ev.ticket_id().and_then(|id| self.queue.ticket(id).cloned());
            let _ = self.events.send(Arc::new(Committed {
                event: ev,
                before,
                after,
            }));
        }
        Ok(())
    }

    /// Every event from now on, after it is committed (for the event
    /// stream, displays and voice), with the ticket it concerns as it was
    /// before and after. One copy is shared by every receiver. A slow
    /// receiver that falls more than 1,024 events behind is told it lagged
    /// and should re-read the queue.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<Committed>> {
        self.events.subscribe()
    }

    fn reload(&mut self) -> Result<(), HallError> {
        let snap = self.store.snapshot()?;
        let cfg = self.queue.config().clone();
        let day = snap.day.unwrap_or(self.queue.day());
        self.queue = Queue::restore(cfg, day, snap.tickets, snap.windows, snap.next_id);
        self.guard.raise(&mut self.queue);
        Ok(())
    }

    /// Whether the store can commit now (`/healthz`): the last write's
    /// outcome, or a small probe write when that is older than two seconds.
    pub fn store_status(&mut self) -> StoreStatus {
        let now = self.clock.now();
        self.guard.status(&mut self.store, now)
    }

    /// Runs one decision of the core and records it as done by `actor`;
    /// returns the event and the ticket it concerns, as stored.
    pub fn exec(
        &mut self,
        actor: &Actor,
        decide: impl FnOnce(&Queue, Timestamp) -> Result<Event, QueueError>,
    ) -> Result<(Event, Option<Ticket>), HallError> {
        let now = self.clock.now();
        self.roll_if_due(now)?;
        let ev = decide(&self.queue, now)?;
        self.record(ev.clone(), actor)?;
        let ticket = ev.ticket_id().and_then(|id| self.queue.ticket(id).cloned());
        Ok((ev, ticket))
    }

    /// The open ticket of `person` for `service`, or else a new one issued
    /// durably: one person, one number, decided and committed under the one
    /// lock the caller holds. `person` is the keyed identity hash (`None`:
    /// no card, always a new ticket).
    pub fn open_or_issue(&mut self, ask: Ask<'_>) -> Result<Issued, HallError> {
        let now = self.clock.now();
        self.roll_if_due(now)?;
        if let Some(t) = self.answered(ask.request)? {
            // Committed before, answer lost on the way: the same ticket,
            // never printed yet, so not a reprint for the resident.
            let ahead = self.queue.ahead(t.id).unwrap_or(0);
            let wait = self.queue.estimated_wait(t.id);
            return Ok(Issued {
                ticket: t,
                reprint: false,
                ahead,
                wait,
            });
        }
        let open = ask
            .person
            .and_then(|p| self.queue.open_ticket_of(p, ask.service).cloned());
        let (ticket, reprint) = match open {
            Some(t) => (t, true),
            None => {
                let ev = self.new_ticket(&ask, now)?;
                self.record_request(ev.clone(), ask.actor, ask.request, Some(&ask.profile))?;
                let id = ev.ticket_id().expect("an issue concerns a ticket");
                let t = self.queue.ticket(id).cloned();
                (t.expect("an issued ticket is in the queue"), false)
            }
        };
        let ahead = self.queue.ahead(ticket.id).unwrap_or(0);
        let wait = self.queue.estimated_wait(ticket.id);
        Ok(Issued {
            ticket,
            reprint,
            ahead,
            wait,
        })
    }

    /// Whether the schedule lets a new ticket of `lane` out now, by the
    /// hall's local time and the day's tickets of the service.
    fn admit(
        &self,
        schedule: &crate::schedule::Schedule,
        service: &str,
        lane: Lane,
        now: Timestamp,
    ) -> Result<(), HallError> {
        use chrono::Timelike;
        if schedule.is_open_always() {
            return Ok(());
        }
        let local = chrono::DateTime::from_timestamp_millis(now.0)
            .unwrap_or_default()
            .with_timezone(&self.boundary.timezone);
        let minutes_into_hour = i64::from(local.minute()) * 60_000
            + i64::from(local.second()) * 1000
            + i64::from(local.timestamp_subsec_millis());
        let counts = crate::schedule::Counts::of(
            self.queue.tickets(),
            service,
            Timestamp(now.0 - minutes_into_hour),
        );
        crate::schedule::admit(schedule, lane, local.date_naive(), local.time(), counts)
            .map_err(HallError::NotNow)
    }

    /// Issues a ticket durably, as the manager (tests and tools).
    pub fn issue(&mut self, service: &str, lane: Lane) -> Result<Ticket, HallError> {
        let (_, t) = self.exec(&Actor::Manager, |q, now| q.issue(service, lane, now))?;
        Ok(t.expect("an issued ticket is in the queue"))
    }

    /// Calls the next ticket to a window, as that window (tests and tools).
    pub fn call_next(&mut self, window: u32) -> Result<Ticket, HallError> {
        let (_, t) = self.exec(&Actor::Window(window), |q, now| q.call_next(window, now))?;
        Ok(t.expect("a called ticket is in the queue"))
    }

    /// The store, for reads, audit lines, print records and card bindings
    /// (queue state changes go through [`Hall::exec`] only).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The journal entries of one ticket.
    pub fn history(&self, id: TicketId) -> Result<Vec<JournalEntry>, HallError> {
        Ok(self.store.ticket_history(id)?)
    }
}

/// A committed change as the hall announces it: the event, and the ticket
/// it concerns as it was just before and just after.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The event.
    pub event: Event,
    /// Its ticket before the event (`None` for a new ticket and for events
    /// that concern no ticket).
    pub before: Option<Ticket>,
    /// Its ticket after the event.
    pub after: Option<Ticket>,
}

/// A request for [`Hall::open_or_issue`].
#[derive(Debug, Clone)]
pub struct Ask<'a> {
    /// Who asks (the kiosk, a window after a manual identification).
    pub actor: &'a Actor,
    /// The service.
    pub service: &'a str,
    /// The keyed identity hash (hex) of the resident, if known.
    pub person: Option<&'a str>,
    /// The lane of a new ticket.
    pub lane: Lane,
    /// The progress token of a new ticket.
    pub token: String,
    /// How a priority resident was identified.
    pub identified: Option<crate::queue::Identified>,
    /// The idempotency key of a kiosk machine's request (`k1:…`): asked
    /// again, the same ticket comes back, never a second.
    pub request: Option<&'a str>,
    /// The resident as the bureau counts them (roster category, age band).
    pub profile: crate::store::Profile,
    /// The service's hours and limits, for a new ticket at the kiosk
    /// (`None`: staff issuing, not limited). A resident's open ticket is
    /// given again whatever the hour.
    pub schedule: Option<&'a crate::schedule::Schedule>,
    /// The service's appointments, at the kiosk: a resident with a booking
    /// of today gets an appointment ticket in their slot's window, is told
    /// to come back before it, gets a walk-in ticket after it (`None`:
    /// bookings are not looked at).
    pub appointments: Option<crate::booking::Appointments>,
}

/// What [`Hall::open_or_issue`] did.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The ticket, as stored.
    pub ticket: Ticket,
    /// It was the resident's open ticket: no new number.
    pub reprint: bool,
    /// People ahead of it now.
    pub ahead: usize,
    /// How long it may wait, when the day has data enough to say
    /// ([`Queue::estimated_wait`]).
    pub wait: Option<crate::queue::WaitRange>,
}

/// One difference between the journal and the stored state.
pub type Mismatch = String;

/// Replays the whole journal from nothing and compares the result with the
/// stored tickets: every ticket's state must be exactly what its events say.
/// Returns the differences (empty when all is consistent).
pub fn verify(store: &Store, qcfg: &QueueConfig) -> Result<Vec<Mismatch>, StoreError> {
    let journal = store.journal()?;
    let mut problems = Vec::new();
    let Some(first) = journal.first() else {
        return Ok(problems);
    };
    let mut queue = Queue::new(qcfg.clone(), first.day, 1);
    let mut replayed: HashMap<TicketId, Ticket> = HashMap::new();
    for entry in &journal {
        if entry.day != queue.day() {
            problems.push(format!(
                "journal seq {}: recorded on day {} while the queue was on {}",
                entry.seq,
                entry.day,
                queue.day()
            ));
        }
        let changes = queue.apply(&entry.event);
        if entry.event.ticket_id().is_some() && changes.tickets.is_empty() {
            problems.push(format!(
                "journal seq {}: {} event for an unknown ticket",
                entry.seq,
                entry.event.kind()
            ));
        }
        for t in changes.tickets {
            replayed.insert(t.id, t);
        }
    }
    let snap = store.snapshot()?;
    let mut stored: HashMap<TicketId, Ticket> = HashMap::new();
    let mut days: Vec<chrono::NaiveDate> = replayed.values().map(|t| t.day).collect();
    days.sort();
    days.dedup();
    for d in days {
        for t in store.tickets_of_day(d)? {
            stored.insert(t.id, t);
        }
    }
    for (id, t) in &replayed {
        match stored.get(id) {
            None => problems.push(format!(
                "ticket {id} ({}) is in the journal but not stored",
                t.number
            )),
            Some(s) if s != t => problems.push(format!(
                "ticket {id} ({}): stored state {} differs from the journal's {}",
                t.number,
                s.state.as_str(),
                t.state.as_str()
            )),
            Some(_) => {}
        }
    }
    for (id, s) in &stored {
        if !replayed.contains_key(id) {
            problems.push(format!(
                "ticket {id} ({}) is stored but has no journal entry",
                s.number
            ));
        }
    }
    if snap.day != Some(queue.day()) {
        problems.push(format!(
            "stored service day {:?} differs from the journal's {}",
            snap.day,
            queue.day()
        ));
    }
    Ok(problems)
}
