//! `greenwave init`: from an empty directory to a running hall that issues
//! a ticket (issue 18's "done when"), the tokens it writes, and what it
//! refuses to overwrite.

mod common;

use std::path::Path;
use std::process::Command;

use common::{free_port, Daemon, BIN};

fn greenwave(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `greenwave init --yes` into `dir`, looking for devices in an empty
/// directory (a machine without any), plus `args`.
fn init(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let no_devices = dir.with_extension("dev");
    std::fs::create_dir_all(&no_devices).unwrap();
    let mut all = vec!["init", "--yes", "--dev-root", no_devices.to_str().unwrap()];
    all.extend_from_slice(args);
    all.push(dir.to_str().unwrap());
    greenwave(&all)
}

fn written(dir: &Path) -> toml::Table {
    let text = std::fs::read_to_string(dir.join("greenwave.toml")).unwrap();
    text.parse().unwrap()
}

/// Every token in the file, with its key.
fn tokens(cfg: &toml::Table) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for table in ["windows", "helpers"] {
        for (i, t) in cfg[table].as_array().unwrap().iter().enumerate() {
            all.push((format!("{table}[{i}]"), t["token"].as_str().unwrap().into()));
        }
    }
    for key in ["manager_token", "display_token"] {
        all.push((key.into(), cfg["api"][key].as_str().unwrap().into()));
    }
    all
}

#[test]
fn a_clean_directory_goes_through_init_check_and_run_to_a_ticket() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hall");
    let listen = format!("127.0.0.1:{}", free_port());
    let (ok, out, err) = init(
        &dir,
        &[
            "--listen",
            &listen,
            "--services",
            "civil:民政救助,medical:医保业务",
        ],
    );
    assert!(ok, "{err}");
    let conf = dir.join("greenwave.toml");
    assert!(out.contains(&format!("Wrote {}.", conf.display())), "{out}");
    assert!(out.contains("LOCAL keys"), "{out}");
    assert!(out.contains("ID card reader: simulated"), "{out}");
    assert!(out.contains("Next steps:"), "{out}");
    for key in ["roster-public.key", "roster-hash.key"] {
        assert!(dir.join(key).is_file(), "{key}");
    }

    let (ok, out, err) = greenwave(&["config", "check", "--config", conf.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("配置有效"), "{out}");

    let cfg = written(&dir);
    let manager = cfg["api"]["manager_token"].as_str().unwrap();
    let d = Daemon::start(&conf);
    assert!(d.base.contains(&listen), "{}", d.base);
    let (st, v) = d.post(
        "/api/tickets",
        manager,
        serde_json::json!({ "service": "medical" }),
    );
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["number"], "B001", "{v}");
    assert!(dir.join("data/greenwave.db").exists());
}

#[test]
fn tokens_are_long_and_distinct_and_init_overwrites_only_with_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hall");
    let (ok, _, err) = init(&dir, &["--windows", "3", "--helpers", "2"]);
    assert!(ok, "{err}");
    let first = tokens(&written(&dir));
    assert_eq!(first.len(), 3 + 2 + 2);
    for (i, (key, t)) in first.iter().enumerate() {
        assert!(
            t.len() >= 32 && t.chars().all(|c| c.is_ascii_hexdigit()),
            "{key}"
        );
        assert!(
            !first[..i].iter().any(|(_, o)| o == t),
            "{key} repeats a token"
        );
    }
    let text = std::fs::read_to_string(dir.join("greenwave.toml")).unwrap();
    assert!(text.contains("# local keys made by greenwave init --yes: replace with the ops keys"));

    let (ok, out, err) = init(&dir, &[]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("greenwave.toml")).unwrap(),
        text
    );

    let (ok, _, err) = init(&dir, &["--force"]);
    assert!(ok, "{err}");
    let again = tokens(&written(&dir));
    assert!(first.iter().zip(&again).all(|((_, a), (_, b))| a != b));
}

#[test]
fn the_packages_example_is_replaced_and_the_ops_keys_are_taken() {
    let tmp = tempfile::tempdir().unwrap();
    let (ops, dir) = (tmp.path().join("ops"), tmp.path().join("etc"));
    let (ok, _, err) = greenwave(&["roster", "keygen", "--out", ops.to_str().unwrap()]);
    assert!(ok, "{err}");
    // What `apt install` leaves: the example with its placeholder tokens,
    // which `config check` refuses and sends to `greenwave init`.
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy("config/greenwave.toml", dir.join("greenwave.toml")).unwrap();
    let conf = dir.join("greenwave.toml");
    let (ok, _, err) = greenwave(&["config", "check", "--config", conf.to_str().unwrap()]);
    assert!(!ok && err.contains("greenwave init"), "{err}");

    let (ok, out, err) = init(&dir, &["--roster-keys", ops.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("Replaced the package's example"), "{out}");
    assert!(out.contains("the ops keys"), "{out}");
    for key in ["roster-public.key", "roster-hash.key"] {
        assert_eq!(
            std::fs::read(dir.join(key)).unwrap(),
            std::fs::read(ops.join(key)).unwrap()
        );
    }
    assert!(
        !dir.join("roster-signing.key").exists(),
        "the signing key stays with ops"
    );
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(!text.contains("local keys"), "{text}");
    let (ok, _, err) = greenwave(&["config", "check", "--config", conf.to_str().unwrap()]);
    assert!(ok, "{err}");
}
