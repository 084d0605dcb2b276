//! The roster end to end through the real binary: keygen → prepare (CSV,
//! GB18030 CSV, xlsx) → import → check, deltas, every refusal with its
//! message while the old roster keeps serving, a killed import, and the
//! privacy promise (no ID number or name anywhere on the hall's disk or in
//! its logs).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{TestHall, BIN, CIVIL};
use greenwave_drivers::id_number::check_digit;

/// A valid ID number for person `i`.
fn id(i: u32) -> String {
    let first17 = format!(
        "110105{}{:03}",
        19600101 + (i % 28) + 100 * (i / 28 % 12),
        i % 1000
    );
    let c = check_digit(first17.as_bytes()) as char;
    format!("{first17}{c}")
}

fn name(i: u32) -> String {
    format!(
        "测试居民{}",
        ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛"][i as usize % 8]
    )
}

/// (name, id, category, valid_to)
type Row = (String, String, &'static str, &'static str);

fn rows(ids: &[u32], category: &'static str) -> Vec<Row> {
    ids.iter()
        .map(|i| (name(*i), id(*i), category, "2099-12-31"))
        .collect()
}

fn csv(rows: &[Row]) -> String {
    let mut s = "姓名,身份证号码,救助类别,有效期至\n".to_string();
    for (n, i, c, v) in rows {
        s += &format!("{n},{i},{c},{v}\n");
    }
    s
}

struct Ops {
    dir: tempfile::TempDir,
}

impl Ops {
    fn new() -> Ops {
        let o = Ops {
            dir: tempfile::tempdir().unwrap(),
        };
        let (ok, out, err) = o.run(&["roster", "keygen", "--out", "keys"]);
        assert!(ok, "{out}{err}");
        o
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(BIN)
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn prepare(
        &self,
        export: &str,
        version: u64,
        out: &str,
        extra: &[&str],
    ) -> (bool, String, String) {
        let v = version.to_string();
        let mut args = vec![
            "roster",
            "prepare",
            export,
            "--keys",
            "keys",
            "--version",
            &v,
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }
}

/// A hall that trusts the ops keys.
struct HallSide {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl HallSide {
    fn new(ops: &Ops, require_signature: bool) -> HallSide {
        HallSide::with(ops, require_signature, "")
    }

    /// `roster_extra` is added to the [roster] table.
    fn with(ops: &Ops, require_signature: bool, roster_extra: &str) -> HallSide {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("greenwave.toml");
        let keys = ops.path("keys");
        TestHall::builder()
            .services(&[CIVIL])
            .windows(&[(1, &["civil"])])
            .manager_token(None)
            .extra(&format!(
                r#"[roster]
public_key = "{}"
hash_key = "{}"
require_signature = {require_signature}
{roster_extra}"#,
                keys.join("roster-public.key").display(),
                keys.join("roster-hash.key").display()
            ))
            .write(&config);
        HallSide { dir, config }
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn import(&self, file: &Path) -> (i32, String, String) {
        self.run(&["roster", "import", file.to_str().unwrap()])
    }

    fn version(&self) -> Option<u64> {
        let (_, out, _) = self.run(&["roster", "status"]);
        // Both times in one format (the hall's local time).
        for key in ["制作时间", "安装时间"] {
            if let Some(l) = out.lines().find(|l| l.starts_with(key)) {
                let t = l[key.len()..].trim();
                assert!(
                    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").is_ok(),
                    "{key} {t:?}"
                );
            }
        }
        out.lines()
            .find(|l| l.starts_with("名单版本"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
    }

    /// (exit code, output) of `roster check`.
    fn check(&self, id: &str) -> (i32, String) {
        let (code, out, err) = self.run(&["roster", "check", id]);
        (code, format!("{out}{err}"))
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

#[test]
fn round_trip_csv_gb18030_and_xlsx() {
    let ops = Ops::new();
    let hall = HallSide::new(&ops, true);

    // v1: UTF-8 CSV.
    ops.write("v1.csv", &csv(&rows(&[1, 2, 3], "低保")));
    let (ok, out, err) = ops.prepare("v1.csv", 1, "v1.gwr", &[]);
    assert!(ok, "{out}{err}");
    let (code, out, err) = hall.import(&ops.path("v1.gwr"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("版本 1"), "{out}");
    let (code, out) = hall.check(&id(2));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("在名单内") && out.contains("低保") && out.contains("可走绿波通道"),
        "{out}"
    );
    assert!(
        !out.contains(&id(2)),
        "the full number must not be printed: {out}"
    );
    assert!(out.contains("1101**********"), "{out}");
    let (code, out) = hall.check(&id(9));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("不在名单内"), "{out}");

    // v2: GB18030 CSV with other header names.
    let text = csv(&rows(&[4, 5], "特困"))
        .replace("身份证号码", "证件号码")
        .replace("救助类别", "人员类别");
    let (gb, _, _) = encoding_rs::GB18030.encode(&text);
    std::fs::write(ops.path("v2.csv"), &gb).unwrap();
    let (ok, out, err) = ops.prepare("v2.csv", 2, "v2.gwr", &[]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("GB18030"), "{out}");
    assert_eq!(hall.import(&ops.path("v2.gwr")).0, 0);
    assert_eq!(hall.check(&id(5)).0, 0);
    assert_eq!(
        hall.check(&id(1)).0,
        1,
        "a full roster replaces the previous one"
    );

    // v3: xlsx, with an expired entry and a non-priority category.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["姓名", "身份证号码", "救助类别", "有效期至"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let data = [
        (name(6), id(6), "低边", "2099-01-01"),
        (name(7), id(7), "临时救助", "2099-01-01"),
        (name(8), id(8), "低保", "2001-01-01"),
    ];
    for (r, (n, i, c, v)) in data.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, n).unwrap();
        sheet.write_string(r, 1, i).unwrap();
        sheet
            .write_string(r, 2, if *c == "低边" { "低保边缘" } else { c })
            .unwrap();
        sheet.write_string(r, 3, *v).unwrap();
    }
    book.save(ops.path("v3.xlsx")).unwrap();
    let (ok, out, err) = ops.prepare("v3.xlsx", 3, "v3.gwr", &[]);
    assert!(ok, "{out}{err}");
    assert_eq!(hall.import(&ops.path("v3.gwr")).0, 0);
    let (code, out) = hall.check(&id(6));
    assert_eq!(code, 0);
    assert!(
        out.contains("低保边缘") && out.contains("可走绿波通道"),
        "{out}"
    );
    let (_, out) = hall.check(&id(7));
    assert!(
        out.contains("临时救助") && out.contains("不享受绿波通道"),
        "{out}"
    );
    let (_, out) = hall.check(&id(8));
    assert!(
        out.contains("2001-01-01") && out.contains("不享受绿波通道"),
        "expired entry: {out}"
    );
    assert_eq!(hall.version(), Some(3));

    // An invalid ID number is told apart from "not listed".
    let (code, out) = hall.check("110105196001010010");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("无效"), "{out}");
}

/// Thousands of bad rows in an Excel CSV (CRLF): the terminal gets a
/// summary (counts per reason, the first 20 lines of each, with the file's
/// own line numbers) and the counts of the valid rows read, not zeros; the
/// report file lists every row.
#[test]
fn a_report_of_thousands_of_bad_rows_starts_with_a_summary() {
    let ops = Ops::new();
    let mut text = String::from("姓名,身份证号码,救助类别,有效期至\r\n");
    for i in 0..3000u32 {
        let good = id(10_000 + i);
        let last = if good.ends_with('0') { '1' } else { '0' };
        text += &format!("{},{}{last},低保,2099-12-31\r\n", name(i), &good[..17]);
    }
    for i in 0..30u32 {
        text += &format!("{},{},低收入,2099-12-31\r\n", name(i), id(20_000 + i));
    }
    for i in 0..5u32 {
        text += &format!("{},{},特困,2099-12-31\r\n", name(i), id(30_000 + i));
    }
    ops.write("many.csv", &text);
    let (ok, _, err) = ops.prepare("many.csv", 1, "many.gwr", &[]);
    assert!(!ok);
    let summary: Vec<&str> = err.lines().collect();
    assert!(
        summary.len() < 30,
        "a summary, not 3,030 lines: {}",
        summary.len()
    );
    let first20: Vec<String> = (2..22).map(|l| l.to_string()).collect();
    assert!(
        err.contains(&format!(
            "3000  ID number check digit is wrong: lines {}, …",
            first20.join(", ")
        )),
        "{err}"
    );
    // Lines 3002..3031 hold the unknown category (header = line 1).
    assert!(err.contains("30  unknown category \"低收入\""), "{err}");
    assert!(err.contains("lines 3002, 3003,"), "{err}");
    assert!(err.contains("特困: 5"), "the valid rows read: {err}");
    let report = std::fs::read_to_string(ops.path("many.gwr.report.txt")).unwrap();
    assert_eq!(
        report.matches("export line ").count(),
        3030,
        "every row in the file"
    );
    assert!(
        report.contains("export line 3031: unknown category"),
        "{}",
        &report[..500]
    );
}

#[test]
fn a_delta_applies_on_its_base_only() {
    let ops = Ops::new();
    let hall = HallSide::new(&ops, true);
    ops.write("v1.csv", &csv(&rows(&[1, 2, 3], "低保")));
    let mut v2 = rows(&[1, 4], "低保");
    v2.push((name(2), id(2), "临时救助", "2099-12-31"));
    ops.write("v2.csv", &csv(&v2));
    assert!(ops.prepare("v1.csv", 1, "v1.gwr", &[]).0);
    let (ok, out, err) = ops.prepare("v2.csv", 2, "d2.gwr", &["--delta-from", "v1.csv"]);
    assert!(ok, "{out}{err}");

    // On a hall without v1 the delta is refused.
    let (code, _, err) = hall.import(&ops.path("d2.gwr"));
    assert_eq!(code, 1);
    assert!(
        err.contains("applies to roster version 1, but 0 is installed"),
        "{err}"
    );

    assert_eq!(hall.import(&ops.path("v1.gwr")).0, 0);
    let (code, out, err) = hall.import(&ops.path("d2.gwr"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("delta"), "{out}");
    assert_eq!(hall.version(), Some(2));
    assert_eq!(hall.check(&id(1)).0, 0, "unchanged");
    assert!(hall.check(&id(2)).1.contains("临时救助"), "changed");
    assert_eq!(hall.check(&id(3)).0, 1, "removed");
    assert_eq!(hall.check(&id(4)).0, 0, "added");

    // The same delta again: its base (1) is no longer installed.
    let (code, _, err) = hall.import(&ops.path("d2.gwr"));
    assert_eq!(code, 1);
    assert!(
        err.contains("applies to roster version 1, but 2 is installed"),
        "{err}"
    );
}

#[test]
fn every_refusal_names_the_problem_and_the_old_roster_keeps_serving() {
    let ops = Ops::new();
    let hall = HallSide::new(&ops, true);
    ops.write("v1.csv", &csv(&rows(&[1, 2], "低保")));
    ops.write("v2.csv", &csv(&rows(&[3], "低保")));
    assert!(ops.prepare("v1.csv", 1, "v1.gwr", &[]).0);
    assert!(ops.prepare("v2.csv", 2, "v2.gwr", &[]).0);
    assert_eq!(hall.import(&ops.path("v2.gwr")).0, 0);

    let still_serving = |what: &str| {
        assert_eq!(hall.version(), Some(2), "after {what}");
        assert_eq!(hall.check(&id(3)).0, 0, "after {what}");
    };
    let refused = |file: &Path, expect: &str, what: &str| {
        let (code, out, err) = hall.import(file);
        assert_eq!(code, 1, "{what} accepted: {out}");
        assert!(err.contains(expect), "{what}: {err}");
        still_serving(what);
    };

    // Older version: rollback protection, unless --force.
    refused(
        &ops.path("v1.gwr"),
        "not newer than the installed version 2",
        "older version",
    );

    // Signed with other keys.
    let other = Ops::new();
    other.write("v9.csv", &csv(&rows(&[5], "低保")));
    assert!(other.prepare("v9.csv", 9, "v9.gwr", &[]).0);
    refused(&other.path("v9.gwr"), "signature", "bad signature");

    // A body byte changed after signing.
    let v3 = ops.path("v3.gwr");
    ops.write("v3.csv", &csv(&rows(&[6, 7], "低保")));
    assert!(ops.prepare("v3.csv", 3, "v3.gwr", &[]).0);
    let mut bytes = std::fs::read(&v3).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x01;
    std::fs::write(ops.path("tampered3.gwr"), &bytes).unwrap();
    refused(&ops.path("tampered3.gwr"), "digest", "tampered body");

    // Truncated and empty files.
    let bytes = std::fs::read(&v3).unwrap();
    std::fs::write(ops.path("short.gwr"), &bytes[..bytes.len() - 20]).unwrap();
    refused(&ops.path("short.gwr"), "truncated", "truncated file");
    std::fs::write(ops.path("empty.gwr"), b"").unwrap();
    refused(&ops.path("empty.gwr"), "empty", "empty file");

    // The bureau's export itself, unsigned.
    refused(
        &ops.path("v3.csv"),
        "require_signature = true refuses unsigned input",
        "unsigned export",
    );

    // Refusals are in the audit log, masked.
    let db = rusqlite::Connection::open(hall.data_dir().join("greenwave.db")).unwrap();
    let refusals: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'roster.import' AND result = 'refused'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(refusals, 6);
    let checks: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'roster.check' AND subject LIKE '1101**********%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(checks >= 6, "{checks}");

    // --force installs an older version on purpose.
    let (code, out, err) = hall.run(&[
        "roster",
        "import",
        ops.path("v1.gwr").to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(hall.version(), Some(1));
}

#[test]
fn prepare_refuses_bad_rows_and_wrong_columns_with_line_numbers() {
    let ops = Ops::new();
    let mut text = csv(&rows(&[1, 2, 3], "低保"));
    // Line 3 (header is line 1): a wrong check digit; line 4: unknown category.
    let bad = id(2);
    let wrong = format!(
        "{}{}",
        &bad[..17],
        if bad.ends_with('0') { '1' } else { '0' }
    );
    text = text.replace(&bad, &wrong).replacen(
        &format!("{},低保", id(3)),
        &format!("{},低收入", id(3)),
        1,
    );
    ops.write("bad.csv", &text);
    let (ok, out, err) = ops.prepare("bad.csv", 1, "bad.gwr", &[]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("2 invalid row(s)") || err.contains("无效"),
        "{err}"
    );
    assert!(
        err.contains("line 3") && err.contains("check digit"),
        "{err}"
    );
    assert!(
        err.contains("line 4") && err.contains("unknown category"),
        "{err}"
    );
    assert!(!err.contains(&wrong), "the bad number is masked: {err}");
    assert!(!ops.path("bad.gwr").exists(), "nothing written on refusal");

    // --skip-invalid writes the good row and reports the rest.
    let (ok, out, err) = ops.prepare("bad.csv", 1, "bad.gwr", &["--skip-invalid"]);
    assert!(ok, "{out}{err}");
    let report = std::fs::read_to_string(ops.path("bad.gwr.report.txt")).unwrap();
    assert!(
        report.contains("line 3") && report.contains("line 4"),
        "{report}"
    );

    // Wrong columns: the expected header names are listed.
    ops.write("cols.csv", "名字,号码,类型\n张三,1,低保\n");
    let (ok, _, err) = ops.prepare("cols.csv", 1, "cols.gwr", &[]);
    assert!(!ok);
    assert!(err.contains("身份证号码"), "{err}");
}

#[test]
fn a_killed_import_leaves_the_old_roster_intact() {
    let ops = Ops::new();
    let hall = HallSide::new(&ops, true);
    ops.write("v1.csv", &csv(&rows(&[1, 2], "低保")));
    assert!(ops.prepare("v1.csv", 1, "v1.gwr", &[]).0);
    assert_eq!(hall.import(&ops.path("v1.gwr")).0, 0);

    // A big roster, so that the import is still running when it is killed.
    let mut big = Vec::new();
    greenwave::roster::generate_synthetic_export(
        400_000,
        7,
        greenwave::roster::SyntheticFormat::CsvUtf8,
        &mut big,
    )
    .unwrap();
    std::fs::write(ops.path("big.csv"), big).unwrap();
    let (ok, out, err) = ops.prepare("big.csv", 2, "big.gwr", &[]);
    assert!(ok, "{out}{err}");

    let rosters = hall.data_dir().join("rosters");
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&hall.config)
        .args(["roster", "import", ops.path("big.gwr").to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let part_exists = || {
        std::fs::read_dir(&rosters)
            .map(|d| {
                d.flatten()
                    .any(|e| e.path().extension().is_some_and(|x| x == "part"))
            })
            .unwrap_or(false)
    };
    // Not `eventually`: a tight loop (no sleep), to catch the import
    // between starting its file and finishing it.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !part_exists() {
        assert!(Instant::now() < deadline, "import never started building");
        assert!(
            child.try_wait().unwrap().is_none(),
            "import finished before it could be killed"
        );
        std::thread::yield_now();
    }
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(hall.version(), Some(1));
    assert_eq!(hall.check(&id(1)).0, 0);
    // The next import cleans up and succeeds.
    let (code, out, err) = hall.import(&ops.path("big.gwr"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(!part_exists());
    assert_eq!(hall.version(), Some(2));
    let files: Vec<_> = std::fs::read_dir(&rosters).unwrap().flatten().collect();
    assert_eq!(
        files.len(),
        1,
        "the old roster file is removed after the switch"
    );
}

#[test]
fn no_id_number_or_name_is_left_on_the_halls_disk_or_in_its_logs() {
    let ops = Ops::new();
    let people: Vec<Row> = (1..=40)
        .map(|i| (name(i), id(i), "低保", "2099-12-31"))
        .collect();
    // Distinct names for this test, so that a find means a leak.
    let people: Vec<Row> = people
        .into_iter()
        .enumerate()
        .map(|(k, (_, i, c, v))| (format!("隐私测试{k:02}号"), i, c, v))
        .collect();
    ops.write("export.csv", &csv(&people));

    // Signed path, and the unsigned path where the hall hashes the export.
    let signed = HallSide::new(&ops, true);
    let (ok, out, err) = ops.prepare("export.csv", 1, "r.gwr", &[]);
    assert!(ok, "{out}{err}");
    let mut logs = format!("{out}{err}");
    let (code, out, err) = signed.import(&ops.path("r.gwr"));
    assert_eq!(code, 0, "{out}{err}");
    logs += &out;
    logs += &err;
    let unsigned = HallSide::new(&ops, false);
    let (code, out, err) = unsigned.import(&ops.path("export.csv"));
    assert_eq!(code, 0, "{out}{err}");
    logs += &out;
    logs += &err;
    for hall in [&signed, &unsigned] {
        for (_, i, _, _) in &people[..5] {
            let (code, out) = hall.check(i);
            assert_eq!(code, 0, "{out}");
            logs += &out;
        }
    }

    let mut haystack: Vec<(String, Vec<u8>)> = vec![("logs".into(), logs.into_bytes())];
    for hall in [&signed, &unsigned] {
        collect_files(&hall.data_dir(), &mut haystack);
    }
    haystack.push(("r.gwr".into(), std::fs::read(ops.path("r.gwr")).unwrap()));
    haystack.push((
        "report".into(),
        std::fs::read(ops.path("r.gwr.report.txt")).unwrap(),
    ));
    assert!(
        haystack.len() >= 6,
        "{:?}",
        haystack.iter().map(|h| &h.0).collect::<Vec<_>>()
    );
    for (n, i, _, _) in &people {
        let (gb_name, _, _) = encoding_rs::GB18030.encode(n);
        for (file, bytes) in &haystack {
            assert!(!contains(bytes, i.as_bytes()), "ID number found in {file}");
            assert!(!contains(bytes, n.as_bytes()), "name found in {file}");
            assert!(!contains(bytes, &gb_name), "GB18030 name found in {file}");
        }
    }
}

fn collect_files(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_daemon_installs_rosters_dropped_in_its_inbox() {
    let ops = Ops::new();
    let hall = HallSide::with(&ops, true, "inbox = \"inbox\"");
    ops.write("v1.csv", &csv(&rows(&[1, 2], "低保")));
    ops.write("v2.csv", &csv(&rows(&[3], "特困")));
    assert!(ops.prepare("v1.csv", 1, "v1.gwr", &[]).0);
    assert!(ops.prepare("v2.csv", 2, "v2.gwr", &[]).0);
    let inbox = hall.dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let daemon = common::Daemon::start(&hall.config);

    // Written under another name, then renamed: the way ops are told to.
    std::fs::copy(ops.path("v1.gwr"), inbox.join("v1.gwr.tmp")).unwrap();
    std::fs::rename(inbox.join("v1.gwr.tmp"), inbox.join("v1.gwr")).unwrap();
    wait_for(&inbox.join("done/v1.gwr"), &daemon);
    assert_eq!(hall.version(), Some(1));
    assert_eq!(hall.check(&id(1)).0, 0);

    // A tampered file is refused, with the reason beside it.
    let mut bytes = std::fs::read(ops.path("v2.gwr")).unwrap();
    let n = bytes.len();
    bytes[n - 30] ^= 0x01; // inside the last record's hash
    std::fs::write(inbox.join("v2.gwr"), &bytes).unwrap();
    wait_for(&inbox.join("rejected/v2.gwr.reason.txt"), &daemon);
    let reason = std::fs::read_to_string(inbox.join("rejected/v2.gwr.reason.txt")).unwrap();
    assert!(reason.contains("digest"), "{reason}");
    assert_eq!(hall.version(), Some(1));

    // The good v2 goes in while the daemon keeps serving.
    std::fs::copy(ops.path("v2.gwr"), inbox.join("v2b.gwr")).unwrap();
    wait_for(&inbox.join("done/v2b.gwr"), &daemon);
    assert_eq!(hall.version(), Some(2));
    let (st, _) = daemon.get("/api/queue", "test-window-1-token-0001");
    assert_eq!(st, 200);
}

/// Waits for the daemon's inbox scan (every 2 s) to produce `path`.
fn wait_for(path: &Path, daemon: &common::Daemon) {
    common::eventually(
        Duration::from_secs(60),
        &format!("{} never appeared; daemon log", path.display()),
        || path.exists(),
        || format!("\n{}", daemon.stderr()),
    );
}
