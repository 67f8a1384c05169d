//! Writing seals on SQLite. A seal runs in `BEGIN IMMEDIATE`, like an append: with the write lock
//! held no event can commit into the range being sealed, and sealers in other processes queue.

use futures::TryStreamExt;
use sqlx::{Row, SqlitePool};
use time::OffsetDateTime;

use super::position_of;
use crate::error::to_i64;
use crate::hash::{self, RangeDigest, SealInput};
use crate::seal::{LastSealRow, next_seal_start};
use crate::verify::micros;
use crate::{Seal, StoreError};

pub(crate) async fn seal(pool: &SqlitePool) -> Result<Option<Seal>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let last: Option<LastSealRow> = sqlx::query_as(
        "SELECT seal_no, to_commit, to_prepare, hash FROM seals ORDER BY seal_no DESC LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let (seal_no, from, prev_hash) = next_seal_start(last)?;

    let mut digest = RangeDigest::default();
    let mut to = from;
    {
        let mut rows =
            sqlx::query("SELECT position, hash FROM events WHERE position >= ?1 ORDER BY position")
                .bind(super::first_after(from))
                .fetch(&mut *tx);
        while let Some(r) = rows.try_next().await? {
            let h: Vec<u8> = r.try_get("hash")?;
            digest.push(&h);
            to = position_of(r.try_get("position")?)?;
        }
    }
    if digest.count() == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    let event_count = digest.count();
    let digest = digest.finish();
    let seal_hash = hash::seal_hash(
        &prev_hash,
        &SealInput {
            seal_no,
            from,
            to,
            event_count,
            digest: &digest,
        },
    );
    let sealed_at_micros = micros(OffsetDateTime::now_utc());
    sqlx::query(
        "INSERT INTO seals (seal_no, from_commit, from_prepare, to_commit, to_prepare, \
         event_count, digest, prev_hash, hash, sealed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .bind(to_i64(seal_no, "seal number")?)
    .bind(to_i64(from.commit, "commit position")?)
    .bind(from.prepare)
    .bind(to_i64(to.commit, "commit position")?)
    .bind(to.prepare)
    .bind(to_i64(event_count, "event count")?)
    .bind(&digest[..])
    .bind(&prev_hash[..])
    .bind(&seal_hash[..])
    .bind(sealed_at_micros)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(seal_no, event_count, %to, "sealed $all");
    Ok(Some(Seal {
        seal_no,
        from,
        to,
        event_count,
        digest,
        prev_hash,
        hash: seal_hash,
        sealed_at: super::read::from_micros(sealed_at_micros)?,
    }))
}

/// Committed events after the last seal.
pub(crate) async fn unsealed(pool: &SqlitePool) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE position > coalesce((SELECT max(to_prepare) FROM seals), 0)",
    )
    .fetch_one(pool)
    .await?;
    crate::error::to_u64(n, "event count")
}
