//! greenwave's city database (PostgreSQL): what every hall pushes and the bureau
//! reads. One row per ticket (`tickets`, idempotent on hall, day and
//! ticket), the daily figures per hall, day and group (`daily`: one row
//! per value of each dimension the bureau splits by, so the rows of any
//! one dimension add up to the day; replaced for a hall's day whenever
//! one of its tickets changes: what keeps a year's report fast), the halls with the roster each installed, and the
//! priority card bindings every hall shares. Never an ID number, a name or
//! a person hash in `tickets` or `daily`; `bindings` holds the card UID and
//! the roster entry hash only, as the hall's own store does.

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::pin_mut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls};

/// A priority card binding as the city shares it: the card's UID and the
/// keyed identity hash of the roster entry, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardBinding {
    /// The card's UID (hex).
    pub uid: String,
    /// The keyed identity hash (hex) of the resident.
    pub person: String,
    /// When it was bound (seconds since the epoch).
    pub bound_at: i64,
}

/// The schema, one migration per entry; the database's
/// `greenwave_schema.version` is the number applied. Append; never edit one
/// that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: halls, tickets, daily figures, card bindings.
    "CREATE TABLE halls (
        hall                 TEXT PRIMARY KEY,
        name                 TEXT NOT NULL,
        pushed_seq           BIGINT NOT NULL DEFAULT 0,
        max_ticket           BIGINT NOT NULL DEFAULT 0,
        last_push            TIMESTAMPTZ,
        roster_version       BIGINT,
        roster_digest        TEXT,
        roster_installed_at  TIMESTAMPTZ
    );
    CREATE TABLE tickets (
        hall             TEXT NOT NULL,
        day              DATE NOT NULL,
        ticket           BIGINT NOT NULL,
        service          TEXT NOT NULL,
        lane             TEXT NOT NULL CHECK (lane IN ('priority', 'normal')),
        way              TEXT CHECK (way IN ('id_card', 'priority_card', 'manual')),
        category         TEXT,
        age_band         TEXT CHECK (age_band IN ('0-17', '18-59', '60-69', '70-79', '80+')),
        issued_at        TIMESTAMPTZ NOT NULL,
        first_called_at  TIMESTAMPTZ,
        started_at       TIMESTAMPTZ,
        finished_at      TIMESTAMPTZ,
        ended            TEXT CHECK (ended IN ('done', 'no_show', 'cancelled', 'expired')),
        transfers        INTEGER NOT NULL,
        accompanied      BOOLEAN NOT NULL,
        case_closed      BOOLEAN NOT NULL,
        policies         INTEGER NOT NULL,
        rating           TEXT,
        rating_source    TEXT,
        PRIMARY KEY (hall, day, ticket)
    );
    CREATE TABLE daily (
        hall      TEXT NOT NULL,
        day       DATE NOT NULL,
        dim       TEXT NOT NULL CHECK (dim IN ('service', 'lane', 'way', 'category', 'age')),
        key       TEXT NOT NULL,
        counts    BIGINT[] NOT NULL,
        wait_sum_s     DOUBLE PRECISION NOT NULL,
        wait_max_s     DOUBLE PRECISION NOT NULL,
        service_sum_s  DOUBLE PRECISION NOT NULL,
        service_max_s  DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (hall, day, dim, key)
    );
    CREATE INDEX daily_day ON daily (day);
    CREATE SEQUENCE bindings_changed;
    CREATE TABLE bindings (
        uid       TEXT PRIMARY KEY,
        person    TEXT NOT NULL,
        bound_at  BIGINT NOT NULL,
        hall      TEXT NOT NULL,
        changed   BIGINT NOT NULL DEFAULT nextval('bindings_changed')
    );
    CREATE INDEX bindings_by_change ON bindings (changed);",
    // 2: the hour of the day as a daily dimension (key `09:00 priority`: the
    // local hour the tickets were issued in and their lane). Days pushed
    // before have no hour rows; a hall sends them again when it connects
    // (`CityDb::days_without`).
    "ALTER TABLE daily DROP CONSTRAINT daily_dim_check;
     ALTER TABLE daily ADD CONSTRAINT daily_dim_check
       CHECK (dim IN ('service', 'lane', 'way', 'category', 'age', 'hour'));",
    // 3: the appointment lane (`Y` tickets of booked residents).
    "ALTER TABLE tickets DROP CONSTRAINT tickets_lane_check;
     ALTER TABLE tickets ADD CONSTRAINT tickets_lane_check
       CHECK (lane IN ('priority', 'appointment', 'normal'));",
];

/// What went wrong with the city database.
#[derive(Debug, thiserror::Error)]
pub enum CityError {
    /// The database could not be reached or refused a statement.
    #[error("city database: {0}")]
    Db(#[from] tokio_postgres::Error),
    /// The database's schema is newer than this greenwave.
    #[error("city database schema version {found} is newer than this greenwave knows ({supported}); upgrade greenwave")]
    TooNew {
        /// Found.
        found: i32,
        /// Known.
        supported: i32,
    },
}

/// The counters of a [`Tally`], in order (the `daily.counts` array).
pub const COUNTS: [&str; 26] = [
    "issued",
    "priority",
    "served",
    "no_show",
    "transferred",
    "cancelled",
    "expired",
    "wait_n",
    "service_n",
    "priority_served",
    "cases",
    "cases_closed",
    "policies",
    "staff_ratings",
    "staff_satisfied",
    "staff_fairly_satisfied",
    "staff_dissatisfied",
    "resident_ratings",
    "resident_very_satisfied",
    "resident_satisfied",
    "resident_fairly_satisfied",
    "resident_dissatisfied",
    "resident_very_dissatisfied",
    "by_id_card",
    "by_priority_card",
    "by_manual",
];

/// The additive figures of a group of tickets: what the daily table keeps
/// and the report sums (means come back as sum / count; percentiles are
/// not additive and are not kept).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    /// Counters, named by [`COUNTS`].
    pub counts: [i64; COUNTS.len()],
    /// Sum of waits (issue → first call), seconds.
    pub wait_sum_s: f64,
    /// Longest wait, seconds.
    pub wait_max_s: f64,
    /// Sum of service times, seconds.
    pub service_sum_s: f64,
    /// Longest service, seconds.
    pub service_max_s: f64,
}

impl Tally {
    /// The counter named `name` (one of [`COUNTS`]).
    pub fn get(&self, name: &str) -> i64 {
        COUNTS
            .iter()
            .position(|c| *c == name)
            .map_or(0, |i| self.counts[i])
    }

    /// Adds `other` to this one.
    pub fn add(&mut self, other: &Tally) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
        self.wait_sum_s += other.wait_sum_s;
        self.service_sum_s += other.service_sum_s;
        self.wait_max_s = self.wait_max_s.max(other.wait_max_s);
        self.service_max_s = self.service_max_s.max(other.service_max_s);
    }
}

/// A group of a hall's day in the daily table: a dimension and its value
/// (`-`: none, e.g. the category of a normal ticket).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DailyKey {
    /// `service`, `lane`, `way`, `category`, `age` or `hour`.
    pub dim: &'static str,
    /// The value: a service code, a lane (`priority`, `normal`, ...), a
    /// way, a category, an age band, `-`, or for `hour` the local hour the
    /// tickets were issued in and their lane (`09:00 priority`).
    pub key: String,
}

/// One row of the daily table.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyRow {
    /// Service day.
    pub day: NaiveDate,
    /// The group.
    pub key: DailyKey,
    /// Its figures.
    pub tally: Tally,
}

/// One ticket as the city keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct CityTicket {
    /// Service day.
    pub day: NaiveDate,
    /// The hall's ticket id.
    pub ticket: i64,
    /// Service code.
    pub service: String,
    /// `priority`, `appointment` or `normal`.
    pub lane: &'static str,
    /// `id_card`, `priority_card`, `manual`.
    pub way: Option<&'static str>,
    /// Roster category.
    pub category: Option<String>,
    /// Age band.
    pub age_band: Option<&'static str>,
    /// Issued.
    pub issued_at: DateTime<Utc>,
    /// First called.
    pub first_called_at: Option<DateTime<Utc>>,
    /// Service started.
    pub started_at: Option<DateTime<Utc>>,
    /// Served to the end.
    pub finished_at: Option<DateTime<Utc>>,
    /// `done`, `no_show`, `cancelled`, `expired`.
    pub ended: Option<&'static str>,
    /// Transfers.
    pub transfers: i32,
    /// A helper accompanied it.
    pub accompanied: bool,
    /// Its case is closed.
    pub case_closed: bool,
    /// Policies explained.
    pub policies: i32,
    /// The rating's level.
    pub rating: Option<&'static str>,
    /// Whose rating.
    pub rating_source: Option<&'static str>,
}

/// The roster a hall has installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledRoster {
    /// Version.
    pub version: i64,
    /// Body digest.
    pub digest: String,
    /// When it was installed.
    pub installed_at: DateTime<Utc>,
}

/// One push of a hall: the changed tickets, the daily rows of their days
/// (all of them: the days' rows are replaced), and what the hall has.
#[derive(Debug, Clone, Default)]
pub struct Push<'a> {
    /// The hall's id (`[city] hall`).
    pub hall: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Changed tickets.
    pub tickets: &'a [CityTicket],
    /// The days whose daily rows are replaced.
    pub days: &'a [NaiveDate],
    /// The daily rows of those days.
    pub daily: &'a [DailyRow],
    /// The outbox row this push reaches.
    pub up_to: i64,
    /// The roster installed at the hall.
    pub roster: Option<InstalledRoster>,
    /// Bindings made at the hall.
    pub cards: &'a [CardBinding],
}

/// A hall as the bureau sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HallStatus {
    /// Id.
    pub hall: String,
    /// Name.
    pub name: String,
    /// Last push.
    pub last_push: Option<DateTime<Utc>>,
    /// Roster version installed.
    pub roster_version: Option<i64>,
    /// When it was installed.
    pub roster_installed_at: Option<DateTime<Utc>>,
}

/// The grouping of a city report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CityBy {
    /// Per hall (its name).
    Hall,
    /// Per day.
    Day,
    /// Per service.
    Service,
    /// Per roster category.
    Category,
    /// Per age band.
    Age,
    /// Per way of identification.
    Way,
    /// Per lane.
    Lane,
    /// Per hour of the day the tickets were issued in (`09:00`, the hall's
    /// local time), the lanes together.
    Hour,
    /// Per hour of the day and lane (`09:00 priority`).
    HourLane,
}

impl CityBy {
    /// The group's column and the dimension whose rows are summed (hall
    /// and day sum the lanes: every ticket is in exactly one).
    fn column(self) -> (&'static str, &'static str) {
        match self {
            CityBy::Hall => ("coalesce(h.name, d.hall)", "lane"),
            CityBy::Day => ("to_char(d.day, 'YYYY-MM-DD')", "lane"),
            CityBy::Service => ("d.key", "service"),
            CityBy::Category => ("d.key", "category"),
            CityBy::Age => ("d.key", "age"),
            CityBy::Way => ("d.key", "way"),
            CityBy::Lane => ("d.key", "lane"),
            CityBy::Hour => ("split_part(d.key, ' ', 1)", "hour"),
            CityBy::HourLane => ("d.key", "hour"),
        }
    }
}

/// A connection to the city database.
pub struct CityDb {
    client: Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CityDb {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CityDb {
    /// Connects (inside a tokio runtime) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<CityDb, CityError> {
        let (client, conn) = tokio_postgres::connect(url, NoTls).await?;
        let task = tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut db = CityDb { client, task };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&mut self) -> Result<(), CityError> {
        let tx = self.client.transaction().await?;
        // Two halls starting at once: one migrates, the other waits.
        tx.execute("SELECT pg_advisory_xact_lock(7406)", &[])
            .await?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS greenwave_schema (version INTEGER NOT NULL)")
            .await?;
        let found: Option<i32> = tx
            .query_opt("SELECT version FROM greenwave_schema", &[])
            .await?
            .map(|r| r.get(0));
        let supported = MIGRATIONS.len() as i32;
        let found = found.unwrap_or(0);
        if found > supported {
            return Err(CityError::TooNew { found, supported });
        }
        for m in &MIGRATIONS[found as usize..] {
            tx.batch_execute(m).await?;
        }
        tx.execute("DELETE FROM greenwave_schema", &[]).await?;
        tx.execute("INSERT INTO greenwave_schema VALUES ($1)", &[&supported])
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Where the city has a hall's outbox up to (0: nothing yet).
    pub async fn pushed_seq(&self, hall: &str) -> Result<i64, CityError> {
        Ok(self
            .client
            .query_opt("SELECT pushed_seq FROM halls WHERE hall = $1", &[&hall])
            .await?
            .map_or(0, |r| r.get(0)))
    }

    /// Commits one push: all of it or nothing. Pushing the same again
    /// changes nothing (tickets are keyed by hall, day and ticket; a day's
    /// daily rows are replaced as a whole).
    pub async fn push(&mut self, p: &Push<'_>) -> Result<(), CityError> {
        let tx = self.client.transaction().await?;
        tx.execute(
            "INSERT INTO halls (hall, name) VALUES ($1, $2)
               ON CONFLICT (hall) DO UPDATE SET name = excluded.name",
            &[&p.hall, &p.name],
        )
        .await?;
        if !p.tickets.is_empty() {
            // The tickets' rows replaced: those the city may have (an id
            // not above the highest it holds of this hall) deleted by key,
            // then all copied in. A hall's ids only grow, so a busy day's
            // new tickets cost no lookup.
            let max: i64 = tx
                .query_one(
                    "SELECT max_ticket FROM halls WHERE hall = $1 FOR UPDATE",
                    &[&p.hall],
                )
                .await?
                .get(0);
            let (days, ids): (Vec<NaiveDate>, Vec<i64>) = p
                .tickets
                .iter()
                .filter(|t| t.ticket <= max)
                .map(|t| (t.day, t.ticket))
                .unzip();
            if !ids.is_empty() {
                tx.execute(
                    "DELETE FROM tickets t USING unnest($2::date[], $3::bigint[]) AS k(day, ticket)
                      WHERE t.hall = $1 AND t.day = k.day AND t.ticket = k.ticket",
                    &[&p.hall, &days, &ids],
                )
                .await?;
            }
            copy_tickets(&tx, "tickets", p.hall, p.tickets).await?;
            let top = p.tickets.iter().map(|t| t.ticket).max().unwrap_or(0);
            tx.execute(
                "UPDATE halls SET max_ticket = GREATEST(max_ticket, $2) WHERE hall = $1",
                &[&p.hall, &top],
            )
            .await?;
        }
        if !p.days.is_empty() {
            tx.execute(
                "DELETE FROM daily WHERE hall = $1 AND day = ANY($2)",
                &[&p.hall, &p.days],
            )
            .await?;
            copy_daily(&tx, p.hall, p.daily).await?;
        }
        for c in p.cards {
            tx.execute(
                "INSERT INTO bindings (uid, person, bound_at, hall) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (uid) DO UPDATE SET person = excluded.person,
                      bound_at = excluded.bound_at, hall = excluded.hall,
                      changed = nextval('bindings_changed')
                   WHERE bindings.bound_at < excluded.bound_at",
                &[&c.uid, &c.person, &c.bound_at, &p.hall],
            )
            .await?;
        }
        let (version, digest, installed) = match &p.roster {
            Some(r) => (
                Some(r.version),
                Some(r.digest.as_str()),
                Some(r.installed_at),
            ),
            None => (None, None, None),
        };
        tx.execute(
            "UPDATE halls SET pushed_seq = GREATEST(pushed_seq, $2), last_push = now(),
                roster_version = $3, roster_digest = $4, roster_installed_at = $5
              WHERE hall = $1",
            &[&p.hall, &p.up_to, &version, &digest, &installed],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The days of `hall` the city holds daily rows of, but none of
    /// dimension `dim` (days pushed before `dim` was a dimension), in
    /// order.
    pub async fn days_without(&self, hall: &str, dim: &str) -> Result<Vec<NaiveDate>, CityError> {
        let rows = self
            .client
            .query(
                "SELECT day FROM daily WHERE hall = $1 AND dim = 'lane'
                 EXCEPT SELECT day FROM daily WHERE hall = $1 AND dim = $2
                 ORDER BY day",
                &[&hall, &dim],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// The bindings other halls made, changed after `after` (a cursor the
    /// hall keeps), with the hall that made each and the new cursor.
    pub async fn bindings_after(
        &self,
        hall: &str,
        after: i64,
    ) -> Result<(Vec<(CardBinding, String)>, i64), CityError> {
        let rows = self
            .client
            .query(
                "SELECT uid, person, bound_at, hall, changed FROM bindings
                  WHERE changed > $1 ORDER BY changed",
                &[&after],
            )
            .await?;
        let mut cursor = after;
        let mut out = Vec::new();
        for r in rows {
            cursor = cursor.max(r.get(4));
            let from: String = r.get(3);
            if from != hall {
                let card = CardBinding {
                    uid: r.get(0),
                    person: r.get(1),
                    bound_at: r.get(2),
                };
                out.push((card, from));
            }
        }
        Ok((out, cursor))
    }

    /// The figures of the days `from..=to`, summed per group, in key
    /// order.
    pub async fn report(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        by: CityBy,
    ) -> Result<Vec<(String, Tally)>, CityError> {
        let n = COUNTS.len();
        let sums: Vec<String> = (1..=n)
            .map(|i| format!("SUM(d.counts[{i}])::BIGINT"))
            .collect();
        let (key, dim) = by.column();
        let sql = format!(
            "SELECT {key} AS k, {sums}, SUM(d.wait_sum_s), MAX(d.wait_max_s),
                    SUM(d.service_sum_s), MAX(d.service_max_s)
               FROM daily d LEFT JOIN halls h ON h.hall = d.hall
              WHERE d.day >= $1 AND d.day <= $2 AND d.dim = $3
              GROUP BY k ORDER BY k",
            sums = sums.join(", "),
        );
        let rows = self.client.query(&sql, &[&from, &to, &dim]).await?;
        Ok(rows
            .iter()
            .map(|r| {
                let mut t = Tally::default();
                for i in 0..n {
                    t.counts[i] = r.get(i + 1);
                }
                t.wait_sum_s = r.get(n + 1);
                t.wait_max_s = r.get(n + 2);
                t.service_sum_s = r.get(n + 3);
                t.service_max_s = r.get(n + 4);
                (r.get(0), t)
            })
            .collect())
    }

    /// Priority services given (priority tickets served to the end) per
    /// hall (by name) and day, days `from..=to`.
    pub async fn priority_served_per_hall_day(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, NaiveDate, i64)>, CityError> {
        let i = COUNTS
            .iter()
            .position(|c| *c == "priority_served")
            .unwrap_or(0)
            + 1;
        let sql = format!(
            "SELECT coalesce(h.name, d.hall) AS k, d.day, SUM(d.counts[{i}])::BIGINT
               FROM daily d LEFT JOIN halls h ON h.hall = d.hall
              WHERE d.day >= $1 AND d.day <= $2 AND d.dim = 'lane'
              GROUP BY k, d.day ORDER BY k, d.day"
        );
        let rows = self.client.query(&sql, &[&from, &to]).await?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    /// Every hall, by name.
    pub async fn halls(&self) -> Result<Vec<HallStatus>, CityError> {
        let rows = self
            .client
            .query(
                "SELECT hall, name, last_push, roster_version, roster_installed_at
                   FROM halls ORDER BY name, hall",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| HallStatus {
                hall: r.get(0),
                name: r.get(1),
                last_push: r.get(2),
                roster_version: r.get(3),
                roster_installed_at: r.get(4),
            })
            .collect())
    }

    /// How many ticket rows the city holds for a hall (tests, ops).
    pub async fn ticket_count(&self, hall: &str) -> Result<i64, CityError> {
        Ok(self
            .client
            .query_one("SELECT COUNT(*) FROM tickets WHERE hall = $1", &[&hall])
            .await?
            .get(0))
    }

    /// The baseline of the ingest bench: the same rows `COPY`ed straight
    /// into an empty table shaped like `tickets`, with nothing else done.
    pub async fn copy_baseline(
        &mut self,
        hall: &str,
        rows: &[CityTicket],
    ) -> Result<(), CityError> {
        let tx = self.client.transaction().await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS baseline_tickets (LIKE tickets INCLUDING ALL)",
        )
        .await?;
        copy_tickets(&tx, "baseline_tickets", hall, rows).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Empties the city (the benches, between runs).
    pub async fn truncate(&self) -> Result<(), CityError> {
        self.client
            .batch_execute(
                "TRUNCATE tickets, daily, halls, bindings;
                 DROP TABLE IF EXISTS baseline_tickets;",
            )
            .await?;
        Ok(())
    }
}

const TICKET_TYPES: [Type; 19] = [
    Type::TEXT,
    Type::DATE,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::TEXT,
    Type::INT4,
    Type::BOOL,
    Type::BOOL,
    Type::INT4,
    Type::TEXT,
    Type::TEXT,
];

async fn copy_tickets(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    hall: &str,
    rows: &[CityTicket],
) -> Result<(), CityError> {
    let sink = tx
        .copy_in(&format!("COPY {table} FROM STDIN (FORMAT binary)"))
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &TICKET_TYPES);
    pin_mut!(writer);
    for t in rows {
        let row: [&(dyn ToSql + Sync); 19] = [
            &hall,
            &t.day,
            &t.ticket,
            &t.service,
            &t.lane,
            &t.way,
            &t.category,
            &t.age_band,
            &t.issued_at,
            &t.first_called_at,
            &t.started_at,
            &t.finished_at,
            &t.ended,
            &t.transfers,
            &t.accompanied,
            &t.case_closed,
            &t.policies,
            &t.rating,
            &t.rating_source,
        ];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    Ok(())
}

async fn copy_daily(
    tx: &tokio_postgres::Transaction<'_>,
    hall: &str,
    rows: &[DailyRow],
) -> Result<(), CityError> {
    let types = [
        Type::TEXT,
        Type::DATE,
        Type::TEXT,
        Type::TEXT,
        Type::INT8_ARRAY,
        Type::FLOAT8,
        Type::FLOAT8,
        Type::FLOAT8,
        Type::FLOAT8,
    ];
    let sink = tx.copy_in("COPY daily FROM STDIN (FORMAT binary)").await?;
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for d in rows {
        let counts: Vec<i64> = d.tally.counts.to_vec();
        let row: [&(dyn ToSql + Sync); 9] = [
            &hall,
            &d.day,
            &d.key.dim,
            &d.key.key,
            &counts,
            &d.tally.wait_sum_s,
            &d.tally.wait_max_s,
            &d.tally.service_sum_s,
            &d.tally.service_max_s,
        ];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    Ok(())
}
