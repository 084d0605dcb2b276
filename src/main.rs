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
            eprintln!("错误: {}", describe(&e));
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
