//! The city: what a hall pushes to the city database and how the bureau's
//! figures are read back. The hall computes its daily figures with the
//! statistics' own pure function ([`crate::stats::grouped`]), so the
//! city's figures for one hall are the hall's `greenwave stats` figures
//! (the additive ones: counts, means, maxima; percentiles are not
//! additive and the city does not report them).
//!
//! What leaves a hall (README "What leaves a hall"): per ticket its day,
//! service, lane, way of identification, roster category, age band, times,
//! whether it was accompanied, the policies explained and its rating; per
//! day the figures; the roster version installed; priority card bindings
//! (card UID and roster entry hash). Never an ID number, a name, a birth
//! date, a ticket's person hash or a free-text note.

pub mod page;
pub mod push;
pub mod report;
pub mod synthetic;

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::citydb::{CityTicket, DailyKey, DailyRow, Tally, COUNTS};
use crate::queue::{TicketId, Timestamp};
use crate::stats::{Figures, Sources};
use crate::store::{End, Records, TicketSummary};

/// A daily row's value of a ticket, for one dimension.
type KeyOf<'a> = dyn Fn(&TicketSummary) -> String + 'a;

/// The daily rows of the days in `records` (which must hold whole days):
/// per day, one row per value of each dimension (service, lane, way,
/// category, age band, and the hour of the day with the lane), each
/// computed by the statistics' own function. `tz` is the hall's time zone:
/// the hour rows' keys are `09:00 priority` (the hour the tickets were
/// issued in, [`crate::stats::hour_of_day`] as `greenwave stats --by hour`
/// has it, a space, the lane), so the city's hours are the hall's.
pub fn daily_rows(records: &Records, tz: chrono_tz::Tz) -> Vec<DailyRow> {
    let src = Sources::of(records).in_tz(tz);
    let or_dash = |s: Option<&str>| s.unwrap_or("-").to_string();
    let hour = |t: &TicketSummary| {
        let h = crate::stats::hour_of_day(t.issued_at, Some(tz));
        format!("{h} {}", t.lane.as_str())
    };
    let dims: [(&'static str, &KeyOf); 6] = [
        ("service", &|t| t.service.to_string()),
        ("lane", &|t| t.lane.as_str().to_string()),
        ("way", &|t| or_dash(t.identified.map(|w| w.as_str()))),
        ("category", &|t| or_dash(t.profile.category.as_deref())),
        ("age", &|t| or_dash(t.profile.age_band.map(|b| b.as_str()))),
        ("hour", &hour),
    ];
    let mut out = Vec::new();
    for (dim, key) in dims {
        out.extend(
            crate::stats::grouped(&src, |t| (t.day, key(t)))
                .into_iter()
                .map(|((day, key), f)| DailyRow {
                    day,
                    key: DailyKey { dim, key },
                    tally: tally_of(&f),
                }),
        );
    }
    out
}

/// The additive part of a group's figures, in the order of [`COUNTS`].
pub fn tally_of(f: &Figures) -> Tally {
    let r = &f.resident;
    let counts = [
        f.issued,
        f.priority,
        f.served,
        f.no_show,
        f.transferred,
        f.cancelled,
        f.expired,
        f.wait.count,
        f.service.count,
        f.priority_served,
        f.cases,
        f.cases_closed,
        f.policies_explained,
        f.ratings,
        f.satisfied,
        f.fairly_satisfied,
        f.dissatisfied,
        r.ratings,
        r.levels[0],
        r.levels[1],
        r.levels[2],
        r.levels[3],
        r.levels[4],
        f.by_id_card,
        f.by_priority_card,
        f.by_manual,
    ];
    debug_assert_eq!(counts.len(), COUNTS.len());
    Tally {
        counts: counts.map(|c| c as i64),
        wait_sum_s: f.wait.mean_s * f.wait.count as f64,
        wait_max_s: f.wait.max_s,
        service_sum_s: f.service.mean_s * f.service.count as f64,
        service_max_s: f.service.max_s,
    }
}

fn at(t: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.0).unwrap_or_default()
}

/// The city's rows of the tickets `ids` found in `records`.
pub fn city_tickets(records: &Records, ids: &HashSet<TicketId>) -> Vec<CityTicket> {
    let cases: std::collections::HashMap<TicketId, _> =
        records.cases.iter().map(|c| (c.ticket, c)).collect();
    let ratings: std::collections::HashMap<TicketId, _> =
        records.ratings.iter().map(|r| (r.ticket, r)).collect();
    records
        .tickets
        .iter()
        .filter(|t| ids.contains(&t.id))
        .map(|t| {
            let case = cases.get(&t.id);
            let rating = ratings.get(&t.id);
            CityTicket {
                day: t.day,
                ticket: t.id.0 as i64,
                service: t.service.to_string(),
                lane: t.lane.as_str(),
                way: t.identified.map(|w| w.as_str()),
                category: t.profile.category.as_deref().map(str::to_string),
                age_band: t.profile.age_band.map(|b| b.as_str()),
                issued_at: at(t.issued_at),
                first_called_at: t.first_called_at.map(at),
                started_at: t.started_at.map(at),
                finished_at: t.finished_at.map(at),
                ended: t.end.map(end_name),
                transfers: t.transfers as i32,
                accompanied: case.is_some(),
                case_closed: case.is_some_and(|c| c.closed),
                policies: case.map_or(0, |c| c.policies as i32),
                rating: rating.map(|r| r.rating.as_str()),
                rating_source: rating.map(|r| r.source.as_str()),
            }
        })
        .collect()
}

fn end_name(e: End) -> &'static str {
    match e {
        End::Done => "done",
        End::NoShow => "no_show",
        End::Cancelled => "cancelled",
        End::Expired => "expired",
    }
}
