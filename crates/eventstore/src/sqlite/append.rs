//! Appending on SQLite: the checks and the hash chain of migrations/postgres' `eventstore.append`,
//! in Rust, inside a transaction that holds the write lock (see the module docs of
//! [`crate::sqlite`]).

use std::collections::HashMap;

use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::position_of;
use crate::canonical_json::jsonb_text;
use crate::error::{to_i64, to_u64};
use crate::event::check_events;
use crate::hash::{self, HashInput, ZERO_HASH};
use crate::stream_name::{category_of, validate_stream_name};
use crate::verify::micros;
use crate::{AppendResult, AppendedEvent, ExpectedVersion, NewEvent, StoreError};

/// An event checked and rendered as it will be stored, before any lock is taken.
#[derive(Debug, Clone)]
pub(crate) struct PreparedEvent {
    pub id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    /// PostgreSQL's jsonb text of the data, as stored and hashed.
    pub data: String,
    pub metadata: String,
}

/// Validates an append and renders its JSON (no database access).
pub(crate) fn prepare(
    stream: &str,
    events: Vec<NewEvent>,
) -> Result<Vec<PreparedEvent>, StoreError> {
    validate_stream_name(stream)?;
    check_events(&events)?;
    events
        .into_iter()
        .map(|e| {
            let render = |what: &str, v: &serde_json::Value| {
                jsonb_text(v).map_err(|err| {
                    StoreError::InvalidAppend(format!("{what} of event {}: {err}", e.id))
                })
            };
            if i32::try_from(e.schema_version).is_err() {
                return Err(StoreError::InvalidAppend(format!(
                    "schema version {} is out of range",
                    e.schema_version
                )));
            }
            Ok(PreparedEvent {
                id: e.id,
                data: render("data", &e.data)?,
                metadata: render("metadata", &e.metadata)?,
                event_type: e.event_type,
                schema_version: e.schema_version,
            })
        })
        .collect()
}

/// Appends `events` to `stream` on `conn`, which must be inside `BEGIN IMMEDIATE` (so it holds the
/// write lock). The caller commits, unless the result is a replay (nothing was written).
///
/// Order as on PostgreSQL: a retry is answered first (whatever the expected version says), then
/// the expected version is checked, and only then are positions taken.
pub(crate) async fn append_in(
    conn: &mut SqliteConnection,
    stream: &str,
    expected: ExpectedVersion,
    events: &[PreparedEvent],
) -> Result<AppendResult, StoreError> {
    // One statement for the usual case: the stream's head, and whether any id is already stored
    // (only then is the full retry comparison needed).
    let ids = ids_json(events)?;
    let head = sqlx::query(
        "SELECT s.version, s.last_hash, \
                EXISTS (SELECT 1 FROM events WHERE event_id IN \
                        (SELECT unhex(value) FROM json_each(?2))) AS seen \
         FROM (SELECT 1) LEFT JOIN streams s ON s.name = ?1",
    )
    .bind(stream)
    .bind(&ids)
    .fetch_one(&mut *conn)
    .await?;
    if head.try_get::<bool, _>("seen")? {
        return replay(conn, stream, &ids, events).await;
    }
    let (current, prev) = match head.try_get::<Option<i64>, _>("version")? {
        Some(version) => {
            let last: Vec<u8> = head.try_get("last_hash")?;
            let prev = hash::to_hash(&last)
                .ok_or_else(|| StoreError::Corrupt(format!("head hash of stream {stream}")))?;
            (Some(to_u64(version, "version")?), prev)
        }
        None => (None, ZERO_HASH),
    };
    let ok = match expected {
        ExpectedVersion::Any => true,
        ExpectedVersion::NoStream => current.is_none(),
        ExpectedVersion::StreamExists => current.is_some(),
        ExpectedVersion::Exact(v) => current == Some(v),
    };
    if !ok {
        return Err(StoreError::WrongExpectedVersion {
            stream: stream.to_owned(),
            expected,
            current,
        });
    }

    // Microseconds, as the hash and the column hold them (PostgreSQL's timestamptz precision).
    let recorded_at = micros(OffsetDateTime::now_utc());
    let category = category_of(stream);
    let first_version = current.map_or(0, |v| v + 1);
    let mut prev = prev;
    let mut appended = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let version = first_version + i as u64;
        let hash = hash::event_hash(
            &prev,
            &HashInput {
                id: e.id,
                stream,
                version,
                event_type: &e.event_type,
                schema_version: e.schema_version,
                data: &e.data,
                metadata: &e.metadata,
                recorded_at_micros: recorded_at,
            },
        );
        let position: i64 = sqlx::query_scalar(
            "INSERT INTO events (event_id, stream, version, category, event_type, schema_version, \
             data, metadata, recorded_at, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING position",
        )
        .bind(e.id)
        .bind(stream)
        .bind(to_i64(version, "version")?)
        .bind(category)
        .bind(&e.event_type)
        .bind(i64::from(e.schema_version))
        .bind(&e.data)
        .bind(&e.metadata)
        .bind(recorded_at)
        .bind(&hash[..])
        .fetch_one(&mut *conn)
        .await?;
        appended.push(AppendedEvent {
            version,
            position: position_of(position)?,
        });
        prev = hash;
    }
    let stream_version = appended
        .last()
        .map(|e| e.version)
        .ok_or_else(|| StoreError::InvalidAppend("no events to append".to_owned()))?;
    sqlx::query(
        "INSERT INTO streams (name, version, last_hash, created_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (name) DO UPDATE SET version = excluded.version, last_hash = excluded.last_hash",
    )
    .bind(stream)
    .bind(to_i64(stream_version, "version")?)
    .bind(&prev[..])
    .bind(recorded_at)
    .execute(&mut *conn)
    .await?;
    Ok(AppendResult {
        events: appended,
        stream_version,
        replayed: false,
    })
}

/// One stored event as a retry compares it.
struct Stored {
    stream: String,
    version: u64,
    event_type: String,
    schema_version: i64,
    data: String,
    metadata: String,
    position: i64,
}

/// The ids of an append as a JSON array of hex strings, for `json_each` (one probe of the unique
/// index for the whole batch).
fn ids_json(events: &[PreparedEvent]) -> Result<String, StoreError> {
    let ids: Vec<String> = events.iter().map(|e| e.id.simple().to_string()).collect();
    serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Some of these event ids are stored: the original result when they were appended exactly as
/// this append (same stream, order and content), otherwise an idempotency conflict naming the
/// first offending id. JSON is compared as stored text, which is PostgreSQL's jsonb text: equal
/// values render equally.
async fn replay(
    conn: &mut SqliteConnection,
    stream: &str,
    ids: &str,
    events: &[PreparedEvent],
) -> Result<AppendResult, StoreError> {
    let rows = sqlx::query(
        "SELECT event_id, stream, version, event_type, schema_version, data, metadata, position \
         FROM events WHERE event_id IN (SELECT unhex(value) FROM json_each(?1))",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut found: HashMap<Uuid, Stored> = HashMap::with_capacity(rows.len());
    for r in &rows {
        found.insert(
            r.try_get("event_id")?,
            Stored {
                stream: r.try_get("stream")?,
                version: to_u64(r.try_get("version")?, "version")?,
                event_type: r.try_get("event_type")?,
                schema_version: r.try_get("schema_version")?,
                data: r.try_get("data")?,
                metadata: r.try_get("metadata")?,
                position: r.try_get("position")?,
            },
        );
    }
    if found.len() != events.len() {
        // Some ids are stored and some are not: not a retry of one append.
        let event_id = events
            .iter()
            .map(|e| e.id)
            .find(|id| found.contains_key(id))
            .unwrap_or(events[0].id);
        return Err(StoreError::IdempotencyConflict { event_id });
    }
    let first_version = found.values().map(|s| s.version).min().unwrap_or(0);
    let mut appended = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let same = found.get(&e.id).is_some_and(|s| {
            s.stream == stream
                && s.event_type == e.event_type
                && s.schema_version == i64::from(e.schema_version)
                && s.data == e.data
                && s.metadata == e.metadata
                && s.version == first_version + i as u64
        });
        let Some(s) = found.get(&e.id).filter(|_| same) else {
            return Err(StoreError::IdempotencyConflict { event_id: e.id });
        };
        appended.push(AppendedEvent {
            version: s.version,
            position: position_of(s.position)?,
        });
    }
    let stream_version = appended.last().map_or(0, |e| e.version);
    Ok(AppendResult {
        events: appended,
        stream_version,
        replayed: true,
    })
}
