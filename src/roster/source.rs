//! The hall side of roster distribution: fetch the signed index from
//! `[roster] source`, download what the installed version needs, install
//! it through [`import`], the same path as an inbox drop.
//!
//! One [`Source::poll`] is blocking (ureq) and does one round: a
//! conditional GET of `index.json` (`If-None-Match`, `If-Modified-Since`),
//! the signature check, the [plan](Index::plan), and for each file a
//! download to `<data_dir>/source/<file>.part`, resumed with
//! `Range: bytes=N-` when a part is already there (a server that answers
//! 200 instead gets the whole file again), the size and SHA-256 the index
//! promises, then the import. A file that fails its digest or its import is
//! not fetched again until the index changes. Nothing here logs; the daemon
//! worker (`daemon::roster_source`) decides what is worth a line.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

use super::index::{Index, IndexEntry, IndexError, SignedIndex, INDEX_FILE};
use super::install::{import, ImportError, ImportOptions, ImportOutcome, RosterConfig};
use crate::store::{Store, StoreError};

/// The largest `index.json` read.
const MAX_INDEX_BYTES: u64 = 1 << 20;
/// The audit log's actor for installs from the source.
pub const ACTOR: &str = "daemon (source)";

/// Why a round did not bring the hall up to date.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// No answer, a timeout, a server error, a cut connection: worth
    /// trying again soon.
    #[error("no answer: {0}")]
    Unreachable(String),
    /// The server answered, but not with what was asked for.
    #[error("roster source answered HTTP {status} for {file}")]
    Status {
        /// The file asked for.
        file: String,
        /// The status.
        status: u16,
    },
    /// The index is unusable (its signature above all).
    #[error(transparent)]
    Index(#[from] IndexError),
    /// A downloaded file is not what the index promises.
    #[error("{file}: downloaded file does not match the index ({what}): not installed")]
    Mismatch {
        /// The file.
        file: String,
        /// Size or digest, expected and found.
        what: String,
    },
    /// The import refused the file.
    #[error("{file}: not installed: {source}")]
    Refused {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: ImportError,
    },
    /// A file that already failed, under an index that has not changed.
    #[error("{0}: refused before; waiting for a new index")]
    StillRefused(String),
    /// The hall's disk.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The hall's database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The daemon is stopping.
    #[error("stopped")]
    Stopped,
}

impl SourceError {
    /// Errors that say the same thing to ops share a key: the worker logs
    /// a line when the key changes, not every round.
    pub fn state_key(&self) -> String {
        match self {
            SourceError::Unreachable(_) => "unreachable".into(),
            SourceError::Status { file, status } => format!("status {status} {file}"),
            SourceError::Index(e) => format!("index {e}"),
            SourceError::Mismatch { file, .. }
            | SourceError::Refused { file, .. }
            | SourceError::StillRefused(file) => format!("refused {file}"),
            SourceError::Io { path, .. } => format!("io {path}"),
            SourceError::Store(_) => "store".into(),
            SourceError::Stopped => "stopped".into(),
        }
    }

    /// Whether trying again soon may help (a network problem), rather than
    /// waiting for ops to publish something else.
    pub fn is_transient(&self) -> bool {
        matches!(self, SourceError::Unreachable(_) | SourceError::Io { .. })
    }
}

/// What one round did.
#[derive(Debug, Default)]
pub struct Round {
    /// The index was unchanged (HTTP 304).
    pub not_modified: bool,
    /// The newest version the index offers.
    pub offered: u64,
    /// What was installed, in order: (file, import).
    pub installed: Vec<(String, ImportOutcome)>,
}

/// Where the hall's roster comes from, and what it remembers between
/// rounds.
pub struct Source {
    url: String,
    agent: ureq::Agent,
    key: VerifyingKey,
    dir: PathBuf,
    etag: Option<String>,
    last_modified: Option<String>,
    index: Option<Index>,
    refused: HashSet<String>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("url", &self.url)
            .field("etag", &self.etag)
            .finish_non_exhaustive()
    }
}

impl Source {
    /// The source at `url` (ending in `/`), verified with `key`; parts are
    /// downloaded under `<data_dir>/source/`.
    pub fn new(url: &str, key: VerifyingKey, data_dir: &Path) -> Source {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_recv_response(Some(Duration::from_secs(15)))
            .timeout_per_read(Some(Duration::from_secs(30)))
            .accept_encoding("identity")
            .build()
            .into();
        Source {
            url: url.to_string(),
            agent,
            key,
            dir: data_dir.join("source"),
            etag: None,
            last_modified: None,
            index: None,
            refused: HashSet::new(),
        }
    }

    /// One round: the index, then every file the installed roster needs.
    pub fn poll(
        &mut self,
        store: &mut Store,
        data_dir: &Path,
        cfg: &RosterConfig,
        stop: &AtomicBool,
    ) -> Result<Round, SourceError> {
        let not_modified = self.fetch_index()?;
        let Some(index) = self.index.clone() else {
            return Err(SourceError::Unreachable(
                "the server answered 304 to a first request".into(),
            ));
        };
        let installed = store.roster_state()?.map_or(0, |s| s.version);
        let plan = index.plan(installed);
        self.clean_parts(&plan);
        let mut round = Round {
            not_modified,
            offered: index.latest(),
            installed: Vec::new(),
        };
        for entry in plan {
            if self.refused.contains(&entry.sha256) {
                return Err(SourceError::StillRefused(entry.file));
            }
            let file = match self.download(&entry, stop) {
                Ok(f) => f,
                Err(e @ SourceError::Mismatch { .. }) => {
                    let _ = std::fs::remove_file(self.dir.join(format!("{}.part", entry.file)));
                    self.refused.insert(entry.sha256);
                    return Err(e);
                }
                Err(e) => return Err(e),
            };
            let opts = ImportOptions {
                force: false,
                actor: ACTOR.into(),
            };
            let imported = import(store, data_dir, cfg, &file, &opts);
            let _ = std::fs::remove_file(&file);
            match imported {
                Ok(o) => round.installed.push((entry.file, o)),
                Err(source) => {
                    self.refused.insert(entry.sha256);
                    return Err(SourceError::Refused {
                        file: entry.file,
                        source,
                    });
                }
            }
        }
        Ok(round)
    }

    /// GETs `index.json` unless unchanged; a new one is kept only once its
    /// signature verifies. `Ok(true)`: unchanged (304).
    fn fetch_index(&mut self) -> Result<bool, SourceError> {
        let mut req = self.agent.get(format!("{}{INDEX_FILE}", self.url));
        if self.index.is_some() {
            if let Some(e) = &self.etag {
                req = req.header("If-None-Match", e);
            }
            if let Some(m) = &self.last_modified {
                req = req.header("If-Modified-Since", m);
            }
        }
        let mut resp = req.call().map_err(unreachable)?;
        let status = resp.status().as_u16();
        match status {
            304 if self.index.is_some() => return Ok(true),
            200 => {}
            s if s >= 500 => return Err(SourceError::Unreachable(format!("HTTP {s}"))),
            s => {
                return Err(SourceError::Status {
                    file: INDEX_FILE.into(),
                    status: s,
                })
            }
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (etag, modified) = (header("etag"), header("last-modified"));
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_INDEX_BYTES)
            .read_to_vec()
            .map_err(unreachable)?;
        let index = SignedIndex::parse(&bytes)?.verify(&self.key)?;
        if self.index.as_ref() != Some(&index) {
            self.refused.clear();
        }
        self.index = Some(index);
        self.etag = etag;
        self.last_modified = modified;
        Ok(false)
    }

    /// Downloads `entry` into its part file (resuming it), checks size and
    /// digest, and returns the complete file's path.
    fn download(&self, entry: &IndexEntry, stop: &AtomicBool) -> Result<PathBuf, SourceError> {
        let part = self.dir.join(format!("{}.part", entry.file));
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| SourceError::Io {
                path: path.clone(),
                source,
            }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let mut have = std::fs::metadata(&part).map_or(0, |m| m.len());
        if have > entry.size {
            std::fs::remove_file(&part).map_err(io(&part))?;
            have = 0;
        }
        if have < entry.size {
            self.fetch_into(entry, &part, have, stop)?;
        }
        let (size, digest) = digest_of(&part).map_err(io(&part))?;
        if size != entry.size || digest != entry.sha256 {
            let _ = std::fs::remove_file(&part);
            return Err(SourceError::Mismatch {
                file: entry.file.clone(),
                what: if size != entry.size {
                    format!("size {size}, the index says {}", entry.size)
                } else {
                    format!("sha256 {digest}, the index says {}", entry.sha256)
                },
            });
        }
        let done = self.dir.join(&entry.file);
        std::fs::rename(&part, &done).map_err(io(&done))?;
        Ok(done)
    }

    /// One GET of the file into `part`, from byte `have` on when there is
    /// something to resume.
    fn fetch_into(
        &self,
        entry: &IndexEntry,
        part: &Path,
        have: u64,
        stop: &AtomicBool,
    ) -> Result<(), SourceError> {
        let mut req = self.agent.get(format!("{}{}", self.url, entry.file));
        if have > 0 {
            req = req.header("Range", format!("bytes={have}-"));
        }
        let resp = req.call().map_err(unreachable)?;
        let status = resp.status().as_u16();
        let resumed = status == 206 && content_range_from(&resp) == Some(have);
        if status == 416 || (status == 206 && !resumed) {
            // The part is not a prefix the server recognises: start over.
            let _ = std::fs::remove_file(part);
            return Err(SourceError::Unreachable(format!(
                "{}: the server refused to resume at byte {have}; downloading it again",
                entry.file
            )));
        }
        if status >= 500 {
            return Err(SourceError::Unreachable(format!("HTTP {status}")));
        }
        if status != 200 && !resumed {
            return Err(SourceError::Status {
                file: entry.file.clone(),
                status,
            });
        }
        let from = if resumed { have } else { 0 };
        let mut out = OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(part)
            .map_err(|source| SourceError::Io {
                path: part.display().to_string(),
                source,
            })?;
        let reader = resp.into_body().into_reader();
        copy_body(reader, &mut out, entry, from, stop)
    }

    /// Removes part files that the plan no longer needs.
    fn clean_parts(&self, plan: &[IndexEntry]) {
        let keep: HashSet<String> = plan.iter().map(|e| format!("{}.part", e.file)).collect();
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !keep.contains(&name) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Appends the body to `out`, never past the size the index promises;
/// stops between chunks when told to.
fn copy_body(
    mut reader: impl Read,
    out: &mut File,
    entry: &IndexEntry,
    from: u64,
    stop: &AtomicBool,
) -> Result<(), SourceError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = from;
    loop {
        if stop.load(Ordering::SeqCst) {
            return Err(SourceError::Stopped);
        }
        let n = reader.read(&mut buf).map_err(|e| {
            SourceError::Unreachable(format!(
                "{}: download interrupted at byte {at} of {}: {e}",
                entry.file, entry.size
            ))
        })?;
        if n == 0 {
            return Ok(());
        }
        if at + n as u64 > entry.size {
            return Err(SourceError::Mismatch {
                file: entry.file.clone(),
                what: format!("more than the {} bytes the index says", entry.size),
            });
        }
        out.write_all(&buf[..n]).map_err(|source| SourceError::Io {
            path: entry.file.clone(),
            source,
        })?;
        at += n as u64;
    }
}

/// The first byte of a 206's `Content-Range: bytes N-M/T`.
fn content_range_from(resp: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    let v = resp.headers().get("content-range")?.to_str().ok()?;
    let range = v.trim().strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}

/// (size, SHA-256 hex) of a file.
fn digest_of(path: &Path) -> std::io::Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut sha = Sha256::new();
    let size = std::io::copy(&mut f, &mut sha)?;
    Ok((size, hex::encode(sha.finalize())))
}

fn unreachable(e: ureq::Error) -> SourceError {
    SourceError::Unreachable(e.to_string())
}
