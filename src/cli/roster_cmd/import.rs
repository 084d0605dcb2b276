//! `greenwave roster import`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::roster::install::{self, ImportOptions};
use crate::store::Store;

/// Arguments of `greenwave roster import`.
#[derive(Debug, Args)]
pub struct Import {
    /// The roster file
    file: PathBuf,
    /// Install even if the version is not newer than the installed one
    #[arg(long)]
    force: bool,
}

impl Import {
    /// Verifies and installs the file; says what changed.
    pub(super) fn run(self, config: Option<&Path>) -> anyhow::Result<ExitCode> {
        let (cfg, rc) = super::hall(config)?;
        let mut store = Store::open(&cfg.database_path())?;
        let opts = ImportOptions {
            force: self.force,
            actor: "ops (cli)".into(),
        };
        let o = install::import(&mut store, &cfg.data_dir, &rc, &self.file, &opts)?;
        println!(
            "名单已更新: 版本 {}（{}），{} 条；新增/更新 {}，删除 {}",
            o.state.version, o.kind, o.state.rows, o.added, o.removed
        );
        Ok(ExitCode::SUCCESS)
    }
}
