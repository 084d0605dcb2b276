//! Appointments, the hall's side: booking, moving and cancelling under the
//! hall's lock (so a slot's capacity and "one booking per resident,
//! service and day" hold however many staff book at once), and what a
//! booked resident's swipe at the kiosk gives (`Hall::open_or_issue`).
//! The rules are the core's (`greenwave_core::booking`).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

use super::{Actor, Ask, Hall, HallError};
use crate::booking::{arrival, check_slot, code_from, Appointments, Arrival, BookingRefusal};
use crate::queue::{Event, Lane, Timestamp};
use crate::schedule::{Refusal, Schedule};
use crate::store::{Booking, StoreError};

/// A new booking.
#[derive(Debug, Clone)]
pub struct BookingAsk<'a> {
    /// Who books (a window, the manager, the hotline).
    pub actor: &'a Actor,
    /// The resident: the keyed hash of their ID number (hex).
    pub person: String,
    /// The service.
    pub service: &'a str,
    /// The day.
    pub day: NaiveDate,
    /// The slot's start.
    pub slot: NaiveTime,
    /// The service's appointments (capacity, how far ahead).
    pub rules: Appointments,
    /// The service's hours (the slots).
    pub schedule: &'a Schedule,
}

/// Why a booking could not be made, moved or cancelled. Messages are for
/// staff.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// The slot rules refused.
    #[error(transparent)]
    Refused(#[from] BookingRefusal),
    /// No booking has this code.
    #[error("没有预约码为 {0} 的预约")]
    Unknown(String),
    /// The booking was cancelled.
    #[error("预约 {0} 已取消")]
    Cancelled(String),
    /// The resident came on it already.
    #[error("预约 {code} 已取号（{number}），不能再更改")]
    Used {
        /// The booking.
        code: String,
        /// The ticket issued on it.
        number: String,
    },
    /// The database failed; nothing was recorded.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Hall {
    /// The hall's local date and time now.
    pub fn local_now(&self) -> NaiveDateTime {
        self.local(self.clock.now())
    }

    fn local(&self, t: Timestamp) -> NaiveDateTime {
        let utc = chrono::DateTime::from_timestamp_millis(t.0).unwrap_or_default();
        self.boundary
            .timezone
            .from_utc_datetime(&utc.naive_utc())
            .naive_local()
    }

    /// The instant of a local date and time (the earlier one when the
    /// clocks go back).
    fn instant(&self, local: NaiveDateTime) -> Timestamp {
        let at = self
            .boundary
            .timezone
            .from_local_datetime(&local)
            .earliest()
            .map_or_else(
                || local.and_utc().timestamp_millis(),
                |t| t.timestamp_millis(),
            );
        Timestamp(at)
    }

    /// Books a slot: at most one booking per resident, service and day;
    /// the slot must exist, lie ahead and have a place. `random` gives the
    /// code's entropy (a code never given before is chosen).
    pub fn book(
        &mut self,
        ask: BookingAsk<'_>,
        mut random: impl FnMut() -> u64,
    ) -> Result<Booking, BookingError> {
        self.same_day_booking(&ask.person, ask.service, ask.day, None)?;
        let booked = self.store.booked_in_slot(ask.day, ask.service, ask.slot)?;
        let now = self.local_now();
        check_slot(ask.schedule, &ask.rules, ask.day, ask.slot, now, booked)?;
        let mut code = code_from(random());
        while self.store.booking_code_used(&code)? {
            code = code_from(random());
        }
        let b = Booking {
            code,
            person: ask.person,
            service: ask.service.to_string(),
            day: ask.day,
            slot: ask.slot,
            cancelled: false,
            booked_at: self.clock.now().0,
            booked_by: ask.actor.recorded(),
            ticket: None,
        };
        self.store.insert_booking(&b)?;
        Ok(b)
    }

    /// A booking by code, if it can still be changed.
    pub fn changeable_booking(&self, code: &str) -> Result<Booking, BookingError> {
        let b = self
            .store
            .booking(code)?
            .ok_or_else(|| BookingError::Unknown(code.to_string()))?;
        if b.cancelled {
            return Err(BookingError::Cancelled(b.code));
        }
        if let Some((number, _)) = b.ticket {
            return Err(BookingError::Used {
                code: b.code,
                number,
            });
        }
        Ok(b)
    }

    /// Moves a booking to another day and slot, by the same rules as a new
    /// one (its own place does not count against the new slot).
    pub fn move_booking(
        &mut self,
        actor: &Actor,
        code: &str,
        to: (NaiveDate, NaiveTime),
        rules: &Appointments,
        schedule: &Schedule,
    ) -> Result<Booking, BookingError> {
        let b = self.changeable_booking(code)?;
        let (day, slot) = to;
        if (b.day, b.slot) == to {
            return Ok(b);
        }
        self.same_day_booking(&b.person, &b.service, day, Some(&b.code))?;
        let booked = self.store.booked_in_slot(day, &b.service, slot)?;
        check_slot(schedule, rules, day, slot, self.local_now(), booked)?;
        let detail = format!(
            "{} {} → {} {}",
            b.day,
            b.slot.format("%H:%M"),
            day,
            slot.format("%H:%M")
        );
        let now = self.clock.now().0;
        self.store
            .move_booking(code, day, slot, now, &actor.recorded(), &detail)?;
        Ok(Booking { day, slot, ..b })
    }

    /// Cancels a booking (its place frees at once).
    pub fn cancel_booking(
        &mut self,
        actor: &Actor,
        code: &str,
        reason: Option<&str>,
    ) -> Result<Booking, BookingError> {
        let b = self.changeable_booking(code)?;
        let now = self.clock.now().0;
        self.store
            .cancel_booking(code, now, &actor.recorded(), reason)?;
        Ok(Booking {
            cancelled: true,
            ..b
        })
    }

    /// Refuses a second booking of the same resident, service and day
    /// (`except` a booking being moved).
    fn same_day_booking(
        &self,
        person: &str,
        service: &str,
        day: NaiveDate,
        except: Option<&str>,
    ) -> Result<(), BookingError> {
        let theirs = self.store.bookings_of_person(person, day)?;
        match theirs.into_iter().find(|b| {
            b.day == day && b.service == service && !b.cancelled && Some(b.code.as_str()) != except
        }) {
            Some(b) => Err(BookingRefusal::AlreadyBooked { code: b.code }.into()),
            None => Ok(()),
        }
    }

    /// The resident's booking of today for `service` they have not come on
    /// yet.
    fn todays_booking(&self, person: &str, service: &str) -> Result<Option<Booking>, StoreError> {
        let today = self.queue.day();
        Ok(self
            .store
            .bookings_of_person(person, today)?
            .into_iter()
            .find(|b| b.day == today && b.service == service && !b.cancelled && b.ticket.is_none()))
    }

    /// A new ticket for a resident with no open one: on their booking of
    /// today if they have one, else as a walk-in (by the schedule, at the
    /// kiosk). Returns the event to record.
    pub(super) fn new_ticket(&mut self, ask: &Ask<'_>, now: Timestamp) -> Result<Event, HallError> {
        let booking = match (ask.appointments, ask.person) {
            (Some(rules), Some(p)) => self.todays_booking(p, ask.service)?.map(|b| (rules, b)),
            _ => None,
        };
        let person = ask.person.map(str::to_string);
        let token = ask.token.clone();
        let Some((rules, b)) = booking else {
            if let Some(s) = ask.schedule {
                self.admit(s, ask.service, ask.lane, now)?;
            }
            return Ok(self.queue.issue_with(
                ask.service,
                ask.lane,
                now,
                token,
                person,
                ask.identified,
            )?);
        };
        let slot = b.day.and_time(b.slot);
        let came = arrival(&rules, slot, self.local(now));
        let mut ev = match (ask.lane, came) {
            // Green-wave residents keep their priority, whenever they come.
            (Lane::Priority, _) => {
                if let Some(s) = ask.schedule {
                    self.admit(s, ask.service, Lane::Priority, now)?;
                }
                self.queue.issue_with(
                    ask.service,
                    Lane::Priority,
                    now,
                    token,
                    person,
                    ask.identified,
                )?
            }
            (_, Arrival::Early { from }) => {
                return Err(HallError::NotNow(Refusal::EarlyForBooking {
                    slot: b.slot,
                    from: from.time(),
                }));
            }
            (_, Arrival::InTime) => {
                let at = self.instant(slot);
                return Ok(self.queue.issue_booked(
                    ask.service,
                    at,
                    &b.code,
                    now,
                    token,
                    person,
                )?);
            }
            // Too late: a walk-in ticket, outside the walk-ins' limits
            // (the hall owed them a place), inside the hours.
            (_, Arrival::Late) => {
                if let Some(s) = ask.schedule {
                    let local = self.local(now);
                    crate::schedule::admit(
                        s,
                        Lane::Normal,
                        local.date(),
                        local.time(),
                        crate::schedule::Counts::default(),
                    )
                    .map_err(HallError::NotNow)?;
                }
                self.queue
                    .issue_with(ask.service, Lane::Normal, now, token, person, None)?
            }
        };
        ev.set_booking(&b.code);
        Ok(ev)
    }
}
