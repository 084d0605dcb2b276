//! The daemon: opens the hall, serves the API, rolls the day over on time,
//! and shuts down cleanly when told to. The binary's `run` command and the
//! demo both start it through [`Daemon::start`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{self, AppState};
use crate::config::Config;
use crate::hall::{Clock, Hall};
use crate::kiosk::screen::{TicketShown, Update};
use crate::kiosk::{Kiosk, Outcome};
use crate::voice::Voice;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// How often the daemon checks whether the service day has ended.
const DAY_CHECK: Duration = Duration::from_secs(15);
/// How often the daemon scans the roster inbox.
const INBOX_SCAN: Duration = Duration::from_secs(2);
/// How soon the case follower retries after a failed or missed case.
const CASE_RETRY: Duration = Duration::from_secs(5);

/// A running daemon.
pub struct Daemon {
    /// Where the API listens.
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    ticker: JoinHandle<()>,
    inbox: Option<JoinHandle<()>>,
    kiosk: Option<KioskThreads>,
    cases: JoinHandle<()>,
    calls: JoinHandle<()>,
    exports: Option<JoinHandle<()>>,
    voice: Voice,
    kiosk_handle: Arc<Mutex<Kiosk>>,
    config: Config,
}

/// The card sources and the kiosk loop, each on a thread of its own.
struct KioskThreads {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// Where the kiosk's screen goes: each [`Update`] as it happens.
pub type KioskOut = Arc<dyn Fn(Update) + Send + Sync>;

/// What a process embedding the daemon may plug in instead of the
/// terminal: `greenwave run` with its kiosk screen, `greenwave demo`.
#[derive(Default)]
pub struct Options {
    /// The kiosk screen; default: `[自助机] ...` lines on stdout.
    pub kiosk_out: Option<KioskOut>,
    /// Keys for the kiosk instead of stdin lines (a digit, `0` for a
    /// ticket without an ID card).
    pub keys: Option<std::sync::mpsc::Receiver<String>>,
    /// Steers the simulated ID card reader (`kind = "simulated"`).
    pub sim_reader: Option<greenwave_drivers::idcard::sim::SimControl>,
}

/// The kiosk screen as lines on stdout.
pub fn kiosk_lines() -> KioskOut {
    Arc::new(|u: Update| {
        use std::io::Write;
        println!("[自助机] {}", u.line());
        std::io::stdout().flush().ok();
    })
}

impl Daemon {
    /// Opens the hall and starts serving. Returns once the listener is
    /// bound, so that `addr` is usable at once.
    pub async fn start(cfg: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Daemon> {
        Daemon::start_with(cfg, clock, Options::default()).await
    }

    /// [`Daemon::start`] with the kiosk's screen, keys or simulated reader
    /// plugged in.
    pub async fn start_with(
        cfg: Config,
        clock: Arc<dyn Clock>,
        options: Options,
    ) -> anyhow::Result<Daemon> {
        let listen = cfg.api.listen;
        let case_clock = clock.clone();
        let hall = {
            let cfg = cfg.clone();
            tokio::task::spawn_blocking(move || Hall::open(&cfg, clock)).await??
        };
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen} (api.listen)"))?;
        let addr = listener.local_addr()?;
        let cfg_for_inbox = cfg.clone();
        let hall_events = hall.subscribe();
        let call_events = hall.subscribe();
        let export_events = hall.subscribe();
        let voice = Voice::start(&cfg.voice).context("cannot start the voice worker")?;
        let state = AppState::new(hall, cfg);
        let printer = match &cfg_for_inbox.devices.printer {
            Some(pc) => Some(greenwave_drivers::printer::open_printer(pc)?),
            None => None,
        };
        let kiosk = Arc::new(Mutex::new(Kiosk::new(
            Arc::new(cfg_for_inbox.clone()),
            state.hall(),
            printer,
        )?));
        let state = state.with_kiosk(kiosk.clone());
        let (stop, mut stopped) = watch::channel(false);
        let cases = tokio::spawn(follow_cases(
            cfg_for_inbox.clone(),
            case_clock,
            hall_events,
            stop.subscribe(),
        ));
        let exports = cfg_for_inbox.daily_csv_dir.clone().map(|dir| {
            tokio::spawn(export_days(
                dir,
                cfg_for_inbox.database_path(),
                cfg_for_inbox
                    .hall_code
                    .clone()
                    .unwrap_or_else(|| cfg_for_inbox.hall_name.clone()),
                state.hall(),
                export_events,
                stop.subscribe(),
            ))
        });
        let calls = tokio::spawn(announce_calls(
            state.hall(),
            voice.clone(),
            call_events,
            stop.subscribe(),
        ));

        let hall = state.hall();
        let mut ticker_stop = stop.subscribe();
        let ticker = tokio::spawn(async move {
            let mut every = tokio::time::interval(DAY_CHECK);
            loop {
                tokio::select! {
                    _ = every.tick() => {}
                    _ = ticker_stop.changed() => return,
                }
                let h = hall.clone();
                let res = tokio::task::spawn_blocking(move || {
                    h.lock().unwrap_or_else(|p| p.into_inner()).tick()
                })
                .await;
                if let Ok(Err(e)) = res {
                    tracing::error!(error = %e, "day rollover failed; will retry");
                }
            }
        });
        let inbox = match (
            &cfg_for_inbox.roster,
            cfg_for_inbox.roster.as_ref().and_then(|r| r.inbox.clone()),
        ) {
            (Some(rc), Some(dir)) => Some(tokio::spawn(watch_inbox(
                dir,
                cfg_for_inbox.data_dir.clone(),
                cfg_for_inbox.database_path(),
                rc.clone(),
                stop.subscribe(),
            ))),
            _ => None,
        };
        let kiosk_handle = kiosk.clone();
        let kiosk = start_kiosk(&cfg_for_inbox, kiosk, voice.clone(), options)?;
        let server = tokio::spawn(api::serve(listener, state, async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
        tracing::info!(%addr, "staff API listening");
        Ok(Daemon {
            addr,
            stop,
            server,
            ticker,
            inbox,
            kiosk,
            cases,
            calls,
            exports,
            voice,
            kiosk_handle,
            config: cfg_for_inbox.clone(),
        })
    }

    /// SIGHUP: re-reads the configuration file. An invalid file changes
    /// nothing (the error is logged). A valid one takes effect where that is
    /// safe while running: the kiosk's settings (`[kiosk]`, `[priority]`),
    /// the roster check, the voice (`[voice]`). Changes to services, windows, tokens, the API, the
    /// day, the devices or the data directory are reported as needing a
    /// restart. Returns what was done, for the log and the console.
    pub fn reload(&mut self) -> Result<String, crate::config::ConfigError> {
        let new = Config::load(&self.config.source)?;
        let mut restart = Vec::new();
        let old = &self.config;
        if new.services != old.services {
            restart.push("services");
        }
        if new.windows != old.windows || new.helpers != old.helpers {
            restart.push("windows/helpers");
        }
        if new.api != old.api {
            restart.push("api");
        }
        if new.day != old.day
            || new.policy != old.policy
            || new.priority_prefix != old.priority_prefix
        {
            restart.push("day/call_policy/lanes");
        }
        if new.devices != old.devices {
            restart.push("devices");
        }
        if new.data_dir != old.data_dir || new.roster != old.roster {
            restart.push("data_dir/roster");
        }
        if new.daily_csv_dir != old.daily_csv_dir || new.hall_code != old.hall_code {
            restart.push("stats/hall.code");
        }
        let kiosk_changed = new.kiosk != old.kiosk || new.hall_name != old.hall_name;
        if kiosk_changed {
            let mut k = self.kiosk_handle.lock().unwrap_or_else(|p| p.into_inner());
            k.reload(&new);
        }
        let voice_changed = new.voice != old.voice;
        if voice_changed {
            self.voice.reload(&new.voice);
        }
        let updated: Vec<&str> = [(kiosk_changed, "自助机设置"), (voice_changed, "语音设置")]
            .into_iter()
            .filter_map(|(changed, what)| changed.then_some(what))
            .collect();
        let mut msg = if updated.is_empty() {
            "配置已重新加载：无可即时生效的变更".to_string()
        } else {
            format!("配置已重新加载：{}已更新", updated.join("、"))
        };
        if !restart.is_empty() {
            msg += &format!("；以下变更需重启后生效：{}", restart.join(", "));
        }
        self.config.kiosk = new.kiosk;
        self.config.hall_name = new.hall_name;
        self.config.voice = new.voice;
        Ok(msg)
    }

    /// Stops accepting requests, finishes those in flight, and returns when
    /// everything has stopped. Every commit is already durable.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        if let Some(k) = self.kiosk {
            k.stop.store(true, Ordering::SeqCst);
            tokio::task::spawn_blocking(move || {
                for t in k.threads {
                    let _ = t.join();
                }
            })
            .await
            .ok();
        }
        self.ticker.await.ok();
        self.cases.await.ok();
        self.calls.await.ok();
        if let Some(e) = self.exports {
            e.await.ok();
        }
        let voice = self.voice;
        tokio::task::spawn_blocking(move || voice.stop()).await.ok();
        if let Some(i) = self.inbox {
            i.await.ok();
        }
        self.server.await??;
        Ok(())
    }
}

/// Follows the hall's committed events and opens a case for every priority
/// ticket (issued in the priority lane, or upgraded to it), assigned by the
/// rule of `crate::cases`. Uses its own database connection on the
/// blocking pool. At start, after a broadcast lag, and after a failure it
/// reconciles: every priority ticket of the service day without a case
/// gets one.
async fn follow_cases(
    cfg: Config,
    clock: Arc<dyn Clock>,
    mut events: tokio::sync::broadcast::Receiver<crate::queue::Event>,
    mut stop: watch::Receiver<bool>,
) {
    use crate::queue::{Event, Lane};
    use tokio::sync::broadcast::error::RecvError;
    let helpers: Arc<Vec<String>> = Arc::new(cfg.helpers.iter().map(|h| h.id.clone()).collect());
    let db = Arc::new(cfg.database_path());
    let store: Arc<Mutex<Option<crate::store::Store>>> = Arc::new(Mutex::new(None));
    let mut reconcile = true;
    let mut retry = tokio::time::interval(CASE_RETRY);
    loop {
        if reconcile {
            let (store, db, helpers, at) =
                (store.clone(), db.clone(), helpers.clone(), clock.now());
            let res = tokio::task::spawn_blocking(move || {
                with_case_store(&store, &db, |s| s.open_missing_cases(at, &helpers))
            })
            .await;
            match res {
                Ok(Ok(opened)) => {
                    reconcile = false;
                    for (ticket, _, helper) in opened {
                        tracing::info!(%ticket, helper = helper.as_deref().unwrap_or("-"), "case opened (reconciled)");
                    }
                }
                Ok(Err(e)) => tracing::error!(error = %e, "cannot reconcile cases; will retry"),
                Err(e) => tracing::error!(error = %e, "case task failed; will retry"),
            }
        }
        let (ticket, at) = tokio::select! {
            _ = stop.changed() => return,
            _ = retry.tick() => continue,
            ev = events.recv() => match ev {
                Ok(Event::Issued { ticket }) if ticket.lane == Lane::Priority => (ticket.id, ticket.issued_at),
                Ok(Event::Upgraded { id, at }) => (id, at),
                Ok(_) => continue,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "case follower lagged; reconciling");
                    reconcile = true;
                    continue;
                }
                Err(RecvError::Closed) => return,
            },
        };
        let (store2, db2, helpers2) = (store.clone(), db.clone(), helpers.clone());
        let res = tokio::task::spawn_blocking(move || {
            with_case_store(&store2, &db2, |s| s.open_case(ticket, at, &helpers2))
        })
        .await;
        match res {
            Ok(Ok(Some((_, helper)))) => {
                tracing::info!(%ticket, helper = helper.as_deref().unwrap_or("-"), "case opened")
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, %ticket, "cannot open case; will retry");
                reconcile = true;
            }
            Err(e) => {
                tracing::error!(error = %e, "case task failed; will retry");
                reconcile = true;
            }
        }
    }
}

/// Follows the hall's committed events and announces every call and
/// recall (a recall repeats the call's words). The ticket's number and lane
/// are read from the queue; nothing else about the resident is used.
/// Events missed after a lag are not announced late: the display shows them.
/// The daily statistics export: at start (days missed while the daemon
/// was down) and after each rollover, the finished days' files, each read
/// on a connection of its own off the hall's mutex.
async fn export_days(
    dir: std::path::PathBuf,
    db: std::path::PathBuf,
    hall_label: String,
    hall: Arc<Mutex<crate::hall::Hall>>,
    mut events: tokio::sync::broadcast::Receiver<crate::queue::Event>,
    mut stop: watch::Receiver<bool>,
) {
    use crate::queue::Event;
    use tokio::sync::broadcast::error::RecvError;
    let mut today = {
        let h = hall.clone();
        tokio::task::spawn_blocking(move || {
            h.lock().unwrap_or_else(|p| p.into_inner()).queue().day()
        })
        .await
        .ok()
    };
    loop {
        if let Some(day) = today.take() {
            let (dir, db, label) = (dir.clone(), db.clone(), hall_label.clone());
            let res = tokio::task::spawn_blocking(move || {
                let store = crate::store::Store::open(&db)?;
                crate::export::export_missing(&store, &dir, &label, day, 31)
            })
            .await;
            match res {
                Ok(Ok(days)) if !days.is_empty() => {
                    tracing::info!(days = days.len(), "daily statistics exported")
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "daily statistics not exported; will retry at the next rollover")
                }
                Err(e) => tracing::error!(error = %e, "daily statistics export panicked"),
            }
        }
        tokio::select! {
            _ = stop.changed() => return,
            ev = events.recv() => match ev {
                Ok(Event::DayRolledOver { to, .. }) => today = Some(to),
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

async fn announce_calls(
    hall: Arc<Mutex<crate::hall::Hall>>,
    voice: Voice,
    mut events: tokio::sync::broadcast::Receiver<crate::queue::Event>,
    mut stop: watch::Receiver<bool>,
) {
    use crate::queue::Event;
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let (id, window) = tokio::select! {
            _ = stop.changed() => return,
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
            let h = h.lock().unwrap_or_else(|p| p.into_inner());
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

/// Runs `f` on the case follower's connection, opening it if needed; a
/// failure drops the connection so that the next call starts afresh.
fn with_case_store<T>(
    slot: &Mutex<Option<crate::store::Store>>,
    db: &std::path::Path,
    f: impl FnOnce(&crate::store::Store) -> Result<T, crate::store::StoreError>,
) -> Result<T, crate::store::StoreError> {
    let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
    if guard.is_none() {
        *guard = Some(crate::store::Store::open(db)?);
    }
    let res = f(guard.as_ref().expect("opened above"));
    if res.is_err() {
        *guard = None;
    }
    res
}

/// Scans the roster inbox until stopped. Uses its own database connection,
/// so a long import never holds up ticket operations.
async fn watch_inbox(
    dir: std::path::PathBuf,
    data_dir: std::path::PathBuf,
    db: std::path::PathBuf,
    cfg: crate::roster::install::RosterConfig,
    mut stop: watch::Receiver<bool>,
) {
    use crate::roster::inbox::{Inbox, InboxEvent};
    let inbox = std::sync::Arc::new(std::sync::Mutex::new(Inbox::new()));
    let mut every = tokio::time::interval(INBOX_SCAN);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => return,
        }
        let (inbox, scan_dir, data_dir, db, cfg) = (
            inbox.clone(),
            dir.clone(),
            data_dir.clone(),
            db.clone(),
            cfg.clone(),
        );
        let res = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<InboxEvent>> {
            let mut store = crate::store::Store::open(&db)?;
            let mut inbox = inbox.lock().unwrap_or_else(|p| p.into_inner());
            Ok(inbox.scan(&scan_dir, &mut store, &data_dir, &cfg)?)
        })
        .await;
        match res {
            Ok(Ok(events)) => {
                for e in events {
                    match e {
                        InboxEvent::Installed { file, outcome } => {
                            tracing::info!(%file, version = outcome.state.version, rows = outcome.state.rows, "roster from inbox installed")
                        }
                        InboxEvent::Refused { file, reason } => {
                            tracing::warn!(%file, %reason, "roster from inbox refused")
                        }
                    }
                }
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, dir = %dir.display(), "roster inbox scan failed")
            }
            Err(e) => tracing::error!(error = %e, "roster inbox task failed"),
        }
    }
}

/// Starts the card sources and the kiosk loop when the configuration has a
/// card reader. The loop serves one resident at a time; the hall's mutex is
/// never held while a device is busy.
fn start_kiosk(
    cfg: &Config,
    kiosk: Arc<Mutex<Kiosk>>,
    voice: Voice,
    options: Options,
) -> anyhow::Result<Option<KioskThreads>> {
    let out = options.kiosk_out.unwrap_or_else(kiosk_lines);
    use crate::config::IdReaderSetting;
    use greenwave_drivers::card::{
        open_card_source, spawn_card_source, CardEvent, CardSourceConfig,
    };

    let mut sources = Vec::new();
    match &cfg.devices.id_reader {
        Some(IdReaderSetting::Ga467(c)) => sources.push(CardSourceConfig::IdReader(c.clone())),
        Some(IdReaderSetting::Simulated { poll_interval }) => {
            sources.push(CardSourceConfig::SimulatedIdReader {
                control: options.sim_reader.clone().unwrap_or_default(),
                poll_interval: *poll_interval,
            })
        }
        None => {}
    }
    if let Some(p) = &cfg.devices.pcsc {
        sources.push(CardSourceConfig::Pcsc(p.clone()));
    }
    if sources.is_empty() && cfg.devices.printer.is_none() {
        return Ok(None);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel::<Input>();
    let mut threads = Vec::new();
    for s in &sources {
        let tx = tx.clone();
        threads.push(spawn_card_source(
            open_card_source(s),
            Box::new(move |ev: CardEvent| tx.send(Input::Card(ev)).is_ok()),
            stop.clone(),
        )?);
    }
    // The keypad: the kiosk's terminal (a keypad that types digits and
    // Enter). Not joined on shutdown: a read of stdin cannot be interrupted,
    // and the thread ends with the process.
    let keys = tx.clone();
    match options.keys {
        Some(from) => std::thread::Builder::new()
            .name("keypad".into())
            .spawn(move || {
                for k in from {
                    if keys.send(Input::Key(k)).is_err() {
                        return;
                    }
                }
            })?,
        None => std::thread::Builder::new()
            .name("keypad".into())
            .spawn(move || {
                use std::io::BufRead;
                for line in std::io::stdin().lock().lines() {
                    let Ok(line) = line else { return };
                    if keys.send(Input::Key(line)).is_err() {
                        return;
                    }
                }
            })?,
    };
    drop(tx);
    let loop_stop = stop.clone();
    threads.push(
        std::thread::Builder::new()
            .name("kiosk".into())
            .spawn(move || loop {
                match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(Input::Card(ev)) => kiosk_event(
                        &mut kiosk.lock().unwrap_or_else(|p| p.into_inner()),
                        ev,
                        &voice,
                        &out,
                    ),
                    Ok(Input::Key(k)) => {
                        let mut k_ = kiosk.lock().unwrap_or_else(|p| p.into_inner());
                        if let Some(outcome) = k_.key(&k) {
                            show(&k_, outcome, &voice, &out);
                        }
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        if loop_stop.load(Ordering::SeqCst) {
                            return;
                        }
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                }
            })?,
    );
    tracing::info!(sources = sources.len(), "kiosk started");
    Ok(Some(KioskThreads { stop, threads }))
}

/// One card event at the kiosk: what the kiosk screen says goes to `out`
/// (and, with `[voice] kiosk_prompts`, the prompts to the speaker).
fn kiosk_event(
    kiosk: &mut Kiosk,
    ev: greenwave_drivers::card::CardEvent,
    voice: &Voice,
    out: &KioskOut,
) {
    use greenwave_drivers::card::CardEvent;
    kiosk.note_device(&ev);
    match &ev {
        CardEvent::DeviceError { device, message } => {
            tracing::warn!(%device, %message, "card device problem");
            out(Update::ReaderDown(message.clone()));
            return;
        }
        CardEvent::Reconnected { device } => {
            tracing::info!(%device, "card device back");
            out(Update::ReaderUp);
            voice.prompt(crate::voice::PROMPT_SWIPE);
            return;
        }
        CardEvent::ReadFailed { message, .. } => {
            out(Update::Message(message.clone()));
            return;
        }
        CardEvent::Removed { .. } => return,
        CardEvent::IdCard(_) | CardEvent::PriorityCard { .. } => {}
    }
    let Some(who) = kiosk.identity_of(&ev) else {
        return;
    };
    let outcome = kiosk.serve(who, None);
    show(kiosk, outcome, voice, out);
}

/// What the kiosk screen says (and speaks) after serving a resident.
fn show(
    kiosk: &Kiosk,
    outcome: Result<Outcome, crate::kiosk::KioskError>,
    voice: &Voice,
    out: &KioskOut,
) {
    if let Ok(o) = &outcome {
        voice.prompt(&crate::voice::kiosk_prompt(o));
    }
    match outcome {
        Ok(Outcome::Ticket {
            ticket,
            reprint,
            ahead,
            print_error,
            screen,
            ..
        }) => out(Update::Ticket {
            ticket: TicketShown {
                number: ticket.number.clone(),
                lane: ticket.lane,
                ahead,
                reprint,
                print_problem: print_error
                    .as_deref()
                    .map(|e| crate::kiosk::screen::printer_words(e).to_string()),
            },
            sentence: screen,
        }),
        Ok(Outcome::ChooseService) => out(Update::Choose(kiosk.service_key_list())),
        Ok(Outcome::Refused(s)) => out(Update::Message(s)),
        Err(e) => {
            tracing::error!(error = %e, "kiosk could not issue a ticket");
            out(Update::Message("暂时无法取号，请联系工作人员".into()));
            voice.prompt("暂时无法取号，请联系工作人员");
        }
    }
}

/// What reaches the kiosk loop.
enum Input {
    /// A card source's event.
    Card(greenwave_drivers::card::CardEvent),
    /// A line from the keypad.
    Key(String),
}
