//! The service day: which calendar day an instant belongs to, given the
//! hall's time zone and its rollover time. Pure arithmetic on the time-zone
//! database compiled into the binary; no clock is read here.

use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;

use super::Timestamp;

/// Where one service day ends and the next begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayBoundary {
    /// The hall's time zone.
    pub timezone: Tz,
    /// Local time at which a new service day starts (e.g. 04:00).
    pub rollover: NaiveTime,
}

/// The service day of `now`: the local date, counted from the rollover time
/// rather than from midnight. With rollover 04:00, 03:59 on the 24th still
/// belongs to the 23rd.
pub fn service_day(now: Timestamp, boundary: &DayBoundary) -> NaiveDate {
    let utc = chrono::DateTime::from_timestamp_millis(now.0).unwrap_or_default();
    let local = boundary
        .timezone
        .from_utc_datetime(&utc.naive_utc())
        .naive_local();
    let shifted = local - (boundary.rollover - NaiveTime::MIN);
    shifted.date()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp(
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_millis(),
        )
    }

    #[test]
    fn rollover_time_splits_days_in_local_time() {
        let b = DayBoundary {
            timezone: chrono_tz::Asia::Shanghai,
            rollover: NaiveTime::from_hms_opt(4, 0, 0).unwrap(),
        };
        let d = |s| service_day(at(s), &b).to_string();
        // 03:59 Shanghai on the 24th is 19:59 UTC on the 23rd.
        assert_eq!(d("2026-11-23T19:59:00Z"), "2026-11-23");
        assert_eq!(d("2026-11-23T20:00:00Z"), "2026-11-24");
        assert_eq!(d("2026-11-24T15:00:00Z"), "2026-11-24");
    }

    #[test]
    fn midnight_rollover_is_the_calendar_date() {
        let b = DayBoundary {
            timezone: chrono_tz::UTC,
            rollover: NaiveTime::MIN,
        };
        assert_eq!(
            service_day(at("2026-01-01T00:00:00Z"), &b).to_string(),
            "2026-01-01"
        );
        assert_eq!(
            service_day(at("2025-12-31T23:59:59Z"), &b).to_string(),
            "2025-12-31"
        );
    }
}
