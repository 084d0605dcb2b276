//! `greenwave board`: the hall display, or with `--window N` the screen
//! over one window.

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
    /// Show the screen over window N (its ticket in big digits and the next
    /// two it calls) instead of the hall board
    #[arg(
        long,
        env = "GREENWAVE_WINDOW",
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=999)
    )]
    pub window: Option<u32>,
}

pub(super) fn run(a: BoardArgs) -> anyhow::Result<ExitCode> {
    let screen = match a.window {
        Some(n) => crate::board::Screen::Window(n),
        None => crate::board::Screen::Hall,
    };
    crate::board::run(&a.server, &a.token, screen)?;
    Ok(ExitCode::SUCCESS)
}
