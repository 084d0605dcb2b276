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
            eprintln!("错误: {e:#}");
            ExitCode::from(1)
        }
    }
}
