//! The runner's backend on SQLite. SQLite has no advisory locks, so leadership is a lease: a row
//! of `projection_leases` with the holder and an expiry, taken or renewed inside every batch
//! transaction. Batches run in `BEGIN IMMEDIATE`, which holds the file's single write lock from the
//! start: the lease check, the checkpoint re-check, the projection's writes, the checkpoint and the
//! status row commit together or not at all, and no other runner (in this process or another) can
//! write in between. A runner that stalled past its lease finds out at its next transaction and
//! stands by; it cannot commit on a stale checkpoint, because the checkpoint is read again under
//! the write lock. Appends of this process wake the runner through the store's in-process signal
//! ([`SqliteEventStore::appended`]); other processes' appends are found by polling.

use std::time::Duration;

use eventstore::sqlite::{load_checkpoint, save_checkpoint};
use eventstore::{Position, SqliteEventStore};
use sqlx::SqliteConnection;
use time::format_description::well_known::Rfc3339;
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use super::{Backend, BatchStatus, Begin, Session, Wakeup};
use crate::sqlite::status::{STATUS, measure_lag, now_micros, now_text, signal_progress, to_i64};
use crate::sqlite::{PREFIX, SqliteTables};
use crate::status::Lag;
use crate::{RunnerOptions, RuntimeError, Tx};

#[derive(Clone)]
pub(crate) struct SqliteBackend {
    pub store: SqliteEventStore,
}

impl Backend for SqliteBackend {
    type Session = SqliteSession;
    type Store = SqliteEventStore;
    type Wakeup = SqliteWakeup;

    fn store(&self) -> &SqliteEventStore {
        &self.store
    }

    async fn connect(
        &self,
        projection: &'static str,
        options: &RunnerOptions,
        runner: &str,
    ) -> Result<SqliteSession, RuntimeError> {
        // Detached from the pool: the connection holds the batch transaction between calls, and
        // must never go back to the pool with it open (dropping it closes it, which rolls back).
        let conn = self.store.pool().acquire().await?.detach();
        Ok(SqliteSession {
            conn,
            projection,
            // The lease tells runners apart by holder alone (PostgreSQL appends its backend pid);
            // `runner` stays the same when the supervisor restarts a runner, so that it renews
            // its own lease instead of waiting for it to expire.
            holder: format!("{}/{runner}", options.holder),
            lease: options.lease,
            renewed_at: None,
        })
    }

    async fn wakeup(&self, _projection: &'static str) -> SqliteWakeup {
        SqliteWakeup {
            appended: self.store.appended(),
        }
    }
}

pub(crate) struct SqliteSession {
    conn: SqliteConnection,
    projection: &'static str,
    holder: String,
    lease: Duration,
    /// When the lease was last taken or renewed.
    renewed_at: Option<Instant>,
}

impl SqliteSession {
    async fn raw(&mut self, sql: &'static str) -> Result<(), RuntimeError> {
        sqlx::raw_sql(sql).execute(&mut self.conn).await?;
        Ok(())
    }

    /// `BEGIN IMMEDIATE` and the lease: true when we hold it (the transaction stays open), false
    /// when another runner does (rolled back).
    async fn begin_leading(&mut self) -> Result<bool, RuntimeError> {
        self.raw("BEGIN IMMEDIATE").await?;
        let now = now_micros();
        let until = now.saturating_add(i64::try_from(self.lease.as_micros()).unwrap_or(i64::MAX));
        let taken = sqlx::query(
            "INSERT INTO projection_leases (projection, holder, expires_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (projection) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at \
             WHERE projection_leases.holder = excluded.holder OR projection_leases.expires_at < ?4",
        )
        .bind(self.projection)
        .bind(&self.holder)
        .bind(until)
        .bind(now)
        .execute(&mut self.conn)
        .await?
        .rows_affected()
            == 1;
        if taken {
            self.renewed_at = Some(Instant::now());
        } else {
            self.raw("ROLLBACK").await?;
        }
        Ok(taken)
    }
}

impl Session for SqliteSession {
    async fn try_lead(&mut self) -> Result<bool, RuntimeError> {
        if !self.begin_leading().await? {
            return Ok(false);
        }
        self.raw("COMMIT").await?;
        Ok(true)
    }

    fn holder(&self) -> &str {
        &self.holder
    }

    async fn checkpoint(&mut self) -> Result<Position, RuntimeError> {
        Ok(load_checkpoint(&mut self.conn, self.projection)
            .await?
            .unwrap_or(Position::START))
    }

    async fn claim_status(&mut self, position: Position) -> Result<String, RuntimeError> {
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {STATUS} (projection, state, position_commit, position_prepare, holder, \
             updated_at) VALUES (?1, 'running', ?2, ?3, ?4, ?5) \
             ON CONFLICT (projection) DO UPDATE SET holder = excluded.holder, \
             updated_at = excluded.updated_at RETURNING state"
        )))
        .bind(self.projection)
        .bind(to_i64(position.commit, "commit position")?)
        .bind(position.prepare)
        .bind(&self.holder)
        .bind(now_text())
        .fetch_one(&mut self.conn)
        .await?)
    }

    async fn state(&mut self) -> Result<Option<String>, RuntimeError> {
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT state FROM {STATUS} WHERE projection = ?1"
        )))
        .bind(self.projection)
        .fetch_optional(&mut self.conn)
        .await?)
    }

    async fn begin(&mut self) -> Result<Begin, RuntimeError> {
        if !self.begin_leading().await? {
            return Ok(Begin::Lost);
        }
        // Under the write lock: another runner may have applied since our read.
        Ok(Begin::Leading(self.checkpoint().await?))
    }

    fn tx(&mut self) -> Tx<'_> {
        Tx::Sqlite(SqliteTables::new(&mut self.conn, PREFIX))
    }

    async fn execute(&mut self, sql: &'static str) -> Result<(), RuntimeError> {
        self.raw(sql).await
    }

    async fn measure_lag(&mut self, from: Position) -> Result<Lag, RuntimeError> {
        measure_lag(&mut self.conn, from).await
    }

    async fn commit_batch(&mut self, status: &BatchStatus) -> Result<(), RuntimeError> {
        save_checkpoint(&mut self.conn, self.projection, status.position).await?;
        let last_at = status.last_event_at.format(&Rfc3339).ok();
        // A rebuild in progress owns the state column until it swaps; a batch leaves it alone.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {STATUS} (projection, state, position_commit, position_prepare, \
             events_applied, last_event_at, lag_events, lag_seconds, holder, updated_at) \
             VALUES (?1, 'running', ?2, ?3, ?4, ?5, coalesce(?6, 0), coalesce(?7, 0), ?8, ?9) \
             ON CONFLICT (projection) DO UPDATE SET \
             state = CASE WHEN {STATUS}.state = 'rebuilding' THEN {STATUS}.state ELSE 'running' END, \
             position_commit = excluded.position_commit, \
             position_prepare = excluded.position_prepare, \
             events_applied = {STATUS}.events_applied + excluded.events_applied, \
             last_event_at = excluded.last_event_at, \
             lag_events = coalesce(?6, {STATUS}.lag_events), \
             lag_seconds = coalesce(?7, {STATUS}.lag_seconds), \
             holder = excluded.holder, updated_at = excluded.updated_at"
        )))
        .bind(self.projection)
        .bind(to_i64(status.position.commit, "commit position")?)
        .bind(status.position.prepare)
        .bind(i64::try_from(status.events).unwrap_or(i64::MAX))
        .bind(last_at)
        .bind(status.lag.map(|l| l.events))
        .bind(status.lag.map(|l| l.seconds))
        .bind(&self.holder)
        .bind(now_text())
        .execute(&mut self.conn)
        .await?;
        self.raw("COMMIT").await?;
        // Waiters of this process wake now rather than at their next poll.
        signal_progress();
        Ok(())
    }

    async fn commit_refresh(&mut self) -> Result<(), RuntimeError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {STATUS} SET lag_events = 0, lag_seconds = 0, updated_at = ?2 \
             WHERE projection = ?1"
        )))
        .bind(self.projection)
        .bind(now_text())
        .execute(&mut self.conn)
        .await?;
        self.raw("COMMIT").await
    }

    async fn rollback(&mut self) -> Result<(), RuntimeError> {
        self.raw("ROLLBACK").await
    }

    async fn mark_halted(
        &mut self,
        message: &str,
        event: Option<(Uuid, Position)>,
    ) -> Result<bool, RuntimeError> {
        // Under the lease, so that a runner that lost it cannot halt its successor's projection.
        if !self.begin_leading().await? {
            return Ok(false);
        }
        let (event_id, commit, prepare) = match event {
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
        .bind(self.projection)
        .bind(message)
        .bind(event_id)
        .bind(commit)
        .bind(prepare)
        .bind(&self.holder)
        .bind(now_text())
        .execute(&mut self.conn)
        .await?;
        self.raw("COMMIT").await?;
        signal_progress();
        Ok(true)
    }

    async fn record_lag(&mut self, lag: Lag) -> Result<(), RuntimeError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {STATUS} SET lag_events = ?2, lag_seconds = ?3, updated_at = ?4 \
             WHERE projection = ?1"
        )))
        .bind(self.projection)
        .bind(lag.events)
        .bind(lag.seconds)
        .bind(now_text())
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn keep_alive(&mut self) -> Result<bool, RuntimeError> {
        // Renewed by every batch; while idle or halted, once a quarter of the lease has passed.
        if self
            .renewed_at
            .is_some_and(|at| at.elapsed() < self.lease / 4)
        {
            return Ok(true);
        }
        if !self.begin_leading().await? {
            return Ok(false);
        }
        self.raw("COMMIT").await?;
        Ok(true)
    }

    async fn release(&mut self) -> Result<(), RuntimeError> {
        sqlx::query("DELETE FROM projection_leases WHERE projection = ?1 AND holder = ?2")
            .bind(self.projection)
            .bind(&self.holder)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }
}

pub(crate) struct SqliteWakeup {
    appended: watch::Receiver<u64>,
}

impl Wakeup for SqliteWakeup {
    fn before_read(&mut self) {
        // On SQLite an append is readable once it signals: the coming read covers every append
        // signalled so far.
        self.appended.mark_unchanged();
    }

    async fn appended(&mut self) {
        if self.appended.changed().await.is_err() {
            // Every handle of the store is gone; polling goes on.
            std::future::pending::<()>().await;
        }
    }
}
