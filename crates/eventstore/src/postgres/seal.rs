//! Writing seals.

use sqlx::{PgPool, Row};
use time::OffsetDateTime;

use super::errors::to_u64;
use crate::hash;
use crate::{Position, Seal, StoreError};

/// The next seal, computed and written by `eventstore.seal()` (migrations/postgres/0201): the
/// service role may not insert seals itself, so a seal always covers what the events say. The
/// formulas are those of `crate::hash`, which verify recomputes.
pub(crate) async fn seal(pool: &PgPool) -> Result<Option<Seal>, StoreError> {
    let row = sqlx::query(
        "SELECT seal_no, from_commit, from_prepare, to_commit, to_prepare, event_count, digest, \
         prev_hash, hash, sealed_at FROM eventstore.seal()",
    )
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let seal = seal_of(&r)?;
    tracing::info!(seal_no = seal.seal_no, event_count = seal.event_count, to = %seal.to, "sealed $all");
    Ok(Some(seal))
}

/// A seal as `eventstore.seals` (and `eventstore.seal()`) hold it.
pub(crate) fn seal_of(r: &sqlx::postgres::PgRow) -> Result<Seal, StoreError> {
    let h = |col: &str| -> Result<[u8; 32], StoreError> {
        let v: Vec<u8> = r.try_get(col)?;
        hash::to_hash(&v)
            .ok_or_else(|| StoreError::Corrupt(format!("seal {col} of {} bytes", v.len())))
    };
    Ok(Seal {
        seal_no: to_u64(r.try_get("seal_no")?, "seal number")?,
        from: Position {
            commit: to_u64(r.try_get("from_commit")?, "seal position")?,
            prepare: r.try_get("from_prepare")?,
        },
        to: Position {
            commit: to_u64(r.try_get("to_commit")?, "seal position")?,
            prepare: r.try_get("to_prepare")?,
        },
        event_count: to_u64(r.try_get("event_count")?, "event count")?,
        digest: h("digest")?,
        prev_hash: h("prev_hash")?,
        hash: h("hash")?,
        sealed_at: r.try_get::<OffsetDateTime, _>("sealed_at")?,
    })
}

/// Committed events after the last seal, whether or not $all shows them yet (an older
/// transaction elsewhere can hold them below the visibility horizon, out of a seal's reach).
pub(crate) async fn unsealed(pool: &PgPool) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM eventstore.events e WHERE NOT EXISTS (SELECT 1 FROM eventstore.seals s \
         WHERE (e.tx_id, e.position) <= (s.to_commit::text::xid8, s.to_prepare))",
    )
    .fetch_one(pool)
    .await?;
    to_u64(n, "event count")
}
