//! Test support (feature `conformance`): throw-away databases cloned from a migrated template,
//! and the PostgreSQL [`Harness`] for the conformance suite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use tokio::sync::{OnceCell, oneshot};

use super::{MIGRATOR, NotifyMode, PgEventStore, PgStoreOptions};
use crate::NewEvent;
use crate::conformance::{Harness, HeldAppend, StoreConfig};

/// The server tests use: `DATABASE_URL`, else the machine's local PostgreSQL.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` pointing at database `name` instead.
pub fn url_with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A connection to the server's maintenance database, or a panic that says how to start one.
pub async fn admin_connection() -> PgConnection {
    let url = database_url();
    match PgConnection::connect(&url).await {
        Ok(c) => c,
        Err(e) => panic!(
            "cannot connect to PostgreSQL at {url}: {e}\n\
             Start the local server with:\n  \
             pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
             or point DATABASE_URL at another PostgreSQL 15+ server (superuser, for CREATE DATABASE)."
        ),
    }
}

/// The migrated template's name depends on the migrations, so a changed migration gets a new one
/// and concurrent test binaries share an unchanged one.
fn template_name() -> String {
    let mut h = Sha256::new();
    for m in MIGRATOR.iter() {
        h.update(m.version.to_le_bytes());
        h.update(&m.checksum);
    }
    format!("tz_template_{}", &hex::encode(h.finalize())[..16])
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = template_name();
            let mut admin = admin_connection().await;
            // Serialise builders across test binaries; build under a temporary name and rename,
            // so a half-built template is never used.
            sqlx::query("SELECT pg_advisory_lock(7411001)")
                .execute(&mut admin)
                .await
                .unwrap();
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                    .bind(&name)
                    .fetch_one(&mut admin)
                    .await
                    .unwrap();
            if !exists {
                let building = format!("{name}_building");
                exec(&mut admin, &format!("DROP DATABASE IF EXISTS {building}")).await;
                exec(&mut admin, &format!("CREATE DATABASE {building}")).await;
                let url = url_with_database(&database_url(), &building);
                // A pool rather than a connection: Migrator::run on `&mut PgConnection` makes
                // this future not `Send`.
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&url)
                    .await
                    .unwrap();
                MIGRATOR.run(&pool).await.unwrap();
                pool.close().await;
                exec(
                    &mut admin,
                    &format!("ALTER DATABASE {building} RENAME TO {name}"),
                )
                .await;
            }
            sqlx::query("SELECT pg_advisory_unlock(7411001)")
                .execute(&mut admin)
                .await
                .unwrap();
            name
        })
        .await
}

async fn exec(conn: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A database of its own for one test.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// A fresh database with the store's migrations applied.
    pub async fn migrated() -> TestDatabase {
        let template = template().await;
        Self::create(&format!("TEMPLATE {template}")).await
    }

    /// A fresh database without any migration.
    pub async fn empty() -> TestDatabase {
        Self::create("").await
    }

    async fn create(clause: &str) -> TestDatabase {
        let name = format!("tz_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_connection().await;
        exec(&mut admin, &format!("CREATE DATABASE {name} {clause}")).await;
        let url = url_with_database(&database_url(), &name);
        TestDatabase { name, url }
    }

    pub async fn pool(&self, max_connections: u32) -> PgPool {
        let options: PgConnectOptions = self.url.parse().unwrap();
        PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options.disable_statement_logging())
            .await
            .unwrap()
    }

    /// Drops the database, ending any connection still open to it.
    pub async fn drop_database(&self) {
        let mut admin = admin_connection().await;
        exec(
            &mut admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        )
        .await;
    }
}

/// The conformance harness for PostgreSQL. Call [`PgHarness::cleanup`] at the end of a test to drop
/// the databases it made (a failed test leaves them, named `tz_test_…`, for inspection).
#[derive(Default)]
pub struct PgHarness {
    databases: Mutex<Vec<TestDatabase>>,
    notify: Option<NotifyMode>,
}

impl PgHarness {
    pub fn new() -> Self {
        PgHarness::default()
    }

    /// Stores that wake subscribers this way (default: [`PgStoreOptions`]'s).
    pub fn with_notify(notify: NotifyMode) -> Self {
        PgHarness {
            notify: Some(notify),
            ..PgHarness::default()
        }
    }

    pub async fn cleanup(&self) {
        let dbs = std::mem::take(&mut *self.databases.lock().unwrap());
        for db in dbs {
            db.drop_database().await;
        }
    }

    fn database_of(&self, store: &PgEventStore) -> String {
        store
            .pool()
            .connect_options()
            .get_database()
            .expect("test stores name their database")
            .to_owned()
    }
}

impl Harness for PgHarness {
    type Store = PgEventStore;

    async fn fresh_with(&self, config: StoreConfig) -> PgEventStore {
        let db = TestDatabase::migrated().await;
        if config.notifications_off {
            let mut admin = admin_connection().await;
            exec(
                &mut admin,
                &format!("ALTER DATABASE {} SET eventstore.notify = 'off'", db.name),
            )
            .await;
        }
        let pool = db.pool(12).await;
        self.databases.lock().unwrap().push(db);
        PgEventStore::new(pool)
            .with_upcasters(config.upcasters)
            .with_options(PgStoreOptions {
                poll_interval: Duration::from_millis(150),
                retry_delay: Duration::from_millis(50),
                notify: if config.notifications_off {
                    NotifyMode::Off
                } else {
                    self.notify.unwrap_or(PgStoreOptions::default().notify)
                },
                ..PgStoreOptions::default()
            })
    }

    async fn hold_append(&self, store: &PgEventStore, stream: &str, event: NewEvent) -> HeldAppend {
        let pool = store.pool().clone();
        let stream = stream.to_owned();
        let (taken_tx, taken_rx) = oneshot::channel();
        let (decide, decision) = oneshot::channel::<bool>();
        let done = tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query(
                "SELECT * FROM eventstore.append($1, -1, ARRAY[$2]::uuid[], ARRAY[$3]::text[], \
                 ARRAY[$4]::integer[], ARRAY[$5]::jsonb[], ARRAY[$6]::jsonb[])",
            )
            .bind(&stream)
            .bind(event.id)
            .bind(&event.event_type)
            .bind(i32::try_from(event.schema_version).unwrap())
            .bind(&event.data)
            .bind(&event.metadata)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
            taken_tx.send(()).unwrap();
            if decision.await.unwrap_or(false) {
                tx.commit().await.unwrap();
            } else {
                tx.rollback().await.unwrap();
            }
        });
        taken_rx.await.expect("held append failed");
        HeldAppend { decide, done }
    }

    async fn kill_connections(&self, store: &PgEventStore) {
        let name = self.database_of(store);
        let mut admin = admin_connection().await;
        let killed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()) k",
        )
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
        tracing::info!(killed, database = %name, "killed connections");
    }

    async fn tamper_data(&self, store: &PgEventStore, stream: &str, version: u64, data: Value) {
        let mut tx = store.pool().begin().await.unwrap();
        exec(
            &mut tx,
            "ALTER TABLE eventstore.events DISABLE TRIGGER events_append_only",
        )
        .await;
        let changed = sqlx::query(
            "UPDATE eventstore.events SET data = $1 WHERE stream = $2 AND version = $3",
        )
        .bind(&data)
        .bind(stream)
        .bind(i64::try_from(version).unwrap())
        .execute(&mut *tx)
        .await
        .unwrap();
        assert_eq!(changed.rows_affected(), 1);
        exec(
            &mut tx,
            "ALTER TABLE eventstore.events ENABLE TRIGGER events_append_only",
        )
        .await;
        tx.commit().await.unwrap();
    }
}
