//! Verification on PostgreSQL: feeds the stored rows to the neutral checkers in crate::verify,
//! all inside one repeatable-read snapshot so concurrent appends cannot cause false alarms.

use futures::TryStreamExt;
use sqlx::{PgPool, Row};

use super::errors::{to_i64, to_u64};
use crate::verify::{Mismatch, StoredEvent, StreamChainChecker, VerifyReport, check_seals};
use crate::{Position, Seal, StoreError};

pub(crate) async fn verify(pool: &PgPool) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;

    // 1. Every stream's chain, in (stream, version) order.
    {
        let mut checker = StreamChainChecker::default();
        let mut rows = sqlx::query(
            "SELECT event_id, stream, version, event_type, schema_version, data::text AS data, \
             metadata::text AS metadata, recorded_at, tx_id::text::bigint AS commit_pos, position, hash \
             FROM eventstore.events ORDER BY stream, version",
        )
        .fetch(&mut *tx);
        while let Some(r) = rows.try_next().await? {
            let e = StoredEvent {
                id: r.try_get("event_id")?,
                stream: r.try_get("stream")?,
                version: r.try_get("version")?,
                event_type: r.try_get("event_type")?,
                schema_version: r.try_get("schema_version")?,
                data: r.try_get("data")?,
                metadata: r.try_get("metadata")?,
                recorded_at: r.try_get("recorded_at")?,
                position: Position {
                    commit: to_u64(r.try_get("commit_pos")?, "transaction id")?,
                    prepare: r.try_get("position")?,
                },
                hash: r.try_get("hash")?,
            };
            checker.push(&e, &mut report);
        }
    }

    // 2. Stream heads agree with the last event (catches a removed last event).
    {
        let rows = sqlx::query(
            "SELECT coalesce(s.name, e.stream) AS stream, s.version AS head_version, \
                    e.version AS last_version, s.last_hash = e.hash AS same_hash \
             FROM eventstore.streams s \
             FULL JOIN (SELECT DISTINCT ON (stream) stream, version, hash FROM eventstore.events \
                        ORDER BY stream, version DESC) e ON e.stream = s.name \
             WHERE s.name IS NULL OR e.stream IS NULL OR s.version <> e.version OR s.last_hash <> e.hash \
             ORDER BY 1",
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in rows {
            let head: Option<i64> = r.try_get("head_version")?;
            let last: Option<i64> = r.try_get("last_version")?;
            let same_hash: Option<bool> = r.try_get("same_hash")?;
            report.push(Mismatch::Stream {
                stream: r.try_get("stream")?,
                problem: crate::verify::head_problem(head, last, same_hash),
            });
        }
    }

    // 3. Seals, against the event hashes of $all in order.
    let seals: Vec<Seal> = sqlx::query(
        "SELECT seal_no, from_commit, from_prepare, to_commit, to_prepare, event_count, digest, \
         prev_hash, hash, sealed_at FROM eventstore.seals ORDER BY seal_no",
    )
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(super::seal::seal_of)
    .collect::<Result<_, StoreError>>()?;

    if let Some(last) = seals.last() {
        let rows = sqlx::query(
            "SELECT tx_id::text::bigint AS commit_pos, position, hash FROM eventstore.events \
             WHERE (tx_id, position) <= ($1::text::xid8, $2) ORDER BY tx_id, position",
        )
        .bind(to_i64(last.to.commit, "commit position")?.to_string())
        .bind(last.to.prepare)
        .fetch(&mut *tx)
        .map_err(StoreError::from)
        .and_then(|r| async move {
            Ok((
                Position {
                    commit: to_u64(r.try_get("commit_pos")?, "transaction id")?,
                    prepare: r.try_get("position")?,
                },
                r.try_get::<Vec<u8>, _>("hash")?,
            ))
        });
        check_seals(&seals, Box::pin(rows), &mut report).await?;
    }
    drop(tx);
    report.sealed = seals;
    if report.events == 0 {
        emptied(pool, &mut report).await?;
    }
    report.sort();
    Ok(report)
}

/// An empty store whose position sequence has handed out numbers once held events (or saw an
/// append roll back after it took its number, which the store's own appends never do: they check
/// before inserting). Sequences are not transactional, so the count is taken again outside the
/// snapshot: an append that committed meanwhile is not an alarm.
async fn emptied(pool: &PgPool, report: &mut VerifyReport) -> Result<(), StoreError> {
    let (last_value, is_called): (i64, bool) =
        sqlx::query_as("SELECT last_value, is_called FROM eventstore.events_position_seq")
            .fetch_one(pool)
            .await?;
    if !is_called {
        return Ok(());
    }
    let now_any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM eventstore.events)")
        .fetch_one(pool)
        .await?;
    if !now_any {
        report.push(Mismatch::Log {
            problem: format!(
                "the store holds no events, but its position sequence has handed out \
                 {last_value}: events were removed"
            ),
        });
    }
    Ok(())
}
