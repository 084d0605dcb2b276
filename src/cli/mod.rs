//! The command line: one clap subcommand per file, each a few lines of glue
//! over the library.

mod board;
mod city_cmd;
mod client;
mod config_cmd;
mod demo;
mod devices;
mod init;
mod manpage;
mod roster_cmd;
mod run;
mod stats_cmd;
mod store_cmd;
mod voice_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// greenwave: 政务大厅排队叫号（绿波通道）
#[derive(Debug, Parser)]
#[command(
    name = "greenwave",
    version,
    about = "Queue-ticketing kiosk daemon for government service halls, with a priority lane (绿波通道)"
)]
pub struct Cli {
    /// Configuration file [default: /etc/greenwave/greenwave.toml, then config/greenwave.toml]
    #[arg(long, global = true, env = "GREENWAVE_CONFIG")]
    pub config: Option<PathBuf>,
    /// More log output (-v debug, -vv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a working configuration for a one-machine hall: random
    /// tokens, the devices found (else simulated ones), roster keys
    Init(init::InitArgs),
    /// Run the daemon: the queue, the store and the staff API
    Run(run::RunArgs),
    /// Check the configuration
    #[command(subcommand)]
    Config(config_cmd::ConfigCmd),
    /// Run a short demonstration on a throw-away hall
    Demo(demo::DemoArgs),
    /// The low-income roster: keys, prepare, import, status, check
    #[command(subcommand)]
    Roster(roster_cmd::RosterCmd),
    /// Show the configured devices and their live state
    Devices,
    /// Print a sample ticket on the configured printer
    PrintTest,
    /// Figures over the journal: tickets, waits, service times, cases,
    /// ratings; the daily CSV export
    Stats(stats_cmd::StatsArgs),
    /// The city: the bureau's figures across halls (`report`) and its
    /// read-only page (`serve`), from the city database
    #[command(subcommand)]
    City(city_cmd::CityCmd),
    /// Database maintenance
    #[command(subcommand)]
    Store(store_cmd::StoreCmd),
    /// Issue a ticket (staff, over the API)
    Issue(client::IssueArgs),
    /// Call the next ticket, or a given number, to a window
    Call(client::CallArgs),
    /// Call the window's current ticket again
    Recall(client::WindowArgs),
    /// Start serving the window's current ticket
    Start(client::WindowArgs),
    /// Finish the window's current ticket
    Finish(client::WindowArgs),
    /// Mark the window's current ticket as a no-show
    Noshow(client::WindowArgs),
    /// Transfer the window's current ticket to another service or window
    Transfer(client::TransferArgs),
    /// Show the queue
    Queue(client::ServerArgs),
    /// The hall display: a full-screen call board following the daemon
    Board(board::BoardArgs),
    /// Hear the hall's voice: a call, any sentence, or the list of every
    /// sentence the daemon speaks (`--wav FILE`, `--dry-run`)
    #[command(subcommand)]
    Voice(voice_cmd::VoiceCmd),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or with --out DIR write one per
    /// subcommand, for packaging
    #[command(hide = true)]
    Manpage(manpage::ManpageArgs),
}

/// Sets up logging to stderr; `GREENWAVE_LOG` overrides the level. The
/// daemon logs at info; commands a person reads log only warnings.
/// `greenwave run` and `greenwave demo` set up their own (they may log to
/// a file while a screen has the terminal): see [`init_logging_to`].
pub fn init_logging(cli: &Cli) {
    use std::io::IsTerminal;
    if let Command::Run(_) | Command::Demo(_) = cli.command {
        return;
    }
    // The board draws on its terminal: a log line there would overwrite
    // the calls on screen (regression: a lost stream's warning wiped the
    // call sentence). The board shows its connection itself (连接中…);
    // with stderr redirected (a service, `2>board.log`) it logs as usual.
    if matches!(cli.command, Command::Board(_)) && std::io::stderr().is_terminal() {
        return;
    }
    init_logging_to(cli.verbose, true, None);
}

/// Logging at the level `verbose` asks for (`quiet`: warnings only by
/// default), to `file` or else stderr.
pub fn init_logging_to(verbose: u8, quiet: bool, file: Option<std::fs::File>) {
    let default = match verbose {
        0 if quiet => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GREENWAVE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match file {
        Some(f) => builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(f))
            .try_init(),
        None => builder.with_writer(std::io::stderr).try_init(),
    };
}

/// Runs one command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config.as_deref();
    if !matches!(
        cli.command,
        Command::Run(_) | Command::Demo(_) | Command::Board(_)
    ) {
        quiet_on_closed_pipe();
    }
    match cli.command {
        Command::Run(a) => run::run(config, cli.verbose, a),
        Command::Config(c) => config_cmd::run(config, c),
        Command::Init(a) => init::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Roster(c) => roster_cmd::run(config, c),
        Command::Store(c) => store_cmd::run(config, c),
        Command::Stats(a) => stats_cmd::run(config, a),
        Command::City(c) => city_cmd::run(config, c),
        Command::Devices => devices::devices(config),
        Command::Voice(c) => voice_cmd::run(config, c),
        Command::PrintTest => devices::print_test(config),
        Command::Issue(a) => client::issue(config, a),
        Command::Call(a) => client::call(config, a),
        Command::Recall(a) => client::window_op(config, a, "recall"),
        Command::Start(a) => client::window_op(config, a, "start"),
        Command::Finish(a) => client::window_op(config, a, "finish"),
        Command::Noshow(a) => client::window_op(config, a, "no-show"),
        Command::Transfer(a) => client::transfer(config, a),
        Command::Queue(a) => client::queue(config, a),
        Command::Board(a) => board::run(a),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "greenwave", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Manpage(a) => manpage::run(<Cli as clap::CommandFactory>::command(), a),
    }
}

/// A command whose output goes to a pipe closed early (`greenwave stats
/// --format json | head`) ends quietly, as `cat` does, instead of
/// panicking with a backtrace: the default action of SIGPIPE comes back.
/// Not for the daemon, the demo or the board, which write to sockets and
/// must see a closed connection as an error, not die of it.
fn quiet_on_closed_pipe() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: at the start of a one-shot command, before any thread is
    // spawned; SigDfl installs no handler code.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}
