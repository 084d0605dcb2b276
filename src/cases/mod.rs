//! Accompanied service: the pure rules live in `greenwave-core`
//! ([`greenwave_core::cases`], re-exported here); this module adds the
//! policies loaded from `policies.toml` (a file read: not for the core).

pub use greenwave_core::cases::*;

pub mod policies;

pub use policies::{Department, Policies, Policy, PolicyError};
