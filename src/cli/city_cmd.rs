//! `greenwave city`: the bureau's side. `report` prints the figures across
//! halls from the city database; `serve` is the bureau's read-only page.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};

use crate::city::report::{rows, to_csv, to_table, to_xlsx};
use crate::citydb::{CityBy, CityDb};
use crate::config::Config;

/// `greenwave city ...`
#[derive(Debug, Subcommand)]
pub enum CityCmd {
    /// The bureau's figures across halls, from the city database
    Report(ReportArgs),
    /// The bureau's read-only web page: figures and charts across halls
    Serve(ServeArgs),
}

/// Where the city database is.
#[derive(Debug, Args)]
pub struct Database {
    /// The city database [default: `[city] database_url` of the
    /// configuration]
    #[arg(long, env = "GREENWAVE_CITY_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// The groupings of `city report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum By {
    /// Per hall.
    Hall,
    /// Per service day.
    Day,
    /// Per service.
    Service,
    /// Per roster category (低保, 特困, ...).
    Category,
    /// Per age band.
    Age,
    /// Per way of identification (ID card, priority card, manual).
    Way,
    /// Per lane.
    Lane,
    /// Per hour of the day the tickets were issued in (09:00 for
    /// 09:00–09:59, each hall's local time, all days of the period together).
    Hour,
}

impl From<By> for CityBy {
    fn from(b: By) -> CityBy {
        match b {
            By::Hall => CityBy::Hall,
            By::Day => CityBy::Day,
            By::Service => CityBy::Service,
            By::Category => CityBy::Category,
            By::Age => CityBy::Age,
            By::Way => CityBy::Way,
            By::Lane => CityBy::Lane,
            By::Hour => CityBy::Hour,
        }
    }
}

/// Output formats of `city report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for the terminal.
    Table,
    /// CSV.
    Csv,
    /// JSON.
    Json,
    /// An Excel workbook (needs --out).
    Xlsx,
}

/// Arguments of `city report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// First service day (YYYY-MM-DD)
    #[arg(long)]
    pub from: NaiveDate,
    /// Last service day (YYYY-MM-DD)
    #[arg(long)]
    pub to: NaiveDate,
    /// Group the rows by
    #[arg(long, value_enum, default_value_t = By::Hall)]
    pub by: By,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to this file instead of standard output (needed for xlsx)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub db: Database,
}

/// Arguments of `city serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: std::net::SocketAddr,
    #[command(flatten)]
    pub db: Database,
}

pub(super) fn run(config: Option<&Path>, cmd: CityCmd) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match cmd {
        CityCmd::Report(a) => {
            let url = database_url(config, &a.db)?;
            rt.block_on(report(&url, a))
        }
        CityCmd::Serve(a) => {
            let url = database_url(config, &a.db)?;
            rt.block_on(crate::city::page::serve(&url, a.listen))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn database_url(config: Option<&Path>, db: &Database) -> anyhow::Result<String> {
    if let Some(u) = &db.database_url {
        return Ok(u.clone());
    }
    let cfg = Config::load(&Config::locate(config)?)?;
    match cfg.city {
        Some(c) => Ok(c.database_url.expose().to_string()),
        None => anyhow::bail!(
            "no city database: give --database-url or set [city] database_url in {}",
            cfg.source.display()
        ),
    }
}

async fn report(url: &str, a: ReportArgs) -> anyhow::Result<ExitCode> {
    if a.from > a.to {
        anyhow::bail!("--from {} is after --to {}", a.from, a.to);
    }
    if a.format == Format::Xlsx && a.out.is_none() {
        anyhow::bail!("--format xlsx writes a file: add --out FILE.xlsx");
    }
    let db = CityDb::connect(url).await.map_err(|e| {
        anyhow::anyhow!("{e} (tried the database of --database-url / [city] database_url)")
    })?;
    let groups = db.report(a.from, a.to, a.by.into()).await?;
    let rows = rows(&groups);
    let out: Vec<u8> = match a.format {
        Format::Table => to_table(&rows).into_bytes(),
        Format::Csv => to_csv(&rows).into_bytes(),
        Format::Json => (serde_json::to_string_pretty(&rows)? + "\n").into_bytes(),
        Format::Xlsx => {
            let by = a.by.to_possible_value().map(|v| v.get_name().to_string());
            let title = format!(
                "全市绿波通道统计 {} 至 {}（按{}）",
                a.from,
                a.to,
                by_name(by.as_deref().unwrap_or(""))
            );
            to_xlsx(&rows, &title)?
        }
    };
    match &a.out {
        Some(p) => {
            std::fs::write(p, out).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            eprintln!("已写入 {}", p.display());
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn by_name(by: &str) -> &'static str {
    match by {
        "hall" => "大厅",
        "day" => "日期",
        "service" => "业务",
        "category" => "救助类别",
        "age" => "年龄段",
        "way" => "识别方式",
        "lane" => "通道",
        "hour" => "小时",
        _ => "分组",
    }
}
