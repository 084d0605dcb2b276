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
            if let Some(r) = &cfg.roster {
                // The key files are part of a working installation.
                if let Some(p) = &r.public_key {
                    let k = crate::roster::load_public_key(p)?;
                    println!(
                        "roster     public key {} (fingerprint {})",
                        p.display(),
                        crate::roster::keys::fingerprint(&k)
                    );
                }
                if let Some(p) = &r.hash_key {
                    let k = crate::roster::load_hash_key(p)?;
                    println!(
                        "roster     hash key {} (id {})",
                        p.display(),
                        hex::encode(k.id())
                    );
                }
            }
            println!("配置有效");
            Ok(ExitCode::SUCCESS)
        }
    }
}
