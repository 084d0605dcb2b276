//! Driving a page script (`tests/browser/*.mjs`, playwright-core over
//! Debian's chromium) from a test: the script runs under node, asks the
//! harness for what only the test can do by printing `@@ {json}` lines and
//! reads one JSON answer per request on stdin; its last line says whether
//! every step passed. Node and every process under it are killed on drop.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// `tests/browser`, once it is known to hold playwright-core and chromium
/// is installed (`make deps`).
pub fn browser_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser"));
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "tests/browser has no node_modules: run `make deps` (npm ci --prefix tests/browser)"
    );
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "no /usr/bin/chromium: run `make deps` (packaging/test-packages.txt)"
    );
    dir
}

/// Where the scripts save their screenshots.
pub fn shots_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots"))
}

/// The node process and every process under it (chromium and its
/// helpers); killed and reaped on drop, whatever happened.
struct Node {
    child: Child,
}

impl Node {
    /// Every descendant of `pid`, from /proc.
    fn descendants(pid: u32) -> Vec<u32> {
        let mut parent_of = Vec::new();
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for e in dir.flatten() {
                let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                    continue;
                };
                let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                    continue;
                };
                // pid (comm) state ppid ...: comm may hold spaces.
                let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                    continue;
                };
                if let Some(ppid) = rest
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse::<u32>().ok())
                {
                    parent_of.push((p, ppid));
                }
            }
        }
        let mut out = Vec::new();
        let mut frontier = vec![pid];
        while let Some(p) = frontier.pop() {
            for &(c, pp) in &parent_of {
                if pp == p && !out.contains(&c) {
                    out.push(c);
                    frontier.push(c);
                }
            }
        }
        out
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // Children first, while they can still be found under node.
        for p in Self::descendants(self.child.id()) {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(p.to_string())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `script` (in `tests/browser`) with `env`, answering its `@@`
/// requests with `serve` (an error becomes `{"error": ...}`), for at most
/// `limit`. Returns how node ended and every line it printed.
pub fn drive(
    script: &str,
    env: &[(&str, String)],
    limit: Duration,
    mut serve: impl FnMut(&Value) -> Result<Value, String>,
) -> (ExitStatus, Vec<String>) {
    let mut cmd = Command::new("node");
    cmd.arg(browser_dir().join(script));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node (Node.js 20, as on the project's machines)");
    let stdout = child.stdout.take().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut node = Node { child };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + limit;
    let mut log = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                eprintln!("{line}");
                if let Some(req) = line.strip_prefix("@@ ") {
                    let req: Value = serde_json::from_str(req).unwrap();
                    let reply = serve(&req).unwrap_or_else(|e| json!({ "error": e }));
                    writeln!(stdin, "{reply}").unwrap();
                    stdin.flush().unwrap();
                }
                log.push(line);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!(
                    "the browser run took more than {limit:?}; last lines:\n{}",
                    log[log.len().saturating_sub(10)..].join("\n")
                )
            }
        }
    }
    let status = node.child.wait().unwrap();
    (status, log)
}
