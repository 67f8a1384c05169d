//! Appending: one call of `eventstore.append` per append (per stream, for a multi-stream append
//! in one transaction).

use serde_json::Value;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::errors::{map_append_error, to_i64, to_u64};
use crate::event::{check_events, check_stream_appends, lock_order};
use crate::stream_name::validate_stream_name;
use crate::{
    AppendResult, AppendedEvent, ExpectedVersion, NewEvent, Position, StoreError, StreamAppend,
};

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
    let call = Call::new(stream, expected, events)?;
    call.run(pool, notify).await
}

/// Appends to several streams in one transaction: one call of `eventstore.append` per stream, in
/// name order (so two such appends sharing streams take their row locks in the same order). A
/// refusal raises inside the function, the transaction is dropped and rolls back: nothing of any
/// stream is written. Results come back in the order given.
pub(crate) async fn append_streams(
    pool: &PgPool,
    appends: Vec<StreamAppend>,
    notify: bool,
) -> Result<Vec<AppendResult>, StoreError> {
    check_stream_appends(&appends)?;
    let order = lock_order(&appends);
    let mut calls: Vec<Option<Call>> = Vec::with_capacity(appends.len());
    for a in appends {
        calls.push(Some(Call::new(&a.stream, a.expected, a.events)?));
    }
    let mut results: Vec<Option<AppendResult>> = vec![None; calls.len()];
    let mut tx = pool.begin().await?;
    for i in order {
        let call = calls[i]
            .take()
            .ok_or_else(|| StoreError::Corrupt("a stream visited twice".to_owned()))?;
        results[i] = Some(call.run(&mut *tx, notify).await?);
    }
    tx.commit().await?;
    results
        .into_iter()
        .map(|r| r.ok_or_else(|| StoreError::Corrupt("a stream not appended".to_owned())))
        .collect()
}

/// One call of the append function, its arguments laid out as the function takes them.
struct Call {
    stream: String,
    expected: ExpectedVersion,
    expected_code: i64,
    ids: Vec<Uuid>,
    types: Vec<String>,
    schema_versions: Vec<i32>,
    data: Vec<Value>,
    metadata: Vec<Value>,
}

impl Call {
    fn new(
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Call, StoreError> {
        let n = events.len();
        let mut call = Call {
            stream: stream.to_owned(),
            expected,
            expected_code: expected_code(expected)?,
            ids: Vec::with_capacity(n),
            types: Vec::with_capacity(n),
            schema_versions: Vec::with_capacity(n),
            data: Vec::with_capacity(n),
            metadata: Vec::with_capacity(n),
        };
        for e in events {
            call.ids.push(e.id);
            call.types.push(e.event_type);
            call.schema_versions
                .push(i32::try_from(e.schema_version).map_err(|_| {
                    StoreError::InvalidAppend(format!(
                        "schema version {} is out of range",
                        e.schema_version
                    ))
                })?);
            call.data.push(e.data);
            call.metadata.push(e.metadata);
        }
        Ok(call)
    }

    async fn run<'c, X>(self, executor: X, notify: bool) -> Result<AppendResult, StoreError>
    where
        X: sqlx::Executor<'c, Database = sqlx::Postgres>,
    {
        let n = self.ids.len();
        let stream = self.stream.as_str();
        let rows = sqlx::query(
            "SELECT r_version, r_commit, r_prepare, r_replayed \
             FROM eventstore.append($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(stream)
        .bind(self.expected_code)
        .bind(&self.ids)
        .bind(&self.types)
        .bind(&self.schema_versions)
        .bind(&self.data)
        .bind(&self.metadata)
        .bind(notify)
        .fetch_all(executor)
        .await
        .map_err(|e| map_append_error(e, stream, self.expected))?;

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
}
