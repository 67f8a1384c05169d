//! The runner's backend on PostgreSQL: leadership is a session advisory lock held by the runner's
//! dedicated connection (losing the connection loses the lock and the open batch together, so a
//! standby taking over never sees a batch half applied), batches take the swap lock shared (a
//! rebuild's swap takes it exclusive), commits NOTIFY waiters, and appends wake the runner through
//! the store's NOTIFY channel. The SQL itself is in [`crate::postgres`].

use eventstore::{PgEventStore, Position};
use sqlx::postgres::PgListener;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use super::{Backend, BatchStatus, Begin, Session, Wakeup};
use crate::postgres::{self, LockKind};
use crate::status::Lag;
use crate::{RunnerOptions, RuntimeError, Tx};

#[derive(Clone)]
pub(crate) struct PgBackend {
    pub store: PgEventStore,
}

impl Backend for PgBackend {
    type Session = PgSession;
    type Store = PgEventStore;
    type Wakeup = PgWakeup;

    fn store(&self) -> &PgEventStore {
        &self.store
    }

    async fn connect(
        &self,
        projection: &'static str,
        options: &RunnerOptions,
        _runner: &str,
    ) -> Result<PgSession, RuntimeError> {
        let connect = self.store.pool().connect_options();
        Ok(PgSession {
            conn: PgConnection::connect_with(&connect).await?,
            projection,
            base: options.holder.clone(),
            holder: String::new(),
        })
    }

    async fn wakeup(&self, projection: &'static str) -> PgWakeup {
        let pool = self.store.pool().clone();
        let listener = listen(&pool, projection).await;
        PgWakeup {
            pool,
            projection,
            listener,
        }
    }
}

pub(crate) struct PgSession {
    conn: PgConnection,
    projection: &'static str,
    /// [`RunnerOptions::holder`]; the backend pid is appended once we lead.
    base: String,
    holder: String,
}

impl PgSession {
    async fn raw(&mut self, sql: &'static str) -> Result<(), RuntimeError> {
        sqlx::raw_sql(sql).execute(&mut self.conn).await?;
        Ok(())
    }
}

impl Session for PgSession {
    async fn try_lead(&mut self) -> Result<bool, RuntimeError> {
        let key = postgres::lock_key(LockKind::Leader, self.projection);
        if !postgres::try_session_lock(&mut self.conn, key).await? {
            return Ok(false);
        }
        let pid = postgres::backend_pid(&mut self.conn).await?;
        self.holder = format!("{}/{pid}", self.base);
        Ok(true)
    }

    fn holder(&self) -> &str {
        &self.holder
    }

    async fn checkpoint(&mut self) -> Result<Position, RuntimeError> {
        postgres::checkpoint(&mut self.conn, self.projection).await
    }

    async fn claim_status(&mut self, position: Position) -> Result<String, RuntimeError> {
        postgres::claim_status(&mut self.conn, self.projection, &self.holder, position).await
    }

    async fn state(&mut self) -> Result<Option<String>, RuntimeError> {
        postgres::state(&mut self.conn, self.projection).await
    }

    async fn begin(&mut self) -> Result<Begin, RuntimeError> {
        self.raw("BEGIN").await?;
        let stored = postgres::begin_batch(&mut self.conn, self.projection).await?;
        postgres::set_search_path(&mut self.conn, postgres::REPORTING).await?;
        Ok(Begin::Leading(stored))
    }

    fn tx(&mut self) -> Tx<'_> {
        Tx::Postgres(&mut self.conn)
    }

    async fn execute(&mut self, sql: &'static str) -> Result<(), RuntimeError> {
        self.raw(sql).await
    }

    async fn measure_lag(&mut self, from: Position) -> Result<Lag, RuntimeError> {
        postgres::measure_lag(&mut self.conn, from).await
    }

    async fn commit_batch(&mut self, status: &BatchStatus) -> Result<(), RuntimeError> {
        let name = self.projection;
        eventstore::postgres::save_checkpoint(
            &mut self.conn,
            &postgres::checkpoint_name(name),
            status.position,
        )
        .await?;
        postgres::record_batch(&mut self.conn, name, &self.holder, status).await?;
        postgres::notify(&mut self.conn, name).await?;
        self.raw("COMMIT").await
    }

    async fn commit_refresh(&mut self) -> Result<(), RuntimeError> {
        sqlx::query(
            "UPDATE reporting.projection_status SET lag_events = 0, lag_seconds = 0, \
             updated_at = now() WHERE projection = $1",
        )
        .bind(self.projection)
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
        // The session lock is ours as long as the connection lives.
        postgres::mark_halted(&mut self.conn, self.projection, message, event).await?;
        Ok(true)
    }

    async fn record_lag(&mut self, lag: Lag) -> Result<(), RuntimeError> {
        postgres::record_lag(&mut self.conn, self.projection, lag).await
    }

    async fn keep_alive(&mut self) -> Result<bool, RuntimeError> {
        Ok(true)
    }

    async fn release(&mut self) -> Result<(), RuntimeError> {
        // Explicitly: a closed connection releases the lock only once the server notices.
        let key = postgres::lock_key(LockKind::Leader, self.projection);
        postgres::session_unlock(&mut self.conn, key).await
    }
}

/// LISTEN on the store's channel; None (polling only) when it cannot.
async fn listen(pool: &PgPool, projection: &str) -> Option<PgListener> {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(projection, %error, "cannot connect a listener; polling only");
            return None;
        }
    };
    match listener.listen(eventstore::postgres::NOTIFY_CHANNEL).await {
        Ok(()) => Some(listener),
        Err(error) => {
            tracing::warn!(projection, %error, "cannot LISTEN; polling only");
            None
        }
    }
}

pub(crate) struct PgWakeup {
    pool: PgPool,
    projection: &'static str,
    listener: Option<PgListener>,
}

impl Wakeup for PgWakeup {
    fn before_read(&mut self) {
        // Queued notifications are kept: the event they announce may not be readable yet (an
        // older transaction anywhere on the server still runs), and the runner polls quickly
        // after one until it is.
    }

    async fn appended(&mut self) {
        if self.listener.is_none() {
            self.listener = listen(&self.pool, self.projection).await;
        }
        let Some(listener) = self.listener.as_mut() else {
            return std::future::pending().await;
        };
        match listener.try_recv().await {
            // Many appends, one read: drop the notifications already queued.
            Ok(Some(_)) => while listener.next_buffered().is_some() {},
            // Connection lost; try_recv reconnects on its next call, and we read anyway.
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(projection = self.projection, %error, "listener failed; polling only until reconnected");
                self.listener = None;
            }
        }
    }
}
