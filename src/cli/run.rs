//! `greenwave run`: the daemon under SIGTERM/SIGINT.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use crate::config::Config;
use crate::daemon::{Daemon, Options};
use crate::hall::SystemClock;

/// Arguments of `greenwave run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Listen here instead of api.listen (e.g. 127.0.0.1:0 for any free port)
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Never take over the terminal: write the kiosk's screen as lines on
    /// stdout and read its keys as lines from stdin
    #[arg(long)]
    pub no_screen: bool,
    /// Start even though the database is behind its high-water record
    /// (greenwave.hwm): the lost tickets stay lost, numbering continues
    /// above the last number ever issued; logged and audited
    #[arg(long)]
    pub accept_loss: bool,
}

pub(super) fn run(config: Option<&Path>, verbose: u8, args: RunArgs) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    let loaded = Config::locate(config).and_then(|p| Config::load(&p));
    let mut cfg = match loaded {
        Ok(c) => c,
        Err(e) => {
            super::init_logging_to(verbose, false, None);
            return Err(e.into());
        }
    };
    if let Some(l) = args.listen {
        cfg.api.listen = l;
    }
    // The kiosk screen takes the terminal when there is one and a kiosk
    // device is configured; the log then goes to a file beside the
    // database instead of the screen.
    let has_kiosk = cfg.devices.id_reader.is_some()
        || cfg.devices.printer.is_some()
        || cfg.devices.pcsc.is_some();
    let screen = !args.no_screen
        && has_kiosk
        && std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal();
    let log_file = if screen && std::io::stderr().is_terminal() {
        Some(log_file(&cfg)?)
    } else {
        None
    };
    super::init_logging_to(verbose, false, log_file);
    let rt = crate::daemon::runtime()?;
    rt.block_on(serve(cfg, screen, args.accept_loss))
}

/// The log file beside the database, for when the screen is the kiosk's.
fn log_file(cfg: &Config) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(&cfg.data_dir)?;
    let path = cfg.data_dir.join("greenwave.log");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open the log {}", path.display()))
}

/// What SIGHUP means to `greenwave run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hangup {
    /// Run by systemd (`systemctl reload greenwave`), or detached from any
    /// terminal (pipes, a script): re-read the configuration.
    Reload,
    /// Run in a terminal: the terminal went away (ssh dropped, the window
    /// closed), and the daemon stops as any foreground program does.
    Stop,
}

/// systemd sets `INVOCATION_ID` for every unit it starts: a service, even
/// one whose stdin is a terminal (the kiosk's screen on a tty). Otherwise a
/// terminal on stdin, stdout or stderr means a person started it there.
fn hangup_means() -> Hangup {
    use std::io::IsTerminal;
    if std::env::var_os("INVOCATION_ID").is_some() {
        return Hangup::Reload;
    }
    let terminal = std::io::stdin().is_terminal()
        || std::io::stdout().is_terminal()
        || std::io::stderr().is_terminal();
    if terminal {
        Hangup::Stop
    } else {
        Hangup::Reload
    }
}

/// Starts the daemon (with the kiosk screen when `screen`) and serves until
/// SIGTERM, Ctrl-C or the screen's quit key; SIGHUP reloads as a service
/// and stops in a terminal ([`hangup_means`]).
async fn serve(cfg: Config, screen: bool, accept_loss: bool) -> anyhow::Result<ExitCode> {
    let hangup = hangup_means();
    let hall = cfg.hall_name.clone();
    let server = cfg.server.as_ref().map(|s| s.url.clone());
    // Signals first: a SIGHUP right after the address is printed (what
    // scripts wait for) must reload, not kill the daemon.
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    // A file at the process's size limit (RLIMIT_FSIZE) must make writes
    // fail (EFBIG: the commit fails, /healthz says so), not kill the daemon.
    let mut xfsz = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(
        nix::libc::SIGXFSZ,
    ))?;
    let mut options = Options {
        accept_loss,
        ..Options::default()
    };
    let mut terminal = None;
    let mut quit = None;
    if screen {
        let keys = crate::kiosk::KioskSettings::of(&cfg).service_keys();
        let (t, out, keys, q) =
            crate::kiosk::terminal::Terminal::start(&hall, keys, cfg.day.timezone)?;
        options.kiosk_out = Some(out);
        options.keys = Some(keys);
        terminal = Some(t);
        quit = Some(q);
    }
    let mut daemon = match Daemon::start_with(cfg, Arc::new(SystemClock), options).await {
        Ok(d) => d,
        Err(e) => {
            if let Some(t) = terminal {
                t.stop();
            }
            return Err(e);
        }
    };
    let say = |msg: &str| {
        if screen {
            tracing::info!("{msg}");
        } else {
            // Not println!: after a hang-up the terminal is gone and a
            // write fails (EIO), which must not panic the shutdown.
            let mut out = std::io::stdout();
            let _ = writeln!(out, "{msg}").and_then(|()| out.flush());
        }
    };
    match &server {
        // The own address first and last on its line: scripts take the
        // first line with `http://`, from there on.
        Some(url) => {
            say(&format!(
                "greenwave 自助机已启动: {hall}，本机状态 http://{}",
                daemon.addr
            ));
            say(&format!("大厅服务器: {url}"));
        }
        None => say(&format!(
            "greenwave 已启动: {hall}，员工接口 http://{}",
            daemon.addr
        )),
    }
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            Some(()) = async {
                match quit.as_mut() {
                    Some(q) => q.recv().await,
                    None => std::future::pending().await,
                }
            } => break,
            _ = hup.recv() => match hangup {
                Hangup::Reload => reload(&mut daemon, screen, &say),
                Hangup::Stop => {
                    tracing::info!("the terminal went away (SIGHUP): stopping");
                    break;
                }
            },
            _ = xfsz.recv() => tracing::warn!("a write went past the file size limit (SIGXFSZ); it failed"),
        }
        std::io::stdout().flush().ok();
    }
    tracing::info!("shutting down");
    let res = daemon.shutdown().await;
    if let Some(t) = terminal {
        t.stop();
    }
    res?;
    say("greenwave 已停止");
    Ok(ExitCode::SUCCESS)
}

/// SIGHUP: re-reads the configuration, says what it did.
fn reload(daemon: &mut Daemon, screen: bool, say: &impl Fn(&str)) {
    match daemon.reload() {
        Ok(msg) => {
            tracing::info!("{msg}");
            if !screen {
                say(&msg);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "configuration not reloaded");
            say(&format!("配置未重新加载：{e}"));
        }
    }
}
