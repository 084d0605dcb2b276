//! A simulated ESC/POS printer for tests and demos.
//!
//! [`PrinterSim`] listens on `127.0.0.1` (never another interface), answers
//! `DLE EOT n` according to a [`SimState`] that can change while it runs,
//! and records every job (the bytes up to and including a cut) for tests to
//! inspect. [`serve_stream`] runs the same printer over any `Read + Write`
//! (e.g. one end of a pty pair, for serial tests).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// What the simulated printer answers to `DLE EOT n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimState {
    /// `12 12 12`.
    Ready,
    /// `12 12 1E`: prints, roll nearly used up.
    PaperNearEnd,
    /// `1A 32 7E`, as a real printer without paper.
    PaperOut,
    /// `1A 16 12`: offline because the cover is open.
    CoverOpen,
    /// `1A 12 12`: offline for another reason.
    Offline,
    /// Reads everything, answers nothing (a hung printer).
    Silent,
}

impl SimState {
    /// The byte answered to `DLE EOT n`, or `None` when silent.
    pub fn reply(self, n: u8) -> Option<u8> {
        let [p, o, r] = match self {
            SimState::Ready => [0x12, 0x12, 0x12],
            SimState::PaperNearEnd => [0x12, 0x12, 0x1E],
            SimState::PaperOut => [0x1A, 0x32, 0x7E],
            SimState::CoverOpen => [0x1A, 0x16, 0x12],
            SimState::Offline => [0x1A, 0x12, 0x12],
            SimState::Silent => return None,
        };
        Some(match n {
            1 => p,
            2 => o,
            4 => r,
            _ => 0x12,
        })
    }
}

#[derive(Debug)]
struct Inner {
    state: SimState,
    jobs: Vec<Vec<u8>>,
    incomplete: Vec<Vec<u8>>,
    status_requests: usize,
    connections: usize,
    streams: Vec<TcpStream>,
    handlers: Vec<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    inner: Mutex<Inner>,
    changed: Condvar,
}

/// A handle on a running simulated printer: change its state, look at what
/// it received. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SimControl {
    shared: Arc<Shared>,
}

impl SimControl {
    fn new(state: SimState) -> Self {
        SimControl {
            shared: Arc::new(Shared {
                inner: Mutex::new(Inner {
                    state,
                    jobs: Vec::new(),
                    incomplete: Vec::new(),
                    status_requests: 0,
                    connections: 0,
                    streams: Vec::new(),
                    handlers: Vec::new(),
                }),
                changed: Condvar::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes what the printer answers from now on (e.g. paper loaded).
    pub fn set_state(&self, state: SimState) {
        self.lock().state = state;
    }

    /// The current state.
    pub fn state(&self) -> SimState {
        self.lock().state
    }

    /// Every complete job received so far (bytes up to and including a cut,
    /// status requests removed).
    pub fn jobs(&self) -> Vec<Vec<u8>> {
        self.lock().jobs.clone()
    }

    /// Bytes of connections that closed before a cut.
    pub fn incomplete_jobs(&self) -> Vec<Vec<u8>> {
        self.lock().incomplete.clone()
    }

    /// How many `DLE EOT n` requests arrived.
    pub fn status_requests(&self) -> usize {
        self.lock().status_requests
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.lock().connections
    }

    /// Waits until at least `n` jobs arrived, or `timeout` elapsed; returns
    /// the jobs received by then.
    pub fn wait_for_jobs(&self, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut inner = self.lock();
        while inner.jobs.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            inner = match self.shared.changed.wait_timeout(inner, left) {
                Ok((guard, _)) => guard,
                Err(p) => p.into_inner().0,
            };
        }
        inner.jobs.clone()
    }

    /// Waits until at least `n` status requests arrived, or `timeout`
    /// elapsed; returns the count.
    pub fn wait_for_status_requests(&self, n: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let mut inner = self.lock();
        while inner.status_requests < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            inner = match self.shared.changed.wait_timeout(inner, left) {
                Ok((guard, _)) => guard,
                Err(p) => p.into_inner().0,
            };
        }
        inner.status_requests
    }

    fn update(&self, f: impl FnOnce(&mut Inner)) {
        f(&mut self.lock());
        self.shared.changed.notify_all();
    }

    /// Serves one byte stream until it closes or fails.
    fn serve<S: Read + Write>(&self, mut stream: S) {
        let mut parser = Parser::default();
        let mut buf = [0u8; 4096];
        loop {
            let n = match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue
                }
                Err(_) => break,
            };
            for event in parser.feed(&buf[..n]) {
                match event {
                    Event::Status(n) => {
                        let mut reply = None;
                        self.update(|inner| {
                            inner.status_requests += 1;
                            reply = inner.state.reply(n);
                        });
                        if let Some(b) = reply {
                            if stream
                                .write_all(&[b])
                                .and_then(|()| stream.flush())
                                .is_err()
                            {
                                return;
                            }
                        }
                    }
                    Event::Job(bytes) => self.update(|inner| inner.jobs.push(bytes)),
                }
            }
        }
        let rest = parser.into_rest();
        if !rest.is_empty() {
            self.update(|inner| inner.incomplete.push(rest));
        }
    }
}

enum Event {
    Status(u8),
    Job(Vec<u8>),
}

/// Splits a byte stream into status requests and jobs, command by command
/// (so that a `10` inside a parameter or QR data is not taken for `DLE`).
#[derive(Default)]
struct Parser {
    pending: Vec<u8>,
    job: Vec<u8>,
}

impl Parser {
    fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut i = 0;
        let p = &self.pending;
        while i < p.len() {
            let rest = &p[i..];
            // Length of the command at `i`; None: wait for more bytes.
            let len = match rest {
                [0x10, 0x04, n, ..] => {
                    events.push(Event::Status(*n));
                    i += 3;
                    continue;
                }
                [0x10] | [0x10, 0x04] => None,
                [0x1D, b'(', _, pl, ph, ..] => Some(5 + (usize::from(*pl) | usize::from(*ph) << 8)),
                [0x1D, b'(', ..] | [0x1D, b'V'] => None,
                [0x1D, b'V', 0x41 | 0x42, ..] => {
                    if rest.len() < 4 {
                        None
                    } else {
                        self.job.extend_from_slice(&rest[..4]);
                        events.push(Event::Job(std::mem::take(&mut self.job)));
                        i += 4;
                        continue;
                    }
                }
                [0x1D, b'V', _, ..] => {
                    self.job.extend_from_slice(&rest[..3]);
                    events.push(Event::Job(std::mem::take(&mut self.job)));
                    i += 3;
                    continue;
                }
                [0x1B | 0x1D, b'a' | b'!' | b'B' | b'd' | b'E' | b'-', ..] => Some(3),
                [0x1B..=0x1D, ..] => Some(2),
                _ => Some(1),
            };
            match len {
                Some(len) if rest.len() >= len => {
                    self.job.extend_from_slice(&rest[..len]);
                    i += len;
                }
                _ => break,
            }
        }
        self.pending.drain(..i);
        events
    }

    fn into_rest(mut self) -> Vec<u8> {
        self.job.append(&mut self.pending);
        self.job
    }
}

/// A simulated network printer on `127.0.0.1`. Dropping it closes the
/// listener and every connection (as a printer switched off would).
#[derive(Debug)]
pub struct PrinterSim {
    control: SimControl,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl PrinterSim {
    /// Starts a printer on `127.0.0.1` and a free port.
    pub fn start(state: SimState) -> io::Result<PrinterSim> {
        Self::start_on(0, state)
    }

    /// Starts a printer on `127.0.0.1:port` (e.g. the port of a printer that
    /// was dropped, to simulate a restart).
    pub fn start_on(port: u16, state: SimState) -> io::Result<PrinterSim> {
        let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))?;
        let addr = listener.local_addr()?;
        let control = SimControl::new(state);
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let control = control.clone();
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name("printer-sim".to_owned())
                .spawn(move || accept_loop(listener, control, stop))?
        };
        tracing::debug!(%addr, "printer simulator listening");
        Ok(PrinterSim {
            control,
            addr,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The printer URI to configure, `tcp://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("tcp://{}", self.addr)
    }

    /// A handle that outlives the simulator (to inspect jobs after a drop).
    pub fn control(&self) -> SimControl {
        self.control.clone()
    }
}

impl Deref for PrinterSim {
    type Target = SimControl;
    fn deref(&self) -> &SimControl {
        &self.control
    }
}

fn accept_loop(listener: TcpListener, control: SimControl, stop: Arc<AtomicBool>) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let Ok(clone) = stream.try_clone() else {
            continue;
        };
        let handler_control = control.clone();
        let handler = thread::Builder::new()
            .name("printer-sim-conn".to_owned())
            .spawn(move || handler_control.serve(stream));
        control.update(|inner| {
            inner.connections += 1;
            inner.streams.push(clone);
            if let Ok(h) = handler {
                inner.handlers.push(h);
            }
        });
    }
}

impl Drop for PrinterSim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor blocked in accept().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let (streams, handlers) = {
            let mut inner = self.control.lock();
            (
                std::mem::take(&mut inner.streams),
                std::mem::take(&mut inner.handlers),
            )
        };
        for s in &streams {
            let _ = s.shutdown(Shutdown::Both);
        }
        for h in handlers {
            let _ = h.join();
        }
    }
}

/// Runs a simulated printer over any byte stream (e.g. the far end of a pty
/// pair) on a background thread that ends when the stream closes or fails.
pub fn serve_stream<S>(stream: S, state: SimState) -> io::Result<SimControl>
where
    S: Read + Write + Send + 'static,
{
    let control = SimControl::new(state);
    let handler_control = control.clone();
    thread::Builder::new()
        .name("printer-sim-stream".to_owned())
        .spawn(move || handler_control.serve(stream))?;
    Ok(control)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(parser: &mut Parser, bytes: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
        let mut status = Vec::new();
        let mut jobs = Vec::new();
        for event in parser.feed(bytes) {
            match event {
                Event::Status(n) => status.push(n),
                Event::Job(j) => jobs.push(j),
            }
        }
        (status, jobs)
    }

    #[test]
    fn splits_status_requests_from_jobs_across_reads() {
        let mut stream = vec![0x10, 0x04, 0x01, 0x1B, b'@', 0x1D, b'!', 0x10, b'A', 0x0A];
        stream.extend_from_slice(&[0x10, 0x04, 0x04, 0x1D, b'V', 0x42, 0x30]);
        let mut parser = Parser::default();
        let (mut status, mut jobs) = (Vec::new(), Vec::new());
        for b in &stream {
            let (s, j) = run(&mut parser, std::slice::from_ref(b));
            status.extend(s);
            jobs.extend(j);
        }
        assert_eq!(status, vec![1, 4]);
        assert_eq!(
            jobs,
            vec![vec![
                0x1B, b'@', 0x1D, b'!', 0x10, b'A', 0x0A, 0x1D, b'V', 0x42, 0x30
            ]]
        );
        assert!(parser.into_rest().is_empty());
    }

    #[test]
    fn qr_data_is_not_taken_for_commands() {
        // pL pH = 10 04: a length, not DLE EOT.
        let data = vec![b'x'; 0x0410 - 3];
        let mut stream = vec![0x1D, b'(', b'k', 0x10, 0x04, 0x31, 0x50, 0x30];
        stream.extend_from_slice(&data);
        stream.extend_from_slice(&[0x1D, b'V', 0x41, 0x00]);
        let (status, jobs) = run(&mut Parser::default(), &stream);
        assert!(status.is_empty());
        assert_eq!(jobs, vec![stream]);
    }

    #[test]
    fn replies_follow_the_protocol_table() {
        assert_eq!(
            [1, 2, 4].map(|n| SimState::PaperOut.reply(n)),
            [Some(0x1A), Some(0x32), Some(0x7E)]
        );
        assert_eq!(SimState::Ready.reply(2), Some(0x12));
        assert_eq!(SimState::Silent.reply(1), None);
    }
}
