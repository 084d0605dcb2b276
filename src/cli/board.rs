//! `greenwave board`: the hall display.

use std::process::ExitCode;

use clap::Args;

/// Arguments of `greenwave board`.
#[derive(Debug, Args)]
pub struct BoardArgs {
    /// The daemon's address, e.g. http://192.168.1.10:8080
    #[arg(long, env = "GREENWAVE_SERVER")]
    pub server: String,
    /// A token for the event stream (`[api] display_token`, or staff); prefer
    /// the environment variable, which `ps` does not show
    #[arg(long, env = "GREENWAVE_TOKEN", hide_env_values = true)]
    pub token: String,
}

pub(super) fn run(a: BoardArgs) -> anyhow::Result<ExitCode> {
    crate::board::run(&a.server, &a.token)?;
    Ok(ExitCode::SUCCESS)
}
