//! Staff commands over the API: `issue`, `call`, `recall`, `start`,
//! `finish`, `noshow`, `transfer`, `queue`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};

use crate::api::{QueueView, TicketView};
use crate::config::Config;
use crate::queue::Lane;

/// Where the daemon is and who we are.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// The daemon's URL [default: from api.listen in the configuration]
    #[arg(long, env = "GREENWAVE_SERVER")]
    pub server: Option<String>,
    /// Bearer token [default: the window's token, or the manager token, from the configuration]
    #[arg(long, env = "GREENWAVE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print the JSON answer instead of a sentence
    #[arg(long)]
    pub json: bool,
}

/// A window command.
#[derive(Debug, Clone, Args)]
pub struct WindowArgs {
    /// Window number
    #[arg(long, short)]
    pub window: u32,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `greenwave call`.
#[derive(Debug, Clone, Args)]
pub struct CallArgs {
    #[command(flatten)]
    pub window: WindowArgs,
    /// Call this number instead of the next one
    #[arg(long)]
    pub number: Option<String>,
}

/// `greenwave issue`.
#[derive(Debug, Clone, Args)]
pub struct IssueArgs {
    /// Service code
    #[arg(long, short)]
    pub service: String,
    /// Issue in the priority lane (绿波通道): the manager's token only, with
    /// --reason (residents reach the lane through the roster)
    #[arg(long, requires = "reason")]
    pub priority: bool,
    /// Why the manager gives the priority lane (kept in the audit log)
    #[arg(long)]
    pub reason: Option<String>,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `greenwave transfer`.
#[derive(Debug, Clone, Args)]
pub struct TransferArgs {
    #[command(flatten)]
    pub window: WindowArgs,
    /// To this service code
    #[arg(long)]
    pub to_service: Option<String>,
    /// To this window only
    #[arg(long)]
    pub to_window: Option<u32>,
    /// A note for the next window
    #[arg(long)]
    pub note: Option<String>,
}

struct Client {
    base: String,
    token: String,
    agent: ureq::Agent,
    json: bool,
}

impl Client {
    fn new(config: Option<&Path>, s: &ServerArgs, window: Option<u32>) -> anyhow::Result<Client> {
        let cfg = match (&s.server, &s.token) {
            (Some(_), Some(_)) => None,
            _ => Some(Config::load(&Config::locate(config)?)?),
        };
        let base = match (&s.server, &cfg) {
            (Some(u), _) => u.trim_end_matches('/').to_string(),
            (None, Some(c)) => {
                let mut addr = c.api.listen;
                if addr.ip().is_unspecified() {
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                format!("http://{addr}")
            }
            (None, None) => unreachable!("config is loaded when --server is missing"),
        };
        let token = match (&s.token, &cfg) {
            (Some(t), _) => t.clone(),
            (None, Some(c)) => {
                let own = window.and_then(|n| c.windows.iter().find(|w| w.number == n));
                own.map(|w| w.token.expose().to_string())
                    .or_else(|| c.api.manager_token.as_ref().map(|t| t.expose().to_string()))
                    .or_else(|| c.windows.first().map(|w| w.token.expose().to_string()))
                    .context("no token: pass --token")?
            }
            (None, None) => unreachable!("config is loaded when --token is missing"),
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(15)))
            .build()
            .into();
        Ok(Client {
            base,
            token,
            agent,
            json: s.json,
        })
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Result<Value, String>> {
        let url = format!("{}{}", self.base, path);
        let auth = format!("Bearer {}", self.token);
        let resp = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
            (_, Some(b)) => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .send_json(&b),
            (_, None) => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .send_empty(),
        };
        let mut resp = resp.with_context(|| format!("无法连接 greenwave 服务 {}", self.base))?;
        let ok = resp.status().is_success();
        let v: Value = resp
            .body_mut()
            .read_json()
            .with_context(|| format!("{url}: 响应不是 JSON"))?;
        if ok {
            Ok(Ok(v))
        } else {
            Ok(Err(v["error"].as_str().unwrap_or("请求被拒绝").to_string()))
        }
    }

    fn ticket(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        done: impl Fn(&TicketView) -> String,
    ) -> anyhow::Result<ExitCode> {
        match self.send(method, path, body)? {
            Ok(v) if self.json => {
                println!("{}", serde_json::to_string_pretty(&v)?);
                Ok(ExitCode::SUCCESS)
            }
            Ok(v) => {
                let t: TicketView = serde_json::from_value(v)?;
                println!("{}", done(&t));
                Ok(ExitCode::SUCCESS)
            }
            Err(msg) => {
                eprintln!("{msg}");
                Ok(ExitCode::from(2))
            }
        }
    }
}

pub(super) fn issue(config: Option<&Path>, a: IssueArgs) -> anyhow::Result<ExitCode> {
    let c = Client::new(config, &a.server, None)?;
    let lane = if a.priority {
        Lane::Priority
    } else {
        Lane::Normal
    };
    c.ticket(
        "POST",
        "/api/tickets",
        Some(json!({ "service": a.service, "lane": lane, "reason": a.reason })),
        |t| {
            format!(
                "已取号 {}（{}，{}），前面还有 {} 人",
                t.number,
                t.service_name,
                t.lane.label(),
                t.ahead.unwrap_or(0)
            )
        },
    )
}

pub(super) fn call(config: Option<&Path>, a: CallArgs) -> anyhow::Result<ExitCode> {
    let w = a.window.window;
    let c = Client::new(config, &a.window.server, Some(w))?;
    let body = a.number.map(|n| json!({ "number": n }));
    c.ticket("POST", &format!("/api/windows/{w}/call"), body, |t| {
        format!("请 {} 号到 {w} 号窗口办理（{}）", t.number, t.lane.label())
    })
}

pub(super) fn window_op(
    config: Option<&Path>,
    a: WindowArgs,
    op: &'static str,
) -> anyhow::Result<ExitCode> {
    let w = a.window;
    let c = Client::new(config, &a.server, Some(w))?;
    c.ticket("POST", &format!("/api/windows/{w}/{op}"), None, |t| {
        format!("{} 号: {}", t.number, t.state_label)
    })
}

pub(super) fn transfer(config: Option<&Path>, a: TransferArgs) -> anyhow::Result<ExitCode> {
    let w = a.window.window;
    let c = Client::new(config, &a.window.server, Some(w))?;
    let body = json!({ "service": a.to_service, "window": a.to_window, "note": a.note });
    c.ticket(
        "POST",
        &format!("/api/windows/{w}/transfer"),
        Some(body),
        |t| format!("{} 号已转办: {}", t.number, t.service_name),
    )
}

pub(super) fn queue(config: Option<&Path>, a: ServerArgs) -> anyhow::Result<ExitCode> {
    let c = Client::new(config, &a, None)?;
    match c.send("GET", "/api/queue", None)? {
        Ok(v) if c.json => println!("{}", serde_json::to_string_pretty(&v)?),
        Ok(v) => print!("{}", render_queue(&serde_json::from_value(v)?)),
        Err(msg) => {
            eprintln!("{msg}");
            return Ok(ExitCode::from(2));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The queue as text for a terminal.
pub fn render_queue(q: &QueueView) -> String {
    let mut s = format!("{}  营业日 {}\n", q.hall, q.day);
    for sv in &q.services {
        s += &format!(
            "  {:<12} 绿波通道 {:>3} 人   普通 {:>3} 人\n",
            sv.name, sv.priority_waiting, sv.normal_waiting
        );
    }
    s += "窗口:\n";
    for w in &q.windows {
        let cur = w.current.as_deref().unwrap_or("—");
        let paused = if w.paused { "（暂停）" } else { "" };
        s += &format!("  {:>3} 号窗口  {cur}{paused}\n", w.number);
    }
    s += "等候:\n";
    if q.waiting.is_empty() {
        s += "  （无）\n";
    }
    for t in &q.waiting {
        s += &format!(
            "  {:<7} {:<12} {}\n",
            t.number,
            t.service_name,
            t.lane.label()
        );
    }
    s
}
