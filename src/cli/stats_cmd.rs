//! `greenwave stats`: figures over the event journal.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::stats::{daily_csv, daily_file_name, figures, to_csv, to_table, GroupBy, Sources};
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
    let src = records.sources();
    if let Some(dir) = a.daily_csv {
        let hall = cfg.hall_code.as_deref().unwrap_or(&cfg.hall_name);
        let written = write_daily(&dir, &src, hall)?;
        println!("已导出 {written} 天的统计到 {}", dir.display());
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

/// Writes one file per service day that has tickets; each file goes to a
/// temporary name first, so that a reader never sees half a file.
fn write_daily(dir: &Path, src: &Sources<'_>, hall: &str) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| format!("无法创建导出目录 {}", dir.display()))?;
    let days: BTreeSet<NaiveDate> = src.tickets.iter().map(|t| t.day).collect();
    for day in &days {
        let path = dir.join(daily_file_name(*day));
        let tmp = path.with_extension("csv.part");
        std::fs::write(&tmp, daily_csv(src, hall, *day))
            .with_context(|| format!("无法写入 {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("无法写入 {}", path.display()))?;
    }
    Ok(days.len())
}
