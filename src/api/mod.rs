//! The staff API: HTTP + JSON on the hall LAN (axum).
//!
//! Each window has a bearer token and acts only for itself; the manager
//! token acts for every window. Each handler names its role by an
//! extractor (`auth.rs`: `Staff`, `WindowStaff`, `Manager`, `Helper`,
//! `Caller`, `Viewer`). A refused token gets 401/403, a refused operation
//! 404/409, bad input 400/422, always with a JSON body
//! `{"error": "...", "code": "..."}` (`error.rs`). Helpers' tokens work on
//! the case routes only (`cases.rs`). Hall operations run on the blocking
//! pool, one at a time behind the hall's mutex: two windows calling at the
//! same instant are serialised and never get the same ticket.
//!
//! The rooms, by resource: `tickets.rs` (the queue and tickets),
//! `windows.rs` (what a window does), `kiosk.rs` (manual identification,
//! cards, reprints), `progress.rs` (the resident's status by the ticket's
//! token, the progress page, the call for their helper), `cases.rs`
//! (helpers and cases), `stats.rs`, `events.rs`, `metrics.rs`, `pages.rs`, `login.rs`
//! (window PINs and the sessions they open), `ops.rs`
//! (health, the document).
//!
//! Every route is registered through [`utoipa_axum::routes!`] from the
//! handler's `#[utoipa::path]`, so the OpenAPI document served at
//! `GET /api/openapi.json` ([`openapi`]) and the router cannot drift apart.
//! Besides the staff operations: `GET /api/events` (server-sent events for
//! hall displays, [`events`]) and `GET /metrics` (Prometheus, [`metrics`]);
//! and the browser pages (`/console`, `/helper`, `/manager`, `/t/{token}`,
//! `pages.rs`), plain HTML/CSS/JS from `src/web/` embedded in the binary.

mod auth;
mod bookings;
mod cases;
mod error;
pub mod events;
pub mod fleet;
mod kiosk;
mod login;
mod machines;
pub mod metrics;
mod openapi;
mod ops;
mod pages;
mod printing;
mod progress;
mod ratings;
pub mod server;
mod stats;
pub mod stream;
mod tickets;
mod views;
mod windows;

use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::Config;
use crate::hall::{Hall, HallError};

pub use auth::Principal;
pub use error::ApiError;

pub use views::{
    CallPolicyView, CalledView, DisplayTicket, ErrorBody, Health, LaneSchema, QueueView,
    ServiceCounts, TicketHistory, TicketView, WindowView,
};

/// Shared state of the API.
#[derive(Clone)]
pub struct AppState {
    hall: Arc<Mutex<Hall>>,
    cfg: Arc<Config>,
    /// The configured tokens, as digests (compared in constant time).
    tokens: Arc<auth::Tokens>,
    counters: Arc<Mutex<metrics::Counters>>,
    /// Set to `true` when the server shuts down: ends the event streams,
    /// which would otherwise keep a graceful shutdown waiting forever.
    stopping: watch::Receiver<bool>,
    stop: Arc<watch::Sender<bool>>,
    /// The OpenAPI document, serialised once.
    openapi_json: Arc<String>,
    /// The hall's desk: manual identification, upgrades, card binding,
    /// the reprint list (never waits on a device).
    desk: Option<Arc<crate::kiosk::HallDesk>>,
    /// The kiosk thread, for reprints (and its devices, for the metrics).
    kiosk: Option<crate::kiosk::KioskHandle>,
    /// Event streams open now (at most `events::MAX_STREAMS`).
    streams: Arc<std::sync::atomic::AtomicUsize>,
    /// The hall's kiosk machines (`[[kiosks]]`): contact, devices, jobs.
    fleet: Arc<fleet::Fleet>,
    /// The windows' own printers (`[windows.printer]`).
    stations: Arc<std::collections::BTreeMap<u32, crate::kiosk::station::PrintStation>>,
    /// What a kiosk knows of the hall, as of the last reload.
    kiosk_settings: watch::Receiver<Arc<crate::kiosk::KioskSettings>>,
    /// The hall's clock.
    clock: Arc<dyn crate::hall::Clock>,
    /// The windows' PIN sessions (in memory: a restart ends them).
    sessions: Arc<Mutex<crate::pins::Sessions>>,
}

impl AppState {
    /// State over an opened hall.
    pub fn new(hall: Hall, cfg: Config) -> AppState {
        let counters = metrics::Counters::new(&hall, &cfg);
        let (stop, stopping) = watch::channel(false);
        // As started, until the daemon gives the reloaded ones.
        let (_, kiosk_settings) = watch::channel(Arc::new(crate::kiosk::KioskSettings::of(&cfg)));
        AppState {
            fleet: Arc::new(fleet::Fleet::of(&cfg)),
            stations: Arc::default(),
            kiosk_settings,
            clock: hall.clock(),
            hall: Arc::new(Mutex::new(hall)),
            tokens: Arc::new(auth::Tokens::of(&cfg)),
            cfg: Arc::new(cfg),
            counters: Arc::new(Mutex::new(counters)),
            stopping,
            stop: Arc::new(stop),
            openapi_json: Arc::new(String::new()),
            desk: None,
            kiosk: None,
            streams: Arc::default(),
            sessions: Arc::default(),
        }
    }

    /// Gives the staff routes the hall's desk (manual identification,
    /// upgrades, card binding, the reprint list).
    pub fn with_desk(mut self, desk: Arc<crate::kiosk::HallDesk>) -> AppState {
        self.desk = Some(desk);
        self
    }

    /// Gives the staff routes the kiosk thread (reprints), if this machine
    /// has a kiosk.
    pub fn with_kiosk(mut self, kiosk: Option<crate::kiosk::KioskHandle>) -> AppState {
        self.kiosk = kiosk;
        self
    }

    /// Gives the kiosk routes the hall's settings as reloaded.
    pub fn with_kiosk_settings(
        mut self,
        settings: watch::Receiver<Arc<crate::kiosk::KioskSettings>>,
    ) -> AppState {
        self.kiosk_settings = settings;
        self
    }

    /// Gives the staff routes the windows' printers.
    pub fn with_stations(
        mut self,
        stations: std::collections::BTreeMap<u32, crate::kiosk::station::PrintStation>,
    ) -> AppState {
        self.stations = Arc::new(stations);
        self
    }

    /// The hall, for the daemon's own periodic work.
    pub fn hall(&self) -> Arc<Mutex<Hall>> {
        self.hall.clone()
    }
}

/// Every route with its OpenAPI description.
fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::openapi_json))
        .routes(routes!(metrics::metrics))
        .routes(routes!(events::events))
        .routes(routes!(tickets::queue))
        .routes(routes!(tickets::tickets, tickets::issue))
        .routes(routes!(tickets::ticket))
        .routes(routes!(tickets::rejoin))
        .routes(routes!(tickets::cancel))
        .routes(routes!(tickets::cancellations))
        .routes(routes!(windows::call))
        .routes(routes!(windows::recall))
        .routes(routes!(windows::start))
        .routes(routes!(windows::finish))
        .routes(routes!(windows::no_show))
        .routes(routes!(windows::transfer))
        .routes(routes!(windows::pause))
        .routes(routes!(windows::resume))
        .merge(kiosk::routes())
        .merge(progress::routes())
        .merge(machines::routes())
        .routes(routes!(printing::reprint))
        .merge(cases::routes())
        .merge(ratings::routes())
        .merge(stats::routes())
        .merge(pages::routes())
        .merge(login::routes())
        .merge(bookings::routes())
}

/// The OpenAPI 3 document of the API, as served at `GET /api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().into_openapi()
}

/// The API's routes.
pub fn router(mut state: AppState) -> Router {
    let (router, doc) = api_router().split_for_parts();
    state.openapi_json = Arc::new(doc.to_json().expect("the OpenAPI document serialises"));
    router
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "没有这个接口")
        })
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then ends the
/// event streams and finishes the requests in flight. The connections are
/// held to `server::Limits` (header timeout, connection cap, write stall).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = state.stop.clone();
    let stop_on_signal = stop.clone();
    let drain = tokio::spawn(metrics::drain_periodically(
        state.counters.clone(),
        state.stopping.clone(),
    ));
    let res = server::serve(
        listener,
        router(state),
        server::Limits::for_this_process(),
        async move {
            shutdown.await;
            let _ = stop_on_signal.send(true);
        },
    )
    .await;
    let _ = stop.send(true);
    drain.await.ok();
    res
}

/// Runs `f` on the blocking pool with `shared` locked: the hall, the kiosk.
/// A panic inside becomes a 500 with a JSON body, never a dropped request.
pub(super) async fn locked<
    M: Send + 'static,
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
>(
    shared: Arc<Mutex<M>>,
    f: impl FnOnce(&mut M) -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut m = crate::sync::lock(&shared);
        f(&mut m)
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("内部错误: {e}"),
        )
    })?
    .map_err(Into::into)
}

/// Runs `f` on the blocking pool. A panic inside becomes a 500 with a
/// JSON body, never a dropped request.
pub(super) async fn blocking<T: Send + 'static, E: Into<ApiError> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("内部错误: {e}"),
            )
        })?
        .map_err(Into::into)
}

pub(super) async fn with_hall<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut Hall) -> Result<T, HallError> + Send + 'static,
) -> Result<T, ApiError> {
    locked(state.hall.clone(), f).await
}
