//! `greenwave roster status` (no arguments).

use std::path::Path;
use std::process::ExitCode;

use crate::store::Store;

/// Prints the installed roster's version, size, categories, dates,
/// signature and digests.
pub(super) fn run(config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let (cfg, rc) = super::hall(config)?;
    let store = Store::open(&cfg.database_path())?;
    match store.roster_state()? {
        None => println!("尚未安装名单"),
        Some(s) => {
            // Both times in one format, the hall's local time.
            let local = |d: chrono::DateTime<chrono::Utc>| {
                d.with_timezone(&cfg.day.timezone)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            };
            let at = chrono::DateTime::from_timestamp_millis(s.imported_at)
                .map(local)
                .unwrap_or_default();
            let made = chrono::DateTime::parse_from_rfc3339(&s.created_at)
                .map(|d| local(d.to_utc()))
                .unwrap_or_else(|_| s.created_at.clone());
            println!("名单版本    {}", s.version);
            println!("条数        {}", s.rows);
            println!("类别        {}", s.categories.join("、"));
            println!("制作时间    {made}");
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
    if let Some(src) = &rc.source {
        println!(
            "来源        {}（每 {} 检查）",
            src.url,
            humantime::format_duration(src.interval)
        );
    }
    Ok(ExitCode::SUCCESS)
}
