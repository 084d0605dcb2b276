//! `greenwave stats`: figures over the event journal.

use std::path::Path;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::stats::{figures, to_csv, to_table, GroupBy};
use crate::store::Store;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for the terminal.
    Table,
    /// CSV with stable columns (see the README).
    Csv,
    /// JSON.
    Json,
}

/// Arguments of `greenwave stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// First service day (YYYY-MM-DD) [default: the first in the journal]
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last service day (YYYY-MM-DD) [default: today]
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Group the rows by
    #[arg(long, value_enum, default_value_t = GroupBy::Day)]
    pub by: GroupBy,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub(super) fn run(config: Option<&Path>, a: StatsArgs) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(&Config::locate(config)?)?;
    let path = cfg.database_path();
    if !path.exists() {
        anyhow::bail!("数据库 {} 不存在", path.display());
    }
    let store = Store::open(&path)?;
    let journal = store.journal_between(a.from, a.to)?;
    let rows = figures(&journal, a.from, a.to, a.by);
    match a.format {
        Format::Table => print!("{}", to_table(&rows)),
        Format::Csv => print!("{}", to_csv(&rows)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
    }
    Ok(ExitCode::SUCCESS)
}
