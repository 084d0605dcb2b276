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

/// How often the daemon checks whether the service day has ended.
const DAY_CHECK: Duration = Duration::from_secs(15);

/// A running daemon.
pub struct Daemon {
    /// Where the API listens.
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    ticker: JoinHandle<()>,
}

impl Daemon {
    /// Opens the hall and starts serving. Returns once the listener is
    /// bound, so that `addr` is usable at once.
    pub async fn start(cfg: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Daemon> {
        let listen = cfg.api.listen;
        let hall = {
            let cfg = cfg.clone();
            tokio::task::spawn_blocking(move || Hall::open(&cfg, clock)).await??
        };
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen} (api.listen)"))?;
        let addr = listener.local_addr()?;
        let state = AppState::new(hall, cfg);
        let (stop, mut stopped) = watch::channel(false);

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
        let server = tokio::spawn(api::serve(listener, state, async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
        tracing::info!(%addr, "staff API listening");
        Ok(Daemon {
            addr,
            stop,
            server,
            ticker,
        })
    }

    /// Stops accepting requests, finishes those in flight, and returns when
    /// everything has stopped. Every commit is already durable.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.ticker.await.ok();
        self.server.await??;
        Ok(())
    }
}
