//! Roster keys: the ed25519 key pair that signs roster files and the secret
//! key that hashes identity numbers.
//!
//! Each key is a small text file: a first line naming what the file is, then
//! one line of hex. The first line is checked on load, so that a hash key
//! given where the signing key is expected is refused with a clear message
//! rather than silently producing a roster nobody can verify.
//!
//! ```text
//! # greenwave roster-signing-key v1: ed25519 secret key (hex). Keep secret.
//! 9f3c…
//! ```

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};
use greenwave_drivers::id_number::IdNumber;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// File name of the ed25519 secret key.
pub const SIGNING_KEY_FILE: &str = "roster-signing.key";
/// File name of the ed25519 public key.
pub const PUBLIC_KEY_FILE: &str = "roster-public.key";
/// File name of the identity-number hash key.
pub const HASH_KEY_FILE: &str = "roster-hash.key";

const SIGNING_TAG: &str = "greenwave roster-signing-key v1";
const PUBLIC_TAG: &str = "greenwave roster-public-key v1";
const HASH_TAG: &str = "greenwave roster-hash-key v1";

/// Why a key could not be generated or loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The key file is not there: where keys come from, and what to do.
    #[error("key file {path}: no such file; {hint}", path = absolute(path).display())]
    Missing {
        /// The file.
        path: PathBuf,
        /// Where this kind of key comes from.
        hint: &'static str,
    },
    /// `keygen` found a key file already there and wrote nothing.
    #[error(
        "key file {0} already exists; refusing to overwrite keys (move the old keys away first)"
    )]
    AlreadyExists(PathBuf),
    /// The first line does not say which key the file holds.
    #[error("key file {path}: first line should be `# {expected}…`, the file is not a greenwave roster key of this kind{found}")]
    WrongKind {
        /// The file.
        path: PathBuf,
        /// The tag expected on the first line.
        expected: &'static str,
        /// A hint naming the kind found, or empty.
        found: String,
    },
    /// The key line is missing, not hex, or not 32 bytes.
    #[error("key file {path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A secret key file readable by group or others.
    #[error("key file {path}: permissions {mode:04o} are too open, a secret key must be 0600 (chmod 600)")]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// The permission bits found.
        mode: u32,
    },
    /// The operating system's random source failed.
    #[error("could not get random bytes for a new key: {0}")]
    Random(String),
}

/// The three files written by [`keygen`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPaths {
    /// `roster-signing.key`, mode 0600.
    pub signing: PathBuf,
    /// `roster-public.key`, mode 0644.
    pub public: PathBuf,
    /// `roster-hash.key`, mode 0600.
    pub hash: PathBuf,
}

/// The secret key under which identity numbers are hashed.
///
/// Every hall and the preparing office must hold the same hash key, or
/// lookups find nothing. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct HashKey([u8; 32]);

impl fmt::Debug for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HashKey(id {})", hex::encode(self.id()))
    }
}

impl HashKey {
    /// Wraps 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        HashKey(bytes)
    }

    /// HMAC-SHA256 of the normalised 18-character identity number.
    pub fn hash(&self, id: &IdNumber) -> [u8; 32] {
        self.mac(id.expose().as_bytes())
    }

    /// HMAC-SHA256 of another document number (a foreigner's card): the
    /// kiosk's identity hash for residents without a GB 11643 number.
    pub fn hash_document(&self, number: &str) -> [u8; 32] {
        self.mac(number.trim().as_bytes())
    }

    /// A public identifier of this key (not secret): written into each
    /// roster file so that a hall can tell that its hash key is the one
    /// the roster was prepared with.
    pub fn id(&self) -> [u8; 8] {
        let full = self.mac(b"greenwave roster hash key id");
        let mut id = [0u8; 8];
        id.copy_from_slice(&full[..8]);
        id
    }

    fn mac(&self, data: &[u8]) -> [u8; 32] {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

/// A short fingerprint of a public key for logs and for ops to compare by
/// eye: the first 8 bytes of its SHA-256, hex.
pub fn fingerprint(key: &VerifyingKey) -> String {
    use sha2::Digest;
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

fn random32() -> Result<[u8; 32], KeyError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(b)
}

/// Generates a new signing key pair and hash key in `dir` (which must
/// exist). Refuses, writing nothing, if any of the three files exists.
pub fn keygen(dir: &Path) -> Result<KeyPaths, KeyError> {
    let paths = KeyPaths {
        signing: dir.join(SIGNING_KEY_FILE),
        public: dir.join(PUBLIC_KEY_FILE),
        hash: dir.join(HASH_KEY_FILE),
    };
    for p in [&paths.signing, &paths.public, &paths.hash] {
        if p.symlink_metadata().is_ok() {
            return Err(KeyError::AlreadyExists(p.clone()));
        }
    }
    let signing = SigningKey::from_bytes(&random32()?);
    let hash = random32()?;
    let files = [
        (
            &paths.signing,
            format!(
                "# {SIGNING_TAG}: ed25519 secret key (hex) that signs roster files. Keep secret.\n{}\n",
                hex::encode(signing.to_bytes())
            ),
            0o600,
        ),
        (
            &paths.public,
            format!(
                "# {PUBLIC_TAG}: ed25519 public key (hex) that verifies roster files, fingerprint {}.\n{}\n",
                fingerprint(&signing.verifying_key()),
                hex::encode(signing.verifying_key().as_bytes())
            ),
            0o644,
        ),
        (
            &paths.hash,
            format!(
                "# {HASH_TAG}: secret key (hex) for hashing identity numbers, id {}. Keep secret; every hall needs this same key.\n{}\n",
                hex::encode(HashKey(hash).id()),
                hex::encode(hash)
            ),
            0o600,
        ),
    ];
    let mut written: Vec<&PathBuf> = Vec::new();
    for (path, text, mode) in files {
        if let Err(e) = write_new(path, text.as_bytes(), mode) {
            for w in written {
                let _ = fs::remove_file(w);
            }
            return Err(e);
        }
        written.push(path);
    }
    Ok(paths)
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let io_err = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            KeyError::AlreadyExists(path.to_owned())
        } else {
            io_err(e)
        }
    })?;
    f.write_all(bytes).map_err(io_err)?;
    f.sync_all().map_err(io_err)
}

/// The path made absolute for messages (a relative one says nothing to
/// ops reading a service's log).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Where a key of this kind comes from, for [`KeyError::Missing`].
fn origin(tag: &str) -> &'static str {
    if tag == SIGNING_TAG {
        "the signing key stays on the ops machine that made it with \
         `greenwave roster keygen --out KEYDIR`; sign rosters there"
    } else {
        "the roster's public key and hash key come from ops (made once for the city \
         with `greenwave roster keygen --out KEYDIR`): copy the file ops give you to \
         this path, or run `greenwave init --roster-keys KEYDIR` with their directory"
    }
}

/// Reads a key file: checks the tag line and returns the 32 key bytes.
fn read_key(path: &Path, tag: &'static str, secret: bool) -> Result<[u8; 32], KeyError> {
    let io_err = |source: io::Error| {
        if source.kind() == io::ErrorKind::NotFound {
            KeyError::Missing {
                path: path.to_owned(),
                hint: origin(tag),
            }
        } else {
            KeyError::Io {
                path: absolute(path),
                source,
            }
        }
    };
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path).map_err(io_err)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::TooOpen {
                path: path.to_owned(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = secret;
    let bytes = fs::read(path).map_err(io_err)?;
    let malformed = |reason: String| KeyError::Malformed {
        path: path.to_owned(),
        reason,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| malformed("not a text file".to_owned()))?;
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    if !first.starts_with(&format!("# {tag}")) {
        let found = [SIGNING_TAG, PUBLIC_TAG, HASH_TAG]
            .into_iter()
            .find(|t| first.starts_with(&format!("# {t}")))
            .map(|t| format!(" (it is a `{t}` file)"))
            .unwrap_or_default();
        return Err(KeyError::WrongKind {
            path: path.to_owned(),
            expected: tag,
            found,
        });
    }
    let mut key_lines = lines
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = key_lines
        .next()
        .ok_or_else(|| malformed("no key line after the comment line".to_owned()))?;
    if key_lines.next().is_some() {
        return Err(malformed("more than one key line".to_owned()));
    }
    let raw = hex::decode(line).map_err(|e| malformed(format!("key line is not hex: {e}")))?;
    <[u8; 32]>::try_from(raw.as_slice()).map_err(|_| {
        malformed(format!(
            "key is {} bytes, expected 32 (64 hex digits)",
            raw.len()
        ))
    })
}

/// Loads `roster-signing.key`. Refuses a file readable by group or others.
pub fn load_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    Ok(SigningKey::from_bytes(&read_key(path, SIGNING_TAG, true)?))
}

/// Loads `roster-public.key`.
pub fn load_public_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    let bytes = read_key(path, PUBLIC_TAG, false)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::Malformed {
        path: path.to_owned(),
        reason: "not a valid ed25519 public key (not a curve point)".to_owned(),
    })
}

/// Loads `roster-hash.key`. Refuses a file readable by group or others.
pub fn load_hash_key(path: &Path) -> Result<HashKey, KeyError> {
    Ok(HashKey(read_key(path, HASH_TAG, true)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_then_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = keygen(dir.path()).unwrap();
        let sk = load_signing_key(&p.signing).unwrap();
        let pk = load_public_key(&p.public).unwrap();
        assert_eq!(sk.verifying_key(), pk);
        let hk = load_hash_key(&p.hash).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&p.signing), 0o600);
            assert_eq!(mode(&p.hash), 0o600);
        }
        // A second keygen gives different keys.
        let dir2 = tempfile::tempdir().unwrap();
        let p2 = keygen(dir2.path()).unwrap();
        assert_ne!(load_hash_key(&p2.hash).unwrap(), hk);
        assert_ne!(load_public_key(&p2.public).unwrap(), pk);
    }

    #[test]
    fn keygen_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(HASH_KEY_FILE), "old").unwrap();
        let err = keygen(dir.path()).unwrap_err();
        assert!(matches!(err, KeyError::AlreadyExists(ref p) if p.ends_with(HASH_KEY_FILE)));
        assert!(err.to_string().contains("refusing to overwrite"));
        // Nothing else was written, the old file is untouched.
        assert!(!dir.path().join(SIGNING_KEY_FILE).exists());
        assert_eq!(
            fs::read_to_string(dir.path().join(HASH_KEY_FILE)).unwrap(),
            "old"
        );
    }

    #[test]
    fn loading_the_wrong_kind_of_key_names_both() {
        let dir = tempfile::tempdir().unwrap();
        let p = keygen(dir.path()).unwrap();
        let err = load_signing_key(&p.hash).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("roster-hash.key"), "{msg}");
        assert!(msg.contains(SIGNING_TAG) && msg.contains(HASH_TAG), "{msg}");
    }

    #[test]
    fn malformed_and_too_open_key_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        fs::write(&path, format!("# {PUBLIC_TAG}\nzz\n")).unwrap();
        let msg = load_public_key(&path).unwrap_err().to_string();
        assert!(msg.contains("not hex") && msg.contains("/k"), "{msg}");
        fs::write(&path, format!("# {PUBLIC_TAG}\nabcd\n")).unwrap();
        let msg = load_public_key(&path).unwrap_err().to_string();
        assert!(msg.contains("2 bytes, expected 32"), "{msg}");
        fs::write(&path, format!("# {PUBLIC_TAG}\n")).unwrap();
        assert!(load_public_key(&path)
            .unwrap_err()
            .to_string()
            .contains("no key line"));
        #[cfg(unix)]
        {
            fs::write(&path, format!("# {HASH_TAG}\n{}\n", "00".repeat(32))).unwrap();
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            let err = load_hash_key(&path).unwrap_err();
            assert!(
                matches!(err, KeyError::TooOpen { mode: 0o644, .. }),
                "{err}"
            );
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            assert!(load_hash_key(&path).is_ok());
        }
        let missing = load_hash_key(&dir.path().join("nope")).unwrap_err();
        assert!(missing.to_string().contains("nope"));
    }

    #[test]
    fn hash_is_hmac_of_the_normalised_number() {
        let k = HashKey::from_bytes([7; 32]);
        let a = IdNumber::parse("11010519491231002X").unwrap();
        let b = IdNumber::parse(" 11010519491231002x").unwrap();
        assert_eq!(k.hash(&a), k.hash(&b));
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&[7; 32]).unwrap();
        mac.update(b"11010519491231002X");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(k.hash(&a), expected);
        assert_ne!(HashKey::from_bytes([8; 32]).hash(&a), expected);
        assert!(!format!("{k:?}").contains("0707"));
    }
}
