//! The status of projections on SQLite (`reporting_projection_status`), lag, resume, and the
//! in-process progress signal that stands in for PostgreSQL's NOTIFY.

use std::sync::LazyLock;
use std::time::Duration;

use eventstore::Position;
use eventstore::RecordedEvent;
use eventstore::sqlite::load_checkpoint;
use sqlx::{SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::watch;
use uuid::Uuid;

use crate::status::{Lag, ProjectionStatus};
use crate::{RuntimeError, WaitOutcome};

pub(crate) fn now_micros() -> i64 {
    eventstore::verify::micros(OffsetDateTime::now_utc())
}

pub(crate) fn now_text() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn to_i64(value: u64, what: &str) -> Result<i64, RuntimeError> {
    i64::try_from(value).map_err(|_| RuntimeError::PositionRange(format!("{what} {value}")))
}

pub(crate) const STATUS: &str = "reporting_projection_status";

/// Bumped after a SQLite runner of this process commits a batch or a halt. SQLite has no
/// LISTEN/NOTIFY: waiters in this process ([`crate::Waiter::start_for`]) wake on this at once;
/// commits of other processes on the same file are found by the waiters' polling.
static PROGRESS: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// A receiver of the process-wide progress signal of SQLite runners (see [`PROGRESS`]): it
/// changes after any SQLite runner of this process commits a batch or a halt, on any file.
pub fn progress_signal() -> watch::Receiver<u64> {
    PROGRESS.subscribe()
}

pub(crate) fn signal_progress() {
    PROGRESS.send_modify(|n| *n = n.wrapping_add(1));
}

/// Events after `from` and the age of the first (positions are gap-free on SQLite: the count is
/// a subtraction).
pub(crate) async fn measure_lag(
    conn: &mut SqliteConnection,
    from: Position,
) -> Result<Lag, RuntimeError> {
    let from = to_i64(from.commit, "commit position")?;
    let (head, first): (i64, Option<i64>) = sqlx::query_as(
        "SELECT coalesce((SELECT max(position) FROM events), 0), \
         (SELECT recorded_at FROM events WHERE position > ?1 ORDER BY position LIMIT 1)",
    )
    .bind(from)
    .fetch_one(conn)
    .await?;
    Ok(Lag {
        events: (head - from).max(0),
        seconds: first.map_or(0.0, |at| (now_micros() - at).max(0) as f64 / 1e6),
    })
}

/// Records a committed batch (or, with `n == 0`, a caught-up look) in the status row.
pub(crate) async fn record_progress(
    conn: &mut SqliteConnection,
    projection: &str,
    holder: &str,
    position: Position,
    last: Option<&RecordedEvent>,
    n: usize,
) -> Result<(), RuntimeError> {
    let lag = measure_lag(conn, position).await?;
    let last_at = last.and_then(|e| e.recorded_at.format(&Rfc3339).ok());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {STATUS} (projection, state, position_commit, position_prepare, events_applied, \
         last_event_at, lag_events, lag_seconds, holder, updated_at) \
         VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (projection) DO UPDATE SET state = 'running', \
         position_commit = excluded.position_commit, position_prepare = excluded.position_prepare, \
         events_applied = {STATUS}.events_applied + excluded.events_applied, \
         last_event_at = coalesce(excluded.last_event_at, {STATUS}.last_event_at), \
         lag_events = excluded.lag_events, lag_seconds = excluded.lag_seconds, \
         holder = excluded.holder, updated_at = excluded.updated_at"
    )))
    .bind(projection)
    .bind(to_i64(position.commit, "commit position")?)
    .bind(position.prepare)
    .bind(i64::try_from(n).unwrap_or(i64::MAX))
    .bind(last_at)
    .bind(lag.events)
    .bind(lag.seconds)
    .bind(holder)
    .bind(now_text())
    .execute(conn)
    .await?;
    Ok(())
}

/// Measures the lag of `projection` now.
pub async fn lag(pool: &SqlitePool, projection: &str) -> Result<Lag, RuntimeError> {
    let mut conn = pool.acquire().await?;
    let from = load_checkpoint(&mut conn, projection)
        .await?
        .unwrap_or(Position::START);
    measure_lag(&mut conn, from).await
}

/// Clears a halted projection so its runner retries from its checkpoint. False when it was not
/// halted.
pub async fn resume(pool: &SqlitePool, projection: &str) -> Result<bool, RuntimeError> {
    let resumed = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {STATUS} SET state = 'running', error = NULL, error_event_id = NULL, \
         error_position_commit = NULL, error_position_prepare = NULL, updated_at = ?2 \
         WHERE projection = ?1 AND state = 'halted'"
    )))
    .bind(projection)
    .bind(now_text())
    .execute(pool)
    .await?
    .rows_affected()
        > 0;
    if resumed {
        tracing::info!(projection, "projection resumed");
    }
    Ok(resumed)
}

type StatusRow = (
    String,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    i64,
    f64,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
);

fn parse_time(text: &str) -> Result<OffsetDateTime, RuntimeError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| RuntimeError::Projection {
        projection: STATUS.to_owned(),
        message: format!("timestamp {text:?} is not RFC 3339: {e}"),
    })
}

fn position(commit: i64, prepare: i64) -> Result<Position, RuntimeError> {
    Ok(Position {
        commit: u64::try_from(commit)
            .map_err(|_| RuntimeError::PositionRange(format!("commit position {commit}")))?,
        prepare,
    })
}

fn to_status(row: StatusRow) -> Result<ProjectionStatus, RuntimeError> {
    let (projection, state, commit, prepare, applied, last_at, lag_events, lag_seconds) =
        (row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7);
    let error_event_id = row
        .9
        .as_deref()
        .map(Uuid::parse_str)
        .transpose()
        .map_err(|e| RuntimeError::Projection {
            projection: projection.clone(),
            message: format!("error_event_id is not a uuid: {e}"),
        })?;
    let error_position = match (row.10, row.11) {
        (Some(c), Some(p)) => Some(position(c, p)?),
        _ => None,
    };
    Ok(ProjectionStatus {
        position: position(commit, prepare)?,
        events_applied: applied,
        last_event_at: last_at.as_deref().map(parse_time).transpose()?,
        lag: Lag {
            events: lag_events,
            seconds: lag_seconds,
        },
        error: row.8,
        error_event_id,
        error_position,
        holder: row.12,
        updated_at: parse_time(&row.13)?,
        projection,
        state,
    })
}

/// Every projection's status row, by name.
pub async fn statuses(pool: &SqlitePool) -> Result<Vec<ProjectionStatus>, RuntimeError> {
    let rows: Vec<StatusRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT projection, state, position_commit, position_prepare, events_applied, \
         last_event_at, lag_events, lag_seconds, error, error_event_id, error_position_commit, \
         error_position_prepare, holder, updated_at FROM {STATUS} ORDER BY projection"
    )))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(to_status).collect()
}

/// The status row of `projection`, if it has one.
pub async fn status(
    pool: &SqlitePool,
    projection: &str,
) -> Result<Option<ProjectionStatus>, RuntimeError> {
    Ok(statuses(pool)
        .await?
        .into_iter()
        .find(|s| s.projection == projection))
}

/// Waits until each of `projections` has applied everything up to `position` (read-your-writes
/// after an append), one of them is halted before it, or `timeout` passes. The same wait as on
/// PostgreSQL ([`crate::Waiter::start_for`]): woken by this process's runners, polling for others.
pub async fn wait_for(
    pool: &SqlitePool,
    projections: &[&str],
    position: Position,
    timeout: Duration,
) -> Result<WaitOutcome, RuntimeError> {
    crate::Waiter::start_for(eventstore::Database::Sqlite(pool.clone()))
        .wait_for(crate::Which::Named(projections), position, timeout)
        .await
}
