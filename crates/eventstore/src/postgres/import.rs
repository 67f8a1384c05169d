//! Importing into an empty store: one transaction, `eventstore.import_events` per batch
//! (migrations/postgres/0003_eventstore_import.sql explains the privileges).

use serde_json::Value;
use sqlx::{PgPool, Postgres, Row, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::errors::{to_i64, to_u64};
use crate::import::{AllHead, ChainCheck, ImportEvent, ImportSummary, Importer, require_empty};
use crate::{Position, StoreError};

/// SQLSTATE of a broken chain found by `eventstore.import_events`.
const BROKEN_CHAIN: &str = "TZ005";
const UNIQUE_VIOLATION: &str = "23505";

/// An import in progress on PostgreSQL: an open transaction holding EXCLUSIVE locks on the event
/// and stream tables. Dropping it rolls back.
pub struct PgImporter {
    tx: Transaction<'static, Postgres>,
    chain: ChainCheck,
}

pub(crate) async fn begin(pool: &PgPool) -> Result<PgImporter, StoreError> {
    let mut tx = pool.begin().await?;
    // EXCLUSIVE conflicts with every lock an append takes (the stream row's FOR UPDATE, inserts
    // into streams and events) but not with plain reads: appends wait until the import ends,
    // readers go on (and see nothing of it before the commit). Seals are locked too, so no seal
    // is written into a store that is being filled. Taken before the emptiness check, so nothing
    // can be appended between the check and the import's first event.
    sqlx::query(
        "LOCK TABLE eventstore.streams, eventstore.events, eventstore.seals IN EXCLUSIVE MODE",
    )
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query(
        "SELECT (SELECT count(*) FROM eventstore.events) AS events, \
                (SELECT count(*) FROM eventstore.streams) AS streams, \
                (SELECT count(*) FROM eventstore.seals) AS seals",
    )
    .fetch_one(&mut *tx)
    .await?;
    require_empty(
        row.try_get("events")?,
        row.try_get("streams")?,
        row.try_get("seals")?,
    )?;
    sqlx::query("SELECT set_config('eventstore.importing', 'on', true)")
        .execute(&mut *tx)
        .await?;
    Ok(PgImporter {
        tx,
        chain: ChainCheck::new(),
    })
}

impl Importer for PgImporter {
    async fn write(&mut self, batch: Vec<ImportEvent>) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let n = batch.len();
        let mut ids: Vec<Uuid> = Vec::with_capacity(n);
        let mut streams: Vec<String> = Vec::with_capacity(n);
        let mut versions: Vec<i64> = Vec::with_capacity(n);
        let mut types: Vec<String> = Vec::with_capacity(n);
        let mut schema_versions: Vec<i32> = Vec::with_capacity(n);
        let mut data: Vec<Value> = Vec::with_capacity(n);
        let mut metadata: Vec<Value> = Vec::with_capacity(n);
        let mut recorded_at: Vec<OffsetDateTime> = Vec::with_capacity(n);
        let mut hashes: Vec<Vec<u8>> = Vec::with_capacity(n);
        for e in batch {
            // The Rust check names the problem precisely; the SQL function repeats the hash check
            // over the jsonb text as stored.
            self.chain.check(&e)?;
            ids.push(e.id);
            versions.push(to_i64(e.version, "version")?);
            streams.push(e.stream);
            types.push(e.event_type);
            schema_versions.push(i32::try_from(e.schema_version).map_err(|_| {
                StoreError::ImportRefused(format!(
                    "schema version {} is out of range",
                    e.schema_version
                ))
            })?);
            data.push(e.data);
            metadata.push(e.metadata);
            recorded_at.push(e.recorded_at);
            hashes.push(e.hash.to_vec());
        }
        sqlx::query("SELECT eventstore.import_events($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&ids)
            .bind(&streams)
            .bind(&versions)
            .bind(&types)
            .bind(&schema_versions)
            .bind(&data)
            .bind(&metadata)
            .bind(&recorded_at)
            .bind(&hashes)
            .execute(&mut *self.tx)
            .await
            .map_err(map_import_error)?;
        Ok(())
    }

    async fn commit(mut self) -> Result<ImportSummary, StoreError> {
        // One wake-up for subscribers when the import becomes visible (they poll anyway).
        sqlx::query("SELECT pg_notify($1, 'import')")
            .bind(super::NOTIFY_CHANNEL)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(self.chain.finish())
    }
}

fn map_import_error(error: sqlx::Error) -> StoreError {
    let sqlx::Error::Database(db) = &error else {
        return error.into();
    };
    match db.code().as_deref() {
        Some(BROKEN_CHAIN) => {
            let detail = db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|e| e.detail())
                .unwrap_or_default();
            let (stream, version) = detail.split_once('\n').unwrap_or((detail, ""));
            StoreError::BrokenChain {
                stream: stream.to_owned(),
                version: version.parse().unwrap_or_default(),
                problem: db.message().to_owned(),
            }
        }
        Some(UNIQUE_VIOLATION) => {
            StoreError::ImportRefused(format!("an event id appears twice ({})", db.message()))
        }
        _ => error.into(),
    }
}

/// The count and end of $all below the visibility horizon, in one statement (one snapshot).
pub(crate) async fn all_head(pool: &PgPool) -> Result<AllHead, StoreError> {
    let row = sqlx::query(
        "WITH v AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon) \
         SELECT (SELECT count(*) FROM eventstore.events, v WHERE tx_id < v.horizon) AS events, \
                last.commit_pos, last.position AS prepare_pos \
         FROM v LEFT JOIN LATERAL ( \
             SELECT tx_id::text::bigint AS commit_pos, position FROM eventstore.events \
             WHERE tx_id < v.horizon ORDER BY tx_id DESC, position DESC LIMIT 1) last ON true",
    )
    .fetch_one(pool)
    .await?;
    let events = to_u64(row.try_get("events")?, "event count")?;
    let commit: Option<i64> = row.try_get("commit_pos")?;
    let prepare: Option<i64> = row.try_get("prepare_pos")?;
    let last = match (commit, prepare) {
        (Some(commit), Some(prepare)) => Some(Position {
            commit: to_u64(commit, "transaction id")?,
            prepare,
        }),
        _ => None,
    };
    Ok(AllHead { events, last })
}
