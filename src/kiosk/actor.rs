//! The kiosk thread: it alone owns the printer, the screen and the
//! resident in front of the machine.
//!
//! Everything reaches it as an [`Input`] on one channel: card events from
//! the card sources' threads, keys from the keypad, and the staff's
//! reprints from the API with a oneshot reply ([`KioskHandle`]). Nothing
//! else ever waits on the printer: the API's other kiosk routes go to the
//! hall's desk ([`super::HallDesk`]) directly, a reload reaches the kiosk
//! through a `watch` channel, and a printer that hangs for seconds delays
//! only the residents at this kiosk.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use greenwave_drivers::card::CardEvent;
use greenwave_drivers::idcard::DocumentId;
use greenwave_drivers::printer::TicketPrinter;
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::desk::{Applicant, DeskAnswer, IssuedTicket, TicketDesk};
use super::outcome::{Outcome, PrintProblem};
use super::settings::KioskSettings;
use super::words::{self, PROMPT_SWIPE};
use super::{age_on, DeviceStates, Identity, KioskError, KioskOut};
use crate::config::Config;
use crate::hall::Clock;
use crate::queue::Ticket;
use crate::roster::HashKey;
use crate::voice::Voice;

/// How often the kiosk thread looks at its cancellation token while idle.
const IDLE_CHECK: Duration = Duration::from_millis(200);

/// What reaches the kiosk thread.
pub enum Input {
    /// A card source's event.
    Card(CardEvent),
    /// A line from the keypad (a digit; `0` for a ticket without ID card).
    Key(String),
    /// A kiosk machine's link to its hall server: whether the server
    /// answers (the kiosk pauses and resumes by itself).
    Link(bool),
    /// A kiosk machine's print job: a ticket its hall server sent (a
    /// staff member asked for it here); the reply says why it did not
    /// print, if it did not.
    Print {
        /// The ticket.
        ticket: Box<IssuedTicket>,
        /// Where the result goes.
        reply: oneshot::Sender<Option<PrintProblem>>,
    },
    /// Staff: print a ticket again.
    Reprint {
        /// The ticket's number.
        number: String,
        /// Where the result goes.
        reply: oneshot::Sender<Result<Reprinted, KioskError>>,
    },
}

/// A staff reprint's result.
#[derive(Debug, Clone)]
pub struct Reprinted {
    /// The ticket.
    pub ticket: Ticket,
    /// Why it did not print, if it did not.
    pub problem: Option<PrintProblem>,
}

/// How the rest of the daemon reaches the kiosk thread. Cheap to clone.
#[derive(Clone)]
pub struct KioskHandle {
    tx: Sender<Input>,
    devices: DeviceStates,
}

impl KioskHandle {
    /// Where card sources and the keypad send their inputs.
    pub fn sender(&self) -> Sender<Input> {
        self.tx.clone()
    }

    /// The kiosk's devices, as last seen (for the metrics).
    pub fn devices(&self) -> &DeviceStates {
        &self.devices
    }

    /// Prints ticket `number` again at this kiosk; waits for the printer
    /// (the caller is the staff member who asked for it).
    pub async fn reprint(&self, number: String) -> Result<Reprinted, KioskError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Input::Reprint { number, reply })
            .map_err(|_| KioskError::NotRunning)?;
        answer.await.map_err(|_| KioskError::NotRunning)?
    }
}

/// What the kiosk is made of.
pub struct KioskParts {
    /// Where tickets come from.
    pub desk: Arc<dyn TicketDesk>,
    /// The key identities are hashed with.
    pub key: HashKey,
    /// The ticket printer, if one is configured.
    pub printer: Option<Box<dyn TicketPrinter>>,
    /// Where the screen's updates go.
    pub out: KioskOut,
    /// The hall's voice (the kiosk's prompts).
    pub voice: Voice,
    /// What the kiosk knows of its hall (reloads arrive here).
    pub settings: watch::Receiver<Arc<KioskSettings>>,
    /// The devices' states, shared with the metrics.
    pub devices: DeviceStates,
    /// The hall's clock (ages are counted on the service day).
    pub clock: Arc<dyn Clock>,
}

/// The kiosk's state, owned by the kiosk thread.
pub struct Kiosk {
    parts: KioskParts,
    /// A resident waiting for a service choice (several services, no
    /// default): the next service key completes it.
    pending: Option<Identity>,
    /// The printer's problem, as last seen (a print or an idle check).
    printer_down: Option<PrintProblem>,
    /// When the printer was last asked while idle.
    printer_checked: Option<std::time::Instant>,
    /// A request the desk did not answer (the hall server did not), with
    /// its idempotency key: asked again for the same applicant and
    /// service, the kiosk sends the same key, so that a ticket committed
    /// before the answer was lost comes back instead of a second one.
    unanswered: Option<Unanswered>,
    /// The hall server does not answer: the screen is paused.
    paused: bool,
}

/// A request that got no answer.
#[derive(Debug, Clone)]
struct Unanswered {
    applicant: Applicant,
    service: String,
    request: String,
}

/// A fresh idempotency key for one swipe: 16 hex digits.
fn new_request() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        b = n.to_le_bytes();
    }
    hex::encode(b)
}

/// How often an idle kiosk asks a printer that is down how it is.
const PRINTER_CHECK_DOWN: Duration = Duration::from_secs(1);
/// How often an idle kiosk asks a printer that works.
const PRINTER_CHECK_UP: Duration = Duration::from_secs(30);

impl std::fmt::Debug for Kiosk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kiosk")
            .field("pending", &self.pending.is_some())
            .finish()
    }
}

impl Kiosk {
    /// A kiosk of these parts.
    pub fn new(parts: KioskParts) -> Kiosk {
        Kiosk {
            parts,
            pending: None,
            printer_down: None,
            printer_checked: None,
            unanswered: None,
            paused: false,
        }
    }

    /// A kiosk over `hall` in this process, with its desk: for tests and
    /// benches that drive the kiosk without a daemon. It speaks only
    /// through an explicit `[voice] command` (never the sound card's
    /// default voice).
    pub fn in_process(
        cfg: &Config,
        hall: Arc<std::sync::Mutex<crate::hall::Hall>>,
        printer: Option<Box<dyn TicketPrinter>>,
        out: KioskOut,
    ) -> Result<(Kiosk, Arc<super::HallDesk>), KioskError> {
        let key = super::identity_key(cfg)?;
        let (tx, desk_settings) = watch::channel(Arc::new(cfg.clone()));
        let (ktx, settings) = watch::channel(Arc::new(KioskSettings::of(cfg)));
        // The settings stay as given: the senders may go.
        drop((tx, ktx));
        let clock = crate::sync::lock(&hall).clock();
        let desk = Arc::new(super::HallDesk::new(hall, key.clone(), desk_settings));
        let voice_cfg = match &cfg.voice.command {
            Some(_) => cfg.voice.clone(),
            None => crate::config::VoiceConfig {
                enabled: false,
                ..Default::default()
            },
        };
        let voice = Voice::start(&voice_cfg).map_err(|e| {
            KioskError::Hall(crate::hall::HallError::DataDir {
                path: cfg.data_dir.clone(),
                message: format!("voice worker: {e}"),
            })
        })?;
        let kiosk = Kiosk::new(KioskParts {
            desk: desk.clone(),
            key,
            printer,
            out,
            voice,
            settings,
            devices: DeviceStates::of(cfg),
            clock,
        });
        Ok((kiosk, desk))
    }

    fn settings(&self) -> Arc<KioskSettings> {
        self.parts.settings.borrow().clone()
    }

    /// One input: a card, a key or a staff reprint.
    pub fn handle(&mut self, input: Input) {
        match input {
            Input::Card(ev) => {
                if let Some(outcome) = self.card(ev) {
                    self.show(&outcome);
                }
            }
            Input::Key(k) => {
                if let Some(outcome) = self.key(&k) {
                    self.show(&outcome);
                }
            }
            Input::Link(up) => self.link(up),
            Input::Print { ticket, reply } => {
                let cfg = self.settings();
                let problem = self.print(&cfg, &ticket).err();
                if self.parts.printer.is_some() {
                    self.printer_state(problem);
                }
                let _ = reply.send(problem);
            }
            Input::Reprint { number, reply } => {
                let _ = reply.send(self.reprint(&number));
            }
        }
    }

    /// The hall server answers (`up`) or not: the screen pauses or
    /// resumes, once per change.
    fn link(&mut self, up: bool) {
        if up != self.paused {
            return;
        }
        self.paused = !up;
        if up {
            tracing::info!("hall server answers again; issuing tickets");
            (self.parts.out)(super::screen::Update::Resumed);
        } else {
            tracing::warn!("hall server does not answer; tickets paused");
            (self.parts.out)(super::screen::Update::Paused);
        }
    }

    /// Tells the screen when what the kiosk knows of its hall changed (a
    /// kiosk machine's settings come from its hall server).
    pub fn follow_settings(&mut self) {
        if !self.parts.settings.has_changed().unwrap_or(false) {
            return;
        }
        let cfg = self.parts.settings.borrow_and_update().clone();
        (self.parts.out)(super::screen::Update::Hall {
            name: cfg.hall_name.clone(),
            keys: super::screen::offered_keys(cfg.service_keys()),
        });
    }

    /// A card event: device news goes to the screen at once; a resident is
    /// served. `None` when there is nothing more to show.
    pub fn card(&mut self, ev: CardEvent) -> Option<Outcome> {
        let devices = &self.parts.devices;
        match ev {
            CardEvent::DeviceError { device, fault } => {
                tracing::warn!(%device, %fault, "card device problem");
                devices.set(device_kind(&device), false);
                (self.parts.out)(words::reader_down(&fault));
                None
            }
            CardEvent::Reconnected { device } => {
                tracing::info!(%device, "card device back");
                devices.set(device_kind(&device), true);
                (self.parts.out)(super::screen::Update::ReaderUp);
                self.parts.voice.prompt(PROMPT_SWIPE);
                None
            }
            CardEvent::ReadFailed { device, reason } => {
                devices.set(device_kind(&device), true);
                Some(Outcome::ReadFailed(reason))
            }
            CardEvent::Removed { device } => {
                devices.set(device_kind(&device), true);
                None
            }
            CardEvent::IdCard(read) => {
                devices.set("id_reader", true);
                let who = match &read.id_number {
                    DocumentId::Gb11643(id) => Identity::IdCard {
                        id: id.clone(),
                        birth: read.birth_date,
                    },
                    DocumentId::Foreign(n) => Identity::ForeignCard {
                        hash: self.parts.key.hash_document(n.expose()),
                        birth: read.birth_date,
                    },
                };
                Some(self.serve(who, None))
            }
            CardEvent::PriorityCard { uid } => {
                devices.set("pcsc", true);
                Some(self.serve(Identity::PriorityCard { uid }, None))
            }
        }
    }

    /// A keypad key: `0` takes a ticket without an ID card; `1`–`9`
    /// choose a service (for the resident waiting for a choice, or without
    /// a card). Other keys do nothing (`None`).
    pub fn key(&mut self, key: &str) -> Option<Outcome> {
        match key.trim() {
            "0" => Some(self.serve(Identity::NoCard, None)),
            k if k.len() == 1 && ('1'..='9').contains(&k.chars().next().unwrap_or('x')) => {
                let i = usize::from(k.as_bytes()[0] - b'1');
                let service = self.settings().services.get(i)?.code.clone();
                let who = self.pending.take().unwrap_or(Identity::NoCard);
                Some(self.serve(who, Some(&service)))
            }
            _ => None,
        }
    }

    /// Serves one resident: asks the desk for their ticket, prints it.
    pub fn serve(&mut self, who: Identity, service: Option<&str>) -> Outcome {
        // While the hall server does not answer, the resident is told at
        // once, not asked to choose a service first (a kiosk started
        // before its server knows no services yet); the link resumes.
        if self.paused {
            self.pending = None;
            return Outcome::Paused;
        }
        let cfg = self.settings();
        let Some(service) = service
            .map(str::to_string)
            .or_else(|| cfg.default_service())
        else {
            self.pending = Some(who);
            return Outcome::ChooseService;
        };
        self.pending = None;
        let today = crate::queue::service_day(self.parts.clock.now(), &cfg.day());
        let applicant = match who {
            Identity::IdCard { id, birth } => Applicant::IdCard {
                person: self.parts.key.hash(&id),
                age: age_on(birth, today),
            },
            Identity::ForeignCard { hash, birth } => Applicant::ForeignCard {
                person: hash,
                age: age_on(birth, today),
            },
            Identity::PriorityCard { uid } => Applicant::PriorityCard {
                uid: hex::encode_upper(uid),
            },
            Identity::NoCard => Applicant::NoCard,
        };
        let issued = match self.ask(applicant, service.clone()) {
            Ok(DeskAnswer::Ticket(t)) => t,
            Ok(DeskAnswer::CardNotBound) => return Outcome::CardNotBound,
            Ok(DeskAnswer::NotNow(refusal)) => {
                let today = chrono::DateTime::from_timestamp_millis(self.parts.clock.now().0)
                    .map_or(today, |t| t.with_timezone(&cfg.day().timezone).date_naive());
                return Outcome::NotNow {
                    service: service.clone(),
                    refusal,
                    today,
                };
            }
            Err(e @ KioskError::Unreachable { .. }) => {
                tracing::warn!(error = %e, "no ticket: the hall server did not answer");
                self.link(false);
                return Outcome::Paused;
            }
            Err(e) => {
                tracing::error!(error = %e, "kiosk could not issue a ticket");
                return Outcome::Unavailable;
            }
        };
        let (number, reprint) = (&issued.ticket.number, issued.reprint);
        tracing::info!(%number, lane = issued.ticket.lane.as_str(), reprint, "kiosk ticket");
        // The number is said at once, while the ticket prints.
        self.parts
            .voice
            .prompt(&words::number_prompt(number, reprint));
        let print = self.print(&cfg, &issued);
        let IssuedTicket {
            ticket,
            reprint,
            ahead,
            reason,
            ..
        } = *issued;
        if self.parts.printer.is_some() {
            // The screen hears of it with the ticket; the idle checks
            // follow from here.
            self.printer_down = print.err();
        }
        Outcome::Ticket {
            ticket: Box::new(ticket),
            reprint,
            ahead,
            reason,
            print,
        }
    }

    /// Asks the desk, with the key of the request left unanswered when it
    /// was the same applicant's for the same service, else a fresh one.
    fn ask(&mut self, applicant: Applicant, service: String) -> Result<DeskAnswer, KioskError> {
        let request = match self.unanswered.take() {
            Some(u) if u.applicant == applicant && u.service == service => u.request,
            _ => new_request(),
        };
        let answer = self.parts.desk.ticket_for(&applicant, &service, &request);
        if let Err(KioskError::Unreachable { .. }) = answer {
            self.unanswered = Some(Unanswered {
                applicant,
                service,
                request,
            });
        } else if self.paused {
            self.link(true);
        }
        answer
    }

    /// Prints a ticket and records the attempt.
    fn print(&mut self, cfg: &KioskSettings, issued: &IssuedTicket) -> Result<(), PrintProblem> {
        let t = &issued.ticket;
        let layout = super::ticket::layout(cfg, issued);
        let result = match self.parts.printer.as_mut() {
            Some(p) => {
                let r = p.print(&layout);
                if let Err(e) = &r {
                    tracing::warn!(number = %t.number, error = %e, "ticket not printed; on the reprint list");
                }
                r.map_err(|e| PrintProblem::of(&e))
            }
            None => Err(PrintProblem::NotConfigured),
        };
        if self.parts.printer.is_some() {
            self.parts.devices.set("printer", result.is_ok());
            self.printer_checked = Some(std::time::Instant::now());
        }
        let problem = result.err().map(PrintProblem::as_str);
        if let Err(e) = self.parts.desk.record_print(t.id, problem) {
            tracing::error!(error = %e, "cannot record a print attempt");
        }
        result
    }

    /// Staff: prints a ticket again.
    fn reprint(&mut self, number: &str) -> Result<Reprinted, KioskError> {
        let t = self.parts.desk.ticket(number)?;
        let cfg = self.settings();
        let problem = self.print(&cfg, &t).err();
        if self.parts.printer.is_some() {
            self.printer_state(problem);
        }
        Ok(Reprinted {
            ticket: t.ticket,
            problem,
        })
    }

    /// What the screen shows and the voice says after serving a resident.
    fn show(&self, outcome: &Outcome) {
        let cfg = self.settings();
        let keys = cfg.service_keys();
        let service = match outcome {
            Outcome::Ticket { ticket, .. } => cfg
                .service(&ticket.service)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            Outcome::NotNow { service, .. } => cfg
                .service(service)
                .map_or_else(|| service.clone(), |s| s.name.clone()),
            _ => String::new(),
        };
        let p = words::present(outcome, &keys, &service);
        self.parts.voice.prompt(&p.spoken);
        (self.parts.out)(p.update);
    }

    /// While nobody is at the kiosk: asks the printer how it is, every
    /// second while it is known to be down (so that a refilled printer's
    /// warning clears within two seconds), every half minute otherwise (so
    /// that paper running out shows before the next resident).
    pub fn idle(&mut self) {
        let down = self.printer_down.is_some();
        let every = if down {
            PRINTER_CHECK_DOWN
        } else {
            PRINTER_CHECK_UP
        };
        if self.printer_checked.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.printer_checked = Some(std::time::Instant::now());
        let Some(p) = self.parts.printer.as_mut() else {
            return;
        };
        let now = match p.status() {
            Ok(st) if st.state().can_print() => None,
            Ok(st) => Some(PrintProblem::of(
                &greenwave_drivers::printer::PrinterError::NotReady { state: st.state() },
            )),
            Err(greenwave_drivers::printer::PrinterError::StatusUnavailable) => return,
            Err(e) => Some(PrintProblem::of(&e)),
        };
        self.printer_state(now);
    }

    /// Notes what the printer said; tells the screen when that changed.
    fn printer_state(&mut self, now: Option<PrintProblem>) {
        if now == self.printer_down {
            return;
        }
        self.parts.devices.set("printer", now.is_none());
        let update = match now {
            None => super::screen::Update::PrinterUp,
            Some(p) => super::screen::Update::PrinterDown(words::print_problem(p).to_string()),
        };
        tracing::info!(problem = ?now, "printer state changed");
        self.printer_down = now;
        (self.parts.out)(update);
    }
}

/// Which device a card source's name stands for.
fn device_kind(device: &str) -> &'static str {
    if device.starts_with("pcsc") {
        "pcsc"
    } else {
        "id_reader"
    }
}

/// The kiosk thread's loop: serves inputs one at a time until `cancel` is
/// cancelled or every sender is gone.
pub fn run(mut kiosk: Kiosk, rx: Receiver<Input>, cancel: CancellationToken) {
    loop {
        kiosk.follow_settings();
        match rx.recv_timeout(IDLE_CHECK) {
            Ok(input) => kiosk.handle(input),
            Err(RecvTimeoutError::Timeout) => kiosk.idle(),
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if cancel.is_cancelled() {
            return;
        }
    }
}

/// A kiosk's channel: the handle for the rest of the daemon and the
/// receiver for [`run`].
pub fn channel(devices: DeviceStates) -> (KioskHandle, Receiver<Input>) {
    let (tx, rx) = std::sync::mpsc::channel();
    (KioskHandle { tx, devices }, rx)
}
