//! The bureau's figures over the city database: summed daily rows turned
//! back into figures, and the report's table, CSV, JSON and xlsx.

use serde::Serialize;

use crate::citydb::Tally;

/// The figures of a group across halls: the additive part of the hall's
/// [`crate::stats::Figures`], same names, same definitions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CityFigures {
    /// Tickets issued.
    pub issued: i64,
    /// Of which priority.
    pub priority: i64,
    /// Served to the end.
    pub served: i64,
    /// Priority services given (priority tickets served to the end).
    pub priority_served: i64,
    /// No-shows.
    pub no_show: i64,
    /// Transferred at least once.
    pub transferred: i64,
    /// Withdrawn by staff.
    pub cancelled: i64,
    /// Open at the day's end.
    pub expired: i64,
    /// Mean wait (issue → first call), seconds.
    pub wait_mean_s: f64,
    /// Longest wait, seconds.
    pub wait_max_s: f64,
    /// Mean service time, seconds.
    pub service_mean_s: f64,
    /// Accompanied cases.
    pub cases: i64,
    /// Of which closed.
    pub cases_closed: i64,
    /// Policies explained.
    pub policies_explained: i64,
    /// The residents' own ratings.
    pub resident_ratings: i64,
    /// Their satisfaction (非常满意 + 满意 + 基本满意) / ratings; none
    /// without ratings.
    pub resident_satisfaction: Option<f64>,
    /// Staff-entered ratings.
    pub staff_ratings: i64,
    /// Their satisfaction ((满意 + 基本满意) / ratings; 0 without).
    pub staff_satisfaction: f64,
    /// Priority residents identified by ID card.
    pub by_id_card: i64,
    /// ... by a bound priority card.
    pub by_priority_card: i64,
    /// ... by a manual check.
    pub by_manual: i64,
}

impl CityFigures {
    /// The figures of a summed tally.
    pub fn of(t: &Tally) -> CityFigures {
        let g = |n: &str| t.get(n);
        let mean = |sum: f64, n: i64| if n == 0 { 0.0 } else { sum / n as f64 };
        let resident = g("resident_ratings");
        let resident_ok =
            g("resident_very_satisfied") + g("resident_satisfied") + g("resident_fairly_satisfied");
        let staff = g("staff_ratings");
        CityFigures {
            issued: g("issued"),
            priority: g("priority"),
            served: g("served"),
            priority_served: g("priority_served"),
            no_show: g("no_show"),
            transferred: g("transferred"),
            cancelled: g("cancelled"),
            expired: g("expired"),
            wait_mean_s: mean(t.wait_sum_s, g("wait_n")),
            wait_max_s: t.wait_max_s,
            service_mean_s: mean(t.service_sum_s, g("service_n")),
            cases: g("cases"),
            cases_closed: g("cases_closed"),
            policies_explained: g("policies"),
            resident_ratings: resident,
            resident_satisfaction: (resident > 0).then(|| resident_ok as f64 / resident as f64),
            staff_ratings: staff,
            staff_satisfaction: mean(
                (g("staff_satisfied") + g("staff_fairly_satisfied")) as f64,
                staff,
            ),
            by_id_card: g("by_id_card"),
            by_priority_card: g("by_priority_card"),
            by_manual: g("by_manual"),
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CityRow {
    /// The group (hall name, day, service, category, age band, way, lane,
    /// hour of the day), `合计` for the total.
    pub key: String,
    /// Its figures.
    #[serde(flatten)]
    pub figures: CityFigures,
}

/// The rows of summed groups, with the total last.
pub fn rows(groups: &[(String, Tally)]) -> Vec<CityRow> {
    let mut total = Tally::default();
    let mut out: Vec<CityRow> = groups
        .iter()
        .map(|(k, t)| {
            total.add(t);
            CityRow {
                key: k.clone(),
                figures: CityFigures::of(t),
            }
        })
        .collect();
    out.push(CityRow {
        key: "合计".into(),
        figures: CityFigures::of(&total),
    });
    out
}

/// The columns, by machine name (CSV, JSON); the bureau reads their
/// Chinese headings ([`crate::tables::heading`]).
const COLUMNS: [&str; 21] = [
    "key",
    "issued",
    "priority",
    "served",
    "priority_served",
    "no_show",
    "transferred",
    "cancelled",
    "expired",
    "wait_mean_min",
    "wait_max_min",
    "service_mean_min",
    "cases",
    "cases_closed",
    "policies_explained",
    "resident_ratings",
    "resident_satisfaction",
    "staff_ratings",
    "by_id_card",
    "by_priority_card",
    "by_manual",
];

fn cells(r: &CityRow) -> Vec<String> {
    let f = &r.figures;
    let min = |s: f64| format!("{:.1}", s / 60.0);
    vec![
        r.key.clone(),
        f.issued.to_string(),
        f.priority.to_string(),
        f.served.to_string(),
        f.priority_served.to_string(),
        f.no_show.to_string(),
        f.transferred.to_string(),
        f.cancelled.to_string(),
        f.expired.to_string(),
        min(f.wait_mean_s),
        min(f.wait_max_s),
        min(f.service_mean_s),
        f.cases.to_string(),
        f.cases_closed.to_string(),
        f.policies_explained.to_string(),
        f.resident_ratings.to_string(),
        f.resident_satisfaction
            .map_or("—".into(), |s| format!("{:.1}%", s * 100.0)),
        f.staff_ratings.to_string(),
        f.by_id_card.to_string(),
        f.by_priority_card.to_string(),
        f.by_manual.to_string(),
    ]
}

/// A table for a terminal, columns aligned by display width.
pub fn to_table(rows: &[CityRow]) -> String {
    let mut grid: Vec<Vec<String>> = vec![COLUMNS
        .iter()
        .map(|c| crate::tables::heading(c).to_string())
        .collect()];
    grid.extend(rows.iter().map(cells));
    crate::tables::aligned(&grid)
}

/// CSV with the machine names as header (times in minutes).
pub fn to_csv(rows: &[CityRow]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(COLUMNS);
    for r in rows {
        let _ = w.write_record(cells(r));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The workbook: one sheet, the title naming the period and the grouping,
/// the bureau's headings.
pub fn to_xlsx(rows: &[CityRow], title: &str) -> anyhow::Result<Vec<u8>> {
    let csv = to_csv(rows);
    crate::tables::workbook(&[crate::tables::Sheet {
        name: "全市统计",
        title,
        csv: &csv,
    }])
}
