//! A small harness for end-to-end tests: a hall in a temp dir, the real
//! `greenwave` binary started on 127.0.0.1 with a free port, an HTTP helper.
//! Every process started here is killed and reaped on drop, even when the
//! test panics.

#![allow(dead_code)]

pub mod browser;
pub mod file_server;
pub mod pg;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_greenwave");
pub const MANAGER: &str = "test-manager-token-0001";

pub fn window_token(n: u32) -> String {
    format!("test-window-{n}-token-0001")
}

/// A service of a test hall: (code, name, letter).
pub type Service<'a> = (&'a str, &'a str, &'a str);
/// The default hall's first service.
pub const CIVIL: Service<'static> = ("civil", "民政救助", "A");
/// The default hall's second service.
pub const MEDICAL: Service<'static> = ("medical", "医保业务", "B");

/// A test hall's configuration, written as TOML in this order: `data_dir`,
/// `[hall]`, the services, windows and helpers, `[api]`, then `extra`
/// (so that keys at its start still belong to `[api]`). The defaults are
/// [`TestHall::new`]'s hall.
#[derive(Debug, Clone)]
pub struct HallBuilder {
    data_dir: Option<String>,
    name: String,
    services: Vec<(String, String, String)>,
    /// (service code, what to bring)
    documents: Vec<(String, Vec<String>)>,
    /// (number, service codes, token)
    windows: Vec<(u32, Vec<String>, String)>,
    /// (id, name, token)
    helpers: Vec<(String, String, String)>,
    /// (window, evaluator token)
    evaluators: Vec<(u32, String)>,
    api: bool,
    manager_token: Option<String>,
    extra: String,
}

impl HallBuilder {
    /// `data_dir` (relative to the file), or none: the key is left out.
    pub fn data_dir(mut self, dir: Option<&str>) -> Self {
        self.data_dir = dir.map(str::to_string);
        self
    }

    /// `[hall] name`.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// The services, in this order.
    pub fn services(mut self, services: &[Service]) -> Self {
        self.services = services
            .iter()
            .map(|(c, n, l)| (c.to_string(), n.to_string(), l.to_string()))
            .collect();
        self
    }

    /// What to bring for service `code` (`[[services]] documents`).
    pub fn documents(mut self, code: &str, documents: &[&str]) -> Self {
        let documents = documents.iter().map(|d| d.to_string()).collect();
        self.documents.push((code.to_string(), documents));
        self
    }

    /// The windows: (number, service codes); window `n`'s token is
    /// [`window_token`]`(n)`.
    pub fn windows(mut self, windows: &[(u32, &[&str])]) -> Self {
        self.windows = windows
            .iter()
            .map(|(n, s)| {
                (
                    *n,
                    s.iter().map(|c| c.to_string()).collect(),
                    window_token(*n),
                )
            })
            .collect();
        self
    }

    /// Window `number` gets `token` instead.
    pub fn with_window_token(mut self, number: u32, token: &str) -> Self {
        for w in self.windows.iter_mut().filter(|w| w.0 == number) {
            w.2 = token.to_string();
        }
        self
    }

    /// Window `number`'s evaluator token (`[[windows]] evaluator_token`).
    pub fn evaluator(mut self, number: u32, token: &str) -> Self {
        self.evaluators.push((number, token.to_string()));
        self
    }

    /// The helpers: (id, name, token).
    pub fn helpers(mut self, helpers: &[(&str, &str, &str)]) -> Self {
        self.helpers = helpers
            .iter()
            .map(|(i, n, t)| (i.to_string(), n.to_string(), t.to_string()))
            .collect();
        self
    }

    /// No `[api]` table at all (the defaults apply).
    pub fn no_api(mut self) -> Self {
        self.api = false;
        self
    }

    /// `[api] manager_token`, or none.
    pub fn manager_token(mut self, token: Option<&str>) -> Self {
        self.manager_token = token.map(str::to_string);
        self
    }

    /// TOML appended at the end.
    pub fn extra(mut self, extra: &str) -> Self {
        self.extra = extra.to_string();
        self
    }

    /// The configuration file's text.
    pub fn toml(&self) -> String {
        let mut t = String::new();
        if let Some(d) = &self.data_dir {
            t += &format!("data_dir = \"{d}\"\n");
        }
        t += &format!("[hall]\nname = \"{}\"\n", self.name);
        for (code, name, letter) in &self.services {
            t += &format!(
                "[[services]]\ncode = \"{code}\"\nname = \"{name}\"\nletter = \"{letter}\"\n"
            );
            for (_, documents) in self.documents.iter().filter(|(c, _)| c == code) {
                let names: Vec<String> = documents.iter().map(|d| format!("\"{d}\"")).collect();
                t += &format!("documents = [{}]\n", names.join(", "));
            }
        }
        for (number, services, token) in &self.windows {
            let codes: Vec<String> = services.iter().map(|c| format!("\"{c}\"")).collect();
            t += &format!(
                "[[windows]]\nnumber = {number}\nservices = [{}]\ntoken = \"{token}\"\n",
                codes.join(", ")
            );
            for (_, e) in self.evaluators.iter().filter(|(w, _)| w == number) {
                t += &format!("evaluator_token = \"{e}\"\n");
            }
        }
        for (id, name, token) in &self.helpers {
            t += &format!("[[helpers]]\nid = \"{id}\"\nname = \"{name}\"\ntoken = \"{token}\"\n");
        }
        if self.api {
            t += "[api]\nlisten = \"127.0.0.1:0\"\n";
            if let Some(m) = &self.manager_token {
                t += &format!("manager_token = \"{m}\"\n");
            }
        }
        t + &self.extra + "\n"
    }

    /// Writes the configuration file at `path`.
    pub fn write(&self, path: &Path) {
        std::fs::write(path, self.toml()).unwrap();
    }

    /// The hall in a temporary directory of its own.
    pub fn build(self) -> TestHall {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("greenwave.toml");
        self.write(&config);
        TestHall { dir, config }
    }
}

/// A hall configuration in a temporary directory.
pub struct TestHall {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl TestHall {
    /// Two services (civil A, medical B), three windows, the API on a free
    /// port with the manager's token; then change what a test needs.
    pub fn builder() -> HallBuilder {
        HallBuilder {
            data_dir: Some("data".into()),
            name: "测试大厅".into(),
            services: Vec::new(),
            documents: Vec::new(),
            windows: Vec::new(),
            helpers: Vec::new(),
            evaluators: Vec::new(),
            api: true,
            manager_token: Some(MANAGER.into()),
            extra: String::new(),
        }
        .services(&[CIVIL, MEDICAL])
        .windows(&[
            (1, &["civil"]),
            (2, &["civil", "medical"]),
            (3, &["medical"]),
        ])
    }

    /// The [`builder`](TestHall::builder)'s hall; `extra` is appended (e.g.
    /// a [call_policy] table).
    pub fn new(extra: &str) -> TestHall {
        TestHall::builder().extra(extra).build()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn start(&self) -> Daemon {
        Daemon::start(&self.config)
    }

    /// Runs the binary with `--config` and `args`; returns (status, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (ExitStatus, String, String) {
        let out = Command::new(BIN)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .unwrap();
        (
            out.status,
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// A running `greenwave run`.
pub struct Daemon {
    child: Child,
    pub base: String,
    stderr: PathBuf,
    stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stdin: Option<std::process::ChildStdin>,
}

impl Daemon {
    pub fn start(config: &Path) -> Daemon {
        Daemon::start_with(config, |_| {})
    }

    /// `greenwave run` with `args` after it, started through `wrapper`
    /// (e.g. `prlimit --fsize=...`) unless that is empty.
    pub fn start_wrapped(config: &Path, wrapper: &[&str], args: &[&str]) -> Daemon {
        let wrapper: Vec<String> = wrapper.iter().map(|s| s.to_string()).collect();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Daemon::launch(config, wrapper, |cmd| {
            cmd.args(&args);
        })
    }

    /// [`Daemon::start`] with the command adjusted first (an environment
    /// variable, a resource limit set in `pre_exec`).
    pub fn start_with(config: &Path, adjust: impl FnOnce(&mut Command)) -> Daemon {
        Daemon::launch(config, Vec::new(), adjust)
    }

    fn launch(config: &Path, wrapper: Vec<String>, adjust: impl FnOnce(&mut Command)) -> Daemon {
        let stderr = config.with_extension(format!("stderr.{}", rand_suffix()));
        // GREENWAVE_BIN runs another build (a bench against an older one).
        let bin = std::env::var("GREENWAVE_BIN").unwrap_or_else(|_| BIN.to_string());
        let mut cmd = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        cmd.arg("--config").arg(config).arg("run");
        adjust(&mut cmd);
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let stdin = child.stdin.take();
        let (tx, rx) = mpsc::channel();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(i) = line.find("http://") {
                    let _ = tx.send(line[i..].trim().to_string());
                }
                keep.lock().unwrap().push(line);
            }
        });
        let mut d = Daemon {
            stdout: lines,
            stdin,
            child,
            base: String::new(),
            stderr,
        };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(base) => d.base = base,
            Err(_) => {
                let log = std::fs::read_to_string(&d.stderr).unwrap_or_default();
                panic!("daemon did not start within 30 s; stderr:\n{log}");
            }
        }
        d
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and reap.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM; waits up to `limit` for the exit status.
    pub fn terminate(mut self, limit: Duration) -> Option<ExitStatus> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            // Not `eventually`: running out of time is an answer here
            // (None), not a failure.
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Types a line on the kiosk's keypad (the daemon's stdin).
    pub fn key(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin is piped");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Every stdout line so far.
    pub fn lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Waits (bounded) for a stdout line containing `text`.
    pub fn wait_stdout(&self, text: &str) -> String {
        eventually_some(
            Duration::from_secs(20),
            &format!("no stdout line with {text:?}"),
            || {
                self.stdout
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|l| l.contains(text))
                    .cloned()
            },
            || format!("{:?}", self.stdout.lock().unwrap()),
        )
    }

    /// Sends SIGHUP and waits (bounded) for the daemon's answer line.
    pub fn reload(&self) -> String {
        let before = self.stdout.lock().unwrap().len();
        let _ = Command::new("kill")
            .arg("-HUP")
            .arg(self.child.id().to_string())
            .status();
        eventually_some(
            Duration::from_secs(20),
            "no answer to SIGHUP",
            || {
                self.stdout.lock().unwrap()[before..]
                    .iter()
                    .find(|l| l.contains("配置"))
                    .cloned()
            },
            || self.stderr(),
        )
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn get(&self, path: &str, token: &str) -> (u16, Value) {
        http("GET", &format!("{}{path}", self.base), Some(token), None)
    }

    pub fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        http(
            "POST",
            &format!("{}{path}", self.base),
            Some(token),
            Some(body),
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// One HTTP request (GET, POST, PUT or DELETE); (status, JSON body or
/// Null). Connection failures are status 0.
pub fn http(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let auth = token.map(|t| format!("Bearer {t}"));
    let resp = match method {
        "GET" => {
            let mut r = agent.get(url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.call()
        }
        "DELETE" => {
            let mut r = agent.delete(url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.call()
        }
        _ => {
            let mut r = if method == "PUT" {
                agent.put(url)
            } else {
                agent.post(url)
            };
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            match body {
                Some(b) => r.send_json(&b),
                None => r.send_empty(),
            }
        }
    };
    match resp {
        Ok(mut r) => {
            let status = r.status().as_u16();
            let v = r.body_mut().read_json::<Value>().unwrap_or(Value::Null);
            (status, v)
        }
        Err(_) => (0, Value::Null),
    }
}

/// One GET whose answer is not JSON: (status, content type, body text).
/// Connection failures are status 0.
pub fn get_text(url: &str, token: Option<&str>) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut r = agent.get(url);
    if let Some(t) = token {
        r = r.header("Authorization", format!("Bearer {t}"));
    }
    match r.call() {
        Ok(mut resp) => {
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let body = resp.body_mut().read_to_string().unwrap_or_default();
            (resp.status().as_u16(), ct, body)
        }
        Err(_) => (0, String::new(), String::new()),
    }
}

/// A connected pty pair made by socat, links at `a` and `b`; killed and
/// reaped on drop.
pub struct Socat(Child);

impl Socat {
    pub fn start(a: &Path, b: &Path) -> Socat {
        let end = |p: &Path| format!("pty,raw,echo=0,link={}", p.display());
        let child = Command::new("socat")
            .args(["-d", "-d", &end(a), &end(b)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("socat (packaging/test-packages.txt)");
        let socat = Socat(child);
        eventually(
            Duration::from_secs(15),
            "socat links never appeared",
            || a.exists() && b.exists(),
            String::new,
        );
        socat
    }
}

impl Drop for Socat {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A ratatui buffer as text, one line per row; a wide character's second
/// cell is not repeated (so each line is as wide as the screen).
pub fn screen_text(buf: &ratatui::buffer::Buffer) -> String {
    use unicode_width::UnicodeWidthStr;
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut skip = 0;
        for x in 0..buf.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let s = buf[(x, y)].symbol();
            out.push_str(s);
            skip = s.width().saturating_sub(1);
        }
        out.push('\n');
    }
    out
}

/// A tmux server of its own, killed on drop.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    pub fn start(cmd: &str, w: u16, h: u16) -> Tmux {
        let socket = format!("greenwave-test-{}-{}", std::process::id(), rand_suffix());
        let st = std::process::Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &w.to_string(), "-y", &h.to_string()])
            .args(["-e", "LANG=C.UTF-8", "-e", "TERM=xterm-256color"])
            .arg(cmd)
            .status()
            .unwrap();
        assert!(st.success(), "tmux did not start");
        Tmux { socket }
    }

    pub fn capture(&self) -> String {
        let out = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the pane shows every one of `texts` (or fails with the
    /// pane's last contents).
    pub fn wait_for(&self, texts: &[&str]) -> String {
        let mut pane = String::new();
        eventually(
            Duration::from_secs(20),
            &format!("pane never showed {texts:?}"),
            || {
                pane = self.capture();
                texts.iter().all(|t| pane.contains(t))
            },
            || self.capture(),
        );
        pane
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // The pane's program first: a daemon takes the SIGHUP of a closing
        // tmux as "reload" and would outlive a failed test.
        if let Ok(out) = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "list-panes", "-a", "-F", "#{pane_pid}"])
            .stderr(std::process::Stdio::null())
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", pid])
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        }
        let _ = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

impl Tmux {
    /// Types `keys` into the pane (tmux key names: `0`, `C-c`, `Enter`).
    pub fn send(&self, keys: &str) {
        let st = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0", keys])
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// The pane's program's process id.
    pub fn pane_pid(&self) -> u32 {
        let out = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "list-panes", "-F", "#{pane_pid}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }

    /// Whether the pane's program is still running.
    pub fn alive(&self) -> bool {
        std::process::Command::new("tmux")
            .args(["-L", &self.socket, "has-session"])
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }
}

/// Waits until `done` holds, checking every 20 ms, for at most `limit`;
/// fails naming `what` (and whatever `why` says then). For states of
/// other processes (a file written, a process gone) that send no event.
pub fn eventually(
    limit: Duration,
    what: &str,
    mut done: impl FnMut() -> bool,
    why: impl Fn() -> String,
) {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}: {}", why());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `f` through [`eventually`] until it gives `Some`, and returns
/// that.
pub fn eventually_some<T>(
    limit: Duration,
    what: &str,
    mut f: impl FnMut() -> Option<T>,
    why: impl Fn() -> String,
) -> T {
    let mut found = None;
    eventually(
        limit,
        what,
        || {
            found = f();
            found.is_some()
        },
        why,
    );
    found.expect("eventually returns once found")
}

/// Runs the binary in `dir` with `args`; panics with its output unless it
/// succeeds.
pub fn run_in(dir: &Path, args: &[&str]) {
    let out = Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "greenwave {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A free port on 127.0.0.1, for a daemon that must come back on the same
/// address after a restart.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// In `dir`: a roster key pair (`keys/`) and `r1.gwr`, version 1, signed,
/// listing every ID number of `listed` as 低保 until 2099.
pub fn sign_roster(dir: &Path, listed: &[&str]) {
    run_in(dir, &["roster", "keygen", "--out", "keys"]);
    let mut csv = String::from("姓名,身份证号码,救助类别,有效期至\n");
    for id in listed {
        csv += &format!("甲,{id},低保,2099-12-31\n");
    }
    std::fs::write(dir.join("export.csv"), csv).unwrap();
    run_in(
        dir,
        &[
            "roster",
            "prepare",
            "export.csv",
            "--keys",
            "keys",
            "--version",
            "1",
            "--out",
            "r1.gwr",
        ],
    );
}
