//! greenwave's pure core: the queue of a hall ([`queue`]) and the rules of
//! accompanied service ([`cases`]).
//!
//! This crate does no IO by construction: it depends on no database, no
//! async runtime and no device crate, and it reads no clock (time is a
//! parameter). Decisions take `&self` and return an event or an error; only
//! `apply` mutates.

pub mod cases;
pub mod queue;
