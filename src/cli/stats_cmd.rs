//! `greenwave stats`: figures over the event journal.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::stats::{figures, to_csv, to_table, GroupBy};
use crate::store::Store;
use crate::tables::excel_csv;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for the terminal.
    Table,
    /// CSV with stable columns (see the README).
    Csv,
    /// JSON.
    Json,
    /// An Excel workbook, one sheet per grouping (needs --out).
    Xlsx,
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
    /// CSV for Excel on a Chinese Windows: UTF-8 with a byte-order mark and
    /// Chinese headings
    #[arg(long)]
    pub excel: bool,
    /// Write to this file instead of standard output (needed for xlsx)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The appointments instead, per day: booked, kept, late, missed,
    /// cancelled, still ahead, and the walk-ins (table, csv or json)
    #[arg(long)]
    pub appointments: bool,
}

pub(super) fn run(config: Option<&Path>, a: StatsArgs) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(&Config::locate(config)?)?;
    let path = cfg.database_path();
    if !path.exists() {
        anyhow::bail!("数据库 {} 不存在", path.display());
    }
    let store = Store::open(&path)?;
    let records = store.stats_records(a.from, a.to)?;
    let src = crate::stats::Sources::of(&records).in_tz(cfg.day.timezone);
    if let Some(dir) = a.daily_csv {
        let hall = cfg.hall_code.as_deref().unwrap_or(&cfg.hall_name);
        let written = crate::export::write_days(&dir, &src, hall)?;
        println!("已导出 {} 天的统计到 {}", written.len(), dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    if a.appointments {
        return appointments(&cfg, &store, &records, &a);
    }
    if a.format == Format::Xlsx && a.out.is_none() {
        anyhow::bail!("--format xlsx writes a file: add --out FILE.xlsx");
    }
    if a.excel && a.format != Format::Csv {
        anyhow::bail!("--excel is for --format csv");
    }
    let out: Vec<u8> = match a.format {
        Format::Table => {
            let rows = figures(&src, a.from, a.to, a.by);
            let name = |id: &str| {
                cfg.helpers
                    .iter()
                    .find(|h| h.id == id)
                    .map(|h| h.name.clone())
            };
            to_table(&rows, a.by, &name).into_bytes()
        }
        Format::Csv if a.excel => {
            excel_csv(&to_csv(&figures(&src, a.from, a.to, a.by))).into_bytes()
        }
        Format::Csv => to_csv(&figures(&src, a.from, a.to, a.by)).into_bytes(),
        Format::Json => {
            let rows = figures(&src, a.from, a.to, a.by);
            (serde_json::to_string_pretty(&rows)? + "\n").into_bytes()
        }
        Format::Xlsx => crate::stats::workbook(&cfg.hall_name, &src, a.from, a.to)?,
    };
    match &a.out {
        Some(p) => {
            std::fs::write(p, out).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            eprintln!("已写入 {}", p.display());
        }
        None => std::io::Write::write_all(&mut std::io::stdout(), &out)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `--appointments`: the bookings of the period against its tickets.
fn appointments(
    cfg: &Config,
    store: &Store,
    records: &crate::store::Records,
    a: &StatsArgs,
) -> anyhow::Result<ExitCode> {
    use crate::stats::bookings::{booking_rows, to_csv, to_table};
    let now = chrono::Utc::now()
        .with_timezone(&cfg.day.timezone)
        .naive_local();
    let first = records.tickets.iter().map(|t| t.day).min();
    let from = a.from.or(first).unwrap_or(now.date());
    let to = a.to.unwrap_or(now.date() + chrono::Duration::days(90));
    let bookings = store.bookings_between(from, to)?;
    let rows = booking_rows(
        &bookings,
        &records.tickets,
        &|s| cfg.appointments_of(s),
        now,
        (from, to),
    );
    let text = match a.format {
        Format::Table => to_table(&rows),
        Format::Csv if a.excel => excel_csv(&to_csv(&rows)),
        Format::Csv => to_csv(&rows),
        Format::Json => serde_json::to_string_pretty(&rows)? + "\n",
        Format::Xlsx => anyhow::bail!("--appointments prints a table, csv or json"),
    };
    match &a.out {
        Some(p) => {
            std::fs::write(p, text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            eprintln!("已写入 {}", p.display());
        }
        None => std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}
