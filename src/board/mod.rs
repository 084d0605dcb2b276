//! The hall display, `greenwave board --server URL`: a full-screen call
//! board on a terminal (a TV on tty1, a console font up to 4K), fed by the
//! daemon's event stream; with `--window N`, the small screen over one
//! window instead, fed by the same stream.
//!
//! - [`model`]: the state from a snapshot and events (pure);
//! - [`render`]: the hall board's layout, drawn into a ratatui buffer (pure);
//! - [`window`]: a window screen's layout (pure);
//! - [`glyphs`]: big print of numbers and words in a buffer (pure);
//! - [`client`]: the stream thread, reconnecting by itself.
//!
//! The screen loop below owns the terminal: it redraws on every message
//! at once, and otherwise only when the clock's second changes or while
//! something moves (a recall flashing, a long notice scrolling). Nothing
//! the daemon sends can crash it: unknown events are ignored, and a lost
//! stream only shows `连接中…` over the last known state.

pub mod client;
pub mod glyphs;
pub mod model;
pub mod render;
pub mod window;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;

use client::Message;
use model::Board;
use render::Frame;

use crate::api::QueueView;

/// Which screen to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// The hall board: every window's call.
    Hall,
    /// The screen over one window.
    Window(u32),
}

/// Draws `screen` of `board` into `buf`.
pub fn draw(board: &Board, screen: Screen, f: &Frame<'_>, area: Rect, buf: &mut Buffer) {
    match screen {
        Screen::Hall => render::render(board, f, area, buf),
        Screen::Window(n) => window::render(board, f, n, area, buf),
    }
}

/// What the screen loop receives: stream messages and keys.
enum Input {
    Stream(Message),
    Quit,
    Resize,
}

/// Applies one stream message; true if the screen must be redrawn.
pub fn apply(board: &mut Board, msg: &Message, now_ms: i64) -> bool {
    match msg {
        Message::Event { kind, data } if kind == "snapshot" => {
            match serde_json::from_value::<QueueView>(data.clone()) {
                Ok(v) => {
                    board.snapshot(&v);
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, "snapshot not understood");
                    false
                }
            }
        }
        Message::Event { kind, data } => board.event(kind, data, now_ms),
        Message::Down(why) => {
            if board.connected {
                tracing::warn!(%why, "event stream lost; reconnecting");
            }
            let changed = board.connected;
            board.connected = false;
            changed
        }
    }
}

/// Runs the board on this terminal until `q`, Esc or Ctrl-C.
pub fn run(server: &str, token: &str, screen: Screen) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    {
        let (tx, stop, server, token) = (
            tx.clone(),
            stop.clone(),
            server.to_string(),
            token.to_string(),
        );
        std::thread::Builder::new()
            .name("board-stream".into())
            .spawn(move || {
                let (stx, srx) = mpsc::channel();
                let fwd = std::thread::spawn(move || {
                    for m in srx {
                        if tx.send(Input::Stream(m)).is_err() {
                            break;
                        }
                    }
                });
                client::follow(&server, &token, stx, stop);
                fwd.join().ok();
            })?;
    }
    {
        let tx = tx.clone();
        std::thread::Builder::new()
            .name("board-keys".into())
            .spawn(move || loop {
                let input = match event::read() {
                    Ok(TermEvent::Key(k)) if k.kind == KeyEventKind::Press => match k.code {
                        KeyCode::Char('q') | KeyCode::Esc => Some(Input::Quit),
                        KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                            Some(Input::Quit)
                        }
                        _ => None,
                    },
                    Ok(TermEvent::Resize(..)) => Some(Input::Resize),
                    Ok(_) => None,
                    Err(_) => Some(Input::Quit),
                };
                if let Some(i) = input {
                    if tx.send(i).is_err() {
                        break;
                    }
                }
            })?;
    }
    drop(tx);

    let mut terminal = ratatui::init();
    let res = screen_loop(&mut terminal, &rx, screen);
    ratatui::restore();
    stop.store(true, Ordering::SeqCst);
    res
}

fn screen_loop(
    terminal: &mut ratatui::DefaultTerminal,
    rx: &mpsc::Receiver<Input>,
    screen: Screen,
) -> anyhow::Result<()> {
    let mut board = Board::default();
    let mut scroll = 0usize;
    let mut last_scroll = std::time::Instant::now();
    loop {
        let now = chrono::Utc::now();
        let now_ms = now.timestamp_millis();
        let clock = match board.timezone {
            Some(tz) => now.with_timezone(&tz).format("%H:%M:%S").to_string(),
            None => now
                .with_timezone(&chrono::Local)
                .format("%H:%M:%S")
                .to_string(),
        };
        if last_scroll.elapsed() >= Duration::from_millis(400) {
            scroll = scroll.wrapping_add(1);
            last_scroll = std::time::Instant::now();
        }
        terminal.draw(|f| {
            let area = f.area();
            draw(
                &board,
                screen,
                &Frame {
                    clock: &clock,
                    now_ms,
                    scroll,
                },
                area,
                f.buffer_mut(),
            )
        })?;
        // Sleep until the next thing that moves: the flash's next phase or
        // the notice's next step, else the clock's next second.
        let moving = board.flashing(now_ms)
            || screen == Screen::Hall
                && board.notice.as_ref().is_some_and(|n| {
                    let w = terminal.size().map(|s| s.width as usize).unwrap_or(80);
                    unicode_width::UnicodeWidthStr::width(n.as_str()) > w
                });
        let wait = if moving {
            Duration::from_millis(100)
        } else {
            Duration::from_millis(1000 - (now_ms.rem_euclid(1000)) as u64)
        };
        match rx.recv_timeout(wait) {
            Ok(Input::Quit) => return Ok(()),
            Ok(Input::Resize) => {}
            Ok(Input::Stream(m)) => {
                apply(&mut board, &m, chrono::Local::now().timestamp_millis());
                // Take whatever else is already there before drawing.
                while let Ok(next) = rx.try_recv() {
                    match next {
                        Input::Quit => return Ok(()),
                        Input::Resize => {}
                        Input::Stream(m) => {
                            apply(&mut board, &m, chrono::Local::now().timestamp_millis());
                        }
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}
