//! Writing seals.

use futures::TryStreamExt;
use sqlx::{PgPool, Row};
use time::OffsetDateTime;

use super::errors::{to_i64, to_u64};
use crate::hash::{self, RangeDigest, SealInput};
use crate::seal::{LastSealRow, next_seal_start};
use crate::{Position, Seal, StoreError};

/// Serialises sealers across processes (arbitrary constant: "taizhang seal").
const SEAL_LOCK: i64 = 0x7a68_5365_616c;

pub(crate) async fn seal(pool: &PgPool) -> Result<Option<Seal>, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SEAL_LOCK)
        .execute(&mut *tx)
        .await?;
    let last: Option<LastSealRow> = sqlx::query_as(
        "SELECT seal_no, to_commit, to_prepare, hash FROM eventstore.seals ORDER BY seal_no DESC LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let (seal_no, from, prev_hash) = next_seal_start(last)?;

    // Same visibility rule as $all: a sealed range can never gain a late-committing event.
    let mut digest = RangeDigest::default();
    let mut to = from;
    {
        let mut rows = sqlx::query(
            "SELECT tx_id::text::bigint AS commit_pos, position, hash FROM eventstore.events \
             WHERE (tx_id, position) > ($1::text::xid8, $2) \
               AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY tx_id, position",
        )
        .bind(to_i64(from.commit, "commit position")?.to_string())
        .bind(from.prepare)
        .fetch(&mut *tx);
        while let Some(r) = rows.try_next().await? {
            let h: Vec<u8> = r.try_get("hash")?;
            digest.push(&h);
            to = Position {
                commit: to_u64(r.try_get("commit_pos")?, "transaction id")?,
                prepare: r.try_get("position")?,
            };
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
    // Microsecond precision, as stored, so the returned seal equals the one read back.
    let now = OffsetDateTime::now_utc();
    let sealed_at = now
        .replace_nanosecond(now.nanosecond() / 1000 * 1000)
        .unwrap_or(now);
    sqlx::query(
        "INSERT INTO eventstore.seals (seal_no, from_commit, from_prepare, to_commit, to_prepare, \
         event_count, digest, prev_hash, hash, sealed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
    .bind(sealed_at)
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
        sealed_at,
    }))
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
