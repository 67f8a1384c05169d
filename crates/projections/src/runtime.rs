//! The runner: feeds $all into one projection, as the one active instance across processes.
//!
//! Per projection, a runner holds a dedicated connection. It takes the projection's leader lock
//! (a session advisory lock) or stands by, retrying every [`RunnerOptions::standby_retry`]. As
//! leader it loops: read a batch of $all after the checkpoint (on another connection, outside any
//! transaction that has written, because the store only returns events below the oldest running
//! transaction), then on the lock-holding connection BEGIN, check the stored checkpoint is still the
//! one it read from, apply, save the checkpoint and the status, notify, COMMIT. Losing the
//! connection loses the lock and the open transaction together, so a standby taking over can never
//! see a batch half applied or applied twice.

use std::time::Duration;

use eventstore::{EventStore, Filter, PgEventStore, Position, RecordedEvent};
use sqlx::postgres::PgListener;
use sqlx::{Connection, PgConnection};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

use crate::dyn_projection::SharedProjection;
use crate::postgres::{self, BatchStatus, LockKind};
use crate::status::Lag;
use crate::{ProjectionError, RuntimeError};

/// First re-read after a notification that found nothing readable yet (doubling from there).
const QUICK_POLL: Duration = Duration::from_millis(5);

/// Tuning of a runner. The defaults suit production; tests shorten the intervals.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Events read and applied per transaction.
    pub batch_size: usize,
    /// How often a standby retries the leader lock (bounds the takeover time), and how often a
    /// halted projection looks for a resume.
    pub standby_retry: Duration,
    /// How often the leader reads $all when no notification arrives.
    pub poll_interval: Duration,
    /// How often `after_catch_up` runs without new events (figures depend on today's date).
    pub refresh_interval: Duration,
    /// Least time between two `after_catch_up` runs triggered by caught-up batches. Zero (the
    /// default) refreshes after every batch that catches up, so a waiter sees refreshed figures.
    /// Set it when the refresh is expensive: a batch that catches up within it skips the refresh,
    /// and the refresh runs once the interval has passed.
    pub catch_up_refresh_min_interval: Duration,
    /// How often lag is measured and stored while behind or halted.
    pub lag_interval: Duration,
    /// Pause before reconnecting after a database error.
    pub retry_delay: Duration,
    /// Names this process in `projection_status.holder` (the backend pid is appended).
    pub holder: String,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            batch_size: 500,
            standby_retry: Duration::from_secs(1),
            poll_interval: Duration::from_millis(500),
            refresh_interval: Duration::from_secs(60),
            catch_up_refresh_min_interval: Duration::ZERO,
            lag_interval: Duration::from_secs(5),
            retry_delay: Duration::from_secs(1),
            holder: default_holder(),
        }
    }
}

/// `host:pid` of this process.
pub fn default_holder() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned());
    format!("{host}:{}", std::process::id())
}

/// The runners of several projections in this process. Dropping it stops them like
/// [`Projectors::shutdown`] without waiting.
pub struct Projectors {
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Projectors {
    /// Starts one runner per projection, each on its own task and connection.
    pub fn start(
        store: &PgEventStore,
        projections: Vec<SharedProjection>,
        options: RunnerOptions,
    ) -> Result<Projectors, RuntimeError> {
        let (shutdown, receiver) = watch::channel(false);
        let mut tasks = Vec::new();
        for projection in projections {
            let runner = Runner::new(store.clone(), projection, options.clone())?;
            tasks.push(tokio::spawn(runner.run(receiver.clone())));
        }
        Ok(Projectors { shutdown, tasks })
    }

    /// Stops every runner (a batch in flight is finished first) and waits for them.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "projection runner task failed");
            }
        }
    }

    /// Stops every runner at once, dropping connections mid-batch (as a crash would).
    pub fn abort(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// The runner of one projection.
pub struct Runner {
    store: PgEventStore,
    projection: SharedProjection,
    options: RunnerOptions,
}

/// What happened to one batch transaction.
enum Batch {
    Applied,
    /// The stored checkpoint was not the one the batch was read after (another leader or a
    /// rebuild's swap moved it): nothing was written, read again.
    Stale,
    /// The projection failed; the transaction was rolled back.
    Failed(ProjectionError),
}

/// Why a leader session ended without error.
enum Exit {
    Shutdown,
}

/// Where a leader stands.
struct Leader {
    conn: PgConnection,
    listener: Option<PgListener>,
    holder: String,
    halted: bool,
    next_refresh: Instant,
    /// Before this, a caught-up batch skips `after_catch_up` (see `catch_up_refresh_min_interval`).
    refresh_allowed_at: Instant,
    /// After a notification, the next waits are short and doubling: the notified event may not be
    /// readable yet (an older transaction anywhere on the server still runs), and waiting for the
    /// next notification or the full poll interval would add up to half a second.
    quick_poll: Option<Duration>,
    next_lag: Instant,
}

impl Runner {
    pub fn new(
        store: PgEventStore,
        projection: SharedProjection,
        options: RunnerOptions,
    ) -> Result<Runner, RuntimeError> {
        postgres::validate_name(projection.name())?;
        Ok(Runner {
            store,
            projection,
            options: RunnerOptions {
                batch_size: options.batch_size.max(1),
                ..options
            },
        })
    }

    fn name(&self) -> &'static str {
        self.projection.name()
    }

    /// Runs until `shutdown` turns true: stands by, leads, reconnects after errors. Never gives
    /// up on its own; a poison event halts the projection but the runner keeps standing.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let name = self.name();
        loop {
            if stopping(&shutdown) {
                return;
            }
            match self.session(&mut shutdown).await {
                Ok(Exit::Shutdown) => return,
                Err(error) => {
                    tracing::warn!(projection = name, %error, "projection runner lost its connection or failed; reconnecting");
                    tokio::select! {
                        () = tokio::time::sleep(self.options.retry_delay) => {}
                        _ = shutdown.changed() => return,
                    }
                }
            }
        }
    }

    /// One connection's life: stand by until the lock is ours, then lead.
    async fn session(&self, shutdown: &mut watch::Receiver<bool>) -> Result<Exit, RuntimeError> {
        let name = self.name();
        let options = self.store.pool().connect_options();
        let mut conn = PgConnection::connect_with(&options).await?;
        let key = postgres::lock_key(LockKind::Leader, name);
        let mut announced = false;
        while !postgres::try_session_lock(&mut conn, key).await? {
            if !announced {
                tracing::info!(
                    projection = name,
                    "another process leads this projection; standing by"
                );
                announced = true;
            }
            tokio::select! {
                () = tokio::time::sleep(self.options.standby_retry) => {}
                _ = shutdown.changed() => return Ok(Exit::Shutdown),
            }
        }
        let pid = postgres::backend_pid(&mut conn).await?;
        let holder = format!("{}/{pid}", self.options.holder);
        // Listen before the first read, so a notification sent between a read and the wait is kept.
        let listener = self.listen().await;
        let position = postgres::checkpoint(&mut conn, name).await?;
        let state = postgres::claim_status(&mut conn, name, &holder, position).await?;
        tracing::info!(projection = name, %holder, %position, %state, "leading projection");
        let now = Instant::now();
        let mut leader = Leader {
            conn,
            listener,
            holder,
            halted: state == "halted",
            next_refresh: now,
            refresh_allowed_at: now,
            quick_poll: None,
            next_lag: now,
        };
        self.lead(&mut leader, shutdown).await
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = match PgListener::connect_with(self.store.pool()).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(projection = self.name(), %error, "cannot connect a listener; polling only");
                return None;
            }
        };
        match listener.listen(eventstore::postgres::NOTIFY_CHANNEL).await {
            Ok(()) => Some(listener),
            Err(error) => {
                tracing::warn!(projection = self.name(), %error, "cannot LISTEN; polling only");
                None
            }
        }
    }

    async fn lead(
        &self,
        leader: &mut Leader,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Exit, RuntimeError> {
        let name = self.name();
        let batch_size = self.options.batch_size;
        loop {
            if stopping(shutdown) {
                return Ok(Exit::Shutdown);
            }
            if leader.halted {
                self.while_halted(leader, shutdown).await?;
                continue;
            }
            let from = postgres::checkpoint(&mut leader.conn, name).await?;
            // Every event, no filter: the checkpoint must pass every position so that callers can
            // wait for any position of $all.
            let events = self
                .store
                .read_all(from, &Filter::all(), batch_size)
                .await?;
            let caught_up = events.len() < batch_size;
            if events.is_empty() {
                if Instant::now() >= leader.next_refresh {
                    self.refresh(leader).await?;
                }
                if self.wait_for_events(leader, shutdown).await {
                    return Ok(Exit::Shutdown);
                }
                continue;
            }
            leader.quick_poll = None;
            match self.apply(leader, from, &events, caught_up).await? {
                Batch::Applied => {}
                Batch::Stale => {
                    tracing::info!(projection = name, %from, "checkpoint moved under the runner; reading again");
                }
                Batch::Failed(error) => self.isolate_poison(leader, from, &events, error).await?,
            }
        }
    }

    /// Waits for a store notification, the poll interval, the next refresh or shutdown.
    /// Returns true on shutdown.
    async fn wait_for_events(
        &self,
        leader: &mut Leader,
        shutdown: &mut watch::Receiver<bool>,
    ) -> bool {
        let wait = match leader.quick_poll {
            Some(quick) => {
                let next = quick * 2;
                leader.quick_poll = (next < self.options.poll_interval).then_some(next);
                quick
            }
            None => self.options.poll_interval,
        };
        let poll = tokio::time::sleep(wait);
        let refresh = tokio::time::sleep_until(leader.next_refresh);
        match leader.listener.as_mut() {
            Some(listener) => tokio::select! {
                received = listener.try_recv() => match received {
                    // Many appends, one read: drop the notifications already queued.
                    Ok(Some(_)) => {
                        while listener.next_buffered().is_some() {}
                        leader.quick_poll = Some(QUICK_POLL);
                    }
                    // Connection lost; try_recv reconnects on its next call, and we read anyway.
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(projection = self.name(), %error, "listener failed; polling only until reconnected");
                        leader.listener = None;
                    }
                },
                () = poll => {}
                () = refresh => {}
                _ = shutdown.changed() => return true,
            },
            None => {
                if leader.listener.is_none() {
                    leader.listener = self.listen().await;
                }
                tokio::select! {
                    () = poll => {}
                    () = refresh => {}
                    _ = shutdown.changed() => return true,
                }
            }
        }
        false
    }

    /// One batch transaction on the lock-holding connection.
    async fn apply(
        &self,
        leader: &mut Leader,
        from: Position,
        events: &[RecordedEvent],
        caught_up: bool,
    ) -> Result<Batch, RuntimeError> {
        let name = self.name();
        let Some(last) = events.last() else {
            return Ok(Batch::Applied);
        };
        let lag_due = !caught_up && Instant::now() >= leader.next_lag;
        let mut tx = leader.conn.begin().await?;
        if postgres::begin_batch(&mut tx, name).await? != from {
            tx.rollback().await?;
            return Ok(Batch::Stale);
        }
        postgres::set_search_path(&mut tx, postgres::REPORTING).await?;
        if let Err(error) = self.projection.apply_batch(&mut tx, events).await {
            // A failing rollback means the connection is gone: that is not the projection's fault.
            tx.rollback().await?;
            return Ok(Batch::Failed(error));
        }
        let mut refresh_error = None;
        let refresh_now = caught_up && Instant::now() >= leader.refresh_allowed_at;
        if refresh_now {
            // A savepoint keeps the batch when the refresh fails; the failure halts the projection.
            sqlx::query("SAVEPOINT after_catch_up")
                .execute(&mut *tx)
                .await?;
            match self.projection.after_catch_up(&mut tx).await {
                Ok(()) => {
                    sqlx::query("RELEASE SAVEPOINT after_catch_up")
                        .execute(&mut *tx)
                        .await?;
                }
                Err(error) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT after_catch_up")
                        .execute(&mut *tx)
                        .await?;
                    refresh_error = Some(error);
                }
            }
        }
        let lag = if caught_up {
            Some(Lag::default())
        } else if lag_due {
            Some(postgres::measure_lag(&mut tx, last.position).await?)
        } else {
            None
        };
        eventstore::postgres::save_checkpoint(
            &mut tx,
            &postgres::checkpoint_name(name),
            last.position,
        )
        .await?;
        let status = BatchStatus {
            position: last.position,
            events: events.len() as u64,
            last_event_at: last.recorded_at,
            holder: &leader.holder,
            lag,
        };
        postgres::record_batch(&mut tx, name, &status).await?;
        postgres::notify(&mut tx, name).await?;
        tx.commit().await?;
        tracing::debug!(projection = name, events = events.len(), position = %last.position, "applied batch");
        if lag_due {
            leader.next_lag = Instant::now() + self.options.lag_interval;
        }
        if refresh_now {
            self.refreshed(leader);
        } else if caught_up {
            // Skipped for now: refresh as soon as it is allowed, so the figures follow shortly.
            leader.next_refresh = leader.next_refresh.min(leader.refresh_allowed_at);
        }
        if let Some(error) = refresh_error {
            self.halt(leader, &format!("after_catch_up failed: {error}"), None)
                .await?;
        }
        Ok(Batch::Applied)
    }

    /// Schedules the next refreshes after one ran.
    fn refreshed(&self, leader: &mut Leader) {
        let now = Instant::now();
        leader.next_refresh = now + self.options.refresh_interval;
        leader.refresh_allowed_at = now + self.options.catch_up_refresh_min_interval;
    }

    /// `after_catch_up` without new events, in a transaction of its own.
    async fn refresh(&self, leader: &mut Leader) -> Result<(), RuntimeError> {
        let name = self.name();
        self.refreshed(leader);
        let mut tx = leader.conn.begin().await?;
        postgres::begin_batch(&mut tx, name).await?;
        postgres::set_search_path(&mut tx, postgres::REPORTING).await?;
        match self.projection.after_catch_up(&mut tx).await {
            Ok(()) => {
                sqlx::query(
                    "UPDATE reporting.projection_status SET lag_events = 0, lag_seconds = 0, \
                     updated_at = now() WHERE projection = $1",
                )
                .bind(name)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }
            Err(error) => {
                tx.rollback().await?;
                self.halt(leader, &format!("after_catch_up failed: {error}"), None)
                    .await
            }
        }
    }

    /// A batch failed: find the event that fails, applying the ones before it, then halt.
    async fn isolate_poison(
        &self,
        leader: &mut Leader,
        from: Position,
        events: &[RecordedEvent],
        error: ProjectionError,
    ) -> Result<(), RuntimeError> {
        if let Some((id, position)) = error.event {
            match events.iter().position(|e| e.id == id) {
                // The projection named it: apply what precedes it as one batch, then halt.
                Some(index) if index > 0 => {
                    match self.apply(leader, from, &events[..index], false).await? {
                        Batch::Applied => {
                            return self
                                .halt(leader, &error.message, Some((id, position)))
                                .await;
                        }
                        Batch::Stale => return Ok(()),
                        // The named event was not the first to fail; search one at a time.
                        Batch::Failed(_) => {}
                    }
                }
                _ => {
                    return self
                        .halt(leader, &error.message, Some((id, position)))
                        .await;
                }
            }
        }
        if events.len() == 1 {
            let event = &events[0];
            return self
                .halt(leader, &error.message, Some((event.id, event.position)))
                .await;
        }
        let mut at = from;
        for event in events {
            match self
                .apply(leader, at, std::slice::from_ref(event), false)
                .await?
            {
                Batch::Applied => at = event.position,
                Batch::Stale => return Ok(()),
                Batch::Failed(error) => {
                    let poison = error.event.unwrap_or((event.id, event.position));
                    return self.halt(leader, &error.message, Some(poison)).await;
                }
            }
        }
        // Every event applied on its own: the batch failure was transient, nothing to halt for.
        tracing::warn!(projection = self.name(), %error, "batch failed but each event applied alone; continuing");
        Ok(())
    }

    async fn halt(
        &self,
        leader: &mut Leader,
        message: &str,
        event: Option<(Uuid, Position)>,
    ) -> Result<(), RuntimeError> {
        let name = self.name();
        match event {
            Some((event_id, position)) => tracing::error!(
                projection = name, %event_id, %position, error = message,
                "projection halted on a poison event; fix the projection, then `taizhang projections resume {name}` or rebuild"
            ),
            None => tracing::error!(projection = name, error = message, "projection halted"),
        }
        postgres::mark_halted(&mut leader.conn, name, message, event).await?;
        leader.halted = true;
        Ok(())
    }

    /// Halted: keep the lock (so no standby retries the poison event), keep lag visible, and
    /// watch for a resume or a rebuild that clears the halt.
    async fn while_halted(
        &self,
        leader: &mut Leader,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), RuntimeError> {
        let name = self.name();
        if Instant::now() >= leader.next_lag {
            let from = postgres::checkpoint(&mut leader.conn, name).await?;
            let lag = postgres::measure_lag(&mut leader.conn, from).await?;
            postgres::record_lag(&mut leader.conn, name, lag).await?;
            leader.next_lag = Instant::now() + self.options.lag_interval;
        }
        tokio::select! {
            () = tokio::time::sleep(self.options.standby_retry) => {}
            _ = shutdown.changed() => return Ok(()),
        }
        if postgres::state(&mut leader.conn, name).await?.as_deref() == Some("running") {
            tracing::info!(projection = name, "halt cleared; applying again");
            leader.halted = false;
        }
        Ok(())
    }
}

/// Starts one runner on its own task; see [`Projectors`] for several.
pub fn spawn_runner(
    store: &PgEventStore,
    projection: SharedProjection,
    options: RunnerOptions,
    shutdown: watch::Receiver<bool>,
) -> Result<JoinHandle<()>, RuntimeError> {
    let runner = Runner::new(store.clone(), projection, options)?;
    Ok(tokio::spawn(runner.run(shutdown)))
}

/// True once shutdown was requested or its sender dropped (either way, nobody wants us running).
fn stopping(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}
