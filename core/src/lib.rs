//! greenwave's pure core: the queue of a hall ([`queue`]) and the rules of
//! accompanied service ([`cases`]).
//!
//! This crate does no IO by construction: it depends on no database, no
//! async runtime and no device crate, and it reads no clock (time is a
//! parameter). Decisions take `&self` and return an event or an error; only
//! `apply` mutates.

pub mod actor;
pub mod booking;
pub mod cases;
pub mod queue;
pub mod schedule;

pub use actor::Actor;

/// Whether `s` is a code: 1-32 characters of a-z, 0-9, `_` or `-`. Hall
/// codes, service codes, helper ids and the policies file's ids are codes.
pub fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}
