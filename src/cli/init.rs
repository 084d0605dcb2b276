//! `greenwave init [DIR]`: a working configuration for a one-machine hall,
//! asked on a terminal or taken from flags; the file itself is
//! [`crate::setup::render`]'s.

use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;

use crate::config::Config;
use crate::roster::keys::{HASH_KEY_FILE, PUBLIC_KEY_FILE, SIGNING_KEY_FILE};
use crate::setup::{self, Found, Plan, RosterKeys, Tokens};

/// The package's example, replaced without `--force` while untouched.
const SHIPPED_EXAMPLE: &str = include_str!("../../config/greenwave.toml");
/// Where the package puts the configuration.
const ETC: &str = "/etc/greenwave";
/// Where the package's udev rules name the devices.
const UDEV_RULES: [&str; 2] = [
    "/etc/udev/rules.d/60-greenwave.rules",
    "/lib/udev/rules.d/60-greenwave.rules",
];

/// Arguments of `greenwave init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory for greenwave.toml and the roster keys
    #[arg(default_value = ETC)]
    dir: PathBuf,
    /// Ask nothing: flags, else defaults; simulated devices where none are
    /// found; a local roster key pair unless --roster-keys
    #[arg(long, short)]
    yes: bool,
    /// Replace an existing greenwave.toml (its tokens change)
    #[arg(long)]
    force: bool,
    /// The hall's name, printed on tickets [default: 便民服务中心]
    #[arg(long)]
    hall_name: Option<String>,
    /// The services, "code:name[:LETTER],..." [default: civil:民政救助]
    #[arg(long)]
    services: Option<String>,
    /// How many windows (each calls every service) [default: 2]
    #[arg(long)]
    windows: Option<usize>,
    /// How many helpers (协办员) [default: 1]
    #[arg(long)]
    helpers: Option<usize>,
    /// The API's address [default: 0.0.0.0:8080]
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// The data directory [default: /var/lib/greenwave for /etc/greenwave, else DIR/data]
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The ops roster keys: a directory with roster-public.key and
    /// roster-hash.key (copied beside the file)
    #[arg(long, value_name = "KEYDIR")]
    roster_keys: Option<PathBuf>,
    /// Simulated reader and printer even where devices are found
    #[arg(long)]
    simulate: bool,
    /// Where to look for devices (tests)
    #[arg(long, hide = true, default_value = "/dev")]
    dev_root: PathBuf,
}

/// The answers: from flags, defaults, or the terminal.
struct Answers {
    hall_name: String,
    services: Vec<setup::ServiceSpec>,
    windows: usize,
    helpers: usize,
    roster_keys: Option<PathBuf>,
}

pub(super) fn run(a: InitArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&a.dir)
        .with_context(|| format!("cannot create {}", a.dir.display()))?;
    let dir = a.dir.canonicalize()?;
    let target = dir.join("greenwave.toml");
    let replacing_example = check_target(&target, a.force)?;
    let interactive = !a.yes && std::io::stdin().is_terminal();
    let answers = answers(&a, interactive)?;
    let devices = if a.simulate {
        Found::default()
    } else {
        let rules = UDEV_RULES
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok());
        setup::scan_devices(&a.dev_root, &setup::udev_names(&rules.unwrap_or_default()))
    };
    let plan = Plan {
        hall_name: answers.hall_name,
        services: answers.services,
        tokens: Tokens::random(answers.windows, answers.helpers)
            .map_err(|e| anyhow::anyhow!("no random numbers from the OS: {e}"))?,
        listen: a.listen.map_or("0.0.0.0:8080".into(), |l| l.to_string()),
        data_dir: a.data_dir.clone().unwrap_or_else(|| default_data_dir(&dir)),
        devices,
        keys: roster_keys(&dir, answers.roster_keys.as_deref(), a.force)?,
    };
    let text = setup::render(&plan);
    // Never write a file that would not start.
    Config::parse(&text, &target).context("the configuration init made is not valid")?;
    write_private(&target, &text)?;
    let board = dir.join("board.env");
    let wrote_board = replaceable(&board, a.force)
        && write_private(&board, &setup::render_board_env(&plan)).is_ok();
    report(
        &plan,
        &target,
        replacing_example,
        wrote_board.then_some(board.as_path()),
    );
    Ok(ExitCode::SUCCESS)
}

/// Whether `target` may be written: absent, the package's untouched
/// example (`Ok(true)`), or `--force`.
fn check_target(target: &Path, force: bool) -> anyhow::Result<bool> {
    match std::fs::read_to_string(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", target.display())),
        Ok(text) if text == SHIPPED_EXAMPLE => Ok(true),
        Ok(_) if force => Ok(false),
        Ok(_) => bail!(
            "{} already exists; nothing was written. Pass --force to replace it (every token changes: staff, helpers and displays log in again)",
            target.display()
        ),
    }
}

/// `board.env` is written when absent, still the package's placeholder, or
/// with `--force`.
fn replaceable(path: &Path, force: bool) -> bool {
    match std::fs::read_to_string(path) {
        Err(_) => !path.exists(),
        Ok(text) => force || text.contains("change-me"),
    }
}

fn default_data_dir(dir: &Path) -> PathBuf {
    if dir == Path::new(ETC) {
        PathBuf::from("/var/lib/greenwave")
    } else {
        dir.join("data")
    }
}

/// The hall's name, services, windows, helpers and the ops keys' directory:
/// flags first; on a terminal without `--yes` the rest is asked.
fn answers(a: &InitArgs, interactive: bool) -> anyhow::Result<Answers> {
    let ask = |q: &str, flag: Option<String>, default: &str| -> anyhow::Result<String> {
        match flag {
            Some(v) => Ok(v),
            None if interactive => prompt(q, default),
            None => Ok(default.to_string()),
        }
    };
    let hall_name = ask(
        "Hall name (printed on tickets)",
        a.hall_name.clone(),
        "便民服务中心",
    )?;
    let services = ask(
        "Services, code:name separated by commas",
        a.services.clone(),
        "civil:民政救助",
    )?;
    let windows = ask("Number of windows", a.windows.map(|n| n.to_string()), "2")?;
    let helpers = ask(
        "Number of helpers (协办员)",
        a.helpers.map(|n| n.to_string()),
        "1",
    )?;
    let keys = ask(
        "Directory with the ops roster keys (empty: make local keys for now)",
        a.roster_keys.as_ref().map(|p| p.display().to_string()),
        "",
    )?;
    let windows: usize = windows
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=99).contains(n))
        .context("the number of windows must be 1 to 99")?;
    let helpers: usize = helpers
        .trim()
        .parse()
        .ok()
        .filter(|n| *n <= 99)
        .context("the number of helpers must be 0 to 99")?;
    if hall_name.trim().is_empty() {
        bail!("the hall's name must not be empty");
    }
    Ok(Answers {
        hall_name: hall_name.trim().to_string(),
        services: setup::parse_services(&services).map_err(anyhow::Error::msg)?,
        windows,
        helpers,
        roster_keys: (!keys.trim().is_empty()).then(|| PathBuf::from(keys.trim())),
    })
}

/// One question on the terminal; an empty answer takes the default.
fn prompt(question: &str, default: &str) -> anyhow::Result<String> {
    print!("{question} [{default}]: ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim();
    Ok(if line.is_empty() { default } else { line }.to_string())
}

/// The roster keys beside the file: the ops keys copied from `from`, the
/// ops keys already there, or a local key pair made now.
fn roster_keys(dir: &Path, from: Option<&Path>, force: bool) -> anyhow::Result<RosterKeys> {
    let (public, hash) = (dir.join(PUBLIC_KEY_FILE), dir.join(HASH_KEY_FILE));
    if let Some(from) = from {
        let from = from
            .canonicalize()
            .with_context(|| format!("--roster-keys {}", from.display()))?;
        for name in [PUBLIC_KEY_FILE, HASH_KEY_FILE] {
            let src = from.join(name);
            if !src.is_file() {
                bail!(
                    "{} is missing: ops make it with `greenwave roster keygen` on the ops machine",
                    src.display()
                );
            }
            if from != dir {
                if dir.join(name).exists() && !force {
                    bail!(
                        "{} already exists; pass --force to replace it with {}",
                        dir.join(name).display(),
                        src.display()
                    );
                }
                let mode = if name == HASH_KEY_FILE { 0o600 } else { 0o644 };
                let data = std::fs::read(&src)
                    .with_context(|| format!("cannot read {}", src.display()))?;
                write_file(&dir.join(name), &data, mode)?;
            }
        }
        return Ok(RosterKeys::Ops { from });
    }
    let local = dir.join(SIGNING_KEY_FILE).exists();
    if public.exists() && hash.exists() {
        // Ops never hand out the signing key: with it here the pair is local.
        return Ok(if local {
            RosterKeys::Local
        } else {
            RosterKeys::Ops {
                from: dir.to_path_buf(),
            }
        });
    }
    crate::roster::keygen(dir).context("cannot make the local roster keys")?;
    share_with_daemon(&hash, 0o600)?;
    Ok(RosterKeys::Local)
}

/// Writes `text` to `path` (mode 0640, replaced atomically), readable by
/// the daemon's group.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    write_file(path, text.as_bytes(), 0o640)
}

fn write_file(path: &Path, data: &[u8], mode: u32) -> anyhow::Result<()> {
    let tmp = path.with_extension("init-tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(data)?;
    f.sync_all()?;
    share_with_daemon(&tmp, mode)?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Sets `mode`; as root, hands `path` to the daemon's user `greenwave`
/// (made by the package): a secret key (0600) to the user itself, as the
/// key loader wants, anything else to root with the group greenwave.
/// Elsewhere the caller keeps it.
fn share_with_daemon(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    let is_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let id = |file: &str| -> Option<u32> {
        let text = std::fs::read_to_string(file).ok()?;
        let rest = text.lines().find_map(|l| l.strip_prefix("greenwave:"))?;
        rest.split(':').nth(1)?.parse().ok()
    };
    if let (true, Some(uid), Some(gid)) = (is_root, id("/etc/passwd"), id("/etc/group")) {
        let owner = if mode == 0o600 { uid } else { 0 };
        std::os::unix::fs::chown(path, Some(owner), Some(gid))
            .with_context(|| format!("cannot give {} to the user greenwave", path.display()))?;
    }
    Ok(())
}

/// What was written and what to do next (for ops, in English; the
/// manager's token once, as it is needed to log in).
fn report(plan: &Plan, target: &Path, replaced_example: bool, board: Option<&Path>) {
    let dir = target.parent().unwrap_or(Path::new("."));
    if replaced_example {
        println!("Replaced the package's example configuration.");
    }
    println!("Wrote {}.", target.display());
    if let Some(b) = board {
        println!(
            "Wrote {} (the hall display's address and token).",
            b.display()
        );
    }
    match &plan.keys {
        RosterKeys::Local => println!(
            "Roster keys: LOCAL keys in {} (roster-public.key, roster-hash.key, roster-signing.key); replace them with the ops keys before installing a roster from ops.",
            dir.display()
        ),
        RosterKeys::Ops { from } => println!("Roster keys: the ops keys from {}.", from.display()),
    }
    let show = |p: &Option<PathBuf>, none: &str| {
        p.as_ref()
            .map_or(none.to_string(), |p| p.display().to_string())
    };
    println!(
        "ID card reader: {}.",
        show(&plan.devices.reader, "simulated (none found)")
    );
    println!(
        "Printer: {}.",
        show(
            &plan.devices.printer,
            "simulated, tickets go to the log (none found)"
        )
    );
    println!("Data directory: {}.", plan.data_dir.display());
    println!(
        "Manager token (shown once; it is in the file): {}",
        plan.tokens.manager
    );
    println!("Next steps:");
    println!("  greenwave config check --config {}", target.display());
    if dir == Path::new(ETC) {
        println!("  systemctl enable --now greenwave");
    } else {
        println!("  greenwave --config {} run", target.display());
    }
    if plan.keys == RosterKeys::Local {
        println!("  ops: `greenwave roster keygen` on the ops machine, then copy roster-public.key and roster-hash.key into {}", dir.display());
    }
}
