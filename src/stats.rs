//! Figures over the event journal, as pure functions: the CLI (`greenwave
//! stats`), the manager API (`GET /api/stats`) and the daily CSV export all
//! call [`figures`], so they agree to the digit.
//!
//! Per ticket the journal gives: its issue (day, lane, service), its first
//! call (waiting time = first call − issue), its start and finish (service
//! time = finish − start), transfers, and how it ended (done, no-show,
//! cancelled, expired at the day's rollover), and how a priority resident
//! was identified. Cases and ratings, recorded beside the journal, join by
//! ticket ([`Sources`]).

pub mod bookings;
pub mod charts;

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::cases::{Rating, RatingSource};
use crate::queue::{Event, Identified, Lane, TicketId, Timestamp};
use crate::store::JournalEntry;
// The facts are the store's (the figures depend on the store, not both
// ways); re-exported for the callers of the figures.
pub use crate::store::{CaseFact, End, RatingFact, Records, TicketSummary};

/// How rows are grouped.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Service day.
    Day,
    /// The service the ticket was issued for.
    Service,
    /// The window that served it last (tickets never called: `-`).
    Window,
    /// Priority or normal lane.
    Lane,
    /// The helper who accompanied the case (tickets without one: `-`).
    Helper,
    /// The hour of the day the ticket was issued (`09:00` for 09:00–09:59,
    /// all days of the period together), in the hall's time zone: a
    /// payout day's crowd hour by hour.
    Hour,
}

/// Mean, median, 90th percentile and maximum of a set of durations, in
/// seconds (nearest-rank percentiles); all zero when empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
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
    /// Priority services given: priority tickets served to the end.
    pub priority_served: usize,
    /// Accompanied cases (a helper followed the resident).
    pub cases: usize,
    /// Of which closed.
    pub cases_closed: usize,
    /// Policies explained in those cases (each policy once per case).
    pub policies_explained: usize,
    /// Ratings staff entered (three levels).
    pub ratings: usize,
    /// Staff-entered `满意`.
    pub satisfied: usize,
    /// Staff-entered `基本满意`.
    pub fairly_satisfied: usize,
    /// Staff-entered `不满意`.
    pub dissatisfied: usize,
    /// Staff-entered (`满意` + `基本满意`) / ratings (0..1; 0 without
    /// ratings).
    pub satisfaction_rate: f64,
    /// The residents' own ratings (the window's evaluator, their phone).
    pub resident: ResidentRatings,
    /// Priority residents identified by ID card against the roster.
    pub by_id_card: usize,
    /// ... by a bound priority card.
    pub by_priority_card: usize,
    /// ... by a manual check at a window (priority ticket or upgrade).
    pub by_manual: usize,
}

/// One row: the group's key and its figures.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Row {
    /// Day, service code, window number, lane or helper; `合计` for the
    /// total.
    pub key: String,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
    /// Grouped by hour only (`--by hour`): tickets still waiting (issued,
    /// not yet first called, not withdrawn) at the end of this hour, summed
    /// over the period's days ([`charts::hourly`], the manager's chart's
    /// own count); none on the total row and in other groupings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_at_end: Option<usize>,
}

/// Every ticket's summary from the event journal, in issue order.
pub fn summaries_from_journal(journal: &[JournalEntry]) -> Vec<TicketSummary> {
    let mut out: Vec<TicketSummary> = Vec::new();
    let mut index: HashMap<TicketId, usize> = HashMap::new();
    for e in journal {
        if let Event::Issued { ticket } = &e.event {
            index.insert(ticket.id, out.len());
            out.push(TicketSummary {
                id: ticket.id,
                day: ticket.day,
                lane: ticket.lane,
                service: ticket.origin_service.as_str().into(),
                issued_at: ticket.issued_at,
                slot_at: ticket.slot_at,
                first_called_at: None,
                started_at: None,
                finished_at: None,
                window: None,
                transfers: 0,
                end: None,
                identified: ticket.identified,
                profile: Default::default(),
            });
            continue;
        }
        let mut with = |id: &TicketId, f: &mut dyn FnMut(&mut TicketSummary)| {
            if let Some(&i) = index.get(id) {
                f(&mut out[i]);
            }
        };
        match &e.event {
            Event::Issued { .. } => {}
            Event::Called { id, window, at, .. } => with(id, &mut |l| {
                l.first_called_at.get_or_insert(*at);
                l.window = Some(*window);
                l.end = None;
            }),
            Event::Started { id, at, .. } => with(id, &mut |l| l.started_at = Some(*at)),
            Event::Finished { id, at, .. } => with(id, &mut |l| {
                l.finished_at = Some(*at);
                l.end = Some(End::Done);
            }),
            Event::NoShow { id, .. } => with(id, &mut |l| l.end = Some(End::NoShow)),
            Event::Rejoined { id, .. } => with(id, &mut |l| l.end = None),
            Event::Transferred { id, .. } => with(id, &mut |l| l.transfers += 1),
            Event::Cancelled { id, .. } => with(id, &mut |l| l.end = Some(End::Cancelled)),
            Event::Upgraded { id, .. } => with(id, &mut |l| {
                l.lane = Lane::Priority;
                l.identified = Some(Identified::Manual);
            }),
            Event::DayRolledOver { expired, .. } => {
                for id in expired {
                    with(id, &mut |l| l.end = Some(End::Expired));
                }
            }
            Event::Recalled { .. } | Event::Paused { .. } | Event::Resumed { .. } => {}
        }
    }
    out
}

/// What the figures are computed from: one summary per ticket, and the
/// cases and ratings recorded beside the journal. Cases and ratings count
/// with their ticket: in its day, service, window and lane.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sources<'a> {
    /// The tickets.
    pub tickets: &'a [TicketSummary],
    /// Accompanied cases.
    pub cases: &'a [CaseFact],
    /// Ratings.
    pub ratings: &'a [RatingFact],
    /// The hall's time zone, for the hour of the day (`--by hour`);
    /// UTC when not given.
    pub tz: Option<chrono_tz::Tz>,
}

impl<'a> Sources<'a> {
    /// The same, with the hall's time zone for hours of the day.
    pub fn in_tz(self, tz: chrono_tz::Tz) -> Sources<'a> {
        Sources {
            tz: Some(tz),
            ..self
        }
    }

    /// The records read from the store.
    pub fn of(records: &'a Records) -> Sources<'a> {
        Sources {
            tickets: &records.tickets,
            cases: &records.cases,
            ratings: &records.ratings,
            tz: None,
        }
    }

    /// The tickets alone (no cases, no ratings).
    pub fn tickets(tickets: &'a [TicketSummary]) -> Sources<'a> {
        Sources {
            tickets,
            ..Sources::default()
        }
    }
}

/// The ratings residents gave themselves, on five levels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ResidentRatings {
    /// How many.
    pub ratings: usize,
    /// Per level, in the order of [`Rating::ALL`] (非常满意 … 非常不满意).
    pub levels: [usize; 5],
    /// (非常满意 + 满意 + 基本满意) / ratings (0..1); none without ratings
    /// (shown `—`, never 0 %).
    pub satisfaction_rate: Option<f64>,
}

impl ResidentRatings {
    fn of<'a>(ratings: impl Iterator<Item = Rating> + 'a) -> ResidentRatings {
        let mut r = ResidentRatings::default();
        for rating in ratings {
            r.ratings += 1;
            if let Some(i) = Rating::ALL.iter().position(|x| *x == rating) {
                r.levels[i] += 1;
            }
        }
        let satisfied: usize = r.levels[..3].iter().sum();
        r.satisfaction_rate = (r.ratings > 0).then(|| satisfied as f64 / r.ratings as f64);
        r
    }
}

/// A ticket with its case and rating.
#[derive(Debug, Clone, Copy)]
struct Life<'a> {
    t: &'a TicketSummary,
    case: Option<&'a CaseFact>,
    rating: Option<(Rating, RatingSource)>,
}

fn lives<'a>(src: &Sources<'a>) -> Vec<Life<'a>> {
    let mut lives: Vec<Life<'a>> = src
        .tickets
        .iter()
        .map(|t| Life {
            t,
            case: None,
            rating: None,
        })
        .collect();
    if src.cases.is_empty() && src.ratings.is_empty() {
        return lives;
    }
    let index: HashMap<TicketId, usize> = src
        .tickets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id, i))
        .collect();
    for c in src.cases {
        if let Some(&i) = index.get(&c.ticket) {
            lives[i].case = Some(c);
        }
    }
    for r in src.ratings {
        if let Some(&i) = index.get(&r.ticket) {
            lives[i].rating = Some((r.rating, r.source));
        }
    }
    lives
}

/// The figures of the tickets issued on days `from..=to` (either bound
/// optional), grouped by `by`, followed by the total row.
pub fn figures(
    src: &Sources<'_>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    by: GroupBy,
) -> Vec<Row> {
    let lives = lives(src);
    let mut groups: BTreeMap<String, Vec<&Life>> = BTreeMap::new();
    let mut all: Vec<&Life> = Vec::new();
    let mut last_day: Option<(NaiveDate, String)> = None;
    for l in &lives {
        let day = l.t.day;
        if from.is_some_and(|f| day < f) || to.is_some_and(|t| day > t) {
            continue;
        }
        let key = match by {
            GroupBy::Day => match &last_day {
                // Tickets come in issue order: one string per day.
                Some((d, k)) if *d == day => k.clone(),
                _ => {
                    let k = day.to_string();
                    last_day = Some((day, k.clone()));
                    k
                }
            },
            GroupBy::Service => l.t.service.to_string(),
            GroupBy::Window => l.t.window.map_or("-".to_string(), |w| w.to_string()),
            GroupBy::Lane => l.t.lane.as_str().to_string(),
            GroupBy::Helper => l
                .case
                .and_then(|c| c.helper.clone())
                .unwrap_or_else(|| "-".to_string()),
            GroupBy::Hour => hour_of_day(l.t.issued_at, src.tz),
        };
        groups.entry(key).or_default().push(l);
        all.push(l);
    }
    let mut rows: Vec<Row> = groups
        .into_iter()
        .map(|(key, ls)| Row {
            key,
            figures: summarise(&ls),
            waiting_at_end: None,
        })
        .collect();
    if by == GroupBy::Hour {
        add_waiting_at_hour_ends(&mut rows, src, from, to);
    }
    if by == GroupBy::Window {
        // Windows in numeric order, "-" last.
        rows.sort_by_key(|r| r.key.parse::<u32>().unwrap_or(u32::MAX));
    }
    if by == GroupBy::Helper {
        // "-" (no helper) last.
        rows.sort_by_key(|r| r.key == "-");
    }
    rows.push(Row {
        key: "合计".into(),
        figures: summarise(&all),
        waiting_at_end: None,
    });
    rows
}

/// Sets each hour row's tickets waiting at the end of the hour, from the
/// manager's chart's own count ([`charts::hourly`]) per day of the period,
/// summed over the days; an hour in which nobody took a ticket but people
/// were still waiting gets a row of its own (nothing issued).
fn add_waiting_at_hour_ends(
    rows: &mut Vec<Row>,
    src: &Sources<'_>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) {
    let tz = src.tz.unwrap_or(chrono_tz::UTC);
    let mut waiting: BTreeMap<String, usize> = BTreeMap::new();
    // Tickets come in issue order: a day's tickets are one run.
    for day in src.tickets.chunk_by(|a, b| a.day == b.day) {
        let d = day[0].day;
        if from.is_some_and(|f| d < f) || to.is_some_and(|t| d > t) {
            continue;
        }
        for h in charts::hourly(day, d, tz) {
            *waiting.entry(format!("{:02}:00", h.hour)).or_default() +=
                h.waiting.iter().sum::<usize>();
        }
    }
    for r in rows.iter_mut() {
        r.waiting_at_end = Some(waiting.remove(&r.key).unwrap_or(0));
    }
    rows.extend(
        waiting
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(key, n)| Row {
                key,
                figures: Figures::default(),
                waiting_at_end: Some(n),
            }),
    );
    rows.sort_by(|a, b| a.key.cmp(&b.key));
}

/// `09:00`: the local hour of an instant in `tz` (UTC without), the key
/// of `--by hour` and of the city's hour rows.
pub fn hour_of_day(t: crate::queue::Timestamp, tz: Option<chrono_tz::Tz>) -> String {
    use chrono::Timelike;
    let at = chrono::DateTime::from_timestamp_millis(t.0).unwrap_or_default();
    let hour = match tz {
        Some(tz) => at.with_timezone(&tz).hour(),
        None => at.hour(),
    };
    format!("{hour:02}:00")
}

/// The figures of every group of tickets, the group given by `key` of a
/// ticket, in key order (no total row): the city's daily rows are these,
/// computed by the same summary as every other figure ([`figures`]).
pub fn grouped<K: Ord>(src: &Sources<'_>, key: impl Fn(&TicketSummary) -> K) -> Vec<(K, Figures)> {
    let lives = lives(src);
    let mut groups: BTreeMap<K, Vec<&Life>> = BTreeMap::new();
    for l in &lives {
        groups.entry(key(l.t)).or_default().push(l);
    }
    groups
        .into_iter()
        .map(|(k, ls)| (k, summarise(&ls)))
        .collect()
}

fn summarise(lives: &[&Life]) -> Figures {
    let count = |e: End| lives.iter().filter(|l| l.t.end == Some(e)).count();
    let issued = lives.len();
    let is_priority = |l: &&&Life| l.t.lane == Lane::Priority;
    let priority = lives.iter().filter(is_priority).count();
    let secs = |a: Timestamp, b: Timestamp| b.since(a).as_secs_f64();
    let rated = |r: Rating| {
        lives
            .iter()
            .filter(|l| l.rating == Some((r, RatingSource::Staff)))
            .count()
    };
    let resident = ResidentRatings::of(
        lives
            .iter()
            .filter_map(|l| l.rating)
            .filter(|(_, s)| s.is_resident())
            .map(|(r, _)| r),
    );
    let (satisfied, fairly_satisfied, dissatisfied) = (
        rated(Rating::Satisfied),
        rated(Rating::FairlySatisfied),
        rated(Rating::Dissatisfied),
    );
    let ratings = satisfied + fairly_satisfied + dissatisfied;
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let identified = |w: Identified| {
        lives
            .iter()
            .filter(is_priority)
            .filter(|l| l.t.identified == Some(w))
            .count()
    };
    Figures {
        issued,
        priority,
        served: count(End::Done),
        no_show: count(End::NoShow),
        transferred: lives.iter().filter(|l| l.t.transfers > 0).count(),
        cancelled: count(End::Cancelled),
        expired: count(End::Expired),
        priority_share: ratio(priority, issued),
        wait: Dist::of(
            lives
                .iter()
                .filter_map(|l| Some(secs(l.t.due_at(), l.t.first_called_at?)))
                .collect(),
        ),
        service: Dist::of(
            lives
                .iter()
                .filter(|l| l.t.end == Some(End::Done))
                .filter_map(|l| Some(secs(l.t.started_at?, l.t.finished_at?)))
                .collect(),
        ),
        priority_served: lives
            .iter()
            .filter(is_priority)
            .filter(|l| l.t.end == Some(End::Done))
            .count(),
        cases: lives.iter().filter(|l| l.case.is_some()).count(),
        cases_closed: lives
            .iter()
            .filter(|l| l.case.is_some_and(|c| c.closed))
            .count(),
        policies_explained: lives
            .iter()
            .filter_map(|l| l.case)
            .map(|c| c.policies)
            .sum(),
        ratings,
        satisfied,
        fairly_satisfied,
        dissatisfied,
        satisfaction_rate: ratio(satisfied + fairly_satisfied, ratings),
        resident,
        by_id_card: identified(Identified::IdCard),
        by_priority_card: identified(Identified::PriorityCard),
        by_manual: identified(Identified::Manual),
    }
}

/// The figures' CSV columns, in order (documented in the README): the
/// field names are the header, the fields the values, so the two cannot
/// drift apart. Times in seconds with one decimal, shares with four.
#[derive(Debug, Default, Serialize)]
struct FigureColumns {
    issued: usize,
    priority: usize,
    served: usize,
    no_show: usize,
    transferred: usize,
    cancelled: usize,
    expired: usize,
    priority_share: Fixed<4>,
    wait_mean_s: Fixed<1>,
    wait_p50_s: Fixed<1>,
    wait_p90_s: Fixed<1>,
    wait_max_s: Fixed<1>,
    service_mean_s: Fixed<1>,
    service_p50_s: Fixed<1>,
    service_p90_s: Fixed<1>,
    service_max_s: Fixed<1>,
    priority_served: usize,
    cases: usize,
    cases_closed: usize,
    policies_explained: usize,
    ratings: usize,
    satisfied: usize,
    fairly_satisfied: usize,
    dissatisfied: usize,
    satisfaction_rate: Fixed<4>,
    by_id_card: usize,
    by_priority_card: usize,
    by_manual: usize,
    resident_ratings: usize,
    resident_very_satisfied: usize,
    resident_satisfied: usize,
    resident_fairly_satisfied: usize,
    resident_dissatisfied: usize,
    resident_very_dissatisfied: usize,
    /// Empty without resident ratings (never 0).
    resident_satisfaction_rate: Option<Fixed<4>>,
}

impl From<&Figures> for FigureColumns {
    fn from(f: &Figures) -> FigureColumns {
        FigureColumns {
            issued: f.issued,
            priority: f.priority,
            served: f.served,
            no_show: f.no_show,
            transferred: f.transferred,
            cancelled: f.cancelled,
            expired: f.expired,
            priority_share: Fixed(f.priority_share),
            wait_mean_s: Fixed(f.wait.mean_s),
            wait_p50_s: Fixed(f.wait.p50_s),
            wait_p90_s: Fixed(f.wait.p90_s),
            wait_max_s: Fixed(f.wait.max_s),
            service_mean_s: Fixed(f.service.mean_s),
            service_p50_s: Fixed(f.service.p50_s),
            service_p90_s: Fixed(f.service.p90_s),
            service_max_s: Fixed(f.service.max_s),
            priority_served: f.priority_served,
            cases: f.cases,
            cases_closed: f.cases_closed,
            policies_explained: f.policies_explained,
            ratings: f.ratings,
            satisfied: f.satisfied,
            fairly_satisfied: f.fairly_satisfied,
            dissatisfied: f.dissatisfied,
            satisfaction_rate: Fixed(f.satisfaction_rate),
            by_id_card: f.by_id_card,
            by_priority_card: f.by_priority_card,
            by_manual: f.by_manual,
            resident_ratings: f.resident.ratings,
            resident_very_satisfied: f.resident.levels[0],
            resident_satisfied: f.resident.levels[1],
            resident_fairly_satisfied: f.resident.levels[2],
            resident_dissatisfied: f.resident.levels[3],
            resident_very_dissatisfied: f.resident.levels[4],
            resident_satisfaction_rate: f.resident.satisfaction_rate.map(Fixed),
        }
    }
}

/// A number written with `DIGITS` decimals (`{:.DIGITS$}`).
#[derive(Debug, Default, Clone, Copy)]
struct Fixed<const DIGITS: usize>(f64);

impl<const DIGITS: usize> Serialize for Fixed<DIGITS> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:.*}", DIGITS, self.0))
    }
}

/// The key columns of `greenwave stats --format csv`.
#[derive(Debug, Default, Serialize)]
struct KeyColumns<'a> {
    key: &'a str,
}

/// The key columns of the daily export: hall, day, grouping, key.
#[derive(Debug, Default, Serialize)]
struct DailyKeyColumns<'a> {
    hall: &'a str,
    day: NaiveDate,
    group: &'a str,
    key: &'a str,
}

/// One CSV row: its key columns, then the figures'.
type CsvRow<K> = (K, FigureColumns);

/// The trailing column of `greenwave stats --by hour --format csv`.
#[derive(Debug, Default, Serialize)]
struct HourColumns {
    /// Empty on the total row.
    waiting_at_end: Option<usize>,
}

/// The header line of rows `R` (key columns, then the figures'): the
/// fields' names.
fn csv_header_of<R: Serialize + Default>() -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(R::default())
        .expect("CSV rows are flat structs");
    let text =
        String::from_utf8(w.into_inner().expect("writing to memory")).expect("the header is UTF-8");
    text.lines().next().unwrap_or_default().to_string()
}

/// The header of `greenwave stats --format csv`: `key`, then the figures'
/// columns.
pub fn csv_header() -> String {
    csv_header_of::<CsvRow<KeyColumns>>()
}

/// The header of `greenwave stats --by hour --format csv`: [`csv_header`],
/// then `waiting_at_end`.
pub fn hour_csv_header() -> String {
    csv_header_of::<(KeyColumns, FigureColumns, HourColumns)>()
}

/// The header of the daily export: `hall,day,group,key`, then the
/// figures' columns.
pub fn daily_csv_header() -> String {
    csv_header_of::<CsvRow<DailyKeyColumns>>()
}

/// The header line, then `rows`, as CSV (`\n` line ends; a field is
/// quoted when it holds a comma, a quote or a line break).
fn csv_text<R: Serialize + Default>(rows: impl IntoIterator<Item = R>) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(format!("{}\n", csv_header_of::<R>()).into_bytes());
    for row in rows {
        w.serialize(row).expect("CSV rows are flat structs");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 text")
}

/// Rows as CSV with [`csv_header`]; rows grouped by hour (those with
/// [`Row::waiting_at_end`]) with [`hour_csv_header`].
pub fn to_csv(rows: &[Row]) -> String {
    if rows.iter().any(|r| r.waiting_at_end.is_some()) {
        return csv_text(rows.iter().map(|r| {
            (
                KeyColumns { key: &r.key },
                FigureColumns::from(&r.figures),
                HourColumns {
                    waiting_at_end: r.waiting_at_end,
                },
            )
        }));
    }
    csv_text(
        rows.iter()
            .map(|r| (KeyColumns { key: &r.key }, FigureColumns::from(&r.figures))),
    )
}

/// The groupings of the daily export, in file order.
pub const DAILY_GROUPS: [GroupBy; 4] = [
    GroupBy::Lane,
    GroupBy::Service,
    GroupBy::Window,
    GroupBy::Helper,
];

/// The daily export of one service day, what a city aggregates across
/// halls: [`daily_csv_header`], then the day's total (group `total`), then
/// its rows by lane, service, window and helper (each grouping without its
/// total row). `hall` names the hall in every row.
pub fn daily_csv(src: &Sources<'_>, hall: &str, day: NaiveDate) -> String {
    let total = figures(src, Some(day), Some(day), GroupBy::Day);
    let total = total.last().expect("figures end with the total");
    let groups: Vec<(GroupBy, Vec<Row>)> = DAILY_GROUPS
        .iter()
        .map(|&by| (by, figures(src, Some(day), Some(day), by)))
        .collect();
    let grouped = groups.iter().flat_map(|(by, rows)| {
        rows[..rows.len() - 1]
            .iter()
            .map(move |r| (by.name(), r.key.as_str(), &r.figures))
    });
    let rows = std::iter::once(("total", "合计", &total.figures)).chain(grouped);
    csv_text(rows.map(|(group, key, f)| {
        let keys = DailyKeyColumns {
            hall,
            day,
            group,
            key,
        };
        (keys, FigureColumns::from(f))
    }))
}

/// The daily export's file name for `day`.
pub fn daily_file_name(day: NaiveDate) -> String {
    format!("greenwave-stats-{day}.csv")
}

impl GroupBy {
    /// The grouping's name (`--by` and the daily export's `group` column).
    pub fn name(self) -> &'static str {
        match self {
            GroupBy::Day => "day",
            GroupBy::Service => "service",
            GroupBy::Window => "window",
            GroupBy::Lane => "lane",
            GroupBy::Helper => "helper",
            GroupBy::Hour => "hour",
        }
    }
}

/// The statistics as a workbook: one sheet per grouping, each titled with
/// the hall and the period (`greenwave stats --format xlsx`, the manager's
/// export).
pub fn workbook(
    hall: &str,
    src: &Sources<'_>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> anyhow::Result<Vec<u8>> {
    let period = match (from, to) {
        (Some(f), Some(t)) => format!("{f} 至 {t}"),
        (Some(f), None) => format!("{f} 起"),
        (None, Some(t)) => format!("至 {t}"),
        (None, None) => "全部日期".to_string(),
    };
    let groupings = [
        (GroupBy::Day, "按日期"),
        (GroupBy::Service, "按业务"),
        (GroupBy::Window, "按窗口"),
        (GroupBy::Lane, "按通道"),
        (GroupBy::Helper, "按协办员"),
        (GroupBy::Hour, "按小时"),
    ];
    let made: Vec<(String, &str, String)> = groupings
        .iter()
        .map(|(by, name)| {
            let title = format!("{hall} 统计 {period}（{name}）");
            (to_csv(&figures(src, from, to, *by)), *name, title)
        })
        .collect();
    let sheets: Vec<crate::tables::Sheet<'_>> = made
        .iter()
        .map(|(csv, name, title)| crate::tables::Sheet { name, title, csv })
        .collect();
    crate::tables::workbook(&sheets)
}

/// Rows as tables for a terminal (minutes for times), aligned by display
/// width: the queue's figures, then the green-wave mechanism's. `name`
/// gives a group's name as people know it (a helper's name for an id),
/// lanes are named `绿波通道` and `普通`.
pub fn to_table(rows: &[Row], by: GroupBy, name: &dyn Fn(&str) -> Option<String>) -> String {
    let m = |s: f64| format!("{:.1}", s / 60.0);
    let key = |k: &str| match (by, k) {
        (GroupBy::Lane, "priority") => "绿波通道".to_string(),
        (GroupBy::Lane, "appointment") => "预约".to_string(),
        (GroupBy::Lane, "normal") => "普通".to_string(),
        _ => name(k).unwrap_or_else(|| k.to_string()),
    };
    let head = |h: &[&str]| h.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut queue = vec![head(&[
        "分组",
        "取号",
        "绿波",
        "办结",
        "过号",
        "转办",
        "撤销",
        "过期",
        "绿波占比",
        "等候均值",
        "等候P90",
        "办理均值",
        "办理P90",
    ])];
    if by == GroupBy::Hour {
        queue[0].push("时末等候".to_string());
    }
    let mut mechanism = vec![head(&[
        "分组",
        "绿波办结",
        "协办",
        "讲解政策",
        "群众评价",
        "群众满意率",
        "录入评价",
        "录入满意率",
        "身份证",
        "绿波卡",
        "人工核验",
    ])];
    for r in rows {
        let f = &r.figures;
        queue.push(vec![
            key(&r.key),
            f.issued.to_string(),
            f.priority.to_string(),
            f.served.to_string(),
            f.no_show.to_string(),
            f.transferred.to_string(),
            f.cancelled.to_string(),
            f.expired.to_string(),
            format!("{:.1}%", f.priority_share * 100.0),
            m(f.wait.mean_s),
            m(f.wait.p90_s),
            m(f.service.mean_s),
            m(f.service.p90_s),
        ]);
        if by == GroupBy::Hour {
            let row = queue.last_mut().expect("pushed above");
            row.push(r.waiting_at_end.map_or("—".to_string(), |n| n.to_string()));
        }
        let resident_rate = f
            .resident
            .satisfaction_rate
            .map_or("—".to_string(), |v| format!("{:.1}%", v * 100.0));
        mechanism.push(vec![
            key(&r.key),
            f.priority_served.to_string(),
            f.cases.to_string(),
            f.policies_explained.to_string(),
            f.resident.ratings.to_string(),
            resident_rate,
            f.ratings.to_string(),
            format!("{:.1}%", f.satisfaction_rate * 100.0),
            f.by_id_card.to_string(),
            f.by_priority_card.to_string(),
            f.by_manual.to_string(),
        ]);
    }
    format!(
        "{}（时间单位：分钟）\n\n绿波机制\n{}",
        crate::tables::aligned(&queue),
        crate::tables::aligned(&mechanism)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The columns as the README documents them: a change here is a
    /// change of the published format.
    const FIGURES: &str = "issued,priority,served,no_show,transferred,cancelled,expired,\
priority_share,wait_mean_s,wait_p50_s,wait_p90_s,wait_max_s,service_mean_s,service_p50_s,\
service_p90_s,service_max_s,priority_served,cases,cases_closed,policies_explained,ratings,\
satisfied,fairly_satisfied,dissatisfied,satisfaction_rate,by_id_card,by_priority_card,by_manual,\
resident_ratings,resident_very_satisfied,resident_satisfied,resident_fairly_satisfied,\
resident_dissatisfied,resident_very_dissatisfied,resident_satisfaction_rate";

    #[test]
    fn the_header_lines_are_pinned() {
        assert_eq!(csv_header(), format!("key,{FIGURES}"));
        assert_eq!(hour_csv_header(), format!("key,{FIGURES},waiting_at_end"));
        assert_eq!(daily_csv_header(), format!("hall,day,group,key,{FIGURES}"));
        assert_eq!(to_csv(&[]), format!("key,{FIGURES}\n"));
    }

    #[test]
    fn numbers_are_written_as_before() {
        let f = Figures {
            issued: 3,
            priority_share: 1.0 / 3.0,
            wait: Dist::of(vec![60.0, 127.0]),
            satisfaction_rate: 0.5,
            ..Figures::default()
        };
        let csv = to_csv(&[Row {
            key: "civil".into(),
            figures: f,
            waiting_at_end: None,
        }]);
        assert_eq!(
            csv.lines().nth(1),
            Some(
                "civil,3,0,0,0,0,0,0,0.3333,93.5,60.0,127.0,127.0,0.0,0.0,0.0,0.0,\
0,0,0,0,0,0,0,0,0.5000,0,0,0,0,0,0,0,0,0,"
            )
        );
    }

    #[test]
    fn a_key_with_a_comma_a_quote_or_a_line_break_is_quoted() {
        let row = |key: &str| Row {
            key: key.into(),
            figures: Figures::default(),
            waiting_at_end: None,
        };
        let keys = |csv: String| -> Vec<String> {
            let mut r = csv::Reader::from_reader(csv.as_bytes());
            r.records().map(|rec| rec.unwrap()[0].to_string()).collect()
        };
        let csv = to_csv(&[row("a,b"), row("say \"hi\""), row("合计"), row("a\nb")]);
        assert!(csv.contains("\n\"a,b\",0,"), "{csv}");
        assert!(csv.contains("\n\"say \"\"hi\"\"\",0,"), "{csv}");
        assert!(csv.contains("\n合计,0,"), "{csv}");
        assert!(csv.contains("\n\"a\nb\",0,"), "{csv}");
        assert_eq!(keys(csv), ["a,b", "say \"hi\"", "合计", "a\nb"]);
    }
}
