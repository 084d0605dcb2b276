//! The hall display's figures (issue 6), `cargo bench --bench board`:
//!
//! 1. redraw: the whole board rendered into a 200×60 buffer (the layout
//!    and every widget; the terminal write is the terminal's), 2,000 times;
//! 2. event to screen: a call posted to the real daemon on 127.0.0.1, until
//!    the board's stream thread has it, the state is updated and the frame
//!    is drawn; 200 calls and recalls;
//! 3. idle CPU: the real `greenwave board` in a tmux pane against the
//!    daemon, nothing happening for IDLE_SECONDS (default 20), CPU time from
//!    /proc/PID/stat over wall time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use greenwave::board::apply;
use greenwave::board::client::{follow, Message};
use greenwave::board::model::Board;
use greenwave::board::render::{render, Frame};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

const BIN: &str = env!("CARGO_BIN_EXE_greenwave");
const TOKEN: &str = "bench-manager-token-0001";

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
}

fn post(addr: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

struct Daemon(Child);
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    // 1. Redraw at 200×60.
    let mut board = Board::default();
    let snapshot = serde_json::json!({
        "hall": "某某街道便民服务中心", "day": "2026-12-01",
        "services": [
            {"code": "civil", "name": "民政救助", "priority_waiting": 0, "normal_waiting": 0},
            {"code": "medical", "name": "医疗保险业务办理", "priority_waiting": 0, "normal_waiting": 0}
        ],
        "waiting": [], "windows": [],
        "at_windows": (0..12).map(|i| serde_json::json!({
            "number": format!("A{:03}", i), "lane": if i % 3 == 0 { "priority" } else { "normal" },
            "service_name": "民政救助", "window": i % 5 + 1, "called_at_ms": 0
        })).collect::<Vec<_>>(),
        "notice": "政策咨询热线 12345，低保、特困人员请走绿波通道，陪办人员全程协助"
    });
    apply(
        &mut board,
        &Message::Event {
            kind: "snapshot".into(),
            data: snapshot,
        },
        0,
    );
    let area = Rect::new(0, 0, 200, 60);
    let mut buf = Buffer::empty(area);
    let mut times = Vec::new();
    for i in 0..2_000usize {
        buf.reset();
        let t = Instant::now();
        render(
            &board,
            &Frame {
                clock: "09:30:00",
                now_ms: i as i64,
                scroll: i,
            },
            area,
            &mut buf,
        );
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "board redraw 200x60: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms over {} frames",
        pct(&mut times, 0.5),
        pct(&mut times, 0.99),
        pct(&mut times, 1.0),
        times.len()
    );

    // 2. Event to screen against the real daemon.
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("greenwave.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[hall]\nname = \"基准大厅\"\n\
             [[services]]\ncode = \"civil\"\nname = \"民政救助\"\nletter = \"A\"\n\
             [[windows]]\nnumber = 1\nservices = [\"civil\"]\ntoken = \"bench-window-1-token-0001\"\n\
             [api]\nlisten = \"127.0.0.1:{port}\"\nmanager_token = \"{TOKEN}\"\n\
             [kiosk]\nnotice = \"政策咨询热线 12345\"\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("run")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _daemon = Daemon(child);
    lines.next(); // "greenwave 已启动 ..."
    let addr = format!("127.0.0.1:{port}");
    let server = format!("http://{addr}");
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    {
        let (server, stop) = (server.clone(), stop.clone());
        std::thread::spawn(move || follow(&server, TOKEN, tx, stop));
    }
    let mut board = Board::default();
    let area = Rect::new(0, 0, 120, 40);
    let mut buf = Buffer::empty(area);
    let next = |board: &mut Board, want: &str| loop {
        let m = rx.recv_timeout(Duration::from_secs(10)).expect("stream");
        let kind = match &m {
            Message::Event { kind, .. } => kind.clone(),
            Message::Down(w) => panic!("stream down: {w}"),
        };
        apply(board, &m, 0);
        if kind == want {
            return;
        }
    };
    next(&mut board, "snapshot");
    let mut lat = Vec::new();
    for i in 0..200 {
        post(&addr, "/api/tickets", "{\"service\":\"civil\"}");
        next(&mut board, "issued");
        let (path, kind) = if i % 4 == 3 {
            ("/api/windows/1/recall", "recalled")
        } else {
            ("/api/windows/1/call", "called")
        };
        if kind == "called" && i > 0 {
            post(&addr, "/api/windows/1/finish", "{}");
            next(&mut board, "finished");
        }
        let t = Instant::now();
        post(&addr, path, "{}");
        next(&mut board, kind);
        buf.reset();
        render(
            &board,
            &Frame {
                clock: "09:30:00",
                now_ms: 0,
                scroll: 0,
            },
            area,
            &mut buf,
        );
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "board event to screen (POST call -> drawn): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} calls/recalls",
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99),
        pct(&mut lat, 1.0),
        lat.len()
    );

    // 3. Idle CPU of the real board in tmux.
    let idle: u64 = std::env::var("IDLE_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let socket = format!("greenwave-bench-{}", std::process::id());
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .unwrap()
    };
    let cmd = format!("exec {BIN} board --server {server}");
    tmux(&[
        "new-session",
        "-d",
        "-x",
        "200",
        "-y",
        "60",
        "-e",
        &format!("GREENWAVE_TOKEN={TOKEN}"),
        "-e",
        "LANG=C.UTF-8",
        &cmd,
    ]);
    let pid = String::from_utf8(tmux(&["list-panes", "-F", "#{pane_pid}"]).stdout)
        .unwrap()
        .trim()
        .to_string();
    std::thread::sleep(Duration::from_secs(2)); // connected, first frames drawn
    let cpu = || -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split(' ').collect();
        let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
        ticks / 100.0
    };
    let (c0, t0) = (cpu(), Instant::now());
    std::thread::sleep(Duration::from_secs(idle));
    let (c1, wall) = (cpu(), t0.elapsed().as_secs_f64());
    tmux(&["kill-server"]);
    println!(
        "board idle CPU: {:.3} s of CPU over {:.1} s = {:.2} % of a core",
        c1 - c0,
        wall,
        (c1 - c0) / wall * 100.0
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
}
