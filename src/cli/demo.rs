//! `greenwave demo` (`make demo`): the whole mechanism on one screen with
//! no hardware. A throw-away hall (config/demo.toml, embedded) gets a
//! generated, signed roster; the real daemon runs in this process with the
//! simulated ID card reader (the real GA 467 driver against the simulator)
//! and a simulated ESC/POS printer on 127.0.0.1; a short story plays:
//! residents swipe (on the roster or not, one twice), windows call, a
//! helper explains a policy, a rating, the printer runs out of paper and is
//! refilled, the day's figures.
//!
//! On a terminal the screen is split: the kiosk screen and the last printed
//! ticket on the left, the hall display (following the real event stream)
//! on the right, the story below; `q` or Ctrl-C ends it. Without a terminal
//! (or with `--no-screen`) the story, the kiosk's lines and the tickets are
//! printed, and the demo ends by itself. Either way nothing keeps running.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use greenwave_drivers::idcard::sim::{fake, SimCard, SimControl};
use greenwave_drivers::idcard::text::CardRead;
use greenwave_drivers::idcard::DocumentId;
use greenwave_drivers::printer::sim::{PrinterSim, SimState};
use greenwave_drivers::printer::{render_text, PaperWidth};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Borders, Paragraph};
use serde_json::{json, Value};

use crate::board::client::{follow, Message};
use crate::board::model::Board;
use crate::config::Config;
use crate::daemon::{Daemon, Options};
use crate::hall::SystemClock;
use crate::kiosk::screen::{KioskScreen, Update};
use crate::kiosk::KioskOut;
use crate::roster::install::{import, ImportOptions};

/// The demo hall's configuration.
pub const DEMO_CONFIG: &str = include_str!("../../config/demo.toml");
const POLICIES: &str = include_str!("../../config/policies.toml");
const MANAGER: &str = "demo-manager-token";
const WINDOW_1: &str = "demo-window-1-token";
const WINDOW_2: &str = "demo-window-2-token";
const HELPER: &str = "demo-helper-1-token";

/// Arguments of `greenwave demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo hall in this directory instead of a temporary one
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Seconds between the steps of the story [default: 2.5 on a terminal, 0 otherwise]
    #[arg(long)]
    pub pace: Option<f64>,
    /// Print the story instead of taking over the terminal
    #[arg(long)]
    pub no_screen: bool,
}

/// What the story tells whoever shows it.
enum Say {
    /// A line of the story.
    Step(String),
    /// The story is over.
    Done,
}

/// Residents of the story: their cards, and which are on the roster.
struct People {
    listed_a: CardRead,
    listed_b: CardRead,
    stranger_a: CardRead,
    stranger_b: CardRead,
}

impl People {
    /// Four made-up residents; the first two go on the roster.
    fn new() -> People {
        People {
            listed_a: fake::resident(101),
            listed_b: fake::resident(102),
            stranger_a: fake::resident(103),
            stranger_b: fake::resident(104),
        }
    }
}

fn id_of(c: &CardRead) -> String {
    match &c.id_number {
        DocumentId::Gb11643(n) => n.expose().to_string(),
        DocumentId::Foreign(n) => n.expose().to_string(),
    }
}

pub(super) fn run(a: DemoArgs) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    let screen = !a.no_screen && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let pace = Duration::from_secs_f64(a.pace.unwrap_or(if screen { 2.5 } else { 0.0 }).max(0.0));
    let (dir, _tmp) = demo_dir(a.dir)?;
    // On the split screen, warnings (the paper running out) go to a file.
    let log = screen
        .then(|| std::fs::File::create(dir.join("demo.log")))
        .transpose()?;
    super::init_logging_to(0, true, log);

    let people = People::new();
    let printer =
        PrinterSim::start(SimState::Ready).context("cannot start the printer simulator")?;
    let cfg = setup(&dir, &people, &printer.uri())?;
    let reader = SimControl::new();

    let tickets_shown = Arc::new(AtomicUsize::new(0));
    let (kiosk_tx, kiosk_rx) = mpsc::channel::<Update>();
    let kiosk_out: KioskOut = {
        let tx = kiosk_tx;
        let shown = tickets_shown.clone();
        Arc::new(move |u: Update| {
            if matches!(u, Update::Ticket { .. }) {
                shown.fetch_add(1, Ordering::SeqCst);
            }
            if !screen {
                println!("  [自助机] {}", u.line());
            }
            let _ = tx.send(u);
        })
    };
    let (_keys_tx, keys_rx) = mpsc::channel();
    let rt = runtime()?;
    let daemon = rt.block_on(Daemon::start_with(
        cfg.clone(),
        Arc::new(SystemClock),
        Options {
            kiosk_out: Some(kiosk_out),
            keys: Some(keys_rx),
            sim_reader: Some(reader.clone()),
            ..Options::default()
        },
    ))?;
    let base = format!("http://{}", daemon.addr);
    if !screen {
        print_started(&cfg.hall_name, &base, &dir);
    }

    let (say_tx, say_rx) = mpsc::channel::<Say>();
    let stop = Arc::new(AtomicBool::new(false));
    let story = Story {
        agent: api_agent(),
        base: base.clone(),
        people,
        reader,
        printer: printer.control(),
        shown: tickets_shown,
        pace,
        screen,
        say: say_tx,
        stop: stop.clone(),
    }
    .spawn();

    let shown = if screen {
        split_screen(&cfg.hall_name, &base, kiosk_rx, say_rx, &printer, &stop)
    } else {
        print_story(say_rx);
        Ok(())
    };
    stop.store(true, Ordering::SeqCst);
    let told = story
        .join()
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the story panicked")));
    rt.block_on(daemon.shutdown())?;
    drop(printer);
    if !screen {
        println!("守护进程已停止，演示结束。");
    }
    shown?;
    told?;
    Ok(ExitCode::SUCCESS)
}

/// The demo hall's directory: `dir`, or a temporary one (removed when the
/// returned guard is dropped).
fn demo_dir(dir: Option<PathBuf>) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    let (dir, tmp) = match dir {
        Some(d) => (d, None),
        None => {
            let tmp = tempfile::Builder::new()
                .prefix("greenwave-demo-")
                .tempdir()?;
            (tmp.path().to_path_buf(), Some(tmp))
        }
    };
    std::fs::create_dir_all(&dir)?;
    Ok((dir, tmp))
}

/// The daemon's runtime.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    crate::daemon::runtime()
}

/// Without a screen: the hall, the API and the data directory.
fn print_started(hall: &str, base: &str, dir: &Path) {
    println!("== greenwave 演示：{hall} ==");
    println!(
        "守护进程已启动，员工接口 {base}，数据目录 {}",
        dir.display()
    );
}

/// Without a screen: the story's lines on stdout, until it is over.
fn print_story(story: mpsc::Receiver<Say>) {
    for s in story {
        match s {
            Say::Step(t) => println!("{t}"),
            Say::Done => break,
        }
    }
}

/// The demo hall: configuration, keys, a roster with two of the four
/// residents, policies and a helper.
fn setup(dir: &Path, people: &People, printer_uri: &str) -> anyhow::Result<Config> {
    let keys = dir.join("keys");
    if !keys.join("roster-public.key").exists() {
        std::fs::create_dir_all(&keys)?;
        crate::roster::keygen(&keys)?;
    }
    std::fs::write(dir.join("policies.toml"), POLICIES)?;
    let cfg_path = dir.join("demo.toml");
    let text = DEMO_CONFIG
        .replace("# [[helpers]]\n# id = \"h1\"\n# name = \"王协办\"\n# token = \"demo-helper-1-token\"\n#\n# [policies]\n# file = \"policies.toml\"", "")
        .to_string()
        + &format!(
            r#"
[roster]
public_key = "keys/roster-public.key"
hash_key = "keys/roster-hash.key"

[devices.id_reader]
kind = "simulated"
poll_interval = "100ms"

[devices.printer]
uri = "{printer_uri}"

[kiosk]
default_service = "civil"
public_url = "http://127.0.0.1/demo"
notice = "政策咨询热线 12345 · 低保、特困、低保边缘家庭刷身份证即走绿波通道 · 协办员全程陪同"

[[helpers]]
id = "h1"
name = "王协办"
token = "{HELPER}"

[policies]
file = "policies.toml"
"#
        );
    std::fs::write(&cfg_path, text)?;
    let cfg = Config::load(&cfg_path)?;

    let export = dir.join("export.csv");
    std::fs::write(
        &export,
        format!(
            "姓名,身份证号码,救助类别,有效期至\n甲,{},低保,2099-12-31\n乙,{},特困,2099-12-31\n",
            id_of(&people.listed_a),
            id_of(&people.listed_b)
        ),
    )?;
    let roster_cfg = cfg.roster.clone().context("the demo has a roster")?;
    let file = dir.join("roster-1.gwr");
    let out = std::fs::File::create(&file)?;
    crate::roster::prepare(
        &export,
        &roster_cfg.columns,
        &roster_cfg.categories,
        &crate::roster::load_hash_key(&keys.join("roster-hash.key"))?,
        &crate::roster::load_signing_key(&keys.join("roster-signing.key"))?,
        1,
        chrono::Utc::now(),
        &crate::roster::PrepareOptions::default(),
        out,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::create_dir_all(&cfg.data_dir)?;
    let mut store = crate::store::Store::open(&cfg.database_path())?;
    import(
        &mut store,
        &cfg.data_dir,
        &roster_cfg,
        &file,
        &ImportOptions {
            force: true,
            actor: "demo".into(),
        },
    )?;
    Ok(cfg)
}

/// The story: it plays through the simulated devices and the API, and
/// tells whoever shows it (`say`) step by step.
struct Story {
    agent: ureq::Agent,
    base: String,
    people: People,
    reader: SimControl,
    printer: greenwave_drivers::printer::sim::SimControl,
    /// Tickets the kiosk has shown so far.
    shown: Arc<AtomicUsize>,
    pace: Duration,
    screen: bool,
    say: mpsc::Sender<Say>,
    stop: Arc<AtomicBool>,
}

/// An HTTP client for the demo's API calls: statuses are answers, not
/// errors.
fn api_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

impl Story {
    /// Tells the story on a thread of its own; an error ends it with a
    /// line saying so. [`Say::Done`] comes last either way.
    fn spawn(self) -> std::thread::JoinHandle<anyhow::Result<()>> {
        std::thread::spawn(move || {
            let res = self.tell();
            if let Err(e) = &res {
                let _ = self.say.send(Say::Step(format!("演示中断：{e:#}")));
            }
            let _ = self.say.send(Say::Done);
            res
        })
    }

    /// The story, step by step.
    fn tell(&self) -> anyhow::Result<()> {
        self.step("大厅开门，协办员王协办上岗")?;
        self.post("/api/helpers/me/duty", HELPER, json!({ "on": true }))?;
        self.swipes()?;
        self.call(1, WINDOW_1)?;
        self.call(2, WINDOW_2)?;
        self.accompanied_service()?;
        self.paper_out()?;
        self.call(1, WINDOW_1)?;
        self.figures()
    }

    /// Three residents swipe, one of them twice.
    fn swipes(&self) -> anyhow::Result<()> {
        let people = &self.people;
        for (who, card) in [
            ("居民甲（低保，在名单内）刷身份证", &people.listed_a),
            ("居民丙（不在名单内）刷身份证", &people.stranger_a),
            ("居民乙（特困，在名单内）刷身份证", &people.listed_b),
            (
                "居民甲又刷了一次：还是原来的号码，重新打印",
                &people.listed_a,
            ),
        ] {
            self.step(who)?;
            let jobs = self.printer.jobs().len();
            self.swipe(card)?;
            self.print_ticket(jobs);
        }
        Ok(())
    }

    /// A helper explains a policy; the window finishes; a rating.
    fn accompanied_service(&self) -> anyhow::Result<()> {
        self.step("协办员陪同 GA001，讲解最低生活保障政策")?;
        self.post(
            "/api/cases/GA001/policies",
            HELPER,
            json!({ "ids": ["dibao"] }),
        )?;
        self.step("1 号窗口办结 GA001，居民评价：满意")?;
        self.post("/api/windows/1/start", WINDOW_1, json!({}))?;
        self.post("/api/windows/1/finish", WINDOW_1, json!({}))?;
        self.post(
            "/api/tickets/GA001/rating",
            WINDOW_1,
            json!({ "rating": "满意" }),
        )?;
        Ok(())
    }

    /// The paper runs out during a swipe; refilled, the ticket is reprinted.
    fn paper_out(&self) -> anyhow::Result<()> {
        self.step("打印机缺纸了！")?;
        self.printer.set_state(SimState::PaperOut);
        self.step("居民丁（不在名单内）刷身份证：号码照发，屏幕请他记下号码")?;
        self.swipe(&self.people.stranger_b)?;
        self.step("工作人员换上新纸卷，补打 A002")?;
        self.printer.set_state(SimState::Ready);
        let jobs = self.printer.jobs().len();
        self.post("/api/tickets/A002/reprint", WINDOW_1, json!({}))?;
        self.print_ticket(jobs);
        Ok(())
    }

    /// The day's figures, from the manager's statistics.
    fn figures(&self) -> anyhow::Result<()> {
        let mut r = self
            .agent
            .get(format!("{}/api/stats", self.base))
            .header("Authorization", &format!("Bearer {MANAGER}"))
            .call()?;
        let rows: Value = r.body_mut().read_json()?;
        let t = rows
            .as_array()
            .and_then(|r| r.last())
            .cloned()
            .unwrap_or_default();
        self.step(&format!(
            "今日统计：取号 {} 张，其中绿波通道 {} 张（身份证核验 {}）；陪办 {} 件，政策讲解 {} 项，评价 {} 条，满意率 {:.0}%",
            t["issued"], t["priority"], t["by_id_card"], t["cases"], t["policies_explained"],
            t["ratings"], t["satisfaction_rate"].as_f64().unwrap_or(0.0) * 100.0
        ))
    }

    fn post(&self, path: &str, token: &str, body: Value) -> anyhow::Result<Value> {
        let mut r = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {token}"))
            .send_json(&body)?;
        Ok(r.body_mut().read_json()?)
    }

    /// One line of the story, then the pause; fails once the demo stops.
    fn step(&self, text: &str) -> anyhow::Result<()> {
        if self.stop.load(Ordering::SeqCst) {
            anyhow::bail!("已停止");
        }
        let _ = self.say.send(Say::Step(text.to_string()));
        std::thread::sleep(self.pace);
        Ok(())
    }

    /// Waits for the print job after the first `before`; without a screen,
    /// tells its text.
    fn print_ticket(&self, before: usize) {
        let jobs = self
            .printer
            .wait_for_jobs(before + 1, Duration::from_secs(5));
        if !self.screen {
            if let Some(j) = jobs.get(before) {
                for l in render_text(j, PaperWidth::Mm80).lines() {
                    if !l.trim().is_empty() {
                        let _ = self.say.send(Say::Step(format!("    | {l}")));
                    }
                }
            }
        }
    }

    /// Places the card until the kiosk shows a ticket, then takes it away.
    fn swipe(&self, card: &CardRead) -> anyhow::Result<()> {
        let before = self.shown.load(Ordering::SeqCst);
        self.reader.place(SimCard::from_read(card));
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.shown.load(Ordering::SeqCst) == before {
            anyhow::ensure!(Instant::now() < deadline, "读卡器模拟器没有读到卡");
            std::thread::sleep(Duration::from_millis(20));
        }
        // Taken away, and seen to be gone (a "find" answered "no card"),
        // so that the next card is a new placement for the driver.
        self.reader.remove();
        let finds = self.reader.stats().finds;
        while self.reader.stats().finds < finds + 2 {
            anyhow::ensure!(Instant::now() < deadline, "读卡器模拟器停止了轮询");
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// Calls the window's next ticket and tells the call (or the refusal).
    fn call(&self, window: u32, token: &str) -> anyhow::Result<()> {
        let v = self.post(&format!("/api/windows/{window}/call"), token, json!({}))?;
        match v["number"].as_str() {
            Some(n) => self.step(&format!("叫号：请 {n} 号到 {window} 号窗口办理")),
            None => self.step(&format!(
                "{window} 号窗口：{}",
                v["error"].as_str().unwrap_or("?")
            )),
        }
    }
}

/// What the split screen shows, gathered from its channels.
struct Panels {
    screen: KioskScreen,
    board: Board,
    /// The story so far.
    lines: Vec<String>,
    /// The story is over.
    done: bool,
}

impl Panels {
    /// Takes in whatever the kiosk, the event stream and the story sent.
    fn drain(
        &mut self,
        kiosk: &mpsc::Receiver<Update>,
        stream: &mpsc::Receiver<Message>,
        story: &mpsc::Receiver<Say>,
        now_ms: i64,
    ) {
        while let Ok(u) = kiosk.try_recv() {
            self.screen.update(&u, now_ms);
        }
        while let Ok(m) = stream.try_recv() {
            crate::board::apply(&mut self.board, &m, now_ms);
        }
        while let Ok(s) = story.try_recv() {
            match s {
                Say::Step(t) => self.lines.push(t),
                Say::Done => {
                    self.done = true;
                    self.lines.push("演示完毕：按 q 或 Ctrl-C 退出".into());
                }
            }
        }
    }

    /// Kiosk screen and printed ticket on the left, the hall display on
    /// the right, the last five lines of the story below.
    fn draw(&self, f: &mut ratatui::Frame, ticket: &str, clock: &str, now_ms: i64) {
        let [top, bottom] =
            Layout::vertical([Constraint::Min(10), Constraint::Length(7)]).areas(f.area());
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(top);
        let [kiosk_area, paper] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(left);
        crate::kiosk::screen::render(&self.screen, clock, now_ms, kiosk_area, f.buffer_mut());
        let text: Vec<&str> = ticket.lines().filter(|l| !l.trim().is_empty()).collect();
        f.render_widget(
            Paragraph::new(text.join("\n")).block(
                Block::new()
                    .borders(Borders::ALL)
                    .title(" 打印机 · 最近一张票 "),
            ),
            paper,
        );
        crate::board::render::render(
            &self.board,
            &crate::board::render::Frame {
                clock,
                now_ms,
                scroll: (now_ms / 400) as usize,
            },
            right,
            f.buffer_mut(),
        );
        let shown: Vec<&str> = self
            .lines
            .iter()
            .rev()
            .take(5)
            .rev()
            .map(String::as_str)
            .collect();
        f.render_widget(
            Paragraph::new(shown.join("\n"))
                .style(Style::new().add_modifier(Modifier::BOLD))
                .block(Block::new().borders(Borders::TOP).title(if self.done {
                    " 演示 · 完毕（q 退出） "
                } else {
                    " 演示 "
                })),
            bottom,
        );
    }
}

/// Waits up to 200 ms for a key; whether it was `q`, Esc or Ctrl-C.
fn quit_pressed() -> anyhow::Result<bool> {
    use ratatui::crossterm::event::{self, Event, KeyCode, KeyModifiers};
    if event::poll(Duration::from_millis(200))? {
        if let Event::Key(k) = event::read()? {
            return Ok(matches!(k.code, KeyCode::Char('q') | KeyCode::Esc)
                || (k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL)));
        }
    }
    Ok(false)
}

/// The split screen: kiosk and printer on the left, the hall display on
/// the right, the story below. Returns on `q`/Ctrl-C.
fn split_screen(
    hall: &str,
    base: &str,
    kiosk: mpsc::Receiver<Update>,
    story: mpsc::Receiver<Say>,
    printer: &PrinterSim,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let (tx, stream) = mpsc::channel::<Message>();
    {
        let (base, stop) = (base.to_string(), stop.clone());
        std::thread::spawn(move || follow(&base, MANAGER, tx, stop));
    }
    let mut panels = Panels {
        screen: KioskScreen::new(
            hall,
            vec![
                ("1".into(), "民政救助".into()),
                ("2".into(), "医保业务".into()),
            ],
        ),
        board: Board::default(),
        lines: Vec::new(),
        done: false,
    };
    let control = printer.control();
    let mut term = ratatui::try_init()?;
    let res = (|| -> anyhow::Result<()> {
        loop {
            let now = chrono::Local::now();
            let now_ms = now.timestamp_millis();
            panels.drain(&kiosk, &stream, &story, now_ms);
            let ticket = control
                .jobs()
                .last()
                .map(|j| render_text(j, PaperWidth::Mm58))
                .unwrap_or_default();
            let clock = now.format("%H:%M:%S").to_string();
            term.draw(|f| panels.draw(f, &ticket, &clock, now_ms))?;
            if quit_pressed()? {
                return Ok(());
            }
        }
    })();
    ratatui::restore();
    stop.store(true, Ordering::SeqCst);
    res
}
