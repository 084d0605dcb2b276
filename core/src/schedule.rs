//! When a service gives out tickets, and how many: opening hours (per
//! weekday and per date, for holidays and a payout day's longer hours),
//! a daily limit for the normal lane, one of its own for the priority
//! lane, and an optional hourly limit that spreads a payout day's crowd.
//!
//! Pure: the caller passes the hall's local date and time and the counts
//! of the day; [`admit`] says yes, or why not and when to come back. The
//! kiosk words the answer; staff issuing at a window are not limited.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Timelike, Weekday};

use crate::queue::Lane;

/// A span of the day in which tickets are given out, `from` inclusive,
/// `to` exclusive (`08:30-12:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First minute.
    pub from: NaiveTime,
    /// End (exclusive).
    pub to: NaiveTime,
}

impl Span {
    fn contains(&self, t: NaiveTime) -> bool {
        self.from <= t && t < self.to
    }
}

/// Which days a [`DayRule`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// One date (a holiday, a payout day).
    Date(NaiveDate),
    /// Every such weekday.
    Weekday(Weekday),
}

/// What differs on some days; what it leaves `None` is as usual.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRule {
    /// The days.
    pub on: On,
    /// The hours of those days (empty: closed all day).
    pub hours: Option<Vec<Span>>,
    /// Their daily limit of the normal lane.
    pub daily_limit: Option<u32>,
    /// Their daily limit of the priority lane.
    pub priority_daily_limit: Option<u32>,
    /// Their hourly limit of the normal lane.
    pub hourly_limit: Option<u32>,
}

/// A service's schedule. The default is always open, without limits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    /// The usual hours (empty: all day).
    pub hours: Vec<Span>,
    /// Normal-lane tickets per day.
    pub daily_limit: Option<u32>,
    /// Priority-lane tickets per day (none: no limit; the normal lane's
    /// limit never turns a priority resident away).
    pub priority_daily_limit: Option<u32>,
    /// Normal-lane tickets per clock hour (08:00–08:59, …).
    pub hourly_limit: Option<u32>,
    /// Exceptions: a date's rule before a weekday's.
    pub days: Vec<DayRule>,
}

/// The rules in force on one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySchedule {
    /// Hours (empty: closed all day).
    pub hours: Vec<Span>,
    /// Normal-lane limit.
    pub daily_limit: Option<u32>,
    /// Priority-lane limit.
    pub priority_daily_limit: Option<u32>,
    /// Normal-lane tickets per clock hour.
    pub hourly_limit: Option<u32>,
}

/// A service's tickets so far today.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Normal-lane tickets issued today.
    pub normal: u32,
    /// Priority-lane tickets issued today.
    pub priority: u32,
    /// Normal-lane tickets issued in the current clock hour.
    pub normal_this_hour: u32,
}

/// When to come back: a date and a time, or today at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    /// The date.
    pub date: NaiveDate,
    /// The time tickets are given out again.
    pub at: NaiveTime,
}

/// Why no ticket now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Before today's first span.
    NotYetOpen {
        /// Today's opening.
        opens: NaiveTime,
    },
    /// Between two spans (the lunch break).
    Break {
        /// When the next span starts.
        reopens: NaiveTime,
    },
    /// After today's last span, or a day without hours.
    Closed {
        /// The next opening within two weeks, if any.
        next: Option<Opening>,
    },
    /// The day's tickets of this lane are all given out.
    DailyLimit {
        /// The next opening on a later day, if any within two weeks.
        next: Option<Opening>,
    },
    /// The resident booked a slot later today and came before its window
    /// opens.
    EarlyForBooking {
        /// The slot's start.
        slot: NaiveTime,
        /// When the appointment ticket is given out.
        from: NaiveTime,
    },
    /// This clock hour's normal tickets are all given out.
    HourlyLimit {
        /// The next clock hour, when tickets are given out again (or the
        /// next opening, if the hour ends the day's hours).
        next: Opening,
    },
}

impl Counts {
    /// The counts of `service` among the day's `tickets` (by the service
    /// each was issued for, whatever it was transferred to), the hour's
    /// those issued at or after `hour_start`.
    pub fn of<'a>(
        tickets: impl IntoIterator<Item = &'a crate::queue::Ticket>,
        service: &str,
        hour_start: crate::queue::Timestamp,
    ) -> Counts {
        let mut c = Counts::default();
        for t in tickets.into_iter().filter(|t| t.origin_service == service) {
            match t.lane {
                Lane::Priority => c.priority += 1,
                // Booked within the slots' capacity, outside the limits.
                Lane::Appointment => {}
                Lane::Normal => {
                    c.normal += 1;
                    if t.issued_at >= hour_start {
                        c.normal_this_hour += 1;
                    }
                }
            }
        }
        c
    }
}

impl Schedule {
    /// The rules in force on `date`: its date rule, else its weekday's,
    /// else the usual.
    pub fn on(&self, date: NaiveDate) -> DaySchedule {
        let rule = self
            .days
            .iter()
            .find(|r| r.on == On::Date(date))
            .or_else(|| {
                self.days
                    .iter()
                    .find(|r| r.on == On::Weekday(date.weekday()))
            });
        let base = DaySchedule {
            hours: if self.hours.is_empty() {
                vec![ALL_DAY]
            } else {
                self.hours.clone()
            },
            daily_limit: self.daily_limit,
            priority_daily_limit: self.priority_daily_limit,
            hourly_limit: self.hourly_limit,
        };
        match rule {
            None => base,
            Some(r) => DaySchedule {
                hours: r.hours.clone().unwrap_or(base.hours),
                daily_limit: r.daily_limit.or(base.daily_limit),
                priority_daily_limit: r.priority_daily_limit.or(base.priority_daily_limit),
                hourly_limit: r.hourly_limit.or(base.hourly_limit),
            },
        }
    }

    /// Whether the schedule limits anything at all.
    pub fn is_open_always(&self) -> bool {
        *self == Schedule::default()
    }

    /// The first opening after `date` (the next days' first spans), within
    /// two weeks.
    pub fn next_day_opening(&self, date: NaiveDate) -> Option<Opening> {
        (1..=14).find_map(|d| {
            let day = date + Duration::days(d);
            self.on(day).hours.first().map(|s| Opening {
                date: day,
                at: s.from,
            })
        })
    }
}

/// From midnight to the last minute: a schedule without hours.
const ALL_DAY: Span = Span {
    from: NaiveTime::MIN,
    to: match NaiveTime::from_hms_opt(23, 59, 59) {
        Some(t) => t,
        None => NaiveTime::MIN,
    },
};

/// Whether a ticket of `lane` may be given out at `time` on `date`, with
/// `counts` already given out; if not, why and when to come back. An
/// appointment ticket always may: the booking was its admission (its
/// slot's window is the kiosk's to check).
pub fn admit(
    s: &Schedule,
    lane: Lane,
    date: NaiveDate,
    time: NaiveTime,
    counts: Counts,
) -> Result<(), Refusal> {
    if lane == Lane::Appointment {
        return Ok(());
    }
    let day = s.on(date);
    let Some(span) = day.hours.iter().find(|h| h.contains(time)) else {
        return Err(outside(s, &day, date, time));
    };
    match lane {
        Lane::Priority => {
            if day
                .priority_daily_limit
                .is_some_and(|l| counts.priority >= l)
            {
                return Err(Refusal::DailyLimit {
                    next: s.next_day_opening(date),
                });
            }
        }
        Lane::Appointment => {}
        Lane::Normal => {
            if day.daily_limit.is_some_and(|l| counts.normal >= l) {
                return Err(Refusal::DailyLimit {
                    next: s.next_day_opening(date),
                });
            }
            if day
                .hourly_limit
                .is_some_and(|l| counts.normal_this_hour >= l)
            {
                let next_hour =
                    NaiveTime::from_hms_opt((time.hour() + 1) % 24, 0, 0).unwrap_or(NaiveTime::MIN);
                let next = if next_hour > time && next_hour < span.to {
                    Opening {
                        date,
                        at: next_hour,
                    }
                } else {
                    // The hour ends the span: the next span, today or later.
                    match day.hours.iter().find(|h| h.from >= span.to) {
                        Some(h) => Opening { date, at: h.from },
                        None => match s.next_day_opening(date) {
                            Some(o) => o,
                            None => {
                                return Err(Refusal::Closed { next: None });
                            }
                        },
                    }
                };
                return Err(Refusal::HourlyLimit { next });
            }
        }
    }
    Ok(())
}

/// Why closed at `time`: before the first span, in a break, or after.
fn outside(s: &Schedule, day: &DaySchedule, date: NaiveDate, time: NaiveTime) -> Refusal {
    match day.hours.iter().find(|h| h.from > time) {
        Some(next) if day.hours.iter().any(|h| h.to <= time) => {
            Refusal::Break { reopens: next.from }
        }
        Some(next) => Refusal::NotYetOpen { opens: next.from },
        None => Refusal::Closed {
            next: s.next_day_opening(date),
        },
    }
}

/// Parses `08:30-12:00`.
pub fn parse_span(s: &str) -> Option<Span> {
    let (a, b) = s.split_once('-')?;
    let from = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
    let to = NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?;
    (from < to).then_some(Span { from, to })
}

/// Parses a weekday as written in the configuration (`mon` … `sun`).
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }
    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn hall() -> Schedule {
        Schedule {
            hours: vec![
                parse_span("08:30-12:00").unwrap(),
                parse_span("13:30-17:00").unwrap(),
            ],
            daily_limit: Some(100),
            priority_daily_limit: None,
            hourly_limit: None,
            days: vec![
                DayRule {
                    on: On::Weekday(Weekday::Sat),
                    hours: Some(vec![]),
                    daily_limit: None,
                    priority_daily_limit: None,
                    hourly_limit: None,
                },
                DayRule {
                    on: On::Weekday(Weekday::Sun),
                    hours: Some(vec![]),
                    daily_limit: None,
                    priority_daily_limit: None,
                    hourly_limit: None,
                },
                // A payout day: longer hours, more tickets, spread per hour.
                DayRule {
                    on: On::Date(d("2026-12-15")),
                    hours: Some(vec![parse_span("08:00-18:00").unwrap()]),
                    daily_limit: Some(1000),
                    priority_daily_limit: None,
                    hourly_limit: Some(120),
                },
            ],
        }
    }
    const NONE: Counts = Counts {
        normal: 0,
        priority: 0,
        normal_this_hour: 0,
    };
    // 2026-12-01 is a Tuesday.
    const TUE: &str = "2026-12-01";

    #[test]
    fn open_hours_give_tickets_and_say_when_they_start_again() {
        let s = hall();
        let admit_at = |time| admit(&s, Lane::Normal, d(TUE), t(time), NONE);
        assert_eq!(admit_at("08:30"), Ok(()));
        assert_eq!(admit_at("11:59"), Ok(()));
        assert_eq!(
            admit_at("08:29"),
            Err(Refusal::NotYetOpen { opens: t("08:30") })
        );
        assert_eq!(
            admit_at("12:00"),
            Err(Refusal::Break {
                reopens: t("13:30")
            })
        );
        assert_eq!(admit_at("13:30"), Ok(()));
        // After hours on a Friday: Monday morning, the weekend is closed.
        assert_eq!(
            admit(&s, Lane::Normal, d("2026-12-04"), t("17:00"), NONE),
            Err(Refusal::Closed {
                next: Some(Opening {
                    date: d("2026-12-07"),
                    at: t("08:30")
                })
            })
        );
        // Hours apply to both lanes.
        assert_eq!(
            admit(&s, Lane::Priority, d(TUE), t("07:00"), NONE),
            Err(Refusal::NotYetOpen { opens: t("08:30") })
        );
    }

    #[test]
    fn the_normal_lanes_limit_never_turns_a_priority_resident_away() {
        let mut s = hall();
        let full = Counts {
            normal: 100,
            priority: 40,
            normal_this_hour: 9,
        };
        assert_eq!(
            admit(&s, Lane::Normal, d(TUE), t("09:00"), full),
            Err(Refusal::DailyLimit {
                next: Some(Opening {
                    date: d("2026-12-02"),
                    at: t("08:30")
                })
            })
        );
        assert_eq!(admit(&s, Lane::Priority, d(TUE), t("09:00"), full), Ok(()));
        s.priority_daily_limit = Some(40);
        assert!(matches!(
            admit(&s, Lane::Priority, d(TUE), t("09:00"), full),
            Err(Refusal::DailyLimit { .. })
        ));
    }

    #[test]
    fn a_payout_day_has_its_hours_and_spreads_the_crowd_per_hour() {
        let s = hall();
        let day = d("2026-12-15");
        assert_eq!(admit(&s, Lane::Normal, day, t("08:00"), NONE), Ok(()));
        let hour_full = Counts {
            normal: 300,
            priority: 0,
            normal_this_hour: 120,
        };
        assert_eq!(
            admit(&s, Lane::Normal, day, t("10:20"), hour_full),
            Err(Refusal::HourlyLimit {
                next: Opening {
                    date: day,
                    at: t("11:00")
                }
            })
        );
        // Priority residents are not spread.
        assert_eq!(
            admit(&s, Lane::Priority, day, t("10:20"), hour_full),
            Ok(())
        );
        // The last hour full: tomorrow morning.
        assert_eq!(
            admit(&s, Lane::Normal, day, t("17:10"), hour_full),
            Err(Refusal::HourlyLimit {
                next: Opening {
                    date: d("2026-12-16"),
                    at: t("08:30")
                }
            })
        );
        // The usual days keep their limit of 100.
        assert!(admit(&s, Lane::Normal, d(TUE), t("10:00"), hour_full).is_err());
    }

    #[test]
    fn a_schedule_without_hours_is_always_open() {
        let s = Schedule::default();
        assert!(s.is_open_always());
        for time in ["00:00", "12:00", "23:59"] {
            assert_eq!(admit(&s, Lane::Normal, d(TUE), t(time), NONE), Ok(()));
        }
    }

    #[test]
    fn spans_and_weekdays_parse_as_written() {
        assert_eq!(
            parse_span("08:30-12:00"),
            Some(Span {
                from: t("08:30"),
                to: t("12:00")
            })
        );
        assert_eq!(parse_span("12:00-08:30"), None, "backwards");
        assert_eq!(parse_span("8.30-12"), None);
        assert_eq!(parse_weekday("sat"), Some(Weekday::Sat));
        assert_eq!(parse_weekday("Saturday"), None);
    }
}
