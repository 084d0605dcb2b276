//! A virtual contactless card for the `vsmartcard-vpcd` PC/SC driver.
//!
//! vpcd (loaded by `pcscd`) exposes the readers `Virtual PCD 00 00` and
//! `Virtual PCD 00 01` and listens on TCP 35963 and 35964. A card is a TCP
//! client of that port: connecting inserts it, closing the connection
//! removes it. Each message is a big-endian `u16` length then the payload;
//! a 1-byte payload is a control (0 power off, 1 power on, 2 reset, 4 "send
//! your ATR"), anything longer is a command APDU answered with a response
//! APDU.
//!
//! This card answers `FF CA 00 00 Le` (GET DATA, UID) with its UID and
//! `90 00`, and `6D 00` to anything else. It can delay its answers, or drop
//! the connection instead of answering (a card pulled mid-APDU).
//!
//! One card per reader at a time: vpcd serves one connection per port, and
//! a second one waits in the listen backlog until the first card leaves.
//!
//! It is public (not `cfg(test)`) because the crate's integration tests and
//! the daemon's demo mode use it, like [`crate::idcard::sim`]; it needs only
//! `std`. It only ever connects to 127.0.0.1: vpcd listens on every
//! interface, and nothing here may talk to another host.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tracing::{debug, trace};

use super::mask_uid;

/// vpcd's port for `Virtual PCD 00 00`.
pub const VPCD_PORT: u16 = 35963;
/// vpcd's port for `Virtual PCD 00 01`.
pub const VPCD_PORT_2: u16 = 35964;
/// ATR of an ISO 14443-4 contactless card with no historical bytes (T=1).
pub const DEFAULT_ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

const CTRL_POWER_OFF: u8 = 0;
const CTRL_POWER_ON: u8 = 1;
const CTRL_RESET: u8 = 2;
const CTRL_ATR: u8 = 4;

/// How the card answers command APDUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApduBehaviour {
    /// Answer at once.
    #[default]
    Answer,
    /// Wait, then answer.
    Delay(Duration),
    /// Wait, then close the connection without answering: the card is
    /// pulled in the middle of an APDU.
    PullAfter(Duration),
    /// Answer `6D 00` to every APDU: a card that is no priority card.
    Refuse,
}

/// A virtual card, not yet presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualCard {
    /// Answer to GET DATA (UID).
    pub uid: Vec<u8>,
    /// Answer to reset.
    pub atr: Vec<u8>,
    /// vpcd port on 127.0.0.1 ([`VPCD_PORT`] or [`VPCD_PORT_2`]).
    pub port: u16,
    /// How APDUs are answered.
    pub behaviour: ApduBehaviour,
}

impl VirtualCard {
    /// A card with `uid` on the first virtual reader.
    pub fn new(uid: &[u8]) -> Self {
        Self {
            uid: uid.to_vec(),
            atr: DEFAULT_ATR.to_vec(),
            port: VPCD_PORT,
            behaviour: ApduBehaviour::Answer,
        }
    }

    /// The same card with another APDU behaviour.
    pub fn with_behaviour(mut self, behaviour: ApduBehaviour) -> Self {
        self.behaviour = behaviour;
        self
    }

    /// Puts the card on the reader: connects to vpcd on 127.0.0.1 and
    /// serves it on a thread of its own until [`PresentedCard::remove`] or
    /// drop. Fails if vpcd does not accept the connection within 2 s
    /// (typically: pcscd is not running).
    pub fn present(&self) -> io::Result<PresentedCard> {
        // Loopback only, by construction: no address is configurable.
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_nodelay(true)?;
        let control = stream.try_clone()?;
        let stats = Arc::new(Stats::default());
        let card = self.clone();
        let thread_stats = Arc::clone(&stats);
        let thread = thread::Builder::new().name("vcard".into()).spawn(move || {
            let result = serve(stream, &card, &thread_stats);
            debug!(uid = %mask_uid(&card.uid), ?result, "vcard: connection closed");
            thread_stats.closed.store(true, Ordering::SeqCst);
        })?;
        debug!(uid = %mask_uid(&self.uid), port = self.port, "vcard: presented");
        Ok(PresentedCard {
            control,
            thread: Some(thread),
            stats,
        })
    }
}

#[derive(Debug, Default)]
struct Stats {
    apdus: AtomicUsize,
    atr_requests: AtomicUsize,
    closed: AtomicBool,
    /// Set by [`PresentedCard::remove`]: cuts delays short.
    removing: AtomicBool,
}

impl Stats {
    /// Sleeps `d`, or less if the card is being removed.
    fn pause(&self, d: Duration) {
        let end = Instant::now() + d;
        while !self.removing.load(Ordering::SeqCst) {
            let now = Instant::now();
            if now >= end {
                return;
            }
            thread::sleep((end - now).min(Duration::from_millis(20)));
        }
    }
}

/// A card lying on the virtual reader. Dropping it removes it.
#[derive(Debug)]
pub struct PresentedCard {
    control: TcpStream,
    thread: Option<JoinHandle<()>>,
    stats: Arc<Stats>,
}

impl PresentedCard {
    /// Takes the card off the reader (closes the connection) and waits for
    /// its thread.
    pub fn remove(mut self) {
        self.close();
    }

    /// Command APDUs received so far.
    pub fn apdus(&self) -> usize {
        self.stats.apdus.load(Ordering::SeqCst)
    }

    /// ATR requests received so far (vpcd asks for the ATR to poll
    /// presence, so this grows while vpcd sees the card).
    pub fn atr_requests(&self) -> usize {
        self.stats.atr_requests.load(Ordering::SeqCst)
    }

    /// `true` once the connection is closed (removed, pulled, or vpcd went
    /// away).
    pub fn is_closed(&self) -> bool {
        self.stats.closed.load(Ordering::SeqCst)
    }

    fn close(&mut self) {
        self.stats.removing.store(true, Ordering::SeqCst);
        // Unblocks the serving thread's read; errors mean already closed.
        let _ = self.control.shutdown(Shutdown::Both);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for PresentedCard {
    fn drop(&mut self) {
        self.close();
    }
}

/// Serves vpcd until the connection closes. `Ok(())` on a clean close.
fn serve(mut stream: TcpStream, card: &VirtualCard, stats: &Stats) -> io::Result<()> {
    loop {
        let Some(payload) = read_message(&mut stream)? else {
            return Ok(());
        };
        match payload.as_slice() {
            [] => {}
            [CTRL_ATR] => {
                stats.atr_requests.fetch_add(1, Ordering::SeqCst);
                write_message(&mut stream, &card.atr)?;
            }
            [CTRL_POWER_OFF] | [CTRL_POWER_ON] | [CTRL_RESET] => {
                trace!(control = payload[0], "vcard: control");
            }
            [other] => trace!(control = other, "vcard: unknown control ignored"),
            apdu => {
                stats.apdus.fetch_add(1, Ordering::SeqCst);
                match card.behaviour {
                    ApduBehaviour::Answer => {}
                    ApduBehaviour::Refuse => {
                        write_message(&mut stream, &[0x6D, 0x00])?;
                        continue;
                    }
                    ApduBehaviour::Delay(d) => stats.pause(d),
                    ApduBehaviour::PullAfter(d) => {
                        stats.pause(d);
                        debug!("vcard: pulled mid-APDU");
                        let _ = stream.shutdown(Shutdown::Both);
                        return Ok(());
                    }
                }
                write_message(&mut stream, &respond(&card.uid, apdu))?;
            }
        }
    }
}

/// The card's answer to one command APDU.
pub fn respond(uid: &[u8], apdu: &[u8]) -> Vec<u8> {
    match apdu {
        // GET DATA, P1 = 00: UID. Le absent or 00 means "all of it".
        [0xFF, 0xCA, 0x00, 0x00, rest @ ..] if rest.len() <= 1 => {
            let le = rest.first().copied().unwrap_or(0);
            if le != 0 && usize::from(le) != uid.len() {
                // Wrong length: tell the right one (ISO 7816-4 6C xx).
                return vec![0x6C, u8::try_from(uid.len()).unwrap_or(0)];
            }
            let mut out = uid.to_vec();
            out.extend_from_slice(&[0x90, 0x00]);
            out
        }
        // GET DATA, other P1 (ATS, ...): function not supported.
        [0xFF, 0xCA, ..] => vec![0x6A, 0x81],
        // Any other instruction.
        _ => vec![0x6D, 0x00],
    }
}

/// Reads one framed message; `None` on a clean end of stream.
fn read_message(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 2];
    match stream.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut payload)?;
    Ok(Some(payload))
}

fn write_message(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(ErrorKind::InvalidInput, "payload over 65535 bytes"))?;
    let mut frame = Vec::with_capacity(payload.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    stream.write_all(&frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_get_uid() {
        let uid = [0x04, 0xA2, 0x3B, 0x11];
        assert_eq!(
            respond(&uid, &[0xFF, 0xCA, 0, 0, 0]),
            vec![0x04, 0xA2, 0x3B, 0x11, 0x90, 0x00]
        );
        assert_eq!(
            respond(&uid, &[0xFF, 0xCA, 0, 0]),
            vec![0x04, 0xA2, 0x3B, 0x11, 0x90, 0x00]
        );
        assert_eq!(respond(&uid, &[0xFF, 0xCA, 0, 0, 4]).len(), 6);
        assert_eq!(respond(&uid, &[0xFF, 0xCA, 0, 0, 7]), vec![0x6C, 4]);
    }

    #[test]
    fn rejects_other_instructions() {
        let uid = [1, 2, 3, 4];
        assert_eq!(respond(&uid, &[0x00, 0xA4, 0x04, 0x00]), vec![0x6D, 0x00]);
        assert_eq!(
            respond(&uid, &[0xFF, 0xCA, 0x01, 0x00, 0x00]),
            vec![0x6A, 0x81]
        );
        assert_eq!(respond(&uid, &[0xFF, 0xB0, 0, 0, 16]), vec![0x6D, 0x00]);
    }

    #[test]
    fn framing_round_trip() {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let client = thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            write_message(&mut s, &[CTRL_ATR]).unwrap();
            read_message(&mut s).unwrap()
        });
        let (mut server, _) = listener.accept().unwrap();
        let req = read_message(&mut server).unwrap();
        assert_eq!(req, Some(vec![CTRL_ATR]));
        write_message(&mut server, &DEFAULT_ATR).unwrap();
        assert_eq!(client.join().unwrap(), Some(DEFAULT_ATR.to_vec()));
    }
}
