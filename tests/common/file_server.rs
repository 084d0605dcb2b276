//! A plain web server for one directory, the way ops serve published
//! rosters with nginx: `GET /greenwave/NAME` answers the file with an ETag
//! (a matching `If-None-Match` gets 304), and `Range: bytes=N-` gets 206.
//! It can be told to cut the first download of a file after some bytes,
//! and it records every request it saw. Plain std sockets on a thread of
//! its own, one connection at a time, `Connection: close`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// The URL path the directory is served under.
pub const PREFIX: &str = "/greenwave/";

/// One request as the server saw it, and its answer's status.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The file asked for (the path after [`PREFIX`]).
    pub file: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The status answered.
    pub status: u16,
}

impl Seen {
    /// A request header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    seen: Mutex<Vec<Seen>>,
    /// File → bytes after which its next download is cut.
    cuts: Mutex<HashMap<String, usize>>,
    /// Answer every Range request with the whole file (200).
    no_ranges: AtomicBool,
}

/// The running server; stopped on drop.
pub struct FileServer {
    dir: PathBuf,
    port: u16,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FileServer {
    /// Serves `dir` on a free port of 127.0.0.1.
    pub fn start(dir: &Path) -> FileServer {
        FileServer::start_on(dir, 0)
    }

    /// Serves `dir` on 127.0.0.1:`port` (0: any free port).
    pub fn start_on(dir: &Path, port: u16) -> FileServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (d, sh, st) = (dir.to_path_buf(), shared.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, &d, &sh),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FileServer {
            dir: dir.to_path_buf(),
            port,
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// The directory's URL, as `[roster] source` takes it.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}{PREFIX}", self.port)
    }

    /// The served directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The next download of `file` sends its headers (the whole length)
    /// and `after` bytes of the body, then closes the connection.
    pub fn cut_next_download(&self, file: &str, after: usize) {
        self.shared
            .cuts
            .lock()
            .unwrap()
            .insert(file.to_string(), after);
    }

    /// From now on, answer a Range request with the whole file (200), as
    /// a server without range support does.
    pub fn ignore_ranges(&self) {
        self.shared.no_ranges.store(true, Ordering::SeqCst);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// The requests for `file`.
    pub fn requests_for(&self, file: &str) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|s| s.file == file)
            .collect()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request's head: (path, lower-case headers).
fn read_head(stream: &mut TcpStream) -> Option<(String, Vec<(String, String)>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 || head.len() > 16 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let path = lines.next()?.split_whitespace().nth(1)?.to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((path, headers))
}

fn serve(mut stream: TcpStream, dir: &Path, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some((path, headers)) = read_head(&mut stream) else {
        return;
    };
    let file = path.strip_prefix(PREFIX).unwrap_or("").to_string();
    let seen = Seen {
        file: file.clone(),
        headers,
        status: 0,
    };
    let plain = !file.is_empty() && !file.contains('/') && !file.starts_with('.');
    let body = if plain {
        std::fs::read(dir.join(&file)).ok()
    } else {
        None
    };
    let Some(body) = body else {
        record(shared, seen, 404);
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..16]);
    let len = body.len();
    let ranges = !shared.no_ranges.load(Ordering::SeqCst);
    let (status, from, extra) = answer(&seen, &etag, len, ranges);
    record(shared, seen, status);
    let reason = match status {
        200 => "OK",
        206 => "Partial Content",
        304 => "Not Modified",
        _ => "Range Not Satisfiable",
    };
    let payload: &[u8] = if matches!(status, 200 | 206) {
        &body[from..]
    } else {
        &[]
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nETag: {etag}\r\nAccept-Ranges: bytes\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    );
    let cut = if payload.is_empty() {
        None
    } else {
        shared.cuts.lock().unwrap().remove(&file)
    };
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&payload[..cut.unwrap_or(payload.len()).min(payload.len())]);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

/// (status, first byte of the body, extra header lines) for a file of
/// `len` bytes with `etag`.
fn answer(seen: &Seen, etag: &str, len: usize, ranges: bool) -> (u16, usize, String) {
    if seen.header("if-none-match") == Some(etag) {
        return (304, 0, String::new());
    }
    let from = seen
        .header("range")
        .filter(|_| ranges)
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok());
    match from {
        Some(n) if n < len => (
            206,
            n,
            format!("Content-Range: bytes {n}-{}/{len}\r\n", len - 1),
        ),
        Some(_) => (416, 0, format!("Content-Range: bytes */{len}\r\n")),
        None => (200, 0, String::new()),
    }
}

fn record(shared: &Shared, mut seen: Seen, status: u16) {
    seen.status = status;
    shared.seen.lock().unwrap().push(seen);
}
