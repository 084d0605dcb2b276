//! Voice: the hall's spoken calls and the kiosk's spoken prompts.
//!
//! On every call and recall the daemon announces `请 GA012 号 到 3 号窗口办理`
//! (a priority ticket is read with its lane first:
//! `请 绿色通道 GA012 号 到 3 号窗口办理`); a recall repeats the same words.
//! The kiosk speaks its prompts (`请取票`, ...) when `[voice] kiosk_prompts`
//! is on. The words are made by pure functions ([`call_text`] here, the
//! kiosk's in `crate::kiosk::words`); saying them is [`Voice`]'s job: one worker thread runs
//! the configured command for one announcement at a time, in order, from a
//! bounded queue, and kills a command that outlives `[voice] timeout`, so a
//! hung speaker never stalls the calls behind it.
//!
//! The command is an argv list. An argument holding `{text}` gets the words
//! in its place; without one, the words are appended as the last argument.
//! With no `command` configured, espeak-ng's Mandarin voice is used when
//! `espeak-ng` is on the `PATH`, and the hall is silent otherwise (said once
//! in the log). Announcements hold ticket numbers and window numbers only,
//! never personal data.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::VoiceConfig;
use crate::queue::Lane;

/// The command used when `[voice] command` is not set and espeak-ng is
/// installed: espeak-ng's Mandarin voice that reads pinyin (its plain
/// `cmn` voice reads Latin letters and digits as English), a little
/// slower than its default. The words are given as pinyin
/// ([`crate::speech::to_pinyin`]).
pub const DEFAULT_COMMAND: [&str; 5] = ["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "140"];
/// Where the words go in a configured command; without it they are the
/// last argument.
pub const PLACEHOLDER: &str = "{text}";
/// Announcements waiting beyond this many are dropped (and logged): a call
/// spoken minutes late is worse than none, and the display still shows it.
pub const QUEUE_LEN: usize = 32;
/// How often the worker looks at a running command.
const POLL: Duration = Duration::from_millis(20);

/// The words of a call: [`crate::speech::call_sentence`].
pub fn call_text(number: &str, lane: Lane, window: u32) -> String {
    crate::speech::call_sentence(number, lane, window)
}

/// The argv of one announcement: `{text}` replaced where it appears, else
/// the text appended as the last argument.
pub fn command_for(argv: &[String], text: &str) -> Vec<String> {
    if argv.iter().any(|a| a.contains(PLACEHOLDER)) {
        argv.iter().map(|a| a.replace(PLACEHOLDER, text)).collect()
    } else {
        let mut v = argv.to_vec();
        v.push(text.to_string());
        v
    }
}

/// The settings in force: the command to run (`None`: silent).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    argv: Option<Vec<String>>,
    timeout: Duration,
    kiosk_prompts: bool,
    pinyin: bool,
}

impl Settings {
    /// What the command is given for `sentence`.
    fn words(&self, sentence: &str) -> String {
        if self.pinyin {
            crate::speech::to_pinyin(sentence)
        } else {
            sentence.to_string()
        }
    }
}

/// The exact command that says `sentence` under `cfg` (`None`: the hall is
/// silent), for `greenwave voice` and the tests: what the worker runs.
pub fn command_for_sentence(cfg: &VoiceConfig, sentence: &str) -> Option<Vec<String>> {
    let s = resolve(cfg);
    let argv = s.argv.as_ref()?;
    Some(command_for(argv, &s.words(sentence)))
}

/// Turns `[voice]` into the settings in force, and says in the log (once
/// per start or reload) when the hall will be silent.
fn resolve(cfg: &VoiceConfig) -> Settings {
    let argv = if !cfg.enabled {
        tracing::info!("voice is off ([voice] enabled = false)");
        None
    } else if let Some(c) = &cfg.command {
        tracing::info!(command = %c[0], "voice on");
        Some(c.clone())
    } else if find_program(DEFAULT_COMMAND[0]).is_some() {
        tracing::info!(
            command = DEFAULT_COMMAND[0],
            "voice on (espeak-ng, Mandarin)"
        );
        Some(DEFAULT_COMMAND.iter().map(|s| s.to_string()).collect())
    } else {
        tracing::info!(
            "voice is off: espeak-ng is not installed (install it, or set [voice] command)"
        );
        None
    };
    Settings {
        argv,
        timeout: cfg.timeout,
        kiosk_prompts: cfg.kiosk_prompts,
        pinyin: cfg.input == crate::config::VoiceInput::Pinyin,
    }
}

/// The program's path on `PATH` (or as given, when it holds a slash), if it
/// is an executable file.
fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let runnable = |p: &Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if name.contains('/') {
        let p = PathBuf::from(name);
        return runnable(&p).then_some(p);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| runnable(p))
}

/// The hall's voice: a queue of announcements and the one worker thread
/// that speaks them. Cheap to clone; every clone feeds the same queue.
#[derive(Clone)]
pub struct Voice {
    inner: Arc<Inner>,
}

struct Inner {
    tx: Mutex<Option<SyncSender<String>>>,
    settings: Arc<Mutex<Settings>>,
    stop: Arc<AtomicBool>,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Voice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Voice").field("on", &self.is_on()).finish()
    }
}

impl Voice {
    /// Resolves the settings and starts the worker thread.
    pub fn start(cfg: &VoiceConfig) -> std::io::Result<Voice> {
        let settings = Arc::new(Mutex::new(resolve(cfg)));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = sync_channel::<String>(QUEUE_LEN);
        let worker = {
            let (settings, stop) = (settings.clone(), stop.clone());
            std::thread::Builder::new()
                .name("voice".into())
                .spawn(move || work(rx, &settings, &stop))?
        };
        Ok(Voice {
            inner: Arc::new(Inner {
                tx: Mutex::new(Some(tx)),
                settings,
                stop,
                worker: Mutex::new(Some(worker)),
            }),
        })
    }

    fn settings(&self) -> Settings {
        crate::sync::lock(&self.inner.settings).clone()
    }

    /// Whether announcements are spoken at all.
    pub fn is_on(&self) -> bool {
        self.settings().argv.is_some()
    }

    /// Queues an announcement; never waits. Dropped (and logged) when voice
    /// is off, stopped, or the queue is full.
    pub fn announce(&self, text: String) {
        if !self.is_on() {
            return;
        }
        let tx = crate::sync::lock(&self.inner.tx);
        let Some(tx) = tx.as_ref() else { return };
        match tx.try_send(text) {
            Ok(()) => {}
            Err(TrySendError::Full(text)) => {
                tracing::warn!(%text, queued = QUEUE_LEN, "voice queue full; announcement dropped")
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// A kiosk prompt: queued like a call when `[voice] kiosk_prompts` is on.
    pub fn prompt(&self, text: &str) {
        if self.settings().kiosk_prompts {
            self.announce(text.to_string());
        }
    }

    /// Takes a reloaded `[voice]`; announcements already queued are spoken
    /// with the new settings.
    pub fn reload(&self, cfg: &VoiceConfig) {
        let new = resolve(cfg);
        *crate::sync::lock(&self.inner.settings) = new;
    }

    /// Stops the worker: what is queued is dropped, a command that is
    /// speaking is killed. Returns once the worker has ended.
    pub fn stop(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        crate::sync::lock(&self.inner.tx).take();
        let worker = crate::sync::lock(&self.inner.worker).take();
        if let Some(w) = worker {
            let _ = w.join();
        }
    }
}

/// How one announcement went.
#[derive(Debug)]
enum Said {
    Spoken,
    /// Could not start, or exited with a failure.
    Failed(String),
    /// Killed after the timeout.
    TimedOut,
    /// Killed because the daemon is stopping.
    Stopped,
}

/// The worker: one announcement at a time, in queue order. A command that
/// cannot be run or fails is reported once (until it works again); a
/// command that hangs is killed at the timeout, every time, and said so.
fn work(rx: Receiver<String>, settings: &Mutex<Settings>, stop: &AtomicBool) {
    let mut failing = false;
    let mut missed = 0u64;
    while let Ok(text) = rx.recv() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let s = crate::sync::lock(settings).clone();
        let Some(argv) = &s.argv else { continue };
        match speak(&command_for(argv, &s.words(&text)), s.timeout, stop) {
            Said::Spoken => {
                if failing {
                    tracing::info!(
                        command = %argv[0],
                        missed,
                        "voice command works again"
                    );
                    failing = false;
                    missed = 0;
                }
                tracing::debug!(%text, "announced");
            }
            Said::Failed(why) => {
                missed += 1;
                if failing {
                    tracing::debug!(%text, %why, "announcement not spoken");
                } else {
                    failing = true;
                    tracing::warn!(
                        command = %argv[0],
                        %why,
                        "voice command failed; announcements are not spoken until it works (reported once)"
                    );
                    tracing::debug!(%text, "announcement not spoken");
                }
            }
            Said::TimedOut => {
                tracing::warn!(
                    command = %argv[0],
                    timeout = %humantime::format_duration(s.timeout),
                    %text,
                    "voice command did not finish in time; killed"
                );
            }
            Said::Stopped => return,
        }
    }
}

/// Runs one announcement's command in a process group of its own, waits
/// for it up to `timeout`, and kills the whole group after that (a shell
/// script's children too).
fn speak(argv: &[String], timeout: Duration, stop: &AtomicBool) -> Said {
    use std::os::unix::process::CommandExt;
    let mut child = match Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Said::Failed(format!("cannot run {}: {e}", argv[0])),
    };
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(st)) if st.success() => return Said::Spoken,
            Ok(Some(st)) => return Said::Failed(format!("{} exited with {st}", argv[0])),
            Ok(None) => {}
            Err(e) => return Said::Failed(format!("cannot wait for {}: {e}", argv[0])),
        }
        let stopping = stop.load(Ordering::SeqCst);
        if stopping || Instant::now() >= deadline {
            kill_group(&mut child);
            return if stopping {
                Said::Stopped
            } else {
                Said::TimedOut
            };
        }
        std::thread::sleep(POLL);
    }
}

/// SIGKILL to the child's process group (it leads it), then to the child
/// itself should that fail; reaps it.
fn kill_group(child: &mut std::process::Child) {
    use nix::sys::signal::{killpg, Signal};
    use nix::unistd::Pid;
    if let Ok(pgid) = i32::try_from(child.id()) {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::Lane;

    #[test]
    fn a_normal_call_reads_number_and_window() {
        assert_eq!(
            call_text("A012", Lane::Normal, 3),
            "请 A 零 一 二 号，到 三 号窗口办理"
        );
    }

    #[test]
    fn a_priority_call_reads_the_lane_first() {
        assert_eq!(
            call_text("GA012", Lane::Priority, 3),
            "请 绿波通道 G A 零 一 二 号，到 三 号窗口办理"
        );
        assert_eq!(
            call_text("GB001", Lane::Priority, 12),
            "请 绿波通道 G B 零 零 一 号，到 十二 号窗口办理"
        );
    }

    #[test]
    fn the_text_is_the_last_argument_unless_placed() {
        let argv: Vec<String> = DEFAULT_COMMAND.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            command_for(&argv, "请 A001 号 到 1 号窗口办理"),
            [
                "espeak-ng",
                "-v",
                "cmn-latn-pinyin",
                "-s",
                "140",
                "请 A001 号 到 1 号窗口办理"
            ]
        );
        let placed: Vec<String> = ["say", "--text={text}", "--out", "hall"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            command_for(&placed, "请取票"),
            ["say", "--text=请取票", "--out", "hall"]
        );
    }

    const HALL: &str = r#"
[hall]
name = "测试大厅"
[[services]]
code = "civil"
name = "民政救助"
letter = "A"
[[windows]]
number = 1
services = ["civil"]
token = "window-1-token-0123456789"
"#;

    fn parse(voice: &str) -> Result<crate::config::Config, crate::config::ConfigError> {
        crate::config::Config::parse(&format!("{HALL}{voice}"), std::path::Path::new("hall.toml"))
    }

    #[test]
    fn voice_is_on_by_default_with_the_default_command() {
        let v = parse("").unwrap().voice;
        assert!(v.enabled && v.kiosk_prompts);
        assert_eq!(v.command, None, "espeak-ng when installed");
        assert_eq!(v.timeout, Duration::from_secs(20));
        let v = parse(
            "[voice]\nenabled = true\ncommand = [\"say\", \"{text}\"]\ntimeout = \"5s\"\nkiosk_prompts = false\n",
        )
        .unwrap()
        .voice;
        assert_eq!(
            v.command,
            Some(vec!["say".to_string(), "{text}".to_string()])
        );
        assert_eq!(v.timeout, Duration::from_secs(5));
        assert!(!v.kiosk_prompts);
    }

    #[test]
    fn a_bad_voice_section_is_refused_with_its_line() {
        let e = parse("[voice]\ncommand = []\n").unwrap_err();
        let [p] = e.problems.as_slice() else {
            panic!("one problem: {e}")
        };
        assert_eq!(p.line, Some(13), "{e}");
        assert!(
            p.message.starts_with("voice.command must name a program"),
            "{e}"
        );
        let e = parse("[voice]\ntimeout = \"0s\"\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("voice.timeout must be between 1s and 10m"),
            "{e}"
        );
        let e = parse("[voice]\nvolume = 3\n").unwrap_err();
        assert!(e.to_string().contains("volume"), "{e}");
    }

    #[test]
    fn a_program_is_found_on_the_path_or_by_its_path() {
        assert!(find_program("sh").is_some());
        assert!(find_program("/bin/sh").is_some());
        assert!(find_program("greenwave-no-such-speaker").is_none());
        assert!(find_program("/nonexistent/speaker").is_none());
    }
}
