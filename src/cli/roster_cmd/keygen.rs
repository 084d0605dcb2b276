//! `greenwave roster keygen`.

use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::roster::keygen;

/// Arguments of `greenwave roster keygen`.
#[derive(Debug, Args)]
pub struct Keygen {
    /// Directory for the key files (created; existing keys are never overwritten)
    #[arg(long)]
    out: PathBuf,
}

impl Keygen {
    /// Creates the directory (mode 0700) and the three key files.
    pub(super) fn run(self) -> anyhow::Result<ExitCode> {
        let out = self.out;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        let k = keygen(&out)?;
        println!("已生成密钥:");
        println!("  签名私钥（仅运维保管）  {}", k.signing.display());
        println!("  验签公钥（发往各大厅）  {}", k.public.display());
        println!("  哈希密钥（发往各大厅）  {}", k.hash.display());
        Ok(ExitCode::SUCCESS)
    }
}
