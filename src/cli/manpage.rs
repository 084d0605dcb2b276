//! `greenwave manpage`: the man pages, rendered from the clap definitions
//! by clap_mangen, one per subcommand (`greenwave-run(1)`, nested ones as
//! `greenwave-roster-import(1)`), each completed with hand-written FILES,
//! ENVIRONMENT, EXIT STATUS, EXAMPLES and SEE ALSO sections. Hidden
//! subcommands get no page.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Command};
use clap_mangen::roff::{bold, roman, Roff};
use clap_mangen::Man;

/// Arguments of `greenwave manpage`.
#[derive(Debug, Args)]
pub struct ManpageArgs {
    /// Write every page (greenwave.1, greenwave-run.1, ...) into this
    /// directory instead of printing the main page
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub(super) fn run(cmd: Command, a: ManpageArgs) -> anyhow::Result<ExitCode> {
    let cmd = prepare(cmd);
    match a.out {
        None => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            out.write_all(render(&cmd, "").as_bytes())?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, text) in pages(&cmd) {
                let path = dir.join(format!("{name}.1"));
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The command tree without clap's `help` subcommands (they would get a
/// page and a mention each), built so that every subcommand knows its
/// display name (`greenwave-roster-import`).
fn prepare(cmd: Command) -> Command {
    fn no_help(c: Command) -> Command {
        c.disable_help_subcommand(true).mut_subcommands(no_help)
    }
    let mut cmd = no_help(cmd);
    cmd.build();
    cmd
}

/// Every page: (name, roff), the main one first.
fn pages(cmd: &Command) -> Vec<(String, String)> {
    fn walk(cmd: &Command, path: &str, out: &mut Vec<(String, String)>) {
        out.push((page_name(cmd), render(cmd, path)));
        for sub in visible(cmd) {
            let sub_path = if path.is_empty() {
                sub.get_name().to_string()
            } else {
                format!("{path} {}", sub.get_name())
            };
            walk(sub, &sub_path, out);
        }
    }
    let mut out = Vec::new();
    walk(cmd, "", &mut out);
    out
}

fn visible(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

fn page_name(cmd: &Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string()
}

/// One page: clap_mangen's sections, then ours.
fn render(cmd: &Command, path: &str) -> String {
    let man = Man::new(cmd.clone())
        .manual("greenwave")
        .source(concat!("greenwave ", env!("CARGO_PKG_VERSION")));
    let preamble = Roff::new().render();
    let mut out = String::new();
    let mut section = |f: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut buf = Vec::new();
        f(&mut buf).expect("writing to a Vec");
        let text = String::from_utf8(buf).expect("roff is UTF-8");
        if out.is_empty() {
            out.push_str(&text);
        } else {
            out.push_str(text.strip_prefix(&preamble).unwrap_or(&text));
        }
    };
    section(&|w| man.render_title(w));
    section(&|w| man.render_name_section(w));
    section(&|w| man.render_synopsis_section(w));
    section(&|w| man.render_description_section(w));
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        section(&|w| man.render_options_section(w));
    }
    if visible(cmd).next().is_some() {
        section(&|w| man.render_subcommands_section(w));
    }
    let extra = extra_sections(cmd, path);
    section(&|w| extra.to_writer(w));
    if cmd.get_version().or(cmd.get_long_version()).is_some() {
        section(&|w| man.render_version_section(w));
    }
    out
}

/// What a page says beyond the clap definitions.
#[derive(Clone, Copy)]
struct Page {
    /// Reads the configuration (and so its files and GREENWAVE_CONFIG).
    config: bool,
    /// Files besides the configuration.
    files: &'static [(&'static str, &'static str)],
    /// Environment variables the command reads besides its options'.
    env: &'static [(&'static str, &'static str)],
    /// Exit statuses besides 0, 1 and 2.
    exit: &'static [(&'static str, &'static str)],
    /// (what it does, the command).
    examples: &'static [(&'static str, &'static str)],
    /// Other pages.
    see_also: &'static [&'static str],
}

const CONFIG: &str = "/etc/greenwave/greenwave.toml";
const DB: (&str, &str) = (
    "/var/lib/greenwave/greenwave.db",
    "The hall's database (in data_dir): tickets and the event journal, cases, ratings, the \
     installed roster's state and the audit log.",
);
const HWM: (&str, &str) = (
    "/var/lib/greenwave/greenwave.hwm",
    "The high-water record: the last ticket number ever issued, checked against the database.",
);
const ROSTERS: (&str, &str) = ("/var/lib/greenwave/rosters/", "The installed roster files.");
const INBOX: (&str, &str) = (
    "/var/lib/greenwave/inbox/",
    "The roster inbox ([roster] inbox): a signed roster file (*.gwr) dropped here is installed, \
     then moved to inbox/done/ or, refused, to inbox/rejected/.",
);
const KEYS: (&str, &str) = (
    "/etc/greenwave/roster-public.key, /etc/greenwave/roster-hash.key",
    "The roster keys from ops ([roster] public_key and hash_key): the signature key's public \
     half and the hashing key (mode 0600, a secret).",
);
const UDEV: (&str, &str) = (
    "/dev/greenwave-idreader-usb-PORT, /dev/greenwave-printer-usb-PORT",
    "The ID card reader and the USB ticket printer, named after the USB port they are plugged \
     into (PORT as in lsusb -t, e.g. 1-2) by /lib/udev/rules.d/60-greenwave.rules.",
);
const CLIENT_EXIT: &[(&str, &str)] = &[
    (
        "1",
        "An error, e.g. the daemon could not be reached (无法连接 greenwave 服务); the message \
         starts with 错误： on standard error.",
    ),
    (
        "2",
        "The daemon refused the request (its reason is on standard error), or the command line \
         is wrong.",
    ),
];
const CLIENT_SEE: &[&str] = &["greenwave-queue", "greenwave-call", "greenwave-run"];

/// A page with nothing beyond the clap definitions.
const EMPTY: Page = Page {
    config: false,
    files: &[],
    env: &[],
    exit: &[],
    examples: &[],
    see_also: &[],
};

/// What each page says beyond the clap definitions, by the command's path
/// (`""` the main page, `"roster import"`).
const PAGES: &[(&[&str], Page)] = &[
    (&[""], Page {
        config: true,
        files: &[
            DB,
            HWM,
            INBOX,
            ("/etc/greenwave/board.env", "The hall display's server and token, for greenwave-board.service (mode 0640)."),
            ("/lib/systemd/system/greenwave.service", "The daemon's unit: greenwave run as the user greenwave."),
            ("/lib/systemd/system/greenwave-board.service", "The hall display on tty1, inside fbterm."),
            UDEV,
        ],
        exit: &[("3, 4", "Some commands report a finding this way; see their pages.")],
        examples: &[
            ("Write a working configuration for a one-machine hall, with the ops roster keys:", "sudo greenwave init --roster-keys ~/ops-keys"),
            ("Check it, look at the devices, start the daemon:", "sudo greenwave config check\nsudo -u greenwave greenwave devices\nsudo systemctl enable --now greenwave"),
            ("See the whole mechanism on a throw-away hall with simulated devices:", "greenwave demo"),
        ],
        see_also: &["systemctl(1)", "fbterm(1)", "udev(7)"],
        ..EMPTY
    }),
    (&["init"], Page {
        files: &[
            ("/etc/greenwave/greenwave.toml", "Written (mode 0640, group greenwave): the package's untouched example is replaced; any other file only with --force."),
            ("/etc/greenwave/board.env", "Written when absent or still the package's placeholder: the display token for greenwave-board.service."),
            ("/etc/greenwave/roster-public.key, /etc/greenwave/roster-hash.key", "Copied from --roster-keys; without it and without ops keys in DIR, a local key pair (and roster-signing.key) is made, to be replaced by the ops keys."),
            ("/lib/udev/rules.d/60-greenwave.rules", "Read for the device names it gives (/etc/udev/rules.d/ first); the devices are then looked for under /dev."),
            ("/var/lib/greenwave", "The data directory the file names (--data-dir)."),
        ],
        examples: &[
            ("Ask for the hall's name, services and windows, with the ops keys:", "sudo greenwave init --roster-keys ~/ops-keys"),
            ("Ask nothing: three windows, two services, into a test directory:", "greenwave init --yes --windows 3 --services civil:民政救助,medical:医保业务 ./hall"),
        ],
        see_also: &["greenwave-config-check", "greenwave-roster-keygen", "greenwave-devices"],
        ..EMPTY
    }),
    (&["run"], Page {
        config: true,
        files: &[
            DB,
            HWM,
            ROSTERS,
            INBOX,
            KEYS,
            ("/var/lib/greenwave/greenwave.log", "The log, when the kiosk screen has the terminal (otherwise the log goes to standard error, the journal under systemd)."),
            UDEV,
        ],
        env: &[("PATH", "Where the voice command ([voice] command, espeak-ng by default) is looked for.")],
        exit: &[
            ("0", "Stopped cleanly: SIGTERM, Ctrl-C or the kiosk screen's quit key."),
            ("1", "Could not start or stopped on an error: a mistake in the configuration, a database behind its high-water record (see --accept-loss), the API's port in use. Under systemd the unit restarts it (Restart=on-failure)."),
        ],
        examples: &[
            ("The daemon as the package runs it:", "sudo systemctl enable --now greenwave\njournalctl -u greenwave -f"),
            ("In the foreground, without the kiosk screen, on another port:", "greenwave --config ./hall/greenwave.toml run --no-screen --listen 127.0.0.1:8081"),
            ("Re-read the configuration of the running daemon:", "sudo systemctl reload greenwave"),
        ],
        see_also: &["greenwave-config-check", "greenwave-store-verify", "greenwave-board"],
    }),
    (&["config", "config check"], Page {
        config: true,
        files: &[KEYS],
        examples: &[
            ("Check the installed configuration; a mistake is named by file, line and key:", "sudo greenwave config check"),
            ("Check another file:", "greenwave --config ./hall/greenwave.toml config check"),
        ],
        see_also: &["greenwave-init", "greenwave-run"],
        ..EMPTY
    }),
    (&["demo"], Page {
        files: &[("(a temporary directory)", "The demo hall's configuration, keys, roster and database, removed at the end; --dir keeps them in a directory of your choice.")],
        env: &[("PATH", "Where espeak-ng is looked for, for the hall's voice.")],
        examples: &[
            ("The demonstration on the terminal:", "greenwave demo"),
            ("The story as lines, without pauses, keeping the hall:", "greenwave demo --no-screen --pace 0 --dir ./demo-hall"),
        ],
        see_also: &["greenwave-run", "greenwave-board"],
        ..EMPTY
    }),
    (&["roster"], Page {
        config: true,
        files: &[DB, ROSTERS, INBOX, KEYS],
        exit: &[("3", "roster check: no roster is installed.")],
        examples: &[
            ("Ops, once for the city: the keys:", "greenwave roster keygen --out ~/ops-keys"),
            ("Hall: install a roster file and look at it:", "sudo greenwave roster import roster-12.gwr\nsudo greenwave roster status"),
        ],
        ..EMPTY
    }),
    (&["roster keygen"], Page {
        files: &[("DIR/roster-signing.key, DIR/roster-public.key, DIR/roster-hash.key", "Written into --out (created mode 0700); existing keys are never overwritten. The signing key stays with ops; halls get the other two.")],
        examples: &[("Make the city's keys on the ops machine:", "greenwave roster keygen --out ~/ops-keys")],
        see_also: &["greenwave-roster-prepare", "greenwave-init"],
        ..EMPTY
    }),
    (&["roster prepare"], Page {
        config: true,
        files: &[
            ("KEYDIR/roster-signing.key, KEYDIR/roster-hash.key", "The ops keys (--keys)."),
            ("OUT.report.txt", "The report of every refused or skipped row (--report)."),
        ],
        exit: &[("1", "The export was refused (invalid rows, listed in the report); no roster file was written.")],
        examples: &[
            ("Sign version 12 of the bureau's export:", "greenwave roster prepare export.xlsx --keys ~/ops-keys --version 12 --out roster-12.gwr"),
            ("A delta from version 11's export:", "greenwave roster prepare export-12.csv --keys ~/ops-keys --version 12 --delta-from export-11.csv --out delta-11-12.gwr"),
        ],
        see_also: &["greenwave-roster-publish", "greenwave-roster-import"],
        ..EMPTY
    }),
    (&["roster publish"], Page {
        files: &[("DIR/index.json", "The signed index the halls fetch ([roster] source), rewritten; the roster file is copied beside it as roster-N.gwr or delta-A-B.gwr.")],
        examples: &[("Publish a roster into the web server's directory:", "greenwave roster publish roster-12.gwr /srv/www/greenwave --signing-key ~/ops-keys/roster-signing.key")],
        see_also: &["greenwave-roster-prepare"],
        ..EMPTY
    }),
    (&["roster import"], Page {
        config: true,
        files: &[DB, ROSTERS, KEYS],
        examples: &[("Install a roster file from ops:", "sudo greenwave roster import roster-12.gwr")],
        see_also: &["greenwave-roster-status"],
        ..EMPTY
    }),
    (&["roster status"], Page {
        config: true,
        files: &[DB, ROSTERS],
        examples: &[("The installed roster's version, size and dates:", "sudo greenwave roster status")],
        see_also: &["greenwave-roster-import"],
        ..EMPTY
    }),
    (&["roster check"], Page {
        config: true,
        files: &[DB, ROSTERS, KEYS],
        exit: &[
            ("0", "The number is on the roster."),
            ("1", "The number is valid but not on the roster (or an error)."),
            ("2", "Not a valid ID number (or a usage error)."),
            ("3", "No roster is installed."),
        ],
        examples: &[("Is a resident on the roster? (audited; prints no name)", "sudo greenwave roster check 11010519491231002X")],
        see_also: &["greenwave-roster-status"],
        ..EMPTY
    }),
    (&["devices"], Page {
        config: true,
        files: &[UDEV],
        exit: &[("4", "A configured device is missing or in trouble (as printed).")],
        examples: &[("As the daemon's user, which has the devices' groups:", "sudo -u greenwave greenwave devices")],
        see_also: &["greenwave-print-test"],
        ..EMPTY
    }),
    (&["print-test"], Page {
        config: true,
        files: &[UDEV],
        exit: &[("4", "The printer did not print the sample ticket (the reason is printed).")],
        examples: &[("Print a sample ticket:", "sudo -u greenwave greenwave print-test")],
        see_also: &["greenwave-devices"],
        ..EMPTY
    }),
    (&["stats"], Page {
        config: true,
        files: &[DB, ("greenwave-stats-YYYY-MM-DD.csv", "One file per service day, written into --daily-csv DIR.")],
        examples: &[
            ("This month's figures per service:", "sudo greenwave stats --from 2026-12-01 --by service"),
            ("A payout day hour by hour, with who was still waiting at the end of each hour:", "sudo greenwave stats --from 2026-12-10 --to 2026-12-10 --by hour"),
            ("An Excel workbook:", "sudo greenwave stats --format xlsx --out figures.xlsx"),
            ("The daily export, for Excel on a Chinese Windows:", "sudo greenwave stats --daily-csv /tmp/export --excel"),
        ],
        see_also: &["greenwave-city"],
        ..EMPTY
    }),
    (&["city", "city report", "city serve"], Page {
        config: true,
        examples: &[
            ("The figures across halls per hall, from the city database:", "GREENWAVE_CITY_DATABASE_URL=postgres://bureau@db/city greenwave city report --from 2026-12-01 --to 2026-12-31 --by hall"),
            ("A payout day across the city, hour by hour:", "greenwave city report --from 2026-12-10 --to 2026-12-10 --by hour"),
            ("The bureau's read-only page:", "greenwave city serve --listen 127.0.0.1:8090"),
        ],
        see_also: &["greenwave-stats"],
        ..EMPTY
    }),
    (&["store", "store verify"], Page {
        config: true,
        files: &[DB, HWM],
        exit: &[("3", "The journal and the stored state (or the high-water record) disagree; each difference is printed.")],
        examples: &[("Check the database, the daemon stopped or running:", "sudo greenwave store verify")],
        see_also: &["greenwave-run"],
        ..EMPTY
    }),
    (&["issue"], client_page(&[
        ("A normal ticket for a service:", "greenwave issue --service civil"),
        ("The manager gives the priority lane (audited):", "greenwave issue --service civil --priority --reason \"行动不便\""),
    ])),
    (&["call"], client_page(&[
        ("Call the next ticket to window 3:", "greenwave call --window 3"),
        ("Call a given number:", "greenwave call --window 3 --number GA012"),
    ])),
    (&["transfer"], client_page(&[(
        "Send window 3's ticket to the housing service:",
        "greenwave transfer --window 3 --to-service housing --note \"材料已收\"",
    )])),
    (&["queue"], client_page(&[
        ("The queue of a hall server, as JSON:", "GREENWAVE_SERVER=http://192.168.1.10:8080 greenwave queue --json"),
    ])),
    (&["recall", "start", "finish", "noshow"], client_page(&[(
        "At window 3 (the token from the configuration or GREENWAVE_TOKEN):",
        "greenwave call --window 3\ngreenwave recall --window 3\ngreenwave start --window 3\ngreenwave finish --window 3\ngreenwave noshow --window 3",
    )])),
    (&["board"], Page {
        files: &[
            ("/etc/greenwave/board.env", "The environment of greenwave-board.service: GREENWAVE_SERVER, GREENWAVE_TOKEN, GREENWAVE_WINDOW, GREENWAVE_BOARD_FONT_SIZE (mode 0640)."),
            ("/lib/systemd/system/greenwave-board.service", "The board on tty1, inside fbterm with the WenQuanYi Micro Hei font (/usr/libexec/greenwave/board-console)."),
        ],
        env: &[(
            "GREENWAVE_BOARD_FONT_SIZE, GREENWAVE_BOARD_FONT",
            "Read by greenwave-board.service's board-console, not by greenwave: fbterm's font size in pixels (default 32) and family (default WenQuanYi Micro Hei Mono).",
        )],
        examples: &[
            ("The hall board, the token out of the command line:", "GREENWAVE_TOKEN=... greenwave board --server http://192.168.1.10:8080"),
            ("The small screen over window 3:", "GREENWAVE_TOKEN=... greenwave board --server http://192.168.1.10:8080 --window 3"),
            ("On the hall's TV (tty1), after editing /etc/greenwave/board.env:", "sudo systemctl enable --now greenwave-board"),
        ],
        see_also: &["fbterm(1)", "greenwave-run"],
        ..EMPTY
    }),
    (&["voice", "voice call", "voice say", "voice sentences"], Page {
        config: true,
        env: &[("PATH", "Where the voice command ([voice] command, espeak-ng by default) is looked for.")],
        examples: &[
            ("Say a call on the sound card:", "greenwave voice call GA012 3"),
            ("Render it to a file, or print the command:", "greenwave voice call GA012 3 --wav a.wav\ngreenwave voice call GA012 3 --dry-run"),
            ("Any sentence; every sentence the daemon can say:", "greenwave voice say \"请到 3 号窗口\"\ngreenwave voice sentences"),
        ],
        see_also: &["espeak-ng(1)", "greenwave-run"],
        ..EMPTY
    }),
    (&["completions"], Page {
        files: &[(
            "/usr/share/bash-completion/completions/greenwave",
            "The package's bash completion (zsh and fish ones under /usr/share/zsh/vendor-completions and /usr/share/fish/vendor_completions.d).",
        )],
        examples: &[("Completion for a shell the package does not cover:", "greenwave completions elvish > ~/.config/elvish/lib/greenwave.elv")],
        ..EMPTY
    }),
];

/// A window command's page (it talks to the daemon).
const fn client_page(examples: &'static [(&'static str, &'static str)]) -> Page {
    Page {
        config: true,
        exit: CLIENT_EXIT,
        examples,
        see_also: CLIENT_SEE,
        ..EMPTY
    }
}

fn page(path: &str) -> Page {
    PAGES
        .iter()
        .find(|(paths, _)| paths.contains(&path))
        .map_or(EMPTY, |(_, page)| *page)
}

/// FILES, ENVIRONMENT, EXIT STATUS, EXAMPLES and SEE ALSO.
fn extra_sections(cmd: &Command, path: &str) -> Roff {
    let p = page(path);
    let mut r = Roff::new();
    files_section(&mut r, &p);
    env_section(&mut r, cmd, &p, path);
    exit_section(&mut r, &p);
    examples_section(&mut r, cmd, &p);
    see_also_section(&mut r, cmd, &p, path);
    r
}

/// A tagged paragraph: the tag in bold, the text under it.
fn item(r: &mut Roff, tag: &str, text: &str) {
    r.control("TP", []);
    r.text([bold(tag)]);
    r.text([roman(text)]);
}

fn files_section(r: &mut Roff, p: &Page) {
    r.control("SH", ["FILES"]);
    if p.config {
        item(
            r,
            CONFIG,
            "The configuration (mode 0640, root:greenwave: it holds the API tokens). Without \
             --config and GREENWAVE_CONFIG, the first of /etc/greenwave/greenwave.toml and \
             ./config/greenwave.toml that exists.",
        );
        item(
            r,
            "/etc/greenwave/policies.toml",
            "The policies helpers explain, named by the configuration (a missing file means \
             none).",
        );
    }
    for (f, what) in p.files {
        item(r, f, what);
    }
    if !p.config && p.files.is_empty() {
        r.text([roman("None: this command reads no file of the hall.")]);
    }
}

fn env_section(r: &mut Roff, cmd: &Command, p: &Page, path: &str) {
    r.control("SH", ["ENVIRONMENT"]);
    let mut seen: Vec<String> = Vec::new();
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let Some(var) = a.get_env().map(|v| v.to_string_lossy().into_owned()) else {
            continue;
        };
        if (var == "GREENWAVE_CONFIG" && !p.config) || seen.contains(&var) {
            continue;
        }
        let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        let opt = a.get_long().map(|l| format!("--{l}")).unwrap_or_default();
        item(
            r,
            &var,
            &format!("The value of {opt} when it is not given: {help}"),
        );
        seen.push(var);
    }
    item(
        r,
        "GREENWAVE_LOG",
        &format!(
            "What to log, as a tracing filter (warn, info, debug, trace, or greenwave=debug); \
             overrides -v. The daemon and the demo log at info by default, other commands only \
             warnings; logs go to standard error.{}",
            if path == "board" {
                " The board logs nothing while standard error is its own terminal."
            } else {
                ""
            }
        ),
    );
    for (var, what) in p.env {
        item(r, var, what);
    }
}

fn exit_section(r: &mut Roff, p: &Page) {
    r.control("SH", ["EXIT STATUS"]);
    let specific = |code: &str| p.exit.iter().any(|(c, _)| *c == code);
    if !specific("0") {
        item(r, "0", "Success.");
    }
    if !specific("1") {
        item(
            r,
            "1",
            "An error; the message is on standard error, starting with error: (for ops) or 错误： (for hall staff).",
        );
    }
    if !specific("2") {
        item(
            r,
            "2",
            "The command line is wrong (an unknown option, a missing argument).",
        );
    }
    for (code, what) in p.exit {
        item(r, code, what);
    }
}

fn examples_section(r: &mut Roff, cmd: &Command, p: &Page) {
    r.control("SH", ["EXAMPLES"]);
    for (what, command) in p.examples {
        r.control("PP", []);
        r.text([roman(*what)]);
        r.control("RS", ["4"]);
        r.control("nf", []);
        for line in command.lines() {
            r.text([roman(line)]);
        }
        r.control("fi", []);
        r.control("RE", []);
    }
    if p.examples.is_empty() {
        let bin = cmd.get_bin_name().unwrap_or("greenwave");
        r.text([roman(format!("{bin} --help"))]);
    }
}

fn see_also_section(r: &mut Roff, cmd: &Command, p: &Page, path: &str) {
    r.control("SH", ["SEE ALSO"]);
    let mut refs: Vec<String> = Vec::new();
    if let Some(parent) = path.rsplit_once(' ').map(|(p, _)| p) {
        refs.push(format!("greenwave-{}(1)", parent.replace(' ', "-")));
    }
    if !path.is_empty() {
        refs.push("greenwave(1)".into());
    }
    refs.extend(visible(cmd).map(|s| format!("{}-{}(1)", page_name(cmd), s.get_name())));
    for s in p.see_also {
        let r = if s.contains('(') {
            s.to_string()
        } else {
            format!("{s}(1)")
        };
        if !refs.contains(&r) && r != format!("{}(1)", page_name(cmd)) {
            refs.push(r);
        }
    }
    let n = refs.len();
    for (i, s) in refs.iter().enumerate() {
        let (name, sec) = s.split_once('(').unwrap_or((s, ""));
        r.text([
            bold(name),
            roman(format!("({sec}{}", if i + 1 < n { "," } else { "" })),
        ]);
    }
}
