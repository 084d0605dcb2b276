//! `greenwave roster publish`.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;
use clap::Args;

use crate::roster::{load_signing_key, publish};

/// Arguments of `greenwave roster publish`.
#[derive(Debug, Args)]
pub struct Publish {
    /// The signed roster file or delta (from `roster prepare`)
    file: PathBuf,
    /// The directory a web server serves to the halls (created if missing)
    dir: PathBuf,
    /// The ops signing key (roster-signing.key): the file must be signed
    /// with it, and the directory's index.json is signed with it
    #[arg(long)]
    signing_key: PathBuf,
}

impl Publish {
    /// Verifies the file, copies it into the directory and rewrites the
    /// signed index; says what the halls will now see.
    pub(super) fn run(self) -> anyhow::Result<ExitCode> {
        let key = load_signing_key(&self.signing_key)?;
        let p = publish::publish(&self.file, &self.dir, &key, Utc::now())?;
        let what = match p.entry.base {
            None => format!("full roster, version {}", p.entry.version),
            Some(b) => format!("delta {b} -> {}", p.entry.version),
        };
        let verb = if p.again {
            "already published"
        } else {
            "published"
        };
        println!(
            "{verb}: {} ({what}, {} bytes, sha256 {})",
            self.dir.join(&p.entry.file).display(),
            p.entry.size,
            p.entry.sha256
        );
        let full = p
            .index
            .full
            .as_ref()
            .map_or("none".to_string(), |f| f.file.clone());
        let deltas: Vec<&str> = p.index.deltas.iter().map(|d| d.file.as_str()).collect();
        println!(
            "index: {} (full roster: {full}; deltas: {}; newest version {})",
            self.dir.join(publish::INDEX_FILE).display(),
            if deltas.is_empty() {
                "none".to_string()
            } else {
                deltas.join(", ")
            },
            p.index.latest()
        );
        if !p.dropped.is_empty() {
            println!(
                "no longer listed (older than the full roster; remove when no hall needs them): {}",
                p.dropped.join(", ")
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}
