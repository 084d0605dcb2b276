//! greenwave: a queue-ticketing kiosk daemon for government service halls,
//! with a priority lane (绿波通道) for low-income residents.
//!
//! The library holds everything; the `greenwave` binary is a thin CLI over
//! it. See ARCHITECTURE.md for the code map and the invariants.

pub mod api;
pub mod board;
pub mod cases;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod export;
pub mod hall;
pub mod kiosk;
pub mod queue;
pub mod roster;
pub mod stats;
pub mod store;
pub mod voice;
