//! The runner on SQLite: feeds $all into one projection, as the one active instance per file.
//!
//! SQLite has no advisory locks, so leadership is a lease: a row of `projection_leases` with the
//! holder and an expiry, taken or renewed at the start of every batch transaction. Each batch runs
//! in `BEGIN IMMEDIATE`, which holds the file's single write lock from the start: the lease check,
//! the checkpoint re-check, the projection's writes, the checkpoint ([`save_checkpoint`]) and the
//! status row commit together or not at all, and no other runner (in this process or another) can
//! write in between. A runner that loses its lease (it stalled past the expiry and another took
//! over) finds out at its next batch and stands by; it cannot commit a batch on a stale
//! checkpoint, because the checkpoint is read again under the write lock.

use std::sync::LazyLock;
use std::time::Duration;

use eventstore::sqlite::{load_checkpoint, save_checkpoint};
use eventstore::{EventStore, Filter, Position, RecordedEvent, SqliteEventStore};
use sqlx::{Connection, SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

use super::{PREFIX, SharedSqliteProjection};
use crate::status::{Lag, ProjectionStatus};
use crate::{ProjectionError, RuntimeError, WaitOutcome};

/// Tuning of a SQLite runner. The defaults suit production; tests shorten the intervals.
#[derive(Debug, Clone)]
pub struct SqliteRunnerOptions {
    /// Events read and applied per transaction.
    pub batch_size: usize,
    /// How long a lease lasts without renewal: how soon a standby takes over from a runner that
    /// died. Every batch renews it, and an idle leader renews it every `poll_interval`, which must
    /// be well below it.
    pub lease: Duration,
    /// How often a caught-up leader reads $all again, a standby tries the lease, and a halted
    /// projection looks for a resume.
    pub poll_interval: Duration,
    /// Pause after a database error.
    pub retry_delay: Duration,
    /// Names this runner in the lease and the status row; unique per runner.
    pub holder: String,
}

impl Default for SqliteRunnerOptions {
    fn default() -> Self {
        SqliteRunnerOptions {
            batch_size: 500,
            lease: Duration::from_secs(10),
            poll_interval: Duration::from_millis(500),
            retry_delay: Duration::from_secs(1),
            holder: format!("{}/{}", crate::default_holder(), Uuid::new_v4().simple()),
        }
    }
}

/// What one [`SqliteRunner::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Applied this many events and committed them with the checkpoint (0: the checkpoint had
    /// moved under another runner; read again).
    Applied(usize),
    /// Nothing new in $all; the lease was renewed.
    CaughtUp,
    /// Another runner holds the lease.
    Standby,
    /// The projection is halted (now or before): nothing is applied until [`resume`].
    Halted,
}

/// Runs one projection on a SQLite store.
pub struct SqliteRunner {
    store: SqliteEventStore,
    projection: SharedSqliteProjection,
    options: SqliteRunnerOptions,
    /// When `after_catch_up_sqlite` last ran (see [`REFRESH_EVERY`]).
    refreshed_at: std::sync::Mutex<Option<Instant>>,
}

/// How often an idle runner runs the projection's `after_catch_up_sqlite` without new events, so
/// that figures depending on today's date follow the calendar (PostgreSQL's default
/// `refresh_interval`). A batch that catches up always runs it.
const REFRESH_EVERY: Duration = Duration::from_secs(60);

fn now_micros() -> i64 {
    eventstore::verify::micros(OffsetDateTime::now_utc())
}

fn now_text() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn to_i64(value: u64, what: &str) -> Result<i64, RuntimeError> {
    i64::try_from(value).map_err(|_| RuntimeError::PositionRange(format!("{what} {value}")))
}

const STATUS: &str = "reporting_projection_status";

/// Bumped after a SQLite runner of this process commits a batch or a halt. SQLite has no
/// LISTEN/NOTIFY: waiters in this process ([`crate::Waiter::start_for`]) wake on this at once;
/// commits of other processes on the same file are found by the waiters' polling.
static PROGRESS: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// A receiver of the process-wide progress signal of SQLite runners (see [`PROGRESS`]): it
/// changes after any SQLite runner of this process commits a batch or a halt, on any file.
pub fn progress_signal() -> watch::Receiver<u64> {
    PROGRESS.subscribe()
}

fn signal_progress() {
    PROGRESS.send_modify(|n| *n = n.wrapping_add(1));
}

impl SqliteRunner {
    pub fn new(
        store: SqliteEventStore,
        projection: SharedSqliteProjection,
        options: SqliteRunnerOptions,
    ) -> Self {
        SqliteRunner {
            store,
            projection,
            options,
            refreshed_at: std::sync::Mutex::new(None),
        }
    }

    /// Runs the projection's `after_catch_up_sqlite` in a savepoint of `tx`; an error rolls the
    /// savepoint back (the batch stays) and is returned for [`Self::halt_after_refresh`].
    async fn refresh(&self, tx: &mut SqliteConnection) -> Result<Option<String>, RuntimeError> {
        *self
            .refreshed_at
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Instant::now());
        sqlx::query("SAVEPOINT after_catch_up")
            .execute(&mut *tx)
            .await?;
        match self.projection.after_catch_up_sqlite(tx, PREFIX).await {
            Ok(()) => {
                sqlx::query("RELEASE SAVEPOINT after_catch_up")
                    .execute(&mut *tx)
                    .await?;
                Ok(None)
            }
            Err(error) => {
                sqlx::query("ROLLBACK TO SAVEPOINT after_catch_up")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("RELEASE SAVEPOINT after_catch_up")
                    .execute(&mut *tx)
                    .await?;
                Ok(Some(error.message))
            }
        }
    }

    fn refresh_due(&self) -> bool {
        self.refreshed_at
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_none_or(|at| at.elapsed() >= REFRESH_EVERY)
    }

    /// A failed refresh halts the projection visibly, as on PostgreSQL (the batch before it is
    /// committed).
    async fn halt_after_refresh(&self, message: String) -> Result<Step, RuntimeError> {
        let name = self.projection.name();
        let message = format!("after_catch_up failed: {message}");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {STATUS} SET state = 'halted', error = ?2, error_event_id = NULL, \
             error_position_commit = NULL, error_position_prepare = NULL, updated_at = ?3 \
             WHERE projection = ?1"
        )))
        .bind(name)
        .bind(&message)
        .bind(now_text())
        .execute(self.store.pool())
        .await?;
        signal_progress();
        tracing::error!(projection = name, error = %message, "projection halted: its refresh failed; fix the cause, then resume it");
        Ok(Step::Halted)
    }

    /// Reads one batch after the checkpoint and, as the lease holder, applies it and commits it
    /// with the checkpoint in one `BEGIN IMMEDIATE` transaction.
    pub async fn step(&self) -> Result<Step, RuntimeError> {
        let name = self.projection.name();
        let mut conn = self.store.pool().acquire().await?;
        let from = load_checkpoint(&mut conn, name)
            .await?
            .unwrap_or(Position::START);
        if is_halted(&mut conn, name).await? {
            return Ok(Step::Halted);
        }
        let events = self
            .store
            .read_all(from, &Filter::all(), self.options.batch_size)
            .await?;

        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        if !take_lease(&mut tx, name, &self.options.holder, self.options.lease).await? {
            tx.rollback().await?;
            return Ok(Step::Standby);
        }
        // Under the write lock: another runner may have applied (or halted) since our read.
        let current = load_checkpoint(&mut tx, name)
            .await?
            .unwrap_or(Position::START);
        if current != from || is_halted(&mut tx, name).await? {
            tx.commit().await?;
            return Ok(Step::Applied(0));
        }
        let Some(last) = events.last() else {
            // Idle: refresh now and then, as the figures depend on the date.
            let failed = if self.refresh_due() {
                self.refresh(&mut tx).await?
            } else {
                None
            };
            record_progress(&mut tx, name, &self.options.holder, from, None, 0).await?;
            tx.commit().await?;
            if let Some(message) = failed {
                return self.halt_after_refresh(message).await;
            }
            return Ok(Step::CaughtUp);
        };
        match self.projection.apply_sqlite(&mut tx, PREFIX, &events).await {
            Ok(()) => {
                // Caught up (a short batch): refresh in the batch's transaction, as PostgreSQL does.
                let failed = if events.len() < self.options.batch_size {
                    self.refresh(&mut tx).await?
                } else {
                    None
                };
                save_checkpoint(&mut tx, name, last.position).await?;
                record_progress(
                    &mut tx,
                    name,
                    &self.options.holder,
                    last.position,
                    Some(last),
                    events.len(),
                )
                .await?;
                tx.commit().await?;
                signal_progress();
                if let Some(message) = failed {
                    return self.halt_after_refresh(message).await;
                }
                Ok(Step::Applied(events.len()))
            }
            Err(error) => {
                // Nothing of the batch stays: neither its rows nor a checkpoint.
                tx.rollback().await?;
                self.halt(&events, error).await?;
                Ok(Step::Halted)
            }
        }
    }

    /// Finds the event that failed (re-applying the batch one event at a time when the error
    /// does not name it, then rolling back) and records the halt.
    async fn halt(
        &self,
        events: &[RecordedEvent],
        error: ProjectionError,
    ) -> Result<(), RuntimeError> {
        let name = self.projection.name();
        let mut culprit = error.event;
        let mut message = error.message;
        let mut conn = self.store.pool().acquire().await?;
        if culprit.is_none() {
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            for event in events {
                let single = std::slice::from_ref(event);
                if let Err(e) = self.projection.apply_sqlite(&mut tx, PREFIX, single).await {
                    culprit = Some((event.id, event.position));
                    message = e.message;
                    break;
                }
            }
            tx.rollback().await?;
        }
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        if !take_lease(&mut tx, name, &self.options.holder, self.options.lease).await? {
            // Another runner took over meanwhile; it will meet the same event and record it.
            tx.rollback().await?;
            return Ok(());
        }
        // The events before the poison are good: commit them (with their checkpoint) in this
        // transaction, as PostgreSQL's runtime does, so the halt points exactly at the poison.
        let before = culprit
            .and_then(|(id, _)| events.iter().position(|e| e.id == id))
            .unwrap_or(0);
        if let Some(last) = events[..before].last() {
            let from = events[0].position;
            let current = load_checkpoint(&mut tx, name)
                .await?
                .unwrap_or(Position::START);
            if current >= from {
                // Someone moved the checkpoint since our batch was read; leave it to them.
                tx.rollback().await?;
                return Ok(());
            }
            self.projection
                .apply_sqlite(&mut tx, PREFIX, &events[..before])
                .await
                .map_err(|e| RuntimeError::Projection {
                    projection: name.to_owned(),
                    message: e.message,
                })?;
            save_checkpoint(&mut tx, name, last.position).await?;
            record_progress(
                &mut tx,
                name,
                &self.options.holder,
                last.position,
                Some(last),
                before,
            )
            .await?;
        }
        let (event_id, commit, prepare) = match culprit {
            Some((id, position)) => (
                Some(id.to_string()),
                Some(to_i64(position.commit, "commit position")?),
                Some(position.prepare),
            ),
            None => (None, None, None),
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {STATUS} (projection, state, error, error_event_id, error_position_commit, \
             error_position_prepare, holder, updated_at) VALUES (?1, 'halted', ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (projection) DO UPDATE SET state = 'halted', error = excluded.error, \
             error_event_id = excluded.error_event_id, \
             error_position_commit = excluded.error_position_commit, \
             error_position_prepare = excluded.error_position_prepare, \
             holder = excluded.holder, updated_at = excluded.updated_at"
        )))
        .bind(name)
        .bind(&message)
        .bind(event_id.as_deref())
        .bind(commit)
        .bind(prepare)
        .bind(&self.options.holder)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        // Waiters for this projection return Halted now rather than at their next poll.
        signal_progress();
        tracing::error!(
            projection = name,
            event_id = ?event_id,
            error = %message,
            "projection halted on a poison event; fix the cause, then resume it"
        );
        Ok(())
    }

    /// Steps until `stop` turns true, pausing when caught up, standing by or halted. Releases the
    /// lease on the way out so that a standby takes over at once.
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> Result<(), RuntimeError> {
        let name = self.projection.name();
        while !*stop.borrow() {
            let pause = match self.step().await {
                Ok(Step::Applied(_)) => Duration::ZERO,
                Ok(Step::CaughtUp | Step::Standby | Step::Halted) => self.options.poll_interval,
                Err(error) => {
                    tracing::warn!(projection = name, %error, "projection runner failed; retrying");
                    self.options.retry_delay
                }
            };
            if !pause.is_zero() {
                tokio::select! {
                    _ = stop.changed() => {}
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
        sqlx::query("DELETE FROM projection_leases WHERE projection = ?1 AND holder = ?2")
            .bind(name)
            .bind(&self.options.holder)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// Runs on a task; send `true` to stop it.
    pub fn spawn(self) -> (watch::Sender<bool>, JoinHandle<Result<(), RuntimeError>>) {
        let (stop, stopped) = watch::channel(false);
        (stop, tokio::spawn(self.run(stopped)))
    }
}

/// Takes the lease of `projection` for `holder`, or renews it: true when `holder` holds it now.
async fn take_lease(
    conn: &mut SqliteConnection,
    projection: &str,
    holder: &str,
    lease: Duration,
) -> Result<bool, RuntimeError> {
    let now = now_micros();
    let until = now.saturating_add(i64::try_from(lease.as_micros()).unwrap_or(i64::MAX));
    let taken = sqlx::query(
        "INSERT INTO projection_leases (projection, holder, expires_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (projection) DO UPDATE SET holder = excluded.holder, \
         expires_at = excluded.expires_at \
         WHERE projection_leases.holder = excluded.holder OR projection_leases.expires_at < ?4",
    )
    .bind(projection)
    .bind(holder)
    .bind(until)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(taken == 1)
}

async fn is_halted(conn: &mut SqliteConnection, projection: &str) -> Result<bool, RuntimeError> {
    let state: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT state FROM {STATUS} WHERE projection = ?1"
    )))
    .bind(projection)
    .fetch_optional(conn)
    .await?;
    Ok(state.as_deref() == Some("halted"))
}

/// Events after `from` and the age of the first (positions are gap-free on SQLite: the count is
/// a subtraction).
async fn measure_lag(conn: &mut SqliteConnection, from: Position) -> Result<Lag, RuntimeError> {
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
pub(super) async fn record_progress(
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
