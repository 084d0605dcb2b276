//! The manager's charts of a service day, drawn by the server as SVG
//! ([`crate::svg`]): people waiting and served per hour per lane,
//! and the waits per service. Pure: the figures come from the same facts
//! as every other statistic.

use chrono::{NaiveDate, Timelike};
use chrono_tz::Tz;

use super::{figures, GroupBy, Sources};
use crate::queue::{Lane, Timestamp};
use crate::store::{End, TicketSummary};
use crate::svg::{self, Bar, Series};

/// One hour of a day, per lane (priority first, then normal).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hour {
    /// The local hour (0..24).
    pub hour: u32,
    /// People waiting (issued, not yet called, not withdrawn) at the end of
    /// the hour.
    pub waiting: [usize; 2],
    /// Tickets served to the end within the hour.
    pub served: [usize; 2],
}

/// The chart's two lines: the priority lane and the general line
/// (appointments and walk-ins).
fn lane_index(l: Lane) -> usize {
    match l {
        Lane::Priority => 0,
        Lane::Appointment | Lane::Normal => 1,
    }
}

/// The hours of `day` from the first issue to the last event, in `tz`.
pub fn hourly(tickets: &[TicketSummary], day: NaiveDate, tz: Tz) -> Vec<Hour> {
    let day_tickets: Vec<&TicketSummary> = tickets.iter().filter(|t| t.day == day).collect();
    let hour_of = |t: Timestamp| {
        chrono::DateTime::from_timestamp_millis(t.0).map(|d| d.with_timezone(&tz).hour())
    };
    let first = day_tickets
        .iter()
        .filter_map(|t| hour_of(t.issued_at))
        .min();
    let last = day_tickets
        .iter()
        .flat_map(|t| [Some(t.issued_at), t.first_called_at, t.finished_at])
        .flatten()
        .filter_map(hour_of)
        .max();
    let (Some(first), Some(last)) = (first, last) else {
        return Vec::new();
    };
    let midnight = day
        .and_hms_opt(0, 0, 0)
        .and_then(|d| d.and_local_timezone(tz).earliest())
        .map_or(0, |d| d.timestamp_millis());
    (first..=last)
        .map(|hour| {
            let end = Timestamp(midnight + i64::from(hour + 1) * 3_600_000);
            let mut h = Hour {
                hour,
                ..Hour::default()
            };
            for t in &day_tickets {
                let i = lane_index(t.lane);
                let called = t.first_called_at.is_some_and(|c| c < end);
                // A withdrawn ticket never called: when it was withdrawn is
                // not among the facts, so it is not counted as waiting.
                let withdrawn = t.end == Some(End::Cancelled);
                if t.issued_at < end && !called && !withdrawn {
                    h.waiting[i] += 1;
                }
                if t.finished_at.is_some_and(|f| hour_of(f) == Some(hour)) {
                    h.served[i] += 1;
                }
            }
            h
        })
        .collect()
}

/// The chart of people waiting and served per hour, per lane.
pub fn hourly_svg(hours: &[Hour]) -> String {
    if hours.is_empty() {
        return empty("这一天没有号票");
    }
    let labels: Vec<String> = hours.iter().map(|h| format!("{:02}:00", h.hour)).collect();
    let series = |name: &str, f: &dyn Fn(&Hour) -> usize| Series {
        name: name.to_string(),
        values: hours.iter().map(|h| f(h) as f64).collect(),
    };
    svg::lines(
        "每小时等候与办结",
        &labels,
        &[
            series("等候 · 绿波", &|h| h.waiting[0]),
            series("等候 · 普通", &|h| h.waiting[1]),
            series("办结 · 绿波", &|h| h.served[0]),
            series("办结 · 普通", &|h| h.served[1]),
        ],
    )
}

/// The chart of waits per service (mean, with the 90th percentile), the
/// longest first; `name` gives a service's name.
pub fn waits_svg(src: &Sources<'_>, day: NaiveDate, name: &dyn Fn(&str) -> String) -> String {
    let mut rows = figures(src, Some(day), Some(day), GroupBy::Service);
    rows.retain(|r| r.key != "合计" && r.figures.wait.count > 0);
    if rows.is_empty() {
        return empty("这一天还没有叫号");
    }
    rows.sort_by(|a, b| b.figures.wait.mean_s.total_cmp(&a.figures.wait.mean_s));
    let top = rows
        .iter()
        .map(|r| r.figures.wait.p90_s)
        .fold(1.0_f64, f64::max);
    let bars: Vec<Bar> = rows
        .iter()
        .map(|r| {
            let w = &r.figures.wait;
            Bar {
                label: name(&r.key),
                share: w.mean_s / top,
                text: format!(
                    "均 {:.1} 分 · P90 {:.1} 分",
                    w.mean_s / 60.0,
                    w.p90_s / 60.0
                ),
                alert: w.mean_s > 30.0 * 60.0,
            }
        })
        .collect();
    svg::bars("各业务等候时间", &bars)
}

fn empty(text: &str) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 40" width="1000" height="40" role="img" aria-label="{0}"><text x="8" y="26" font-size="15" fill="#666">{0}</text></svg>"##,
        svg::esc(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::TicketId;

    fn ticket(
        id: u64,
        lane: Lane,
        issued: i64,
        called: Option<i64>,
        done: Option<i64>,
    ) -> TicketSummary {
        // 2026-11-30 00:00 in Shanghai is 2026-11-29 16:00 UTC.
        let base = 1_795_968_000_000i64;
        let at = |h: i64| Timestamp(base + h * 60_000);
        TicketSummary {
            id: TicketId(id),
            day: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            lane,
            service: "civil".into(),
            issued_at: at(issued),
            slot_at: None,
            first_called_at: called.map(at),
            started_at: called.map(at),
            finished_at: done.map(at),
            window: None,
            transfers: 0,
            end: done.map(|_| crate::store::End::Done),
            identified: None,
            profile: Default::default(),
        }
    }

    /// Minutes after midnight: 08:10 issued, called 09:20, served 09:40;
    /// 08:50 priority, called 08:55, served 10:05; 09:30 normal, never
    /// called.
    #[test]
    fn waiting_is_counted_at_each_hours_end_and_served_in_its_hour() {
        let tickets = [
            ticket(1, Lane::Normal, 490, Some(560), Some(580)),
            ticket(2, Lane::Priority, 530, Some(535), Some(605)),
            ticket(3, Lane::Normal, 570, None, None),
        ];
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let h = hourly(&tickets, tickets[0].day, tz);
        let view: Vec<(u32, [usize; 2], [usize; 2])> =
            h.iter().map(|h| (h.hour, h.waiting, h.served)).collect();
        assert_eq!(
            view,
            vec![
                (8, [0, 1], [0, 0]),
                (9, [0, 1], [0, 1]),
                (10, [0, 1], [1, 0]),
            ]
        );
    }
}
