//! `greenwave config check`.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Config;

/// Configuration commands.
#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Validate the configuration and print a summary
    Check,
}

pub(super) fn run(config: Option<&Path>, cmd: ConfigCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCmd::Check => {
            let path = Config::locate(config)?;
            let cfg = Config::load(&path)?;
            print!("{}", cfg.summary());
            println!("配置有效");
            Ok(ExitCode::SUCCESS)
        }
    }
}
