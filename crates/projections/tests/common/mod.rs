//! Test support: a database per test, a tiny projection that counts events per stream and logs
//! every application (so double or missed applications show), and helpers to append and wait.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use eventstore::postgres::testing::TestDatabase;
use eventstore::{
    AnyEventStore, Database, EventStore, ExpectedVersion, NewEvent, PgEventStore, PgStoreOptions,
    Position, RecordedEvent, SqliteEventStore, SqliteStoreOptions,
};
use projections::{
    CaughtUp, Projection, ProjectionError, Projectors, RunnerOptions, SharedProjection, Tx,
    WaitOutcome, Waiter, Which,
};
use serde_json::json;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, SqliteConnection};

pub struct Ctx {
    pub db: TestDatabase,
    pub pool: PgPool,
    pub store: PgEventStore,
}

impl Ctx {
    pub async fn new() -> Ctx {
        let db = TestDatabase::migrated().await;
        let pool = db.pool(20).await;
        let store = PgEventStore::new(pool.clone()).with_options(PgStoreOptions {
            poll_interval: Duration::from_millis(100),
            retry_delay: Duration::from_millis(50),
            ..PgStoreOptions::default()
        });
        Ctx { db, pool, store }
    }

    pub async fn finish(self) {
        self.pool.close().await;
        self.db.drop_database().await;
    }

    /// Creates the tables of the counter projection `name` in `reporting`.
    pub async fn create_tables(&self, name: &str) {
        for sql in [
            format!(
                "CREATE TABLE reporting.{name}_counts (stream text PRIMARY KEY, \
                 events bigint NOT NULL, last_version bigint NOT NULL CHECK (last_version >= 0))"
            ),
            format!("COMMENT ON TABLE reporting.{name}_counts IS 'Events per stream (test).'"),
            format!("COMMENT ON COLUMN reporting.{name}_counts.events IS 'How many.'"),
            format!(
                "CREATE TABLE reporting.{name}_applied (event_id uuid NOT NULL, \
                 stream text NOT NULL REFERENCES reporting.{name}_counts (stream), \
                 commit_pos bigint NOT NULL, prepare_pos bigint NOT NULL)"
            ),
            format!("CREATE INDEX {name}_applied_event ON reporting.{name}_applied (event_id)"),
        ] {
            sqlx::query(AssertSqlSafe(sql))
                .execute(&self.pool)
                .await
                .unwrap();
        }
    }

    /// See [`append`].
    pub async fn append(
        &self,
        prefix: &str,
        n: usize,
        streams: usize,
        poison: &[usize],
    ) -> Vec<Position> {
        append(&self.store, prefix, n, streams, poison).await
    }

    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM eventstore.events")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// (rows in the application log, distinct event ids in it, sum of per-stream counts).
    pub async fn applied(&self, name: &str) -> (i64, i64, i64) {
        sqlx::query_as(AssertSqlSafe(format!(
            "SELECT (SELECT count(*) FROM reporting.{name}_applied), \
                    (SELECT count(DISTINCT event_id) FROM reporting.{name}_applied), \
                    (SELECT coalesce(sum(events), 0)::bigint FROM reporting.{name}_counts)"
        )))
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    pub async fn checkpoint(&self, name: &str) -> Option<Position> {
        let mut conn = self.pool.acquire().await.unwrap();
        eventstore::postgres::load_checkpoint(&mut conn, &format!("projection:{name}"))
            .await
            .unwrap()
    }

    /// Waits (up to [`PATIENCE`]) for `name` to pass `position`; panics otherwise.
    pub async fn wait(&self, name: &str, position: Position) {
        let outcome = projections::wait_for(&self.pool, Which::Named(&[name]), position, PATIENCE)
            .await
            .unwrap();
        assert_eq!(
            outcome,
            WaitOutcome::Reached,
            "{name} did not reach {position}"
        );
    }

    pub async fn status(&self, name: &str) -> projections::ProjectionStatus {
        projections::statuses(&self.pool)
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.projection == name)
            .unwrap_or_else(|| panic!("no status row for {name}"))
    }
}

/// Appends `n` events spread over `streams` streams (in appends of up to 50 events), `Poison`
/// instead of `Counted` at the indexes in `poison`; returns the positions in append order.
pub async fn append(
    store: &impl EventStore,
    prefix: &str,
    n: usize,
    streams: usize,
    poison: &[usize],
) -> Vec<Position> {
    let mut positions = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let stream = format!("test-{prefix}{}", (i / 50) % streams);
        let events: Vec<NewEvent> = (i..(i + 50).min(n))
            .map(|k| {
                let kind = if poison.contains(&k) {
                    "Poison"
                } else {
                    "Counted"
                };
                NewEvent::new(kind, json!({ "k": k }))
            })
            .collect();
        i += events.len();
        let result = store
            .append(&stream, ExpectedVersion::Any, events)
            .await
            .unwrap();
        positions.extend(result.positions());
    }
    positions
}

/// Appends `rounds` times `n` events over `streams` streams, pausing between rounds, on a task of
/// its own; the task returns the last position.
pub fn spawn_writer<S: EventStore + Clone + Send + Sync + 'static>(
    store: &S,
    rounds: usize,
    n: usize,
    streams: usize,
    pause: Duration,
) -> tokio::task::JoinHandle<Position> {
    let store = store.clone();
    tokio::spawn(async move {
        let mut last = Position::START;
        for round in 0..rounds {
            let positions = append(&store, &format!("w{round}-"), n, streams, &[]).await;
            last = *positions.last().unwrap();
            tokio::time::sleep(pause).await;
        }
        last
    })
}

/// How long tests wait for something that should happen. Generous on purpose: $all only shows
/// events below the oldest running writing transaction of the whole server, so other tests and
/// benchmarks on the same server delay projections (they are late, never wrong).
pub const PATIENCE: Duration = Duration::from_secs(120);

/// Intervals short enough for tests.
pub fn fast_options() -> RunnerOptions {
    RunnerOptions {
        batch_size: 100,
        standby_retry: Duration::from_millis(200),
        poll_interval: Duration::from_millis(100),
        refresh_interval: Duration::from_secs(60),
        catch_up_refresh_min_interval: Duration::ZERO,
        lag_interval: Duration::from_millis(200),
        retry_delay: Duration::from_millis(100),
        lease: Duration::from_secs(5),
        holder: projections::default_holder(),
    }
}

/// How the counter treats events of type `Poison`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoisonMode {
    /// Counts them like any other.
    Ignore,
    /// Fails naming the event.
    Named,
    /// Fails the batch without saying which event.
    Unnamed,
}

/// Counts events per stream into `<name>_counts` and logs each application in `<name>_applied`.
pub struct Counter {
    pub name: &'static str,
    pub poison: PoisonMode,
    /// Once true, `Poison` events are counted like any other (the projection was fixed).
    pub fixed: Arc<AtomicBool>,
    /// While above zero, the second event of a batch panics (a bug), counting down.
    pub panics: Arc<AtomicUsize>,
    /// Sleeps this long inside each batch transaction, after writing (to be killed mid-batch).
    pub delay: Duration,
    pub refreshes: Arc<AtomicU64>,
}

impl Counter {
    pub fn new(name: &'static str) -> Counter {
        Counter {
            name,
            poison: PoisonMode::Ignore,
            fixed: Arc::new(AtomicBool::new(false)),
            panics: Arc::new(AtomicUsize::new(0)),
            delay: Duration::ZERO,
            refreshes: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn poison(mut self, mode: PoisonMode) -> Counter {
        self.poison = mode;
        self
    }

    pub fn delay(mut self, delay: Duration) -> Counter {
        self.delay = delay;
        self
    }

    /// Panics on the second event of `events` while `panics` counts down.
    fn maybe_panic(&self, events: &[RecordedEvent]) {
        if events.len() > 1
            && self
                .panics
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            panic!("a bug in projection {}", self.name);
        }
    }

    /// The same writes in SQLite's dialect, on the tables named `prefix` + table.
    async fn write_sqlite(
        &self,
        conn: &mut SqliteConnection,
        prefix: &str,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let table = format!("{prefix}{}", self.name);
        for e in events {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {table}_counts (stream, events, last_version) VALUES (?1, 1, ?2) \
                 ON CONFLICT (stream) DO UPDATE SET events = {table}_counts.events + 1, \
                 last_version = excluded.last_version"
            )))
            .bind(&e.stream)
            .bind(e.version as i64)
            .execute(&mut *conn)
            .await?;
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {table}_applied (event_id, stream, commit_pos, prepare_pos) \
                 VALUES (?1, ?2, ?3, ?4)"
            )))
            .bind(e.id.to_string())
            .bind(&e.stream)
            .bind(e.position.commit as i64)
            .bind(e.position.prepare)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    async fn write(
        &self,
        conn: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let name = self.name;
        let mut per_stream: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for e in events {
            let entry = per_stream.entry(&e.stream).or_insert((0, 0));
            entry.0 += 1;
            entry.1 = e.version as i64;
        }
        let streams: Vec<&str> = per_stream.keys().copied().collect();
        let counts: Vec<i64> = per_stream.values().map(|v| v.0).collect();
        let versions: Vec<i64> = per_stream.values().map(|v| v.1).collect();
        // Unqualified names: the runtime's search_path decides which schema this writes.
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {name}_counts (stream, events, last_version) \
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) \
             ON CONFLICT (stream) DO UPDATE SET events = {name}_counts.events + excluded.events, \
                 last_version = excluded.last_version"
        )))
        .bind(&streams)
        .bind(&counts)
        .bind(&versions)
        .execute(&mut *conn)
        .await?;
        let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.id).collect();
        let event_streams: Vec<&str> = events.iter().map(|e| e.stream.as_str()).collect();
        let commits: Vec<i64> = events.iter().map(|e| e.position.commit as i64).collect();
        let prepares: Vec<i64> = events.iter().map(|e| e.position.prepare).collect();
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {name}_applied (event_id, stream, commit_pos, prepare_pos) \
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[])"
        )))
        .bind(&ids)
        .bind(&event_streams)
        .bind(&commits)
        .bind(&prepares)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

fn tables_of(name: &str) -> &'static [&'static str] {
    match name {
        "alpha" => &["alpha_counts", "alpha_applied"],
        "beta" => &["beta_counts", "beta_applied"],
        "gamma" => &["gamma_counts", "gamma_applied"],
        other => panic!("no tables for test projection {other}"),
    }
}

impl Projection for Counter {
    fn name(&self) -> &'static str {
        self.name
    }

    fn tables(&self) -> &'static [&'static str] {
        tables_of(self.name)
    }

    async fn apply_batch(
        &self,
        tx: &mut Tx<'_>,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        // Write first, fail after: a failed batch must leave nothing behind.
        match tx {
            Tx::Postgres(conn) => self.write(conn, events).await?,
            Tx::Sqlite(tables) => {
                let prefix = tables.prefix().to_owned();
                self.write_sqlite(tables.conn(), &prefix, events).await?
            }
        }
        self.maybe_panic(events);
        let poisoned = !self.fixed.load(Ordering::SeqCst);
        if let Some(bad) = events.iter().find(|e| poisoned && e.event_type == "Poison") {
            match self.poison {
                PoisonMode::Ignore => {}
                PoisonMode::Named => return Err(ProjectionError::at(bad, "cannot digest Poison")),
                PoisonMode::Unnamed => {
                    return Err(ProjectionError::batch("something in this batch is bad"));
                }
            }
        }
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        Ok(())
    }

    async fn after_catch_up(
        &self,
        _tx: &mut Tx<'_>,
        _caught_up: &CaughtUp<'_>,
    ) -> Result<(), ProjectionError> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A store of either backend for the tests that run once per backend: a fresh PostgreSQL database
/// or a fresh SQLite file, with the same helpers on both.
pub struct Harness {
    pub store: AnyEventStore,
    pg: Option<TestDatabase>,
    path: Option<std::path::PathBuf>,
    /// Other handles on the same database, closed at the end.
    others: std::sync::Mutex<Vec<AnyEventStore>>,
}

impl Harness {
    pub async fn postgres() -> Harness {
        let ctx = Ctx::new().await;
        Harness {
            store: AnyEventStore::Postgres(ctx.store.clone()),
            pg: Some(ctx.db),
            path: None,
            others: Default::default(),
        }
    }

    pub async fn sqlite() -> Harness {
        let path = eventstore::sqlite::testing::temp_store_path();
        let store = SqliteEventStore::open(&path, 8)
            .await
            .unwrap()
            .with_options(SqliteStoreOptions {
                poll_interval: Duration::from_millis(50),
                ..SqliteStoreOptions::default()
            });
        Harness {
            store: AnyEventStore::Sqlite(store),
            pg: None,
            path: Some(path),
            others: Default::default(),
        }
    }

    pub fn db(&self) -> Database {
        self.store.database()
    }

    pub fn is_sqlite(&self) -> bool {
        self.path.is_some()
    }

    /// A second handle on the same database with a pool of its own: what another process has
    /// (on SQLite its appends do not wake this handle's runners: they poll for them).
    pub async fn other_process(&self) -> AnyEventStore {
        let other = match &self.store {
            AnyEventStore::Postgres(store) => {
                let pool = PgPool::connect_with((*store.pool().connect_options()).clone())
                    .await
                    .unwrap();
                AnyEventStore::Postgres(PgEventStore::new(pool))
            }
            AnyEventStore::Sqlite(_) => AnyEventStore::Sqlite(
                SqliteEventStore::open(self.path.as_ref().unwrap(), 4)
                    .await
                    .unwrap(),
            ),
        };
        self.others.lock().unwrap().push(other.clone());
        other
    }

    pub fn start(&self, projections: Vec<SharedProjection>, options: RunnerOptions) -> Projectors {
        Projectors::start_any(&self.store, projections, options).unwrap()
    }

    async fn execute(&self, sql: String) {
        match &self.store {
            AnyEventStore::Postgres(s) => {
                sqlx::query(AssertSqlSafe(sql))
                    .execute(s.pool())
                    .await
                    .unwrap();
            }
            AnyEventStore::Sqlite(s) => {
                sqlx::query(AssertSqlSafe(sql))
                    .execute(s.pool())
                    .await
                    .unwrap();
            }
        }
    }

    async fn scalars(&self, sql: String) -> (i64, i64, i64) {
        match &self.store {
            AnyEventStore::Postgres(s) => sqlx::query_as(AssertSqlSafe(sql))
                .fetch_one(s.pool())
                .await
                .unwrap(),
            AnyEventStore::Sqlite(s) => sqlx::query_as(AssertSqlSafe(sql))
                .fetch_one(s.pool())
                .await
                .unwrap(),
        }
    }

    /// The counter's tables of `name`.
    pub async fn create_tables(&self, name: &str) {
        if self.is_sqlite() {
            self.execute(format!(
                "CREATE TABLE reporting_{name}_counts (stream TEXT PRIMARY KEY, \
                 events INTEGER NOT NULL, last_version INTEGER NOT NULL CHECK (last_version >= 0))"
            ))
            .await;
            self.execute(format!(
                "CREATE TABLE reporting_{name}_applied (event_id TEXT NOT NULL, \
                 stream TEXT NOT NULL REFERENCES reporting_{name}_counts (stream), \
                 commit_pos INTEGER NOT NULL, prepare_pos INTEGER NOT NULL)"
            ))
            .await;
        } else {
            self.execute(format!(
                "CREATE TABLE reporting.{name}_counts (stream text PRIMARY KEY, \
                 events bigint NOT NULL, last_version bigint NOT NULL CHECK (last_version >= 0))"
            ))
            .await;
            self.execute(format!(
                "CREATE TABLE reporting.{name}_applied (event_id uuid NOT NULL, \
                 stream text NOT NULL REFERENCES reporting.{name}_counts (stream), \
                 commit_pos bigint NOT NULL, prepare_pos bigint NOT NULL)"
            ))
            .await;
        }
    }

    pub async fn append(
        &self,
        prefix: &str,
        n: usize,
        streams: usize,
        poison: &[usize],
    ) -> Vec<Position> {
        append(&self.store, prefix, n, streams, poison).await
    }

    /// (rows in the application log, distinct event ids in it, sum of per-stream counts).
    pub async fn applied(&self, name: &str) -> (i64, i64, i64) {
        let t = if self.is_sqlite() {
            format!("reporting_{name}")
        } else {
            format!("reporting.{name}")
        };
        self.scalars(format!(
            "SELECT (SELECT count(*) FROM {t}_applied), \
                    (SELECT count(DISTINCT event_id) FROM {t}_applied), \
                    (SELECT CAST(coalesce(sum(events), 0) AS bigint) FROM {t}_counts)"
        ))
        .await
    }

    pub async fn event_count(&self) -> i64 {
        self.store
            .read_all(Position::START, &eventstore::Filter::all(), 1_000_000)
            .await
            .unwrap()
            .len() as i64
    }

    /// The id of the event at `position` (waiting until $all shows it: on PostgreSQL other
    /// tests' open transactions hold it back).
    pub async fn event_id_at(&self, position: Position) -> uuid::Uuid {
        for _ in 0..1200 {
            let events = self
                .store
                .read_all(Position::START, &eventstore::Filter::all(), 1_000_000)
                .await
                .unwrap();
            if let Some(event) = events.into_iter().find(|e| e.position == position) {
                return event.id;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no event at {position} in $all")
    }

    pub async fn checkpoint(&self, name: &str) -> Option<Position> {
        match &self.store {
            AnyEventStore::Postgres(s) => {
                let mut conn = s.pool().acquire().await.unwrap();
                eventstore::postgres::load_checkpoint(&mut conn, &format!("projection:{name}"))
                    .await
                    .unwrap()
            }
            AnyEventStore::Sqlite(s) => {
                let mut conn = s.pool().acquire().await.unwrap();
                eventstore::sqlite::load_checkpoint(&mut conn, name)
                    .await
                    .unwrap()
            }
        }
    }

    /// Waits (up to [`PATIENCE`]) for `name` to pass `position`; panics otherwise.
    pub async fn wait(&self, name: &str, position: Position) {
        assert_eq!(
            self.wait_outcome(name, position).await,
            WaitOutcome::Reached,
            "{name} did not reach {position}"
        );
    }

    pub async fn wait_outcome(&self, name: &str, position: Position) -> WaitOutcome {
        Waiter::start_for(self.db())
            .wait_for(Which::Named(&[name]), position, PATIENCE)
            .await
            .unwrap()
    }

    pub async fn status(&self, name: &str) -> projections::ProjectionStatus {
        projections::statuses_in(&self.db())
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.projection == name)
            .unwrap_or_else(|| panic!("no status row for {name}"))
    }

    pub async fn finish(self) {
        let others = std::mem::take(&mut *self.others.lock().unwrap());
        for other in others {
            other.database().close().await;
        }
        self.store.database().close().await;
        if let Some(db) = self.pg {
            db.drop_database().await;
        }
        if let Some(path) = self.path {
            eventstore::sqlite::testing::remove_store_files(&path);
        }
    }
}
