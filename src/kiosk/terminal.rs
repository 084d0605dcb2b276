//! The kiosk screen on the kiosk's own terminal (`greenwave run` when it
//! has one): a thread owns the terminal, draws [`screen::render`] on each
//! update and once a second (the clock; the prompt coming back), and turns
//! key presses into keypad keys — a digit chooses a service, `0` takes a
//! ticket without an ID card. Ctrl-C asks the daemon to stop.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};

use super::screen::{self, KioskScreen, Update};
use super::KioskOut;

/// The running screen.
pub struct Terminal {
    stop: mpsc::Sender<Msg>,
    thread: Option<std::thread::JoinHandle<()>>,
}

enum Msg {
    Update(Update),
    Redraw,
    Stop,
}

impl Terminal {
    /// Takes over the terminal and shows the swipe prompt. Returns the
    /// screen, where its updates go (for [`crate::daemon::Options`]), the
    /// keys it reads, and a receiver that gets `()` on Ctrl-C.
    #[allow(clippy::type_complexity)]
    pub fn start(
        hall: &str,
        keys: Vec<(String, String)>,
        timezone: chrono_tz::Tz,
    ) -> std::io::Result<(
        Terminal,
        KioskOut,
        mpsc::Receiver<String>,
        tokio::sync::mpsc::UnboundedReceiver<()>,
    )> {
        let (tx, rx) = mpsc::channel::<Msg>();
        let (key_tx, key_rx) = mpsc::channel::<String>();
        let (quit_tx, quit_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut state = KioskScreen::new(hall, super::screen::offered_keys(keys));
        let mut term = ratatui::try_init()?;
        let redraw = tx.clone();
        std::thread::Builder::new()
            .name("kiosk-keys".into())
            .spawn(move || loop {
                match event::read() {
                    Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => match k.code {
                        KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                            let _ = quit_tx.send(());
                        }
                        KeyCode::Char(c)
                            if c.is_ascii_digit() && key_tx.send(c.to_string()).is_err() =>
                        {
                            return;
                        }
                        _ => {}
                    },
                    Ok(Event::Resize(..)) => {
                        if redraw.send(Msg::Redraw).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            })?;
        let thread = std::thread::Builder::new()
            .name("kiosk-screen".into())
            .spawn(move || {
                loop {
                    let now = chrono::Utc::now().with_timezone(&timezone);
                    let clock = now.format("%H:%M:%S").to_string();
                    let now_ms = now.timestamp_millis();
                    let _ = term.draw(|f| {
                        let area = f.area();
                        screen::render(&state, &clock, now_ms, area, f.buffer_mut())
                    });
                    let wait = Duration::from_millis(1000 - now_ms.rem_euclid(1000) as u64);
                    match rx.recv_timeout(wait) {
                        Ok(Msg::Update(u)) => {
                            state.update(&u, chrono::Utc::now().timestamp_millis())
                        }
                        Ok(Msg::Redraw) | Err(RecvTimeoutError::Timeout) => {}
                        Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                ratatui::restore();
            })?;
        // mpsc senders are Sync: the sink needs no lock.
        let sender = tx.clone();
        let out: KioskOut = Arc::new(move |u: Update| {
            let _ = sender.send(Msg::Update(u));
        });
        Ok((
            Terminal {
                stop: tx,
                thread: Some(thread),
            },
            out,
            key_rx,
            quit_rx,
        ))
    }

    /// Gives the terminal back as it was.
    pub fn stop(mut self) {
        let _ = self.stop.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
