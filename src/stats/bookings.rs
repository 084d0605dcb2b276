//! The appointments' figures, per service day: how many were booked, kept
//! (in their slot's window, or a green-wave resident on priority), late
//! (came after the window: a walk-in ticket), missed, cancelled, still
//! ahead; and the walk-ins (tickets of the day not issued on a booking).
//! Pure: the bookings and the day's tickets come from the store, the clock
//! from the caller (a booking is missed once its window is over).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::booking::{Appointments, Status};
use crate::store::{Booking, TicketSummary};

/// One day's appointments (or the total, key `合计`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BookingRow {
    /// The service day `YYYY-MM-DD`, or `合计`.
    pub key: String,
    /// Bookings made for the day (cancelled ones included).
    pub booked: usize,
    /// Came in time (appointment ticket), or on priority.
    pub kept: usize,
    /// Came after the slot's window: a walk-in ticket.
    pub late: usize,
    /// Did not come.
    pub missed: usize,
    /// Cancelled.
    pub cancelled: usize,
    /// Their slot's window not over yet.
    pub pending: usize,
    /// Tickets of the day issued without a booking.
    pub walk_ins: usize,
}

impl BookingRow {
    fn add(&mut self, s: Status) {
        self.booked += 1;
        match s {
            Status::Booked => self.pending += 1,
            Status::Kept => self.kept += 1,
            Status::Late => self.late += 1,
            Status::Missed => self.missed += 1,
            Status::Cancelled => self.cancelled += 1,
        }
    }
}

/// The rows per day of `from..=to` that had bookings or tickets, then the
/// total. `rules` gives a service's appointments (the late window).
pub fn booking_rows(
    bookings: &[Booking],
    tickets: &[TicketSummary],
    rules: &dyn Fn(&str) -> Appointments,
    now: NaiveDateTime,
    (from, to): (NaiveDate, NaiveDate),
) -> Vec<BookingRow> {
    let mut days: BTreeMap<NaiveDate, BookingRow> = BTreeMap::new();
    let within = |d: NaiveDate| from <= d && d <= to;
    for b in bookings.iter().filter(|b| within(b.day)) {
        let s = b.status(&rules(&b.service), now);
        days.entry(b.day).or_default().add(s);
    }
    for t in tickets.iter().filter(|t| within(t.day)) {
        days.entry(t.day).or_default().walk_ins += 1;
    }
    let mut rows: Vec<BookingRow> = days
        .into_iter()
        .map(|(day, mut r)| {
            // Every kept or late booking has one ticket of the day.
            r.walk_ins = r.walk_ins.saturating_sub(r.kept + r.late);
            r.key = day.to_string();
            r
        })
        .collect();
    let mut total = BookingRow {
        key: "合计".into(),
        ..BookingRow::default()
    };
    for r in &rows {
        total.booked += r.booked;
        total.kept += r.kept;
        total.late += r.late;
        total.missed += r.missed;
        total.cancelled += r.cancelled;
        total.pending += r.pending;
        total.walk_ins += r.walk_ins;
    }
    rows.push(total);
    rows
}

/// The column headings, in order.
pub const HEADINGS: [&str; 8] = [
    "日期",
    "预约",
    "按时到",
    "迟到",
    "未到",
    "已取消",
    "待到",
    "现场取号",
];

fn cells(r: &BookingRow) -> Vec<String> {
    let n = |v: usize| v.to_string();
    vec![
        r.key.clone(),
        n(r.booked),
        n(r.kept),
        n(r.late),
        n(r.missed),
        n(r.cancelled),
        n(r.pending),
        n(r.walk_ins),
    ]
}

/// The rows as a terminal table.
pub fn to_table(rows: &[BookingRow]) -> String {
    let mut grid = vec![HEADINGS.iter().map(|h| h.to_string()).collect()];
    grid.extend(rows.iter().map(cells));
    crate::tables::aligned(&grid)
}

/// The rows as CSV: Chinese headings (the figures are staff's).
pub fn to_csv(rows: &[BookingRow]) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    w.write_record(HEADINGS).expect("writing to memory");
    for r in rows {
        w.write_record(cells(r)).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 text")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::Lane;
    use chrono::NaiveTime;

    fn booking(code: &str, day: u32, slot: u32, cancelled: bool, ticket: Option<&str>) -> Booking {
        Booking {
            code: code.into(),
            person: "ab".repeat(32),
            service: "civil".into(),
            day: NaiveDate::from_ymd_opt(2026, 12, day).unwrap(),
            slot: NaiveTime::from_hms_opt(slot, 0, 0).unwrap(),
            cancelled,
            booked_at: 0,
            booked_by: "hotline".into(),
            ticket: ticket.map(|l| ("YA001".to_string(), l.to_string())),
        }
    }

    #[test]
    fn kept_late_missed_and_walk_ins_per_day() {
        let bookings = [
            booking("000001", 7, 9, false, Some("appointment")),
            booking("000002", 7, 9, false, Some("normal")),
            booking("000003", 7, 10, false, Some("priority")),
            booking("000004", 7, 10, false, None),
            booking("000005", 7, 11, true, None),
            booking("000006", 7, 15, false, None),
            booking("000007", 8, 9, false, None),
        ];
        let rules = |_: &str| Appointments {
            capacity: 2,
            ..Appointments::default()
        };
        let now = NaiveDate::from_ymd_opt(2026, 12, 7)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let d7 = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let d8 = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        let tickets: Vec<TicketSummary> = (0..10u64)
            .map(|i| {
                let t = crate::queue::Ticket {
                    id: crate::queue::TicketId(i),
                    day: d7,
                    number: format!("A{i:03}"),
                    service: "civil".into(),
                    origin_service: "civil".into(),
                    lane: Lane::Normal,
                    seq: i as u32,
                    issued_at: crate::queue::Timestamp(0),
                    state: crate::queue::TicketState::Waiting,
                    window: None,
                    target_window: None,
                    called_at: None,
                    first_called_at: None,
                    started_at: None,
                    closed_at: None,
                    calls: 0,
                    transfers: 0,
                    token: String::new(),
                    person: None,
                    identified: None,
                    slot_at: None,
                    booking: None,
                };
                TicketSummary::of(&t)
            })
            .collect();
        let rows = booking_rows(&bookings, &tickets, &rules, now, (d7, d8));
        let day7 = &rows[0];
        assert_eq!(
            (
                day7.booked,
                day7.kept,
                day7.late,
                day7.missed,
                day7.cancelled,
                day7.pending
            ),
            (6, 2, 1, 1, 1, 1)
        );
        // Ten tickets, three of them on bookings.
        assert_eq!(day7.walk_ins, 7);
        assert_eq!((rows[1].key.as_str(), rows[1].pending), ("2026-12-08", 1));
        assert_eq!((rows[2].key.as_str(), rows[2].booked), ("合计", 7));
        let table = to_table(&rows);
        assert!(table.starts_with("日期"), "{table}");
        assert!(to_csv(&rows).starts_with("日期,预约,按时到,迟到,未到,已取消,待到,现场取号\n"));
    }
}
