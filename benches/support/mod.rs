//! What the swipe benches share: a reader simulator's link that notes when
//! each read reply has been written, and a printer on 127.0.0.1 that notes
//! when each ticket's first byte arrives. The difference is the software
//! time of a swipe, without the reader's own time or the poll interval.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The simulator's end of a reader link, noting when each "find" and
/// "select" command arrived and when the last piece of each read reply
/// was written (a simulator with real timing writes a reply in paced
/// chunks; an instant one in one piece).
pub struct Stamped<T> {
    pub inner: T,
    pub replies: Arc<Mutex<Vec<Instant>>>,
    pub commands: Arc<Mutex<Vec<(Instant, Command)>>>,
    /// The last command seen was a read: writes are its reply.
    in_read: bool,
}

/// A GA 467 command the reader sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Find,
    Select,
    Read,
}

impl<T> Stamped<T> {
    pub fn new(inner: T, replies: Arc<Mutex<Vec<Instant>>>) -> Self {
        Stamped {
            inner,
            replies,
            commands: Arc::default(),
            in_read: false,
        }
    }
}

/// The command in a chunk the reader sent (command frames are 10 bytes:
/// preamble, length 00 03, command, parameter, checksum).
fn command_in(buf: &[u8]) -> Option<Command> {
    buf.windows(4).find_map(|w| match w {
        [0x00, 0x03, 0x20, 0x01] => Some(Command::Find),
        [0x00, 0x03, 0x20, 0x02] => Some(Command::Select),
        [0x00, 0x03, 0x30, 0x01] => Some(Command::Read),
        _ => None,
    })
}

impl<T: Read> Read for Stamped<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(c) = command_in(&buf[..n]) {
            self.commands.lock().unwrap().push((Instant::now(), c));
            self.in_read = c == Command::Read;
            if self.in_read {
                self.replies.lock().unwrap().push(Instant::now());
            }
        }
        Ok(n)
    }
}

impl<T: Write> Write for Stamped<T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if self.in_read {
            if let Some(last) = self.replies.lock().unwrap().last_mut() {
                *last = Instant::now();
            }
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A printer on 127.0.0.1 that answers every status request "ready" and
/// notes when the first byte of each ticket (ESC @) arrives: its URI and
/// the arrival times.
pub fn printer() -> (String, Arc<Mutex<Vec<Instant>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let firsts = Arc::new(Mutex::new(Vec::new()));
    let f = firsts.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let f = f.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut prev: Vec<u8> = Vec::new();
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        return;
                    }
                    let now = Instant::now();
                    prev.extend_from_slice(&buf[..n]);
                    let mut i = 0;
                    while i < prev.len() {
                        if prev[i] == 0x10 && prev.get(i + 1) == Some(&0x04) && i + 2 < prev.len() {
                            let _ = s.write_all(&[0x12]);
                            i += 3;
                        } else if prev[i] == 0x1B && prev.get(i + 1) == Some(&0x40) {
                            f.lock().unwrap().push(now);
                            i += 2;
                        } else {
                            i += 1;
                        }
                    }
                    // Keep a possible partial DLE EOT for the next read.
                    let keep = prev.len().saturating_sub(2);
                    prev.drain(..keep.min(i));
                }
            });
        }
    });
    (format!("tcp://{addr}"), firsts)
}

/// The `p` quantile (0..=1) of `v`, in milliseconds.
pub fn quantile_ms(v: &mut [std::time::Duration], p: f64) -> f64 {
    v.sort();
    v[((v.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3
}
