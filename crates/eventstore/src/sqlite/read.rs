//! Reading streams and $all on SQLite. Every committed event is settled (one writer, numbered in
//! commit order), so $all is simply `ORDER BY position`.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};
use time::OffsetDateTime;

use super::{first_after, position_of};
use crate::error::to_u64;
use crate::stream_name::validate_stream_name;
use crate::{Direction, Filter, Position, RecordedEvent, StoreError, Upcasters};

pub(super) const COLUMNS: &str = "event_id, stream, version, event_type, schema_version, data, \
                                  metadata, recorded_at, position, hash";

/// A page of $all from event number ?1 on, filtered by the categories in the JSON array ?2 and
/// the event types in ?3 (empty arrays: no filter), at most ?4 rows.
const ALL_PAGE: &str = "WHERE position >= ?1 \
       AND (json_array_length(?2) = 0 OR category IN (SELECT value FROM json_each(?2))) \
       AND (json_array_length(?3) = 0 OR event_type IN (SELECT value FROM json_each(?3))) \
     ORDER BY position LIMIT ?4";

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn json_list(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

async fn fetch_page(
    pool: &SqlitePool,
    sql: &str,
    from: Position,
    filter: &Filter,
    batch_size: usize,
) -> Result<Vec<SqliteRow>, StoreError> {
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(first_after(from))
        .bind(json_list(&filter.categories))
        .bind(json_list(&filter.event_types))
        .bind(limit(batch_size))
        .fetch_all(pool)
        .await?)
}

pub(crate) async fn read_stream(
    pool: &SqlitePool,
    upcasters: &Upcasters,
    stream: &str,
    direction: Direction,
    from_version: u64,
    max_count: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    validate_stream_name(stream)?;
    // Past the largest integer means "from the end" (backwards) or "nothing" (forwards).
    let from = i64::try_from(from_version).unwrap_or(i64::MAX);
    let sql = match direction {
        Direction::Forwards => format!(
            "SELECT {COLUMNS} FROM events WHERE stream = ?1 AND version >= ?2 \
             ORDER BY version LIMIT ?3"
        ),
        Direction::Backwards => format!(
            "SELECT {COLUMNS} FROM events WHERE stream = ?1 AND version <= ?2 \
             ORDER BY version DESC LIMIT ?3"
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
    pool: &SqlitePool,
    upcasters: &Upcasters,
    from: Position,
    filter: &Filter,
    batch_size: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM events {ALL_PAGE}");
    let rows = fetch_page(pool, &sql, from, filter, batch_size).await?;
    rows.iter().map(|r| decode(r, upcasters)).collect()
}

/// A page of $all for a subscription and where the next page starts: after the last event read
/// when the page is full, else after the last event of $all (taken in the same statement, so from
/// the same snapshot), so a filter that matches little does not rescan the same tail every poll.
pub(crate) async fn read_all_page(
    pool: &SqlitePool,
    upcasters: &Upcasters,
    from: Position,
    filter: &Filter,
    batch_size: usize,
) -> Result<(Vec<RecordedEvent>, Position), StoreError> {
    let sql = format!(
        "WITH horizon AS (SELECT max(position) AS horizon FROM events), \
         page AS (SELECT {COLUMNS} FROM events {ALL_PAGE}) \
         SELECT h.horizon, page.* FROM horizon h LEFT JOIN page ON true ORDER BY page.position"
    );
    let rows = fetch_page(pool, &sql, from, filter, batch_size).await?;
    let mut events = Vec::with_capacity(rows.len());
    let mut horizon = from;
    for row in &rows {
        if let Some(h) = row.try_get::<Option<i64>, _>("horizon")? {
            horizon = position_of(h)?;
        }
        if row.try_get::<Option<i64>, _>("position")?.is_some() {
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

pub(super) fn decode(row: &SqliteRow, upcasters: &Upcasters) -> Result<RecordedEvent, StoreError> {
    let event_type: String = row.try_get("event_type")?;
    let stored_version: i64 = row.try_get("schema_version")?;
    let stored_version = u32::try_from(stored_version)
        .map_err(|_| StoreError::Corrupt(format!("schema version {stored_version}")))?;
    let json = |col: &str| -> Result<serde_json::Value, StoreError> {
        let text: String = row.try_get(col)?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
    };
    let (schema_version, data) = upcasters.upcast(&event_type, stored_version, json("data")?)?;
    let hash: Vec<u8> = row.try_get("hash")?;
    let micros: i64 = row.try_get("recorded_at")?;
    Ok(RecordedEvent {
        id: row.try_get("event_id")?,
        stream: row.try_get("stream")?,
        version: to_u64(row.try_get("version")?, "version")?,
        event_type,
        schema_version,
        data,
        metadata: json("metadata")?,
        recorded_at: from_micros(micros)?,
        position: position_of(row.try_get("position")?)?,
        hash: crate::hash::to_hash(&hash)
            .ok_or_else(|| StoreError::Corrupt(format!("hash of {} bytes", hash.len())))?,
    })
}

/// A stored time (microseconds since the Unix epoch).
pub(super) fn from_micros(micros: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .map_err(|e| StoreError::Corrupt(format!("time {micros}: {e}")))
}

/// How many events of $all pass `filter`.
pub(super) async fn count_all(pool: &SqlitePool, filter: &Filter) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events \
         WHERE (json_array_length(?1) = 0 OR category IN (SELECT value FROM json_each(?1))) \
           AND (json_array_length(?2) = 0 OR event_type IN (SELECT value FROM json_each(?2)))",
    )
    .bind(json_list(&filter.categories))
    .bind(json_list(&filter.event_types))
    .fetch_one(pool)
    .await?;
    to_u64(count, "event count")
}
