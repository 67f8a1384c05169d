//! Importing into an empty SQLite store: one `BEGIN IMMEDIATE` transaction holding the write lock
//! (and this process's writer queue) from the emptiness check to the commit, so no append can slip
//! in between; readers go on and see nothing of it before the commit.

use std::sync::Arc;

use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::position_of;
use crate::StoreError;
use crate::canonical_json::jsonb_text;
use crate::error::{to_i64, to_u64};
use crate::import::{AllHead, ChainCheck, ImportEvent, ImportSummary, Importer};
use crate::stream_name::category_of;
use crate::verify::micros;

/// An import in progress on SQLite. Dropping it rolls back and lets appends go on.
pub struct SqliteImporter {
    tx: Transaction<'static, Sqlite>,
    chain: ChainCheck,
    store: super::SqliteEventStore,
    // Declared last so it is released after the transaction has been rolled back on drop.
    _writer: OwnedMutexGuard<()>,
}

impl std::fmt::Debug for SqliteImporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteImporter")
            .field("events", &self.chain.events())
            .finish()
    }
}

pub(crate) async fn begin(store: &super::SqliteEventStore) -> Result<SqliteImporter, StoreError> {
    let writer: Arc<Mutex<()>> = store.shared.writer.clone();
    let guard = writer.lock_owned().await;
    let mut tx = store.pool.begin_with("BEGIN IMMEDIATE").await?;
    let row = sqlx::query(
        "SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM streams) AS streams, \
                (SELECT count(*) FROM seals) AS seals",
    )
    .fetch_one(&mut *tx)
    .await?;
    let (events, streams, seals) = (
        to_u64(row.try_get("events")?, "event count")?,
        to_u64(row.try_get("streams")?, "stream count")?,
        to_u64(row.try_get("seals")?, "seal count")?,
    );
    if events + streams + seals > 0 {
        return Err(StoreError::NotEmpty {
            events,
            streams,
            seals,
        });
    }
    Ok(SqliteImporter {
        tx,
        chain: ChainCheck::new(),
        store: store.clone(),
        _writer: guard,
    })
}

impl Importer for SqliteImporter {
    async fn write(&mut self, batch: Vec<ImportEvent>) -> Result<(), StoreError> {
        for e in batch {
            // Checks version and hash against the jsonb text that is stored below.
            self.chain.check(&e)?;
            let bad =
                |what: &str, err: crate::canonical_json::JsonbTextError| StoreError::BrokenChain {
                    stream: e.stream.clone(),
                    version: e.version,
                    problem: format!("{what}: {err}"),
                };
            let data = jsonb_text(&e.data).map_err(|err| bad("data", err))?;
            let metadata = jsonb_text(&e.metadata).map_err(|err| bad("metadata", err))?;
            let recorded_at = micros(e.recorded_at);
            let version = to_i64(e.version, "version")?;
            sqlx::query(
                "INSERT INTO events (event_id, stream, version, category, event_type, \
                 schema_version, data, metadata, recorded_at, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .bind(e.id)
            .bind(&e.stream)
            .bind(version)
            .bind(category_of(&e.stream))
            .bind(&e.event_type)
            .bind(i64::from(e.schema_version))
            .bind(&data)
            .bind(&metadata)
            .bind(recorded_at)
            .bind(&e.hash[..])
            .execute(&mut *self.tx)
            .await
            .map_err(|error| match &error {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::ImportRefused(format!(
                        "event id {} appears twice (stream {} version {})",
                        e.id, e.stream, e.version
                    ))
                }
                _ => error.into(),
            })?;
            sqlx::query(
                "INSERT INTO streams (name, version, last_hash, created_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (name) DO UPDATE SET version = excluded.version, \
                 last_hash = excluded.last_hash",
            )
            .bind(&e.stream)
            .bind(version)
            .bind(&e.hash[..])
            .bind(recorded_at)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    async fn commit(self) -> Result<ImportSummary, StoreError> {
        let SqliteImporter {
            tx,
            chain,
            store,
            _writer,
        } = self;
        tx.commit().await?;
        drop(_writer);
        store.wake_subscribers();
        Ok(chain.finish())
    }
}

/// The count and end of $all, in one statement (one snapshot).
pub(crate) async fn all_head(pool: &SqlitePool) -> Result<AllHead, StoreError> {
    let row = sqlx::query("SELECT count(*) AS events, max(position) AS last FROM events")
        .fetch_one(pool)
        .await?;
    let last: Option<i64> = row.try_get("last")?;
    Ok(AllHead {
        events: to_u64(row.try_get("events")?, "event count")?,
        last: last.map(position_of).transpose()?,
    })
}
