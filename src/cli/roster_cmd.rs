//! `greenwave roster keygen|prepare|publish|import|status|check`: one module per
//! subcommand, each with its arguments and its `run`.

mod bench_lookup;
mod check;
mod import;
mod keygen;
mod prepare;
mod publish;
mod status;
mod synth;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use crate::config::Config;
use crate::roster::install::RosterConfig;

/// Roster commands.
#[derive(Debug, Subcommand)]
pub enum RosterCmd {
    /// Ops: make a signing key pair and a hashing key in DIR
    Keygen(keygen::Keygen),
    /// Ops: validate the bureau's export, hash it, sign it into a roster file
    Prepare(prepare::Prepare),
    /// Ops: put a roster file into a web server's directory and sign its index
    Publish(publish::Publish),
    /// Hall: verify and install a roster file
    Import(import::Import),
    /// Hall: the installed roster
    Status,
    /// Hall staff: is this ID number on the roster? (prints no name)
    Check(check::Check),
    /// Bench/demo: write a synthetic bureau export of made-up people
    #[command(hide = true)]
    Synth(synth::Synth),
    /// Bench: lookup latency on the installed roster, half hits, half misses
    #[command(hide = true)]
    BenchLookup(bench_lookup::BenchLookup),
}

pub(super) fn run(config: Option<&Path>, cmd: RosterCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        RosterCmd::Keygen(c) => c.run(),
        RosterCmd::Prepare(c) => c.run(config),
        RosterCmd::Publish(c) => c.run(),
        RosterCmd::Import(c) => c.run(config),
        RosterCmd::Status => status::run(config),
        RosterCmd::Check(c) => c.run(config),
        RosterCmd::Synth(c) => c.run(),
        RosterCmd::BenchLookup(c) => c.run(config),
    }
}

/// The hall's configuration and its `[roster]` section (required); makes
/// sure the data directory exists.
fn hall(config: Option<&Path>) -> anyhow::Result<(Config, RosterConfig)> {
    let cfg = Config::load(&Config::locate(config)?)?;
    let rc = cfg.roster.clone().with_context(|| {
        format!(
            "{}: no [roster] section: this hall has no roster configured",
            cfg.source.display()
        )
    })?;
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create {}", cfg.data_dir.display()))?;
    Ok((cfg, rc))
}
