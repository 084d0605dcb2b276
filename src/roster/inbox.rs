//! The roster inbox: a directory the daemon watches for new roster files.
//!
//! Ops drop `*.gwr` files in (written under another name and renamed, or at
//! least finished before the next scan). A file is imported once its size
//! and modification time have stayed the same over two scans, so a copy
//! still in progress is never read. Afterwards it moves to `done/` or, if
//! refused, to `rejected/` with `NAME.reason.txt` beside it saying why.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::install::{import, ImportOptions, ImportOutcome, RosterConfig};
use crate::store::Store;

/// What happened to one inbox file.
#[derive(Debug)]
pub enum InboxEvent {
    /// Installed; the file moved to `done/`.
    Installed {
        /// The file's name.
        file: String,
        /// The import.
        outcome: Box<ImportOutcome>,
    },
    /// Refused; the file moved to `rejected/`.
    Refused {
        /// The file's name.
        file: String,
        /// Why.
        reason: String,
    },
}

/// The inbox watcher's memory between scans.
#[derive(Debug, Default)]
pub struct Inbox {
    seen: HashMap<PathBuf, (u64, Option<SystemTime>)>,
}

impl Inbox {
    /// A watcher with nothing seen yet.
    pub fn new() -> Inbox {
        Inbox::default()
    }

    /// One scan: imports every `*.gwr` file that has not changed since the
    /// previous scan.
    pub fn scan(
        &mut self,
        dir: &Path,
        store: &mut Store,
        data_dir: &Path,
        cfg: &RosterConfig,
    ) -> std::io::Result<Vec<InboxEvent>> {
        std::fs::create_dir_all(dir)?;
        let mut now: HashMap<PathBuf, (u64, Option<SystemTime>)> = HashMap::new();
        for e in std::fs::read_dir(dir)?.flatten() {
            let p = e.path();
            let is_roster = p.extension().is_some_and(|x| x == "gwr");
            if let (true, Ok(m)) = (is_roster, e.metadata()) {
                if m.is_file() {
                    now.insert(p, (m.len(), m.modified().ok()));
                }
            }
        }
        let mut ready: Vec<PathBuf> = now
            .iter()
            .filter(|(p, sig)| self.seen.get(*p) == Some(sig))
            .map(|(p, _)| p.clone())
            .collect();
        ready.sort();
        let mut events = Vec::new();
        for p in ready {
            now.remove(&p);
            let file = p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let opts = ImportOptions {
                force: false,
                actor: "daemon (inbox)".into(),
            };
            match import(store, data_dir, cfg, &p, &opts) {
                Ok(o) => {
                    move_to(&p, &dir.join("done"))?;
                    events.push(InboxEvent::Installed {
                        file,
                        outcome: Box::new(o),
                    });
                }
                Err(e) => {
                    let rejected = dir.join("rejected");
                    let reason = e.to_string();
                    move_to(&p, &rejected)?;
                    std::fs::write(
                        rejected.join(format!("{file}.reason.txt")),
                        format!("{reason}\n"),
                    )?;
                    events.push(InboxEvent::Refused { file, reason });
                }
            }
        }
        self.seen = now;
        Ok(events)
    }
}

fn move_to(file: &Path, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let name = file.file_name().unwrap_or_default();
    let mut target = dir.join(name);
    let mut n = 1;
    while target.exists() {
        target = dir.join(format!("{}.{n}", name.to_string_lossy()));
        n += 1;
    }
    std::fs::rename(file, target)
}
