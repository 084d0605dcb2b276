//! `greenwave roster check`.

use std::path::Path;
use std::process::ExitCode;

use chrono::Utc;
use clap::Args;
use greenwave_drivers::id_number::{mask, IdNumber};

use crate::roster::install::{Roster, RosterAnswer};
use crate::store::{AuditEntry, Store};

/// Arguments of `greenwave roster check`.
#[derive(Debug, Args)]
pub struct Check {
    /// The resident's ID number
    id_number: String,
}

impl Check {
    /// Looks the number up, audited; prints no name. Exit codes: 0 listed,
    /// 1 not listed, 2 not a valid ID number, 3 no roster installed.
    pub(super) fn run(self, config: Option<&Path>) -> anyhow::Result<ExitCode> {
        let (cfg, rc) = super::hall(config)?;
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
        let id = match IdNumber::parse(&self.id_number) {
            Ok(id) => id,
            Err(e) => {
                audit(mask(&self.id_number), "invalid_id")?;
                println!("{}: 无效的身份证号码（{e}）", mask(&self.id_number));
                return Ok(ExitCode::from(2));
            }
        };
        let Some(roster) = Roster::open(&store, &cfg.data_dir, &rc)? else {
            audit(id.masked(), "no_roster")?;
            println!("{}: 本大厅尚未安装名单，无法核对", id.masked());
            return Ok(ExitCode::from(3));
        };
        let answer = roster.check(&id, today)?;
        let version = roster.state.version;
        match answer {
            RosterAnswer::NotListed => {
                audit(id.masked(), "not_listed")?;
                println!(
                    "{}: 身份证号码有效，不在名单内（名单版本 {version}）",
                    id.masked()
                );
                Ok(ExitCode::from(1))
            }
            RosterAnswer::Listed {
                category,
                valid_to,
                grants_priority,
            } => {
                audit(id.masked(), listed_result(grants_priority))?;
                let until = valid_to.map_or("长期".to_string(), |d| d.to_string());
                println!(
                    "{}: 在名单内，类别 {category}，有效期至 {until}；{}（名单版本 {version}）",
                    id.masked(),
                    if grants_priority {
                        "可走绿波通道"
                    } else {
                        "不享受绿波通道（类别不在优先范围或已过期）"
                    },
                );
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// The audit log's result for a listed resident.
fn listed_result(grants_priority: bool) -> &'static str {
    if grants_priority {
        "listed_priority"
    } else {
        "listed_no_priority"
    }
}
