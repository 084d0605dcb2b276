//! `greenwave roster bench-lookup` (hidden; benches).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use greenwave_drivers::id_number::IdNumber;

use crate::roster::install::{Roster, RosterAnswer};
use crate::store::Store;

/// Arguments of `greenwave roster bench-lookup`.
#[derive(Debug, Args)]
pub struct BenchLookup {
    /// Rows of the synthetic export the roster was made from
    #[arg(long)]
    rows: u64,
    /// Its seed
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Lookups to time
    #[arg(long, default_value_t = 200_000)]
    samples: u64,
}

impl BenchLookup {
    /// Times the lookups and prints their percentiles.
    pub(super) fn run(self, config: Option<&Path>) -> anyhow::Result<ExitCode> {
        bench_lookup(config, self.rows, self.seed, self.samples)
    }
}

fn bench_lookup(
    config: Option<&Path>,
    rows: u64,
    seed: u64,
    samples: u64,
) -> anyhow::Result<ExitCode> {
    let (cfg, rc) = super::hall(config)?;
    let store = Store::open(&cfg.database_path())?;
    let roster = Roster::open(&store, &cfg.data_dir, &rc)?.context("no roster installed")?;
    let today = chrono::Utc::now().date_naive();
    // Candidates prepared up front, so that only hash + lookup is timed.
    let mut ids = Vec::with_capacity(samples as usize);
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ seed;
    for k in 0..samples {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let s = if k % 2 == 0 {
            crate::roster::synthetic::synthetic_id(x % rows.max(1), seed)
        } else {
            crate::roster::synthetic::synthetic_id(x % rows.max(1), seed.wrapping_add(7_777_777))
        };
        if let Ok(id) = IdNumber::parse(&s) {
            ids.push(id);
        }
    }
    let mut times = Vec::with_capacity(ids.len());
    let mut hits = 0u64;
    for id in &ids {
        let t = std::time::Instant::now();
        let a = roster.check(id, today)?;
        times.push(t.elapsed());
        if a != RosterAnswer::NotListed {
            hits += 1;
        }
    }
    times.sort();
    let q = |p: f64| times[((times.len() as f64 - 1.0) * p) as usize];
    println!(
        "lookups {}  hits {}  p50 {:.2} µs  p99 {:.2} µs  max {:.2} µs",
        times.len(),
        hits,
        q(0.50).as_secs_f64() * 1e6,
        q(0.99).as_secs_f64() * 1e6,
        q(1.0).as_secs_f64() * 1e6
    );
    Ok(ExitCode::SUCCESS)
}
