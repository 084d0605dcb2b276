//! A kiosk machine of a hall of several (`[hall] server`): the devices,
//! the kiosk screen and the voice, and no store. Each resident's ticket
//! comes from the hall server ([`RemoteDesk`]); the machine prints it.
//!
//! Its workers besides the kiosk's own ([`super::kiosk`]):
//! - the link ([`link`]): a heartbeat every 5 seconds with the devices'
//!   states; the answer is the hall's setup in force (a reload on the
//!   server reaches the kiosk within one beat); when the server does not
//!   answer, the kiosk pauses (`暂停取号`) and resumes by itself;
//! - the print jobs ([`jobs`]): a long poll for the tickets staff send to
//!   this machine's printer;
//! - `/healthz` on `[api] listen`: whether the server answers, the devices.
//!
//! The identity key is read from `[kiosk] hash_key`, a copy ops install;
//! it never crosses the wire. The server's key id is compared with this
//! copy's: a kiosk with another key would hash residents into strangers,
//! so it refuses to start (or pauses, if the server's key changes later).

use super::listen_error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::routing::get;
use axum::Json;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::supervisor::Supervisor;
use super::{kiosk, Daemon, Options};
use crate::api::fleet::HEARTBEAT;
use crate::config::Config;
use crate::hall::Clock;
use crate::kiosk::actor::Input;
use crate::kiosk::remote::RemoteDesk;
use crate::kiosk::wire::{Heartbeat, JobResult, MachineSetup};
use crate::kiosk::{KioskError, KioskHandle, KioskSettings};
use crate::voice::Voice;

/// While the server does not answer, how often the link asks again.
const RETRY: Duration = Duration::from_secs(1);
/// How long one poll for print jobs waits on the server.
const POLL: Duration = Duration::from_secs(15);

/// What the link shares with `/healthz`.
#[derive(Debug, Clone, Default)]
struct LinkState {
    up: Arc<AtomicBool>,
}

/// Starts a kiosk machine: the kiosk over its hall server, the link, the
/// print jobs and `/healthz`.
pub(super) async fn start(
    cfg: Config,
    clock: Arc<dyn Clock>,
    options: Options,
) -> anyhow::Result<Daemon> {
    let server = cfg.server.clone().context("not a kiosk machine")?;
    let key = crate::kiosk::machine_key(&server.hash_key)?;
    let key_id = hex::encode(key.id());
    let desk = Arc::new(RemoteDesk::new(&server));
    let first = {
        let d = desk.clone();
        tokio::task::spawn_blocking(move || d.setup()).await?
    };
    let (initial, reachable) = match first {
        Ok(s) => {
            check_key(&s, &key_id).map_err(|e| anyhow::anyhow!(e))?;
            tracing::info!(kiosk = %s.kiosk, server = %server.url, "hall server answers");
            (s.settings, true)
        }
        Err(e @ KioskError::Unreachable { .. }) => {
            tracing::warn!(error = %e, "hall server does not answer yet; paused until it does");
            (KioskSettings::of(&cfg), false)
        }
        Err(e) => anyhow::bail!("the hall server {} refused this kiosk: {e}", server.url),
    };
    let listen = cfg.api.listen;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| listen_error(listen, &e))?;
    let addr = listener.local_addr()?;
    let voice = Voice::start(&cfg.voice).context("cannot start the voice worker")?;
    let (kiosk_settings, watched) = watch::channel(Arc::new(initial));
    let kiosk_settings = Arc::new(kiosk_settings);
    let (settings, _) = watch::channel(Arc::new(cfg.clone()));
    let mut sup = Supervisor::new();
    let deps = kiosk::Deps {
        cfg: cfg.clone(),
        settings: watched,
        desk: desk.clone(),
        key,
        voice: voice.clone(),
        clock,
    };
    let handle = kiosk::start(&mut sup, deps, options)?
        .context("a kiosk machine needs a card reader or a printer ([devices])")?;
    let link = LinkState::default();
    link.up.store(reachable, Ordering::SeqCst);
    if !reachable {
        let _ = handle.sender().send(Input::Link(false));
    }
    {
        let (desk, handle, link, tx) = (
            desk.clone(),
            handle.clone(),
            link.clone(),
            kiosk_settings.clone(),
        );
        sup.thread("link", move |cancel| {
            run_link(&desk, &handle, &link, &tx, &key_id, &cancel)
        })?;
    }
    start_jobs(desk, handle.clone(), sup.token())?;
    let token = sup.token();
    let app = health_router(link, handle, server.url.clone());
    sup.task("api", async move {
        let served = crate::api::server::serve(
            listener,
            app,
            crate::api::server::Limits::for_this_process(),
            token.cancelled_owned(),
        )
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the health endpoint failed");
        }
    });
    tracing::info!(%addr, server = %server.url, "kiosk machine started");
    Ok(Daemon {
        addr,
        supervisor: sup,
        settings,
        kiosk_settings,
        voice,
        config: cfg,
    })
}

/// The server's key id must be this kiosk's.
fn check_key(s: &MachineSetup, mine: &str) -> Result<(), String> {
    if s.key_id == mine {
        Ok(())
    } else {
        Err(format!(
            "[kiosk] hash_key is not the hall server's key (server key id {}, this copy {mine}): \
             copy the server's [roster] hash_key file to this machine",
            s.key_id
        ))
    }
}

/// The link's loop: a heartbeat every 5 seconds (every second while the
/// server does not answer); pauses and resumes the kiosk; follows the
/// server's settings.
fn run_link(
    desk: &RemoteDesk,
    handle: &KioskHandle,
    link: &LinkState,
    settings: &watch::Sender<Arc<KioskSettings>>,
    key_id: &str,
    cancel: &CancellationToken,
) {
    while !cancel.is_cancelled() {
        let beat = Heartbeat {
            devices: handle
                .devices()
                .snapshot()
                .into_iter()
                .map(|(d, up)| (d.to_string(), up))
                .collect(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        };
        let up = match desk.heartbeat(&beat) {
            Ok(s) => match check_key(&s, key_id) {
                Ok(()) => {
                    if **settings.borrow() != s.settings {
                        tracing::info!("hall settings changed on the server");
                        settings.send_replace(Arc::new(s.settings));
                    }
                    true
                }
                Err(e) => {
                    tracing::error!("{e}");
                    false
                }
            },
            Err(e) => {
                if link.up.load(Ordering::SeqCst) {
                    tracing::warn!(error = %e, "hall server does not answer");
                }
                false
            }
        };
        link.up.store(up, Ordering::SeqCst);
        if handle.sender().send(Input::Link(up)).is_err() {
            return;
        }
        sleep_unless_cancelled(if up { HEARTBEAT } else { RETRY }, cancel);
    }
}

fn sleep_unless_cancelled(d: Duration, cancel: &CancellationToken) {
    let end = std::time::Instant::now() + d;
    while !cancel.is_cancelled() {
        let left = end.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
}

/// The print jobs' thread: not supervised, since a poll cannot be
/// interrupted; it ends after the poll in flight once cancelled, and with
/// the process.
fn start_jobs(
    desk: Arc<RemoteDesk>,
    handle: KioskHandle,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("print-jobs".into())
        .spawn(move || {
            while !cancel.is_cancelled() {
                match desk.jobs(POLL) {
                    Ok(jobs) => {
                        for j in jobs {
                            print_job(&desk, &handle, j);
                        }
                    }
                    Err(_) => sleep_unless_cancelled(RETRY, &cancel),
                }
            }
        })?;
    Ok(())
}

/// One job: printed by the kiosk thread, its result sent back.
fn print_job(desk: &RemoteDesk, handle: &KioskHandle, job: crate::kiosk::wire::PrintJob) {
    let problem = match job.ticket.issued() {
        None => Some(crate::kiosk::PrintProblem::Refused),
        Some(t) => {
            let (reply, answer) = oneshot::channel();
            let sent = handle.sender().send(Input::Print {
                ticket: Box::new(t),
                reply,
            });
            match sent {
                Ok(()) => answer
                    .blocking_recv()
                    .unwrap_or(Some(crate::kiosk::PrintProblem::Fault)),
                Err(_) => Some(crate::kiosk::PrintProblem::Fault),
            }
        }
    };
    let result = JobResult {
        problem: problem.map(|p| p.as_str().to_string()),
    };
    if let Err(e) = desk.job_done(job.job, &result) {
        tracing::warn!(error = %e, job = job.job, "print job result not delivered");
    }
}

/// `/healthz` of a kiosk machine: whether its server answers, and its
/// devices; 503 while the server does not answer.
fn health_router(link: LinkState, handle: KioskHandle, server: String) -> axum::Router {
    axum::Router::new().route(
        "/healthz",
        get(move || {
            let (link, handle, server) = (link.clone(), handle.clone(), server.clone());
            async move {
                let up = link.up.load(Ordering::SeqCst);
                let devices = handle.devices().snapshot();
                let down: Vec<&str> = devices
                    .iter()
                    .filter_map(|(d, ok)| (!ok).then_some(*d))
                    .collect();
                let status = if up && down.is_empty() {
                    "ok"
                } else {
                    "degraded"
                };
                let code = if up {
                    axum::http::StatusCode::OK
                } else {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                };
                let body = serde_json::json!({
                    "status": status,
                    "role": "kiosk",
                    "server": server,
                    "server_up": up,
                    "devices_down": down,
                    "reason": (!up).then_some("大厅服务器无响应，暂停取号"),
                });
                (code, Json(body))
            }
        }),
    )
}
