//! Reading streams and $all.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use time::OffsetDateTime;

use super::errors::{to_i64, to_u64};
use crate::stream_name::validate_stream_name;
use crate::{Direction, Filter, Position, RecordedEvent, StoreError, Upcasters};

const COLUMNS: &str = "event_id, stream, version, event_type, schema_version, data, metadata, \
                       recorded_at, tx_id::text::bigint AS commit_pos, position, hash";

/// A page of $all after $1/$2, filtered by categories $3 and event types $4, at most $5 rows.
/// Only rows of transactions older than every running one: those are settled (committed or
/// rolled back), so no later commit can land before the point this read reaches.
const ALL_PAGE: &str = "WHERE (tx_id, position) > ($1::text::xid8, $2) \
       AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
       AND (cardinality($3::text[]) = 0 OR category = ANY($3)) \
       AND (cardinality($4::text[]) = 0 OR event_type = ANY($4)) \
     ORDER BY tx_id, position LIMIT $5";

async fn fetch_page(
    pool: &PgPool,
    sql: &str,
    from: Position,
    filter: &Filter,
    batch_size: usize,
) -> Result<Vec<PgRow>, StoreError> {
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(to_i64(from.commit, "commit position")?.to_string())
        .bind(from.prepare)
        .bind(&filter.categories)
        .bind(&filter.event_types)
        .bind(limit(batch_size))
        .fetch_all(pool)
        .await?)
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(crate) async fn read_stream(
    pool: &PgPool,
    upcasters: &Upcasters,
    stream: &str,
    direction: Direction,
    from_version: u64,
    max_count: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    validate_stream_name(stream)?;
    // Past the largest bigint means "from the end" (backwards) or "nothing" (forwards).
    let from = i64::try_from(from_version).unwrap_or(i64::MAX);
    let sql = match direction {
        Direction::Forwards => format!(
            "SELECT {COLUMNS} FROM eventstore.events \
             WHERE stream = $1 AND version >= $2 ORDER BY version LIMIT $3"
        ),
        Direction::Backwards => format!(
            "SELECT {COLUMNS} FROM eventstore.events \
             WHERE stream = $1 AND version <= $2 ORDER BY version DESC LIMIT $3"
        ),
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(stream)
        .bind(from)
        .bind(limit(max_count))
        .fetch_all(pool)
        .await?;
    rows.iter().map(|r| decode(r, upcasters)).collect()
}

pub(crate) async fn read_all(
    pool: &PgPool,
    upcasters: &Upcasters,
    from: Position,
    filter: &Filter,
    batch_size: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM eventstore.events {ALL_PAGE}");
    let rows = fetch_page(pool, &sql, from, filter, batch_size).await?;
    rows.iter().map(|r| decode(r, upcasters)).collect()
}

/// A page of $all for a subscription: the events after `from` that pass `filter` (at most
/// `batch_size`), and where the next page starts. With a filter that matches little, "after the
/// last matching event" would rescan the same non-matching tail on every poll; so when the page is
/// not full the next page starts after the last *visible* event instead, taken in the same
/// statement (one snapshot), so nothing that passes the filter can fall in between.
pub(crate) async fn read_all_page(
    pool: &PgPool,
    upcasters: &Upcasters,
    from: Position,
    filter: &Filter,
    batch_size: usize,
) -> Result<(Vec<RecordedEvent>, Position), StoreError> {
    let sql = format!(
        "WITH horizon AS ( \
             SELECT tx_id, position FROM eventstore.events \
             WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY tx_id DESC, position DESC LIMIT 1), \
         page AS (SELECT {COLUMNS} FROM eventstore.events {ALL_PAGE}) \
         SELECT h.tx_id::text::bigint AS horizon_commit, h.position AS horizon_prepare, page.* \
         FROM horizon h LEFT JOIN page ON true \
         ORDER BY page.commit_pos, page.position"
    );
    let rows = fetch_page(pool, &sql, from, filter, batch_size).await?;
    let mut events = Vec::with_capacity(rows.len());
    let mut horizon = from;
    for row in &rows {
        horizon = Position {
            commit: to_u64(row.try_get("horizon_commit")?, "transaction id")?,
            prepare: row.try_get("horizon_prepare")?,
        };
        if row.try_get::<Option<uuid::Uuid>, _>("event_id")?.is_some() {
            events.push(decode(row, upcasters)?);
        }
    }
    let next = match events.last() {
        Some(last) if events.len() >= batch_size => last.position,
        Some(last) => horizon.max(last.position),
        None => horizon.max(from),
    };
    Ok((events, next))
}

fn decode(row: &PgRow, upcasters: &Upcasters) -> Result<RecordedEvent, StoreError> {
    let event_type: String = row.try_get("event_type")?;
    let stored_version: i32 = row.try_get("schema_version")?;
    let stored_version = u32::try_from(stored_version)
        .map_err(|_| StoreError::Corrupt(format!("schema version {stored_version}")))?;
    let (schema_version, data) =
        upcasters.upcast(&event_type, stored_version, row.try_get("data")?)?;
    let hash: Vec<u8> = row.try_get("hash")?;
    Ok(RecordedEvent {
        id: row.try_get("event_id")?,
        stream: row.try_get("stream")?,
        version: to_u64(row.try_get("version")?, "version")?,
        event_type,
        schema_version,
        data,
        metadata: row.try_get("metadata")?,
        recorded_at: row.try_get::<OffsetDateTime, _>("recorded_at")?,
        position: Position {
            commit: to_u64(row.try_get("commit_pos")?, "transaction id")?,
            prepare: row.try_get("position")?,
        },
        hash: crate::hash::to_hash(&hash)
            .ok_or_else(|| StoreError::Corrupt(format!("hash of {} bytes", hash.len())))?,
    })
}

/// How many events of $all pass `filter`, counting only settled rows (as `read_all` sees them).
pub(super) async fn count_all(pool: &PgPool, filter: &Filter) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM eventstore.events \
         WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
           AND (cardinality($1::text[]) = 0 OR category = ANY($1)) \
           AND (cardinality($2::text[]) = 0 OR event_type = ANY($2))",
    )
    .bind(&filter.categories)
    .bind(&filter.event_types)
    .fetch_one(pool)
    .await?;
    to_u64(count, "event count")
}
