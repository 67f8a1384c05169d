//! Appending: one call of `eventstore.append` per append.

use serde_json::Value;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::errors::{map_append_error, to_i64, to_u64};
use crate::event::check_events;
use crate::stream_name::validate_stream_name;
use crate::{AppendResult, AppendedEvent, ExpectedVersion, NewEvent, Position, StoreError};

/// How `ExpectedVersion` is spelled for the SQL function.
fn expected_code(expected: ExpectedVersion) -> Result<i64, StoreError> {
    Ok(match expected {
        ExpectedVersion::Any => -2,
        ExpectedVersion::NoStream => -1,
        ExpectedVersion::StreamExists => -3,
        ExpectedVersion::Exact(v) => to_i64(v, "expected version")?,
    })
}

pub(crate) async fn append(
    pool: &PgPool,
    stream: &str,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
    notify: bool,
) -> Result<AppendResult, StoreError> {
    validate_stream_name(stream)?;
    check_events(&events)?;
    let expected_code = expected_code(expected)?;

    let n = events.len();
    let mut ids: Vec<Uuid> = Vec::with_capacity(n);
    let mut types: Vec<String> = Vec::with_capacity(n);
    let mut schema_versions: Vec<i32> = Vec::with_capacity(n);
    let mut data: Vec<Value> = Vec::with_capacity(n);
    let mut metadata: Vec<Value> = Vec::with_capacity(n);
    for e in events {
        ids.push(e.id);
        types.push(e.event_type);
        schema_versions.push(i32::try_from(e.schema_version).map_err(|_| {
            StoreError::InvalidAppend(format!(
                "schema version {} is out of range",
                e.schema_version
            ))
        })?);
        data.push(e.data);
        metadata.push(e.metadata);
    }

    let rows = sqlx::query(
        "SELECT r_version, r_commit, r_prepare, r_replayed \
         FROM eventstore.append($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(stream)
    .bind(expected_code)
    .bind(&ids)
    .bind(&types)
    .bind(&schema_versions)
    .bind(&data)
    .bind(&metadata)
    .bind(notify)
    .fetch_all(pool)
    .await
    .map_err(|e| map_append_error(e, stream, expected))?;

    let mut appended = Vec::with_capacity(rows.len());
    let mut replayed = false;
    for row in &rows {
        appended.push(AppendedEvent {
            version: to_u64(row.try_get("r_version")?, "version")?,
            position: Position {
                commit: to_u64(row.try_get("r_commit")?, "transaction id")?,
                prepare: row.try_get("r_prepare")?,
            },
        });
        replayed = row.try_get("r_replayed")?;
    }
    let stream_version = appended
        .last()
        .map(|e| e.version)
        .ok_or_else(|| StoreError::Corrupt("append returned no rows".to_owned()))?;
    if appended.len() != n {
        return Err(StoreError::Corrupt(format!(
            "append of {n} events returned {} rows",
            appended.len()
        )));
    }
    tracing::debug!(stream, events = n, stream_version, replayed, "appended");
    Ok(AppendResult {
        events: appended,
        stream_version,
        replayed,
    })
}
