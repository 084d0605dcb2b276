//! The hall side: verify and install a roster file, look residents up.
//!
//! An import reads the file once: the signature is checked before any row is
//! used, every row goes into a new roster build (a separate SQLite file), and
//! only when the reader has confirmed the body digest and the row counts is
//! the build switched in. Until that switch the old roster serves; a
//! refused, failed or killed import leaves it untouched. Every import,
//! refusal and check is written to the audit log, with ID numbers masked.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use ed25519_dalek::SigningKey;
use greenwave_drivers::id_number::IdNumber;
use sha2::{Digest, Sha256};

use super::file::{FormatError, RosterKind, RosterMeta, RosterReader, RosterRecord};
use super::keys::{load_hash_key, load_public_key, HashKey, KeyError};
use super::prepare::{prepare, PrepareError, PrepareOptions};
use super::{Categories, ColumnMap};
use crate::store::{AuditEntry, RosterBuild, RosterLookup, RosterState, Store, StoreError};

/// `[roster]` in the configuration, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterConfig {
    /// ed25519 public key file written by `roster keygen`.
    pub public_key: Option<PathBuf>,
    /// The 32-byte hashing key file written by `roster keygen`.
    pub hash_key: Option<PathBuf>,
    /// A directory the daemon watches for new roster files.
    pub inbox: Option<PathBuf>,
    /// A web server the daemon fetches signed roster files from.
    pub source: Option<RosterSource>,
    /// Refuse anything that is not a roster file signed with `public_key`.
    pub require_signature: bool,
    /// Category names and which grant priority.
    pub categories: Categories,
    /// Header names of the bureau's export.
    pub columns: ColumnMap,
}

/// `[roster] source` and `source_interval`: where the daemon fetches the
/// published roster files (`greenwave roster publish`) and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterSource {
    /// The directory's URL, ending in `/` (`http://ops.example/greenwave/`).
    pub url: String,
    /// Between two looks at the index.
    pub interval: std::time::Duration,
}

/// Why an import was refused. The old roster is still in use.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A key file could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The file is not a valid roster file (signature, digest, truncation...).
    #[error("{path}: {source}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        #[source]
        source: FormatError,
    },
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A configuration key the operation needs is missing.
    #[error("roster.{0} is not configured")]
    NotConfigured(&'static str),
    /// Unsigned input while signatures are required.
    #[error("{0}: not a signed roster file, and roster.require_signature = true refuses unsigned input (prepare it with `greenwave roster prepare`)")]
    Unsigned(String),
    /// Rollback protection.
    #[error("roster version {offered} is not newer than the installed version {installed} (use --force to install it anyway)")]
    NotNewer {
        /// Installed.
        installed: u64,
        /// In the file.
        offered: u64,
    },
    /// A delta for another base.
    #[error("this delta applies to roster version {base}, but {installed} is installed")]
    WrongBase {
        /// What the delta needs.
        base: u64,
        /// What is installed (none = 0).
        installed: u64,
    },
    /// The file was hashed with another hall key.
    #[error("the roster was prepared with a different hashing key (key id {file}, this hall's is {hall}): lookups would never match")]
    HashKeyMismatch {
        /// In the file.
        file: String,
        /// The hall's.
        hall: String,
    },
    /// The file names a category the hall does not know.
    #[error("the roster file's category \"{0}\" is not in roster.categories")]
    UnknownCategory(String),
    /// Preparing an unsigned export failed.
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    /// The roster now in use.
    pub state: RosterState,
    /// `full` or `delta`.
    pub kind: &'static str,
    /// Entries added (or replaced).
    pub added: u64,
    /// Entries removed.
    pub removed: u64,
    /// The version it replaced.
    pub previous: Option<u64>,
}

/// Options of an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Install even if the version is not newer.
    pub force: bool,
    /// Who asked, for the audit log (`ops`, `daemon inbox`...).
    pub actor: String,
}

/// Where installed roster files live.
pub fn rosters_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("rosters")
}

/// Reads the hall's hashing key.
pub fn hall_hash_key(cfg: &RosterConfig) -> Result<HashKey, ImportError> {
    let p = cfg
        .hash_key
        .as_ref()
        .ok_or(ImportError::NotConfigured("hash_key"))?;
    Ok(load_hash_key(p)?)
}

/// Verifies and installs a roster file (or, when signatures are not
/// required, a bureau export, which is hashed with the hall's key first).
/// Records the outcome in the audit log either way.
pub fn import(
    store: &mut Store,
    data_dir: &Path,
    cfg: &RosterConfig,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportOutcome, ImportError> {
    let result = import_inner(store, data_dir, cfg, path, opts);
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
    let (outcome, detail) = match &result {
        Ok(o) => (
            "ok",
            format!(
                "{} roster version {} installed: {} rows (+{} −{})",
                o.kind, o.state.version, o.state.rows, o.added, o.removed
            ),
        ),
        Err(e) => ("refused", e.to_string()),
    };
    store.audit(&AuditEntry {
        at: Utc::now().timestamp_millis(),
        actor: opts.actor.clone(),
        action: "roster.import".into(),
        subject: file,
        result: outcome.into(),
        detail: Some(detail),
    })?;
    match &result {
        Ok(o) => tracing::info!(
            version = o.state.version,
            rows = o.state.rows,
            "roster installed"
        ),
        Err(e) => tracing::warn!(error = %e, "roster import refused"),
    }
    result
}

fn import_inner(
    store: &mut Store,
    data_dir: &Path,
    cfg: &RosterConfig,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportOutcome, ImportError> {
    let shown = path.display().to_string();
    let io = |source| ImportError::Io {
        path: shown.clone(),
        source,
    };
    let mut head = [0u8; 8];
    let n = std::fs::File::open(path)
        .and_then(|mut f| read_up_to(&mut f, &mut head))
        .map_err(io)?;
    let is_roster_file = n == 8 && &head == b"GWROSTER";
    if !is_roster_file {
        if cfg.require_signature || n == 0 {
            if n == 0 {
                return Err(ImportError::Format {
                    path: shown,
                    source: FormatError::Empty,
                });
            }
            return Err(ImportError::Unsigned(shown));
        }
        return import_export(store, data_dir, cfg, path, opts);
    }
    let key = match (&cfg.public_key, cfg.require_signature) {
        (Some(p), _) => Some(load_public_key(p)?),
        (None, true) => return Err(ImportError::NotConfigured("public_key")),
        (None, false) => None,
    };
    install_roster_file(store, data_dir, cfg, path, key.as_ref(), opts)
}

/// A bureau export imported directly (only with require_signature = false):
/// prepared into a temporary roster file (hashes only, never plain ID
/// numbers) signed with a one-time key, then installed like any other.
fn import_export(
    store: &mut Store,
    data_dir: &Path,
    cfg: &RosterConfig,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportOutcome, ImportError> {
    let hash_key = hall_hash_key(cfg)?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| ImportError::Io {
        path: "getrandom".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let signing = SigningKey::from_bytes(&seed);
    let version = store.roster_state()?.map_or(1, |s| s.version + 1);
    std::fs::create_dir_all(data_dir).map_err(|source| ImportError::Io {
        path: data_dir.display().to_string(),
        source,
    })?;
    let tmp = tempfile::Builder::new()
        .prefix(".roster-import-")
        .tempfile_in(data_dir)
        .map_err(|source| ImportError::Io {
            path: data_dir.display().to_string(),
            source,
        })?;
    let options = PrepareOptions {
        temp_dir: Some(data_dir.to_path_buf()),
        ..PrepareOptions::default()
    };
    prepare(
        path,
        &cfg.columns,
        &cfg.categories,
        &hash_key,
        &signing,
        version,
        Utc::now(),
        &options,
        tmp.as_file(),
    )?;
    let verifying = signing.verifying_key();
    let mut o = install_roster_file(store, data_dir, cfg, tmp.path(), Some(&verifying), opts)?;
    o.state.signed = false;
    Ok(o)
}

fn install_roster_file(
    store: &mut Store,
    data_dir: &Path,
    cfg: &RosterConfig,
    path: &Path,
    key: Option<&ed25519_dalek::VerifyingKey>,
    opts: &ImportOptions,
) -> Result<ImportOutcome, ImportError> {
    let shown = path.display().to_string();
    let fmt = |source| ImportError::Format {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|source| ImportError::Io {
        path: shown.clone(),
        source,
    })?;
    let mut hashing = HashingReader {
        inner: file,
        sha: Sha256::new(),
    };
    let mut reader = RosterReader::open(&mut hashing, key).map_err(fmt)?;
    let header = reader.header().clone();
    let meta = &header.meta;
    check_fits_hall(cfg, meta)?;
    let installed = store.roster_state()?;
    let delta = check_applies(meta, installed.as_ref(), opts)?;

    let dir = rosters_dir(data_dir);
    let mut build = store.begin_roster(&dir, meta.version, delta)?;
    let (added, removed) = copy_records(&mut reader, &mut build, &shown)?;
    reader.finish().map_err(fmt)?;
    let rows = build.count()?;
    let built = build.finish()?;
    let state = RosterState {
        version: meta.version,
        file: String::new(),
        rows,
        categories: meta.categories.clone(),
        created_at: meta.created_at.to_rfc3339(),
        imported_at: Utc::now().timestamp_millis(),
        body_digest: hex::encode(header.body_digest),
        file_digest: hex::encode(hashing.sha.finalize()),
        signed: key.is_some(),
    };
    store.activate_roster(&dir, built, &state)?;
    let state = store.roster_state()?.unwrap_or(state);
    Ok(ImportOutcome {
        state,
        kind: if delta { "delta" } else { "full" },
        added,
        removed,
        previous: installed.map(|s| s.version),
    })
}

/// The file was hashed with this hall's key (when the hall has one) and
/// names only categories the hall knows.
fn check_fits_hall(cfg: &RosterConfig, meta: &RosterMeta) -> Result<(), ImportError> {
    if let Some(hk) = &cfg.hash_key {
        let hall = load_hash_key(hk)?.id();
        if hall != meta.hash_key_id {
            return Err(ImportError::HashKeyMismatch {
                file: hex::encode(meta.hash_key_id),
                hall: hex::encode(hall),
            });
        }
    }
    for c in &meta.categories {
        if cfg.categories.index_of(c).is_none() {
            return Err(ImportError::UnknownCategory(c.clone()));
        }
    }
    Ok(())
}

/// Whether the file is a delta; a delta must apply to the `installed`
/// version and its categories, and the version must be newer unless
/// forced.
fn check_applies(
    meta: &RosterMeta,
    installed: Option<&RosterState>,
    opts: &ImportOptions,
) -> Result<bool, ImportError> {
    let installed_version = installed.map_or(0, |s| s.version);
    let delta = match meta.kind {
        RosterKind::Full => false,
        RosterKind::Delta { base_version } => {
            if base_version != installed_version {
                return Err(ImportError::WrongBase {
                    base: base_version,
                    installed: installed_version,
                });
            }
            if let Some(s) = installed {
                if s.categories != meta.categories {
                    return Err(ImportError::UnknownCategory(format!(
                        "{} (the delta's category list differs from the installed roster's)",
                        meta.categories.join("/")
                    )));
                }
            }
            true
        }
    };
    if meta.version <= installed_version && !opts.force {
        return Err(ImportError::NotNewer {
            installed: installed_version,
            offered: meta.version,
        });
    }
    Ok(delta)
}

/// Every record of the file into the roster being built: (entries added
/// or updated, hashes removed). `shown` names the file in errors.
fn copy_records<R: Read>(
    reader: &mut RosterReader<R>,
    build: &mut RosterBuild,
    shown: &str,
) -> Result<(u64, u64), ImportError> {
    let (mut added, mut removed) = (0u64, 0u64);
    for rec in reader.by_ref() {
        let rec = rec.map_err(|source| ImportError::Format {
            path: shown.to_string(),
            source,
        })?;
        match rec {
            RosterRecord::Entry(e) => {
                build.put(&e.hash, e.category, e.valid_to.map(days_since_epoch))?;
                added += 1;
            }
            RosterRecord::Remove(h) => {
                build.remove(&h)?;
                removed += 1;
            }
        }
    }
    Ok((added, removed))
}

/// What the roster says about one resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterAnswer {
    /// Not on the roster.
    NotListed,
    /// On the roster.
    Listed {
        /// Category name.
        category: String,
        /// Last valid day, if limited.
        valid_to: Option<NaiveDate>,
        /// Whether the entry grants the priority lane today: a granting
        /// category and not expired.
        grants_priority: bool,
    },
}

/// Lookups in the installed roster, for the kiosk and for staff checks.
#[derive(Debug)]
pub struct Roster {
    lookup: RosterLookup,
    hash_key: HashKey,
    categories: Vec<String>,
    config: Categories,
    /// The roster in use.
    pub state: RosterState,
}

impl Roster {
    /// Opens the installed roster; `None` if none is installed.
    pub fn open(
        store: &Store,
        data_dir: &Path,
        cfg: &RosterConfig,
    ) -> Result<Option<Roster>, ImportError> {
        let Some(state) = store.roster_state()? else {
            return Ok(None);
        };
        let lookup = RosterLookup::open(&rosters_dir(data_dir).join(&state.file))?;
        Ok(Some(Roster {
            lookup,
            hash_key: hall_hash_key(cfg)?,
            categories: state.categories.clone(),
            config: cfg.categories.clone(),
            state,
        }))
    }

    /// Looks a resident up as of `today`.
    pub fn check(&self, id: &IdNumber, today: NaiveDate) -> Result<RosterAnswer, ImportError> {
        self.check_hash(&self.hash_key.hash(id), today)
    }

    /// The hashing key of this roster (the kiosk hashes identities with it).
    pub fn hash_key(&self) -> &HashKey {
        &self.hash_key
    }

    /// Looks up an entry by its hash (a bound priority card knows only the
    /// hash) as of `today`.
    pub fn check_hash(
        &self,
        hash: &[u8; 32],
        today: NaiveDate,
    ) -> Result<RosterAnswer, ImportError> {
        let Some(hit) = self.lookup.get(hash)? else {
            return Ok(RosterAnswer::NotListed);
        };
        let category = self
            .categories
            .get(usize::from(hit.category))
            .cloned()
            .unwrap_or_default();
        let valid_to = hit.valid_to_days.and_then(date_from_days);
        let granting = self
            .config
            .index_of(&category)
            .is_some_and(|i| self.config.grants_priority(i));
        let in_time = valid_to.is_none_or(|d| today <= d);
        Ok(RosterAnswer::Listed {
            category,
            valid_to,
            grants_priority: granting && in_time,
        })
    }
}

fn days_since_epoch(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

fn date_from_days(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(i64::from(days)))
}

struct HashingReader<R> {
    inner: R,
    sha: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
