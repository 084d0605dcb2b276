//! From a ticket issued at the kiosk to the first sound of its spoken
//! number (issue 14): the real kiosk in this process, the real voice
//! worker, and espeak-ng's Mandarin (pinyin) voice rendering to a pipe, so
//! that the moment its first 2 KB of audio (about 45 ms of speech) exist
//! is measured instead of a sound card's.
//!
//! `cargo bench --bench voice` (`SWIPES` overrides the count).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use greenwave::config::Config;
use greenwave::hall::{Hall, SystemClock};
use greenwave::kiosk::actor::Input;
use greenwave::kiosk::Kiosk;

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn stamps(path: &std::path::Path) -> Vec<u128> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

fn main() {
    let swipes: usize = std::env::var("SWIPES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stamp_file = d.join("stamps");
    let script = d.join("speak.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nespeak-ng -v cmn-latn-pinyin -s 140 --stdout \"$1\" | {{ head -c 2048 > /dev/null; date +%s%N >> {}; cat > /dev/null; }}\n",
            stamp_file.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        d.join("greenwave.toml"),
        format!(
            r#"data_dir = "data"
[hall]
name = "bench"
[[services]]
code = "civil"
name = "民政救助"
letter = "A"
[[windows]]
number = 1
services = ["civil"]
token = "bench-window-1-token"
[voice]
command = ["{}"]
input = "pinyin"
"#,
            script.display()
        ),
    )
    .unwrap();
    let cfg = Config::load(&d.join("greenwave.toml")).unwrap();
    let hall = Arc::new(Mutex::new(Hall::open(&cfg, Arc::new(SystemClock)).unwrap()));
    let (mut kiosk, _desk) = Kiosk::in_process(&cfg, hall, None, Arc::new(|_| {})).unwrap();
    let mut took = Vec::new();
    for i in 0..swipes {
        let before = stamps(&stamp_file).len();
        let t0 = now_ns();
        // The keypad's "ticket without an ID card", as a resident presses it.
        kiosk.handle(Input::Key("0".into()));
        // The number, then what to do: two sentences per ticket.
        let deadline = Instant::now() + Duration::from_secs(10);
        while stamps(&stamp_file).len() < before + 2 {
            assert!(Instant::now() < deadline, "swipe {i}: nothing said");
            std::thread::sleep(Duration::from_millis(5));
        }
        let first = stamps(&stamp_file)[before];
        took.push(Duration::from_nanos((first - t0) as u64));
    }
    took.sort();
    let q = |p: f64| took[((took.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    println!(
        "issued_to_first_sound swipes={swipes}  p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
        q(0.5),
        q(0.99),
        q(1.0)
    );
}
