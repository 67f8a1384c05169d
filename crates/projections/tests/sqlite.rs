//! The projections' runtime on SQLite: a batch commits with its checkpoint or not at all, a poison
//! event halts only its projection, one runner per projection per file is active, a new runner
//! resumes from the checkpoint; and the generated columns compute what PostgreSQL computes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use eventstore::postgres::testing::TestDatabase;
use eventstore::sqlite::testing::{remove_store_files, temp_store_path};
use eventstore::{
    EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent, SqliteEventStore,
    SqliteStoreOptions,
};
use futures::future::BoxFuture;
use projections::ProjectionError;
use projections::WaitOutcome;
use projections::sqlite::{
    SqliteProjection, SqliteRunner, SqliteRunnerOptions, Step, lag, rebuild, resume, status,
    wait_for,
};
use serde_json::json;
use sqlx::{AssertSqlSafe, SqliteConnection, SqlitePool};

const LEASE: Duration = Duration::from_secs(2);

/// Logs every event it applies in `reporting_<name>_applied`, whose key refuses a second
/// application; when `poisoned`, fails on events of type `Poison` after writing the ones before.
struct Logger {
    name: &'static str,
    poisoned: bool,
}

/// The logger's tables, by name (`tables` wants them `'static`).
fn logger_tables(name: &str) -> &'static [&'static str] {
    match name {
        "a" => &["a_applied"],
        "b" => &["b_applied"],
        "c" => &["c_applied"],
        "d" => &["d_applied"],
        _ => &["e_applied"],
    }
}

impl SqliteProjection for Logger {
    fn name(&self) -> &'static str {
        self.name
    }

    fn tables(&self) -> &'static [&'static str] {
        logger_tables(self.name)
    }

    fn apply_sqlite<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        prefix: &'a str,
        events: &'a [RecordedEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            for e in events {
                if self.poisoned && e.event_type == "Poison" {
                    return Err(ProjectionError::at(e, "cannot apply a Poison event"));
                }
                sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {prefix}{}_applied (event_id, position) VALUES (?1, ?2)",
                    self.name
                )))
                .bind(e.id.to_string())
                .bind(e.position.commit as i64)
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        })
    }
}

struct File {
    path: PathBuf,
    store: SqliteEventStore,
}

impl File {
    async fn new(names: &[&str]) -> File {
        let path = temp_store_path();
        let store = SqliteEventStore::open(&path, 8)
            .await
            .unwrap()
            .with_options(SqliteStoreOptions {
                poll_interval: Duration::from_millis(50),
                ..SqliteStoreOptions::default()
            });
        store.migrate().await.unwrap();
        for name in names {
            sqlx::query(AssertSqlSafe(format!(
                "CREATE TABLE reporting_{name}_applied (event_id TEXT PRIMARY KEY, position INTEGER NOT NULL)"
            )))
            .execute(store.pool())
            .await
            .unwrap();
        }
        File { path, store }
    }

    /// A second handle on the same file with its own pool: what another process would have.
    async fn other_process(&self) -> SqliteEventStore {
        SqliteEventStore::open(&self.path, 4).await.unwrap()
    }

    fn pool(&self) -> &SqlitePool {
        self.store.pool()
    }

    /// Appends one event of `event_type` to `stream`; returns its position.
    async fn append(&self, stream: &str, event_type: &str) -> Position {
        let result = self
            .store
            .append(
                stream,
                ExpectedVersion::Any,
                vec![NewEvent::new(event_type, json!({"n": 1}))],
            )
            .await
            .unwrap();
        result.positions()[0]
    }

    async fn applied(&self, name: &str) -> i64 {
        sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT count(*) FROM reporting_{name}_applied"
        )))
        .fetch_one(self.pool())
        .await
        .unwrap()
    }

    async fn checkpoint(&self, name: &str) -> Option<Position> {
        let mut conn = self.pool().acquire().await.unwrap();
        eventstore::sqlite::load_checkpoint(&mut conn, name)
            .await
            .unwrap()
    }

    async fn finish(self) {
        self.store.pool().close().await;
        remove_store_files(&self.path);
    }
}

/// A runner with short intervals; the lease is long enough that a loaded machine does not lose
/// it between two batches (the expiry test waits it out).
fn runner(
    store: &SqliteEventStore,
    name: &'static str,
    poisoned: bool,
    holder: &str,
) -> SqliteRunner {
    SqliteRunner::new(
        store.clone(),
        Arc::new(Logger { name, poisoned }),
        SqliteRunnerOptions {
            batch_size: 100,
            lease: LEASE,
            poll_interval: Duration::from_millis(30),
            retry_delay: Duration::from_millis(30),
            holder: holder.to_owned(),
        },
    )
}

async fn step_until_idle(runner: &SqliteRunner) -> Step {
    for _ in 0..1000 {
        match runner.step().await.unwrap() {
            Step::Applied(_) => {}
            other => return other,
        }
    }
    panic!("the runner never caught up");
}

#[tokio::test]
async fn a_poison_event_halts_only_its_projection_and_its_batch_leaves_nothing() {
    let file = File::new(&["a", "b"]).await;
    for _ in 0..5 {
        file.append("thing-1", "Counted").await;
    }
    let poison = file.append("thing-1", "Poison").await;
    for _ in 0..3 {
        file.append("thing-2", "Counted").await;
    }
    let head = file.append("thing-2", "Counted").await;

    let a = runner(&file.store, "a", true, "runner-a");
    let b = runner(&file.store, "b", false, "runner-b");
    // One batch holds all ten events: a wrote five rows, then failed on the poison. The batch
    // was rolled back whole; the five events before the poison were then committed on their own,
    // with the checkpoint on the last of them.
    assert_eq!(a.step().await.unwrap(), Step::Halted);
    assert_eq!(file.applied("a").await, 5);
    assert_eq!(
        file.checkpoint("a").await,
        Some(Position {
            commit: 5,
            prepare: 5
        })
    );
    let halted = status(file.pool(), "a").await.unwrap().unwrap();
    assert!(halted.is_halted());
    assert_eq!(halted.error_position, Some(poison));
    assert!(halted.error.unwrap().contains("Poison"));
    // Halted stays halted: no retry until resumed.
    assert_eq!(a.step().await.unwrap(), Step::Halted);

    assert_eq!(step_until_idle(&b).await, Step::CaughtUp);
    assert_eq!(file.applied("b").await, 10);
    assert_eq!(file.checkpoint("b").await, Some(head));
    let running = status(file.pool(), "b").await.unwrap().unwrap();
    assert_eq!(
        (running.state.as_str(), running.events_applied),
        ("running", 10)
    );
    assert_eq!(lag(file.pool(), "b").await.unwrap().events, 0);
    assert_eq!(lag(file.pool(), "a").await.unwrap().events, 5);

    let wait = Duration::from_millis(300);
    assert_eq!(
        wait_for(file.pool(), &["b"], head, wait).await.unwrap(),
        WaitOutcome::Reached
    );
    assert_eq!(
        wait_for(file.pool(), &["a", "b"], head, wait)
            .await
            .unwrap(),
        WaitOutcome::Halted {
            projection: "a".into()
        }
    );

    // Resumed, it meets the same event first in its batch: the failing batch leaves neither rows
    // nor a checkpoint.
    assert!(resume(file.pool(), "a").await.unwrap());
    assert!(!resume(file.pool(), "a").await.unwrap());
    assert_eq!(a.step().await.unwrap(), Step::Halted);
    assert_eq!(file.applied("a").await, 5);
    assert_eq!(
        file.checkpoint("a").await,
        Some(Position {
            commit: 5,
            prepare: 5
        })
    );
    assert_eq!(lag(file.pool(), "a").await.unwrap().events, 5);
    file.finish().await;
}

#[tokio::test]
async fn two_runners_on_one_file_one_applies_and_the_other_takes_over_when_it_stops() {
    let file = File::new(&["c"]).await;
    let elsewhere = file.other_process().await;
    let first = runner(&file.store, "c", false, "first");
    let second = runner(&elsewhere, "c", false, "second");
    let (stop_first, first_task) = first.spawn();
    // Give the first runner the lease before the second starts.
    let mut head = file.append("thing-1", "Counted").await;
    assert!(
        wait_for(file.pool(), &["c"], head, Duration::from_secs(5))
            .await
            .unwrap()
            .is_reached()
    );
    let (stop_second, second_task) = second.spawn();
    for i in 0..60 {
        head = file.append(&format!("thing-{}", i % 7), "Counted").await;
    }
    assert!(
        wait_for(file.pool(), &["c"], head, Duration::from_secs(10))
            .await
            .unwrap()
            .is_reached()
    );
    // Every event exactly once (the log's key refuses a second application).
    assert_eq!(file.applied("c").await, 61);
    let s = status(file.pool(), "c").await.unwrap().unwrap();
    assert_eq!((s.holder.as_deref(), s.events_applied), (Some("first"), 61));
    // The second stood by all along: a step of its own says so.
    let probe = runner(&elsewhere, "c", false, "second");
    assert_eq!(probe.step().await.unwrap(), Step::Standby);

    // The first stops (releasing its lease); the second carries on from the checkpoint.
    stop_first.send(true).unwrap();
    first_task.await.unwrap().unwrap();
    for _ in 0..10 {
        head = file.append("thing-9", "Counted").await;
    }
    assert!(
        wait_for(file.pool(), &["c"], head, Duration::from_secs(10))
            .await
            .unwrap()
            .is_reached()
    );
    assert_eq!(file.applied("c").await, 71);
    let s = status(file.pool(), "c").await.unwrap().unwrap();
    assert_eq!(
        (s.holder.as_deref(), s.events_applied),
        (Some("second"), 71)
    );
    stop_second.send(true).unwrap();
    second_task.await.unwrap().unwrap();
    elsewhere.pool().close().await;
    file.finish().await;
}

#[tokio::test]
async fn a_new_runner_resumes_from_the_checkpoint_once_the_old_lease_expires() {
    let file = File::new(&["d"]).await;
    for _ in 0..20 {
        file.append("thing-1", "Counted").await;
    }
    let old = runner(&file.store, "d", false, "old");
    assert_eq!(step_until_idle(&old).await, Step::CaughtUp);
    drop(old); // a crash: the lease is not released
    for _ in 0..10 {
        file.append("thing-2", "Counted").await;
    }
    let new = runner(&file.store, "d", false, "new");
    assert_eq!(
        new.step().await.unwrap(),
        Step::Standby,
        "the old lease still holds"
    );
    tokio::time::sleep(LEASE + Duration::from_millis(100)).await;
    assert_eq!(
        new.step().await.unwrap(),
        Step::Applied(10),
        "only what came after the checkpoint"
    );
    assert_eq!(new.step().await.unwrap(), Step::CaughtUp);
    assert_eq!(file.applied("d").await, 30);
    let s = status(file.pool(), "d").await.unwrap().unwrap();
    assert_eq!((s.holder.as_deref(), s.events_applied), (Some("new"), 30));
    file.finish().await;
}

#[tokio::test]
async fn a_rebuild_beside_a_live_runner_swaps_in_every_event_exactly_once() {
    let file = File::new(&["e"]).await;
    for i in 0..40 {
        file.append(&format!("thing-{}", i % 3), "Counted").await;
    }
    let (stop, task) = runner(&file.store, "e", false, "live").spawn();
    let appender = {
        let store = file.store.clone();
        tokio::spawn(async move {
            let mut head = Position::START;
            for _ in 0..40 {
                head = store
                    .append(
                        "thing-4",
                        ExpectedVersion::Any,
                        vec![NewEvent::new("Counted", json!({}))],
                    )
                    .await
                    .unwrap()
                    .positions()[0];
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            head
        })
    };
    let logger: Arc<dyn SqliteProjection> = Arc::new(Logger {
        name: "e",
        poisoned: false,
    });
    let rebuilt_at = rebuild(&file.store, logger).await.unwrap();
    let head = appender.await.unwrap();
    assert!(
        rebuilt_at
            >= Position {
                commit: 40,
                prepare: 40
            }
    );
    assert!(
        wait_for(file.pool(), &["e"], head, Duration::from_secs(10))
            .await
            .unwrap()
            .is_reached()
    );
    // The swapped-in table holds each of the 80 events once (its key refuses a second row).
    assert_eq!(file.applied("e").await, 80);
    let leftovers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE substr(name, 1, 8) = 'rebuild_'",
    )
    .fetch_one(file.pool())
    .await
    .unwrap();
    assert_eq!(leftovers, 0);
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    file.finish().await;
}

/// The generated columns of the SQLite tables against PostgreSQL's own functions, on values chosen
/// for their rounding: ties at the third decimal, repeating decimals, tiny and huge ratios.
#[tokio::test]
async fn generated_columns_compute_what_postgresql_computes() {
    let db = TestDatabase::migrated().await;
    let pg = db.pool(2).await;
    let file = File::new(&[]).await;
    let project = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO reporting_projects (project_id, name, project_kind, investor_name, investor_type, \
         industry_chain, industrial, unit_id, lead_official, stage, status, intended_investment_yuan, \
         registered_date, stream_version, created_at, updated_at) VALUES \
         (?1, 'p', 'attracted', 'i', 'private', 'c', 1, 'u', 'l', 'lead', 'active', 1, '2026-01-01', 0, \
          '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
    )
    .bind(&project)
    .execute(file.pool())
    .await
    .unwrap();

    let areas = [
        ("30.0000", Some("40.0000")),
        ("1.0000", Some("3.0000")),
        ("2.0000", Some("3.0000")),
        ("0.0001", Some("0.0008")),
        ("1.0000", Some("8000.0000")),
        ("3.0000", Some("8000.0000")),
        ("0.0001", Some("9999999999.9999")),
        ("9999999999.9999", Some("0.0001")),
        ("5.0000", Some("0.0000")),
        ("5.0000", None),
        ("0.0000", Some("7.0000")),
    ];
    let households = [
        (8, Some(10)),
        (1, Some(3)),
        (2, Some(3)),
        (1, Some(8000)),
        (3, Some(8000)),
        (7, Some(0)),
        (7, None),
        (1, Some(400)),
    ];
    let cases = areas.len().max(households.len());
    for i in 0..cases {
        let (area, target) = areas[i % areas.len()];
        let (signed, target_households) = households[i % households.len()];
        sqlx::query("DELETE FROM reporting_expropriation_progress")
            .execute(file.pool())
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO reporting_expropriation_progress (project_id, target_area_mu, target_households, \
             area_mu, households_signed, households_relocated, graves_moved, compensation_yuan, \
             land_delivered_mu, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, 0, '0.0000', 'x')",
        )
        .bind(&project)
        .bind(target)
        .bind(target_households)
        .bind(area)
        .bind(signed)
        .execute(file.pool())
        .await
        .unwrap();
        let lite: (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT area_completion_pct, households_completion_pct FROM reporting_expropriation_progress",
        )
        .fetch_one(file.pool())
        .await
        .unwrap();
        let want: (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT reporting.percent_of($1::numeric, $2::numeric)::text, \
                    reporting.percent_of($3::numeric, $4::numeric)::text",
        )
        .bind(area)
        .bind(target)
        .bind(signed)
        .bind(target_households)
        .fetch_one(&pg)
        .await
        .unwrap();
        assert_eq!(
            lite, want,
            "{area}/{target:?}, {signed}/{target_households:?}"
        );
    }

    for yuan in [
        0i64,
        1,
        9_999,
        10_000,
        123_456_789,
        4_999_999,
        5_000_000,
        9_999_999,
        10_000_000,
        99_999_999,
        100_000_000,
        999_999_999,
        1_000_000_000,
        -5,
        -123_456,
        9_000_000_000_000_000,
    ] {
        sqlx::query(
            "UPDATE reporting_projects SET cumulative_investment_yuan = ?1, \
             contract_investment_yuan = ?1 WHERE project_id = ?2",
        )
        .bind(yuan)
        .bind(&project)
        .execute(file.pool())
        .await
        .unwrap();
        let lite: (String, String) =
            sqlx::query_as("SELECT cumulative_investment_wan, size_class FROM reporting_projects")
                .fetch_one(file.pool())
                .await
                .unwrap();
        let want: (String, String) = sqlx::query_as(
            "SELECT ($1::bigint / 10000.0)::numeric(20, 4)::text, reporting.size_class($1)",
        )
        .bind(yuan)
        .fetch_one(&pg)
        .await
        .unwrap();
        assert_eq!(lite, want, "{yuan} yuan");
    }
    pg.close().await;
    db.drop_database().await;
    file.finish().await;
}
