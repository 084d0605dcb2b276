//! The signed index of a roster distribution directory (`index.json`), and
//! what a hall needs from it.
//!
//! Ops publish roster files into a directory any plain web server serves
//! (`greenwave roster publish`, [`super::publish`]); halls fetch
//! `index.json` from it ([`super::source`]). The index names the newest
//! full roster and the deltas after it, each with its version(s), size and
//! SHA-256, and is signed with the same ed25519 key as the roster files, so
//! a hall verifies it with `[roster] public_key`.
//!
//! ```json
//! {
//!   "index": "{\"format\":1,\"published_at\":\"…\",\"full\":{…},\"deltas\":[…]}",
//!   "signature": "<ed25519 signature, hex>",
//!   "key": "<fingerprint of the signing key, a hint for ops>"
//! }
//! ```
//!
//! The signature covers the exact bytes of the `index` string (after a
//! domain-separation prefix), so no canonical JSON is needed and a newer
//! publisher may add fields without breaking older halls.

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The index's file name in the distribution directory.
pub const INDEX_FILE: &str = "index.json";
/// The index format written and read here.
pub const INDEX_FORMAT: u32 = 1;
/// Signed before the index bytes, so that no other greenwave signature can
/// be taken for an index signature.
const DOMAIN: &[u8] = b"greenwave roster index v1\n";

/// One roster file listed in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The file's name in the directory: a plain name, no path.
    pub file: String,
    /// The roster version the file is (or, for a delta, leads to).
    pub version: u64,
    /// For a delta: the version it applies to; absent for a full roster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<u64>,
    /// SHA-256 of the whole file, hex.
    pub sha256: String,
    /// The file's size in bytes.
    pub size: u64,
}

/// What the index says: the newest full roster and the deltas after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// [`INDEX_FORMAT`].
    pub format: u32,
    /// When ops last published into the directory.
    pub published_at: DateTime<Utc>,
    /// The newest full roster, if any was published.
    #[serde(default)]
    pub full: Option<IndexEntry>,
    /// Deltas whose base is the full roster's version or later, by base.
    #[serde(default)]
    pub deltas: Vec<IndexEntry>,
}

/// `index.json` as stored: the index's JSON text and its signature.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIndex {
    /// The index, JSON text; the signature covers these bytes.
    pub index: String,
    /// ed25519 signature, hex.
    pub signature: String,
    /// Fingerprint of the signing key ([`super::keys::fingerprint`]): not
    /// trusted, only named in errors.
    #[serde(default)]
    pub key: String,
}

/// Why an index is not usable.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Not the JSON of a signed index.
    #[error("index.json is not a greenwave roster index: {0}")]
    Malformed(String),
    /// The signature does not verify.
    #[error("index.json's signature does not verify with roster.public_key (key {trusted}; the index names key {signer}): it was altered or signed with another key")]
    BadSignature {
        /// The fingerprint the index claims.
        signer: String,
        /// The hall's key's fingerprint.
        trusted: String,
    },
    /// A format this program does not read.
    #[error("index.json has format {0}, this program reads format {INDEX_FORMAT}")]
    UnsupportedFormat(u32),
    /// An entry is impossible (a path for a name, a bad digest...).
    #[error("index.json lists {file:?}: {reason}")]
    BadEntry {
        /// The entry's file name.
        file: String,
        /// What is wrong.
        reason: String,
    },
}

impl Index {
    /// Signs the index with the ops key.
    pub fn sign(&self, key: &SigningKey) -> SignedIndex {
        let index = serde_json::to_string(self).unwrap_or_else(|_| unreachable!("plain data"));
        let signature = key.sign(&signed_bytes(&index));
        SignedIndex {
            index,
            signature: hex::encode(signature.to_bytes()),
            key: super::keys::fingerprint(&key.verifying_key()),
        }
    }

    /// Every entry: the full roster first, then the deltas.
    pub fn entries(&self) -> impl Iterator<Item = &IndexEntry> {
        self.full.iter().chain(self.deltas.iter())
    }

    /// The newest version the index offers (0: none).
    pub fn latest(&self) -> u64 {
        self.entries().map(|e| e.version).max().unwrap_or(0)
    }

    fn check(&self) -> Result<(), IndexError> {
        if self.format != INDEX_FORMAT {
            return Err(IndexError::UnsupportedFormat(self.format));
        }
        for e in self.entries() {
            let bad = |reason: &str| IndexError::BadEntry {
                file: e.file.clone(),
                reason: reason.to_string(),
            };
            if !is_plain_name(&e.file) {
                return Err(bad("not a plain file name (letters, digits, . _ - only)"));
            }
            if e.sha256.len() != 64 || hex::decode(&e.sha256).is_err() {
                return Err(bad("sha256 is not 64 hex digits"));
            }
            if e.base.is_some_and(|b| b >= e.version) {
                return Err(bad("a delta's base must be older than its version"));
            }
        }
        if self.full.as_ref().is_some_and(|f| f.base.is_some()) {
            return Err(IndexError::Malformed("the full roster has a base".into()));
        }
        if self.deltas.iter().any(|d| d.base.is_none()) {
            return Err(IndexError::Malformed("a delta has no base".into()));
        }
        Ok(())
    }

    /// What a hall with `installed` (0: none) fetches, in order, to reach
    /// the newest version: the deltas that chain from `installed` when they
    /// reach it, else the full roster and the deltas that chain from it.
    /// Empty when the hall is up to date or nothing leads anywhere newer.
    pub fn plan(&self, installed: u64) -> Vec<IndexEntry> {
        let latest = self.latest();
        if installed >= latest {
            return Vec::new();
        }
        let chained = self.chain_from(installed);
        if chained.last().map(|d| d.version) == Some(latest) {
            return chained;
        }
        match &self.full {
            Some(f) if f.version > installed => {
                let mut plan = vec![f.clone()];
                plan.extend(self.chain_from(f.version));
                plan
            }
            _ => chained,
        }
    }

    /// Deltas from `from`, each applying to the previous one's version
    /// (the longest step first when two share a base).
    fn chain_from(&self, from: u64) -> Vec<IndexEntry> {
        let mut out = Vec::new();
        let mut at = from;
        while let Some(d) = self
            .deltas
            .iter()
            .filter(|d| d.base == Some(at))
            .max_by_key(|d| d.version)
        {
            out.push(d.clone());
            at = d.version;
        }
        out
    }
}

impl SignedIndex {
    /// Parses `index.json`'s bytes (not verified yet).
    pub fn parse(bytes: &[u8]) -> Result<SignedIndex, IndexError> {
        serde_json::from_slice(bytes).map_err(|e| IndexError::Malformed(e.to_string()))
    }

    /// Checks the signature with `key`, then reads the index.
    pub fn verify(&self, key: &VerifyingKey) -> Result<Index, IndexError> {
        let bad = || IndexError::BadSignature {
            signer: if self.key.is_empty() {
                "unknown".into()
            } else {
                self.key.clone()
            },
            trusted: super::keys::fingerprint(key),
        };
        let sig = hex::decode(&self.signature).map_err(|_| bad())?;
        let sig = Signature::from_slice(&sig).map_err(|_| bad())?;
        key.verify_strict(&signed_bytes(&self.index), &sig)
            .map_err(|_| bad())?;
        let index: Index =
            serde_json::from_str(&self.index).map_err(|e| IndexError::Malformed(e.to_string()))?;
        index.check()?;
        Ok(index)
    }

    /// The file's text, pretty enough for ops to read.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| unreachable!("plain data")) + "\n"
    }
}

fn signed_bytes(index: &str) -> Vec<u8> {
    [DOMAIN, index.as_bytes()].concat()
}

/// A file name a hall may write under its data directory: non-empty,
/// letters, digits, `.`, `_`, `-`, not starting with a dot.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(file: &str, base: Option<u64>, version: u64) -> IndexEntry {
        IndexEntry {
            file: file.into(),
            version,
            base,
            sha256: "ab".repeat(32),
            size: 100,
        }
    }

    fn index() -> Index {
        Index {
            format: INDEX_FORMAT,
            published_at: DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap(),
            full: Some(entry("roster-3.gwr", None, 3)),
            deltas: vec![
                entry("delta-3-4.gwr", Some(3), 4),
                entry("delta-4-5.gwr", Some(4), 5),
            ],
        }
    }

    fn files(plan: &[IndexEntry]) -> Vec<&str> {
        plan.iter().map(|e| e.file.as_str()).collect()
    }

    #[test]
    fn plan_takes_the_deltas_that_chain_else_the_full_roster() {
        let i = index();
        assert_eq!(files(&i.plan(4)), ["delta-4-5.gwr"]);
        assert_eq!(files(&i.plan(3)), ["delta-3-4.gwr", "delta-4-5.gwr"]);
        assert_eq!(
            files(&i.plan(0)),
            ["roster-3.gwr", "delta-3-4.gwr", "delta-4-5.gwr"]
        );
        assert_eq!(
            files(&i.plan(2)),
            ["roster-3.gwr", "delta-3-4.gwr", "delta-4-5.gwr"]
        );
        assert!(i.plan(5).is_empty());
        assert!(i.plan(9).is_empty());
    }

    #[test]
    fn a_signed_index_verifies_with_its_key_only() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let signed = index().sign(&key);
        let back = SignedIndex::parse(signed.to_json().as_bytes()).unwrap();
        assert_eq!(back.verify(&key.verifying_key()).unwrap(), index());
        let other = SigningKey::from_bytes(&[2; 32]).verifying_key();
        let e = back.verify(&other).unwrap_err();
        assert!(e.to_string().contains("does not verify"), "{e}");
        let mut altered = back.clone();
        altered.index = altered.index.replace("\"version\":5", "\"version\":6");
        assert!(matches!(
            altered.verify(&key.verifying_key()),
            Err(IndexError::BadSignature { .. })
        ));
    }

    #[test]
    fn entries_must_be_plain_names() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let mut i = index();
        i.deltas[0].file = "../../etc/passwd".into();
        let e = i.sign(&key).verify(&key.verifying_key()).unwrap_err();
        assert!(e.to_string().contains("plain file name"), "{e}");
        assert!(is_plain_name("roster-12.gwr") && !is_plain_name(".part"));
    }
}
