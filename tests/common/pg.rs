//! A throw-away PostgreSQL for the city tests: Debian's `postgresql`
//! package (installed by `make test` through packaging/deps.sh), a cluster
//! made by `initdb` in a temporary directory, listening on 127.0.0.1 only,
//! stopped and removed when dropped. PostgreSQL refuses to run as root: as
//! root the harness runs it as an unprivileged system user
//! (`greenwave-pgtest`, created once if missing). The benches include
//! this file too (`#[path]`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PG_USER: &str = "greenwave-pgtest";

/// A running cluster.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// The port on 127.0.0.1.
    pub port: u16,
}

fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: run packaging/deps.sh (make test does)")
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no initdb under /usr/lib/postgresql/*/bin")
        .1
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Makes the unprivileged user if it is missing (two tests racing: the
/// loser finds it made).
fn ensure_user() {
    let exists = || {
        Command::new("id")
            .arg("-u")
            .arg(PG_USER)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if exists() {
        return;
    }
    let _ = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            PG_USER,
        ])
        .status();
    assert!(
        exists(),
        "could not create the user {PG_USER} for PostgreSQL"
    );
}

impl Postgres {
    /// Starts a fresh cluster.
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("greenwave-pg")
            .tempdir()
            .unwrap();
        if is_root() {
            ensure_user();
            chown(dir.path());
        }
        let data = dir.path().join("data");
        let out = as_pg(&bin.join("initdb"))
            .args([
                "-D",
                data.to_str().unwrap(),
                "-U",
                "greenwave",
                "--auth=trust",
            ])
            .args(["-E", "UTF8", "--no-locale", "--no-sync"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A port may be taken between choosing it and binding it: retry.
        for _ in 0..5 {
            let port = free_port();
            if start_server(&bin, dir.path(), port) {
                return Postgres { dir, bin, port };
            }
        }
        panic!("PostgreSQL did not start");
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The URL to connect with.
    pub fn url(&self) -> String {
        format!("postgres://greenwave@127.0.0.1:{}/postgres", self.port)
    }

    /// Kills the server at once (`immediate`: no shutdown checkpoint, as a
    /// crash would).
    pub fn kill(&self) {
        let _ = as_pg(&self.bin.join("pg_ctl"))
            .args([
                "-D",
                self.data().to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }

    /// Starts it again on the same port.
    pub fn restart(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !start_server(&self.bin, self.dir.path(), self.port) {
            assert!(Instant::now() < deadline, "PostgreSQL did not restart");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The server's log, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Runs SQL through psql and returns its unaligned output.
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "greenwave",
            ])
            .args(["-d", "postgres", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// The server's settings beyond the address: the tests trade durability
/// for speed (a killed server may lose acknowledged commits, which the
/// hall detects and repairs: tests/city.rs); `GREENWAVE_PG_DURABLE=1`
/// (the benches) keeps PostgreSQL's defaults.
fn settings() -> &'static str {
    if std::env::var_os("GREENWAVE_PG_DURABLE").is_some() {
        ""
    } else {
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    }
}

fn start_server(bin: &Path, dir: &Path, port: u16) -> bool {
    let opts = format!(
        "-c listen_addresses=127.0.0.1 -p {port} -k {}{}",
        dir.display(),
        settings()
    );
    as_pg(&bin.join("pg_ctl"))
        .args(["-D", dir.join("data").to_str().unwrap(), "-l"])
        .arg(dir.join("log"))
        .args(["-o", &opts, "-w", "-t", "30", "start"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn as_pg(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", PG_USER, "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn chown(dir: &Path) {
    let ok = Command::new("chown")
        .arg(PG_USER)
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "chown {PG_USER} {}", dir.display());
}
