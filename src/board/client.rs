//! The board's side of `GET /api/events`: a thread that reads the
//! server-sent events and hands each message to the screen loop, and that
//! reconnects by itself (1 s, 2 s, up to 5 s apart) whenever the daemon is
//! down, restarting or unreachable. Parsing is separate and pure.

use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

/// What the stream thread tells the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A message of the stream: its event name and JSON data.
    Event {
        /// `snapshot`, `called`, ...
        kind: String,
        /// The data.
        data: Value,
    },
    /// The stream is down (with why, for the log); the screen says
    /// `连接中…` and keeps what it shows.
    Down(String),
}

/// Splits a server-sent event stream into messages: `event:` and `data:`
/// lines up to a blank line. Comments (`:`) and unknown fields are
/// skipped; data that is not JSON is dropped.
#[derive(Debug, Default)]
pub struct SseParser {
    kind: Option<String>,
    data: String,
}

impl SseParser {
    /// Feeds one line (without its line break); returns a complete
    /// message when the line ends one.
    pub fn line(&mut self, line: &str) -> Option<(String, Value)> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            let kind = self.kind.take().unwrap_or_else(|| "message".into());
            let data = std::mem::take(&mut self.data);
            if data.is_empty() {
                return None;
            }
            return serde_json::from_str(&data).ok().map(|v| (kind, v));
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.kind = Some(value.to_string()),
            "data" => {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(value);
            }
            _ => {}
        }
        None
    }
}

/// Follows `{server}/api/events` until `stop` is set, sending every
/// message to `tx`; returns when `tx` is gone or `stop` is set.
pub fn follow(server: &str, token: &str, tx: Sender<Message>, stop: Arc<AtomicBool>) {
    let url = format!("{}/api/events", server.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(3)))
        .timeout_recv_response(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut backoff = Duration::from_secs(1);
    while !stop.load(Ordering::SeqCst) {
        let why = match agent
            .get(&url)
            .header("Authorization", &format!("Bearer {token}"))
            .header("Accept", "text/event-stream")
            .call()
        {
            Ok(resp) if resp.status() == 200 => {
                backoff = Duration::from_secs(1);
                let reader = BufReader::new(resp.into_body().into_reader());
                let mut parser = SseParser::default();
                let mut ended = "the stream ended".to_string();
                for line in reader.lines() {
                    match line {
                        Ok(l) => {
                            if let Some((kind, data)) = parser.line(&l) {
                                if tx.send(Message::Event { kind, data }).is_err() {
                                    return;
                                }
                            }
                        }
                        Err(e) => {
                            ended = format!("read: {e}");
                            break;
                        }
                    }
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                }
                ended
            }
            Ok(resp) => format!("HTTP {}", resp.status()),
            Err(e) => e.to_string(),
        };
        if tx.send(Message::Down(why)).is_err() {
            return;
        }
        let mut waited = Duration::ZERO;
        while waited < backoff && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
            waited += Duration::from_millis(100);
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_split_at_blank_lines_and_comments_skipped() {
        let mut p = SseParser::default();
        assert_eq!(p.line(": keep-alive"), None);
        assert_eq!(p.line(""), None, "a comment alone is no message");
        assert_eq!(p.line("event: called"), None);
        assert_eq!(p.line("data: {\"id\":1,"), None);
        assert_eq!(p.line("data: \"window\":3}"), None);
        assert_eq!(
            p.line(""),
            Some(("called".to_string(), json!({"id": 1, "window": 3})))
        );
        assert_eq!(p.line("event: x\r"), None);
        assert_eq!(p.line("data: not json"), None);
        assert_eq!(p.line(""), None, "garbage data is dropped");
        assert_eq!(p.line("data: {}"), None);
        assert_eq!(
            p.line(""),
            Some(("message".to_string(), json!({}))),
            "the event name does not leak into the next message"
        );
    }
}
