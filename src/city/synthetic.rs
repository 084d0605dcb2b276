//! Synthetic hall days for the city's bench and page test: a hall's
//! tickets of one service day as its store would read them (tickets,
//! cases, ratings), with a realistic mix (a quarter priority, categories,
//! age bands, no-shows, accompanied cases, ratings). The same arguments
//! always give the same day.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveTime};

use crate::cases::{Rating, RatingSource};
use crate::queue::{Identified, Lane, TicketId, Timestamp};
use crate::roster::synthetic::Rng;
use crate::store::{AgeBand, CaseFact, End, Profile, RatingFact, Records, TicketSummary};

const SERVICES: [&str; 4] = ["civil", "medical", "housing", "pension"];
const CATEGORIES: [&str; 3] = ["低保", "特困", "低保边缘"];

/// `tickets` tickets of hall `hall` on `day`, ids from `first_id`;
/// `satisfaction` (0..=1) is the share of residents' ratings that are
/// satisfied.
pub fn hall_day(
    hall: u64,
    day: NaiveDate,
    first_id: u64,
    tickets: usize,
    satisfaction: f64,
) -> Records {
    let mut rng =
        Rng(hall.wrapping_mul(1_000_003) ^ (day.num_days_from_ce() as u64) << 20 ^ first_id);
    let services: Vec<Arc<str>> = SERVICES.iter().map(|s| Arc::from(*s)).collect();
    let categories: Vec<Arc<str>> = CATEGORIES.iter().map(|s| Arc::from(*s)).collect();
    let opening = day
        .and_time(NaiveTime::from_hms_opt(0, 30, 0).expect("a valid time"))
        .and_utc()
        .timestamp_millis();
    let mut out = Records::default();
    for i in 0..tickets {
        let id = TicketId(first_id + i as u64);
        let priority = rng.below(4) == 0;
        let issued = opening + (i as i64 * 28_000_000 / tickets.max(1) as i64);
        let wait = 60_000 + rng.below(40 * 60_000) as i64;
        let service_ms = 120_000 + rng.below(15 * 60_000) as i64;
        let end = match rng.below(20) {
            0 => End::NoShow,
            1 => End::Cancelled,
            _ => End::Done,
        };
        let called = (end != End::Cancelled).then_some(Timestamp(issued + wait));
        let started = (end == End::Done).then_some(Timestamp(issued + wait + 30_000));
        let finished = started.map(|s| Timestamp(s.0 + service_ms));
        let profile = Profile {
            category: priority.then(|| categories[rng.below(3) as usize].clone()),
            age_band: (priority || rng.below(2) == 0).then(|| AgeBand::ALL[rng.below(5) as usize]),
        };
        out.tickets.push(TicketSummary {
            id,
            day,
            lane: if priority {
                Lane::Priority
            } else {
                Lane::Normal
            },
            service: services[rng.below(4) as usize].clone(),
            issued_at: Timestamp(issued),
            slot_at: None,
            first_called_at: called,
            started_at: started,
            finished_at: finished,
            window: called.map(|_| 1 + rng.below(6) as u32),
            transfers: u32::from(rng.below(15) == 0),
            end: Some(end),
            identified: priority.then(|| Identified::ALL[rng.below(3) as usize]),
            profile,
        });
        if priority && end == End::Done {
            out.cases.push(CaseFact {
                ticket: id,
                helper: Some(format!("h{}", rng.below(3))),
                policies: 1 + rng.below(4) as usize,
                closed: true,
            });
        }
        if end == End::Done && rng.below(3) == 0 {
            let happy = (rng.below(1000) as f64) < satisfaction * 1000.0;
            out.ratings.push(RatingFact {
                ticket: id,
                rating: if happy {
                    Rating::ALL[rng.below(3) as usize]
                } else {
                    Rating::ALL[3 + rng.below(2) as usize]
                },
                source: RatingSource::ResidentWindow,
            });
        }
    }
    out
}
