//! The daemon's workers and their one way to stop.
//!
//! Every worker is an async task or a blocking thread started through the
//! [`Supervisor`], and every one of them stops on the same
//! [`CancellationToken`]: tasks await `cancelled()`, threads look at
//! `is_cancelled()` between blocking steps. The device drivers' blocking
//! loops take a plain `AtomicBool` (the drivers crate knows no async
//! runtime); the supervisor sets [`Supervisor::stop_flag`] when the token is
//! cancelled, so it is the same stop, seen through a flag.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The running workers.
pub struct Supervisor {
    cancel: CancellationToken,
    tasks: TaskTracker,
    threads: Vec<std::thread::JoinHandle<()>>,
    flag: Arc<AtomicBool>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("tasks", &self.tasks.len())
            .field("threads", &self.threads.len())
            .finish()
    }
}

impl Supervisor {
    /// No workers yet. Must be called inside the runtime.
    pub fn new() -> Supervisor {
        let s = Supervisor {
            cancel: CancellationToken::new(),
            tasks: TaskTracker::new(),
            threads: Vec::new(),
            flag: Arc::new(AtomicBool::new(false)),
        };
        let (cancel, flag) = (s.cancel.clone(), s.flag.clone());
        s.task("stop flag", async move {
            cancel.cancelled().await;
            flag.store(true, Ordering::SeqCst);
        });
        s
    }

    /// The token every worker stops on.
    pub fn token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// The same stop as a flag, for the drivers' blocking loops.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }

    /// Starts an async worker.
    pub fn task(&self, name: &'static str, work: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(async move {
            work.await;
            tracing::debug!(worker = name, "worker ended");
        });
    }

    /// Starts a blocking worker on a named thread of its own; it gets the
    /// token and must return soon after it is cancelled.
    pub fn thread(
        &mut self,
        name: &str,
        work: impl FnOnce(CancellationToken) + Send + 'static,
    ) -> std::io::Result<()> {
        let cancel = self.cancel.clone();
        let handle = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || work(cancel))?;
        self.threads.push(handle);
        Ok(())
    }

    /// Adopts a thread started elsewhere (a card source) that stops on
    /// [`Supervisor::stop_flag`] or the token.
    pub fn adopt(&mut self, handle: std::thread::JoinHandle<()>) {
        self.threads.push(handle);
    }

    /// Cancels every worker and waits until all have ended.
    pub async fn stop(self) {
        self.cancel.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        let threads = self.threads;
        let joined = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
        if let Err(e) = joined {
            tracing::error!(error = %e, "a worker thread panicked");
        }
    }
}

impl Default for Supervisor {
    fn default() -> Self {
        Supervisor::new()
    }
}
