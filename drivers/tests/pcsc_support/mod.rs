//! A scripted PC/SC stack for the watcher's tests: what pcscd with real
//! hardware does and pcscd with vpcd cannot (unplug a reader, pull a card
//! from a real reader in the middle of an APDU).
//!
//! The test changes the world (readers plugged or not, cards on them, the
//! service running or not) through [`FakePcsc`]; the watcher sees it through
//! the [`PcscBackend`] trait, answered the way pcsc-lite 1.9 answers:
//! - `SCardGetStatusChange` returns at once when a reader's state or event
//!   count differs from the caller's current state (UNAWARE always
//!   differs), an unplugged reader is `UNKNOWN | CHANGED` (then `UNKNOWN`
//!   once the caller knows), the PnP pseudo-reader is `CHANGED` with the
//!   reader count in its upper 16 bits when that count changes; otherwise
//!   it blocks until the world changes, or `SCARD_E_TIMEOUT`;
//! - no reader: `SCARD_E_NO_READERS_AVAILABLE` from `SCardListReaders`;
//! - a card pulled during `SCardTransmit`: `SCARD_W_REMOVED_CARD`;
//! - the service stopped: `SCARD_E_NO_SERVICE`; a context from before a
//!   service restart stays unusable (`SCARD_E_INVALID_HANDLE`).

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use greenwave_drivers::pcsc::backend::PNP_NOTIFICATION;
use greenwave_drivers::pcsc::{PcscBackend, PcscCard, PcscContext, ReaderWatch};
use pcsc::{Error, State};

/// How a card answers its first APDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// GET DATA → UID + `90 00`.
    Answer,
    /// `6D 00` to everything: not a priority card.
    Refuse,
    /// Pulled from a real reader during the APDU: the card leaves the
    /// reader and `SCardTransmit` fails with `SCARD_W_REMOVED_CARD`.
    PulledMidApdu,
    /// Pulled the way vpcd shows it: the card leaves and the answer is
    /// empty.
    PulledMidApduEmptyAnswer,
}

#[derive(Debug, Clone)]
struct Card {
    id: u64,
    uid: Vec<u8>,
    behaviour: Behaviour,
}

#[derive(Debug)]
struct Reader {
    name: String,
    card: Option<Card>,
    /// Card insertions and removals, as pcscd counts them.
    count: u32,
}

#[derive(Debug, Default)]
struct World {
    running: bool,
    /// Bumped at each service start: older contexts are dead.
    epoch: u64,
    readers: Vec<Reader>,
    next_card: u64,
}

#[derive(Default)]
struct Shared {
    world: Mutex<World>,
    changed: Condvar,
    establishes: AtomicUsize,
    status_calls: AtomicUsize,
    apdus: AtomicUsize,
}

/// The fake PC/SC stack; clones share it. Hand `backend()` to the watcher.
#[derive(Clone)]
pub struct FakePcsc(Arc<Shared>);

impl FakePcsc {
    /// A running service with `readers` plugged in, no cards.
    pub fn new(readers: &[&str]) -> Self {
        let fake = FakePcsc(Arc::default());
        {
            let mut w = fake.world();
            w.running = true;
            w.epoch = 1;
            for r in readers {
                w.readers.push(Reader {
                    name: (*r).to_owned(),
                    card: None,
                    count: 0,
                });
            }
        }
        fake
    }

    pub fn backend(&self) -> Arc<dyn PcscBackend> {
        Arc::new(self.clone())
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.0.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn change(&self, f: impl FnOnce(&mut World)) {
        f(&mut self.world());
        self.0.changed.notify_all();
    }

    /// Plugs in a reader (no card on it).
    pub fn plug(&self, name: &str) {
        self.change(|w| {
            assert!(
                w.readers.iter().all(|r| r.name != name),
                "{name} already plugged"
            );
            w.readers.push(Reader {
                name: name.to_owned(),
                card: None,
                count: 0,
            });
        });
    }

    /// Unplugs a reader, with whatever card is on it.
    pub fn unplug(&self, name: &str) {
        self.change(|w| {
            let before = w.readers.len();
            w.readers.retain(|r| r.name != name);
            assert!(w.readers.len() < before, "{name} was not plugged");
        });
    }

    /// Puts a card with `uid` on `reader`.
    pub fn insert(&self, reader: &str, uid: &[u8], behaviour: Behaviour) {
        self.change(|w| {
            w.next_card += 1;
            let id = w.next_card;
            let r = reader_mut(w, reader);
            assert!(r.card.is_none(), "a card is already on {reader}");
            r.card = Some(Card {
                id,
                uid: uid.to_vec(),
                behaviour,
            });
            r.count += 1;
        });
    }

    /// Takes the card off `reader`.
    pub fn remove(&self, reader: &str) {
        self.change(|w| {
            let r = reader_mut(w, reader);
            assert!(r.card.take().is_some(), "no card on {reader}");
            r.count += 1;
        });
    }

    /// Stops the service: every context dies, cards included.
    pub fn stop_service(&self) {
        self.change(|w| w.running = false);
    }

    /// Starts the service again; contexts from before stay dead.
    pub fn start_service(&self) {
        self.change(|w| {
            w.running = true;
            w.epoch += 1;
        });
    }

    /// Whether a card is on `reader`.
    pub fn has_card(&self, reader: &str) -> bool {
        self.world()
            .readers
            .iter()
            .any(|r| r.name == reader && r.card.is_some())
    }

    /// `SCardEstablishContext` calls so far (successful or not).
    pub fn establishes(&self) -> usize {
        self.0.establishes.load(Ordering::SeqCst)
    }

    /// `SCardGetStatusChange` calls so far.
    pub fn status_calls(&self) -> usize {
        self.0.status_calls.load(Ordering::SeqCst)
    }

    /// `SCardTransmit` calls so far.
    pub fn apdus(&self) -> usize {
        self.0.apdus.load(Ordering::SeqCst)
    }
}

fn reader_mut<'w>(w: &'w mut World, name: &str) -> &'w mut Reader {
    w.readers
        .iter_mut()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("{name} is not plugged"))
}

impl PcscBackend for FakePcsc {
    fn establish(&self) -> Result<Box<dyn PcscContext>, Error> {
        self.0.establishes.fetch_add(1, Ordering::SeqCst);
        let w = self.world();
        if !w.running {
            return Err(Error::NoService);
        }
        Ok(Box::new(FakeContext {
            fake: self.clone(),
            epoch: w.epoch,
        }))
    }
}

struct FakeContext {
    fake: FakePcsc,
    epoch: u64,
}

impl FakeContext {
    /// The world, if this context is still alive.
    fn alive(&self) -> Result<MutexGuard<'_, World>, Error> {
        let w = self.fake.world();
        if !w.running {
            Err(Error::NoService)
        } else if w.epoch != self.epoch {
            Err(Error::InvalidHandle)
        } else {
            Ok(w)
        }
    }
}

const CARD_FLAGS: State = State::PRESENT
    .union(State::EMPTY)
    .union(State::UNKNOWN)
    .union(State::MUTE);

/// Sets the event states of `readers` from `w`; whether any changed.
fn evaluate(w: &World, readers: &mut [ReaderWatch], pnp_baseline: u32) -> bool {
    let mut any = false;
    for rs in readers.iter_mut() {
        if rs.name() == PNP_NOTIFICATION {
            let now = w.readers.len() as u32;
            let known = if rs.current_state() == State::UNAWARE && rs.current_count() == 0 {
                pnp_baseline
            } else {
                rs.current_count()
            };
            if now != known {
                rs.set_event(State::CHANGED, now);
                any = true;
            } else {
                rs.set_event(State::UNAWARE, known);
            }
            continue;
        }
        match w.readers.iter().find(|r| r.name == rs.name()) {
            None => {
                if rs.current_state().contains(State::UNKNOWN) {
                    rs.set_event(State::UNKNOWN, 0);
                } else {
                    rs.set_event(State::UNKNOWN | State::CHANGED, 0);
                    any = true;
                }
            }
            Some(r) => {
                let flags = if r.card.is_some() {
                    State::PRESENT
                } else {
                    State::EMPTY
                };
                let differs = rs.current_state() == State::UNAWARE
                    || (rs.current_state() & CARD_FLAGS) != flags
                    || rs.current_count() != r.count;
                if differs {
                    rs.set_event(flags | State::CHANGED, r.count);
                    any = true;
                } else {
                    rs.set_event(flags, r.count);
                }
            }
        }
    }
    any
}

impl PcscContext for FakeContext {
    fn list_readers(&self) -> Result<Vec<String>, Error> {
        let w = self.alive()?;
        if w.readers.is_empty() {
            return Err(Error::NoReadersAvailable);
        }
        Ok(w.readers.iter().map(|r| r.name.clone()).collect())
    }

    fn get_status_change(
        &self,
        timeout: Duration,
        readers: &mut [ReaderWatch],
    ) -> Result<(), Error> {
        self.fake.0.status_calls.fetch_add(1, Ordering::SeqCst);
        let deadline = Instant::now() + timeout;
        let mut w = self.alive()?;
        let baseline = w.readers.len() as u32;
        loop {
            if evaluate(&w, readers, baseline) {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout);
            }
            w = self
                .fake
                .0
                .changed
                .wait_timeout(w, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            if !w.running {
                return Err(Error::NoService);
            }
            if w.epoch != self.epoch {
                return Err(Error::InvalidHandle);
            }
        }
    }

    fn connect(&self, reader: &str) -> Result<Box<dyn PcscCard>, Error> {
        let w = self.alive()?;
        let r = w
            .readers
            .iter()
            .find(|r| r.name == reader)
            .ok_or(Error::UnknownReader)?;
        let card = r.card.as_ref().ok_or(Error::NoSmartcard)?;
        Ok(Box::new(FakeCard {
            fake: self.fake.clone(),
            reader: reader.to_owned(),
            id: card.id,
        }))
    }
}

struct FakeCard {
    fake: FakePcsc,
    reader: String,
    id: u64,
}

impl PcscCard for FakeCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, Error> {
        self.fake.0.apdus.fetch_add(1, Ordering::SeqCst);
        let mut w = self.fake.world();
        if !w.running {
            return Err(Error::NoService);
        }
        let Some(r) = w.readers.iter_mut().find(|r| r.name == self.reader) else {
            return Err(Error::ReaderUnavailable);
        };
        let Some(card) = r.card.clone().filter(|c| c.id == self.id) else {
            return Err(Error::RemovedCard);
        };
        let answer = match card.behaviour {
            Behaviour::Answer if apdu == [0xFF, 0xCA, 0x00, 0x00, 0x00] => {
                let mut a = card.uid.clone();
                a.extend_from_slice(&[0x90, 0x00]);
                Ok(a)
            }
            Behaviour::Answer | Behaviour::Refuse => Ok(vec![0x6D, 0x00]),
            Behaviour::PulledMidApdu | Behaviour::PulledMidApduEmptyAnswer => {
                r.card = None;
                r.count += 1;
                if card.behaviour == Behaviour::PulledMidApdu {
                    Err(Error::RemovedCard)
                } else {
                    Ok(Vec::new())
                }
            }
        };
        drop(w);
        self.fake.0.changed.notify_all();
        answer
    }

    fn disconnect(self: Box<Self>) -> Result<(), Error> {
        Ok(())
    }
}
