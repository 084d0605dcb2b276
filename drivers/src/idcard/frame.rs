//! GA 467 frames: building commands and responses, and a streaming decoder.
//!
//! ```text
//! command:  AA AA AA 96 69 | LEN_H LEN_L | CMD PARA [data]     | CHK
//! response: AA AA AA 96 69 | LEN_H LEN_L | SW1 SW2 SW3 [data]  | CHK
//! ```
//! `LEN` is big-endian and counts every byte after itself, `CHK` included.
//! `CHK` is the XOR of every byte from `LEN_H` to the last data byte.
//!
//! The decoder never panics, whatever it is fed: it skips garbage, resyncs on
//! the preamble, drops frames with a bad checksum or an absurd length, and
//! abandons a truncated frame as soon as a complete one follows it.

use std::fmt;

/// The five bytes that open every frame.
pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];
/// Preamble plus the two length bytes.
pub const HEADER_LEN: usize = PREAMBLE.len() + 2;
/// Smallest sensible `LEN`: `CMD PARA CHK`.
pub const MIN_LEN: usize = 3;
/// Largest `LEN` accepted. The longest real reply (`30 10` with a full
/// fingerprint block) is 2 314 bytes; anything beyond this is noise.
pub const MAX_LEN: usize = 4096;

/// Command codes (`CMD`, `PARA`) of the GA 467 family.
pub mod cmd {
    /// Reset the SAM.
    pub const RESET: (u8, u8) = (0x10, 0xFF);
    /// SAM status.
    pub const SAM_STATUS: (u8, u8) = (0x11, 0xFF);
    /// SAM id (16 bytes).
    pub const SAM_ID: (u8, u8) = (0x12, 0xFF);
    /// Find a card (answers SW3 `9F`).
    pub const FIND: (u8, u8) = (0x20, 0x01);
    /// Select the card found.
    pub const SELECT: (u8, u8) = (0x20, 0x02);
    /// Read text and photo.
    pub const READ: (u8, u8) = (0x30, 0x01);
    /// Read text, photo and fingerprint.
    pub const READ_WITH_FINGERPRINT: (u8, u8) = (0x30, 0x10);
}

/// SW3 of a successful command.
pub const SW3_OK: u8 = 0x90;
/// SW3 of a successful "find card".
pub const SW3_FIND_OK: u8 = 0x9F;

/// XOR checksum over `LEN_H LEN_L` and the body.
fn checksum(len_field: [u8; 2], body: &[u8]) -> u8 {
    body.iter()
        .fold(len_field[0] ^ len_field[1], |acc, b| acc ^ b)
}

/// Wraps a body (`CMD PARA data` or `SW1 SW2 SW3 data`) into a full frame.
/// Bodies too long for the 16-bit length field are truncated to
/// [`MAX_LEN`]` - 1` bytes (no real frame comes near that).
pub fn encode_frame(body: &[u8]) -> Vec<u8> {
    let body = &body[..body.len().min(MAX_LEN - 1)];
    let len = (body.len() + 1) as u16;
    let len_field = len.to_be_bytes();
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + 1);
    out.extend_from_slice(&PREAMBLE);
    out.extend_from_slice(&len_field);
    out.extend_from_slice(body);
    out.push(checksum(len_field, body));
    out
}

/// Builds a command frame: `encode_command(0x20, 0x01, &[])` is
/// `AA AA AA 96 69 00 03 20 01 22`.
pub fn encode_command(cmd: u8, para: u8, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(2 + data.len());
    body.extend_from_slice(&[cmd, para]);
    body.extend_from_slice(data);
    encode_frame(&body)
}

/// Builds a response frame (device side; used by the simulator).
pub fn encode_response(sw3: u8, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(3 + data.len());
    body.extend_from_slice(&[0x00, 0x00, sw3]);
    body.extend_from_slice(data);
    encode_frame(&body)
}

/// One checked frame: the bytes between the length field and the checksum.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    body: Vec<u8>,
}

impl Frame {
    /// The bytes between `LEN_L` and `CHK`.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Takes the body out.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// Reads the frame as a command: `(CMD, PARA, data)`.
    pub fn as_command(&self) -> Option<(u8, u8, &[u8])> {
        match self.body.as_slice() {
            [c, p, data @ ..] => Some((*c, *p, data)),
            _ => None,
        }
    }

    /// Reads the frame as a response. `None` if the body is shorter than
    /// `SW1 SW2 SW3`.
    pub fn into_response(self) -> Option<Response> {
        if self.body.len() < 3 {
            return None;
        }
        let mut body = self.body;
        let data = body.split_off(3);
        Some(Response {
            sw1: body[0],
            sw2: body[1],
            sw3: body[2],
            data,
        })
    }

    /// The frame as it travels on the wire.
    pub fn to_wire(&self) -> Vec<u8> {
        encode_frame(&self.body)
    }
}

impl fmt::Debug for Frame {
    // Frames may carry card text: print their size and head only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head: Vec<String> = self
            .body
            .iter()
            .take(3)
            .map(|b| format!("{b:02X}"))
            .collect();
        write!(f, "Frame({} bytes: {} …)", self.body.len(), head.join(" "))
    }
}

/// A decoded response: status words and data.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// Normally `00`.
    pub sw1: u8,
    /// Normally `00`.
    pub sw2: u8,
    /// The result code.
    pub sw3: u8,
    /// Everything after SW3 (before CHK).
    pub data: Vec<u8>,
}

impl Response {
    /// `Ok(())` for `90` and `9F`, the typed error otherwise.
    pub fn status(&self) -> Result<(), SamError> {
        SamError::check(self.sw3)
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Response(sw {:02X} {:02X} {:02X}, {} data bytes)",
            self.sw1,
            self.sw2,
            self.sw3,
            self.data.len()
        )
    }
}

/// A non-success SW3 from the SAM module (`Display`: English, for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SamError {
    /// `91`: no such item (e.g. no fingerprint on the card).
    #[error("SAM: no such item (SW3=91)")]
    NoSuchItem,
    /// `10`: the SAM received a frame with a bad checksum.
    #[error("SAM: received a frame with a bad checksum (SW3=10)")]
    Checksum,
    /// `11`: the SAM received a frame with a bad length.
    #[error("SAM: received a frame with a bad length (SW3=11)")]
    Length,
    /// `21`: unknown command.
    #[error("SAM: unknown command (SW3=21)")]
    BadCommand,
    /// `23`: operation not authorised.
    #[error("SAM: operation not authorised (SW3=23)")]
    NotAuthorised,
    /// `24`: unknown error.
    #[error("SAM: unknown error (SW3=24)")]
    Unknown,
    /// `31` / `32`: card–SAM mutual authentication failed.
    #[error("card-SAM authentication failed (SW3={0:02X})")]
    Authentication(u8),
    /// `33`: data verification failed.
    #[error("card data verification failed (SW3=33)")]
    DataVerification,
    /// `3F`: data length error.
    #[error("card data length error (SW3=3F)")]
    DataLength,
    /// `40`: unknown card type.
    #[error("unknown card type (SW3=40)")]
    UnknownCardType,
    /// `41`: reading the card failed.
    #[error("reading the card failed (SW3=41)")]
    ReadFailed,
    /// `47`: random number generation failed.
    #[error("SAM: random number generation failed (SW3=47)")]
    RandomNumber,
    /// `60`: SAM self-test failed.
    #[error("SAM self-test failed (SW3=60)")]
    SelfTest,
    /// `66`: the SAM is not authorised.
    #[error("SAM not authorised (SW3=66)")]
    SamNotAuthorised,
    /// `80`: no card found.
    #[error("no card (SW3=80)")]
    NoCard,
    /// `81`: selecting the card failed.
    #[error("selecting the card failed (SW3=81)")]
    SelectFailed,
    /// Any other code.
    #[error("undefined status code (SW3={0:02X})")]
    Other(u8),
}

impl SamError {
    /// Maps SW3 to `Ok(())` (`90`, `9F`) or the matching error.
    pub fn check(sw3: u8) -> Result<(), SamError> {
        Err(match sw3 {
            SW3_OK | SW3_FIND_OK => return Ok(()),
            0x91 => Self::NoSuchItem,
            0x10 => Self::Checksum,
            0x11 => Self::Length,
            0x21 => Self::BadCommand,
            0x23 => Self::NotAuthorised,
            0x24 => Self::Unknown,
            0x31 | 0x32 => Self::Authentication(sw3),
            0x33 => Self::DataVerification,
            0x3F => Self::DataLength,
            0x40 => Self::UnknownCardType,
            0x41 => Self::ReadFailed,
            0x47 => Self::RandomNumber,
            0x60 => Self::SelfTest,
            0x66 => Self::SamNotAuthorised,
            0x80 => Self::NoCard,
            0x81 => Self::SelectFailed,
            other => Self::Other(other),
        })
    }

    /// The SW3 byte this error stands for.
    pub fn code(&self) -> u8 {
        match self {
            Self::NoSuchItem => 0x91,
            Self::Checksum => 0x10,
            Self::Length => 0x11,
            Self::BadCommand => 0x21,
            Self::NotAuthorised => 0x23,
            Self::Unknown => 0x24,
            Self::Authentication(c) | Self::Other(c) => *c,
            Self::DataVerification => 0x33,
            Self::DataLength => 0x3F,
            Self::UnknownCardType => 0x40,
            Self::ReadFailed => 0x41,
            Self::RandomNumber => 0x47,
            Self::SelfTest => 0x60,
            Self::SamNotAuthorised => 0x66,
            Self::NoCard => 0x80,
            Self::SelectFailed => 0x81,
        }
    }
}

/// Why the decoder dropped a frame. Ops-level: English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The checksum byte does not match the XOR of length and body.
    #[error("frame checksum mismatch: expected {expected:02X}, got {actual:02X}")]
    Checksum {
        /// What the bytes add up to.
        expected: u8,
        /// What the frame carried.
        actual: u8,
    },
    /// `LEN` is below [`MIN_LEN`] or above [`MAX_LEN`].
    #[error("frame length {0} out of range")]
    Length(usize),
    /// A frame started but a complete frame began before it ended.
    #[error("truncated frame dropped ({0} bytes)")]
    Truncated(usize),
}

/// Streaming decoder: feed it bytes with [`push`](Self::push) as they
/// arrive, take frames out with [`next_frame`](Self::next_frame).
#[derive(Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    discarded: u64,
}

impl fmt::Debug for FrameDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameDecoder")
            .field("buffered", &self.buf.len())
            .field("discarded", &self.discarded)
            .finish()
    }
}

/// What the head of the buffer holds.
enum Head {
    /// A complete frame ends at this offset.
    Complete(usize),
    /// A frame starts but is not complete yet.
    Partial,
    /// `LEN` is out of range.
    BadLength(usize),
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Drops everything buffered (zeroed first: it may hold card data).
    pub fn reset(&mut self) {
        self.buf.fill(0);
        self.buf.clear();
    }

    /// Bytes skipped as garbage so far (outside any frame).
    pub fn discarded(&self) -> u64 {
        self.discarded
    }

    /// Bytes buffered and not yet returned.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn drop_front(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        self.buf[..n].fill(0);
        self.buf.drain(..n);
    }

    fn find_preamble(&self, from: usize) -> Option<usize> {
        self.buf
            .get(from..)?
            .windows(PREAMBLE.len())
            .position(|w| w == PREAMBLE)
            .map(|p| p + from)
    }

    /// Classifies a frame candidate starting at `at` (which holds a preamble).
    fn head_at(&self, at: usize) -> Head {
        let rest = &self.buf[at..];
        if rest.len() < HEADER_LEN {
            return Head::Partial;
        }
        let len = (rest[5] as usize) << 8 | rest[6] as usize;
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            return Head::BadLength(len);
        }
        if rest.len() < HEADER_LEN + len {
            Head::Partial
        } else {
            Head::Complete(at + HEADER_LEN + len)
        }
    }

    /// Checks the checksum of a complete frame `[at, end)`.
    fn checked(&self, at: usize, end: usize) -> Result<Frame, FrameError> {
        let len_field = [self.buf[at + 5], self.buf[at + 6]];
        let body = &self.buf[at + HEADER_LEN..end - 1];
        let expected = checksum(len_field, body);
        let actual = self.buf[end - 1];
        if expected == actual {
            Ok(Frame {
                body: body.to_vec(),
            })
        } else {
            Err(FrameError::Checksum { expected, actual })
        }
    }

    /// The next frame, an error about bytes just dropped, or `None` when
    /// more input is needed.
    pub fn next_frame(&mut self) -> Option<Result<Frame, FrameError>> {
        // Skip garbage before the first preamble.
        let start = match self.find_preamble(0) {
            Some(p) => p,
            None => {
                // Keep a tail that may be the start of a preamble.
                let keep = PREAMBLE.len() - 1;
                let drop = self.buf.len().saturating_sub(keep);
                self.discarded += drop as u64;
                self.drop_front(drop);
                return None;
            }
        };
        self.discarded += start as u64;
        self.drop_front(start);

        match self.head_at(0) {
            Head::BadLength(len) => {
                // Resync from the next byte: a real frame may hide inside.
                self.drop_front(1);
                Some(Err(FrameError::Length(len)))
            }
            Head::Complete(end) => {
                let result = self.checked(0, end);
                match &result {
                    Ok(_) => self.drop_front(end),
                    Err(_) => self.drop_front(1),
                }
                Some(result)
            }
            Head::Partial => {
                // A truncated frame followed by a complete, valid frame:
                // give up the truncated one.
                let mut from = 1;
                while let Some(p) = self.find_preamble(from) {
                    if let Head::Complete(end) = self.head_at(p) {
                        if self.checked(p, end).is_ok() {
                            self.drop_front(p);
                            return Some(Err(FrameError::Truncated(p)));
                        }
                    }
                    from = p + 1;
                }
                None
            }
        }
    }
}

impl Drop for FrameDecoder {
    fn drop(&mut self) {
        self.buf.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_card_matches_the_documented_bytes() {
        assert_eq!(
            encode_command(0x20, 0x01, &[]),
            [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x22]
        );
        assert_eq!(
            encode_response(0x90, &[]),
            [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x90, 0x94]
        );
    }

    #[test]
    fn decodes_after_garbage_and_reports_bad_checksum() {
        let mut d = FrameDecoder::new();
        let mut bad = encode_response(0x90, &[1, 2, 3]);
        let last = bad.len() - 1;
        bad[last] ^= 0xFF;
        d.push(&[0x00, 0xAA, 0x13]);
        d.push(&bad);
        d.push(&encode_response(0x9F, &[0; 4]));
        assert!(matches!(
            d.next_frame(),
            Some(Err(FrameError::Checksum { .. }))
        ));
        let r = d.next_frame().unwrap().unwrap().into_response().unwrap();
        assert_eq!(r.sw3, 0x9F);
        assert_eq!(r.data, [0; 4]);
        assert!(d.next_frame().is_none());
    }

    #[test]
    fn truncated_frame_gives_way_to_the_next() {
        let mut d = FrameDecoder::new();
        let full = encode_response(0x90, &[7; 100]);
        d.push(&full[..50]);
        assert!(d.next_frame().is_none());
        d.push(&encode_response(0x80, &[]));
        assert!(matches!(
            d.next_frame(),
            Some(Err(FrameError::Truncated(50)))
        ));
        let r = d.next_frame().unwrap().unwrap().into_response().unwrap();
        assert_eq!(r.sw3, 0x80);
    }

    #[test]
    fn absurd_length_is_rejected() {
        let mut d = FrameDecoder::new();
        d.push(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0xFF, 0xFF, 0, 0]);
        assert_eq!(d.next_frame(), Some(Err(FrameError::Length(0xFFFF))));
        assert!(d.next_frame().is_none());
    }

    #[test]
    fn every_documented_sw3_is_typed() {
        for code in [
            0x91, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x3F, 0x40, 0x41, 0x47, 0x60,
            0x66, 0x80, 0x81,
        ] {
            let e = SamError::check(code).unwrap_err();
            assert!(!matches!(e, SamError::Other(_)), "{code:02X}");
            assert_eq!(e.code(), code);
        }
        assert!(SamError::check(0x90).is_ok());
        assert!(SamError::check(0x9F).is_ok());
    }
}
