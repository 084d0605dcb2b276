//! The `greenwave` binary: parse the command line, run one command, map the
//! outcome to an exit code. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = greenwave::cli::Cli::parse();
    greenwave::cli::init_logging(&cli);
    match greenwave::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let msg = describe(&e);
            eprintln!("{} {msg}", prefix(&msg));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes on one line, leaving out a cause whose text the
/// message already carries.
fn describe(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !msg.contains(&text) {
            if !msg.is_empty() {
                msg.push_str(": ");
            }
            msg.push_str(&text);
        }
    }
    msg
}

/// `错误：` before a message in Chinese (for hall staff), `error:` before
/// one in English (for ops): one language per line. A Chinese character
/// counts as a word of about three letters, so that an English sentence
/// quoting a service name stays English and a Chinese one naming a device
/// path stays Chinese.
fn prefix(msg: &str) -> &'static str {
    let han = msg
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    let latin = msg.chars().filter(char::is_ascii_alphabetic).count();
    if han * 3 > latin {
        "错误："
    } else {
        "error:"
    }
}
