//! greenwave-drivers: the devices of a greenwave kiosk as typed events and
//! typed print jobs. This crate knows nothing of queues, tickets' meaning or
//! rosters: it turns a card on a reader into a typed card event and a
//! ticket layout into printer bytes. It speaks no Chinese either: errors
//! and reasons are typed (their `Display` is English, for logs), and the
//! main crate words them for residents and staff.

pub mod card;
pub mod document;
pub mod id_number;
pub mod idcard;
pub mod pcsc;
pub mod printer;
pub mod sources;
