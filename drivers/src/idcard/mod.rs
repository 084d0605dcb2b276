//! The resident ID card reader (GA 467 family, serial SAM module).
//!
//! - [`frame`]: command/response frames and a resynchronising decoder;
//! - [`text`]: the 256-byte text block → [`CardRead`];
//! - [`reader`]: the serial driver, a [`crate::card::CardSource`];
//! - [`sim`]: a device-side simulator for tests and demos.

pub mod frame;
pub mod reader;
pub mod sim;
pub mod text;

pub use reader::{Backoff, Baud, IdCardReader, IdReaderConfig, Timeouts};
pub use text::{CardDetails, CardKind, CardRead, DocumentId, Expiry, Private, Sex};
