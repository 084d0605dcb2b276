//! Window PINs: what a PIN may be, how it is kept, when wrong PINs lock a
//! window's PIN login out, and the sessions a right PIN opens.
//!
//! A PIN is 4 to 8 digits, not a trivial one (one digit repeated, a run
//! such as 1234 or 9876, a repeated block such as 1212). It is kept as a
//! random 16-byte salt and HMAC-SHA256(salt, PIN), and compared in
//! constant time. Five wrong PINs within 15 minutes of the first lock the
//! window's PIN login for 15 minutes; a right PIN, a new PIN or the
//! manager clears the count. The policy is plain functions over
//! [`PinAttempts`] and the time; the store keeps the result.
//!
//! A right PIN opens a session: a random 64-hex-character token that acts
//! exactly as the window's configured token (its own window only) for 12
//! hours, or until logged out, the window's PIN changed or cleared, or the
//! daemon restarted (sessions live in memory only).

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::{PinAttempts, StoredPin};

/// Wrong PINs that lock a window's PIN login out.
pub const MAX_FAILURES: u32 = 5;
/// The period the wrong PINs are counted in, from the first (ms).
pub const FAILURE_PERIOD_MS: i64 = 15 * 60 * 1000;
/// How long a lock-out lasts (ms).
pub const LOCKOUT_MS: i64 = 15 * 60 * 1000;
/// How long a PIN session lasts (ms).
pub const SESSION_MS: i64 = 12 * 3600 * 1000;

/// Why a PIN cannot be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinRefused {
    /// Not 4 to 8 ASCII digits.
    #[error("the PIN must be 4 to 8 digits")]
    Format,
    /// One digit repeated, a run up or down, or a repeated block.
    #[error("the PIN is too easy to guess")]
    Trivial,
}

/// Whether `pin` may be set as a window's PIN.
pub fn check(pin: &str) -> Result<(), PinRefused> {
    let d = pin.as_bytes();
    if !(4..=8).contains(&d.len()) || !d.iter().all(u8::is_ascii_digit) {
        return Err(PinRefused::Format);
    }
    if trivial(d) {
        return Err(PinRefused::Trivial);
    }
    Ok(())
}

/// One digit repeated (1111), a run up or down (1234, 987654), or a
/// shorter block repeated (1212, 123123).
fn trivial(d: &[u8]) -> bool {
    let steps: Vec<i16> = d
        .windows(2)
        .map(|w| i16::from(w[1]) - i16::from(w[0]))
        .collect();
    let run = steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == -1);
    let repeated = (1..=d.len() / 2)
        .filter(|n| d.len().is_multiple_of(*n))
        .any(|n| d.chunks(n).all(|c| c == &d[..n]));
    run || repeated
}

fn keyed(salt: &[u8], pin: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(salt).expect("HMAC takes any key length");
    mac.update(pin.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A PIN to store: a fresh random salt and the PIN's keyed hash.
pub fn stored(pin: &str, at: i64, by: String) -> std::io::Result<StoredPin> {
    let mut salt = vec![0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(StoredPin {
        hash: keyed(&salt, pin),
        salt,
        set_at: at,
        set_by: by,
    })
}

/// Whether `pin` is the stored one (compared in constant time).
pub fn matches(stored: &StoredPin, pin: &str) -> bool {
    keyed(&stored.salt, pin).ct_eq(&stored.hash).into()
}

/// Until when the window's PIN login is locked out at `now`, if it is.
pub fn locked_until(a: &PinAttempts, now: i64) -> Option<i64> {
    a.locked_until.filter(|until| now < *until)
}

/// The attempts after a wrong PIN at `now` (the window not locked out):
/// counted from the first wrong PIN of the last 15 minutes; the fifth
/// locks the PIN login out for 15 minutes.
pub fn after_failure(a: PinAttempts, now: i64) -> PinAttempts {
    let counting = a.locked_until.is_none()
        && a.first_at
            .is_some_and(|first| now - first < FAILURE_PERIOD_MS && now >= first);
    let (failures, first_at) = if counting {
        (a.failures + 1, a.first_at)
    } else {
        (1, Some(now))
    };
    if failures >= MAX_FAILURES {
        PinAttempts {
            failures,
            first_at,
            locked_until: Some(now + LOCKOUT_MS),
        }
    } else {
        PinAttempts {
            failures,
            first_at,
            locked_until: None,
        }
    }
}

/// Wrong PINs left before a lock-out, after `a`.
pub fn attempts_left(a: &PinAttempts) -> u32 {
    MAX_FAILURES.saturating_sub(a.failures)
}

/// An open PIN session.
#[derive(Debug, Clone, Copy)]
struct Session {
    window: u32,
    expires_at: i64,
}

/// The open PIN sessions, by the SHA-256 of their token (the token itself
/// is never kept). In memory: a restart ends them all.
#[derive(Debug, Default)]
pub struct Sessions(HashMap<[u8; 32], Session>);

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Sessions {
    /// Opens a session for `window` at `now`: its token and when it ends.
    pub fn open(&mut self, window: u32, now: i64) -> std::io::Result<(String, i64)> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| std::io::Error::other(e.to_string()))?;
        let token = hex::encode(raw);
        self.0.retain(|_, s| now < s.expires_at);
        let expires_at = now + SESSION_MS;
        self.0
            .insert(digest(&token), Session { window, expires_at });
        Ok((token, expires_at))
    }

    /// The window of a session token still open at `now`.
    pub fn window_of(&self, token: &str, now: i64) -> Option<u32> {
        self.0
            .get(&digest(token))
            .filter(|s| now < s.expires_at)
            .map(|s| s.window)
    }

    /// Ends a session; whether `token` was one.
    pub fn revoke(&mut self, token: &str) -> bool {
        self.0.remove(&digest(token)).is_some()
    }

    /// Ends every session of `window` (its PIN changed or was cleared).
    pub fn revoke_window(&mut self, window: u32) -> usize {
        let before = self.0.len();
        self.0.retain(|_, s| s.window != window);
        before - self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_and_trivial_pins_are_refused() {
        for bad in ["", "123", "123456789", "12a4", "１２３４", " 2580"] {
            assert_eq!(check(bad), Err(PinRefused::Format), "{bad:?}");
        }
        for easy in [
            "0000", "7777777", "1234", "0123", "4321", "98765432", "123456", "1212", "123123",
            "20252025",
        ] {
            assert_eq!(check(easy), Err(PinRefused::Trivial), "{easy:?}");
        }
        for ok in ["2580", "1357", "90210", "38174629", "1123", "1235"] {
            assert_eq!(check(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn a_pin_is_kept_salted_and_matches_only_itself() {
        let a = stored("2580", 1, "manager".into()).unwrap();
        let b = stored("2580", 1, "manager".into()).unwrap();
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.hash, b.hash, "two salts, two hashes");
        assert!(!a.hash.windows(4).any(|w| w == b"2580"));
        assert!(matches(&a, "2580"));
        assert!(!matches(&a, "2581"));
        assert!(!matches(&a, "25800"));
        assert!(!format!("{a:?}").contains("hash"), "no hash in Debug");
    }

    #[test]
    fn five_wrong_pins_within_fifteen_minutes_lock_out_for_fifteen() {
        let min = 60_000;
        let mut a = PinAttempts::default();
        for i in 0..4 {
            a = after_failure(a, i * 3 * min);
            assert_eq!(locked_until(&a, i * 3 * min), None);
        }
        assert_eq!(attempts_left(&a), 1);
        a = after_failure(a, 14 * min);
        assert_eq!(locked_until(&a, 14 * min), Some(29 * min));
        assert_eq!(locked_until(&a, 29 * min - 1), Some(29 * min));
        assert_eq!(locked_until(&a, 29 * min), None, "over after 15 minutes");
        // After the lock-out the count starts again.
        a = after_failure(a, 30 * min);
        assert_eq!((a.failures, a.locked_until), (1, None));

        // Four wrong, then a pause past the period: counted afresh.
        let mut b = PinAttempts::default();
        for i in 0..4 {
            b = after_failure(b, i * min);
        }
        b = after_failure(b, 16 * min);
        assert_eq!(
            (b.failures, b.first_at, b.locked_until),
            (1, Some(16 * min), None)
        );
    }

    #[test]
    fn a_session_acts_for_its_window_until_it_ends() {
        let mut s = Sessions::default();
        let (t1, until) = s.open(1, 0).unwrap();
        let (t2, _) = s.open(2, 0).unwrap();
        assert_eq!(t1.len(), 64);
        assert!(t1.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(until, SESSION_MS);
        assert_eq!(s.window_of(&t1, 1), Some(1));
        assert_eq!(s.window_of(&t2, 1), Some(2));
        assert_eq!(s.window_of(&t1, SESSION_MS), None, "expired");
        assert_eq!(s.window_of("nope", 1), None);
        assert!(s.revoke(&t1));
        assert!(!s.revoke(&t1));
        assert_eq!(s.window_of(&t1, 1), None);
        assert_eq!(s.revoke_window(2), 1);
        assert_eq!(s.window_of(&t2, 1), None);
    }
}
