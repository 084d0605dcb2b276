//! Byte transports to a printer, behind the object-safe [`Transport`] trait.
//! Every operation is bounded by a timeout; after an error the connection is
//! dropped and re-opened by the next operation.
//!
//! The file transport writes through escpos's `FileDriver`. TCP and serial
//! are our own: escpos's network driver has one timeout for connecting,
//! reading and writing, needs an IP literal and reports errors as text, and
//! its serial driver waits a fixed 5 s for an answer, so neither can report
//! a silent printer within the status timeout (ARCHITECTURE.md, "The ticket
//! printer and the escpos crate"; `drivers/tests/printer_escpos.rs`).

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use escpos::driver::{Driver, FileDriver};

use super::layout::PaperWidth;
use super::render::render_text;

/// A byte pipe to a printer. Implementations open their device lazily, on
/// the first operation after creation or after [`Transport::disconnect`].
pub trait Transport: Send {
    /// A short description of the device for logs, e.g. `tcp://10.0.0.5:9100`.
    fn describe(&self) -> String;
    /// Whether the device can answer `DLE EOT` (false for write-only devices).
    fn supports_status(&self) -> bool;
    /// Whether a connection is currently open (an operation on it may find
    /// it stale, e.g. after the printer restarted).
    fn is_connected(&self) -> bool;
    /// Sends all of `bytes`, opening the device first if needed, within the
    /// write timeout. On error the connection is dropped.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Reads one byte within the status timeout (`ErrorKind::TimedOut` when
    /// nothing came). On error the connection is dropped.
    fn read_byte(&mut self) -> io::Result<u8>;
    /// Drops input that nobody asked for (a late answer to an earlier request).
    fn discard_input(&mut self) -> io::Result<()>;
    /// Closes the connection; the next operation re-opens it.
    fn disconnect(&mut self);
}

fn timed_out(what: &str, after: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("{what}: no answer within {} ms", after.as_millis()),
    )
}

/// A network printer on a raw TCP port (usually 9100).
#[derive(Debug)]
pub struct TcpTransport {
    host: String,
    port: u16,
    connect_timeout: Duration,
    read_timeout: Duration,
    write_timeout: Duration,
    stream: Option<TcpStream>,
}

impl TcpTransport {
    /// A transport to `host:port`; the host name is resolved at each connect.
    pub fn new(host: &str, port: u16, connect: Duration, read: Duration, write: Duration) -> Self {
        TcpTransport {
            host: host.to_owned(),
            port,
            connect_timeout: connect,
            read_timeout: read,
            write_timeout: write,
            stream: None,
        }
    }

    fn stream(&mut self) -> io::Result<&mut TcpStream> {
        if self.stream.is_none() {
            let mut last = None;
            for addr in (self.host.as_str(), self.port).to_socket_addrs()? {
                match TcpStream::connect_timeout(&addr, self.connect_timeout) {
                    Ok(s) => {
                        s.set_read_timeout(Some(self.read_timeout))?;
                        s.set_write_timeout(Some(self.write_timeout))?;
                        s.set_nodelay(true)?;
                        tracing::debug!(%addr, "printer connected");
                        self.stream = Some(s);
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            if self.stream.is_none() {
                return Err(last.unwrap_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, "host name resolved to no address")
                }));
            }
        }
        self.stream
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl Transport for TcpTransport {
    fn describe(&self) -> String {
        if self.host.contains(':') {
            format!("tcp://[{}]:{}", self.host, self.port)
        } else {
            format!("tcp://{}:{}", self.host, self.port)
        }
    }

    fn supports_status(&self) -> bool {
        true
    }

    fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let write_timeout = self.write_timeout;
        let result = self
            .stream()
            .and_then(|s| s.write_all(bytes).and_then(|()| s.flush()));
        if let Err(e) = result {
            self.stream = None;
            return Err(match e.kind() {
                io::ErrorKind::WouldBlock => timed_out("write", write_timeout),
                _ => e,
            });
        }
        Ok(())
    }

    fn read_byte(&mut self) -> io::Result<u8> {
        let read_timeout = self.read_timeout;
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        let mut buf = [0u8; 1];
        let result = loop {
            match stream.read(&mut buf) {
                Ok(1) => return Ok(buf[0]),
                Ok(_) => {
                    break Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed by printer",
                    ))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    break Err(timed_out("read status", read_timeout))
                }
                Err(e) => break Err(e),
            }
        };
        self.stream = None;
        result
    }

    fn discard_input(&mut self) -> io::Result<()> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        stream.set_nonblocking(true)?;
        let mut buf = [0u8; 64];
        let outcome = loop {
            match stream.read(&mut buf) {
                Ok(0) => break Err(io::ErrorKind::UnexpectedEof),
                Ok(n) => tracing::debug!(bytes = n, "discarded unsolicited printer input"),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e.kind()),
            }
        };
        let restored = stream.set_nonblocking(false);
        if outcome.is_err() || restored.is_err() {
            // The peer closed or reset the connection (e.g. the printer was
            // restarted): drop it so that the next send reconnects.
            tracing::debug!("stale printer connection dropped");
            self.stream = None;
        }
        Ok(())
    }

    fn disconnect(&mut self) {
        self.stream = None;
    }
}

/// A serial printer (8N1). The port is opened exclusively and kept open.
pub struct SerialTransport {
    path: PathBuf,
    baud: u32,
    read_timeout: Duration,
    write_timeout: Duration,
    port: Option<Box<dyn serialport::SerialPort>>,
}

impl SerialTransport {
    /// A transport to the serial device at `path`.
    pub fn new(path: PathBuf, baud: u32, read: Duration, write: Duration) -> Self {
        SerialTransport {
            path,
            baud,
            read_timeout: read,
            write_timeout: write,
            port: None,
        }
    }

    fn port(&mut self) -> io::Result<&mut Box<dyn serialport::SerialPort>> {
        if self.port.is_none() {
            let port = serialport::new(self.path.to_string_lossy(), self.baud)
                .timeout(self.write_timeout)
                .open()
                .map_err(io::Error::from)?;
            tracing::debug!(path = %self.path.display(), baud = self.baud, "serial printer opened");
            self.port = Some(port);
        }
        self.port
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl Transport for SerialTransport {
    fn describe(&self) -> String {
        format!("serial://{}?baud={}", self.path.display(), self.baud)
    }

    fn supports_status(&self) -> bool {
        true
    }

    fn is_connected(&self) -> bool {
        self.port.is_some()
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let timeout = self.write_timeout;
        let result = self.port().and_then(|p| {
            p.set_timeout(timeout).map_err(io::Error::from)?;
            p.write_all(bytes)?;
            p.flush()
        });
        if result.is_err() {
            self.port = None;
        }
        result
    }

    fn read_byte(&mut self) -> io::Result<u8> {
        let timeout = self.read_timeout;
        let deadline = Instant::now() + timeout;
        let port = self
            .port
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        let mut buf = [0u8; 1];
        let result = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(timed_out("read status", timeout));
            }
            if let Err(e) = port.set_timeout(left) {
                break Err(io::Error::from(e));
            }
            match port.read(&mut buf) {
                Ok(1) => return Ok(buf[0]),
                // A short read: nothing yet, try again until the deadline.
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                    ) =>
                {
                    break Err(timed_out("read status", timeout))
                }
                Err(e) => break Err(e),
            }
        };
        // A timeout on a serial line does not mean the port is gone: keep it
        // open (it is exclusive) but drop whatever arrives late.
        match &result {
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {}
            _ => self.port = None,
        }
        result
    }

    fn discard_input(&mut self) -> io::Result<()> {
        if let Some(port) = self.port.as_mut() {
            if let Err(e) = port.clear(serialport::ClearBuffer::Input) {
                self.port = None;
                return Err(e.into());
            }
        }
        Ok(())
    }

    fn disconnect(&mut self) {
        self.port = None;
    }
}

struct FileWorker {
    jobs: mpsc::Sender<Vec<u8>>,
    results: mpsc::Receiver<io::Result<()>>,
}

/// A write-only printer device such as `/dev/usb/lp0`: it cannot answer
/// status. The bytes go through escpos's `FileDriver`, on a worker thread:
/// its writes have no timeout, so a device that stops taking data would
/// otherwise block the caller for as long as it likes; here the caller
/// waits at most the write timeout.
pub struct FileTransport {
    path: PathBuf,
    write_timeout: Duration,
    worker: Option<FileWorker>,
}

impl FileTransport {
    /// A transport to the device (or file) at `path`, opened for appending.
    pub fn new(path: PathBuf, write: Duration) -> Self {
        FileTransport {
            path,
            write_timeout: write,
            worker: None,
        }
    }

    fn spawn_worker(&self) -> io::Result<FileWorker> {
        let (job_tx, job_rx) = mpsc::channel::<Vec<u8>>();
        let (res_tx, res_rx) = mpsc::channel();
        let path = self.path.clone();
        thread::Builder::new()
            .name("printer-file".to_owned())
            .spawn(move || {
                let mut device = None;
                for job in job_rx {
                    let result = write_job(&path, &mut device, &job);
                    let failed = result.is_err();
                    if res_tx.send(result).is_err() || failed {
                        return;
                    }
                }
            })?;
        Ok(FileWorker {
            jobs: job_tx,
            results: res_rx,
        })
    }
}

/// One job through escpos's file driver, opened (write-only, appending) on
/// the first job. Its calls have no timeout: they run on the worker thread.
fn write_job(path: &Path, device: &mut Option<FileDriver>, job: &[u8]) -> io::Result<()> {
    let escpos_error = io::Error::other::<escpos::errors::PrinterError>;
    if device.is_none() {
        let write_only = OpenOptions::new().append(true).clone();
        *device = Some(FileDriver::open_with_options(path, &write_only).map_err(escpos_error)?);
    }
    let driver = device.as_ref().ok_or(io::ErrorKind::NotConnected)?;
    driver
        .write(job)
        .and_then(|()| driver.flush())
        .map_err(escpos_error)
}

impl Transport for FileTransport {
    fn describe(&self) -> String {
        format!("file://{}", self.path.display())
    }

    fn supports_status(&self) -> bool {
        false
    }

    fn is_connected(&self) -> bool {
        self.worker.is_some()
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.worker.is_none() {
            self.worker = Some(self.spawn_worker()?);
        }
        let worker = self
            .worker
            .as_ref()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        let result = match worker.jobs.send(bytes.to_vec()) {
            Err(_) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "printer writer stopped",
            )),
            Ok(()) => match worker.results.recv_timeout(self.write_timeout) {
                Ok(r) => r,
                Err(mpsc::RecvTimeoutError::Timeout) => Err(timed_out("write", self.write_timeout)),
                Err(mpsc::RecvTimeoutError::Disconnected) => Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "printer writer stopped",
                )),
            },
        };
        if result.is_err() {
            // A blocked worker is abandoned; it ends when its write returns.
            self.worker = None;
        }
        result
    }

    fn read_byte(&mut self) -> io::Result<u8> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "write-only printer device",
        ))
    }

    fn discard_input(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn disconnect(&mut self) {
        self.worker = None;
    }
}

/// Writes a human-readable rendering of each job (see
/// [`render_text`](super::render_text)) instead of bytes: for demos.
pub struct StdoutTransport {
    paper: PaperWidth,
    out: Box<dyn Write + Send>,
}

impl StdoutTransport {
    /// Renders to the process's standard output.
    pub fn new(paper: PaperWidth) -> Self {
        Self::with_writer(paper, Box::new(io::stdout()))
    }

    /// Renders to any writer (tests).
    pub fn with_writer(paper: PaperWidth, out: Box<dyn Write + Send>) -> Self {
        StdoutTransport { paper, out }
    }
}

impl Transport for StdoutTransport {
    fn describe(&self) -> String {
        "stdout".to_owned()
    }

    fn supports_status(&self) -> bool {
        false
    }

    fn is_connected(&self) -> bool {
        true
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out
            .write_all(render_text(bytes, self.paper).as_bytes())?;
        self.out.flush()
    }

    fn read_byte(&mut self) -> io::Result<u8> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "stdout has no status",
        ))
    }

    fn discard_input(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn disconnect(&mut self) {}
}
