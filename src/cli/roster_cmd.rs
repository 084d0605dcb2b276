//! `greenwave roster keygen|prepare|import|status|check`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::os::unix::fs::DirBuilderExt;

use anyhow::Context;
use chrono::Utc;
use clap::Subcommand;
use greenwave_drivers::id_number::{mask, IdNumber};

use crate::config::Config;
use crate::roster::install::{self, ImportOptions, Roster, RosterAnswer, RosterConfig};
use crate::roster::{
    keygen, load_hash_key, load_signing_key, prepare, Categories, ColumnMap, PrepareError,
    PrepareOptions,
};
use crate::store::{AuditEntry, Store};

/// Roster commands.
#[derive(Debug, Subcommand)]
pub enum RosterCmd {
    /// Ops: make a signing key pair and a hashing key in DIR
    Keygen {
        /// Directory for the key files (created; existing keys are never overwritten)
        #[arg(long)]
        out: PathBuf,
    },
    /// Ops: validate the bureau's export, hash it, sign it into a roster file
    Prepare {
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
    },
    /// Hall: verify and install a roster file
    Import {
        /// The roster file
        file: PathBuf,
        /// Install even if the version is not newer than the installed one
        #[arg(long)]
        force: bool,
    },
    /// Hall: the installed roster
    Status,
    /// Hall staff: is this ID number on the roster? (prints no name)
    Check {
        /// The resident's ID number
        id_number: String,
    },
    /// Bench/demo: write a synthetic bureau export of made-up people
    #[command(hide = true)]
    Synth {
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
    },
    /// Bench: lookup latency on the installed roster, half hits, half misses
    #[command(hide = true)]
    BenchLookup {
        /// Rows of the synthetic export the roster was made from
        #[arg(long)]
        rows: u64,
        /// Its seed
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Lookups to time
        #[arg(long, default_value_t = 200_000)]
        samples: u64,
    },
}

pub(super) fn run(config: Option<&Path>, cmd: RosterCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        RosterCmd::Keygen { out } => {
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
        RosterCmd::Prepare {
            export,
            keys,
            version,
            out,
            skip_invalid,
            delta_from,
            base_version,
            report,
        } => {
            // Ops machines may have no hall configuration: then the default
            // categories and column names apply.
            let (categories, columns) = match Config::locate(config).ok().map(|p| Config::load(&p))
            {
                Some(Ok(Config {
                    roster: Some(r), ..
                })) => (r.categories, r.columns),
                Some(Err(e)) if config.is_some() => return Err(e.into()),
                _ => (
                    Categories::new(
                        crate::config::DEFAULT_CATEGORIES
                            .iter()
                            .map(|s| s.to_string())
                            .collect(),
                        &["低保", "特困", "低保边缘"],
                    )?,
                    ColumnMap::default(),
                ),
            };
            let signing = load_signing_key(&keys.join("roster-signing.key"))?;
            let hash = load_hash_key(&keys.join("roster-hash.key"))?;
            let dir = out
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let tmp = tempfile::Builder::new()
                .prefix(".roster-")
                .tempfile_in(dir)
                .with_context(|| format!("cannot write in {}", dir.display()))?;
            let options = PrepareOptions {
                skip_invalid,
                delta_from,
                base_version,
                temp_dir: Some(dir.to_path_buf()),
                ..PrepareOptions::default()
            };
            let report_path = report.unwrap_or_else(|| {
                let mut p = out.clone().into_os_string();
                p.push(".report.txt");
                PathBuf::from(p)
            });
            match prepare(
                &export,
                &columns,
                &categories,
                &hash,
                &signing,
                version,
                Utc::now(),
                &options,
                tmp.as_file(),
            ) {
                Ok(rep) => {
                    tmp.persist(&out)
                        .with_context(|| format!("cannot write {}", out.display()))?;
                    std::fs::write(&report_path, rep.to_string())?;
                    println!("已生成名单文件 {}（版本 {version}）", out.display());
                    print!("{rep}");
                    println!("报告: {}", report_path.display());
                    Ok(ExitCode::SUCCESS)
                }
                Err(PrepareError::Refused { report }) => {
                    std::fs::write(&report_path, report.to_string())?;
                    eprint!("{report}");
                    eprintln!(
                        "名单被拒绝: {} 行无效（见 {}）；修正后重试，或加 --skip-invalid 跳过无效行",
                        report.rejected_total,
                        report_path.display()
                    );
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
        RosterCmd::Synth {
            rows,
            seed,
            gb18030,
            out,
        } => synth(rows, seed, gb18030, &out),
        RosterCmd::BenchLookup {
            rows,
            seed,
            samples,
        } => bench_lookup(config, rows, seed, samples),
        RosterCmd::Import { file, force } => {
            let (cfg, rc) = hall(config)?;
            let mut store = Store::open(&cfg.database_path())?;
            let opts = ImportOptions {
                force,
                actor: "ops (cli)".into(),
            };
            let o = install::import(&mut store, &cfg.data_dir, &rc, &file, &opts)?;
            println!(
                "名单已更新: 版本 {}（{}），{} 条；新增/更新 {}，删除 {}",
                o.state.version, o.kind, o.state.rows, o.added, o.removed
            );
            Ok(ExitCode::SUCCESS)
        }
        RosterCmd::Status => {
            let (cfg, _) = hall(config)?;
            let store = Store::open(&cfg.database_path())?;
            match store.roster_state()? {
                None => println!("尚未安装名单"),
                Some(s) => {
                    let at = chrono::DateTime::from_timestamp_millis(s.imported_at)
                        .map(|d| {
                            d.with_timezone(&cfg.day.timezone)
                                .format("%Y-%m-%d %H:%M:%S")
                                .to_string()
                        })
                        .unwrap_or_default();
                    println!("名单版本    {}", s.version);
                    println!("条数        {}", s.rows);
                    println!("类别        {}", s.categories.join("、"));
                    println!("制作时间    {}", s.created_at);
                    println!("安装时间    {at}");
                    println!(
                        "签名        {}",
                        if s.signed {
                            "已验证"
                        } else {
                            "无（未要求签名）"
                        }
                    );
                    println!("文件摘要    {}", s.file_digest);
                    println!("内容摘要    {}", s.body_digest);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        RosterCmd::Check { id_number } => {
            let (cfg, rc) = hall(config)?;
            let store = Store::open(&cfg.database_path())?;
            let today = crate::queue::service_day(
                crate::queue::Timestamp(Utc::now().timestamp_millis()),
                &cfg.day,
            );
            let audit = |subject: String, result: &str| {
                store.audit(&AuditEntry {
                    at: Utc::now().timestamp_millis(),
                    actor: "staff (cli)".into(),
                    action: "roster.check".into(),
                    subject: Some(subject),
                    result: result.into(),
                    detail: None,
                })
            };
            let id = match IdNumber::parse(&id_number) {
                Ok(id) => id,
                Err(e) => {
                    audit(mask(&id_number), "invalid_id")?;
                    println!("{}: 无效的身份证号码（{e}）", mask(&id_number));
                    return Ok(ExitCode::from(2));
                }
            };
            let Some(roster) = Roster::open(&store, &cfg.data_dir, &rc)? else {
                audit(id.masked(), "no_roster")?;
                println!("{}: 本大厅尚未安装名单，无法核对", id.masked());
                return Ok(ExitCode::from(3));
            };
            let answer = roster.check(&id, today)?;
            match answer {
                RosterAnswer::NotListed => {
                    audit(id.masked(), "not_listed")?;
                    println!(
                        "{}: 身份证号码有效，不在名单内（名单版本 {}）",
                        id.masked(),
                        roster.state.version
                    );
                    Ok(ExitCode::from(1))
                }
                RosterAnswer::Listed {
                    category,
                    valid_to,
                    grants_priority,
                } => {
                    audit(
                        id.masked(),
                        if grants_priority {
                            "listed_priority"
                        } else {
                            "listed_no_priority"
                        },
                    )?;
                    let until = valid_to.map_or("长期".to_string(), |d| d.to_string());
                    println!(
                        "{}: 在名单内，类别 {category}，有效期至 {until}；{}（名单版本 {}）",
                        id.masked(),
                        if grants_priority {
                            "可走绿波通道"
                        } else {
                            "不享受绿波通道（类别不在优先范围或已过期）"
                        },
                        roster.state.version
                    );
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}

fn synth(rows: u64, seed: u64, gb18030: bool, out: &Path) -> anyhow::Result<ExitCode> {
    let format = if gb18030 {
        crate::roster::SyntheticFormat::CsvGb18030
    } else {
        crate::roster::SyntheticFormat::CsvUtf8
    };
    let f =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    crate::roster::generate_synthetic_export(rows, seed, format, f)?;
    println!("wrote {rows} synthetic rows to {}", out.display());
    Ok(ExitCode::SUCCESS)
}

fn bench_lookup(
    config: Option<&Path>,
    rows: u64,
    seed: u64,
    samples: u64,
) -> anyhow::Result<ExitCode> {
    let (cfg, rc) = hall(config)?;
    let store = Store::open(&cfg.database_path())?;
    let roster = Roster::open(&store, &cfg.data_dir, &rc)?.context("no roster installed")?;
    let today = chrono::Utc::now().date_naive();
    // Candidates prepared up front, so that only hash + lookup is timed.
    let mut ids = Vec::with_capacity(samples as usize);
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ seed;
    for k in 0..samples {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let s = if k % 2 == 0 {
            crate::roster::synthetic::synthetic_id(x % rows.max(1), seed)
        } else {
            crate::roster::synthetic::synthetic_id(x % rows.max(1), seed.wrapping_add(7_777_777))
        };
        if let Ok(id) = IdNumber::parse(&s) {
            ids.push(id);
        }
    }
    let mut times = Vec::with_capacity(ids.len());
    let mut hits = 0u64;
    for id in &ids {
        let t = std::time::Instant::now();
        let a = roster.check(id, today)?;
        times.push(t.elapsed());
        if a != RosterAnswer::NotListed {
            hits += 1;
        }
    }
    times.sort();
    let q = |p: f64| times[((times.len() as f64 - 1.0) * p) as usize];
    println!(
        "lookups {}  hits {}  p50 {:.2} µs  p99 {:.2} µs  max {:.2} µs",
        times.len(),
        hits,
        q(0.50).as_secs_f64() * 1e6,
        q(0.99).as_secs_f64() * 1e6,
        q(1.0).as_secs_f64() * 1e6
    );
    Ok(ExitCode::SUCCESS)
}

fn hall(config: Option<&Path>) -> anyhow::Result<(Config, RosterConfig)> {
    let cfg = Config::load(&Config::locate(config)?)?;
    let rc = cfg.roster.clone().with_context(|| {
        format!(
            "{}: no [roster] section: this hall has no roster configured",
            cfg.source.display()
        )
    })?;
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create {}", cfg.data_dir.display()))?;
    Ok((cfg, rc))
}
