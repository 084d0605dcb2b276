//! `greenwave demo`: a short, self-contained demonstration. Starts the real
//! daemon on a throw-away hall (config/demo.toml, embedded), issues tickets
//! in both lanes, calls them from two windows through the staff API, prints
//! the queue, and shuts down leaving nothing running.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};

use crate::api::{QueueView, TicketView};
use crate::config::Config;
use crate::daemon::Daemon;
use crate::hall::SystemClock;

/// The demo hall's configuration.
pub const DEMO_CONFIG: &str = include_str!("../../config/demo.toml");

/// Arguments of `greenwave demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo hall in this directory instead of a temporary one
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

pub(super) fn run(a: DemoArgs) -> anyhow::Result<ExitCode> {
    let tmp;
    let dir = match a.dir {
        Some(d) => d,
        None => {
            tmp = tempfile::Builder::new()
                .prefix("greenwave-demo-")
                .tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&dir)?;
    let cfg_path = dir.join("demo.toml");
    std::fs::write(&cfg_path, DEMO_CONFIG)?;
    let cfg = Config::load(&cfg_path)?;
    let token = cfg
        .api
        .manager_token
        .as_ref()
        .map(|t| t.expose().to_string())
        .context("demo config has a manager token")?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let daemon = rt.block_on(Daemon::start(cfg, Arc::new(SystemClock)))?;
    let base = format!("http://{}", daemon.addr);
    println!("== greenwave 演示 ==");
    println!(
        "守护进程已启动，员工接口 {base}，数据目录 {}",
        dir.display()
    );

    let result = script(&base, &token);
    rt.block_on(daemon.shutdown())?;
    println!("守护进程已停止，演示结束。");
    result?;
    Ok(ExitCode::SUCCESS)
}

fn script(base: &str, token: &str) -> anyhow::Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let post = |path: &str, body: Value| -> anyhow::Result<Value> {
        let mut r = agent
            .post(format!("{base}{path}"))
            .header("Authorization", &format!("Bearer {token}"))
            .send_json(&body)?;
        Ok(r.body_mut().read_json()?)
    };

    println!("\n-- 居民取号 --");
    let arrivals = [
        ("civil", "normal", "居民甲（普通）"),
        ("civil", "normal", "居民乙（普通）"),
        ("civil", "priority", "居民丙（低保，名单内）"),
        ("medical", "normal", "居民丁（普通）"),
        ("civil", "priority", "居民戊（特困，名单内）"),
        ("medical", "priority", "居民己（低保边缘，名单内）"),
    ];
    for (service, lane, who) in arrivals {
        let t: TicketView = serde_json::from_value(post(
            "/api/tickets",
            json!({ "service": service, "lane": lane }),
        )?)?;
        println!(
            "{who} 取号 {:<6} {}  {}  前面还有 {} 人",
            t.number,
            t.service_name,
            t.lane.label(),
            t.ahead.unwrap_or(0)
        );
    }

    println!("\n-- 窗口叫号（绿波通道优先，普通号不会被饿死）--");
    for (window, finish_first) in [
        (1, false),
        (2, false),
        (1, true),
        (2, true),
        (1, true),
        (2, true),
    ] {
        if finish_first {
            post(&format!("/api/windows/{window}/finish"), json!({}))?;
        }
        let v = post(&format!("/api/windows/{window}/call"), json!({}))?;
        match serde_json::from_value::<TicketView>(v.clone()) {
            Ok(t) => println!(
                "请 {} 号到 {window} 号窗口办理（{}）",
                t.number,
                t.lane.label()
            ),
            Err(_) => println!("{window} 号窗口: {}", v["error"].as_str().unwrap_or("?")),
        }
    }

    println!("\n-- 当前队列 --");
    let mut r = agent
        .get(format!("{base}/api/queue"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()?;
    let q: QueueView = r.body_mut().read_json()?;
    print!("{}", super::client::render_queue(&q));
    Ok(())
}
