//! A printer at a window's counter (`[windows.printer]`), driven by the
//! hall server for tickets staff issue there: a thread of its own owns the
//! printer, so that a printer that hangs delays only the staff member who
//! asked, never the API.

use std::sync::mpsc;

use greenwave_drivers::printer::{TicketLayout, TicketPrinter};
use tokio::sync::oneshot;

use super::outcome::PrintProblem;

type Order = (TicketLayout, oneshot::Sender<Result<(), PrintProblem>>);

/// A window's printer. Cheap to clone; the thread ends with the last
/// clone.
#[derive(Debug, Clone)]
pub struct PrintStation {
    tx: mpsc::Sender<Order>,
}

impl PrintStation {
    /// Starts the thread of window `window`'s printer.
    pub fn start(window: u32, mut printer: Box<dyn TicketPrinter>) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Order>();
        std::thread::Builder::new()
            .name(format!("printer-w{window}"))
            .spawn(move || {
                for (layout, reply) in rx {
                    let r = printer.print(&layout).map_err(|e| {
                        tracing::warn!(window, number = %layout.number, error = %e, "window printer failed");
                        PrintProblem::of(&e)
                    });
                    let _ = reply.send(r);
                }
            })?;
        Ok(PrintStation { tx })
    }

    /// Prints `layout`; waits for the printer.
    pub async fn print(&self, layout: TicketLayout) -> Result<(), PrintProblem> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((layout, reply))
            .map_err(|_| PrintProblem::Fault)?;
        answer.await.map_err(|_| PrintProblem::Fault)?
    }
}
