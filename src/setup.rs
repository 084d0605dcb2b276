//! What `greenwave init` writes, as pure functions: a [`Plan`] for a
//! one-machine hall (services, windows, helpers, tokens, devices, roster
//! keys) rendered as a commented `greenwave.toml` by [`render`]; the
//! services flag parsed by [`parse_services`]; the devices found under a
//! `/dev` by [`scan_devices`] (the only function here that reads).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One service of the hall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    /// ASCII code (`civil`).
    pub code: String,
    /// What residents read (`民政救助`).
    pub name: String,
    /// Letter of its ticket numbers.
    pub letter: char,
}

/// The tokens written, one per key; all distinct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// One per window, in order.
    pub windows: Vec<String>,
    /// One per helper, in order.
    pub helpers: Vec<String>,
    /// `[api] manager_token`.
    pub manager: String,
    /// `[api] display_token`.
    pub display: String,
}

impl Tokens {
    /// Fresh random tokens (32 hex characters each, from the OS's random
    /// source) for `windows` windows and `helpers` helpers.
    pub fn random(windows: usize, helpers: usize) -> Result<Tokens, getrandom::Error> {
        let one = || -> Result<String, getrandom::Error> {
            let mut b = [0u8; 16];
            getrandom::fill(&mut b)?;
            Ok(hex::encode(b))
        };
        Ok(Tokens {
            windows: (0..windows).map(|_| one()).collect::<Result<_, _>>()?,
            helpers: (0..helpers).map(|_| one()).collect::<Result<_, _>>()?,
            manager: one()?,
            display: one()?,
        })
    }

    /// Every token, in file order.
    pub fn all(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.windows.iter().map(String::as_str).collect();
        v.extend(self.helpers.iter().map(String::as_str));
        v.push(&self.manager);
        v.push(&self.display);
        v
    }
}

/// Where the roster keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterKeys {
    /// A key pair made by `greenwave init` on this machine: to be replaced
    /// with the ops keys.
    Local,
    /// The ops keys (`roster-public.key`, `roster-hash.key`), beside the
    /// file; `from` is where they were found.
    Ops {
        /// The directory they came from.
        from: PathBuf,
    },
}

/// The devices found on this machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// The ID card reader's serial port (a udev name first).
    pub reader: Option<PathBuf>,
    /// A USB printer-class printer (a udev name first).
    pub printer: Option<PathBuf>,
    /// Every serial port and printer seen, for the file's comments.
    pub seen: Vec<PathBuf>,
}

/// Everything `greenwave init` puts in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `[hall] name`.
    pub hall_name: String,
    /// The services, every window calls each of them.
    pub services: Vec<ServiceSpec>,
    /// The tokens (their count gives the windows and helpers).
    pub tokens: Tokens,
    /// `[api] listen`.
    pub listen: String,
    /// `data_dir` (the roster inbox and the exports go inside).
    pub data_dir: PathBuf,
    /// The devices to drive; `None` for the simulated ones.
    pub devices: Found,
    /// The roster keys.
    pub keys: RosterKeys,
}

/// The services flag: `civil:民政救助,medical:医保业务`, each `code:name` or
/// `code:name:LETTER`; letters not given are the first free ones from A,
/// skipping `G` (the priority prefix).
pub fn parse_services(s: &str) -> Result<Vec<ServiceSpec>, String> {
    let mut out: Vec<ServiceSpec> = Vec::new();
    let mut pending = Vec::new();
    for (i, item) in s.split([',', '，']).map(str::trim).enumerate() {
        let parts: Vec<&str> = item.split([':', '：']).map(str::trim).collect();
        let (code, name, letter) = match parts[..] {
            [c, n] => (c, n, None),
            [c, n, l] if l.len() == 1 && l.chars().all(|c| c.is_ascii_uppercase()) => {
                (c, n, l.chars().next())
            }
            _ => {
                return Err(format!(
                "service {} \"{item}\" must be code:name or code:name:LETTER (e.g. civil:民政救助)",
                i + 1
            ))
            }
        };
        if !crate::config::is_code(code) || name.is_empty() {
            return Err(format!("service {} \"{item}\": the code must be 1-32 characters of a-z, 0-9, _ or -, and the name must not be empty", i + 1));
        }
        if out.iter().any(|o| o.code == code) {
            return Err(format!("service code \"{code}\" is given twice"));
        }
        if letter.is_some_and(|l| l == 'G' || out.iter().any(|o| o.letter == l)) {
            return Err(format!(
                "service \"{code}\": letter {} is taken (G is the priority lane's)",
                letter.unwrap_or('?')
            ));
        }
        pending.push(out.len());
        out.push(ServiceSpec {
            code: code.to_string(),
            name: name.to_string(),
            letter: letter.unwrap_or(' '),
        });
    }
    for i in pending {
        if out[i].letter != ' ' {
            continue;
        }
        let free = ('A'..='Z')
            .find(|l| *l != 'G' && !out.iter().any(|o| o.letter == *l))
            .ok_or("more than 25 services")?;
        out[i].letter = free;
    }
    Ok(out)
}

/// The names the udev rules give the kiosk's devices (`SYMLINK+="…"`), up
/// to the first substitution: the rules name each device after its USB
/// port (`greenwave-idreader-usb-$id`), so what is known in advance is
/// the stem (`greenwave-idreader-usb-`).
pub fn udev_names(rules: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for rest in rules
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.split("SYMLINK+=\"").skip(1))
    {
        let name = rest.split(['"', '$', '%']).next().unwrap_or_default();
        if !name.is_empty() && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// The serial ports and printers under `dev` (`ttyUSB*`, `ttyACM*`,
/// `usb/lp*`, and the udev names starting with one of `names`, the stems
/// of [`udev_names`]): the reader is the first udev name without "printer"
/// in it, else the first serial port; the printer the first udev name with
/// "printer", else the first `usb/lp*`.
pub fn scan_devices(dev: &Path, names: &[String]) -> Found {
    let list = |dir: &Path, prefixes: &[&str]| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                prefixes.iter().any(|p| n.starts_with(p))
            })
            .map(|e| e.path())
            .collect();
        v.sort();
        v
    };
    let serial = list(dev, &["ttyUSB", "ttyACM"]);
    let lp = list(&dev.join("usb"), &["lp"]);
    let stems: Vec<&str> = names.iter().map(String::as_str).collect();
    let named = list(dev, &stems);
    let is_printer = |p: &PathBuf| p.to_string_lossy().contains("printer");
    let reader = named.iter().find(|p| !is_printer(p)).or(serial.first());
    let printer = named.iter().find(|p| is_printer(p)).or(lp.first());
    Found {
        reader: reader.cloned(),
        printer: printer.cloned(),
        seen: named.iter().chain(&serial).chain(&lp).cloned().collect(),
    }
}

/// A TOML basic string.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The configuration file `greenwave init` writes: valid as it stands
/// (`config check` and `run` accept it at once), every choice commented.
pub fn render(plan: &Plan) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# greenwave configuration written by `greenwave init` for a one-machine hall.\n\
         # Every key is explained in /usr/share/doc/greenwave/README.md and in the\n\
         # example config/greenwave.toml. Check it with\n\
         #   greenwave config check --config THIS_FILE\n\
         # The tokens below are random and secret: keep this file mode 0640.\n"
    );
    let _ = writeln!(
        t,
        "# Where the database, the roster inbox and the daily exports live.\ndata_dir = {}\n",
        quoted(&plan.data_dir.to_string_lossy())
    );
    let _ = writeln!(t, "[hall]\nname = {}\n", quoted(&plan.hall_name));
    for s in &plan.services {
        let _ = writeln!(
            t,
            "[[services]]\ncode = {}\nname = {}\nletter = \"{}\"\n",
            quoted(&s.code),
            quoted(&s.name),
            s.letter
        );
    }
    render_staff(&mut t, plan);
    render_roster(&mut t, plan);
    render_devices(&mut t, &plan.devices);
    render_kiosk(&mut t, plan);
    t
}

/// Windows (each calls every service), helpers and `[api]`.
fn render_staff(t: &mut String, plan: &Plan) {
    let codes: Vec<String> = plan.services.iter().map(|s| quoted(&s.code)).collect();
    let _ = writeln!(
        t,
        "# Windows: each window's staff log in with its token (console /console).\n\
         # To add one, copy a block and give it `openssl rand -hex 16` of its own."
    );
    for (i, tok) in plan.tokens.windows.iter().enumerate() {
        let _ = writeln!(
            t,
            "[[windows]]\nnumber = {}\nservices = [{}]\ntoken = \"{tok}\"\n",
            i + 1,
            codes.join(", ")
        );
    }
    if !plan.tokens.helpers.is_empty() {
        let _ = writeln!(
            t,
            "# Helpers (协办员) who accompany priority residents (/helper)."
        );
    }
    for (i, tok) in plan.tokens.helpers.iter().enumerate() {
        let _ = writeln!(
            t,
            "[[helpers]]\nid = \"h{n}\"\nname = \"协办员{n}\"\ntoken = \"{tok}\"\n",
            n = i + 1
        );
    }
    let _ = writeln!(
        t,
        "[api]\n# The staff API and pages on the hall LAN.\nlisten = {}\n\
         # The hall manager (/manager): sees everything, acts for every window.\n\
         manager_token = \"{}\"\n\
         # The hall displays (greenwave board, board.env): the event stream only.\n\
         display_token = \"{}\"\n",
        quoted(&plan.listen),
        plan.tokens.manager,
        plan.tokens.display
    );
}

/// `[roster]`: the key paths, with where they came from and what to do next.
fn render_roster(t: &mut String, plan: &Plan) {
    match &plan.keys {
        RosterKeys::Local => {
            let _ = writeln!(
                t,
                "# local keys made by greenwave init --yes: replace with the ops keys.\n\
                 # They let this hall start, but no roster signed by ops verifies with\n\
                 # them. Next step: ops run `greenwave roster keygen --out KEYDIR` once\n\
                 # for the whole city (on the ops machine) and give every hall\n\
                 # roster-public.key and roster-hash.key; copy those two over the files\n\
                 # beside this one, delete roster-signing.key here (the signing key\n\
                 # stays with ops), then `systemctl restart greenwave`."
            );
        }
        RosterKeys::Ops { from } => {
            let _ = writeln!(
                t,
                "# The ops roster keys (from {}), made by `greenwave roster keygen` on\n\
                 # the ops machine. Next step: install a roster from ops with\n\
                 # `greenwave roster import FILE.gwr`, or drop it into the inbox.",
                from.display()
            );
        }
    }
    let inbox = plan.data_dir.join("inbox");
    let _ = writeln!(
        t,
        "[roster]\npublic_key = \"roster-public.key\"\nhash_key = \"roster-hash.key\"\n\
         # Drop signed roster files (*.gwr) here to install them.\ninbox = {}\n\
         # Or fetch them from the web server ops publish into:\n\
         # source = \"http://10.0.0.5/greenwave/\"\n",
        quoted(&inbox.to_string_lossy())
    );
}

/// `[devices]`: what was found, else the simulators.
fn render_devices(t: &mut String, found: &Found) {
    if !found.seen.is_empty() {
        let seen: Vec<String> = found.seen.iter().map(|p| p.display().to_string()).collect();
        let _ = writeln!(t, "# Devices seen by greenwave init: {}", seen.join(", "));
    }
    match &found.reader {
        Some(port) => {
            let _ = writeln!(
                t,
                "[devices.id_reader]\n# The resident ID card reader (GA 467) found on this machine.\n\
                 kind = \"ga467\"\nport = {}\nbaud = \"auto\"\n",
                quoted(&port.to_string_lossy())
            );
        }
        None => {
            let _ = writeln!(
                t,
                "[devices.id_reader]\n# No ID card reader was found: the built-in simulator. With a reader\n\
                 # plugged in: kind = \"ga467\" and its port, named after its USB port by\n\
                 # the package's udev rules (`ls /dev/greenwave-*`), e.g.\n\
                 # port = \"/dev/greenwave-idreader-usb-1-2\".\n\
                 kind = \"simulated\"\n"
            );
        }
    }
    match &found.printer {
        Some(p) => {
            let _ = writeln!(
                t,
                "[devices.printer]\n# The ticket printer found on this machine.\nuri = {}\n",
                quoted(&format!("file://{}", p.display()))
            );
        }
        None => {
            let _ = writeln!(
                t,
                "[devices.printer]\n# No printer was found: tickets are written as text to the log. With a\n\
                 # printer: \"file:///dev/greenwave-printer-usb-1-3\" (USB, named after its\n\
                 # port like the reader) or \"tcp://HOST:9100\".\n\
                 uri = \"stdout\"\n"
            );
        }
    }
}

/// `[kiosk]` and `[stats]`.
fn render_kiosk(t: &mut String, plan: &Plan) {
    let _ = writeln!(t, "[kiosk]");
    if let [one] = &plan.services[..] {
        let _ = writeln!(t, "default_service = {}", quoted(&one.code));
    }
    let _ = writeln!(
        t,
        "# The ticket's QR code opens {{public_url}}/t/{{token}}: this machine's\n\
         # address on the hall LAN, e.g. public_url = \"http://192.168.1.10:8080\".\n"
    );
    let exports = plan.data_dir.join("exports");
    let _ = writeln!(
        t,
        "[stats]\n# One statistics CSV per finished day.\ndaily_csv_dir = {}",
        quoted(&exports.to_string_lossy())
    );
}

/// `board.env` for `greenwave-board.service`: the daemon's address and
/// the display token.
pub fn render_board_env(plan: &Plan) -> String {
    let port = plan.listen.rsplit(':').next().unwrap_or("8080");
    format!(
        "# greenwave-board.service: written by `greenwave init`.\n\
         GREENWAVE_SERVER=http://127.0.0.1:{port}\n\
         # The display token ([api] display_token): the event stream only.\n\
         GREENWAVE_TOKEN={}\n\
         # On a window's small screen: its number (greenwave board --window N).\n\
         #GREENWAVE_WINDOW=1\n\
         # The console font's size in pixels (fbterm, default 32).\n\
         #GREENWAVE_BOARD_FONT_SIZE=32\n",
        plan.tokens.display
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn plan(devices: Found, keys: RosterKeys) -> Plan {
        Plan {
            hall_name: "某某街道\"便民\"服务中心".into(),
            services: parse_services("civil:民政救助,medical:医保业务").unwrap(),
            tokens: Tokens::random(3, 2).unwrap(),
            listen: "0.0.0.0:8080".into(),
            data_dir: "/var/lib/greenwave".into(),
            devices,
            keys,
        }
    }

    #[test]
    fn the_file_is_valid_as_written_with_simulated_or_found_devices() {
        let found = Found {
            reader: Some("/dev/greenwave-idreader-usb-1-2".into()),
            printer: Some("/dev/usb/lp0".into()),
            seen: vec![
                "/dev/greenwave-idreader-usb-1-2".into(),
                "/dev/usb/lp0".into(),
            ],
        };
        for (devices, keys) in [
            (Found::default(), RosterKeys::Local),
            (
                found,
                RosterKeys::Ops {
                    from: "/root/keys".into(),
                },
            ),
        ] {
            let p = plan(devices, keys.clone());
            let text = render(&p);
            let cfg = Config::parse(&text, Path::new("/etc/greenwave/greenwave.toml"))
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(cfg.hall_name, p.hall_name);
            assert_eq!(cfg.windows.len(), 3);
            assert_eq!(cfg.helpers.len(), 2);
            assert_eq!(cfg.services[1].letter, "B");
            assert!(cfg.windows.iter().all(|w| w.services.len() == 2));
            let roster = cfg.roster.unwrap();
            assert_eq!(
                roster.public_key.as_deref(),
                Some(Path::new("/etc/greenwave/roster-public.key"))
            );
            assert_eq!(
                text.contains(
                    "# local keys made by greenwave init --yes: replace with the ops keys"
                ),
                keys == RosterKeys::Local
            );
            assert!(text.contains("greenwave roster keygen"), "{text}");
        }
    }

    #[test]
    fn tokens_are_long_distinct_and_in_the_file() {
        let p = plan(Found::default(), RosterKeys::Local);
        let all = p.tokens.all();
        assert_eq!(all.len(), 3 + 2 + 2);
        let text = render(&p);
        for (i, t) in all.iter().enumerate() {
            assert!(t.len() >= 32 && t.chars().all(|c| c.is_ascii_hexdigit()));
            assert!(!all[..i].contains(t), "token {i} repeated");
            assert_eq!(text.matches(*t).count(), 1);
            assert!(crate::config::placeholder(t).is_none());
        }
        assert!(render_board_env(&p).contains(&format!("GREENWAVE_TOKEN={}\n", p.tokens.display)));
    }

    #[test]
    fn services_take_free_letters_and_bad_ones_are_refused() {
        let s = parse_services("a:甲:B, b:乙, c:丙，d：丁").unwrap();
        let letters: String = s.iter().map(|s| s.letter).collect();
        assert_eq!(letters, "BACD");
        let many: Vec<String> = (0..7).map(|i| format!("s{i}:业务{i}")).collect();
        let letters: String = parse_services(&many.join(","))
            .unwrap()
            .iter()
            .map(|s| s.letter)
            .collect();
        assert_eq!(letters, "ABCDEFH", "G is the priority lane's");
        for bad in [
            "civil",
            "Civil:民政",
            "a:甲,a:乙",
            "a:甲:G",
            "a:甲:A,b:乙:A",
            "a:",
        ] {
            assert!(parse_services(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn devices_are_found_udev_names_first() {
        let dev = tempfile::tempdir().unwrap();
        let d = dev.path();
        assert_eq!(scan_devices(d, &[]), Found::default());
        std::fs::create_dir(d.join("usb")).unwrap();
        for f in ["ttyUSB1", "ttyUSB0", "ttyS0", "usb/lp0"] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let found = scan_devices(d, &[]);
        assert_eq!(found.reader, Some(d.join("ttyUSB0")));
        assert_eq!(found.printer, Some(d.join("usb/lp0")));
        assert_eq!(found.seen.len(), 3);
        let names = udev_names(include_str!("../packaging/udev/60-greenwave.rules"));
        assert_eq!(names, ["greenwave-idreader-usb-", "greenwave-printer-usb-"]);
        // Two readers of the same chip: one name each, by USB port.
        for f in ["greenwave-idreader-usb-1-2", "greenwave-idreader-usb-1-1.4"] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let found = scan_devices(d, &names);
        assert_eq!(found.reader, Some(d.join("greenwave-idreader-usb-1-1.4")));
        assert_eq!(found.printer, Some(d.join("usb/lp0")));
        assert_eq!(found.seen.len(), 5);
        std::fs::write(d.join("greenwave-printer-usb-1-3"), "").unwrap();
        let found = scan_devices(d, &names);
        assert_eq!(found.printer, Some(d.join("greenwave-printer-usb-1-3")));
    }
}
