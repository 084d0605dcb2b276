//! What an identity document says, typed: the kind of card, the holder's
//! details and its validity. Decoded by the GA 467 reader
//! (`crate::idcard::text`), carried by [`crate::card::CardEvent::IdCard`].
//!
//! Personal data (names, numbers, addresses) lives in [`Private`] and
//! [`DocumentId`], whose `Debug` prints masked forms only.

use std::fmt;

use chrono::NaiveDate;

use crate::id_number::{mask, IdNumber};

/// Which document was on the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardKind {
    /// Resident identity card (居民身份证).
    Resident,
    /// `J`: Hong Kong / Macau / Taiwan residence permit (港澳台居民居住证).
    HkMacauTaiwanPermit,
    /// `I`: foreigner permanent residence card, 2017 edition (外国人永久居留证).
    ForeignPermanent2017,
    /// `Y`: foreigner permanent residence ID card, 2023 edition (外国人永久居留身份证).
    Foreign2023,
}

impl CardKind {
    /// The type character at offset 248 (`None` for the resident card).
    pub fn type_char(self) -> Option<char> {
        match self {
            Self::Resident => None,
            Self::HkMacauTaiwanPermit => Some('J'),
            Self::ForeignPermanent2017 => Some('I'),
            Self::Foreign2023 => Some('Y'),
        }
    }
}

/// Sex as coded on the card (GB/T 2261.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// `0`, or any code the card should not carry.
    Unknown,
    /// `1`.
    Male,
    /// `2`.
    Female,
    /// `9`.
    Unspecified,
}

impl Sex {
    pub(crate) fn from_code(s: &str) -> Self {
        match s {
            "1" => Self::Male,
            "2" => Self::Female,
            "9" => Self::Unspecified,
            _ => Self::Unknown,
        }
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Unknown => "0",
            Self::Male => "1",
            Self::Female => "2",
            Self::Unspecified => "9",
        }
    }
}

/// End of validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expiry {
    /// Valid up to and including this date.
    Date(NaiveDate),
    /// `长期`: long-term.
    LongTerm,
}

/// A piece of personal text (a name, an address, a document number) that is
/// kept in memory only. `Debug` shows its length, never its content.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Private(String);

impl Private {
    /// Wraps a value.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The real value: for the screen of the person who owns it, never logs.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `true` if empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Private {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Private(<{} chars>)", self.0.chars().count())
    }
}

/// The document's number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum DocumentId {
    /// A GB 11643 number, validated (resident cards, `J` permits).
    Gb11643(IdNumber),
    /// The number of a foreigner's card (`I`: 15 characters, `Y`: 18),
    /// not validated.
    Foreign(Private),
}

impl DocumentId {
    /// The GB 11643 number, for resident cards and `J` permits.
    pub fn as_gb11643(&self) -> Option<&IdNumber> {
        match self {
            Self::Gb11643(n) => Some(n),
            Self::Foreign(_) => None,
        }
    }

    /// The full number: for hashing only, never log it.
    pub fn expose(&self) -> &str {
        match self {
            Self::Gb11643(n) => n.expose(),
            Self::Foreign(p) => p.expose(),
        }
    }

    /// Masked for logs and screens: `3717**********1234`.
    pub fn masked(&self) -> String {
        mask(self.expose())
    }

    /// The validated number, if it is a GB 11643 one.
    pub fn as_id_number(&self) -> Option<&IdNumber> {
        match self {
            Self::Gb11643(n) => Some(n),
            Self::Foreign(_) => None,
        }
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gb11643(_) => write!(f, "Gb11643({})", self.masked()),
            Self::Foreign(_) => write!(f, "Foreign({})", self.masked()),
        }
    }
}

/// Fields that only some card types carry.
#[derive(Clone, PartialEq, Eq)]
pub enum CardDetails {
    /// Resident identity card.
    Resident {
        /// Ethnic group code, `01`–`56`, `97`, `98`.
        nation: String,
        /// Registered address.
        address: Private,
        /// Issuing authority.
        authority: String,
    },
    /// `J` permit.
    HkMacauTaiwanPermit {
        /// Address.
        address: Private,
        /// Issuing authority.
        authority: String,
        /// Home-return / travel permit number.
        pass_number: Private,
        /// How many times a permit was issued.
        issue_count: String,
    },
    /// `I` card (2017).
    ForeignPermanent2017 {
        /// English name.
        english_name: Private,
        /// ISO 3166 three-letter code.
        nationality: String,
        /// Card version.
        card_version: String,
        /// Code of the issuing authority.
        authority_code: String,
    },
    /// `Y` card (2023).
    Foreign2023 {
        /// English name (both parts joined).
        english_name: Private,
        /// ISO 3166 three-letter code.
        nationality: String,
        /// Renewal count.
        renewal_count: String,
        /// Link to the previous card.
        old_card_link: String,
    },
}

impl fmt::Debug for CardDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Resident { nation, .. } => f
                .debug_struct("Resident")
                .field("nation", nation)
                .finish_non_exhaustive(),
            Self::HkMacauTaiwanPermit { issue_count, .. } => f
                .debug_struct("HkMacauTaiwanPermit")
                .field("issue_count", issue_count)
                .finish_non_exhaustive(),
            Self::ForeignPermanent2017 { nationality, .. } => f
                .debug_struct("ForeignPermanent2017")
                .field("nationality", nationality)
                .finish_non_exhaustive(),
            Self::Foreign2023 { nationality, .. } => f
                .debug_struct("Foreign2023")
                .field("nationality", nationality)
                .finish_non_exhaustive(),
        }
    }
}

/// One card as read. Photo and fingerprint are never part of it.
#[derive(Clone, PartialEq, Eq)]
pub struct CardRead {
    /// Which document.
    pub kind: CardKind,
    /// Chinese name (may be empty on an `I` card; see the English name in
    /// [`CardDetails`]).
    pub name: Private,
    /// Sex.
    pub sex: Sex,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Document number.
    pub id_number: DocumentId,
    /// Start of validity.
    pub valid_from: NaiveDate,
    /// End of validity.
    pub valid_to: Expiry,
    /// Type-specific fields.
    pub details: CardDetails,
}

impl fmt::Debug for CardRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardRead")
            .field("kind", &self.kind)
            .field("id_number", &self.id_number)
            .field("birth_date", &self.birth_date)
            .field("name", &self.name)
            .field("sex", &self.sex)
            .field("valid_from", &self.valid_from)
            .field("valid_to", &self.valid_to)
            .field("details", &self.details)
            .finish()
    }
}
