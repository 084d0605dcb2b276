//! The daemon: opens the hall, serves the API, and runs the hall's workers
//! under one [`supervisor::Supervisor`] until told to stop. The binary's
//! `run` command and the demo both start it through [`Daemon::start`].
//!
//! The workers, each in a module of its own with a `run(deps, cancel)`:
//! the case follower ([`cases`]), the statistics exporter ([`exporter`]),
//! the call announcer ([`announcer`]), the roster inbox ([`inbox`]) and
//! source ([`roster_source`]), the city push ([`city`]), the rollover
//! ticker ([`rollover`]), the kiosk ([`kiosk`]: card sources,
//! keypad, the kiosk thread), the voice and the API server.

pub mod announcer;
pub mod cases;
pub mod city;
pub mod exporter;
pub mod inbox;
pub mod kiosk;
mod machine;
pub mod rollover;
pub mod roster_source;
pub mod supervisor;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::AppState;
use crate::config::Config;
use crate::hall::{Clock, Hall};
use crate::kiosk::{HallDesk, KioskOut};
use crate::voice::Voice;
use supervisor::Supervisor;

/// Blocking threads at most: hall operations queue behind one lock, so
/// more threads waiting on it only cost memory (a burst of a thousand
/// requests once grew two hundred threads).
pub const MAX_BLOCKING_THREADS: usize = 16;

/// The daemon's runtime: two workers are plenty for a hall, and the
/// blocking pool is bounded. On glibc, two malloc arenas instead of one
/// per thread, so that memory freed after a burst goes back to the system.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt sets an allocator parameter; no pointer is passed.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .enable_all()
        .build()
}

/// A running daemon.
pub struct Daemon {
    /// Where the API listens.
    pub addr: SocketAddr,
    supervisor: Supervisor,
    /// The configuration in force, for the desk.
    settings: watch::Sender<Arc<Config>>,
    /// What the kiosk knows of its hall (on a kiosk machine, the link
    /// updates it from the server).
    kiosk_settings: Arc<watch::Sender<Arc<crate::kiosk::KioskSettings>>>,
    voice: Voice,
    config: Config,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("addr", &self.addr)
            .field("supervisor", &self.supervisor)
            .finish()
    }
}

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
    /// Open a database that is behind its high-water record anyway
    /// (`greenwave run --accept-loss`).
    pub accept_loss: bool,
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
        if cfg.server.is_some() {
            return machine::start(cfg, clock, options).await;
        }
        let hall = {
            let (cfg, clock) = (cfg.clone(), clock.clone());
            let guarding = crate::hwm::Guarding {
                accept_loss: options.accept_loss,
                ..Default::default()
            };
            tokio::task::spawn_blocking(move || Hall::open_with(&cfg, clock, guarding)).await??
        };
        let listen = cfg.api.listen;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| listen_error(listen, &e))?;
        let addr = listener.local_addr()?;
        let voice = Voice::start(&cfg.voice).context("cannot start the voice worker")?;
        let key = crate::kiosk::identity_key(&cfg)?;
        let (settings, watched) = watch::channel(Arc::new(cfg.clone()));
        let (kiosk_settings, kiosk_watched) =
            watch::channel(Arc::new(crate::kiosk::KioskSettings::of(&cfg)));
        let state = AppState::new(hall, cfg.clone());
        let hall = state.hall();
        let desk = Arc::new(HallDesk::new(hall.clone(), key.clone(), watched));
        let mut sup = Supervisor::new();
        let deps = kiosk::Deps {
            cfg: cfg.clone(),
            settings: kiosk_watched.clone(),
            desk: desk.clone(),
            key,
            voice: voice.clone(),
            clock: clock.clone(),
        };
        let kiosk = kiosk::start(&mut sup, deps, options)?;
        let state = state
            .with_desk(desk)
            .with_kiosk(kiosk)
            .with_kiosk_settings(kiosk_watched)
            .with_stations(window_stations(&cfg)?);
        start_workers(&sup, &cfg, &state, &voice, clock);
        let token = sup.token();
        sup.task("api", async move {
            if let Err(e) = crate::api::serve(listener, state, token.cancelled_owned()).await {
                tracing::error!(error = %e, "the API server failed");
            }
        });
        tracing::info!(%addr, "staff API listening");
        Ok(Daemon {
            addr,
            supervisor: sup,
            settings,
            kiosk_settings: Arc::new(kiosk_settings),
            voice,
            config: cfg,
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
        let restart = needs_restart(&self.config, &new);
        let old = &self.config;
        // A kiosk machine's settings come from its hall server.
        let kiosk_changed =
            old.server.is_none() && (new.kiosk != old.kiosk || new.hall_name != old.hall_name);
        if kiosk_changed {
            // The kiosk and the desk read the settings per resident: the
            // next swipe uses these. Nothing waits on the kiosk's printer.
            let mut cfg = (**self.settings.borrow()).clone();
            cfg.kiosk = new.kiosk.clone();
            cfg.hall_name = new.hall_name.clone();
            self.kiosk_settings
                .send_replace(Arc::new(crate::kiosk::KioskSettings::of(&cfg)));
            self.settings.send_replace(Arc::new(cfg));
            tracing::info!("kiosk settings reloaded");
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
    /// every worker has stopped. Every commit is already durable.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.supervisor.stop().await;
        Ok(())
    }
}

/// The windows' own printers (`[windows.printer]`), each on a thread.
fn window_stations(
    cfg: &Config,
) -> anyhow::Result<std::collections::BTreeMap<u32, crate::kiosk::station::PrintStation>> {
    let mut out = std::collections::BTreeMap::new();
    for w in &cfg.windows {
        if let Some(pc) = &w.printer {
            let printer = greenwave_drivers::printer::open_printer(pc)
                .with_context(|| format!("windows {}: printer", w.number))?;
            out.insert(
                w.number,
                crate::kiosk::station::PrintStation::start(w.number, printer)?,
            );
        }
    }
    Ok(out)
}

/// The hall's workers besides the kiosk and the API: one line each.
fn start_workers(
    sup: &Supervisor,
    cfg: &Config,
    state: &AppState,
    voice: &Voice,
    clock: Arc<dyn Clock>,
) {
    let hall = state.hall();
    let events = || crate::sync::lock(&hall).subscribe();
    let helpers = cfg.helpers.iter().map(|h| h.id.clone()).collect();
    let db = cfg.database_path();
    sup.task(
        "case follower",
        cases::run(
            cases::Deps {
                db: db.clone(),
                helpers,
                clock,
                events: events(),
                follow_up_days: cfg.follow_up_days,
            },
            sup.token(),
        ),
    );
    sup.task(
        "call announcer",
        announcer::run(
            announcer::Deps {
                voice: voice.clone(),
                events: events(),
            },
            sup.token(),
        ),
    );
    sup.task("rollover", rollover::run(hall.clone(), sup.token()));
    if let Some(dir) = cfg.daily_csv_dir.clone() {
        let hall_label = cfg
            .hall_code
            .clone()
            .unwrap_or_else(|| cfg.hall_name.clone());
        let deps = exporter::Deps {
            dir,
            db: db.clone(),
            hall_label,
            hall: hall.clone(),
            events: events(),
        };
        sup.task("statistics exporter", exporter::run(deps, sup.token()));
    }
    if let Some(city) = cfg.city.clone() {
        let deps = city::Deps {
            db: db.clone(),
            city,
            hall_name: cfg.hall_name.clone(),
            tz: cfg.day.timezone,
        };
        sup.task("city push", city::run(deps, sup.token()));
    } else {
        // Not (or no longer) in a city: the outbox stays empty.
        let db = db.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = crate::store::Store::open(&db).and_then(|s| s.city_outbox_off()) {
                tracing::warn!(error = %e, "city outbox could not be switched off");
            }
        });
    }
    if let Some((rc, dir)) = cfg
        .roster
        .as_ref()
        .and_then(|r| Some((r.clone(), r.inbox.clone()?)))
    {
        let deps = inbox::Deps {
            dir,
            data_dir: cfg.data_dir.clone(),
            db: db.clone(),
            roster: rc,
        };
        sup.task("roster inbox", inbox::run(deps, sup.token()));
    }
    if let Some((rc, source)) = cfg
        .roster
        .as_ref()
        .and_then(|r| Some((r.clone(), r.source.clone()?)))
    {
        let deps = roster_source::Deps {
            source,
            data_dir: cfg.data_dir.clone(),
            db,
            roster: rc,
        };
        sup.task("roster source", roster_source::run(deps, sup.token()));
    }
    let (voice, token) = (voice.clone(), sup.token());
    sup.task("voice", async move {
        token.cancelled().await;
        let _ = tokio::task::spawn_blocking(move || voice.stop()).await;
    });
}

/// The parts of a reloaded configuration that only take effect after a
/// restart, named for the log and the console.
fn needs_restart(old: &Config, new: &Config) -> Vec<&'static str> {
    let mut restart = Vec::new();
    if new.services != old.services {
        restart.push("services");
    }
    if new.windows != old.windows || new.helpers != old.helpers || new.kiosks != old.kiosks {
        restart.push("windows/helpers/kiosks");
    }
    if new.api != old.api {
        restart.push("api");
    }
    if new.day != old.day || new.policy != old.policy || new.priority_prefix != old.priority_prefix
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
    restart
}

/// Why the API cannot listen, and what to do (ops read it in the journal).
pub(crate) fn listen_error(listen: std::net::SocketAddr, e: &std::io::Error) -> anyhow::Error {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
            "cannot listen on {listen} ([api] listen): another program, or another greenwave, \
             already listens there (`ss -ltnp` shows which); stop it or set [api] listen to a free port"
        ),
        std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
            "cannot listen on {listen} ([api] listen): ports below 1024 need root; use a port \
             such as 8080"
        ),
        std::io::ErrorKind::AddrNotAvailable => anyhow::anyhow!(
            "cannot listen on {listen} ([api] listen): this machine has no such address; use \
             0.0.0.0 (every interface) or one of its own addresses"
        ),
        _ => anyhow::anyhow!("cannot listen on {listen} ([api] listen): {e}"),
    }
}
