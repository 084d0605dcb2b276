//! greenwave: a queue-ticketing kiosk daemon for government service halls,
//! with a priority lane (绿波通道) for low-income residents.
//!
//! The library holds everything; the `greenwave` binary is a thin CLI over
//! it. See ARCHITECTURE.md for the code map and the invariants.

pub mod api;
pub mod bigtext;
pub mod board;
pub mod cases;
pub mod city;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod export;
pub mod hall;
pub mod hwm;
pub mod kiosk;
pub mod pins;
pub mod roster;
pub mod setup;
pub mod speech;
pub mod stats;
pub mod svg;
pub mod sync;
pub mod tables;
pub mod voice;

// The core and the store are crates of their own, so that their rules
// hold at compile time: the core depends on no database and no runtime,
// and only the store depends on rusqlite. Re-exported under their old
// names.
/// The city database (PostgreSQL).
pub use greenwave_citydb as citydb;
pub use greenwave_core::booking;
pub use greenwave_core::queue;
pub use greenwave_core::schedule;
pub use greenwave_store as store;
