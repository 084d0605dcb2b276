//! Configuration in two steps: the TOML file is read into raw serde structs
//! (unknown keys refused), then validated into a typed [`Config`]. Every
//! error names the file, the line and the key:
//! `config/greenwave.toml:14: services[2].letter "A" is already used by services[0]`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveTime;
use serde::Deserialize;

use crate::queue::{CallPolicy, DayBoundary, QueueConfig, ServiceDef, WindowDef};
use crate::roster::install::RosterConfig;
use crate::roster::Categories;
use crate::schedule::{DayRule, On, Schedule, Span};

/// Where `--config` points when it is not given: the installed file first,
/// then the example in a checkout.
pub const DEFAULT_PATHS: [&str; 2] = ["/etc/greenwave/greenwave.toml", "config/greenwave.toml"];

/// What is wrong with a configuration: every problem found, each located
/// in its file, in file order; at least one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The problems.
    pub problems: Vec<Problem>,
}

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong, naming the key, and what to do.
    pub message: String,
}

impl ConfigError {
    /// One problem.
    pub fn new(file: impl Into<PathBuf>, line: Option<usize>, message: impl Into<String>) -> Self {
        ConfigError {
            problems: vec![Problem {
                file: file.into(),
                line,
                message: message.into(),
            }],
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "{one}"),
            all => {
                write!(f, "{} problems in the configuration:", all.len())?;
                for p in all {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

/// A secret (a bearer token): compared in full, shown masked.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for comparing against a presented token.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", greenwave_drivers::id_number::mask(&self.0))
    }
}

/// `[city]`: where the hall pushes what the bureau counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CityConfig {
    /// `database_url` (a secret: it may hold a password).
    pub database_url: Secret,
    /// The hall's id in the city: `[hall] code`.
    pub hall: String,
    /// `push_interval`, 30 s by default.
    pub push_interval: Duration,
    /// `push_batch`: at most this many tickets per push, 5000 by default
    /// (smaller on a slow link).
    pub push_batch: usize,
}

/// A service offered at the hall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Short ASCII code for the API (`civil`).
    pub code: String,
    /// Name residents read (`民政救助`).
    pub name: String,
    /// Letter in ticket numbers.
    pub letter: String,
    /// What to bring (一次性告知): printed on the ticket and shown on the
    /// kiosk's screen (`[[services]] documents = ["身份证", "户口簿"]`).
    pub documents: Vec<String>,
    /// When the kiosk gives out its tickets, and how many (`hours`,
    /// `daily_limit`, `priority_daily_limit`, `hourly_limit`,
    /// `[[services.days]]`).
    pub schedule: Schedule,
    /// Appointments per half-hour slot of the hours (`appointments`; 0:
    /// the service takes none).
    pub appointments: u32,
}

/// A window (counter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Number over the counter.
    pub number: u32,
    /// Codes of the services it calls.
    pub services: Vec<String>,
    /// Bearer token of the window's staff.
    pub token: Secret,
    /// A ticket printer at the counter (`[windows.printer]`), for tickets
    /// staff issue there; the hall server drives it.
    pub printer: Option<greenwave_drivers::printer::PrinterConfig>,
    /// The token of the window's evaluator (评价器, `/rate/{window}`): it
    /// rates this window's tickets and does nothing else.
    pub evaluator_token: Option<Secret>,
}

impl Window {
    /// Whether `t` is this window's staff token or its evaluator's.
    pub fn holds(&self, t: &Secret) -> bool {
        &self.token == t || self.evaluator_token.as_ref() == Some(t)
    }
}

/// A helper (协办员) who accompanies priority-lane residents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helper {
    /// Short ASCII id (`h1`), used by the API and in case records.
    pub id: String,
    /// Name staff see (`王协办`).
    pub name: String,
    /// The helper's bearer token (case routes only).
    pub token: Secret,
}

/// A ticket machine of the hall (`[[kiosks]]` on the hall server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskMachine {
    /// Short ASCII id (`k1`).
    pub id: String,
    /// Name staff see (`大厅入口自助机`).
    pub name: String,
    /// Its bearer token (the kiosk routes only).
    pub token: Secret,
}

/// On a kiosk machine: the hall server it asks for tickets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallServer {
    /// The server's API (`http://192.168.1.10:8080`, no trailing slash).
    pub url: String,
    /// This kiosk's token there.
    pub token: Secret,
    /// The hall's identity key (`[kiosk] hash_key`): a copy of the
    /// server's `[roster] hash_key` file (or of its `identity.key` when it
    /// has no roster), installed by ops; it never crosses the wire.
    pub hash_key: PathBuf,
}

/// The staff API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Token of the hall manager (sees and acts for every window).
    pub manager_token: Option<Secret>,
    /// Token of the hall displays: the event stream only, nothing else.
    pub display_token: Option<Secret>,
    /// Token of the booking hotline (预约热线): the booking routes only.
    pub hotline_token: Option<Secret>,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file it came from.
    pub source: PathBuf,
    /// Where the database lives.
    pub data_dir: PathBuf,
    /// Hall name, printed on tickets and shown on screens.
    pub hall_name: String,
    /// The hall's code among a city's halls (`[hall] code`): names the
    /// hall in the daily statistics export.
    pub hall_code: Option<String>,
    /// Services in display order.
    pub services: Vec<Service>,
    /// Windows.
    pub windows: Vec<Window>,
    /// Prefix of priority-lane numbers.
    pub priority_prefix: String,
    /// Fairness rules.
    pub policy: CallPolicy,
    /// Service-day boundary.
    pub day: DayBoundary,
    /// Staff API.
    pub api: ApiConfig,
    /// The low-income roster, if the hall uses one.
    pub roster: Option<RosterConfig>,
    /// The kiosk's devices.
    pub devices: Devices,
    /// The kiosk's behaviour.
    pub kiosk: KioskConfig,
    /// Helpers, in assignment tie-break order.
    pub helpers: Vec<Helper>,
    /// The hall's ticket machines (`[[kiosks]]`), on a hall server.
    pub kiosks: Vec<KioskMachine>,
    /// On a kiosk machine: its hall server (`[hall] server`, `[kiosk]
    /// token`); `None` on a hall's own machine.
    pub server: Option<HallServer>,
    /// The policies file (`[policies] file`, default `policies.toml` beside
    /// this file); a missing file means no policies.
    pub policies_file: PathBuf,
    /// The policies helpers explain, read from `policies_file` by
    /// [`Config::load`] ([`Config::parse`] leaves the list empty).
    pub policies: crate::cases::Policies,
    /// Spoken calls and kiosk prompts (`[voice]`).
    pub voice: VoiceConfig,
    /// Where the daemon writes each finished day's statistics
    /// (`[stats] daily_csv_dir`); none when unset.
    pub daily_csv_dir: Option<PathBuf>,
    /// How long after a ticket is finished the window's evaluator still
    /// offers to rate it (`[ratings] evaluator_open`, default 2 minutes).
    pub evaluator_open: Duration,
    /// `[city]`, when the hall reports to a city database.
    pub city: Option<CityConfig>,
    /// `[cases] follow_up_days`: a priority resident back within this many
    /// days continues their earlier case (30 by default).
    pub follow_up_days: u32,
    /// When a booked resident gets their appointment ticket, and how far
    /// ahead slots are booked (`[appointments]`; the capacity is each
    /// service's).
    pub appointments: AppointmentRules,
}

/// `[appointments]`: the same for every service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppointmentRules {
    /// Minutes before the slot from which the kiosk gives the ticket.
    pub early_minutes: u32,
    /// Minutes after the slot's start until which it still does.
    pub late_minutes: u32,
    /// Days ahead a slot can be booked (today is 0).
    pub days_ahead: u32,
}

/// `[voice]`: the announce hook (see `crate::voice`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceConfig {
    /// Speak at all (`enabled`, default true).
    pub enabled: bool,
    /// The command, an argv list; `{text}` in an argument is replaced by
    /// the words, else they are appended. `None`: espeak-ng's Mandarin
    /// voice when it is installed, silence otherwise.
    pub command: Option<Vec<String>>,
    /// A command still running after this is killed (default 20 s).
    pub timeout: Duration,
    /// The kiosk speaks its prompts (`请取票`, ...) too (default true).
    pub kiosk_prompts: bool,
    /// What the command is given: tone-numbered pinyin (espeak-ng's
    /// `cmn-latn-pinyin` voice; the default without a `command`) or the
    /// Chinese sentence (the default with a `command`: a Chinese speech
    /// engine reads characters).
    pub input: VoiceInput,
}

/// What a voice command reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VoiceInput {
    /// Tone-numbered pinyin (`qing3 ji4 ei1 ling2 yi1 er4 hao4`).
    Pinyin,
    /// The Chinese sentence (`请 G A 零 一 二 号`).
    Chinese,
}

impl Default for VoiceConfig {
    fn default() -> VoiceConfig {
        VoiceConfig {
            enabled: true,
            command: None,
            timeout: Duration::from_secs(20),
            kiosk_prompts: true,
            input: VoiceInput::Pinyin,
        }
    }
}

/// `[kiosk]` and `[priority]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KioskConfig {
    /// Issue for this service without asking (one swipe is all it takes).
    pub default_service: Option<String>,
    /// Base URL of the progress page printed as a QR code.
    pub public_url: Option<String>,
    /// Lines printed on every ticket (e.g. the hotline), each wrapped to
    /// the paper, never cut; the hall board shows them on one line.
    pub notice: Vec<String>,
    /// Residents of this age or older get the priority lane.
    pub min_age: Option<u32>,
}

/// `[devices]`: the kiosk's devices; each is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Devices {
    /// The resident ID card reader.
    pub id_reader: Option<IdReaderSetting>,
    /// The ticket printer.
    pub printer: Option<greenwave_drivers::printer::PrinterConfig>,
    /// The PC/SC reader for priority cards.
    pub pcsc: Option<greenwave_drivers::pcsc::PcscConfig>,
}

/// `[devices.id_reader]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdReaderSetting {
    /// A GA 467 reader on a serial port.
    Ga467(greenwave_drivers::idcard::IdReaderConfig),
    /// The in-process simulator (demo, tests).
    Simulated {
        /// Poll interval.
        poll_interval: Duration,
    },
}

impl Config {
    /// Finds the configuration file: `explicit` if given, else the first of
    /// [`DEFAULT_PATHS`] that exists.
    pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, ConfigError> {
        if let Some(p) = explicit {
            return Ok(p.to_path_buf());
        }
        DEFAULT_PATHS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .ok_or_else(|| {
                ConfigError::new(
                    DEFAULT_PATHS[0],
                    None,
                    format!(
                        "no configuration file: neither {} nor {} exists; \
                         make one with `greenwave init`, or pass --config PATH",
                        DEFAULT_PATHS[0], DEFAULT_PATHS[1]
                    ),
                )
            })
    }

    /// Reads and validates a configuration file, then the policies file it
    /// names (a missing policies file means no policies).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        // Absolute, so that every path derived from it (keys, data) and
        // every message names a file ops can find.
        let path = &std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(path, None, cannot_read(&e)))?;
        let mut cfg = Config::parse(&text, path)?;
        cfg.policies = crate::cases::policies::load(&cfg.policies_file).map_err(|e| match e {
            crate::cases::PolicyError::Invalid {
                file,
                line,
                message,
            } => ConfigError::new(file, line, message),
            crate::cases::PolicyError::Read { file, source } => {
                ConfigError::new(file, None, cannot_read(&source))
            }
        })?;
        Ok(cfg)
    }

    /// Validates configuration text; `path` names it in errors and anchors a
    /// relative `data_dir`.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            ConfigError::new(
                path,
                e.span().map(|s| line_of(text, s.start)),
                e.message().trim(),
            )
        })?;
        validate(raw, path).map_err(|all| {
            let mut problems: Vec<Problem> = all
                .into_iter()
                .map(|(key, message)| Problem {
                    file: path.to_path_buf(),
                    line: locate_key(text, &key),
                    message: format!("{} {}", key.display(), message),
                })
                .collect();
            problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
            ConfigError { problems }
        })
    }

    /// The queue core's view of the hall.
    pub fn queue_config(&self) -> QueueConfig {
        QueueConfig {
            services: self
                .services
                .iter()
                .map(|s| ServiceDef {
                    code: s.code.clone(),
                    letter: s.letter.clone(),
                })
                .collect(),
            windows: self
                .windows
                .iter()
                .map(|w| WindowDef {
                    number: w.number,
                    services: w.services.clone(),
                })
                .collect(),
            priority_prefix: self.priority_prefix.clone(),
            policy: self.policy.clone(),
        }
    }

    /// A service by code.
    pub fn service(&self, code: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.code == code)
    }

    /// How `service` takes appointments (capacity 0: none; an unknown
    /// service takes none).
    pub fn appointments_of(&self, service: &str) -> greenwave_core::booking::Appointments {
        let r = &self.appointments;
        greenwave_core::booking::Appointments {
            capacity: self.service(service).map_or(0, |s| s.appointments),
            days_ahead: r.days_ahead,
            early: chrono::Duration::minutes(i64::from(r.early_minutes)),
            late: chrono::Duration::minutes(i64::from(r.late_minutes)),
        }
    }

    /// A helper by id.
    pub fn helper(&self, id: &str) -> Option<&Helper> {
        self.helpers.iter().find(|h| h.id == id)
    }

    /// The path of the SQLite database.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("greenwave.db")
    }

    /// A one-screen summary for `greenwave config check`.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let policy = &self.policy;
        let wait = policy.normal_max_wait.map_or("off".to_string(), |d| {
            humantime::format_duration(d).to_string()
        });
        s += &format!("config     {}\n", self.source.display());
        s += &format!("hall       {}\n", self.hall_name);
        s += &format!("data_dir   {}\n", self.data_dir.display());
        s += &format!("api        {}\n", self.api.listen);
        s += &format!(
            "day        rollover {} {}\n",
            self.day.rollover.format("%H:%M"),
            self.day.timezone
        );
        s += &format!(
            "policy     priority prefix {}, max_priority_streak {}, normal_max_wait {}, rejoin_grace {}\n",
            self.priority_prefix,
            policy.max_priority_streak,
            wait,
            humantime::format_duration(policy.rejoin_grace)
        );
        s += &format!("services   {}\n", self.services.len());
        for sv in &self.services {
            s += &format!(
                "  {}  {:<10} {}  (e.g. {}001, {}{}001)\n",
                sv.letter, sv.code, sv.name, sv.letter, self.priority_prefix, sv.letter
            );
        }
        match &self.roster {
            Some(r) => {
                s += &format!(
                    "roster     categories {} (priority: {}), signature {}\n",
                    r.categories.names().join("/"),
                    r.categories
                        .names()
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| r.categories.grants_priority(*i as u8))
                        .map(|(_, n)| n.as_str())
                        .collect::<Vec<_>>()
                        .join("/"),
                    if r.require_signature {
                        "required"
                    } else {
                        "optional"
                    }
                );
                if let Some(src) = &r.source {
                    s += &format!(
                        "           source {} every {}\n",
                        src.url,
                        humantime::format_duration(src.interval)
                    );
                }
            }
            None => s += "roster     (none configured)\n",
        }
        s += &format!("windows    {}\n", self.windows.len());
        for w in &self.windows {
            s += &format!("  {:>3}  {}\n", w.number, w.services.join(", "));
        }
        s += &format!(
            "policies   {} in {} departments ({})\n",
            self.policies.policies.len(),
            self.policies.departments.len(),
            self.policies_file.display()
        );
        s += &format!("helpers    {}\n", self.helpers.len());
        for h in &self.helpers {
            s += &format!("  {:<10} {}\n", h.id, h.name);
        }
        s
    }
}

// ----- raw structs ---------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    data_dir: Option<PathBuf>,
    hall: Option<RawHall>,
    #[serde(default)]
    services: Vec<RawService>,
    #[serde(default)]
    windows: Vec<RawWindow>,
    #[serde(default)]
    lanes: RawLanes,
    #[serde(default)]
    call_policy: RawCallPolicy,
    #[serde(default)]
    day: RawDay,
    #[serde(default)]
    api: RawApi,
    roster: Option<RawRoster>,
    #[serde(default)]
    devices: RawDevices,
    #[serde(default)]
    kiosk: RawKiosk,
    #[serde(default)]
    priority: RawPriority,
    #[serde(default)]
    helpers: Vec<RawHelper>,
    #[serde(default)]
    kiosks: Vec<RawKioskMachine>,
    policies: Option<RawPolicies>,
    #[serde(default)]
    voice: RawVoice,
    #[serde(default)]
    stats: RawStats,
    #[serde(default)]
    ratings: RawRatings,
    city: Option<RawCity>,
    #[serde(default)]
    cases: RawCases,
    #[serde(default)]
    appointments: RawAppointments,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAppointments {
    early_minutes: Option<u32>,
    late_minutes: Option<u32>,
    days_ahead: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCases {
    follow_up_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCity {
    database_url: Option<String>,
    push_interval: Option<String>,
    push_batch: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRatings {
    evaluator_open: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStats {
    daily_csv_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVoice {
    enabled: Option<bool>,
    command: Option<Vec<String>>,
    timeout: Option<String>,
    kiosk_prompts: Option<bool>,
    input: Option<VoiceInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHelper {
    id: String,
    name: String,
    token: String,
}

/// `[[kiosks]]` on a hall server: the ticket machines that ask it for
/// tickets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKioskMachine {
    id: String,
    name: String,
    token: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicies {
    file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKiosk {
    /// On a kiosk machine: its token on the hall server (`[[kiosks]]`).
    token: Option<String>,
    /// On a kiosk machine: the hall's identity key file.
    hash_key: Option<PathBuf>,
    default_service: Option<String>,
    public_url: Option<String>,
    notice: Option<RawLines>,
}

/// One line, or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawLines {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPriority {
    min_age: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevices {
    id_reader: Option<RawIdReader>,
    printer: Option<greenwave_drivers::printer::PrinterConfig>,
    pcsc: Option<greenwave_drivers::pcsc::PcscConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdReader {
    kind: String,
    port: Option<PathBuf>,
    baud: Option<toml::Value>,
    poll_interval: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoster {
    public_key: Option<PathBuf>,
    hash_key: Option<PathBuf>,
    inbox: Option<PathBuf>,
    source: Option<String>,
    source_interval: Option<String>,
    require_signature: Option<bool>,
    categories: Option<Vec<String>>,
    priority_categories: Option<Vec<String>>,
    columns: Option<crate::roster::ColumnMap>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHall {
    name: String,
    code: Option<String>,
    /// On a kiosk machine of a hall of several: the hall server.
    server: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    code: String,
    name: String,
    letter: String,
    #[serde(default)]
    documents: Vec<String>,
    hours: Option<Vec<String>>,
    daily_limit: Option<u32>,
    priority_daily_limit: Option<u32>,
    hourly_limit: Option<u32>,
    appointments: Option<u32>,
    #[serde(default)]
    days: Vec<RawDayRule>,
}

/// `[[services.days]]`: what differs on a date or a weekday.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDayRule {
    on: String,
    hours: Option<Vec<String>>,
    daily_limit: Option<u32>,
    priority_daily_limit: Option<u32>,
    hourly_limit: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    number: i64,
    services: Vec<String>,
    token: String,
    printer: Option<greenwave_drivers::printer::PrinterConfig>,
    evaluator_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLanes {
    priority: Option<RawPriorityLane>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPriorityLane {
    prefix: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCallPolicy {
    max_priority_streak: Option<i64>,
    normal_max_wait: Option<String>,
    rejoin_grace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDay {
    rollover: Option<String>,
    timezone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    listen: Option<String>,
    manager_token: Option<String>,
    display_token: Option<String>,
    hotline_token: Option<String>,
}

/// Why a file could not be read, and what to do about it.
fn cannot_read(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            "no such file; make a configuration with `greenwave init [DIR]`".to_string()
        }
        std::io::ErrorKind::PermissionDenied => "permission denied: the file holds the API \
            tokens and is readable by root and the group greenwave only; run as root or as \
            a member of that group"
            .to_string(),
        _ => format!("cannot read: {e}"),
    }
}

// ----- validation ----------------------------------------------------------

/// A key path such as `services[2].letter`, used to name and locate errors.
#[derive(Debug, Clone, Default)]
struct KeyPath(Vec<Seg>);

#[derive(Debug, Clone)]
enum Seg {
    Key(&'static str),
    Index(usize),
}

impl KeyPath {
    fn new(k: &'static str) -> KeyPath {
        KeyPath(vec![Seg::Key(k)])
    }
    fn key(&self, k: &'static str) -> KeyPath {
        let mut p = self.clone();
        p.0.push(Seg::Key(k));
        p
    }
    fn index(&self, i: usize) -> KeyPath {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
    fn display(&self) -> String {
        let mut s = String::new();
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => s += &format!("[{i}]"),
            }
        }
        s
    }
}

type Invalid = (KeyPath, String);

const MIN_TOKEN_LEN: usize = 16;

/// Every problem found, in the order checked.
#[derive(Default)]
struct Problems(Vec<Invalid>);

impl Problems {
    /// The value, or `None` with its problem kept.
    fn take<T>(&mut self, r: Result<T, Invalid>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }

    /// An optional part: `Some(None)` when absent, `None` when invalid.
    fn optional<R, T>(
        &mut self,
        raw: Option<R>,
        check: impl FnOnce(R) -> Result<T, Invalid>,
    ) -> Option<Option<T>> {
        match raw {
            None => Some(None),
            Some(r) => self.take(check(r)).map(Some),
        }
    }
}

/// Checks every part, so that all problems are reported at once; a part
/// that depends on another (windows on services) is checked only once that
/// one is valid.
fn validate(raw: RawConfig, path: &Path) -> Result<Config, Vec<Invalid>> {
    let base = path.parent().unwrap_or(Path::new("."));
    let mut p = Problems::default();
    p.take(check_tokens(&raw_tokens(&raw)));
    let data_dir = p.take(data_dir(raw.data_dir, base));
    let hall = p.take(hall_config(raw.hall));
    let kiosk_machine = hall.as_ref().is_some_and(|h| h.2.is_some());
    let priority_prefix = p.take(priority_prefix(raw.lanes));
    let services = match &priority_prefix {
        Some(pp) => p.take(services_config(raw.services, pp, kiosk_machine)),
        None => None,
    };
    let manager_token = p.optional(raw.api.manager_token, |t| {
        token(t, KeyPath::new("api").key("manager_token"))
    });
    let windows = match &services {
        Some(s) => p.take(windows_config(raw.windows, s, kiosk_machine)),
        None => None,
    };
    let helpers = p.take(helpers_config(raw.helpers));
    let kiosks = p.take(kiosks_config(raw.kiosks));
    let server = match &hall {
        Some(h) => p.take(server_config(
            h.2.clone(),
            raw.kiosk.token.clone(),
            raw.kiosk.hash_key.clone().map(|k| resolve(base, k)),
        )),
        None => None,
    };
    let display_token = p.optional(raw.api.display_token, |t| {
        token(t, KeyPath::new("api").key("display_token"))
    });
    let hotline_token = p.optional(raw.api.hotline_token, |t| {
        token(t, KeyPath::new("api").key("hotline_token"))
    });
    let appointments = p.take(appointment_rules(raw.appointments));
    let policies_file = p.take(policies_file(raw.policies, base));
    let daily_csv_dir = p.take(stats_config(raw.stats, base));
    let evaluator_open = p.take(evaluator_open(raw.ratings));
    let follow_up_days = p.take(follow_up_days(raw.cases.follow_up_days));
    let city = match &hall {
        Some(h) => p.optional(raw.city, |c| city_config(c, h.1.as_deref(), kiosk_machine)),
        None => None,
    };
    let policy = p.take(call_policy(raw.call_policy));
    let day = p.take(day_boundary(raw.day));
    let listen = p.take(listen_address(raw.api.listen));
    let roster = p.optional(raw.roster, |r| roster_config(r, base));
    let devices = p.take(devices_config(raw.devices));
    let kiosk = match &services {
        Some(s) => p.take(kiosk_config(raw.kiosk, raw.priority, s)),
        None => None,
    };
    let voice = p.take(voice_config(raw.voice));

    let config = (|| {
        let (hall_name, hall_code, _) = hall?;
        Some(Config {
            source: path.to_path_buf(),
            data_dir: data_dir?,
            hall_name,
            hall_code,
            services: services?,
            windows: windows?,
            priority_prefix: priority_prefix?,
            policy: policy?,
            day: day?,
            api: ApiConfig {
                listen: listen?,
                manager_token: manager_token?,
                display_token: display_token?,
                hotline_token: hotline_token?,
            },
            roster: roster?,
            devices: devices?,
            kiosk: kiosk?,
            helpers: helpers?,
            kiosks: kiosks?,
            server: server?,
            policies_file: policies_file?,
            policies: crate::cases::Policies::default(),
            voice: voice?,
            daily_csv_dir: daily_csv_dir?,
            evaluator_open: evaluator_open?,
            city: city?,
            follow_up_days: follow_up_days?,
            appointments: appointments?,
        })
    })();
    match config {
        Some(c) if p.0.is_empty() => Ok(c),
        _ => Err(p.0),
    }
}

/// `[appointments]`: the ticket from 30 minutes before the slot to 15
/// after unless set (each 0 to 120), slots up to 14 days ahead (1 to 90).
fn appointment_rules(raw: RawAppointments) -> Result<AppointmentRules, Invalid> {
    let k = KeyPath::new("appointments");
    let minutes = |v: Option<u32>, default: u32, key: &'static str| match v.unwrap_or(default) {
        m @ 0..=120 => Ok(m),
        _ => Err((k.key(key), "must be between 0 and 120 minutes".to_string())),
    };
    let days_ahead = match raw.days_ahead.unwrap_or(14) {
        d @ 1..=90 => d,
        _ => return Err((k.key("days_ahead"), "must be between 1 and 90".into())),
    };
    Ok(AppointmentRules {
        early_minutes: minutes(raw.early_minutes, 30, "early_minutes")?,
        late_minutes: minutes(raw.late_minutes, 15, "late_minutes")?,
        days_ahead,
    })
}

/// `[cases] follow_up_days`: 30 unless set, 1 to 365.
fn follow_up_days(raw: Option<u32>) -> Result<u32, Invalid> {
    let days = raw.unwrap_or(30);
    if (1..=365).contains(&days) {
        Ok(days)
    } else {
        Err((
            KeyPath::new("cases").key("follow_up_days"),
            "must be between 1 and 365".into(),
        ))
    }
}

/// `[city]`: the database URL is needed, the hall needs a code (its id in
/// the city), and a kiosk machine pushes nothing (its server does).
fn city_config(
    raw: RawCity,
    hall_code: Option<&str>,
    kiosk_machine: bool,
) -> Result<CityConfig, Invalid> {
    let k = KeyPath::new("city");
    if kiosk_machine {
        return Err((
            k,
            "is for the hall server: a kiosk machine ([hall] server) pushes nothing".into(),
        ));
    }
    let url = raw.database_url.ok_or_else(|| {
        (
            k.clone().key("database_url"),
            "is missing: the city database, e.g. \"postgres://greenwave@city-db/greenwave\""
                .to_string(),
        )
    })?;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err((k.key("database_url"), "must be a postgres:// URL".into()));
    }
    let hall = hall_code.ok_or_else(|| {
        (
            KeyPath::new("hall").key("code"),
            "is needed with [city]: the hall's id in the city's figures, e.g. code = \"xicheng-01\"".to_string(),
        )
    })?;
    let push_interval = match raw.push_interval.as_deref() {
        Some(s) => duration(s, k.clone().key("push_interval"))?,
        None => Duration::from_secs(30),
    };
    if push_interval < Duration::from_millis(200) || push_interval > Duration::from_secs(3600) {
        return Err((
            k.key("push_interval"),
            "must be between 200ms and 1h".into(),
        ));
    }
    let push_batch = raw.push_batch.unwrap_or(5000);
    if !(10..=50_000).contains(&push_batch) {
        return Err((k.key("push_batch"), "must be between 10 and 50000".into()));
    }
    Ok(CityConfig {
        database_url: Secret(url),
        hall: hall.to_string(),
        push_interval,
        push_batch,
    })
}

/// `[ratings] evaluator_open`: from 10 seconds to 30 minutes, 2 minutes
/// by default.
fn evaluator_open(raw: RawRatings) -> Result<Duration, Invalid> {
    let k = KeyPath::new("ratings").key("evaluator_open");
    let open = match raw.evaluator_open.as_deref() {
        Some(s) => duration(s, k.clone())?,
        None => return Ok(Duration::from_secs(120)),
    };
    if open < Duration::from_secs(10) || open > Duration::from_secs(1800) {
        return Err((k, "must be between 10s and 30m".into()));
    }
    Ok(open)
}

pub(crate) use greenwave_core::is_code;

/// `s`, the value of `key`, must be a code ([`is_code`]).
fn check_code(s: &str, key: KeyPath) -> Result<(), Invalid> {
    if is_code(s) {
        Ok(())
    } else {
        Err((
            key,
            format!("\"{s}\" must be 1-32 characters of a-z, 0-9, _ or -"),
        ))
    }
}

/// Whether `s` is 1 to `max` capital letters A-Z (service letters, the
/// priority prefix).
fn is_capitals(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// `data_dir`: relative to the configuration file; `/var/lib/greenwave`
/// when unset.
fn data_dir(raw: Option<PathBuf>, base: &Path) -> Result<PathBuf, Invalid> {
    match raw {
        Some(d) if d.as_os_str().is_empty() => {
            Err((KeyPath::new("data_dir"), "must not be empty".into()))
        }
        Some(d) if d.is_relative() => Ok(base.join(d)),
        Some(d) => Ok(d),
        None => Ok(PathBuf::from("/var/lib/greenwave")),
    }
}

/// `[hall]`: required, a name, an optional code, the server of a kiosk
/// machine; (name trimmed, code, server).
fn hall_config(raw: Option<RawHall>) -> Result<(String, Option<String>, Option<String>), Invalid> {
    let hall = raw.ok_or_else(|| {
        (
            KeyPath::new("hall"),
            "is missing: add [hall] with name = \"...\"".to_string(),
        )
    })?;
    if hall.name.trim().is_empty() {
        return Err((KeyPath::new("hall").key("name"), "must not be empty".into()));
    }
    if let Some(c) = hall.code.as_deref() {
        check_code(c, KeyPath::new("hall").key("code"))?;
    }
    if let Some(u) = hall.server.as_deref() {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err((
                KeyPath::new("hall").key("server"),
                format!("\"{u}\" must start with http:// or https:// (the hall server's API, e.g. http://192.168.1.10:8080)"),
            ));
        }
    }
    Ok((hall.name.trim().to_string(), hall.code, hall.server))
}

/// `[lanes.priority] prefix`: one or two capital letters, `G` by default.
fn priority_prefix(raw: RawLanes) -> Result<String, Invalid> {
    let prefix = raw
        .priority
        .and_then(|p| p.prefix)
        .unwrap_or_else(|| "G".to_string());
    if !is_capitals(&prefix, 2) {
        return Err((
            KeyPath::new("lanes").key("priority").key("prefix"),
            format!("\"{prefix}\" must be one or two capital letters A-Z"),
        ));
    }
    if prefix.starts_with(greenwave_core::queue::APPOINTMENT_PREFIX) {
        return Err((
            KeyPath::new("lanes").key("priority").key("prefix"),
            format!("\"{prefix}\" clashes with the prefix of appointment numbers \"Y\""),
        ));
    }
    Ok(prefix)
}

/// `[[services]]`: at least one (none on a kiosk machine, which gets them
/// from its hall server); codes and letters unique, no letter that the
/// priority prefix starts with.
fn services_config(
    raw: Vec<RawService>,
    prefix: &str,
    kiosk_machine: bool,
) -> Result<Vec<Service>, Invalid> {
    if raw.is_empty() && !kiosk_machine {
        return Err((
            KeyPath::new("services"),
            "is empty: add at least one [[services]] with code, name and letter".into(),
        ));
    }
    let mut services: Vec<Service> = Vec::new();
    for (i, s) in raw.into_iter().enumerate() {
        let service = service_config(s, KeyPath::new("services").index(i), &services, prefix)?;
        services.push(service);
    }
    Ok(services)
}

/// One service, `k`, checked against the `earlier` ones.
fn service_config(
    s: RawService,
    k: KeyPath,
    earlier: &[Service],
    prefix: &str,
) -> Result<Service, Invalid> {
    check_code(&s.code, k.key("code"))?;
    if let Some(j) = earlier.iter().position(|o| o.code == s.code) {
        return Err((
            k.key("code"),
            format!("\"{}\" is already used by services[{j}]", s.code),
        ));
    }
    if s.name.trim().is_empty() {
        return Err((k.key("name"), "must not be empty".into()));
    }
    if !is_capitals(&s.letter, 1) {
        return Err((
            k.key("letter"),
            format!("\"{}\" must be one capital letter A-Z", s.letter),
        ));
    }
    if let Some(j) = earlier.iter().position(|o| o.letter == s.letter) {
        return Err((
            k.key("letter"),
            format!("\"{}\" is already used by services[{j}]", s.letter),
        ));
    }
    if prefix.starts_with(&s.letter) {
        return Err((
            k.key("letter"),
            format!(
                "\"{}\" clashes with the priority prefix \"{prefix}\": residents could not tell the lanes apart",
                s.letter
            ),
        ));
    }
    let documents: Vec<String> = s.documents.iter().map(|d| d.trim().to_string()).collect();
    if documents.iter().any(String::is_empty) || documents.len() > 20 {
        return Err((
            k.key("documents"),
            "must list 1 to 20 non-empty names of documents, e.g. [\"身份证\", \"户口簿\"]".into(),
        ));
    }
    if s.letter == greenwave_core::queue::APPOINTMENT_PREFIX {
        return Err((
            k.key("letter"),
            "\"Y\" is the prefix of appointment numbers (YA001): choose another letter".into(),
        ));
    }
    let schedule = schedule_config(&s, &k)?;
    let appointments = s.appointments.unwrap_or(0);
    if appointments > 0 && schedule.hours.is_empty() {
        return Err((
            k.key("appointments"),
            "needs the service's hours (hours = [\"08:30-12:00\", …]): slots are the half hours of the hours".into(),
        ));
    }
    if appointments > 100 {
        return Err((
            k.key("appointments"),
            "must be at most 100 per half hour".into(),
        ));
    }
    Ok(Service {
        code: s.code,
        name: s.name.trim().to_string(),
        letter: s.letter,
        documents,
        schedule,
        appointments,
    })
}

/// A service's hours and limits: spans `"08:30-12:00"` in order without
/// overlap, limits of at least 1, day rules `on` a date (`2026-12-15`) or
/// a weekday (`sat`), each date or weekday once.
fn schedule_config(s: &RawService, k: &KeyPath) -> Result<Schedule, Invalid> {
    let limit = |v: Option<u32>, key: KeyPath| match v {
        Some(0) => Err((
            key,
            "must be at least 1 (leave it out for no limit)".to_string(),
        )),
        v => Ok(v),
    };
    let mut days: Vec<DayRule> = Vec::new();
    for (i, r) in s.days.iter().enumerate() {
        let dk = k.key("days").index(i);
        let on = match crate::schedule::parse_weekday(r.on.trim()) {
            Some(w) => On::Weekday(w),
            None => On::Date(r.on.trim().parse().map_err(|_| {
                (
                    dk.key("on"),
                    format!(
                        "\"{}\" must be a date like \"2026-12-15\" or a weekday mon … sun",
                        r.on
                    ),
                )
            })?),
        };
        if days.iter().any(|d| d.on == on) {
            return Err((dk.key("on"), format!("\"{}\" has a rule already", r.on)));
        }
        days.push(DayRule {
            on,
            hours: r
                .hours
                .as_deref()
                .map(|h| spans(h, dk.key("hours")))
                .transpose()?,
            daily_limit: limit(r.daily_limit, dk.key("daily_limit"))?,
            priority_daily_limit: limit(r.priority_daily_limit, dk.key("priority_daily_limit"))?,
            hourly_limit: limit(r.hourly_limit, dk.key("hourly_limit"))?,
        });
    }
    let hours =
        match s.hours.as_deref() {
            Some([]) => return Err((
                k.key("hours"),
                "must list at least one span such as \"08:30-12:00\" (leave it out: open all day)"
                    .into(),
            )),
            Some(h) => spans(h, k.key("hours"))?,
            None => Vec::new(),
        };
    Ok(Schedule {
        hours,
        daily_limit: limit(s.daily_limit, k.key("daily_limit"))?,
        priority_daily_limit: limit(s.priority_daily_limit, k.key("priority_daily_limit"))?,
        hourly_limit: limit(s.hourly_limit, k.key("hourly_limit"))?,
        days,
    })
}

/// Spans `"HH:MM-HH:MM"`, in order, not overlapping.
fn spans(raw: &[String], key: KeyPath) -> Result<Vec<Span>, Invalid> {
    let mut out: Vec<Span> = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let span = crate::schedule::parse_span(r).ok_or_else(|| {
            (
                key.index(i),
                format!("\"{r}\" must be a span of the day like \"08:30-12:00\""),
            )
        })?;
        if out.last().is_some_and(|prev| prev.to > span.from) {
            return Err((
                key.index(i),
                format!("\"{r}\" must start after the span before it ends"),
            ));
        }
        out.push(span);
    }
    Ok(out)
}

/// `[[windows]]`: at least one; numbers 1-999 and unique, known service
/// codes (tokens are checked across the hall by [`check_tokens`]).
fn windows_config(
    raw: Vec<RawWindow>,
    services: &[Service],
    kiosk_machine: bool,
) -> Result<Vec<Window>, Invalid> {
    if raw.is_empty() && !kiosk_machine {
        return Err((
            KeyPath::new("windows"),
            "is empty: add at least one [[windows]] with number, services and token".into(),
        ));
    }
    let mut windows: Vec<Window> = Vec::new();
    for (i, w) in raw.into_iter().enumerate() {
        let window = window_config(w, KeyPath::new("windows").index(i), &windows, services)?;
        windows.push(window);
    }
    Ok(windows)
}

/// One window, `k`, checked against the `earlier` ones.
fn window_config(
    w: RawWindow,
    k: KeyPath,
    earlier: &[Window],
    services: &[Service],
) -> Result<Window, Invalid> {
    if !(1..=999).contains(&w.number) {
        return Err((
            k.key("number"),
            format!("{} must be between 1 and 999", w.number),
        ));
    }
    let number = w.number as u32;
    if let Some(j) = earlier.iter().position(|o| o.number == number) {
        return Err((
            k.key("number"),
            format!("{number} is already used by windows[{j}]"),
        ));
    }
    if w.services.is_empty() {
        return Err((
            k.key("services"),
            "must name at least one service code".into(),
        ));
    }
    for (si, code) in w.services.iter().enumerate() {
        if !services.iter().any(|s| &s.code == code) {
            let known: Vec<&str> = services.iter().map(|s| s.code.as_str()).collect();
            return Err((
                k.key("services").index(si),
                format!(
                    "\"{code}\" is not a service code (known: {})",
                    known.join(", ")
                ),
            ));
        }
    }
    let tok = token(w.token, k.key("token"))?;
    let evaluator_token = match w.evaluator_token {
        Some(e) => Some(token(e, k.key("evaluator_token"))?),
        None => None,
    };
    if let Some(p) = &w.printer {
        p.validate()
            .map_err(|e| (k.key("printer").key("uri"), e.to_string()))?;
    }
    Ok(Window {
        number,
        services: w.services,
        token: tok,
        printer: w.printer,
        evaluator_token,
    })
}

/// `[api] listen`: an address and port, `127.0.0.1:8080` by default.
fn listen_address(raw: Option<String>) -> Result<SocketAddr, Invalid> {
    let listen = raw.unwrap_or_else(|| "127.0.0.1:8080".to_string());
    SocketAddr::from_str(&listen).map_err(|_| {
        (
            KeyPath::new("api").key("listen"),
            format!("\"{listen}\" must be an address and port, e.g. \"0.0.0.0:8080\""),
        )
    })
}

/// `[policies] file`: relative to the configuration file; `policies.toml`
/// beside it by default.
fn policies_file(raw: Option<RawPolicies>, base: &Path) -> Result<PathBuf, Invalid> {
    match raw.and_then(|p| p.file) {
        Some(f) if f.as_os_str().is_empty() => Err((
            KeyPath::new("policies").key("file"),
            "must not be empty".into(),
        )),
        Some(f) if f.is_relative() => Ok(base.join(f)),
        Some(f) => Ok(f),
        None => Ok(base.join("policies.toml")),
    }
}

/// `[stats] daily_csv_dir`: relative to the configuration file; none when
/// unset.
fn stats_config(raw: RawStats, base: &Path) -> Result<Option<PathBuf>, Invalid> {
    match raw.daily_csv_dir {
        Some(d) if d.as_os_str().is_empty() => Err((
            KeyPath::new("stats").key("daily_csv_dir"),
            "must not be empty".into(),
        )),
        Some(d) if d.is_relative() => Ok(Some(base.join(d))),
        other => Ok(other),
    }
}

/// `[call_policy]`: the streak from 0 (off) to 100, durations; defaults 3,
/// 30 min and 15 min.
fn call_policy(raw: RawCallPolicy) -> Result<CallPolicy, Invalid> {
    let cp = KeyPath::new("call_policy");
    let streak = raw.max_priority_streak.unwrap_or(3);
    if !(0..=100).contains(&streak) {
        return Err((
            cp.key("max_priority_streak"),
            format!("{streak} must be between 0 (off) and 100"),
        ));
    }
    let normal_max_wait = match raw.normal_max_wait.as_deref() {
        None => Some(Duration::from_secs(30 * 60)),
        Some("off") => None,
        Some(s) => Some(duration(s, cp.key("normal_max_wait"))?),
    };
    let rejoin_grace = match raw.rejoin_grace.as_deref() {
        None => Duration::from_secs(15 * 60),
        Some(s) => duration(s, cp.key("rejoin_grace"))?,
    };
    Ok(CallPolicy {
        max_priority_streak: streak as u32,
        normal_max_wait,
        rejoin_grace,
    })
}

/// `[day]`: the rollover time (`04:00`) and the time zone (`Asia/Shanghai`).
fn day_boundary(raw: RawDay) -> Result<DayBoundary, Invalid> {
    let dk = KeyPath::new("day");
    let rollover_s = raw.rollover.unwrap_or_else(|| "04:00".to_string());
    let rollover = NaiveTime::parse_from_str(&rollover_s, "%H:%M").map_err(|_| {
        (
            dk.key("rollover"),
            format!("\"{rollover_s}\" must be a local time HH:MM, e.g. \"04:00\""),
        )
    })?;
    let tz_s = raw.timezone.unwrap_or_else(|| "Asia/Shanghai".to_string());
    let timezone = chrono_tz::Tz::from_str(&tz_s).map_err(|_| {
        (
            dk.key("timezone"),
            format!("\"{tz_s}\" is not a time zone name, e.g. \"Asia/Shanghai\""),
        )
    })?;
    Ok(DayBoundary { timezone, rollover })
}

/// `[kiosk]` and `[priority]`: a known default service, an http(s) URL,
/// an age from 1 to 150.
fn kiosk_config(
    raw: RawKiosk,
    priority: RawPriority,
    services: &[Service],
) -> Result<KioskConfig, Invalid> {
    let kk = KeyPath::new("kiosk");
    if let Some(d) = &raw.default_service {
        if !services.iter().any(|s| &s.code == d) {
            return Err((
                kk.key("default_service"),
                format!("\"{d}\" is not a service code"),
            ));
        }
    }
    if let Some(u) = &raw.public_url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err((
                kk.key("public_url"),
                format!("\"{u}\" must start with http:// or https://"),
            ));
        }
    }
    let min_age = match priority.min_age {
        None => None,
        Some(a @ 1..=150) => Some(a as u32),
        Some(a) => {
            return Err((
                KeyPath::new("priority").key("min_age"),
                format!("{a} must be an age between 1 and 150 (leave it out to turn the rule off)"),
            ))
        }
    };
    Ok(KioskConfig {
        default_service: raw.default_service,
        public_url: raw.public_url,
        notice: match raw.notice {
            None => Vec::new(),
            Some(RawLines::One(l)) => vec![l],
            Some(RawLines::Many(ls)) => ls,
        }
        .into_iter()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect(),
        min_age,
    })
}

/// `[voice]`: a command that names a program, a timeout from 1 s to 10 min.
fn voice_config(raw: RawVoice) -> Result<VoiceConfig, Invalid> {
    let k = KeyPath::new("voice");
    let default = VoiceConfig::default();
    if let Some(c) = &raw.command {
        if c.first().is_none_or(|p| p.trim().is_empty()) {
            return Err((
                k.key("command"),
                "must name a program, e.g. [\"espeak-ng\", \"-v\", \"cmn-latn-pinyin\", \"-s\", \"140\"]"
                    .into(),
            ));
        }
    }
    let timeout = match raw.timeout.as_deref() {
        None => default.timeout,
        Some(s) => duration(s, k.key("timeout"))?,
    };
    if timeout < Duration::from_secs(1) || timeout > Duration::from_secs(600) {
        return Err((k.key("timeout"), "must be between 1s and 10m".into()));
    }
    let input = raw.input.unwrap_or(match raw.command {
        Some(_) => VoiceInput::Chinese,
        None => VoiceInput::Pinyin,
    });
    Ok(VoiceConfig {
        enabled: raw.enabled.unwrap_or(default.enabled),
        command: raw.command,
        timeout,
        kiosk_prompts: raw.kiosk_prompts.unwrap_or(default.kiosk_prompts),
        input,
    })
}

/// `[[helpers]]`: ids unique ASCII, names given, tokens long enough
/// (unique across the hall: [`check_tokens`]).
fn helpers_config(raw: Vec<RawHelper>) -> Result<Vec<Helper>, Invalid> {
    let mut helpers: Vec<Helper> = Vec::new();
    for (i, h) in raw.into_iter().enumerate() {
        let k = KeyPath::new("helpers").index(i);
        check_code(&h.id, k.key("id"))?;
        if let Some(j) = helpers.iter().position(|o| o.id == h.id) {
            return Err((
                k.key("id"),
                format!("\"{}\" is already used by helpers[{j}]", h.id),
            ));
        }
        if h.name.trim().is_empty() {
            return Err((k.key("name"), "must not be empty".into()));
        }
        let tok = token(h.token, k.key("token"))?;
        helpers.push(Helper {
            id: h.id,
            name: h.name.trim().to_string(),
            token: tok,
        });
    }
    Ok(helpers)
}

/// `[[kiosks]]`: ids unique codes, names given, tokens long enough
/// (unique across the hall: [`check_tokens`]).
fn kiosks_config(raw: Vec<RawKioskMachine>) -> Result<Vec<KioskMachine>, Invalid> {
    let mut kiosks: Vec<KioskMachine> = Vec::new();
    for (i, k) in raw.into_iter().enumerate() {
        let key = KeyPath::new("kiosks").index(i);
        check_code(&k.id, key.key("id"))?;
        if let Some(j) = kiosks.iter().position(|o| o.id == k.id) {
            return Err((
                key.key("id"),
                format!("\"{}\" is already used by kiosks[{j}]", k.id),
            ));
        }
        if k.name.trim().is_empty() {
            return Err((key.key("name"), "must not be empty".into()));
        }
        let tok = token(k.token, key.key("token"))?;
        kiosks.push(KioskMachine {
            id: k.id,
            name: k.name.trim().to_string(),
            token: tok,
        });
    }
    Ok(kiosks)
}

/// `[hall] server` with `[kiosk] token`: this machine is a kiosk of a hall
/// server; both or neither.
fn server_config(
    url: Option<String>,
    tok: Option<String>,
    hash_key: Option<PathBuf>,
) -> Result<Option<HallServer>, Invalid> {
    let Some(url) = url else {
        let stray = match (&tok, &hash_key) {
            (Some(_), _) => Some("token"),
            (None, Some(_)) => Some("hash_key"),
            (None, None) => None,
        };
        return match stray {
            None => Ok(None),
            Some(k) => Err((
                KeyPath::new("kiosk").key(k),
                "is for a kiosk machine, which names its hall server in [hall] server".into(),
            )),
        };
    };
    let tok = tok.ok_or_else(|| {
        (
            KeyPath::new("kiosk").key("token"),
            "is missing: a kiosk machine ([hall] server) needs its [[kiosks]] token from the hall server".to_string(),
        )
    })?;
    let hash_key = hash_key.ok_or_else(|| {
        (
            KeyPath::new("kiosk").key("hash_key"),
            "is missing: a kiosk machine hashes ID numbers with the hall's key; copy the server's [roster] hash_key file here".to_string(),
        )
    })?;
    Ok(Some(HallServer {
        url: url.trim_end_matches('/').to_string(),
        token: token(tok, KeyPath::new("kiosk").key("token"))?,
        hash_key,
    }))
}

/// A path from the configuration, relative to the file's directory.
fn resolve(base: &Path, p: PathBuf) -> PathBuf {
    if p.is_relative() {
        base.join(p)
    } else {
        p
    }
}

/// `[devices]`: each device's settings checked.
fn devices_config(d: RawDevices) -> Result<Devices, Invalid> {
    let id_reader = match d.id_reader {
        None => None,
        Some(r) => Some(id_reader_config(r)?),
    };
    if let Some(p) = &d.printer {
        p.validate().map_err(|e| {
            (
                KeyPath::new("devices").key("printer").key("uri"),
                e.to_string(),
            )
        })?;
    }
    if let Some(p) = &d.pcsc {
        p.validate()
            .map_err(|e| (KeyPath::new("devices").key("pcsc"), e.to_string()))?;
    }
    Ok(Devices {
        id_reader,
        printer: d.printer,
        pcsc: d.pcsc,
    })
}

/// `[devices.id_reader]`: a poll interval from 50 ms to 10 s; a GA 467
/// reader needs a port and takes a baud rate, the simulator neither.
fn id_reader_config(r: RawIdReader) -> Result<IdReaderSetting, Invalid> {
    use greenwave_drivers::idcard::IdReaderConfig;
    let k = KeyPath::new("devices").key("id_reader");
    let poll_interval = match r.poll_interval.as_deref() {
        Some(s) => duration(s, k.key("poll_interval"))?,
        None => IdReaderConfig::default().poll_interval,
    };
    if poll_interval < Duration::from_millis(50) || poll_interval > Duration::from_secs(10) {
        return Err((
            k.key("poll_interval"),
            "must be between 50ms and 10s".into(),
        ));
    }
    match r.kind.as_str() {
        "ga467" => {
            let port = r.port.ok_or_else(|| {
                (
                    k.key("port"),
                    "is required for kind = \"ga467\" (e.g. \"/dev/ttyUSB0\")".to_string(),
                )
            })?;
            Ok(IdReaderSetting::Ga467(IdReaderConfig {
                port,
                baud: baud(r.baud, k.key("baud"))?,
                poll_interval,
                ..IdReaderConfig::default()
            }))
        }
        "simulated" => Ok(IdReaderSetting::Simulated { poll_interval }),
        other => Err((
            k.key("kind"),
            format!("\"{other}\" must be \"ga467\" or \"simulated\""),
        )),
    }
}

/// `baud`: `"auto"` (the default) or one of the GA 467 rates.
fn baud(
    raw: Option<toml::Value>,
    key: KeyPath,
) -> Result<greenwave_drivers::idcard::Baud, Invalid> {
    use greenwave_drivers::idcard::Baud;
    match raw {
        None => Ok(Baud::Auto),
        Some(toml::Value::String(s)) if s == "auto" => Ok(Baud::Auto),
        Some(toml::Value::Integer(b @ (9600 | 19200 | 38400 | 57600 | 115_200))) => {
            Ok(Baud::Fixed(b as u32))
        }
        Some(v) => Err((
            key,
            format!("{v} must be \"auto\" or one of 9600, 19200, 38400, 57600, 115200"),
        )),
    }
}

/// Default assistance categories and those that grant priority.
pub const DEFAULT_CATEGORIES: [&str; 4] = ["低保", "特困", "低保边缘", "临时救助"];
const DEFAULT_PRIORITY: [&str; 3] = ["低保", "特困", "低保边缘"];

fn roster_config(r: RawRoster, base: &Path) -> Result<RosterConfig, Invalid> {
    let k = KeyPath::new("roster");
    let rel = |p: PathBuf| if p.is_relative() { base.join(p) } else { p };
    let names = r
        .categories
        .unwrap_or_else(|| DEFAULT_CATEGORIES.iter().map(|s| s.to_string()).collect());
    let priority = r
        .priority_categories
        .unwrap_or_else(|| DEFAULT_PRIORITY.iter().map(|s| s.to_string()).collect());
    let categories = Categories::new(names, &priority).map_err(|e| {
        let key = if matches!(e, crate::roster::CategoryError::UnknownPriority(_)) {
            "priority_categories"
        } else {
            "categories"
        };
        (k.key(key), e.to_string())
    })?;
    let require_signature = r.require_signature.unwrap_or(true);
    if require_signature && r.public_key.is_none() {
        return Err((
            k.key("public_key"),
            "is required while require_signature = true (the roster-public.key written by `greenwave roster keygen`)"
                .into(),
        ));
    }
    let source = roster_source(r.source, r.source_interval, r.public_key.is_some())?;
    Ok(RosterConfig {
        public_key: r.public_key.map(rel),
        hash_key: r.hash_key.map(rel),
        inbox: r.inbox.map(rel),
        source,
        require_signature,
        categories,
        columns: r.columns.unwrap_or_default(),
    })
}

/// `[roster] source` and `source_interval`: an http(s) URL of a directory
/// (a `/` is added at the end), checked every 10 minutes by default, from
/// 1 second to 1 day; the index is verified with `public_key`.
fn roster_source(
    url: Option<String>,
    interval: Option<String>,
    has_public_key: bool,
) -> Result<Option<crate::roster::install::RosterSource>, Invalid> {
    let k = KeyPath::new("roster");
    let Some(url) = url.map(|u| u.trim().to_string()) else {
        if interval.is_some() {
            return Err((
                k.key("source_interval"),
                "is set but roster.source is not (the web server to fetch rosters from)".into(),
            ));
        }
        return Ok(None);
    };
    let host = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    if host.is_none_or(|h| h.is_empty() || h.starts_with('/') || h.contains(char::is_whitespace)) {
        return Err((
            k.key("source"),
            format!("\"{url}\" must be an http:// or https:// URL of the directory ops publish into, e.g. \"http://10.0.0.5/greenwave/\""),
        ));
    }
    if url.contains(['?', '#']) {
        return Err((
            k.key("source"),
            format!("\"{url}\" must be a plain directory URL, without ? or #"),
        ));
    }
    if !has_public_key {
        return Err((
            k.key("public_key"),
            "is required with roster.source: the published index is verified with it".into(),
        ));
    }
    let ik = k.key("source_interval");
    let every = match interval.as_deref() {
        Some(s) => duration(s, ik.clone())?,
        None => Duration::from_secs(600),
    };
    if every < Duration::from_secs(1) || every > Duration::from_secs(86_400) {
        return Err((ik, "must be between 1s and 24h".into()));
    }
    let url = if url.ends_with('/') { url } else { url + "/" };
    Ok(Some(crate::roster::install::RosterSource {
        url,
        interval: every,
    }))
}

/// Every bearer token of the file with its key, in file order: windows
/// (and their evaluators), helpers, kiosk machines, the manager, the
/// displays, this kiosk machine's own.
fn raw_tokens(raw: &RawConfig) -> Vec<(KeyPath, &str)> {
    let mut all = Vec::new();
    for (i, w) in raw.windows.iter().enumerate() {
        let k = KeyPath::new("windows").index(i);
        all.push((k.key("token"), w.token.as_str()));
        if let Some(e) = &w.evaluator_token {
            all.push((k.key("evaluator_token"), e.as_str()));
        }
    }
    for (i, h) in raw.helpers.iter().enumerate() {
        all.push((
            KeyPath::new("helpers").index(i).key("token"),
            h.token.as_str(),
        ));
    }
    for (i, m) in raw.kiosks.iter().enumerate() {
        all.push((
            KeyPath::new("kiosks").index(i).key("token"),
            m.token.as_str(),
        ));
    }
    let api = KeyPath::new("api");
    let singles = [
        (api.key("manager_token"), &raw.api.manager_token),
        (api.key("display_token"), &raw.api.display_token),
        (api.key("hotline_token"), &raw.api.hotline_token),
        (KeyPath::new("kiosk").key("token"), &raw.kiosk.token),
    ];
    for (k, t) in singles {
        if let Some(t) = t {
            all.push((k, t.as_str()));
        }
    }
    all
}

/// Words that mark a token as an example to replace, not a secret:
/// `config/greenwave.toml` ships `change-me-…` tokens as documentation.
const PLACEHOLDERS: [&str; 6] = [
    "change-me",
    "changeme",
    "change_me",
    "replace-me",
    "placeholder",
    "put-16-or-more",
];

/// Why `t` is an obvious placeholder, if it is one.
pub fn placeholder(t: &str) -> Option<String> {
    let lower = t.to_lowercase();
    if let Some(word) = PLACEHOLDERS.iter().find(|w| lower.contains(*w)) {
        return Some(format!("contains \"{word}\""));
    }
    let mut chars = t.chars();
    let first = chars.next()?;
    chars
        .all(|c| c == first)
        .then(|| "is one character repeated".to_string())
}

/// The hall's tokens: no placeholder (all of them named in one error,
/// with what to do), and no token used for two keys (both named). Length
/// and spaces are checked per key by [`token`].
fn check_tokens(tokens: &[(KeyPath, &str)]) -> Result<(), Invalid> {
    let placeholders: Vec<(&KeyPath, String)> = tokens
        .iter()
        .filter_map(|(k, t)| placeholder(t).map(|why| (k, why)))
        .collect();
    if let Some(((first, why), rest)) = placeholders.split_first() {
        let others: Vec<String> = rest.iter().map(|(k, _)| k.display()).collect();
        let also = if others.is_empty() {
            String::new()
        } else {
            format!("; so are {}", others.join(", "))
        };
        return Err((
            (*first).clone(),
            format!(
                "is a placeholder, not a secret (it {why}){also}. Run `greenwave init` to write a configuration with random tokens, or give each key its own `openssl rand -hex 16`"
            ),
        ));
    }
    for (i, (key, t)) in tokens.iter().enumerate() {
        if let Some((other, _)) = tokens[..i].iter().find(|(_, o)| o == t) {
            return Err((
                key.clone(),
                format!(
                    "is the same as {}: every window, evaluator, helper, kiosk, the manager and the displays need a token of their own",
                    other.display()
                ),
            ));
        }
    }
    Ok(())
}

fn token(t: String, key: KeyPath) -> Result<Secret, Invalid> {
    if t.chars().count() < MIN_TOKEN_LEN || t.chars().any(char::is_whitespace) {
        return Err((
            key,
            format!("must be at least {MIN_TOKEN_LEN} characters without spaces (generate one with `openssl rand -hex 16`)"),
        ));
    }
    Ok(Secret(t))
}

fn duration(s: &str, key: KeyPath) -> Result<Duration, Invalid> {
    humantime::parse_duration(s).map_err(|_| {
        (
            key,
            format!("\"{s}\" must be a duration such as \"30m\", \"90s\" or \"1h 30m\""),
        )
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Finds the line of a key path in the TOML text: the key itself if it is
/// there, else the nearest enclosing table or array element.
fn locate_key(text: &str, path: &KeyPath) -> Option<usize> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut item: &toml_edit::Item = doc.as_item();
    let mut best: Option<std::ops::Range<usize>> = None;
    for seg in &path.0 {
        let next = match seg {
            Seg::Key(k) => match item.as_table_like().and_then(|t| t.get_key_value(k)) {
                Some((key, value)) => {
                    best = key.span().or(best);
                    value
                }
                None => break,
            },
            Seg::Index(i) => match item.get(*i) {
                Some(v) => v,
                None => break,
            },
        };
        if let Some(span) = next.span() {
            if matches!(seg, Seg::Index(_)) || best.is_none() {
                best = Some(span);
            }
        }
        item = next;
    }
    best.map(|s| line_of(text, s.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid hall with `hall_code`, `service_code` and `helper_id` put in.
    fn hall(hall_code: &str, service_code: &str, helper_id: &str) -> String {
        format!(
            r#"[hall]
name = "h"
code = "{hall_code}"
[[services]]
code = "{service_code}"
name = "甲"
letter = "A"
[[windows]]
number = 1
services = ["{service_code}"]
token = "0123456789abcdef0"
[[helpers]]
id = "{helper_id}"
name = "王协办"
token = "0123456789abcdef1"
"#
        )
    }

    fn error(text: &str) -> String {
        Config::parse(text, Path::new("greenwave.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_city_needs_a_postgres_url_the_hall_code_and_sane_intervals() {
        let city = |extra: &str| format!("{}[city]\n{extra}\n", hall("jd-01", "civil", "h1"));
        let cfg = Config::parse(
            &city("database_url = \"postgres://g@db/g\""),
            Path::new("greenwave.toml"),
        )
        .unwrap();
        let c = cfg.city.unwrap();
        assert_eq!(
            (c.hall.as_str(), c.push_interval, c.push_batch),
            ("jd-01", Duration::from_secs(30), 5000)
        );
        assert!(
            !format!("{:?}", c.database_url).contains("postgres://g@db"),
            "the URL is a secret"
        );
        assert!(error(&city("")).contains("city.database_url is missing"));
        assert!(error(&city("database_url = \"mysql://x\""))
            .contains("city.database_url must be a postgres:// URL"));
        assert!(error(&city(
            "database_url = \"postgres://x\"\npush_interval = \"10ms\""
        ))
        .contains("city.push_interval must be between 200ms and 1h"));
        assert!(
            error(&city("database_url = \"postgres://x\"\npush_batch = 1"))
                .contains("city.push_batch must be between 10 and 50000")
        );
        let no_code = hall("jd-01", "civil", "h1").replace("code = \"jd-01\"\n", "")
            + "[city]\ndatabase_url = \"postgres://x\"\n";
        assert!(
            error(&no_code).contains("hall.code is needed with [city]"),
            "{}",
            error(&no_code)
        );
    }

    #[test]
    fn a_code_is_1_to_32_of_lowercase_digits_underscore_and_dash() {
        for ok in ["a", "civil", "jd-01", "h_1", "0", &"x".repeat(32)] {
            assert!(is_code(ok), "{ok:?}");
        }
        for bad in ["", "Civil", "a b", "a.b", "民政", &"x".repeat(33)] {
            assert!(!is_code(bad), "{bad:?}");
        }
    }

    #[test]
    fn hall_codes_service_codes_and_helper_ids_share_the_code_check() {
        let text = hall("jd-01", "civil_2", "h-1");
        let cfg = Config::parse(&text, Path::new("greenwave.toml")).unwrap();
        assert_eq!(cfg.hall_code.as_deref(), Some("jd-01"));
        assert_eq!(cfg.services[0].code, "civil_2");
        assert_eq!(cfg.helpers[0].id, "h-1");

        let message = "must be 1-32 characters of a-z, 0-9, _ or -";
        assert_eq!(
            error(&hall("JD", "civil", "h1")),
            format!("greenwave.toml:3: hall.code \"JD\" {message}")
        );
        assert_eq!(
            error(&hall("jd", "civil service", "h1")),
            format!("greenwave.toml:5: services[0].code \"civil service\" {message}")
        );
        assert_eq!(
            error(&hall("jd", "civil", "")),
            format!("greenwave.toml:13: helpers[0].id \"\" {message}")
        );
    }

    #[test]
    fn placeholder_tokens_are_refused_all_named_with_what_to_do() {
        let text = hall("jd", "civil", "h1")
            .replace("0123456789abcdef0", "change-me-window-1-token")
            + "[api]\nmanager_token = \"CHANGEME-manager-token\"\ndisplay_token = \"xxxxxxxxxxxxxxxxxxxx\"\n";
        let e = error(&text);
        assert!(
            e.starts_with("greenwave.toml:11: windows[0].token is a placeholder, not a secret (it contains \"change-me\"); so are api.manager_token, api.display_token."),
            "{e}"
        );
        assert!(e.contains("`greenwave init`"), "{e}");
        assert!(
            !e.contains("manager-token"),
            "the tokens themselves are not shown: {e}"
        );
        assert!(placeholder("3f9a0c1d2e4b5a6978f0e1d2c3b4a596").is_none());
        assert!(placeholder("test-window-1-token-0001").is_none());
    }

    #[test]
    fn a_token_used_for_two_keys_names_both() {
        let base = hall("jd", "civil", "h1");
        let shared = |extra: &str| error(&format!("{base}{extra}"));
        let e = shared("[api]\nmanager_token = \"0123456789abcdef1\"\n");
        assert!(
            e.contains("api.manager_token is the same as helpers[0].token"),
            "{e}"
        );
        let e = shared("[[kiosks]]\nid = \"k1\"\nname = \"入口\"\ntoken = \"0123456789abcdef0\"\n");
        assert!(
            e.contains("kiosks[0].token is the same as windows[0].token"),
            "{e}"
        );
        let e = error(&base.replace(
            "token = \"0123456789abcdef0\"",
            "token = \"0123456789abcdef0\"\nevaluator_token = \"0123456789abcdef0\"",
        ));
        assert!(
            e.contains("windows[0].evaluator_token is the same as windows[0].token"),
            "{e}"
        );
        let e = shared("[api]\ndisplay_token = \"0123456789abcdef0\"\n");
        assert!(
            e.contains("api.display_token is the same as windows[0].token"),
            "{e}"
        );
        let e = error(&base.replace("0123456789abcdef0", "short-token"));
        assert!(
            e.contains("windows[0].token must be at least 16 characters"),
            "{e}"
        );
    }

    #[test]
    fn letters_and_the_prefix_are_capitals() {
        assert!(is_capitals("A", 1) && is_capitals("GB", 2));
        assert!(!is_capitals("", 1) && !is_capitals("AB", 1) && !is_capitals("a", 2));
        let text = hall("jd", "civil", "h1");
        assert_eq!(
            error(&text.replace("letter = \"A\"", "letter = \"AA\"")),
            "greenwave.toml:7: services[0].letter \"AA\" must be one capital letter A-Z"
        );
        assert_eq!(
            error(&format!("{text}[lanes.priority]\nprefix = \"G1\"\n")),
            "greenwave.toml:17: lanes.priority.prefix \"G1\" must be one or two capital letters A-Z"
        );
    }
}
