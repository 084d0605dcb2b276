//! `greenwave run`: the daemon under SIGTERM/SIGINT.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use crate::config::Config;
use crate::daemon::Daemon;
use crate::hall::SystemClock;

/// Arguments of `greenwave run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Listen here instead of api.listen (e.g. 127.0.0.1:0 for any free port)
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

pub(super) fn run(config: Option<&Path>, args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = Config::load(&Config::locate(config)?)?;
    if let Some(l) = args.listen {
        cfg.api.listen = l;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let hall = cfg.hall_name.clone();
        // Signals first: a SIGHUP right after the address is printed (what
        // scripts wait for) must reload, not kill the daemon.
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let daemon = Daemon::start(cfg, Arc::new(SystemClock)).await?;
        println!("greenwave 已启动: {hall}，员工接口 http://{}", daemon.addr);
        std::io::stdout().flush().ok();
        let mut daemon = daemon;
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = tokio::signal::ctrl_c() => break,
                _ = hup.recv() => match daemon.reload() {
                    Ok(msg) => {
                        tracing::info!("{msg}");
                        println!("{msg}");
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "configuration not reloaded");
                        println!("配置未重新加载：{e}");
                    }
                },
            }
            std::io::stdout().flush().ok();
        }
        tracing::info!("shutting down");
        daemon.shutdown().await?;
        println!("greenwave 已停止");
        Ok(ExitCode::SUCCESS)
    })
}
