//! Figures over the event journal, as pure functions: the CLI (`greenwave
//! stats`) and, later, the manager API and the daily CSV all call
//! [`figures`], so they agree to the digit.
//!
//! Per ticket the journal gives: its issue (day, lane, service), its first
//! call (waiting time = first call − issue), its start and finish (service
//! time = finish − start), transfers, and how it ended (done, no-show,
//! cancelled, expired at the day's rollover).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::queue::{Event, Lane, TicketId, Timestamp};
use crate::store::JournalEntry;

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupBy {
    /// Service day.
    Day,
    /// The service the ticket was issued for.
    Service,
    /// The window that served it last (tickets never called: `-`).
    Window,
    /// Priority or normal lane.
    Lane,
}

/// Mean, median, 90th percentile and maximum of a set of durations, in
/// seconds (nearest-rank percentiles); all zero when empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Dist {
    /// How many values.
    pub count: usize,
    /// Mean.
    pub mean_s: f64,
    /// Median (nearest rank).
    pub p50_s: f64,
    /// 90th percentile (nearest rank).
    pub p90_s: f64,
    /// Maximum.
    pub max_s: f64,
}

impl Dist {
    /// The distribution of `values` (seconds).
    pub fn of(mut values: Vec<f64>) -> Dist {
        if values.is_empty() {
            return Dist::default();
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let rank = |p: f64| values[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        Dist {
            count: n,
            mean_s: values.iter().sum::<f64>() / n as f64,
            p50_s: rank(0.5),
            p90_s: rank(0.9),
            max_s: values[n - 1],
        }
    }
}

/// The figures of one group.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Tickets issued.
    pub issued: usize,
    /// Of which in the priority lane.
    pub priority: usize,
    /// Served to the end.
    pub served: usize,
    /// Ended as no-show.
    pub no_show: usize,
    /// Transferred at least once.
    pub transferred: usize,
    /// Withdrawn by staff.
    pub cancelled: usize,
    /// Still open at the day's end.
    pub expired: usize,
    /// Share of priority tickets among those issued (0..1).
    pub priority_share: f64,
    /// Issue → first call.
    pub wait: Dist,
    /// Start → finish.
    pub service: Dist,
}

/// One row: the group's key and its figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Day, service code, window number or lane; `合计` for the total.
    pub key: String,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Default, Clone)]
struct Life {
    day: Option<NaiveDate>,
    lane: Option<Lane>,
    service: String,
    issued_at: Option<Timestamp>,
    first_call: Option<Timestamp>,
    started: Option<Timestamp>,
    finished: Option<Timestamp>,
    window: Option<u32>,
    transfers: u32,
    end: Option<&'static str>,
}

/// The figures of the tickets issued on days `from..=to` (either bound
/// optional), grouped by `by`, followed by the total row.
pub fn figures(
    journal: &[JournalEntry],
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    by: GroupBy,
) -> Vec<Row> {
    let mut lives: HashMap<TicketId, Life> = HashMap::new();
    for e in journal {
        match &e.event {
            Event::Issued { ticket } => {
                lives.insert(
                    ticket.id,
                    Life {
                        day: Some(ticket.day),
                        lane: Some(ticket.lane),
                        service: ticket.origin_service.clone(),
                        issued_at: Some(ticket.issued_at),
                        ..Life::default()
                    },
                );
            }
            Event::Called { id, window, at, .. } => {
                if let Some(l) = lives.get_mut(id) {
                    l.first_call.get_or_insert(*at);
                    l.window = Some(*window);
                    l.end = None;
                }
            }
            Event::Started { id, at, .. } => {
                if let Some(l) = lives.get_mut(id) {
                    l.started = Some(*at);
                }
            }
            Event::Finished { id, at, .. } => {
                if let Some(l) = lives.get_mut(id) {
                    l.finished = Some(*at);
                    l.end = Some("done");
                }
            }
            Event::NoShow { id, .. } => {
                if let Some(l) = lives.get_mut(id) {
                    l.end = Some("no_show");
                }
            }
            Event::Rejoined { id, .. } => {
                if let Some(l) = lives.get_mut(id) {
                    l.end = None;
                }
            }
            Event::Transferred { id, .. } => {
                if let Some(l) = lives.get_mut(id) {
                    l.transfers += 1;
                }
            }
            Event::Cancelled { id, .. } => {
                if let Some(l) = lives.get_mut(id) {
                    l.end = Some("cancelled");
                }
            }
            Event::Upgraded { id, .. } => {
                if let Some(l) = lives.get_mut(id) {
                    l.lane = Some(Lane::Priority);
                }
            }
            Event::DayRolledOver { expired, .. } => {
                for id in expired {
                    if let Some(l) = lives.get_mut(id) {
                        l.end = Some("expired");
                    }
                }
            }
            Event::Recalled { .. } | Event::Paused { .. } | Event::Resumed { .. } => {}
        }
    }

    let mut groups: BTreeMap<String, Vec<&Life>> = BTreeMap::new();
    let mut all: Vec<&Life> = Vec::new();
    for l in lives.values() {
        let Some(day) = l.day else { continue };
        if from.is_some_and(|f| day < f) || to.is_some_and(|t| day > t) {
            continue;
        }
        let key = match by {
            GroupBy::Day => day.to_string(),
            GroupBy::Service => l.service.clone(),
            GroupBy::Window => l.window.map_or("-".to_string(), |w| w.to_string()),
            GroupBy::Lane => l.lane.map_or("-", Lane::as_str).to_string(),
        };
        groups.entry(key).or_default().push(l);
        all.push(l);
    }
    let mut rows: Vec<Row> = groups
        .into_iter()
        .map(|(key, ls)| Row {
            key,
            figures: summarise(&ls),
        })
        .collect();
    if by == GroupBy::Window {
        // Windows in numeric order, "-" last.
        rows.sort_by_key(|r| r.key.parse::<u32>().unwrap_or(u32::MAX));
    }
    rows.push(Row {
        key: "合计".into(),
        figures: summarise(&all),
    });
    rows
}

fn summarise(lives: &[&Life]) -> Figures {
    let count = |e: &str| lives.iter().filter(|l| l.end == Some(e)).count();
    let issued = lives.len();
    let priority = lives
        .iter()
        .filter(|l| l.lane == Some(Lane::Priority))
        .count();
    let secs = |a: Timestamp, b: Timestamp| b.since(a).as_secs_f64();
    Figures {
        issued,
        priority,
        served: count("done"),
        no_show: count("no_show"),
        transferred: lives.iter().filter(|l| l.transfers > 0).count(),
        cancelled: count("cancelled"),
        expired: count("expired"),
        priority_share: if issued == 0 {
            0.0
        } else {
            priority as f64 / issued as f64
        },
        wait: Dist::of(
            lives
                .iter()
                .filter_map(|l| Some(secs(l.issued_at?, l.first_call?)))
                .collect(),
        ),
        service: Dist::of(
            lives
                .iter()
                .filter(|l| l.end == Some("done"))
                .filter_map(|l| Some(secs(l.started?, l.finished?)))
                .collect(),
        ),
    }
}

/// The CSV columns, in order (documented in the README).
pub const CSV_HEADER: &str = "key,issued,priority,served,no_show,transferred,cancelled,expired,priority_share,\
wait_mean_s,wait_p50_s,wait_p90_s,wait_max_s,service_mean_s,service_p50_s,service_p90_s,service_max_s";

/// Rows as CSV with [`CSV_HEADER`].
pub fn to_csv(rows: &[Row]) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    for r in rows {
        let f = &r.figures;
        out += &format!(
            "{},{},{},{},{},{},{},{},{:.4},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1}\n",
            r.key,
            f.issued,
            f.priority,
            f.served,
            f.no_show,
            f.transferred,
            f.cancelled,
            f.expired,
            f.priority_share,
            f.wait.mean_s,
            f.wait.p50_s,
            f.wait.p90_s,
            f.wait.max_s,
            f.service.mean_s,
            f.service.p50_s,
            f.service.p90_s,
            f.service.max_s
        );
    }
    out
}

/// Rows as a table for a terminal (minutes for times).
pub fn to_table(rows: &[Row]) -> String {
    let m = |s: f64| format!("{:.1}", s / 60.0);
    let mut out = format!(
        "{:<12} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7} {:>9} {:>9} {:>9} {:>9}\n",
        "分组",
        "取号",
        "绿波",
        "办结",
        "过号",
        "转办",
        "取消",
        "过期",
        "绿波占比",
        "等候均值",
        "等候P90",
        "办理均值",
        "办理P90"
    );
    for r in rows {
        let f = &r.figures;
        out += &format!(
            "{:<12} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7.1}% {:>9} {:>9} {:>9} {:>9}\n",
            r.key,
            f.issued,
            f.priority,
            f.served,
            f.no_show,
            f.transferred,
            f.cancelled,
            f.expired,
            f.priority_share * 100.0,
            m(f.wait.mean_s),
            m(f.wait.p90_s),
            m(f.service.mean_s),
            m(f.service.p90_s)
        );
    }
    out += "（时间单位：分钟）\n";
    out
}
