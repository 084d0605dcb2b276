//! The one way greenwave takes a lock.
//!
//! A panic while a lock was held poisons a `std::sync::Mutex`; greenwave's
//! shared state stays consistent across such a panic (the hall rebuilds its
//! queue from the database after a failed commit, and every other lock
//! guards a cache or a handle), so a poisoned lock is simply taken.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, taking it even if a panic poisoned it.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
