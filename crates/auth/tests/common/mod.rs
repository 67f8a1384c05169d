//! One token store per test on either backend, and a macro that instantiates a test suite on both:
//! the same assertions must hold on PostgreSQL (a throw-away `tz_test_…` database, see
//! eventstore::postgres::testing, which says how to start the local server) and on SQLite (a
//! throw-away file under the temp directory, migrated by `SqliteEventStore`).
// Each test binary uses a different part of this module.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use auth::Tokens;
use eventstore::postgres::testing::TestDatabase;
use eventstore::sqlite::testing::{remove_store_files, temp_store_path};
use eventstore::{AnyEventStore, Backend, Database, PgEventStore, SqliteEventStore};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{PgPool, SqlitePool};

/// Instantiates `async fn name(backend: Backend)` tests once per backend, as
/// `postgres::name` and `sqlite::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(eventstore::Backend::Postgres).await
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(eventstore::Backend::Sqlite).await
                }
            )*
        }
    };
}

/// A migrated, empty database of one test's own.
pub enum Fixture {
    Postgres {
        db: TestDatabase,
        pool: PgPool,
    },
    Sqlite {
        path: PathBuf,
        store: SqliteEventStore,
    },
}

impl Fixture {
    pub async fn new(backend: Backend) -> Fixture {
        match backend {
            Backend::Postgres => {
                let db = TestDatabase::migrated().await;
                let pool = db.pool(4).await;
                Fixture::Postgres { db, pool }
            }
            Backend::Sqlite => {
                let path = temp_store_path();
                let store = SqliteEventStore::open(&path, 4).await.unwrap();
                Fixture::Sqlite { path, store }
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Fixture::Postgres { .. } => Backend::Postgres,
            Fixture::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// The event store of this process.
    pub fn store(&self) -> AnyEventStore {
        match self {
            Fixture::Postgres { pool, .. } => PgEventStore::new(pool.clone()).into(),
            Fixture::Sqlite { store, .. } => store.clone().into(),
        }
    }

    pub fn database(&self) -> Database {
        self.store().database()
    }

    /// Tokens as the server holds them (on SQLite, through the store's writer queue).
    pub fn tokens(&self) -> Tokens {
        Tokens::for_store(&self.store())
    }

    /// A pool of its own to the same database, as another process would open.
    pub async fn other_process(&self) -> Database {
        match self {
            Fixture::Postgres { db, .. } => Database::Postgres(db.pool(2).await),
            Fixture::Sqlite { path, .. } => Database::Sqlite(sqlite_pool(path).await),
        }
    }

    /// The token table's name.
    pub fn table(&self) -> &'static str {
        match self {
            Fixture::Postgres { .. } => "auth.tokens",
            Fixture::Sqlite { .. } => "auth_tokens",
        }
    }

    /// Runs `sql` as the database's owner (PostgreSQL: the superuser; SQLite: whoever can write
    /// the file); a refusal comes back as PostgreSQL's SQLSTATE or SQLite's message.
    pub async fn exec(&self, sql: &str) -> Result<(), String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let result = match self {
            Fixture::Postgres { pool, .. } => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
            Fixture::Sqlite { store, .. } => {
                sqlx::raw_sql(sql).execute(store.pool()).await.map(|_| ())
            }
        };
        result.map_err(|e| match (self, e.as_database_error()) {
            (Fixture::Postgres { .. }, Some(d)) => d
                .code()
                .map(|c| c.into_owned())
                .unwrap_or_else(|| d.message().to_owned()),
            (_, Some(d)) => d.message().to_owned(),
            (_, None) => e.to_string(),
        })
    }

    /// Whether `err` (from [`Fixture::exec`]) is the token table's guard refusing a change.
    pub fn is_guard_refusal(&self, err: &str) -> bool {
        match self {
            Fixture::Postgres { .. } => err == "TZ201",
            Fixture::Sqlite { .. } => {
                err == "auth_tokens rows are only ever revoked, never changed or deleted"
            }
        }
    }

    /// Every stored token row as text, each with its stored hash.
    pub async fn token_rows(&self) -> Vec<(String, Vec<u8>)> {
        match self {
            Fixture::Postgres { pool, .. } => {
                sqlx::query_as("SELECT t::text, secret_hash FROM auth.tokens t")
                    .fetch_all(pool)
                    .await
                    .unwrap()
            }
            Fixture::Sqlite { store, .. } => sqlx::query_as(
                "SELECT json_array(token_id, name, role, units, quote(secret_hash), expires_at, \
                        created_at, created_by, revoked_at, revoked_by), secret_hash \
                 FROM auth_tokens",
            )
            .fetch_all(store.pool())
            .await
            .unwrap(),
        }
    }

    /// Every stored event as text, in $all order.
    pub async fn event_rows(&self) -> Vec<String> {
        match self {
            Fixture::Postgres { pool, .. } => {
                sqlx::query_scalar("SELECT e::text FROM eventstore.events e ORDER BY position")
                    .fetch_all(pool)
                    .await
                    .unwrap()
            }
            Fixture::Sqlite { store, .. } => sqlx::query_scalar(
                "SELECT json_array(position, hex(event_id), stream, version, event_type, data, \
                        metadata, recorded_at, hex(hash)) FROM events ORDER BY position",
            )
            .fetch_all(store.pool())
            .await
            .unwrap(),
        }
    }

    /// Stored token rows plus stored events.
    pub async fn rows_written(&self) -> i64 {
        let sql = match self {
            Fixture::Postgres { .. } => {
                "SELECT (SELECT count(*) FROM auth.tokens) + (SELECT count(*) FROM eventstore.events)"
            }
            Fixture::Sqlite { .. } => {
                "SELECT (SELECT count(*) FROM auth_tokens) + (SELECT count(*) FROM events)"
            }
        };
        match self {
            Fixture::Postgres { pool, .. } => {
                sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
            }
            Fixture::Sqlite { store, .. } => sqlx::query_scalar(sql)
                .fetch_one(store.pool())
                .await
                .unwrap(),
        }
    }

    /// Drops the database or removes the file (a failed test leaves it for inspection).
    pub async fn cleanup(self) {
        match self {
            Fixture::Postgres { db, pool } => {
                pool.close().await;
                db.drop_database().await;
            }
            Fixture::Sqlite { path, store } => {
                store.pool().close().await;
                remove_store_files(&path);
            }
        }
    }
}

/// A pool to an existing store file with the store's connection settings.
pub async fn sqlite_pool(path: &std::path::Path) -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(eventstore::sqlite::connect_options(path))
        .await
        .unwrap()
}
