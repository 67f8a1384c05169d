//! Verification on SQLite: feeds the stored rows to the neutral checkers in crate::verify, inside
//! one read transaction (a WAL snapshot), so concurrent appends cannot cause false alarms.

use futures::TryStreamExt;
use sqlx::{Row, SqlitePool};

use super::position_of;
use super::read::from_micros;
use crate::error::to_u64;
use crate::hash::to_hash;
use crate::verify::{
    ContiguityChecker, Mismatch, StoredEvent, StreamChainChecker, VerifyReport, check_seals,
};
use crate::{Position, Seal, StoreError};

pub(crate) async fn verify(pool: &SqlitePool) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    // A deferred transaction: its first read fixes the snapshot every later read sees.
    let mut tx = pool.begin().await?;

    // 1. Every stream's chain, in (stream, version) order, over the stored text.
    {
        let mut checker = StreamChainChecker::default();
        let mut rows = sqlx::query(
            "SELECT event_id, stream, version, event_type, schema_version, data, metadata, \
             recorded_at, position, hash FROM events ORDER BY stream, version",
        )
        .fetch(&mut *tx);
        while let Some(r) = rows.try_next().await? {
            let e = StoredEvent {
                id: r.try_get("event_id")?,
                stream: r.try_get("stream")?,
                version: r.try_get("version")?,
                event_type: r.try_get("event_type")?,
                schema_version: i32::try_from(r.try_get::<i64, _>("schema_version")?).unwrap_or(-1),
                data: r.try_get("data")?,
                metadata: r.try_get("metadata")?,
                recorded_at: from_micros(r.try_get("recorded_at")?)?,
                position: position_of(r.try_get("position")?)?,
                hash: r.try_get("hash")?,
            };
            checker.push(&e, &mut report);
        }
    }

    // 2. Stream heads agree with the last event (catches a removed last event). Two index-driven
    //    halves rather than a FULL JOIN: SQLite would join a materialised subquery without an
    //    index, which is quadratic in the number of streams.
    {
        let rows = sqlx::query(
            "SELECT s.name AS stream, s.version AS head_version, e.version AS last_version, \
                    s.last_hash = e.hash AS same_hash \
             FROM streams s \
             LEFT JOIN events e ON e.stream = s.name \
                  AND e.version = (SELECT max(version) FROM events WHERE stream = s.name) \
             WHERE e.stream IS NULL OR s.version <> e.version OR s.last_hash <> e.hash \
             UNION ALL \
             SELECT g.stream, NULL, g.last_version, NULL \
             FROM (SELECT stream, max(version) AS last_version FROM events GROUP BY stream) g \
             WHERE NOT EXISTS (SELECT 1 FROM streams s WHERE s.name = g.stream) \
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

    // The seals, checked below.
    let seals: Vec<Seal> = sqlx::query(
        "SELECT seal_no, from_commit, from_prepare, to_commit, to_prepare, event_count, digest, \
         prev_hash, hash, sealed_at FROM seals ORDER BY seal_no",
    )
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        let h = |col: &str| -> Result<[u8; 32], StoreError> {
            let v: Vec<u8> = r.try_get(col)?;
            to_hash(&v)
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
            sealed_at: from_micros(r.try_get("sealed_at")?)?,
        })
    })
    .collect::<Result<_, StoreError>>()?;

    // 3. Positions 1, 2, 3, … without holes, up to the AUTOINCREMENT counter: removing the newest
    //    events (or all of them) together with their stream rows and seals leaves every chain and
    //    seal consistent, but not the counter, which SQLite keeps in `sqlite_sequence`.
    {
        let mut contiguity = ContiguityChecker::new();
        let mut rows =
            sqlx::query_scalar::<_, i64>("SELECT position FROM events ORDER BY position")
                .fetch(&mut *tx);
        while let Some(position) = rows.try_next().await? {
            contiguity.push(position, &mut report);
        }
        drop(rows);
        let counter: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
                .fetch_optional(&mut *tx)
                .await?;
        contiguity.finish(counter, &mut report);
    }

    // 4. Seals, against the event hashes of $all in order.
    if let Some(last) = seals.last() {
        let rows =
            sqlx::query("SELECT position, hash FROM events WHERE position <= ?1 ORDER BY position")
                .bind(super::first_after(last.to).saturating_sub(1))
                .fetch(&mut *tx)
                .map_err(StoreError::from)
                .and_then(|r| async move {
                    Ok((
                        position_of(r.try_get("position")?)?,
                        r.try_get::<Vec<u8>, _>("hash")?,
                    ))
                });
        check_seals(&seals, Box::pin(rows), &mut report).await?;
    }
    drop(tx);
    report.sealed = seals;
    report.sort();
    Ok(report)
}
