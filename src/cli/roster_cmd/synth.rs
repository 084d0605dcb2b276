//! `greenwave roster synth` (hidden; benches and the demo).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

/// Arguments of `greenwave roster synth`.
#[derive(Debug, Args)]
pub struct Synth {
    /// Rows
    #[arg(long)]
    rows: u64,
    /// Seed (the same seed gives the same people)
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write GB18030 instead of UTF-8
    #[arg(long)]
    gb18030: bool,
    /// Output file
    #[arg(long)]
    out: PathBuf,
}

impl Synth {
    /// Writes the synthetic export.
    pub(super) fn run(self) -> anyhow::Result<ExitCode> {
        let format = if self.gb18030 {
            crate::roster::SyntheticFormat::CsvGb18030
        } else {
            crate::roster::SyntheticFormat::CsvUtf8
        };
        let out = &self.out;
        let f = std::fs::File::create(out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        crate::roster::generate_synthetic_export(self.rows, self.seed, format, f)?;
        println!("wrote {} synthetic rows to {}", self.rows, out.display());
        Ok(ExitCode::SUCCESS)
    }
}
