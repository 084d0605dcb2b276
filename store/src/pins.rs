//! The windows' login PINs (salt and hash only, never the PIN) and their
//! wrong-PIN counts and lock-outs. What a PIN may be, how it is hashed and
//! when a window is locked out is the main crate's (`crate::pins`); this
//! module only keeps it.

use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};

/// A window's PIN as stored: a random salt and HMAC-SHA256(salt, PIN).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredPin {
    /// The random salt.
    pub salt: Vec<u8>,
    /// HMAC-SHA256 keyed with the salt, of the PIN.
    pub hash: Vec<u8>,
    /// When it was set (ms since the epoch).
    pub set_at: i64,
    /// Who set it (`Actor::recorded`).
    pub set_by: String,
}

impl std::fmt::Debug for StoredPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredPin")
            .field("set_at", &self.set_at)
            .field("set_by", &self.set_by)
            .finish_non_exhaustive()
    }
}

/// A window's wrong PINs since the last success, clearing or lock-out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PinAttempts {
    /// Wrong PINs counted since `first_at`.
    pub failures: u32,
    /// The first of them (ms since the epoch).
    pub first_at: Option<i64>,
    /// PIN login is refused until then (ms since the epoch).
    pub locked_until: Option<i64>,
}

/// One window's PIN login, as the manager sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinStatus {
    /// The window.
    pub window: u32,
    /// When its PIN was set and by whom, if it has one.
    pub set: Option<(i64, String)>,
    /// Its wrong PINs and lock-out.
    pub attempts: PinAttempts,
}

impl Store {
    /// Sets a window's PIN (replacing any) and clears its wrong PINs and
    /// lock-out, in one transaction.
    pub fn set_window_pin(&self, window: u32, pin: &StoredPin) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO window_pins (window, salt, hash, set_at, set_by) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(window) DO UPDATE SET salt = excluded.salt, hash = excluded.hash,
               set_at = excluded.set_at, set_by = excluded.set_by",
            params![window, pin.salt, pin.hash, pin.set_at, pin.set_by],
        )
        .map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM pin_attempts WHERE window = ?1", [window])
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Removes a window's PIN and its wrong PINs; whether it had one.
    pub fn clear_window_pin(&self, window: u32) -> Result<bool, StoreError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let n = tx
            .execute("DELETE FROM window_pins WHERE window = ?1", [window])
            .map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM pin_attempts WHERE window = ?1", [window])
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// A window's PIN, if it has one.
    pub fn window_pin(&self, window: u32) -> Result<Option<StoredPin>, StoreError> {
        self.conn
            .query_row(
                "SELECT salt, hash, set_at, set_by FROM window_pins WHERE window = ?1",
                [window],
                |r| {
                    Ok(StoredPin {
                        salt: r.get(0)?,
                        hash: r.get(1)?,
                        set_at: r.get(2)?,
                        set_by: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// A window's wrong PINs and lock-out (none: the default).
    pub fn pin_attempts(&self, window: u32) -> Result<PinAttempts, StoreError> {
        self.conn
            .query_row(
                "SELECT failures, first_at, locked_until FROM pin_attempts WHERE window = ?1",
                [window],
                |r| {
                    Ok(PinAttempts {
                        failures: r.get(0)?,
                        first_at: r.get(1)?,
                        locked_until: r.get(2)?,
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| self.err(e))
    }

    /// Records a window's wrong PINs and lock-out; the default clears them.
    pub fn record_pin_attempts(&self, window: u32, a: &PinAttempts) -> Result<(), StoreError> {
        let result = if *a == PinAttempts::default() {
            self.conn
                .execute("DELETE FROM pin_attempts WHERE window = ?1", [window])
        } else {
            self.conn.execute(
                "INSERT INTO pin_attempts (window, failures, first_at, locked_until)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(window) DO UPDATE SET failures = excluded.failures,
                   first_at = excluded.first_at, locked_until = excluded.locked_until",
                params![window, a.failures, a.first_at, a.locked_until],
            )
        };
        result.map(|_| ()).map_err(|e| self.err(e))
    }

    /// Every window with a PIN or with wrong PINs recorded, by number.
    pub fn pin_statuses(&self) -> Result<Vec<PinStatus>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT w.window, p.set_at, p.set_by, a.failures, a.first_at, a.locked_until
                 FROM (SELECT window FROM window_pins UNION SELECT window FROM pin_attempts) w
                 LEFT JOIN window_pins p ON p.window = w.window
                 LEFT JOIN pin_attempts a ON a.window = w.window
                 ORDER BY w.window",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let set_at: Option<i64> = r.get(1)?;
                let set_by: Option<String> = r.get(2)?;
                Ok(PinStatus {
                    window: r.get(0)?,
                    set: set_at.zip(set_by),
                    attempts: PinAttempts {
                        failures: r.get::<_, Option<u32>>(3)?.unwrap_or(0),
                        first_at: r.get(4)?,
                        locked_until: r.get(5)?,
                    },
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(by: &str) -> StoredPin {
        StoredPin {
            salt: vec![1; 16],
            hash: vec![2; 32],
            set_at: 1000,
            set_by: by.into(),
        }
    }

    #[test]
    fn a_new_pin_replaces_the_old_and_clears_the_lock_out() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("g.db")).unwrap();
        assert_eq!(s.window_pin(3).unwrap(), None);
        s.set_window_pin(3, &pin("manager")).unwrap();
        let locked = PinAttempts {
            failures: 0,
            first_at: None,
            locked_until: Some(9000),
        };
        s.record_pin_attempts(3, &locked).unwrap();
        s.record_pin_attempts(
            5,
            &PinAttempts {
                failures: 2,
                first_at: Some(10),
                locked_until: None,
            },
        )
        .unwrap();
        assert_eq!(s.pin_attempts(3).unwrap(), locked);
        let all = s.pin_statuses().unwrap();
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all[0].set, Some((1000, "manager".into())));
        assert_eq!(all[1].set, None);
        assert_eq!(all[1].attempts.failures, 2);

        s.set_window_pin(
            3,
            &StoredPin {
                hash: vec![3; 32],
                ..pin("manager")
            },
        )
        .unwrap();
        assert_eq!(s.pin_attempts(3).unwrap(), PinAttempts::default());
        assert_eq!(s.window_pin(3).unwrap().unwrap().hash, vec![3; 32]);
        assert!(s.clear_window_pin(3).unwrap());
        assert!(!s.clear_window_pin(3).unwrap());
        assert_eq!(s.window_pin(3).unwrap(), None);
        s.record_pin_attempts(5, &PinAttempts::default()).unwrap();
        assert!(s.pin_statuses().unwrap().is_empty());
    }
}
