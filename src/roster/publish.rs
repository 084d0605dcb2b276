//! Ops' side of roster distribution: put a signed roster file into a
//! directory that a plain web server serves, and rewrite the directory's
//! signed [`index.json`](super::index).
//!
//! The file is verified as it is copied (signature with the signing key's
//! own public key, every record, the body digest), so a directory never
//! holds a file a hall would refuse. Full rosters are named
//! `roster-<version>.gwr`, deltas `delta-<base>-<version>.gwr`; the index
//! lists the newest full roster and the deltas from its version on (older
//! deltas leave the index; their files stay until ops remove them, so a
//! hall in the middle of a download can finish). The file and the index
//! are each written under a temporary name and renamed.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

use super::file::{FormatError, RosterKind, RosterReader};
pub use super::index::INDEX_FILE;
use super::index::{Index, IndexEntry, IndexError, SignedIndex, INDEX_FORMAT};

/// Why a file was not published. Nothing in the directory changed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The file is not a roster file signed with this key, or is damaged.
    #[error("{file}: refused, not a valid roster file signed with this signing key: {source}")]
    Invalid {
        /// The file.
        file: String,
        /// What is wrong.
        #[source]
        source: FormatError,
    },
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The directory's index is damaged or signed with another key.
    #[error("{path}: {source} (publish into a directory of this signing key only)")]
    Index {
        /// The index file.
        path: String,
        /// What is wrong.
        #[source]
        source: IndexError,
    },
    /// Older than what the directory already offers.
    #[error("{file}: refused, roster version {offered} is not newer than the published full roster version {published}")]
    Stale {
        /// The file.
        file: String,
        /// Its version.
        offered: u64,
        /// The index's full roster.
        published: u64,
    },
    /// The same name already published with other bytes.
    #[error("{file}: refused, {name} is already published with different content (sha256 {published}); a version is published once")]
    Conflict {
        /// The file.
        file: String,
        /// The name in the directory.
        name: String,
        /// The published file's digest.
        published: String,
    },
}

/// What a publish did.
#[derive(Debug, Clone)]
pub struct Published {
    /// The file as listed in the index.
    pub entry: IndexEntry,
    /// The index now in the directory.
    pub index: Index,
    /// Deltas the index no longer lists (older than its full roster).
    pub dropped: Vec<String>,
    /// The same file was already published: only the index was rewritten.
    pub again: bool,
}

/// Publishes `file` into `dir`, signing the index with `key` and stamping
/// it `now`.
pub fn publish(
    file: &Path,
    dir: &Path,
    key: &SigningKey,
    now: DateTime<Utc>,
) -> Result<Published, PublishError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| PublishError::Io {
            path: path.clone(),
            source,
        }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = tempfile::Builder::new()
        .prefix(".publish-")
        .tempfile_in(dir)
        .map_err(io(dir))?;
    let (entry, kind) = copy_verified(file, tmp.as_file(), key)?;
    let mut index = read_index(dir, key)?.unwrap_or_else(|| Index {
        format: INDEX_FORMAT,
        published_at: now,
        full: None,
        deltas: Vec::new(),
    });
    let shown = file.display().to_string();
    let again = check_fits(&index, &entry, &shown)?;
    if !again {
        set_readable(tmp.as_file()).map_err(io(tmp.path()))?;
        let target = dir.join(&entry.file);
        tmp.persist(&target).map_err(|e| io(&target)(e.error))?;
    }
    let dropped = add_entry(&mut index, entry.clone(), kind);
    index.published_at = now;
    write_index(dir, &index.sign(key))?;
    Ok(Published {
        entry,
        index,
        dropped,
        again,
    })
}

/// Copies `file` into `out` while verifying it completely; the index
/// entry it gets (name, versions, size, digest) and its kind.
fn copy_verified(
    file: &Path,
    out: &File,
    key: &SigningKey,
) -> Result<(IndexEntry, RosterKind), PublishError> {
    let shown = file.display().to_string();
    let invalid = |source| PublishError::Invalid {
        file: shown.clone(),
        source,
    };
    let input = File::open(file).map_err(|source| PublishError::Io {
        path: shown.clone(),
        source,
    })?;
    let mut tee = Tee {
        input,
        out: BufWriter::new(out),
        sha: Sha256::new(),
        len: 0,
    };
    let public = key.verifying_key();
    let mut reader = RosterReader::open(&mut tee, Some(&public)).map_err(invalid)?;
    for rec in reader.by_ref() {
        rec.map_err(invalid)?;
    }
    let header = reader.finish().map_err(invalid)?;
    let write_err = |source| PublishError::Io {
        path: "the copy".into(),
        source,
    };
    tee.out.flush().map_err(write_err)?;
    out.sync_all().map_err(write_err)?;
    let meta = header.meta;
    let (name, base) = match meta.kind {
        RosterKind::Full => (format!("roster-{}.gwr", meta.version), None),
        RosterKind::Delta { base_version } => (
            format!("delta-{base_version}-{}.gwr", meta.version),
            Some(base_version),
        ),
    };
    let entry = IndexEntry {
        file: name,
        version: meta.version,
        base,
        sha256: hex::encode(tee.sha.finalize()),
        size: tee.len,
    };
    Ok((entry, meta.kind))
}

/// The directory's index, verified with `key`'s public key; `None` when
/// there is none yet.
fn read_index(dir: &Path, key: &SigningKey) -> Result<Option<Index>, PublishError> {
    let path = dir.join(INDEX_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(PublishError::Io {
                path: path.display().to_string(),
                source,
            })
        }
    };
    let shown = path.display().to_string();
    SignedIndex::parse(&bytes)
        .and_then(|s| s.verify(&key.verifying_key()))
        .map(Some)
        .map_err(|source| PublishError::Index {
            path: shown,
            source,
        })
}

/// Whether `entry` may join `index`: `Ok(true)` when the very same file is
/// already there.
fn check_fits(index: &Index, entry: &IndexEntry, shown: &str) -> Result<bool, PublishError> {
    if let Some(same) = index.entries().find(|e| e.file == entry.file) {
        if same.sha256 == entry.sha256 {
            return Ok(true);
        }
        return Err(PublishError::Conflict {
            file: shown.into(),
            name: entry.file.clone(),
            published: same.sha256.clone(),
        });
    }
    if let Some(full) = &index.full {
        let stale = match entry.base {
            None => entry.version < full.version,
            Some(_) => entry.version <= full.version,
        };
        if stale {
            return Err(PublishError::Stale {
                file: shown.into(),
                offered: entry.version,
                published: full.version,
            });
        }
    }
    Ok(false)
}

/// Adds the entry; a full roster replaces the index's and drops the deltas
/// older than it. Returns the dropped deltas' names.
fn add_entry(index: &mut Index, entry: IndexEntry, kind: RosterKind) -> Vec<String> {
    index.deltas.retain(|d| d.file != entry.file);
    let mut dropped = Vec::new();
    match kind {
        RosterKind::Full => {
            let from = entry.version;
            index.full = Some(entry);
            index.deltas.retain(|d| {
                let keep = d.base.unwrap_or(0) >= from;
                if !keep {
                    dropped.push(d.file.clone());
                }
                keep
            });
        }
        RosterKind::Delta { .. } => index.deltas.push(entry),
    }
    index.deltas.sort_by_key(|d| (d.base, d.version));
    dropped
}

/// Writes `index.json` under a temporary name, then renames it.
fn write_index(dir: &Path, signed: &SignedIndex) -> Result<(), PublishError> {
    let target: PathBuf = dir.join(INDEX_FILE);
    let io = |source| PublishError::Io {
        path: target.display().to_string(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".index-")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(signed.to_json().as_bytes()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    set_readable(tmp.as_file()).map_err(io)?;
    tmp.persist(&target).map_err(|e| io(e.error))?;
    Ok(())
}

/// Mode 0644: the web server serves what ops publish (temporary files are
/// created 0600).
fn set_readable(f: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = f;
    Ok(())
}

/// Reads `input`, copying every byte to `out` and hashing it.
struct Tee<'a> {
    input: File,
    out: BufWriter<&'a File>,
    sha: Sha256,
    len: u64,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.input.read(buf)?;
        self.out.write_all(&buf[..n])?;
        self.sha.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}
