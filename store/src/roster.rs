//! The roster's SQL: each installed roster version is its own SQLite file
//! under `DATA_DIR/rosters/`, built beside the one in use and switched to in
//! one small transaction of the main database. A build that is killed or
//! fails leaves only a `.part` file, which the next import removes; the
//! roster in use is never touched. The audit table lives in the main
//! database.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::{sql, Store, StoreError};

/// The roster in use, as recorded in the main database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterState {
    /// Roster version (from the signed header).
    pub version: u64,
    /// File name under `rosters/`.
    pub file: String,
    /// Entries.
    pub rows: u64,
    /// Category names, by index as in the roster file.
    pub categories: Vec<String>,
    /// When ops prepared it (from the header).
    pub created_at: String,
    /// When this hall installed it (ms since the epoch).
    pub imported_at: i64,
    /// SHA-256 of the roster body (hex), as signed.
    pub body_digest: String,
    /// SHA-256 of the whole file as received (hex).
    pub file_digest: String,
    /// Whether the file carried a verified signature.
    pub signed: bool,
}

/// One line of the audit log. `subject` must already be masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When (ms since the epoch).
    pub at: i64,
    /// Who: `ops`, `window 3`, `daemon`...
    pub actor: String,
    /// What: `roster.import`, `roster.check`...
    pub action: String,
    /// The masked subject (`3717**********1234`, a file name), if any.
    pub subject: Option<String>,
    /// The outcome: `ok`, `refused`, `on_roster`...
    pub result: String,
    /// More detail, never personal data.
    pub detail: Option<String>,
}

/// A looked-up entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RosterHit {
    /// Category index.
    pub category: u8,
    /// Last valid day as days since 1970-01-01, if limited.
    pub valid_to_days: Option<i32>,
}

const ROSTER_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS roster (
        hash      BLOB PRIMARY KEY,
        category  INTEGER NOT NULL,
        valid_to  INTEGER
    ) WITHOUT ROWID;";

/// A roster version being built. Dropping it without [`RosterBuild::finish`]
/// deletes the partial file.
pub struct RosterBuild {
    conn: Option<Connection>,
    part: PathBuf,
    final_path: PathBuf,
    in_tx: bool,
    rows: u64,
}

impl std::fmt::Debug for RosterBuild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RosterBuild")
            .field("part", &self.part)
            .finish()
    }
}

impl Store {
    /// The roster in use, if any.
    pub fn roster_state(&self) -> Result<Option<RosterState>, StoreError> {
        self.conn
            .query_row(
                "SELECT version, file, rows, categories, created_at, imported_at, body_digest, file_digest, signed
                 FROM roster_state WHERE id = 1",
                [],
                |r| {
                    let cats: String = r.get(3)?;
                    Ok(RosterState {
                        version: r.get::<_, i64>(0)? as u64,
                        file: r.get(1)?,
                        rows: r.get::<_, i64>(2)? as u64,
                        categories: serde_json::from_str(&cats).unwrap_or_default(),
                        created_at: r.get(4)?,
                        imported_at: r.get(5)?,
                        body_digest: r.get(6)?,
                        file_digest: r.get(7)?,
                        signed: r.get(8)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Starts building roster `version` in `rosters_dir`: an empty table, or
    /// a copy of the roster in use when `from_current` (for a delta).
    /// Leftover `.part` files of killed imports are removed first.
    pub fn begin_roster(
        &self,
        rosters_dir: &Path,
        version: u64,
        from_current: bool,
    ) -> Result<RosterBuild, StoreError> {
        let io = |e: std::io::Error, what: &str| StoreError::Corrupt {
            path: rosters_dir.display().to_string(),
            table: "roster",
            detail: format!("{what}: {e}"),
        };
        std::fs::create_dir_all(rosters_dir)
            .map_err(|e| io(e, "cannot create the rosters directory"))?;
        if let Ok(entries) = std::fs::read_dir(rosters_dir) {
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "part") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!("roster-v{version}-{stamp:x}.db");
        let final_path = rosters_dir.join(&name);
        let part = rosters_dir.join(format!("{name}.part"));
        if from_current {
            let state = self.roster_state()?.ok_or_else(|| StoreError::Corrupt {
                path: self.path.clone(),
                table: "roster_state",
                detail: "no roster installed to apply a delta to".into(),
            })?;
            std::fs::copy(rosters_dir.join(&state.file), &part)
                .map_err(|e| io(e, "cannot copy the current roster"))?;
        }
        let p = part.display().to_string();
        let conn = Connection::open(&part).map_err(|e| sql(&p, e))?;
        // The partial file is thrown away on any failure, so it needs no
        // journal; durability comes from the fsync in `finish`.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -16384; {ROSTER_SCHEMA}"
        ))
        .map_err(|e| sql(&p, e))?;
        conn.execute_batch("BEGIN").map_err(|e| sql(&p, e))?;
        Ok(RosterBuild {
            conn: Some(conn),
            part,
            final_path,
            in_tx: true,
            rows: 0,
        })
    }

    /// Switches to a finished roster build in one transaction, then removes
    /// the file of the roster it replaces.
    pub fn activate_roster(
        &mut self,
        rosters_dir: &Path,
        built: PathBuf,
        state: &RosterState,
    ) -> Result<(), StoreError> {
        let old = self.roster_state()?;
        let file = built
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tx = self.conn.transaction().map_err(|e| sql(&self.path, e))?;
        tx.execute(
            "INSERT INTO roster_state (id, version, file, rows, categories, created_at, imported_at, body_digest, file_digest, signed)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(id) DO UPDATE SET version = excluded.version, file = excluded.file, rows = excluded.rows,
               categories = excluded.categories, created_at = excluded.created_at, imported_at = excluded.imported_at,
               body_digest = excluded.body_digest, file_digest = excluded.file_digest, signed = excluded.signed",
            params![
                state.version as i64,
                file,
                state.rows as i64,
                serde_json::to_string(&state.categories).unwrap_or_default(),
                state.created_at,
                state.imported_at,
                state.body_digest,
                state.file_digest,
                state.signed
            ],
        )
        .map_err(|e| sql(&self.path, e))?;
        tx.commit().map_err(|e| sql(&self.path, e))?;
        if let Some(old) = old {
            if old.file != file {
                let _ = std::fs::remove_file(rosters_dir.join(old.file));
            }
        }
        Ok(())
    }

    /// Appends to the audit log.
    pub fn audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO audit (at, actor, action, subject, result, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![e.at, e.actor, e.action, e.subject, e.result, e.detail],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The audit log, oldest first.
    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, actor, action, subject, result, detail FROM audit ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(AuditEntry {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    subject: r.get(3)?,
                    result: r.get(4)?,
                    detail: r.get(5)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

impl RosterBuild {
    fn err(&self, e: rusqlite::Error) -> StoreError {
        sql(&self.part.display().to_string(), e)
    }

    fn conn(&self) -> &Connection {
        self.conn.as_ref().expect("connection present until finish")
    }

    /// Adds (or replaces) an entry.
    pub fn put(
        &mut self,
        hash: &[u8; 32],
        category: u8,
        valid_to_days: Option<i32>,
    ) -> Result<(), StoreError> {
        let r = self
            .conn()
            .prepare_cached(
                "INSERT OR REPLACE INTO roster (hash, category, valid_to) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![&hash[..], category, valid_to_days]));
        r.map_err(|e| self.err(e))?;
        self.rows += 1;
        Ok(())
    }

    /// Removes an entry (a delta's removal); absent entries are ignored.
    pub fn remove(&mut self, hash: &[u8; 32]) -> Result<(), StoreError> {
        let r = self
            .conn()
            .prepare_cached("DELETE FROM roster WHERE hash = ?1")
            .and_then(|mut s| s.execute(params![&hash[..]]));
        r.map_err(|e| self.err(e)).map(|_| ())
    }

    /// Entries now in the build.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.conn()
            .query_row("SELECT COUNT(*) FROM roster", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Commits, syncs the file to disk and gives it its final name. The
    /// caller then activates it with [`Store::activate_roster`].
    pub fn finish(mut self) -> Result<PathBuf, StoreError> {
        let conn = self.conn.take().expect("finish once");
        conn.execute_batch("COMMIT").map_err(|e| self.err(e))?;
        self.in_tx = false;
        conn.close().map_err(|(_, e)| self.err(e))?;
        let f = std::fs::File::open(&self.part).and_then(|f| f.sync_all().map(|_| f));
        f.map_err(|e| StoreError::Corrupt {
            path: self.part.display().to_string(),
            table: "roster",
            detail: format!("cannot sync: {e}"),
        })?;
        std::fs::rename(&self.part, &self.final_path).map_err(|e| StoreError::Corrupt {
            path: self.part.display().to_string(),
            table: "roster",
            detail: format!("cannot rename: {e}"),
        })?;
        if let Some(dir) = self.final_path.parent() {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(self.final_path.clone())
    }
}

impl Drop for RosterBuild {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn);
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

/// Read-only lookups in the roster in use.
pub struct RosterLookup {
    conn: Connection,
    path: String,
}

impl std::fmt::Debug for RosterLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RosterLookup")
            .field("path", &self.path)
            .finish()
    }
}

impl RosterLookup {
    /// Opens a roster file read-only.
    pub fn open(path: &Path) -> Result<RosterLookup, StoreError> {
        let p = path.display().to_string();
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql(&p, e))?;
        Ok(RosterLookup { conn, path: p })
    }

    /// The entry for a hash, if on the roster.
    pub fn get(&self, hash: &[u8; 32]) -> Result<Option<RosterHit>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT category, valid_to FROM roster WHERE hash = ?1")
            .map_err(|e| sql(&self.path, e))?;
        stmt.query_row([&hash[..]], |r| {
            Ok(RosterHit {
                category: r.get(0)?,
                valid_to_days: r.get(1)?,
            })
        })
        .optional()
        .map_err(|e| sql(&self.path, e))
    }
}
