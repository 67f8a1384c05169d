//! Test support (feature `conformance`): throw-away store files under the system temp directory
//! and the SQLite [`Harness`] for the conformance suite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde_json::Value;
use sqlx::SqlitePool;
use sqlx::sqlite::SqlitePoolOptions;
use tokio::sync::oneshot;

use super::{SqliteEventStore, SqliteStoreOptions, append, connect_options, migrate};
use crate::NewEvent;
use crate::canonical_json::jsonb_text;
use crate::conformance::{Harness, HeldAppend, StoreConfig};

/// A fresh path for a store file in the system temp directory (nothing is created yet).
pub fn temp_store_path() -> PathBuf {
    std::env::temp_dir().join(format!("tz_test_{}.sqlite3", uuid::Uuid::new_v4().simple()))
}

/// Removes a store file and its WAL and shared-memory files.
pub fn remove_store_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// Runs `sql` on `table` with its append-only triggers dropped and then recreated as they were,
/// in one transaction: tampering as someone with the file would, for tests of `verify`.
pub async fn without_triggers(pool: &SqlitePool, table: &str, sql: &str) {
    triggers_off(pool, Some(table), sql).await;
}

/// Runs `sql` with every trigger of the file dropped and recreated, in one transaction: the
/// file owner rewriting several tables at once.
pub async fn without_any_triggers(pool: &SqlitePool, sql: &str) {
    triggers_off(pool, None, sql).await;
}

async fn triggers_off(pool: &SqlitePool, table: Option<&str>, sql: &str) {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' \
         AND (?1 IS NULL OR tbl_name = ?1)",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert!(!triggers.is_empty(), "{table:?} has no triggers");
    for (name, _) in &triggers {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TRIGGER {name}")))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    for (_, create) in &triggers {
        sqlx::raw_sql(sqlx::AssertSqlSafe(create.clone()))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

/// A pool hook that closes connections opened before the harness's last kill.
fn keep_unless_killed(
    killed_at: Arc<Mutex<Option<Instant>>>,
) -> impl for<'c> Fn(
    &'c mut sqlx::SqliteConnection,
    sqlx::pool::PoolConnectionMetadata,
) -> BoxFuture<'c, Result<bool, sqlx::Error>>
+ Send
+ Sync
+ 'static {
    move |_, meta| {
        let killed = *killed_at.lock().unwrap();
        let opened = Instant::now().checked_sub(meta.age);
        let keep = match (killed, opened) {
            (Some(k), Some(o)) => o > k,
            _ => true,
        };
        Box::pin(async move { Ok(keep) })
    }
}

/// The conformance harness for SQLite: each store a file of its own. Call
/// [`SqliteHarness::cleanup`] at the end of a test to close the pools and remove the files (a
/// failed test leaves them, named `tz_test_….sqlite3`, for inspection).
#[derive(Default)]
pub struct SqliteHarness {
    stores: Mutex<Vec<(PathBuf, SqlitePool)>>,
    /// Connections opened before this instant are closed instead of being used again
    /// ([`Harness::kill_connections`]).
    killed_at: Arc<Mutex<Option<Instant>>>,
}

impl SqliteHarness {
    pub fn new() -> Self {
        SqliteHarness::default()
    }

    pub async fn cleanup(&self) {
        let stores = std::mem::take(&mut *self.stores.lock().unwrap());
        for (path, pool) in stores {
            pool.close().await;
            remove_store_files(&path);
        }
    }

    /// A pool on `path` whose connections [`Harness::kill_connections`] can close.
    pub async fn pool(&self, path: &Path, max_connections: u32) -> SqlitePool {
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .before_acquire(keep_unless_killed(self.killed_at.clone()))
            .after_release(keep_unless_killed(self.killed_at.clone()))
            .connect_with(connect_options(path))
            .await
            .unwrap_or_else(|e| panic!("cannot open SQLite file {}: {e}", path.display()));
        self.stores
            .lock()
            .unwrap()
            .push((path.to_owned(), pool.clone()));
        pool
    }

    /// The options every harness store gets (short intervals keep the tests quick).
    pub fn options(config: &StoreConfig) -> SqliteStoreOptions {
        SqliteStoreOptions {
            poll_interval: Duration::from_millis(150),
            retry_delay: Duration::from_millis(50),
            wake_subscribers: !config.notifications_off,
            ..SqliteStoreOptions::default()
        }
    }
}

impl Harness for SqliteHarness {
    type Store = SqliteEventStore;

    async fn fresh_with(&self, config: StoreConfig) -> SqliteEventStore {
        let path = temp_store_path();
        let pool = self.pool(&path, 8).await;
        migrate(&pool).await.unwrap();
        SqliteEventStore::new(pool)
            .with_options(Self::options(&config))
            .with_upcasters(config.upcasters)
    }

    /// SQLite has one writer: the held append keeps the write lock, and every other append waits
    /// for it (see [`Harness::writers_run_concurrently`]).
    fn writers_run_concurrently(&self) -> bool {
        false
    }

    async fn hold_append(
        &self,
        store: &SqliteEventStore,
        stream: &str,
        event: NewEvent,
    ) -> HeldAppend {
        // Like another process: its own connection, outside this store's writer queue.
        let pool = store.pool().clone();
        let stream = stream.to_owned();
        let (taken_tx, taken_rx) = oneshot::channel();
        let (decide, decision) = oneshot::channel::<bool>();
        let done = tokio::spawn(async move {
            let prepared = append::prepare(&stream, vec![event]).unwrap();
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
            append::append_in(
                &mut tx,
                &stream,
                crate::ExpectedVersion::NoStream,
                &prepared,
            )
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

    /// SQLite has no server to kill connections on. The nearest failure: every connection the
    /// store's pool holds is closed (idle ones at their next use, busy ones when they come back)
    /// and replaced by a new one, and the WAL is checkpointed and truncated under them, as another
    /// process may do at any time.
    async fn kill_connections(&self, store: &SqliteEventStore) {
        *self.killed_at.lock().unwrap() = Some(Instant::now());
        let path = store.pool().connect_options().get_filename().to_owned();
        let mut conn = sqlx::ConnectOptions::connect(&connect_options(&path))
            .await
            .unwrap();
        // Busy readers may keep it from truncating; that is fine, it is only a disturbance.
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await;
        sqlx::Connection::close(conn).await.unwrap();
    }

    async fn tamper_data(&self, store: &SqliteEventStore, stream: &str, version: u64, data: Value) {
        let text = jsonb_text(&data).unwrap().replace('\'', "''");
        let stream = stream.replace('\'', "''");
        without_triggers(
            store.pool(),
            "events",
            &format!("UPDATE events SET data = '{text}' WHERE stream = '{stream}' AND version = {version}"),
        )
        .await;
    }
}
