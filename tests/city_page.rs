//! The bureau's page (`greenwave city serve`) in Debian's chromium, at the
//! size of an office screen: four halls' fortnight pushed to a real
//! PostgreSQL through the halls' own push (the same rows and daily figures
//! a hall sends), one hall with an old roster and one with unhappy
//! residents. tests/browser/city.mjs checks what the bureau reads and
//! saves target/screenshots/city-*.png.

mod common;

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{Duration as Days, NaiveDate, Utc};
use common::browser;
use common::pg::Postgres;
use greenwave::citydb::{CityDb, InstalledRoster, Push};

const HALLS: [(&str, &str, i64, f64); 4] = [
    ("dc-01", "东城区政务服务大厅", 7, 0.95),
    ("xc-01", "西城区政务服务大厅", 7, 0.9),
    ("cy-01", "朝阳区政务服务大厅", 6, 0.6),
    ("hd-01", "海淀区政务服务大厅", 7, 0.85),
];

async fn seed(url: &str, to: NaiveDate) {
    let mut db = CityDb::connect(url).await.unwrap();
    for (h, (code, name, roster, satisfaction)) in HALLS.iter().enumerate() {
        let mut id = 1;
        for d in 0..14 {
            let day = to - Days::days(13 - d);
            let n = 120 + 40 * h + (d as usize * 7) % 30;
            let records = greenwave::city::synthetic::hall_day(h as u64, day, id, n, *satisfaction);
            id += n as u64;
            let ids: HashSet<_> = records.tickets.iter().map(|t| t.id).collect();
            let tickets = greenwave::city::city_tickets(&records, &ids);
            let daily = greenwave::city::daily_rows(&records, chrono_tz::Asia::Shanghai);
            db.push(&Push {
                hall: code,
                name,
                tickets: &tickets,
                days: &[day],
                daily: &daily,
                up_to: id as i64,
                roster: Some(InstalledRoster {
                    version: *roster,
                    digest: format!("digest-{roster}"),
                    installed_at: Utc::now(),
                }),
                cards: &[],
            })
            .await
            .unwrap();
        }
    }
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_bureau_reads_every_halls_figures_and_sees_who_is_behind() {
    browser::browser_dir();
    let pg = Postgres::start();
    let to = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(seed(&pg.url(), to));
    let port = common::free_port();
    let _serve = Serve(
        Command::new(common::BIN)
            .args(["city", "serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", &pg.url()])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    common::eventually(
        Duration::from_secs(20),
        "city serve answers",
        || common::get_text(&format!("{base}/healthz"), None).0 == 200,
        || "no answer".into(),
    );
    let env = [
        ("GW_BASE", base),
        ("GW_SHOTS", browser::shots_dir().display().to_string()),
        ("GW_FROM", (to - Days::days(13)).to_string()),
        ("GW_TO", to.to_string()),
    ];
    let (status, log) = browser::drive("city.mjs", &env, Duration::from_secs(120), |_| {
        Err("no requests".into())
    });
    assert!(
        status.success() && log.iter().any(|l| l == "city: all steps passed"),
        "the bureau's page failed: {}",
        log.join("\n")
    );
}
