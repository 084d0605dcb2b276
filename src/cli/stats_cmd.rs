//! `greenwave stats`: figures over the event journal.

use std::path::{Path, PathBuf};
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
    /// Instead of printing: write the daily export, one CSV file per
    /// service day (`greenwave-stats-YYYY-MM-DD.csv`), into this directory
    #[arg(long, value_name = "DIR")]
    pub daily_csv: Option<PathBuf>,
}

pub(super) fn run(config: Option<&Path>, a: StatsArgs) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(&Config::locate(config)?)?;
    let path = cfg.database_path();
    if !path.exists() {
        anyhow::bail!("数据库 {} 不存在", path.display());
    }
    let store = Store::open(&path)?;
    let records = store.stats_records(a.from, a.to)?;
    let src = crate::stats::Sources::of(&records);
    if let Some(dir) = a.daily_csv {
        let hall = cfg.hall_code.as_deref().unwrap_or(&cfg.hall_name);
        let written = crate::export::write_days(&dir, &src, hall)?;
        println!("已导出 {} 天的统计到 {}", written.len(), dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let rows = figures(&src, a.from, a.to, a.by);
    match a.format {
        Format::Table => print!("{}", to_table(&rows)),
        Format::Csv => print!("{}", to_csv(&rows)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
    }
    Ok(ExitCode::SUCCESS)
}
