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
            // The key files are part of a working installation: every
            // problem with them at once, as with the configuration's.
            let mut problems = Vec::new();
            if let Some(r) = &cfg.roster {
                if let Some(p) = &r.public_key {
                    match crate::roster::load_public_key(p) {
                        Ok(k) => println!(
                            "roster     public key {} (fingerprint {})",
                            p.display(),
                            crate::roster::keys::fingerprint(&k)
                        ),
                        Err(e) => problems.push(e.to_string()),
                    }
                }
                if let Some(p) = &r.hash_key {
                    match crate::roster::load_hash_key(p) {
                        Ok(k) => println!(
                            "roster     hash key {} (id {})",
                            p.display(),
                            hex::encode(k.id())
                        ),
                        Err(e) => problems.push(e.to_string()),
                    }
                }
            }
            match problems.as_slice() {
                [] => {
                    println!("配置有效");
                    Ok(ExitCode::SUCCESS)
                }
                [one] => anyhow::bail!("{one}"),
                all => anyhow::bail!(
                    "{} problems with the roster keys:\n  {}",
                    all.len(),
                    all.join("\n  ")
                ),
            }
        }
    }
}
