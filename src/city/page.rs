//! `greenwave city serve`: the bureau's read-only page. One HTML page with
//! the figures across halls for a period, four charts drawn by the server
//! ([`crate::svg`]: priority services per day, satisfaction, tickets issued
//! and served by the hour of the day per lane, the roster behind), and
//! which halls' roster is behind. No script, no
//! external asset, no personal data (the city database holds none).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{Duration, NaiveDate};
use tokio::sync::Mutex;

use super::report::{rows, CityRow};
use crate::citydb::{CityBy, CityDb, HallStatus, Tally};
use crate::svg::{self, esc, Bar, Series};

/// The page's period (`?from=YYYY-MM-DD&to=YYYY-MM-DD`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Period {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// What the page shows, read from the city database.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Figures by hall, total last.
    pub by_hall: Vec<CityRow>,
    /// Priority services per hall and day.
    pub daily: Vec<(String, NaiveDate, i64)>,
    /// The halls.
    pub halls: Vec<HallStatus>,
    /// Summed over the halls and days, per hour of the day and lane
    /// (`09:00 priority`, [`CityBy::HourLane`]).
    pub hours: Vec<(String, Tally)>,
}

type Db = Arc<Mutex<CityDb>>;

/// Serves the page on `listen` until interrupted.
pub async fn serve(url: &str, listen: std::net::SocketAddr) -> anyhow::Result<()> {
    let db = CityDb::connect(url).await?;
    let app = Router::new()
        .route("/", get(page))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(Arc::new(Mutex::new(db)));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    eprintln!("全市统计页面：http://{listen}/");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

async fn page(State(db): State<Db>, Query(p): Query<Period>) -> Response {
    let to = p.to.unwrap_or_else(|| chrono::Local::now().date_naive());
    let from = p.from.unwrap_or(to - Duration::days(29));
    let db = db.lock().await;
    let read = async {
        let by_hall = rows(&db.report(from, to, CityBy::Hall).await?);
        let daily = db.priority_served_per_hall_day(from, to).await?;
        let halls = db.halls().await?;
        let hours = db.report(from, to, CityBy::HourLane).await?;
        Ok::<_, crate::citydb::CityError>(Model {
            from,
            to,
            by_hall,
            daily,
            halls,
            hours,
        })
    };
    match read.await {
        Ok(m) => Html(render(&m)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "city page: database read failed");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                Html("<!doctype html><meta charset=utf-8><p>暂时无法读取全市数据库，请稍后刷新。</p>".to_string()),
            )
                .into_response()
        }
    }
}

/// The page.
pub fn render(m: &Model) -> String {
    let total = m
        .by_hall
        .last()
        .map(|r| r.figures.clone())
        .unwrap_or_default();
    let pct = |s: Option<f64>| s.map_or("—".to_string(), |s| format!("{:.1}%", s * 100.0));
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>全市绿波通道统计</title><style>{CSS}</style></head><body>
<header><h1>全市绿波通道统计</h1><form method="get"><label>自 <input type="date" name="from" value="{from}"></label> <label>至 <input type="date" name="to" value="{to}"></label> <button>查看</button></form></header>
<section class="cards"><div><b id="halls">{halls}</b>个大厅</div><div><b id="priority-served">{ps}</b>人次绿波办结</div><div><b id="cases">{cases}</b>件协办</div><div><b id="policies">{pol}</b>项政策讲解</div><div><b id="satisfaction">{sat}</b>群众满意率</div></section>"#,
        from = m.from,
        to = m.to,
        halls = m.halls.len(),
        ps = total.priority_served,
        cases = total.cases,
        pol = total.policies_explained,
        sat = pct(total.resident_satisfaction),
    );
    h += &format!(
        "<section><h2>每日绿波办结（各大厅）</h2>{}</section>",
        daily_chart(m)
    );
    h += &format!(
        "<section><h2>群众满意率（各大厅）</h2>{}</section>",
        satisfaction_chart(m)
    );
    h += &format!(
        "<section id=\"hours\"><h2>各时段取号与办结（全市，按取号时间）</h2>{}</section>",
        hours_part(m)
    );
    h += &format!(
        "<section id=\"roster\"><h2>低收入名单版本</h2>{}</section>",
        roster_part(m)
    );
    h += &table(m);
    h += "<footer>数据来自各大厅推送的统计，不含身份证号、姓名等个人信息。</footer></body></html>";
    h
}

const CSS: &str = "body{font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif;margin:0 auto;max-width:1100px;padding:16px;color:#222}
header{display:flex;justify-content:space-between;align-items:center;flex-wrap:wrap;gap:8px}
h1{font-size:26px;margin:8px 0}h2{font-size:19px;margin:20px 0 8px}
.cards{display:flex;gap:12px;flex-wrap:wrap}.cards div{border:1px solid #ccc;border-radius:8px;padding:10px 16px;min-width:120px}
.cards b{display:block;font-size:28px;color:#1b7f3b}
table{border-collapse:collapse;font-size:14px;width:100%}th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}tr.total td{font-weight:bold}.behind{color:#c0392b;font-weight:bold}
footer{margin-top:24px;color:#666;font-size:13px}";

fn days(m: &Model) -> Vec<NaiveDate> {
    let n = (m.to - m.from).num_days().clamp(0, 366);
    (0..=n).map(|i| m.from + Duration::days(i)).collect()
}

/// The seven halls with most priority services have a line each; the rest
/// share one (`其他大厅`).
fn daily_chart(m: &Model) -> String {
    let days = days(m);
    let index: BTreeMap<NaiveDate, usize> = days.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let mut per: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (hall, day, n) in &m.daily {
        if let Some(&i) = index.get(day) {
            per.entry(hall).or_insert_with(|| vec![0.0; days.len()])[i] += *n as f64;
        }
    }
    let mut halls: Vec<(&str, Vec<f64>)> = per.into_iter().collect();
    halls.sort_by(|a, b| b.1.iter().sum::<f64>().total_cmp(&a.1.iter().sum::<f64>()));
    let mut series: Vec<Series> = Vec::new();
    let mut rest = vec![0.0; days.len()];
    for (i, (hall, v)) in halls.into_iter().enumerate() {
        if i < 7 {
            series.push(Series {
                name: hall.to_string(),
                values: v,
            });
        } else {
            rest.iter_mut().zip(v).for_each(|(a, b)| *a += b);
        }
    }
    if rest.iter().any(|v| *v > 0.0) {
        series.push(Series {
            name: "其他大厅".into(),
            values: rest,
        });
    }
    if series.is_empty() {
        return "<p>这段时间没有数据。</p>".into();
    }
    let labels: Vec<String> = days.iter().map(|d| d.format("%m-%d").to_string()).collect();
    svg::lines("每日绿波办结", &labels, &series)
}

/// The hours of the day across the city: per lane, the tickets issued in
/// each hour and how many of them were served to the end (a line each),
/// then the same as a table. Hours from the first to the last with
/// tickets; lanes as the data has them.
fn hours_part(m: &Model) -> String {
    let mut per: BTreeMap<(u32, &str), Tally> = BTreeMap::new();
    for (key, t) in &m.hours {
        let (hour, lane) = key.split_once(' ').unwrap_or((key.as_str(), "-"));
        let Some(h) = hour.get(..2).and_then(|h| h.parse::<u32>().ok()) else {
            continue;
        };
        per.entry((h, lane)).or_default().add(t);
    }
    let (Some(first), Some(last)) = (per.keys().map(|k| k.0).min(), per.keys().map(|k| k.0).max())
    else {
        return "<p>这段时间没有数据。</p>".into();
    };
    let mut lanes: Vec<&str> = per.keys().map(|k| k.1).collect();
    lanes.sort_by_key(|l| (*l != "priority", *l));
    lanes.dedup();
    let hours: Vec<u32> = (first..=last).collect();
    let count = |h: u32, lane: &str, what: &str| per.get(&(h, lane)).map_or(0, |t| t.get(what));
    let mut series = Vec::new();
    for (what, word) in [("issued", "取号"), ("served", "办结")] {
        for lane in &lanes {
            series.push(Series {
                name: format!("{word} · {}", lane_name(lane)),
                values: hours.iter().map(|h| count(*h, lane, what) as f64).collect(),
            });
        }
    }
    let labels: Vec<String> = hours.iter().map(|h| format!("{h:02}:00")).collect();
    let mut t = String::from("<table id=\"hours-table\"><thead><tr><th>时段</th>");
    for s in &series {
        let _ = write!(t, "<th>{}</th>", esc(&s.name));
    }
    t += "</tr></thead><tbody>";
    for (i, label) in labels.iter().enumerate() {
        let _ = write!(t, "<tr><td>{label}</td>");
        for s in &series {
            let _ = write!(t, "<td>{}</td>", s.values[i]);
        }
        t += "</tr>";
    }
    t += "</tbody></table>";
    svg::lines("各时段取号与办结", &labels, &series) + &t
}

/// A lane as the bureau knows it (`绿波通道`, `普通`), its code when this
/// greenwave does not know it.
fn lane_name(code: &str) -> String {
    crate::queue::Lane::parse(code).map_or_else(|| code.to_string(), |l| l.label().to_string())
}

/// Worst first; under 80 % in red.
fn satisfaction_chart(m: &Model) -> String {
    let mut rated: Vec<&CityRow> = m
        .by_hall
        .iter()
        .filter(|r| r.key != "合计" && r.figures.resident_satisfaction.is_some())
        .collect();
    if rated.is_empty() {
        return "<p>这段时间还没有群众评价。</p>".into();
    }
    rated.sort_by(|a, b| {
        a.figures
            .resident_satisfaction
            .partial_cmp(&b.figures.resident_satisfaction)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let bars: Vec<Bar> = rated
        .iter()
        .map(|r| {
            let s = r.figures.resident_satisfaction.unwrap_or(0.0);
            Bar {
                label: r.key.clone(),
                share: s,
                text: format!("{:.1}%（{}条）", s * 100.0, r.figures.resident_ratings),
                alert: s < 0.8,
            }
        })
        .collect();
    svg::bars("群众满意率", &bars)
}

fn roster_part(m: &Model) -> String {
    let newest = m.halls.iter().filter_map(|h| h.roster_version).max();
    let Some(newest) = newest else {
        return "<p>还没有大厅报告名单版本。</p>".into();
    };
    let behind: Vec<&HallStatus> = m
        .halls
        .iter()
        .filter(|h| h.roster_version.is_none_or(|v| v < newest))
        .collect();
    if behind.is_empty() {
        return format!(
            "<p id=\"roster-ok\">全部 {} 个大厅均已安装最新名单（第 {newest} 版）。</p>",
            m.halls.len()
        );
    }
    let bars: Vec<Bar> = behind
        .iter()
        .map(|h| {
            let v = h.roster_version.unwrap_or(0);
            Bar {
                label: h.name.clone(),
                share: (newest - v) as f64 / newest.max(1) as f64,
                text: match h.roster_version {
                    Some(v) => format!("第 {v} 版，落后 {} 版", newest - v),
                    None => "未安装名单".into(),
                },
                alert: true,
            }
        })
        .collect();
    format!(
        "<p class=\"behind\">{} 个大厅的名单落后于最新的第 {newest} 版：</p>{}",
        behind.len(),
        svg::bars("名单落后的大厅", &bars)
    )
}

fn table(m: &Model) -> String {
    let mut t = String::from(
        "<section><h2>各大厅统计</h2><table id=\"halls-table\"><thead><tr><th>大厅</th><th>取号</th><th>绿波</th><th>办结</th><th>绿波办结</th><th>平均等候(分)</th><th>协办</th><th>讲解政策</th><th>群众评价</th><th>群众满意率</th><th>最近推送</th></tr></thead><tbody>",
    );
    let last: BTreeMap<&str, String> = m
        .halls
        .iter()
        .map(|h| {
            let at = h.last_push.map_or("—".to_string(), |t| {
                t.with_timezone(&chrono::Local)
                    .format("%m-%d %H:%M")
                    .to_string()
            });
            (h.name.as_str(), at)
        })
        .collect();
    for r in &m.by_hall {
        let f = &r.figures;
        let total = r.key == "合计";
        let _ = write!(
            t,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if total { " class=\"total\"" } else { "" },
            esc(&r.key),
            f.issued,
            f.priority,
            f.served,
            f.priority_served,
            f.wait_mean_s / 60.0,
            f.cases,
            f.policies_explained,
            f.resident_ratings,
            f.resident_satisfaction.map_or("—".into(), |s| format!("{:.1}%", s * 100.0)),
            last.get(r.key.as_str()).map_or("", |s| s.as_str()),
        );
    }
    t + "</tbody></table></section>"
}
