//! The queue core: tickets, lanes, numbering, the call policy and the day
//! rollover, as plain functions over data.
//!
//! Invariant: nothing in here does IO, reads a clock or speaks SQL. Every
//! operation is split in two: a *decision* (`&self`, takes `now`, returns the
//! [`Event`] that would happen or a [`QueueError`]) and [`Queue::apply`],
//! which performs an event and returns the rows it changed, so that the store
//! can journal the event and persist the change in one transaction.

mod day;
mod estimate;
mod types;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::NaiveDate;

pub use day::{service_day, DayBoundary};
pub use estimate::{WaitRange, MIN_SAMPLES};
pub use types::{
    CallReason, Event, Identified, Lane, Ticket, TicketId, TicketState, Timestamp, WindowState,
    APPOINTMENT_PREFIX,
};

/// A service as the queue sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDef {
    /// Short code used by the API and in the journal (`civil`).
    pub code: String,
    /// The letter in ticket numbers (`A` → `A012`, `GA012`).
    pub letter: String,
}

/// A window as the queue sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowDef {
    /// The number over the counter.
    pub number: u32,
    /// Codes of the services it calls.
    pub services: Vec<String>,
}

/// The fairness rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallPolicy {
    /// After this many consecutive priority calls at a window, the next call
    /// takes the general line's first ticket if one waits. 0 turns the rule
    /// off.
    pub max_priority_streak: u32,
    /// While a ticket of the general line has waited longer than this, a
    /// window alternates: after each priority call it calls the general
    /// line. `None` turns the rule off.
    pub normal_max_wait: Option<Duration>,
    /// How long after a no-show staff can put the ticket back in line.
    pub rejoin_grace: Duration,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy {
            max_priority_streak: 3,
            normal_max_wait: Some(Duration::from_secs(30 * 60)),
            rejoin_grace: Duration::from_secs(15 * 60),
        }
    }
}

/// Everything the queue needs to know about the hall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// Services, in display order.
    pub services: Vec<ServiceDef>,
    /// Windows.
    pub windows: Vec<WindowDef>,
    /// Prefix of priority-lane numbers (`G`).
    pub priority_prefix: String,
    /// Fairness rules.
    pub policy: CallPolicy,
}

/// Why an operation was refused. Messages are for window staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// No such service code.
    #[error("没有业务 \"{0}\"")]
    UnknownService(String),
    /// No such window number.
    #[error("没有 {0} 号窗口")]
    UnknownWindow(u32),
    /// No ticket with this number today.
    #[error("今天没有 {0} 号")]
    UnknownNumber(String),
    /// Nothing for this window to call.
    #[error("{0} 号窗口没有等候的号码")]
    NothingWaiting(u32),
    /// The window still has a ticket open.
    #[error("{window} 号窗口的 {number} 号尚未办结，请先办结、过号或转办")]
    WindowBusy {
        /// Window.
        window: u32,
        /// Its open ticket.
        number: String,
    },
    /// The window is paused.
    #[error("{0} 号窗口已暂停")]
    WindowPaused(u32),
    /// The window is not paused.
    #[error("{0} 号窗口未暂停")]
    WindowNotPaused(u32),
    /// The window has no current ticket.
    #[error("{0} 号窗口当前没有号码")]
    NoCurrentTicket(u32),
    /// The ticket is not in a state that allows this.
    #[error("{number} 号当前状态为{state}，不能{action}")]
    WrongState {
        /// Ticket number.
        number: String,
        /// Its state.
        state: &'static str,
        /// What was asked (Chinese verb).
        action: &'static str,
    },
    /// This window does not serve the ticket's service.
    #[error("{number} 号不属于 {window} 号窗口的业务")]
    NotForThisWindow {
        /// Ticket number.
        number: String,
        /// Window.
        window: u32,
    },
    /// The no-show grace period is over.
    #[error("{0} 号过号已超过可恢复时限")]
    GraceExpired(String),
    /// A transfer that goes nowhere.
    #[error("转办需要指定新的业务或窗口，且不能转给本窗口")]
    BadTransfer,
    /// Rollover to a day that is not after the current one.
    #[error("营业日 {to} 不晚于当前营业日 {from}")]
    DayNotAfter {
        /// Current day.
        from: NaiveDate,
        /// Requested day.
        to: NaiveDate,
    },
}

/// Rows changed by one event: what the store must persist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Tickets after the event.
    pub tickets: Vec<Ticket>,
    /// Windows after the event.
    pub windows: Vec<(u32, WindowState)>,
    /// The new service day, on rollover.
    pub day: Option<NaiveDate>,
}

/// Where a waiting ticket is indexed: a service's line, or a window's own
/// line for tickets transferred to that window.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Bucket {
    Service(String),
    Window(u32),
}

type Place = (Timestamp, TicketId);

/// The queue of one hall for one service day.
#[derive(Debug, Clone)]
pub struct Queue {
    cfg: QueueConfig,
    day: NaiveDate,
    tickets: HashMap<TicketId, Ticket>,
    by_number: HashMap<String, TicketId>,
    waiting: HashMap<(Bucket, Lane), BTreeSet<Place>>,
    windows: BTreeMap<u32, WindowState>,
    counters: HashMap<(String, Lane), u32>,
    next_id: u64,
}

impl Queue {
    /// An empty queue for `day`. `next_id` is the first ticket id to use.
    pub fn new(cfg: QueueConfig, day: NaiveDate, next_id: u64) -> Queue {
        Queue::restore(cfg, day, Vec::new(), Vec::new(), next_id)
    }

    /// Rebuilds a queue from persisted rows: the day's tickets and the
    /// windows' states. `next_id` must exceed every id ever issued.
    pub fn restore(
        cfg: QueueConfig,
        day: NaiveDate,
        tickets: Vec<Ticket>,
        windows: Vec<(u32, WindowState)>,
        next_id: u64,
    ) -> Queue {
        let mut q = Queue {
            windows: cfg
                .windows
                .iter()
                .map(|w| (w.number, WindowState::default()))
                .collect(),
            cfg,
            day,
            tickets: HashMap::new(),
            by_number: HashMap::new(),
            waiting: HashMap::new(),
            counters: HashMap::new(),
            next_id: next_id.max(1),
        };
        for (n, w) in windows {
            q.windows.insert(n, w);
        }
        for t in tickets {
            q.next_id = q.next_id.max(t.id.0 + 1);
            q.insert(t);
        }
        q
    }

    /// The service day.
    pub fn day(&self) -> NaiveDate {
        self.day
    }

    /// The hall configuration the queue runs with.
    pub fn config(&self) -> &QueueConfig {
        &self.cfg
    }

    /// The id the next issued ticket will get.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// The last number's sequence in `service`'s `lane` today (0: none yet).
    pub fn last_seq(&self, service: &str, lane: Lane) -> u32 {
        self.counters
            .get(&(service.to_string(), lane))
            .copied()
            .unwrap_or(0)
    }

    /// Numbering of `service`'s `lane` continues after `seq` at least: the
    /// next number issued there is above it. Never lowers a counter. For
    /// numbers known to be issued today whose tickets are not in the
    /// queue (a database that lost them), so that none is issued twice.
    pub fn raise_numbering(&mut self, service: &str, lane: Lane, seq: u32) {
        let c = self
            .counters
            .entry((service.to_string(), lane))
            .or_insert(0);
        *c = (*c).max(seq);
    }

    /// The next ticket id is `next` at least. Never lowers it.
    pub fn raise_next_id(&mut self, next: u64) {
        self.next_id = self.next_id.max(next);
    }

    /// A ticket of the day by id.
    pub fn ticket(&self, id: TicketId) -> Option<&Ticket> {
        self.tickets.get(&id)
    }

    /// A ticket of the day by number (`GA012`).
    pub fn ticket_by_number(&self, number: &str) -> Option<&Ticket> {
        self.by_number
            .get(number)
            .and_then(|id| self.tickets.get(id))
    }

    /// All tickets of the day, in issue order.
    pub fn tickets(&self) -> Vec<&Ticket> {
        let mut v: Vec<&Ticket> = self.tickets.values().collect();
        v.sort_by_key(|t| t.id);
        v
    }

    /// Waiting tickets in calling order of their lines: priority lane
    /// first, then the general line (appointments and walk-ins), each by
    /// place.
    pub fn waiting(&self) -> Vec<&Ticket> {
        let mut v: Vec<&Ticket> = self
            .tickets
            .values()
            .filter(|t| t.state.is_waiting())
            .collect();
        v.sort_by_key(|t| (!t.lane.is_priority(), t.place(), t.id));
        v
    }

    /// Windows and their states.
    pub fn windows(&self) -> &BTreeMap<u32, WindowState> {
        &self.windows
    }

    /// How many tickets wait in a service's line and lane (transfers to a
    /// specific window included).
    pub fn waiting_count(&self, service: &str, lane: Lane) -> usize {
        self.tickets
            .values()
            .filter(|t| t.state.is_waiting() && t.service == service && t.lane == lane)
            .count()
    }

    /// People ahead of a waiting ticket in its service: for a priority
    /// ticket every priority ticket before it; for a ticket of the general
    /// line every priority ticket and every general ticket placed before
    /// it. An estimate for the ticket slip and the progress page: the
    /// anti-starvation rules can move a general ticket forward, never back.
    pub fn ahead(&self, id: TicketId) -> Option<usize> {
        let t = self.tickets.get(&id)?;
        if !t.state.is_waiting() {
            return None;
        }
        Some(
            self.tickets
                .values()
                .filter(|o| o.state.is_waiting() && o.service == t.service && o.id != t.id)
                .filter(|o| match (t.lane.is_priority(), o.lane.is_priority()) {
                    (true, false) => false,
                    (false, true) => true,
                    _ => (o.place(), o.id) < (t.place(), t.id),
                })
                .count(),
        )
    }

    /// The call policy's choice for `window` at `now`, without calling.
    /// The general line is the appointment and the normal lane together,
    /// by place (an appointment at its slot's time).
    ///
    /// 1. While a ticket of the general line has been due longer than
    ///    `normal_max_wait`, a window whose last call was a priority call
    ///    calls the general line's first ticket: under overload the two
    ///    lines alternate, so neither starves; then
    /// 2. after `max_priority_streak` consecutive priority calls at this
    ///    window, the general line's first ticket if one waits; then
    /// 3. the first priority ticket, then the general line's first.
    ///
    /// "First" is by place, so transferred and rejoined tickets keep it.
    pub fn next_for(&self, window: u32, now: Timestamp) -> Option<(TicketId, CallReason)> {
        let def = self.cfg.windows.iter().find(|w| w.number == window)?;
        let state = self.windows.get(&window)?;
        let buckets = || {
            def.services
                .iter()
                .map(|s| Bucket::Service(s.clone()))
                .chain(std::iter::once(Bucket::Window(window)))
        };
        let line = |lane: Lane| buckets().filter_map(move |b| self.waiting.get(&(b, lane)));
        let first = |lane: Lane| line(lane).filter_map(|s| s.first()).min().copied();
        let priority = first(Lane::Priority);
        let general = [first(Lane::Appointment), first(Lane::Normal)]
            .into_iter()
            .flatten()
            .min();
        if let (Some(_), Some(g)) = (priority, general) {
            let overdue = self.cfg.policy.normal_max_wait.is_some_and(|max| {
                // Walk-ins are due from their place; appointments from
                // the later of slot and arrival.
                let normal = first(Lane::Normal).map(|p| p.0);
                let booked = line(Lane::Appointment)
                    .flatten()
                    .filter_map(|(_, id)| self.tickets.get(id).map(Ticket::due_at))
                    .min();
                [normal, booked]
                    .into_iter()
                    .flatten()
                    .any(|due| now.since(due) > max)
            });
            if overdue && state.priority_streak > 0 {
                return Some((g.1, CallReason::Overdue));
            }
            let streak = self.cfg.policy.max_priority_streak;
            if streak > 0 && state.priority_streak >= streak {
                return Some((g.1, CallReason::Streak));
            }
        }
        match (priority, general) {
            (Some(p), _) => Some((p.1, CallReason::Priority)),
            (None, Some(g)) => Some((g.1, CallReason::Normal)),
            (None, None) => None,
        }
    }

    // ----- decisions -------------------------------------------------------

    /// Issue a ticket for `service` in `lane`.
    pub fn issue(&self, service: &str, lane: Lane, now: Timestamp) -> Result<Event, QueueError> {
        self.issue_with(service, lane, now, String::new(), None, None)
    }

    /// The open ticket (waiting or at a window) of `person` for `service`,
    /// if any: a second swipe reprints it instead of taking a new number.
    pub fn open_ticket_of(&self, person: &str, service: &str) -> Option<&Ticket> {
        self.tickets
            .values()
            .filter(|t| t.state.is_open() && t.origin_service == service)
            .find(|t| t.person.as_deref() == Some(person))
    }

    /// Whether window `window` may act on ticket `t` (cancel, rejoin,
    /// reprint, upgrade): a ticket called to or served at that window, or
    /// one it marked a no-show; or a ticket waiting for a service the window
    /// serves (a ticket transferred to another window: only for that one).
    /// The manager may act on every ticket; that is the API's to decide.
    pub fn window_may_act(&self, window: u32, t: &Ticket) -> bool {
        let here = t.window == Some(window);
        match t.state {
            TicketState::Called | TicketState::Serving | TicketState::NoShow => here,
            s if s.is_waiting() => match t.target_window {
                Some(target) => target == window,
                None => self.window_serves(window, &t.service),
            },
            _ => here || self.window_serves(window, &t.service),
        }
    }

    /// Whether window `window` serves `service`.
    pub fn serves(&self, window: u32, service: &str) -> bool {
        self.window_serves(window, service)
    }

    /// A ticket of the day by its progress token.
    pub fn ticket_by_token(&self, token: &str) -> Option<&Ticket> {
        if token.is_empty() {
            return None;
        }
        self.tickets.values().find(|t| t.token == token)
    }

    /// Issue a ticket with its progress `token` (random, made by the
    /// caller: the core reads no entropy), the resident's identity hash and
    /// how a priority resident was identified.
    pub fn issue_with(
        &self,
        service: &str,
        lane: Lane,
        now: Timestamp,
        token: String,
        person: Option<String>,
        identified: Option<Identified>,
    ) -> Result<Event, QueueError> {
        let def = self
            .cfg
            .services
            .iter()
            .find(|s| s.code == service)
            .ok_or_else(|| QueueError::UnknownService(service.to_string()))?;
        let mut seq = self
            .counters
            .get(&(def.code.clone(), lane))
            .copied()
            .unwrap_or(0)
            + 1;
        let prefix = match lane {
            Lane::Priority => self.cfg.priority_prefix.as_str(),
            Lane::Appointment => APPOINTMENT_PREFIX,
            Lane::Normal => "",
        };
        // A number never repeats within a day, even if the configuration
        // changed letters in the middle of it.
        let mut number = format!("{prefix}{}{seq:03}", def.letter);
        while self.by_number.contains_key(&number) {
            seq += 1;
            number = format!("{prefix}{}{seq:03}", def.letter);
        }
        Ok(Event::Issued {
            ticket: Ticket {
                id: TicketId(self.next_id),
                day: self.day,
                number,
                service: def.code.clone(),
                origin_service: def.code.clone(),
                lane,
                seq,
                issued_at: now,
                state: TicketState::Waiting,
                window: None,
                target_window: None,
                called_at: None,
                first_called_at: None,
                started_at: None,
                closed_at: None,
                calls: 0,
                transfers: 0,
                token,
                person,
                identified,
                slot_at: None,
                booking: None,
            },
        })
    }

    /// Issue an appointment ticket (`YA003`) for a resident who booked
    /// (`code`) the slot starting at `slot`: it stands in the general line
    /// at that time.
    pub fn issue_booked(
        &self,
        service: &str,
        slot: Timestamp,
        code: &str,
        now: Timestamp,
        token: String,
        person: Option<String>,
    ) -> Result<Event, QueueError> {
        let mut ev = self.issue_with(service, Lane::Appointment, now, token, person, None)?;
        if let Event::Issued { ticket } = &mut ev {
            ticket.slot_at = Some(slot);
            ticket.booking = Some(code.to_string());
        }
        Ok(ev)
    }

    /// Call the next ticket to `window` under the call policy.
    pub fn call_next(&self, window: u32, now: Timestamp) -> Result<Event, QueueError> {
        self.window_can_call(window)?;
        let (id, reason) = self
            .next_for(window, now)
            .ok_or(QueueError::NothingWaiting(window))?;
        Ok(Event::Called {
            id,
            window,
            reason,
            at: now,
        })
    }

    /// Call a specific waiting number to `window`.
    pub fn call_number(
        &self,
        window: u32,
        number: &str,
        now: Timestamp,
    ) -> Result<Event, QueueError> {
        self.window_can_call(window)?;
        let t = self.find_number(number)?;
        if !t.state.is_waiting() {
            return Err(wrong_state(t, "呼叫"));
        }
        let serves = match t.target_window {
            Some(w) => w == window,
            None => self.window_serves(window, &t.service),
        };
        if !serves {
            return Err(QueueError::NotForThisWindow {
                number: t.number.clone(),
                window,
            });
        }
        Ok(Event::Called {
            id: t.id,
            window,
            reason: CallReason::Manual,
            at: now,
        })
    }

    /// Announce the window's current ticket again.
    pub fn recall(&self, window: u32, now: Timestamp) -> Result<Event, QueueError> {
        let t = self.current(window)?;
        if t.state != TicketState::Called {
            return Err(wrong_state(t, "重呼"));
        }
        Ok(Event::Recalled {
            id: t.id,
            window,
            at: now,
        })
    }

    /// The resident arrived at the window.
    pub fn start(&self, window: u32, now: Timestamp) -> Result<Event, QueueError> {
        let t = self.current(window)?;
        if t.state != TicketState::Called {
            return Err(wrong_state(t, "开始办理"));
        }
        Ok(Event::Started {
            id: t.id,
            window,
            at: now,
        })
    }

    /// Service finished.
    pub fn finish(&self, window: u32, now: Timestamp) -> Result<Event, QueueError> {
        let t = self.current(window)?;
        Ok(Event::Finished {
            id: t.id,
            window,
            at: now,
        })
    }

    /// The called resident did not come.
    pub fn no_show(&self, window: u32, now: Timestamp) -> Result<Event, QueueError> {
        let t = self.current(window)?;
        if t.state != TicketState::Called {
            return Err(wrong_state(t, "过号"));
        }
        Ok(Event::NoShow {
            id: t.id,
            window,
            at: now,
        })
    }

    /// Put a no-show ticket back at its original place, within the grace
    /// period.
    pub fn rejoin(&self, number: &str, now: Timestamp) -> Result<Event, QueueError> {
        let t = self.find_number(number)?;
        if t.state != TicketState::NoShow {
            return Err(wrong_state(t, "恢复排队"));
        }
        let since = t.closed_at.unwrap_or(t.issued_at);
        if now.since(since) > self.cfg.policy.rejoin_grace {
            return Err(QueueError::GraceExpired(t.number.clone()));
        }
        Ok(Event::Rejoined { id: t.id, at: now })
    }

    /// Send the window's current ticket to another service and/or window.
    /// It keeps its lane and its original issue time.
    pub fn transfer(
        &self,
        window: u32,
        to_service: Option<&str>,
        to_window: Option<u32>,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<Event, QueueError> {
        let t = self.current(window)?;
        if to_service.is_none() && to_window.is_none() || to_window == Some(window) {
            return Err(QueueError::BadTransfer);
        }
        let service = match to_service {
            Some(s) => {
                if !self.cfg.services.iter().any(|d| d.code == s) {
                    return Err(QueueError::UnknownService(s.to_string()));
                }
                s.to_string()
            }
            None => t.service.clone(),
        };
        if let Some(w) = to_window {
            if !self.windows.contains_key(&w) {
                return Err(QueueError::UnknownWindow(w));
            }
        }
        Ok(Event::Transferred {
            id: t.id,
            from_window: window,
            to_service: service,
            to_window,
            note: note.map(str::to_string),
            at: now,
        })
    }

    /// Move a waiting normal or appointment ticket to the priority lane (staff checked
    /// the resident against the roster by hand).
    pub fn upgrade(&self, number: &str, now: Timestamp) -> Result<Event, QueueError> {
        let t = self.find_number(number)?;
        if !t.state.is_waiting() || t.lane == Lane::Priority {
            return Err(wrong_state(t, "转为绿波通道"));
        }
        Ok(Event::Upgraded { id: t.id, at: now })
    }

    /// Withdraw an open ticket, for the reason staff give.
    pub fn cancel(
        &self,
        number: &str,
        reason: Option<String>,
        now: Timestamp,
    ) -> Result<Event, QueueError> {
        let t = self.find_number(number)?;
        if !t.state.is_open() {
            return Err(wrong_state(t, "取消"));
        }
        Ok(Event::Cancelled {
            id: t.id,
            reason,
            at: now,
        })
    }

    /// Stop calling at a window.
    pub fn pause(&self, window: u32, now: Timestamp) -> Result<Event, QueueError> {
        let w = self.window_state(window)?;
        if w.paused {
            return Err(QueueError::WindowPaused(window));
        }
        Ok(Event::Paused { window, at: now })
    }

    /// Call again at a paused window.
    pub fn resume(&self, window: u32, now: Timestamp) -> Result<Event, QueueError> {
        let w = self.window_state(window)?;
        if !w.paused {
            return Err(QueueError::WindowNotPaused(window));
        }
        Ok(Event::Resumed { window, at: now })
    }

    /// Start service day `to`: open tickets expire, numbering restarts.
    pub fn rollover(&self, to: NaiveDate, now: Timestamp) -> Result<Event, QueueError> {
        if to <= self.day {
            return Err(QueueError::DayNotAfter { from: self.day, to });
        }
        let mut expired: Vec<TicketId> = self
            .tickets
            .values()
            .filter(|t| t.state.is_open())
            .map(|t| t.id)
            .collect();
        expired.sort();
        Ok(Event::DayRolledOver {
            from: self.day,
            to,
            expired,
            at: now,
        })
    }

    // ----- applying --------------------------------------------------------

    /// Perform an event that a decision of this queue produced (or that the
    /// journal holds) and return the rows it changed. Events that do not fit
    /// the current state (a corrupt journal) change nothing.
    pub fn apply(&mut self, event: &Event) -> Changes {
        let mut changes = Changes::default();
        let c = &mut changes;
        match event {
            Event::Issued { ticket } => self.apply_issued(ticket, c),
            Event::Called { id, window, at, .. } => self.apply_called(*id, *window, *at, c),
            Event::Recalled { id, at, .. } => self.apply_recalled(*id, *at, c),
            Event::Started { id, at, .. } => self.apply_started(*id, *at, c),
            Event::Finished { id, window, at } => {
                self.apply_closed(*id, *window, TicketState::Done, *at, c)
            }
            Event::NoShow { id, window, at } => {
                self.apply_closed(*id, *window, TicketState::NoShow, *at, c)
            }
            Event::Rejoined { id, .. } => self.apply_rejoined(*id, c),
            Event::Transferred {
                id,
                from_window,
                to_service,
                to_window,
                ..
            } => self.apply_transferred(*id, *from_window, to_service, *to_window, c),
            Event::Upgraded { id, .. } => self.apply_upgraded(*id, c),
            Event::Cancelled { id, at, .. } => self.apply_cancelled(*id, *at, c),
            Event::Paused { window, .. } => self.apply_paused(*window, true, c),
            Event::Resumed { window, .. } => self.apply_paused(*window, false, c),
            Event::DayRolledOver {
                to, expired, at, ..
            } => self.apply_rollover(*to, expired, *at, c),
        }
        changes
    }

    fn apply_issued(&mut self, ticket: &Ticket, changes: &mut Changes) {
        self.next_id = self.next_id.max(ticket.id.0 + 1);
        self.insert(ticket.clone());
        changes.tickets.push(ticket.clone());
    }

    fn apply_called(&mut self, id: TicketId, window: u32, at: Timestamp, changes: &mut Changes) {
        let lane = self.update(id, changes, |t| {
            t.state = TicketState::Called;
            t.window = Some(window);
            t.target_window = None;
            t.called_at = Some(at);
            t.first_called_at.get_or_insert(at);
            t.calls += 1;
        });
        if let Some(lane) = lane {
            let w = self.windows.entry(window).or_default();
            w.current = Some(id);
            // Every priority call extends the streak; any call of the
            // general line (by rule or by hand) ends it.
            w.priority_streak = match lane {
                Lane::Priority => w.priority_streak + 1,
                Lane::Appointment | Lane::Normal => 0,
            };
            changes.windows.push((window, w.clone()));
        }
    }

    fn apply_recalled(&mut self, id: TicketId, at: Timestamp, changes: &mut Changes) {
        self.update(id, changes, |t| {
            t.called_at = Some(at);
            t.calls += 1;
        });
    }

    fn apply_started(&mut self, id: TicketId, at: Timestamp, changes: &mut Changes) {
        self.update(id, changes, |t| {
            t.state = TicketState::Serving;
            t.started_at = Some(at);
        });
    }

    /// Finished (`Done`) or no-show: the ticket closes, the window is free.
    fn apply_closed(
        &mut self,
        id: TicketId,
        window: u32,
        state: TicketState,
        at: Timestamp,
        changes: &mut Changes,
    ) {
        self.update(id, changes, |t| {
            t.state = state;
            t.closed_at = Some(at);
        });
        self.free_window(window, id, changes);
    }

    fn apply_rejoined(&mut self, id: TicketId, changes: &mut Changes) {
        self.update(id, changes, |t| {
            t.state = if t.transfers > 0 {
                TicketState::Transferred
            } else {
                TicketState::Waiting
            };
            t.closed_at = None;
        });
    }

    fn apply_transferred(
        &mut self,
        id: TicketId,
        from_window: u32,
        to_service: &str,
        to_window: Option<u32>,
        changes: &mut Changes,
    ) {
        self.update(id, changes, |t| {
            t.state = TicketState::Transferred;
            t.service = to_service.to_owned();
            t.target_window = to_window;
            t.transfers += 1;
        });
        self.free_window(from_window, id, changes);
    }

    fn apply_upgraded(&mut self, id: TicketId, changes: &mut Changes) {
        // Upgrades follow a manual check by staff (the kiosk's
        // `upgrade`), the third way of identification.
        self.update(id, changes, |t| {
            t.lane = Lane::Priority;
            t.identified = Some(Identified::Manual);
        });
    }

    /// A cancelled ticket that was at a window frees it.
    fn apply_cancelled(&mut self, id: TicketId, at: Timestamp, changes: &mut Changes) {
        let window = self.tickets.get(&id).and_then(|t| {
            if t.state.is_at_window() {
                t.window
            } else {
                None
            }
        });
        self.update(id, changes, |t| {
            t.state = TicketState::Cancelled;
            t.closed_at = Some(at);
        });
        if let Some(w) = window {
            self.free_window(w, id, changes);
        }
    }

    fn apply_paused(&mut self, window: u32, paused: bool, changes: &mut Changes) {
        let w = self.windows.entry(window).or_default();
        w.paused = paused;
        changes.windows.push((window, w.clone()));
    }

    /// The open tickets expire; the new day starts with no tickets, no
    /// numbers used and no window serving or on a streak.
    fn apply_rollover(
        &mut self,
        to: NaiveDate,
        expired: &[TicketId],
        at: Timestamp,
        changes: &mut Changes,
    ) {
        for id in expired {
            self.update(*id, changes, |t| {
                t.state = TicketState::Expired;
                t.closed_at = Some(at);
            });
        }
        self.day = to;
        self.tickets.clear();
        self.by_number.clear();
        self.waiting.clear();
        self.counters.clear();
        for (n, w) in self.windows.iter_mut() {
            w.current = None;
            w.priority_streak = 0;
            changes.windows.push((*n, w.clone()));
        }
        changes.day = Some(to);
    }

    // ----- internals -------------------------------------------------------

    fn insert(&mut self, t: Ticket) {
        let c = self
            .counters
            .entry((t.origin_service.clone(), t.lane))
            .or_insert(0);
        *c = (*c).max(t.seq);
        self.by_number.insert(t.number.clone(), t.id);
        self.index(&t);
        self.tickets.insert(t.id, t);
    }

    fn bucket(t: &Ticket) -> (Bucket, Lane) {
        match t.target_window {
            Some(w) => (Bucket::Window(w), t.lane),
            None => (Bucket::Service(t.service.clone()), t.lane),
        }
    }

    fn index(&mut self, t: &Ticket) {
        if t.state.is_waiting() {
            self.waiting
                .entry(Self::bucket(t))
                .or_default()
                .insert((t.place(), t.id));
        }
    }

    fn unindex(&mut self, t: &Ticket) {
        if let Some(set) = self.waiting.get_mut(&Self::bucket(t)) {
            set.remove(&(t.place(), t.id));
        }
    }

    /// Changes one ticket, keeping the waiting index right; returns its lane
    /// if the ticket exists.
    fn update(
        &mut self,
        id: TicketId,
        changes: &mut Changes,
        f: impl FnOnce(&mut Ticket),
    ) -> Option<Lane> {
        let mut t = self.tickets.remove(&id)?;
        self.unindex(&t);
        f(&mut t);
        self.index(&t);
        let lane = t.lane;
        changes.tickets.push(t.clone());
        self.tickets.insert(id, t);
        Some(lane)
    }

    fn free_window(&mut self, window: u32, id: TicketId, changes: &mut Changes) {
        if let Some(w) = self.windows.get_mut(&window) {
            if w.current == Some(id) {
                w.current = None;
                changes.windows.push((window, w.clone()));
            }
        }
    }

    fn window_state(&self, window: u32) -> Result<&WindowState, QueueError> {
        self.windows
            .get(&window)
            .ok_or(QueueError::UnknownWindow(window))
    }

    fn window_serves(&self, window: u32, service: &str) -> bool {
        self.cfg
            .windows
            .iter()
            .any(|w| w.number == window && w.services.iter().any(|s| s == service))
    }

    fn window_can_call(&self, window: u32) -> Result<(), QueueError> {
        let w = self.window_state(window)?;
        if w.paused {
            return Err(QueueError::WindowPaused(window));
        }
        if let Some(t) = w.current.and_then(|id| self.tickets.get(&id)) {
            if t.state.is_at_window() {
                return Err(QueueError::WindowBusy {
                    window,
                    number: t.number.clone(),
                });
            }
        }
        Ok(())
    }

    fn current(&self, window: u32) -> Result<&Ticket, QueueError> {
        let w = self.window_state(window)?;
        w.current
            .and_then(|id| self.tickets.get(&id))
            .filter(|t| t.state.is_at_window())
            .ok_or(QueueError::NoCurrentTicket(window))
    }

    fn find_number(&self, number: &str) -> Result<&Ticket, QueueError> {
        let n = number.trim().to_ascii_uppercase();
        self.ticket_by_number(&n)
            .ok_or(QueueError::UnknownNumber(n))
    }
}

fn wrong_state(t: &Ticket, action: &'static str) -> QueueError {
    QueueError::WrongState {
        number: t.number.clone(),
        state: t.state.label(),
        action,
    }
}
