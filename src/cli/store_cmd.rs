//! `greenwave store verify`: replays the journal and compares it with the
//! stored state, and checks the database against its high-water record.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Config;
use crate::store::Store;

/// Database commands.
#[derive(Debug, Subcommand)]
pub enum StoreCmd {
    /// Replay the event journal and check that every stored ticket matches it
    Verify,
}

pub(super) fn run(config: Option<&Path>, cmd: StoreCmd) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(&Config::locate(config)?)?;
    match cmd {
        StoreCmd::Verify => {
            let path = cfg.database_path();
            if !path.exists() {
                anyhow::bail!("数据库 {} 不存在", path.display());
            }
            // A zero-byte file is left as it is (opening it would write a
            // new, empty database into it).
            if std::fs::metadata(&path)?.len() == 0 {
                let problems = crate::hwm::verify_empty(&cfg.data_dir)?;
                return Ok(report(&problems, 0));
            }
            let store = Store::open(&path)?;
            let mut problems = crate::hall::verify(&store, &cfg.queue_config())?;
            problems.extend(crate::hwm::verify(&cfg.data_dir, &store)?);
            let events = store.journal()?.len();
            Ok(report(&problems, events))
        }
    }
}

fn report(problems: &[String], events: usize) -> ExitCode {
    if problems.is_empty() {
        println!("一致: {events} 条事件，全部号票状态与事件日志相符");
        ExitCode::SUCCESS
    } else {
        for p in problems {
            println!("不一致: {p}");
        }
        println!("{} 处不一致（共 {events} 条事件）", problems.len());
        ExitCode::from(3)
    }
}
