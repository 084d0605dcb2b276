//! The desk of a kiosk machine: its hall server, over the LAN
//! (`/api/kiosk/*`, bodies in [`super::wire`]).
//!
//! The server decides everything the hall's own desk decides (the lane,
//! one person one number) and commits; this desk only carries the question
//! and the answer. It never invents a number: when the server does not
//! answer, the swipe fails with [`KioskError::Unreachable`] and the kiosk
//! pauses. A request is retried with its idempotency key a few times within
//! the swipe, so that a server that committed but whose answer was lost
//! hands back the same ticket. Print reports that cannot be delivered wait
//! here and go with the next heartbeat ([`RemoteDesk::flush_reports`]).

use std::sync::Mutex;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::desk::{Applicant, DeskAnswer, IssuedTicket, TicketDesk};
use super::wire::{
    Heartbeat, JobResult, MachineSetup, PrintJob, PrintReport, TicketAnswer, TicketRequest,
    WireApplicant, WireIssued,
};
use super::KioskError;
use crate::config::HallServer;
use crate::queue::TicketId;

/// Tries per swipe (the same idempotency key each time).
const TRIES: u32 = 3;
/// Between tries.
const RETRY_AFTER: Duration = Duration::from_millis(300);
/// Print reports kept while the server does not answer.
const MAX_PENDING_REPORTS: usize = 1_000;

/// A hall server's kiosk routes.
pub struct RemoteDesk {
    url: String,
    auth: String,
    agent: ureq::Agent,
    /// A separate agent for the jobs' long poll (its own timeout).
    poll: ureq::Agent,
    /// Print reports not delivered yet, oldest first.
    pending: Mutex<Vec<PrintReport>>,
}

impl std::fmt::Debug for RemoteDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteDesk")
            .field("url", &self.url)
            .finish()
    }
}

/// What one call got back.
enum Reply<T> {
    Ok(T),
    /// The server answered with an error status.
    Refused(KioskError),
}

impl RemoteDesk {
    /// The desk of `server`.
    pub fn new(server: &HallServer) -> RemoteDesk {
        let agent = |total: Duration| -> ureq::Agent {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_connect(Some(Duration::from_secs(1)))
                .timeout_global(Some(total))
                .build()
                .into()
        };
        RemoteDesk {
            url: server.url.clone(),
            auth: format!("Bearer {}", server.token.expose()),
            agent: agent(Duration::from_millis(2_500)),
            poll: agent(Duration::from_secs(30)),
            pending: Mutex::new(Vec::new()),
        }
    }

    /// The server's API.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn unreachable(&self, why: impl std::fmt::Display) -> KioskError {
        KioskError::Unreachable {
            url: self.url.clone(),
            why: why.to_string(),
        }
    }

    /// One request: `body` as JSON (a POST) or none (a GET).
    fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        agent: &ureq::Agent,
        path: &str,
        body: Option<&B>,
    ) -> Result<Reply<T>, KioskError> {
        let url = format!("{}{}", self.url, path);
        let sent = match body {
            Some(b) => agent
                .post(&url)
                .header("Authorization", &self.auth)
                .send_json(b),
            None => agent.get(&url).header("Authorization", &self.auth).call(),
        };
        let mut resp = sent.map_err(|e| self.unreachable(e))?;
        let status = resp.status().as_u16();
        if status == 503 || status >= 500 {
            return Err(self.unreachable(format!("HTTP {status}")));
        }
        if !(200..300).contains(&status) {
            let v: serde_json::Value = resp.body_mut().read_json().unwrap_or_default();
            return Ok(Reply::Refused(KioskError::ServerRefused {
                status,
                code: v["code"].as_str().unwrap_or("").to_string(),
                message: v["error"].as_str().unwrap_or("").to_string(),
            }));
        }
        if status == 204 {
            // No body: only `()` reads from nothing.
            return serde_json::from_value(serde_json::Value::Null)
                .map(Reply::Ok)
                .map_err(|e| self.unreachable(format!("{path}: {e}")));
        }
        resp.body_mut()
            .read_json::<T>()
            .map(Reply::Ok)
            .map_err(|e| self.unreachable(format!("{path}: unreadable answer: {e}")))
    }

    /// [`RemoteDesk::call`], tried [`TRIES`] times while the server does
    /// not answer; a refusal is final.
    fn call_retrying<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, KioskError> {
        let mut last = None;
        for i in 0..TRIES {
            if i > 0 {
                std::thread::sleep(RETRY_AFTER);
            }
            match self.call(&self.agent, path, body) {
                Ok(Reply::Ok(t)) => return Ok(t),
                Ok(Reply::Refused(e)) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| self.unreachable("no answer")))
    }

    /// What the kiosk needs to serve residents (`GET /api/kiosk/setup`),
    /// asked once.
    pub fn setup(&self) -> Result<MachineSetup, KioskError> {
        match self.call::<(), MachineSetup>(&self.agent, "/api/kiosk/setup", None)? {
            Reply::Ok(s) => Ok(s),
            Reply::Refused(e) => Err(e),
        }
    }

    /// Tells the server how this kiosk is; its answer is the setup in
    /// force (a reload on the server reaches the kiosk this way). Print
    /// reports left undelivered go first.
    pub fn heartbeat(&self, beat: &Heartbeat) -> Result<MachineSetup, KioskError> {
        self.flush_reports()?;
        match self.call(&self.agent, "/api/kiosk/heartbeat", Some(beat))? {
            Reply::Ok(s) => Ok(s),
            Reply::Refused(e) => Err(e),
        }
    }

    /// Print jobs for this kiosk, waiting up to `wait` for one.
    pub fn jobs(&self, wait: Duration) -> Result<Vec<PrintJob>, KioskError> {
        let path = format!("/api/kiosk/jobs?wait_ms={}", wait.as_millis());
        match self.call::<(), Vec<PrintJob>>(&self.poll, &path, None)? {
            Reply::Ok(j) => Ok(j),
            Reply::Refused(e) => Err(e),
        }
    }

    /// How a print job went.
    pub fn job_done(&self, job: u64, result: &JobResult) -> Result<(), KioskError> {
        self.call_retrying::<_, ()>(&format!("/api/kiosk/jobs/{job}"), Some(result))
    }

    /// Sends the print reports the server did not get yet; stops at the
    /// first that fails (kept for the next time).
    pub fn flush_reports(&self) -> Result<(), KioskError> {
        loop {
            let Some(first) = crate::sync::lock(&self.pending).first().cloned() else {
                return Ok(());
            };
            match self.call::<_, ()>(&self.agent, "/api/kiosk/prints", Some(&first))? {
                Reply::Ok(()) => {}
                Reply::Refused(e) => {
                    tracing::error!(error = %e, ticket = first.ticket, "print report refused; dropped");
                }
            }
            crate::sync::lock(&self.pending).remove(0);
        }
    }
}

impl TicketDesk for RemoteDesk {
    fn ticket_for(
        &self,
        who: &Applicant,
        service: &str,
        request: &str,
    ) -> Result<DeskAnswer, KioskError> {
        let body = TicketRequest {
            request: request.to_string(),
            service: service.to_string(),
            applicant: WireApplicant::of(who),
        };
        let answer: TicketAnswer = self.call_retrying("/api/kiosk/tickets", Some(&body))?;
        match answer {
            TicketAnswer::CardNotBound => Ok(DeskAnswer::CardNotBound),
            TicketAnswer::NotNow(r) => r
                .refusal()
                .map(DeskAnswer::NotNow)
                .ok_or_else(|| self.unreachable("a refusal it could not read")),
            TicketAnswer::Ticket(t) => t
                .issued()
                .map(|t| DeskAnswer::Ticket(Box::new(t)))
                .ok_or_else(|| self.unreachable("a ticket it could not read")),
        }
    }

    fn ticket(&self, number: &str) -> Result<IssuedTicket, KioskError> {
        let path = format!("/api/kiosk/tickets/{}", number.trim().to_ascii_uppercase());
        let w: WireIssued = self.call_retrying::<(), _>(&path, None)?;
        w.issued()
            .ok_or_else(|| self.unreachable("a ticket it could not read"))
    }

    fn record_print(&self, ticket: TicketId, problem: Option<&str>) -> Result<(), KioskError> {
        {
            let mut pending = crate::sync::lock(&self.pending);
            if pending.len() >= MAX_PENDING_REPORTS {
                pending.remove(0);
            }
            pending.push(PrintReport {
                ticket: ticket.0,
                problem: problem.map(str::to_string),
            });
        }
        // Delivered now if the server answers; otherwise with the next
        // heartbeat. The print itself is done either way.
        match self.flush_reports() {
            Ok(()) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "print report kept for later");
                Ok(())
            }
        }
    }
}
