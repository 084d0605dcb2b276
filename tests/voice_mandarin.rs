//! What a person hears: every sentence the daemon can speak, read by the
//! real espeak-ng as the daemon runs it, is Mandarin throughout (espeak-ng
//! marks a switch to another language as `(en)` in its phonemes: there
//! must be none), and renders to a WAV a person can play. On the main
//! before, the default `espeak-ng -v cmn` read `GA012 号` and `3 号窗口` as
//! English (`(en)heI11@11fo@11`): the resident heard noise.

mod common;

use std::process::Command;

use common::{TestHall, BIN};
use greenwave::config::VoiceConfig;

fn hall() -> TestHall {
    TestHall::builder()
        .windows(&[
            (1, &["civil"]),
            (12, &["civil", "medical"]),
            (30, &["medical"]),
        ])
        .build()
}

fn voice(hall: &TestHall, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&hall.config)
        .arg("voice")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "voice {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The phonemes espeak-ng makes of what the daemon would run.
fn phonemes(sentence: &str) -> String {
    let argv = greenwave::voice::command_for_sentence(&VoiceConfig::default(), sentence)
        .expect("espeak-ng is installed (packaging/test-packages.txt)");
    let mut cmd = Command::new(&argv[0]);
    cmd.args(["-q", "-x"]).args(&argv[1..]);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{argv:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_sentence_the_daemon_speaks_is_mandarin_and_renders_to_a_wav() {
    let hall = hall();
    let sentences: Vec<String> = voice(&hall, &["sentences"])
        .lines()
        .map(str::to_string)
        .collect();
    // Calls in both lanes at one- and two-digit windows, and the kiosk's
    // prompts, the number announcements among them.
    for needed in [
        "请 绿波通道 G A 一 零 五 号，到 三十 号窗口办理",
        "请 A 零 一 二 号，到 一 号窗口办理",
        "您的号码 G B 一 零 五",
        "请取票",
        "请刷身份证",
        "打印机缺纸，请记下号码或联系工作人员",
    ] {
        assert!(
            sentences.iter().any(|s| s == needed),
            "{needed} not in {sentences:#?}"
        );
    }
    let wavs = tempfile::tempdir().unwrap();
    for (i, s) in sentences.iter().enumerate() {
        let ph = phonemes(s);
        assert!(!ph.contains('('), "{s}: a language switch in {ph}");
        assert!(ph.trim().len() > 3, "{s}: nothing said");
        let wav = wavs.path().join(format!("{i}.wav"));
        voice(&hall, &["say", s, "--wav", wav.to_str().unwrap()]);
        let bytes = std::fs::read(&wav).unwrap();
        assert_eq!(&bytes[..4], b"RIFF", "{s}");
        assert!(bytes.len() > 8_000, "{s}: {} bytes of sound", bytes.len());
    }
}

#[test]
fn ops_see_the_exact_command_and_hear_a_call_before_opening() {
    let hall = hall();
    assert_eq!(
        voice(&hall, &["call", "GA012", "3", "--dry-run"]).trim(),
        "espeak-ng -v cmn-latn-pinyin -s 140 'qing3 lü4 bo1 tong1 dao4 ji4 ei1 ling2 yi1 er4 hao4, dao4 san1 hao4 chuang1 kou3 ban4 li3'"
    );
    // A normal number is read the same way, without the lane.
    let cmd = voice(&hall, &["call", "B105", "12", "--dry-run"]);
    assert!(
        cmd.contains("'qing3 bi4 yi1 ling2 wu3 hao4, dao4 shi2 er4 hao4 chuang1 kou3 ban4 li3'"),
        "{cmd}"
    );
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("call.wav");
    voice(
        &hall,
        &["call", "GA012", "3", "--wav", wav.to_str().unwrap()],
    );
    assert!(std::fs::metadata(&wav).unwrap().len() > 20_000);
    // The old default read digits and letters as English.
    let old = Command::new("espeak-ng")
        .args([
            "-v",
            "cmn",
            "-q",
            "-x",
            "请 绿色通道 GA012 号 到 3 号窗口办理",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&old.stdout).contains("(en)"));
}
