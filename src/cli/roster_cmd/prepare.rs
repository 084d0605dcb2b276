//! `greenwave roster prepare`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use clap::Args;

use crate::config::Config;
use crate::roster::{
    load_hash_key, load_signing_key, prepare, Categories, ColumnMap, PrepareError, PrepareOptions,
    PrepareReport, Summary,
};

/// Arguments of `greenwave roster prepare`.
#[derive(Debug, Args)]
pub struct Prepare {
    /// The export: CSV (UTF-8, UTF-8 with BOM, GB18030) or .xlsx
    export: PathBuf,
    /// Directory with roster-signing.key and roster-hash.key
    #[arg(long)]
    keys: PathBuf,
    /// Roster version number (each new roster must be newer)
    #[arg(long)]
    version: u64,
    /// The roster file to write
    #[arg(long)]
    out: PathBuf,
    /// Leave invalid rows out instead of refusing the file; they are listed in the report
    #[arg(long)]
    skip_invalid: bool,
    /// Make a delta against this previous export (of version - 1, or --base-version)
    #[arg(long)]
    delta_from: Option<PathBuf>,
    /// The roster version the delta applies to [default: version - 1]
    #[arg(long)]
    base_version: Option<u64>,
    /// Where to write the report [default: OUT.report.txt]
    #[arg(long)]
    report: Option<PathBuf>,
}

impl Prepare {
    /// Prepares the roster file in a temporary file beside `--out`, which
    /// becomes `--out` only when the export is accepted; writes the report
    /// either way. Exit code 1: the export was refused.
    pub(super) fn run(self, config: Option<&Path>) -> anyhow::Result<ExitCode> {
        let (categories, columns) = categories_and_columns(config)?;
        let signing = load_signing_key(&self.keys.join("roster-signing.key"))?;
        let hash = load_hash_key(&self.keys.join("roster-hash.key"))?;
        let dir = self
            .out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".roster-")
            .tempfile_in(dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        let options = PrepareOptions {
            skip_invalid: self.skip_invalid,
            delta_from: self.delta_from,
            base_version: self.base_version,
            temp_dir: Some(dir.to_path_buf()),
            ..PrepareOptions::default()
        };
        let report_path = self.report.unwrap_or_else(|| {
            let mut p = self.out.clone().into_os_string();
            p.push(".report.txt");
            PathBuf::from(p)
        });
        let prepared = prepare(
            &self.export,
            &columns,
            &categories,
            &hash,
            &signing,
            self.version,
            Utc::now(),
            &options,
            tmp.as_file(),
        );
        match prepared {
            Ok(rep) => {
                tmp.persist(&self.out)
                    .with_context(|| format!("cannot write {}", self.out.display()))?;
                accepted(&rep, self.version, &self.out, &report_path)
            }
            Err(PrepareError::Refused { report }) => refused(&report, &report_path),
            Err(e) => Err(e.into()),
        }
    }
}

/// The hall's categories and column names: ops machines may have no hall
/// configuration, and then the defaults apply.
fn categories_and_columns(config: Option<&Path>) -> anyhow::Result<(Categories, ColumnMap)> {
    match Config::locate(config).ok().map(|p| Config::load(&p)) {
        Some(Ok(Config {
            roster: Some(r), ..
        })) => Ok((r.categories, r.columns)),
        Some(Err(e)) if config.is_some() => Err(e.into()),
        _ => Ok((
            Categories::new(
                crate::config::DEFAULT_CATEGORIES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                &["低保", "特困", "低保边缘"],
            )?,
            ColumnMap::default(),
        )),
    }
}

/// The roster file is written: the report to its file and to stdout.
fn accepted(
    rep: &PrepareReport,
    version: u64,
    out: &Path,
    report_path: &Path,
) -> anyhow::Result<ExitCode> {
    std::fs::write(report_path, rep.to_string())?;
    println!("已生成名单文件 {}（版本 {version}）", out.display());
    print!("{}", Summary(rep));
    println!("报告: {}", report_path.display());
    Ok(ExitCode::SUCCESS)
}

/// Invalid rows refused the export: the report to its file and to stderr.
fn refused(report: &PrepareReport, report_path: &Path) -> anyhow::Result<ExitCode> {
    std::fs::write(report_path, report.to_string())?;
    eprint!("{}", Summary(report));
    eprintln!(
        "名单被拒绝: {} 行无效（见 {}）；修正后重试，或加 --skip-invalid 跳过无效行",
        report.rejected_total,
        report_path.display()
    );
    Ok(ExitCode::from(1))
}
