//! Appointments: half-hour slots of a service's hours, each with a
//! capacity; whether a slot can be booked; and what a booked resident's
//! arrival at the kiosk means (in their slot's window, too early, too late).
//!
//! Pure: the caller passes the hall's local date and time, the slot's
//! bookings so far and the random code. The store keeps the bookings; the
//! hall applies these rules under its lock.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use crate::schedule::Schedule;

/// The length of a slot, in minutes.
pub const SLOT_MINUTES: i64 = 30;

/// The characters of a booking code: digits, which anyone can write down
/// and read out on the phone.
pub const CODE_LEN: usize = 6;

/// How a service takes appointments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appointments {
    /// Bookings per half-hour slot (0: the service takes none).
    pub capacity: u32,
    /// How many days ahead a slot can be booked (today is day 0).
    pub days_ahead: u32,
    /// How long before the slot the kiosk gives the appointment ticket.
    pub early: Duration,
    /// How long after the slot's start it still does.
    pub late: Duration,
}

impl Default for Appointments {
    fn default() -> Self {
        Appointments {
            capacity: 0,
            days_ahead: 14,
            early: Duration::minutes(30),
            late: Duration::minutes(15),
        }
    }
}

/// Why a slot cannot be booked. Messages are for staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingRefusal {
    /// The service takes no appointments.
    #[error("该业务不接受预约")]
    NoAppointments,
    /// Not the start of a half-hour slot inside the day's hours.
    #[error("{date} {} 不是可预约的时段", .time.format("%H:%M"))]
    NotASlot {
        /// Date.
        date: NaiveDate,
        /// Time asked for.
        time: NaiveTime,
    },
    /// The slot has started or passed.
    #[error("{date} {} 的时段已过", .time.format("%H:%M"))]
    Past {
        /// Date.
        date: NaiveDate,
        /// Slot.
        time: NaiveTime,
    },
    /// Further ahead than bookings are taken.
    #[error("只能预约 {days} 天以内的时段")]
    TooFarAhead {
        /// The limit in days.
        days: u32,
    },
    /// Every place of the slot is taken.
    #[error("{date} {} 的时段已约满", .time.format("%H:%M"))]
    Full {
        /// Date.
        date: NaiveDate,
        /// Slot.
        time: NaiveTime,
    },
    /// The resident already has a booking for this service that day.
    #[error("该居民当天已预约此业务（预约码 {code}）")]
    AlreadyBooked {
        /// The booking they have.
        code: String,
    },
}

/// The slots of `date` by `schedule`: every half hour from each span's
/// start that ends inside the span.
pub fn slots(schedule: &Schedule, date: NaiveDate) -> Vec<NaiveTime> {
    let mut out = Vec::new();
    for span in schedule.on(date).hours {
        let mut t = span.from;
        loop {
            let (end, wrapped) = t.overflowing_add_signed(Duration::minutes(SLOT_MINUTES));
            if wrapped != 0 || end > span.to {
                break;
            }
            out.push(t);
            t = end;
        }
    }
    out
}

/// Whether the slot `time` on `date` may be booked at `now` (the hall's
/// local time), with `booked` places of it already taken.
pub fn check_slot(
    schedule: &Schedule,
    rules: &Appointments,
    date: NaiveDate,
    time: NaiveTime,
    now: NaiveDateTime,
    booked: u32,
) -> Result<(), BookingRefusal> {
    if rules.capacity == 0 {
        return Err(BookingRefusal::NoAppointments);
    }
    if !slots(schedule, date).contains(&time) {
        return Err(BookingRefusal::NotASlot { date, time });
    }
    if date.and_time(time) <= now {
        return Err(BookingRefusal::Past { date, time });
    }
    if (date - now.date()).num_days() > i64::from(rules.days_ahead) {
        return Err(BookingRefusal::TooFarAhead {
            days: rules.days_ahead,
        });
    }
    if booked >= rules.capacity {
        return Err(BookingRefusal::Full { date, time });
    }
    Ok(())
}

/// A booked resident at the kiosk, by the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Before the slot's window: come back from `from`.
    Early {
        /// When the window opens.
        from: NaiveDateTime,
    },
    /// Inside the window: the appointment ticket.
    InTime,
    /// After the window: a walk-in ticket, with a kind word.
    Late,
}

/// What arriving at `now` for the slot starting at `slot` means.
pub fn arrival(rules: &Appointments, slot: NaiveDateTime, now: NaiveDateTime) -> Arrival {
    let from = slot - rules.early;
    if now < from {
        Arrival::Early { from }
    } else if now <= slot + rules.late {
        Arrival::InTime
    } else {
        Arrival::Late
    }
}

/// Where a booking stands, read from whether a ticket was issued on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Booked, its slot's window not yet over.
    Booked,
    /// Withdrawn.
    Cancelled,
    /// The resident came in time (an appointment ticket, or a priority
    /// ticket: green-wave residents keep their lane).
    Kept,
    /// The resident came after the window: a walk-in ticket.
    Late,
    /// The window passed and the resident did not come.
    Missed,
}

impl Status {
    /// Every status, in the order figures list them.
    pub const ALL: [Status; 5] = [
        Status::Booked,
        Status::Kept,
        Status::Late,
        Status::Missed,
        Status::Cancelled,
    ];

    /// The name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Booked => "booked",
            Status::Cancelled => "cancelled",
            Status::Kept => "kept",
            Status::Late => "late",
            Status::Missed => "missed",
        }
    }

    /// The name staff read.
    pub fn label(self) -> &'static str {
        match self {
            Status::Booked => "已预约",
            Status::Cancelled => "已取消",
            Status::Kept => "按时到",
            Status::Late => "迟到",
            Status::Missed => "未到",
        }
    }
}

/// A booking's status at `now`: `ticket` is the lane of the ticket issued
/// on it, if one was.
pub fn status(
    rules: &Appointments,
    cancelled: bool,
    ticket: Option<crate::queue::Lane>,
    slot: NaiveDateTime,
    now: NaiveDateTime,
) -> Status {
    match (cancelled, ticket) {
        (true, _) => Status::Cancelled,
        (false, Some(crate::queue::Lane::Normal)) => Status::Late,
        (false, Some(_)) => Status::Kept,
        (false, None) if now > slot + rules.late => Status::Missed,
        (false, None) => Status::Booked,
    }
}

/// A booking code from `random` (any bytes from the caller's entropy):
/// six digits.
pub fn code_from(random: u64) -> String {
    format!("{:06}", random % 1_000_000)
}

/// Whether `s` has the shape of a booking code.
pub fn is_code(s: &str) -> bool {
    s.len() == CODE_LEN && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::parse_span;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
    }

    fn hall() -> Schedule {
        Schedule {
            hours: vec![
                parse_span("08:30-12:00").unwrap(),
                parse_span("13:30-17:15").unwrap(),
            ],
            ..Schedule::default()
        }
    }

    fn rules() -> Appointments {
        Appointments {
            capacity: 2,
            ..Appointments::default()
        }
    }

    #[test]
    fn slots_are_the_half_hours_that_end_inside_the_hours() {
        let s = slots(&hall(), day());
        assert_eq!(s.first(), Some(&t(8, 30)));
        assert_eq!(s[6], t(11, 30));
        assert_eq!(s[7], t(13, 30));
        // Half hours from the span's start: 17:00-17:30 ends after 17:15.
        assert_eq!(s.last(), Some(&t(16, 30)));
        assert_eq!(s.len(), 7 + 7);
    }

    #[test]
    fn a_slot_is_refused_when_full_past_off_the_grid_or_too_far() {
        let now = day().and_time(t(9, 0));
        let r = rules();
        assert_eq!(check_slot(&hall(), &r, day(), t(10, 0), now, 1), Ok(()));
        assert!(matches!(
            check_slot(&hall(), &r, day(), t(10, 0), now, 2),
            Err(BookingRefusal::Full { .. })
        ));
        assert!(matches!(
            check_slot(&hall(), &r, day(), t(9, 0), now, 0),
            Err(BookingRefusal::Past { .. })
        ));
        assert!(matches!(
            check_slot(&hall(), &r, day(), t(10, 10), now, 0),
            Err(BookingRefusal::NotASlot { .. })
        ));
        assert!(matches!(
            check_slot(&hall(), &r, day(), t(12, 30), now, 0),
            Err(BookingRefusal::NotASlot { .. })
        ));
        let later = day() + Duration::days(15);
        assert_eq!(
            check_slot(&hall(), &r, later, t(10, 0), now, 0),
            Err(BookingRefusal::TooFarAhead { days: 14 })
        );
        let none = Appointments::default();
        assert_eq!(
            check_slot(&hall(), &none, day(), t(10, 0), now, 0),
            Err(BookingRefusal::NoAppointments)
        );
    }

    #[test]
    fn arrival_is_in_time_from_thirty_minutes_before_to_fifteen_after() {
        let r = rules();
        let slot = day().and_time(t(10, 0));
        assert_eq!(
            arrival(&r, slot, day().and_time(t(9, 29))),
            Arrival::Early {
                from: day().and_time(t(9, 30))
            }
        );
        assert_eq!(arrival(&r, slot, day().and_time(t(9, 30))), Arrival::InTime);
        assert_eq!(
            arrival(&r, slot, day().and_time(t(10, 15))),
            Arrival::InTime
        );
        assert_eq!(arrival(&r, slot, day().and_time(t(10, 16))), Arrival::Late);
    }

    #[test]
    fn a_booking_is_missed_once_its_window_is_over_without_a_ticket() {
        use crate::queue::Lane;
        let r = rules();
        let slot = day().and_time(t(10, 0));
        let at = |h, m| day().and_time(t(h, m));
        assert_eq!(status(&r, false, None, slot, at(10, 15)), Status::Booked);
        assert_eq!(status(&r, false, None, slot, at(10, 16)), Status::Missed);
        let kept = Some(Lane::Appointment);
        assert_eq!(status(&r, false, kept, slot, at(11, 0)), Status::Kept);
        let priority = Some(Lane::Priority);
        assert_eq!(status(&r, false, priority, slot, at(9, 0)), Status::Kept);
        let walk_in = Some(Lane::Normal);
        assert_eq!(status(&r, false, walk_in, slot, at(11, 0)), Status::Late);
        assert_eq!(status(&r, true, None, slot, at(9, 0)), Status::Cancelled);
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(code_from(42), "000042");
        assert_eq!(code_from(u64::MAX).len(), 6);
        assert!(is_code("483920"));
        assert!(!is_code("48392"));
        assert!(!is_code("48392a"));
    }
}
