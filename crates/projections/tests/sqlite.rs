//! SQLite only: a rebuild beside the live runner, and the generated columns computing what
//! PostgreSQL computes. (The runtime itself is tested once per backend in runtime.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use eventstore::postgres::testing::TestDatabase;
use eventstore::sqlite::testing::{remove_store_files, temp_store_path};
use eventstore::{
    EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent, SqliteEventStore,
    SqliteStoreOptions,
};
use projections::sqlite::{rebuild, wait_for};
use projections::{Projection, ProjectionError, Projectors, RunnerOptions, Tx, shared};
use serde_json::json;
use sqlx::{AssertSqlSafe, SqlitePool};

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

impl Projection for Logger {
    fn name(&self) -> &'static str {
        self.name
    }

    fn tables(&self) -> &'static [&'static str] {
        logger_tables(self.name)
    }

    async fn apply_batch(
        &self,
        tx: &mut Tx<'_>,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let Tx::Sqlite(tables) = tx else {
            return Err(ProjectionError::batch("this logger runs on SQLite"));
        };
        let table = format!("{}{}_applied", tables.prefix(), self.name);
        for e in events {
            if self.poisoned && e.event_type == "Poison" {
                return Err(ProjectionError::at(e, "cannot apply a Poison event"));
            }
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {table} (event_id, position) VALUES (?1, ?2)"
            )))
            .bind(e.id.to_string())
            .bind(e.position.commit as i64)
            .execute(tables.conn())
            .await?;
        }
        Ok(())
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

    async fn finish(self) {
        self.store.pool().close().await;
        remove_store_files(&self.path);
    }
}

#[tokio::test]
async fn a_rebuild_beside_a_live_runner_swaps_in_every_event_exactly_once() {
    let file = File::new(&["e"]).await;
    for i in 0..40 {
        file.append(&format!("thing-{}", i % 3), "Counted").await;
    }
    let live = Projectors::start_sqlite(
        &file.store,
        vec![shared(Logger {
            name: "e",
            poisoned: false,
        })],
        RunnerOptions {
            poll_interval: Duration::from_millis(30),
            ..RunnerOptions::default()
        },
    )
    .unwrap();
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
    let logger = shared(Logger {
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
    live.shutdown().await;
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
