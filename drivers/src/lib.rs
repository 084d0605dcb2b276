//! greenwave-drivers: the devices of a greenwave kiosk as typed events and
//! typed print jobs. This crate knows nothing of queues, tickets' meaning or
//! rosters: it turns a card on a reader into a typed card event and a
//! ticket layout into printer bytes.

pub mod card;
pub mod id_number;
pub mod idcard;
pub mod pcsc;
pub mod printer;
