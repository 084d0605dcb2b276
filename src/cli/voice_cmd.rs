//! `greenwave voice`: hear the hall's voice before opening. `voice call
//! GA012 3` says a call as the daemon would, `voice say TEXT` any
//! sentence, `voice sentences` lists every sentence the daemon can speak;
//! `--wav FILE` renders to a file instead of the sound card (espeak-ng),
//! `--dry-run` prints the exact command instead of running it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::config::{Config, VoiceConfig};
use crate::queue::Lane;

/// What to say.
#[derive(Debug, Subcommand)]
pub enum VoiceCmd {
    /// Say a call: `greenwave voice call GA012 3`
    Call {
        /// The ticket's number (a priority number starts with the
        /// configured prefix, `G`)
        number: String,
        /// The window
        window: u32,
        #[command(flatten)]
        out: Output,
    },
    /// Say any sentence (Chinese), as the daemon would
    Say {
        /// The sentence
        text: String,
        #[command(flatten)]
        out: Output,
    },
    /// List every sentence the daemon can speak (calls for the configured
    /// services and windows, the kiosk's prompts), one per line
    Sentences,
}

/// Where the words go.
#[derive(Debug, Args)]
pub struct Output {
    /// Render to this WAV file instead of the sound card (espeak-ng)
    #[arg(long)]
    wav: Option<PathBuf>,
    /// Print the command that would run, and run nothing
    #[arg(long)]
    dry_run: bool,
}

pub(super) fn run(config: Option<&Path>, cmd: VoiceCmd) -> anyhow::Result<ExitCode> {
    // The hall's configuration when there is one; the defaults otherwise.
    let cfg = Config::locate(config)
        .ok()
        .map(|p| Config::load(&p))
        .transpose()?;
    let voice = cfg.as_ref().map(|c| c.voice.clone()).unwrap_or_default();
    match cmd {
        VoiceCmd::Call {
            number,
            window,
            out,
        } => {
            let prefix = cfg.as_ref().map_or("G", |c| c.priority_prefix.as_str());
            let n = number.trim().to_ascii_uppercase();
            let lane = if n.len() > 1 + prefix.len() && n.starts_with(prefix) {
                Lane::Priority
            } else {
                Lane::Normal
            };
            say(
                &voice,
                &crate::speech::call_sentence(&n, lane, window),
                &out,
            )
        }
        VoiceCmd::Say { text, out } => say(&voice, &text, &out),
        VoiceCmd::Sentences => {
            for s in sentences(cfg.as_ref()) {
                println!("{s}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Every sentence the daemon can speak: a call and a recall of a sample
/// number of each service in both lanes, at the first and last window, and
/// every kiosk prompt.
pub fn sentences(cfg: Option<&Config>) -> Vec<String> {
    let (letters, prefix, windows) = match cfg {
        Some(c) => (
            c.services
                .iter()
                .map(|s| s.letter.clone())
                .collect::<Vec<_>>(),
            c.priority_prefix.clone(),
            c.windows.iter().map(|w| w.number).collect::<Vec<_>>(),
        ),
        None => (vec!["A".to_string()], "G".to_string(), vec![1, 12]),
    };
    let mut numbers = Vec::new();
    for l in &letters {
        numbers.push((format!("{l}012"), Lane::Normal));
        numbers.push((format!("{prefix}{l}105"), Lane::Priority));
    }
    let mut out = Vec::new();
    for (n, lane) in &numbers {
        for w in [windows.first(), windows.last()].into_iter().flatten() {
            out.push(crate::speech::call_sentence(n, *lane, *w));
        }
    }
    let samples: Vec<&str> = numbers.iter().map(|(n, _)| n.as_str()).collect();
    out.extend(crate::kiosk::words::every_prompt(&samples));
    out.dedup();
    out
}

/// Says (or renders, or shows) one sentence.
fn say(voice: &VoiceConfig, sentence: &str, out: &Output) -> anyhow::Result<ExitCode> {
    let Some(mut argv) = crate::voice::command_for_sentence(voice, sentence) else {
        anyhow::bail!(
            "the hall is silent: [voice] is disabled, or espeak-ng is not installed and no [voice] command is set"
        );
    };
    if let Some(wav) = &out.wav {
        let espeak = Path::new(&argv[0])
            .file_name()
            .is_some_and(|n| n == "espeak-ng" || n == "espeak");
        if !espeak {
            anyhow::bail!(
                "--wav needs the espeak-ng voice; the configured command is {:?}",
                argv[0]
            );
        }
        argv.insert(1, wav.display().to_string());
        argv.insert(1, "-w".to_string());
    }
    if out.dry_run {
        println!("{}", shell_words(&argv));
        return Ok(ExitCode::SUCCESS);
    }
    let st = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .status()
        .with_context(|| format!("cannot run {}", argv[0]))?;
    if !st.success() {
        anyhow::bail!("{} failed: {st}", argv[0]);
    }
    Ok(ExitCode::SUCCESS)
}

/// The argv as a shell would take it.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,".contains(&b));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_shown_as_a_shell_takes_them() {
        let argv = [
            "espeak-ng",
            "-v",
            "cmn-latn-pinyin",
            "qing3 ji4 ei1, hao4",
            "it's",
        ]
        .map(String::from);
        assert_eq!(
            shell_words(&argv),
            r#"espeak-ng -v cmn-latn-pinyin 'qing3 ji4 ei1, hao4' 'it'\''s'"#
        );
    }
}
