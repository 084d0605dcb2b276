//! The low-income roster: from the civil-affairs bureau's export to a
//! signed, hashed roster file that a hall can load.
//!
//! The flow is:
//!
//! 1. ops run [`keys::keygen`] once, keep `roster-signing.key` and
//!    `roster-hash.key` at the city, and give every hall `roster-public.key`
//!    and `roster-hash.key`;
//! 2. [`prepare::prepare`] reads the bureau's export (CSV in UTF-8 or
//!    GB18030, or `.xlsx`), validates every row, replaces every identity
//!    number by its keyed hash ([`keys::HashKey::hash`]), drops names and
//!    every other column, sorts by hash and writes a signed roster file
//!    ([`mod@file`]), full or delta;
//! 3. a hall opens the file with [`file::RosterReader`], which checks the
//!    signature before yielding anything and the body digest after the last
//!    record.
//!
//! No plain identity number or name is written anywhere by this module, and
//! every type that holds one masks it in `Debug`.

pub mod export;
pub mod file;
pub mod inbox;
pub mod index;
pub mod install;
pub mod keys;
pub mod prepare;
pub mod publish;
mod sort;
pub mod source;
pub mod synthetic;

use std::collections::HashSet;
use std::fmt;

use chrono::NaiveDate;
use serde::Deserialize;

pub use export::{ColumnMap, ExportError, ExportFormat, TextEncoding};
pub use file::{
    FormatError, RosterHeader, RosterKind, RosterMeta, RosterReader, RosterRecord, RosterWriter,
};
pub use keys::{
    keygen, load_hash_key, load_public_key, load_signing_key, HashKey, KeyError, KeyPaths,
};
pub use prepare::{prepare, PrepareError, PrepareOptions, PrepareReport, Summary};
pub use synthetic::{generate_synthetic_export, SyntheticFormat};

/// One resident on the roster, as stored in a roster file: the keyed hash
/// of the identity number, the category index into the file's category
/// list, and the last day of validity, if the bureau gave one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RosterEntry {
    /// HMAC-SHA256 of the normalised 18-character identity number under the
    /// roster hash key ([`keys::HashKey::hash`]).
    pub hash: [u8; 32],
    /// Index into the category names of the roster file (and of
    /// [`Categories`] at preparation time).
    pub category: u8,
    /// Last day on which the entry is valid (inclusive); `None` when the
    /// export had no end date for this resident.
    pub valid_to: Option<NaiveDate>,
}

impl fmt::Debug for RosterEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hash is not personal data in itself, but a short prefix is
        // all a log reader ever needs.
        f.debug_struct("RosterEntry")
            .field("hash", &format_args!("{}…", hex::encode(&self.hash[..4])))
            .field("category", &self.category)
            .field("valid_to", &self.valid_to)
            .finish()
    }
}

/// Why a category list is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CategoryError {
    /// No category at all.
    #[error("the category list is empty")]
    Empty,
    /// More categories than fit into the one-byte index of a roster record.
    #[error("{0} categories configured, at most 255 are allowed")]
    TooMany(usize),
    /// An empty (or whitespace-only) category name.
    #[error("category number {0} has an empty name")]
    EmptyName(usize),
    /// A name longer than the 255 bytes a roster file header can hold.
    #[error("category {0:?} is longer than 255 bytes")]
    NameTooLong(String),
    /// The same name twice.
    #[error("category {0:?} is listed twice")]
    Duplicate(String),
    /// A priority category that is not in the list of names.
    #[error("priority category {0:?} is not in the category list")]
    UnknownPriority(String),
}

/// The configured assistance categories (低保, 特困, 低保边缘, 临时救助, …)
/// and which of them grant a priority ticket.
///
/// The names are written into each roster file; which ones grant priority is
/// hall configuration and is not.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "CategoriesConfig")]
pub struct Categories {
    names: Vec<String>,
    priority: Vec<bool>,
}

/// The configuration form of [`Categories`]:
/// `names = ["低保", "特困"]`, `priority = ["低保", "特困"]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoriesConfig {
    /// All category names, in the order of their index in roster files.
    pub names: Vec<String>,
    /// The names that grant a priority ticket; a subset of `names`.
    #[serde(default)]
    pub priority: Vec<String>,
}

impl TryFrom<CategoriesConfig> for Categories {
    type Error = CategoryError;

    fn try_from(c: CategoriesConfig) -> Result<Self, Self::Error> {
        Categories::new(c.names, &c.priority)
    }
}

impl Categories {
    /// Builds and validates a category list: non-empty, at most 255 names,
    /// names unique, non-empty and at most 255 bytes, and every priority
    /// name one of the names. Names are trimmed.
    pub fn new<S: AsRef<str>>(names: Vec<String>, priority: &[S]) -> Result<Self, CategoryError> {
        if names.is_empty() {
            return Err(CategoryError::Empty);
        }
        if names.len() > 255 {
            return Err(CategoryError::TooMany(names.len()));
        }
        let names: Vec<String> = names.into_iter().map(|n| n.trim().to_owned()).collect();
        let mut seen = HashSet::new();
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() {
                return Err(CategoryError::EmptyName(i + 1));
            }
            if n.len() > 255 {
                return Err(CategoryError::NameTooLong(n.clone()));
            }
            if !seen.insert(n.as_str()) {
                return Err(CategoryError::Duplicate(n.clone()));
            }
        }
        let mut flags = vec![false; names.len()];
        for p in priority {
            let p = p.as_ref().trim();
            let i = names
                .iter()
                .position(|n| n == p)
                .ok_or_else(|| CategoryError::UnknownPriority(p.to_owned()))?;
            flags[i] = true;
        }
        Ok(Categories {
            names,
            priority: flags,
        })
    }

    /// All names, index order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The index of a category name (surrounding whitespace ignored).
    pub fn index_of(&self, name: &str) -> Option<u8> {
        let name = name.trim();
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| u8::try_from(i).ok())
    }

    /// The name at an index.
    pub fn name(&self, index: u8) -> Option<&str> {
        self.names.get(usize::from(index)).map(String::as_str)
    }

    /// Whether the category at `index` grants a priority ticket; `false`
    /// for an index out of range.
    pub fn grants_priority(&self, index: u8) -> bool {
        self.priority
            .get(usize::from(index))
            .copied()
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn categories_index_and_priority() {
        let c = Categories::new(names(&["低保", "特困", "低保边缘"]), &["低保", "特困"]).unwrap();
        assert_eq!(c.index_of(" 特困 "), Some(1));
        assert_eq!(c.index_of("临时救助"), None);
        assert!(c.grants_priority(0) && c.grants_priority(1));
        assert!(!c.grants_priority(2) && !c.grants_priority(200));
        assert_eq!(c.name(2), Some("低保边缘"));
    }

    #[test]
    fn categories_validation() {
        let none: &[&str] = &[];
        assert_eq!(Categories::new(vec![], none), Err(CategoryError::Empty));
        assert_eq!(
            Categories::new(names(&["低保", "低保 "]), none),
            Err(CategoryError::Duplicate("低保".into()))
        );
        assert_eq!(
            Categories::new(names(&["低保", " "]), none),
            Err(CategoryError::EmptyName(2))
        );
        assert_eq!(
            Categories::new(names(&["低保"]), &["特困"]),
            Err(CategoryError::UnknownPriority("特困".into()))
        );
        let many: Vec<String> = (0..256).map(|i| i.to_string()).collect();
        assert_eq!(
            Categories::new(many, none),
            Err(CategoryError::TooMany(256))
        );
    }

    #[test]
    fn categories_from_config_json() {
        let c: Categories =
            serde_json::from_str(r#"{"names":["低保","特困"],"priority":["特困"]}"#).unwrap();
        assert!(c.grants_priority(1) && !c.grants_priority(0));
        let bad: Result<Categories, _> =
            serde_json::from_str(r#"{"names":["低保"],"priority":["特困"]}"#);
        assert!(bad.unwrap_err().to_string().contains("特困"));
    }

    #[test]
    fn entry_debug_shows_only_a_hash_prefix() {
        let e = RosterEntry {
            hash: [0xab; 32],
            category: 1,
            valid_to: None,
        };
        let s = format!("{e:?}");
        assert!(s.contains("abababab…"));
        assert!(!s.contains(&"ab".repeat(5)));
    }
}
