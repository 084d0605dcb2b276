//! Rosters from a web server, end to end: ops `roster publish` into a
//! directory, a plain HTTP server (the harness's [`FileServer`]) serves it,
//! and the real daemon with `[roster] source` follows it: installs the
//! published roster, picks up a delta, resumes a cut download with a Range
//! request, asks with If-None-Match and downloads nothing again while the
//! index is unchanged, refuses a file with a wrong digest and an index with
//! a bad signature (the roster in use stays), and installs by itself once
//! an unreachable server answers.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::file_server::{FileServer, Seen};
use common::{eventually, free_port, TestHall, BIN, CIVIL};
use greenwave::roster::index::SignedIndex;
use greenwave_drivers::id_number::check_digit;

/// A valid ID number for person `i`.
fn id(i: u32) -> String {
    let first17 = format!("1101051960010{}{:03}", 1 + i % 9, i % 1000);
    let c = check_digit(first17.as_bytes()) as char;
    format!("{first17}{c}")
}

/// Ops' desk: keys, exports, prepared roster files, the published directory.
struct Ops {
    dir: tempfile::TempDir,
}

impl Ops {
    /// Keys, and the prepared files: v1 (people 1, 2), the delta 1→2
    /// (people 1, 3), v3 (people 4), and the delta 3→4 (people 4, 5).
    fn new() -> Ops {
        let o = Ops {
            dir: tempfile::tempdir().unwrap(),
        };
        o.ok(&["roster", "keygen", "--out", "keys"]);
        let lists: [(&str, &[u32]); 4] = [
            ("e1", &[1, 2]),
            ("e2", &[1, 3]),
            ("e3", &[4]),
            ("e4", &[4, 5]),
        ];
        for (name, people) in lists {
            let mut csv = "姓名,身份证号码,救助类别,有效期至\n".to_string();
            for p in people {
                csv += &format!("测试居民,{},低保,2099-12-31\n", id(*p));
            }
            std::fs::write(o.path(&format!("{name}.csv")), csv).unwrap();
        }
        o.prepare("e1.csv", "1", "v1.gwr", &[]);
        o.prepare("e2.csv", "2", "d2.gwr", &["--delta-from", "e1.csv"]);
        o.prepare("e3.csv", "3", "v3.gwr", &[]);
        o.prepare("e4.csv", "4", "d4.gwr", &["--delta-from", "e3.csv"]);
        o
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(BIN)
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "greenwave {args:?}: {out}{err}");
        out
    }

    fn prepare(&self, export: &str, version: &str, out: &str, extra: &[&str]) {
        let mut args = vec![
            "roster",
            "prepare",
            export,
            "--keys",
            "keys",
            "--version",
            version,
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        self.ok(&args);
    }

    /// `roster publish FILE www --signing-key keys/roster-signing.key`.
    fn publish(&self, file: &str) -> (i32, String, String) {
        self.publish_to(file, "www")
    }

    fn publish_to(&self, file: &str, dir: &str) -> (i32, String, String) {
        self.run(&[
            "roster",
            "publish",
            file,
            dir,
            "--signing-key",
            "keys/roster-signing.key",
        ])
    }

    /// Publishes `file` into a copy of the served directory, `stage`, and
    /// returns it: the test moves what it wants into `www` (the index
    /// last), so the daemon never sees the good state in between.
    fn stage(&self, file: &str) -> PathBuf {
        let stage = self.path("stage");
        let _ = std::fs::remove_dir_all(&stage);
        std::fs::create_dir_all(&stage).unwrap();
        for e in std::fs::read_dir(self.www()).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), stage.join(e.file_name())).unwrap();
        }
        let (code, out, err) = self.publish_to(file, "stage");
        assert_eq!(code, 0, "{out}{err}");
        stage
    }

    fn www(&self) -> PathBuf {
        self.path("www")
    }
}

/// A hall that trusts the ops keys and follows `source` every second.
fn hall(ops: &Ops, source: &str) -> TestHall {
    let keys = ops.path("keys");
    TestHall::builder()
        .services(&[CIVIL])
        .windows(&[(1, &["civil"])])
        .extra(&format!(
            "[roster]\npublic_key = \"{}\"\nhash_key = \"{}\"\nsource = \"{source}\"\nsource_interval = \"1s\"\n",
            keys.join("roster-public.key").display(),
            keys.join("roster-hash.key").display()
        ))
        .build()
}

/// The installed version, as `greenwave roster status` shows it.
fn version(hall: &TestHall) -> Option<u64> {
    let (_, out, _) = hall.cli(&["roster", "status"]);
    out.lines()
        .find(|l| l.starts_with("名单版本"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
}

/// `greenwave roster check`'s exit code for person `p` (0 listed, 1 not).
fn check(hall: &TestHall, p: u32) -> Option<i32> {
    hall.cli(&["roster", "check", &id(p)]).0.code()
}

fn wait_version(hall: &TestHall, want: u64, daemon: &common::Daemon, server: &FileServer) {
    eventually(
        Duration::from_secs(60),
        &format!("roster version {want} never installed"),
        || version(hall) == Some(want),
        || {
            format!(
                "requests {:?}\nlog:\n{}",
                server.requests(),
                daemon.stderr()
            )
        },
    );
}

/// Waits until the server has answered `n` more requests for index.json.
fn wait_index_rounds(server: &FileServer, n: usize) {
    let before = server.requests_for("index.json").len();
    eventually(
        Duration::from_secs(30),
        "the daemon stopped asking for index.json",
        || server.requests_for("index.json").len() >= before + n,
        || format!("{:?}", server.requests()),
    );
}

fn statuses(seen: &[Seen]) -> Vec<u16> {
    seen.iter().map(|s| s.status).collect()
}

/// Rewrites a file under another name, then renames it (as a web server
/// directory is updated).
fn replace(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

#[test]
fn publish_writes_a_signed_index_and_refuses_a_bad_file() {
    let ops = Ops::new();
    let public = greenwave::roster::load_public_key(&ops.path("keys/roster-public.key")).unwrap();
    let index = || {
        let bytes = std::fs::read(ops.www().join("index.json")).unwrap();
        SignedIndex::parse(&bytes).unwrap().verify(&public).unwrap()
    };

    let out = ops.ok(&[
        "roster",
        "publish",
        "v1.gwr",
        "www",
        "--signing-key",
        "keys/roster-signing.key",
    ]);
    assert!(
        out.contains("roster-1.gwr") && out.contains("full roster, version 1"),
        "{out}"
    );
    let i = index();
    let full = i.full.clone().unwrap();
    assert_eq!(
        (full.file.as_str(), full.version, full.base),
        ("roster-1.gwr", 1, None)
    );
    let published = std::fs::read(ops.www().join("roster-1.gwr")).unwrap();
    assert_eq!(published, std::fs::read(ops.path("v1.gwr")).unwrap());
    assert_eq!(full.size, published.len() as u64);
    use sha2::Digest;
    assert_eq!(full.sha256, hex::encode(sha2::Sha256::digest(&published)));
    assert!(i.deltas.is_empty());

    assert_eq!(ops.publish("d2.gwr").0, 0);
    let i = index();
    let d: Vec<_> = i
        .deltas
        .iter()
        .map(|d| (d.file.as_str(), d.base, d.version))
        .collect();
    assert_eq!(d, [("delta-1-2.gwr", Some(1), 2)]);
    assert!(i.published_at <= chrono::Utc::now());

    // A newer full roster: the deltas before it leave the index.
    let (code, out, err) = ops.publish("v3.gwr");
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("no longer listed") && out.contains("delta-1-2.gwr"),
        "{out}"
    );
    assert_eq!(ops.publish("d4.gwr").0, 0);
    let i = index();
    assert_eq!(i.full.as_ref().unwrap().file, "roster-3.gwr");
    let d: Vec<_> = i.deltas.iter().map(|d| d.file.as_str()).collect();
    assert_eq!(d, ["delta-3-4.gwr"]);
    assert_eq!(i.latest(), 4);
    let before = std::fs::read(ops.www().join("index.json")).unwrap();

    // Refusals name the file and say why; the directory stays as it was.
    let mut bytes = std::fs::read(ops.path("d4.gwr")).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x01;
    std::fs::write(ops.path("bad.gwr"), &bytes).unwrap();
    let (code, _, err) = ops.publish("bad.gwr");
    assert_eq!(code, 1);
    assert!(
        err.contains("bad.gwr") && err.contains("refused") && err.contains("digest"),
        "{err}"
    );
    let (code, _, err) = ops.publish("e1.csv");
    assert_eq!(code, 1);
    assert!(
        err.contains("e1.csv") && err.contains("not a greenwave roster file"),
        "{err}"
    );
    let (code, _, err) = ops.publish("v1.gwr");
    assert_eq!(code, 1);
    assert!(
        err.contains("v1.gwr")
            && err.contains("not newer than the published full roster version 3"),
        "{err}"
    );
    // Signed by another ops key.
    ops.ok(&["roster", "keygen", "--out", "other"]);
    ops.ok(&[
        "roster",
        "prepare",
        "e4.csv",
        "--keys",
        "other",
        "--version",
        "5",
        "--out",
        "foreign.gwr",
    ]);
    let (code, _, err) = ops.publish("foreign.gwr");
    assert_eq!(code, 1);
    assert!(
        err.contains("foreign.gwr") && err.contains("signature"),
        "{err}"
    );
    assert_eq!(std::fs::read(ops.www().join("index.json")).unwrap(), before);
    let mut names: Vec<String> = std::fs::read_dir(ops.www())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "delta-1-2.gwr",
            "delta-3-4.gwr",
            "index.json",
            "roster-1.gwr",
            "roster-3.gwr"
        ]
    );
}

#[test]
fn a_hall_follows_its_source_resuming_a_cut_download() {
    let ops = Ops::new();
    assert_eq!(ops.publish("v1.gwr").0, 0);
    let server = FileServer::start(&ops.www());
    let hall = hall(&ops, &server.url());
    let daemon = hall.start();

    wait_version(&hall, 1, &daemon, &server);
    let first = &server.requests()[0];
    assert_eq!((first.file.as_str(), first.status), ("index.json", 200));
    assert_eq!(first.header("if-none-match"), None);
    assert_eq!(check(&hall, 2), Some(0));

    // Unchanged index: asked with its ETag, answered 304, nothing downloaded again.
    wait_index_rounds(&server, 2);
    let index = server.requests_for("index.json");
    let last = index.last().unwrap();
    assert_eq!(last.status, 304, "{index:?}");
    assert!(last
        .header("if-none-match")
        .is_some_and(|e| e.starts_with('"')));
    assert_eq!(statuses(&server.requests_for("roster-1.gwr")), [200]);

    // A delta, whose first download the server cuts after 100 bytes.
    server.cut_next_download("delta-1-2.gwr", 100);
    assert_eq!(ops.publish("d2.gwr").0, 0);
    wait_version(&hall, 2, &daemon, &server);
    let delta = server.requests_for("delta-1-2.gwr");
    assert_eq!(statuses(&delta), [200, 206], "{delta:?}");
    assert_eq!(delta[0].header("range"), None);
    assert_eq!(delta[1].header("range"), Some("bytes=100-"));
    assert_eq!(check(&hall, 3), Some(0), "added by the delta");
    assert_eq!(check(&hall, 2), Some(1), "removed by the delta");
    let (_, status, _) = hall.cli(&["roster", "status"]);
    assert!(status.contains(&server.url()), "{status}");

    // Nothing but file names and versions in the log.
    let log = daemon.stderr();
    assert!(log.contains("delta-1-2.gwr"), "{log}");
    for p in 1..=3 {
        assert!(!log.contains(&id(p)), "an ID number in the log:\n{log}");
    }
    assert!(!log.contains("测试居民"));
    // Nothing is left behind once the import has returned (the roster is
    // switched in a moment before the downloaded file is removed).
    let source = hall.data_dir().join("source");
    eventually(
        Duration::from_secs(10),
        "files left in the download directory",
        || std::fs::read_dir(&source).unwrap().count() == 0,
        || {
            format!(
                "{:?}",
                std::fs::read_dir(&source).unwrap().collect::<Vec<_>>()
            )
        },
    );
}

#[test]
fn a_server_without_ranges_sends_the_whole_file_again() {
    let ops = Ops::new();
    assert_eq!(ops.publish("v1.gwr").0, 0);
    let server = FileServer::start(&ops.www());
    server.ignore_ranges();
    server.cut_next_download("roster-1.gwr", 150);
    let hall = hall(&ops, &server.url());
    let daemon = hall.start();
    wait_version(&hall, 1, &daemon, &server);
    let full = server.requests_for("roster-1.gwr");
    assert_eq!(statuses(&full), [200, 200], "{full:?}");
    assert_eq!(full[1].header("range"), Some("bytes=150-"));
    assert_eq!(check(&hall, 1), Some(0));
}

#[test]
fn a_wrong_digest_or_a_bad_signature_installs_nothing() {
    let ops = Ops::new();
    assert_eq!(ops.publish("v1.gwr").0, 0);
    let server = FileServer::start(&ops.www());
    let hall = hall(&ops, &server.url());
    let daemon = hall.start();
    wait_version(&hall, 1, &daemon, &server);

    // The published delta is damaged on the server: its digest is wrong.
    // (Published aside, so that the daemon never sees the good file.)
    let stage = ops.stage("d2.gwr");
    let mut bytes = std::fs::read(stage.join("delta-1-2.gwr")).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x01;
    replace(&ops.www().join("delta-1-2.gwr"), &bytes);
    let index = ops.www().join("index.json");
    replace(&index, &std::fs::read(stage.join("index.json")).unwrap());
    eventually(
        Duration::from_secs(30),
        "the wrong digest was never reported",
        || {
            daemon
                .stderr()
                .contains("delta-1-2.gwr: downloaded file does not match the index")
        },
        || daemon.stderr(),
    );
    // Not downloaded again while the index stays the same; v1 in use.
    wait_index_rounds(&server, 2);
    assert_eq!(server.requests_for("delta-1-2.gwr").len(), 1);
    assert_eq!(version(&hall), Some(1));
    assert_eq!(check(&hall, 2), Some(0));

    // A new index whose signature does not verify.
    let stage = ops.stage("v3.gwr");
    std::fs::copy(stage.join("roster-3.gwr"), ops.www().join("roster-3.gwr")).unwrap();
    let good = std::fs::read_to_string(stage.join("index.json")).unwrap();
    let mut signed = SignedIndex::parse(good.as_bytes()).unwrap();
    let altered = signed.index.replace("\"version\":3", "\"version\":30");
    assert_ne!(altered, signed.index);
    signed.index = altered;
    replace(&index, signed.to_json().as_bytes());
    eventually(
        Duration::from_secs(30),
        "the bad signature was never reported",
        || daemon.stderr().contains("signature does not verify"),
        || daemon.stderr(),
    );
    wait_index_rounds(&server, 2);
    assert!(server.requests_for("roster-3.gwr").is_empty());
    assert_eq!(version(&hall), Some(1));
    let log = daemon.stderr();
    assert_eq!(
        log.matches("signature does not verify").count(),
        1,
        "logged once:\n{log}"
    );

    // The good index back: the full roster 3 replaces roster 1.
    replace(&index, good.as_bytes());
    wait_version(&hall, 3, &daemon, &server);
    assert_eq!(check(&hall, 4), Some(0));
}

#[test]
fn an_unreachable_source_is_retried_until_it_answers() {
    let ops = Ops::new();
    assert_eq!(ops.publish("v1.gwr").0, 0);
    let port = free_port();
    let hall = hall(&ops, &format!("http://127.0.0.1:{port}/greenwave"));
    let daemon = hall.start();
    eventually(
        Duration::from_secs(30),
        "the unreachable source was never reported",
        || daemon.stderr().contains("roster source unreachable"),
        || daemon.stderr(),
    );
    assert_eq!(version(&hall), None);

    let server = FileServer::start_on(&ops.www(), port);
    wait_version(&hall, 1, &daemon, &server);
    let log = daemon.stderr();
    assert_eq!(
        log.matches("roster source unreachable").count(),
        1,
        "logged once:\n{log}"
    );
    assert!(log.contains("roster source reachable"), "{log}");
}

#[test]
fn config_check_names_a_bad_source() {
    let cases = [
        ("source = \"ftp://ops/greenwave/\"", "roster.source"),
        (
            "source = \"http://ops/g/\"\nsource_interval = \"soon\"",
            "roster.source_interval",
        ),
        (
            "source = \"http://ops/g/\"\nsource_interval = \"0s\"",
            "between 1s and 24h",
        ),
        ("source_interval = \"1m\"", "roster.source is not"),
    ];
    for (roster, expected) in cases {
        let hall = TestHall::builder()
            .extra(&format!(
                "[roster]\npublic_key = \"roster-public.key\"\nhash_key = \"roster-hash.key\"\n{roster}\n"
            ))
            .build();
        let (status, out, err) = hall.cli(&["config", "check"]);
        assert!(!status.success(), "{roster}: {out}");
        assert!(err.contains(expected), "{roster}: {err}");
    }
}
