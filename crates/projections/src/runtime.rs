//! The runner: feeds $all into one projection, as the one active instance across processes, on
//! either backend ([`crate::backend`] says what differs: leadership, transactions, wake-ups).
//!
//! Per projection, a runner holds a dedicated connection. It takes the projection's leadership or
//! stands by, retrying every [`RunnerOptions::standby_retry`]. As leader it loops: read a batch of
//! $all after the checkpoint (outside any transaction that has written, because PostgreSQL's store
//! only returns events below the oldest running transaction), then on its own connection begin the
//! batch transaction, check the stored checkpoint is still the one it read from, apply, refresh
//! when caught up, save the checkpoint and the status, tell waiters, commit. A poison event halts
//! the projection visibly: the runner finds it within the batch, commits the events before it and
//! records the halt; it never retries the event until resumed. Losing the connection loses the
//! open transaction, and on PostgreSQL the leadership with it, so a standby taking over can never
//! see a batch half applied or applied twice; on SQLite the lease is checked under the file's
//! write lock at every commit.

use std::any::Any;
use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use eventstore::{
    AnyEventStore, EventStore, Filter, PgEventStore, Position, RecordedEvent, SqliteEventStore,
};
use futures::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

use crate::backend::postgres::PgBackend;
use crate::backend::sqlite::SqliteBackend;
use crate::backend::{Backend, BatchStatus, Begin, Session, Wakeup};
use crate::dyn_projection::SharedProjection;
use crate::status::Lag;
use crate::{CaughtUp, ProjectionError, RuntimeError, Touched};

/// First re-read after a wake-up that found nothing readable yet (doubling from there).
const QUICK_POLL: Duration = Duration::from_millis(5);

/// Tuning of a runner, the same on both backends. The defaults suit production; tests shorten
/// the intervals.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Events read and applied per transaction.
    pub batch_size: usize,
    /// How often a standby retries the leadership (bounds the takeover time), and how often a
    /// halted projection looks for a resume.
    pub standby_retry: Duration,
    /// How often the leader reads $all when nothing wakes it: the delay for events appended by
    /// another process on SQLite, a safety net on PostgreSQL (NOTIFY) and for this process's
    /// appends on SQLite (an in-process signal).
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
    /// Pause before reconnecting after a database error, and before restarting a runner that
    /// panicked.
    pub retry_delay: Duration,
    /// SQLite: how long the leadership (a lease row) lasts without renewal, i.e. how soon a
    /// standby takes over from a runner that died. Batches renew it, an idle or halted leader
    /// every quarter of it. On PostgreSQL the leadership is the connection's advisory lock and
    /// ends with the connection.
    pub lease: Duration,
    /// Names this process in `projection_status.holder` (PostgreSQL appends the backend pid,
    /// SQLite an id of the runner).
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
            lease: Duration::from_secs(10),
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

/// The supervised runners of several projections in this process, on either backend. Each runner
/// retries after a database error and keeps a halted projection halted (visible in the status
/// table) while the others go on; the supervisor adds what a runner cannot do for itself: when it
/// panics (a bug in a projection, say), the panic is logged and the runner starts again after
/// [`RunnerOptions::retry_delay`]. Dropping it stops the runners like
/// [`Projectors::shutdown`] without waiting.
pub struct Projectors {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Projectors {
    /// Starts one supervised runner per projection on PostgreSQL, each on its own task and
    /// connection.
    pub fn start(
        store: &PgEventStore,
        projections: Vec<SharedProjection>,
        options: RunnerOptions,
    ) -> Result<Projectors, RuntimeError> {
        let backend = PgBackend {
            store: store.clone(),
        };
        Projectors::spawn(&backend, projections, options)
    }

    /// The same on SQLite.
    pub fn start_sqlite(
        store: &SqliteEventStore,
        projections: Vec<SharedProjection>,
        options: RunnerOptions,
    ) -> Result<Projectors, RuntimeError> {
        let backend = SqliteBackend {
            store: store.clone(),
        };
        Projectors::spawn(&backend, projections, options)
    }

    /// The same on whichever backend the store lives in.
    pub fn start_any(
        store: &AnyEventStore,
        projections: Vec<SharedProjection>,
        options: RunnerOptions,
    ) -> Result<Projectors, RuntimeError> {
        match store {
            AnyEventStore::Postgres(store) => Projectors::start(store, projections, options),
            AnyEventStore::Sqlite(store) => Projectors::start_sqlite(store, projections, options),
        }
    }

    /// Refuses names that are not lower_snake_case or that appear twice (two runners of one
    /// process would contend for one leadership, and on SQLite share a holder).
    fn spawn<B: Backend>(
        backend: &B,
        projections: Vec<SharedProjection>,
        options: RunnerOptions,
    ) -> Result<Projectors, RuntimeError> {
        let mut seen = HashSet::new();
        for projection in &projections {
            let name = projection.name();
            crate::postgres::validate_name(name)?;
            if !seen.insert(name) {
                return Err(RuntimeError::Projection {
                    projection: name.to_owned(),
                    message: "registered twice".to_owned(),
                });
            }
        }
        let (stop, stopped) = watch::channel(false);
        let tasks = projections
            .into_iter()
            .map(|projection| {
                let runner = Runner::new(backend.clone(), projection, options.clone());
                tokio::spawn(supervise(runner, stopped.clone()))
            })
            .collect();
        Ok(Projectors { stop, tasks })
    }

    /// Stops every runner (a batch in flight is committed first; each runner then gives up its
    /// leadership, so a standby elsewhere takes over at once) and waits for them.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            if let Err(error) = task.await {
                tracing::error!(%error, "projection runner task failed");
            }
        }
    }

    /// Stops every runner at once, dropping connections mid-batch (as a crash would: the batch
    /// rolls back; on SQLite the lease stays until it expires).
    pub fn abort(mut self) {
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
        }
    }
}

impl Drop for Projectors {
    fn drop(&mut self) {
        // A runner stops when told to, not when the sender goes away: tell it.
        let _ = self.stop.send(true);
    }
}

/// Runs `runner` until `stop` turns true, starting it again after it panics.
async fn supervise<B: Backend>(runner: Runner<B>, mut stop: watch::Receiver<bool>) {
    let name = runner.name();
    loop {
        // Polled here, not on a task of its own, so that aborting this task drops the runner's
        // connection too.
        let outcome = AssertUnwindSafe(runner.run(&mut stop)).catch_unwind().await;
        if let Err(panic) = outcome {
            tracing::error!(
                projection = name,
                panic = panic_message(panic.as_ref()),
                "projection runner panicked; restarting it"
            );
        }
        if stopping(&stop) {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(runner.options.retry_delay) => {}
            _ = stop.changed() => {}
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)")
}

/// The runner of one projection on backend `B`.
pub(crate) struct Runner<B: Backend> {
    backend: B,
    /// The backend's store as `after_catch_up` sees it (either backend's).
    store: AnyEventStore,
    projection: SharedProjection,
    options: RunnerOptions,
    /// Tells this runner apart from others of the process (SQLite's lease holder), across
    /// restarts by the supervisor.
    id: String,
}

/// What happened to one batch transaction.
enum Batch {
    Applied,
    /// The stored checkpoint was not the one the batch was read after (another leader or a
    /// rebuild's swap moved it): nothing was written, read again.
    Stale,
    /// The projection failed; the transaction was rolled back.
    Failed(ProjectionError),
    /// Another runner leads now; nothing was written.
    Lost,
}

/// Why a leader session ended without error.
enum Exit {
    Shutdown,
    Lost,
}

/// Where a leader stands.
struct Leader<S, W> {
    session: S,
    wakeup: W,
    halted: bool,
    next_refresh: Instant,
    /// Before this, a caught-up batch skips `after_catch_up` (see `catch_up_refresh_min_interval`).
    refresh_allowed_at: Instant,
    /// After a wake-up, the next waits are short and doubling: on PostgreSQL the announced event
    /// may not be readable yet (an older transaction anywhere on the server still runs), and
    /// waiting for the next wake-up or the full poll interval would add up to half a second.
    quick_poll: Option<Duration>,
    next_lag: Instant,
    /// What the batches since the last `after_catch_up` touched.
    touched: Touched,
}

type LeaderOf<B> = Leader<<B as Backend>::Session, <B as Backend>::Wakeup>;

impl<B: Backend> Runner<B> {
    fn new(backend: B, projection: SharedProjection, options: RunnerOptions) -> Runner<B> {
        Runner {
            store: backend.store().clone().into(),
            backend,
            projection,
            options: RunnerOptions {
                batch_size: options.batch_size.max(1),
                ..options
            },
            id: Uuid::new_v4().simple().to_string(),
        }
    }

    fn name(&self) -> &'static str {
        self.projection.name()
    }

    /// The longest an idle or halted leader waits before keeping its leadership alive.
    fn keep_alive_every(&self) -> Duration {
        (self.options.lease / 4).max(Duration::from_millis(1))
    }

    /// Runs until `shutdown` turns true: stands by, leads, reconnects after errors. Never gives
    /// up on its own; a poison event halts the projection but the runner keeps standing.
    async fn run(&self, shutdown: &mut watch::Receiver<bool>) {
        let name = self.name();
        loop {
            if stopping(shutdown) {
                return;
            }
            match self.session(shutdown).await {
                Ok(Exit::Shutdown) => return,
                Ok(Exit::Lost) => {
                    tracing::warn!(projection = name, "another runner took over; standing by");
                }
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

    /// One connection's life: stand by until the leadership is ours, then lead.
    async fn session(&self, shutdown: &mut watch::Receiver<bool>) -> Result<Exit, RuntimeError> {
        let name = self.name();
        let mut session = self.backend.connect(name, &self.options, &self.id).await?;
        let mut announced = false;
        while !session.try_lead().await? {
            if !announced {
                tracing::info!(
                    projection = name,
                    "another runner leads this projection; standing by"
                );
                announced = true;
            }
            tokio::select! {
                () = tokio::time::sleep(self.options.standby_retry) => {}
                _ = shutdown.changed() => return Ok(Exit::Shutdown),
            }
        }
        // Subscribed before the first read, so a wake-up sent between a read and the wait is kept.
        let wakeup = self.backend.wakeup(name).await;
        let position = session.checkpoint().await?;
        let state = session.claim_status(position).await?;
        tracing::info!(projection = name, holder = session.holder(), %position, %state, "leading projection");
        let now = Instant::now();
        let mut leader = Leader {
            session,
            wakeup,
            halted: state == "halted",
            next_refresh: now,
            refresh_allowed_at: now,
            quick_poll: None,
            next_lag: now,
            // A predecessor may have applied batches whose refresh never ran.
            touched: Touched::All,
        };
        let exit = self.lead(&mut leader, shutdown).await;
        if let Ok(Exit::Shutdown) = exit
            && let Err(error) = leader.session.release().await
        {
            tracing::warn!(projection = name, %error, "cannot give the leadership up; it ends with the connection or lease");
        }
        exit
    }

    async fn lead(
        &self,
        leader: &mut LeaderOf<B>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Exit, RuntimeError> {
        let name = self.name();
        let batch_size = self.options.batch_size;
        loop {
            if stopping(shutdown) {
                return Ok(Exit::Shutdown);
            }
            if leader.halted {
                if !self.while_halted(leader, shutdown).await? {
                    return Ok(Exit::Lost);
                }
                continue;
            }
            let from = leader.session.checkpoint().await?;
            leader.wakeup.before_read();
            // Every event, no filter: the checkpoint must pass every position so that callers can
            // wait for any position of $all.
            let events = self
                .backend
                .store()
                .read_all(from, &Filter::all(), batch_size)
                .await?;
            let caught_up = events.len() < batch_size;
            if events.is_empty() {
                if Instant::now() >= leader.next_refresh && !self.refresh(leader).await? {
                    return Ok(Exit::Lost);
                }
                if self.wait_for_events(leader, shutdown).await {
                    return Ok(Exit::Shutdown);
                }
                if !leader.session.keep_alive().await? {
                    return Ok(Exit::Lost);
                }
                continue;
            }
            leader.quick_poll = None;
            match self.apply(leader, from, &events, caught_up).await? {
                Batch::Applied => {}
                Batch::Stale => {
                    tracing::info!(projection = name, %from, "checkpoint moved under the runner; reading again");
                    // A rebuild swapped its tables in, or another runner wrote: what this
                    // runner's projection remembers of the tables no longer holds.
                    leader.touched = Touched::All;
                }
                Batch::Lost => return Ok(Exit::Lost),
                Batch::Failed(error) => {
                    if !self.isolate_poison(leader, from, &events, error).await? {
                        return Ok(Exit::Lost);
                    }
                }
            }
        }
    }

    /// Waits for a wake-up, the poll interval, the next refresh or shutdown. Returns true on
    /// shutdown.
    async fn wait_for_events(
        &self,
        leader: &mut LeaderOf<B>,
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
        let poll = tokio::time::sleep(wait.min(self.keep_alive_every()));
        let refresh = tokio::time::sleep_until(leader.next_refresh);
        tokio::select! {
            () = leader.wakeup.appended() => leader.quick_poll = Some(QUICK_POLL),
            () = poll => {}
            () = refresh => {}
            _ = shutdown.changed() => return true,
        }
        false
    }

    /// One batch transaction.
    async fn apply(
        &self,
        leader: &mut LeaderOf<B>,
        from: Position,
        events: &[RecordedEvent],
        caught_up: bool,
    ) -> Result<Batch, RuntimeError> {
        let name = self.name();
        let Some(last) = events.last() else {
            return Ok(Batch::Applied);
        };
        let lag_due = !caught_up && Instant::now() >= leader.next_lag;
        match leader.session.begin().await? {
            Begin::Lost => return Ok(Batch::Lost),
            Begin::Leading(stored) if stored != from => {
                leader.session.rollback().await?;
                return Ok(Batch::Stale);
            }
            Begin::Leading(_) => {}
        }
        let applied = {
            let mut tx = leader.session.tx();
            self.projection.apply_batch(&mut tx, events).await
        };
        if let Err(error) = applied {
            // A failing rollback means the connection is gone: that is not the projection's fault.
            leader.session.rollback().await?;
            return Ok(Batch::Failed(error));
        }
        leader.touched.add(events);
        let mut refresh_error = None;
        let refresh_now = caught_up && Instant::now() >= leader.refresh_allowed_at;
        if refresh_now {
            // A savepoint keeps the batch when the refresh fails; the failure halts the projection.
            leader.session.execute("SAVEPOINT after_catch_up").await?;
            let refreshed = {
                let caught_up = CaughtUp {
                    touched: &leader.touched,
                    position: last.position,
                    store: &self.store,
                };
                let mut tx = leader.session.tx();
                self.projection.after_catch_up(&mut tx, &caught_up).await
            };
            if let Err(error) = refreshed {
                leader
                    .session
                    .execute("ROLLBACK TO SAVEPOINT after_catch_up")
                    .await?;
                refresh_error = Some(error);
            }
            leader
                .session
                .execute("RELEASE SAVEPOINT after_catch_up")
                .await?;
        }
        let lag = if caught_up {
            Some(Lag::default())
        } else if lag_due {
            Some(leader.session.measure_lag(last.position).await?)
        } else {
            None
        };
        let status = BatchStatus {
            position: last.position,
            events: events.len() as u64,
            last_event_at: last.recorded_at,
            lag,
        };
        leader.session.commit_batch(&status).await?;
        tracing::debug!(projection = name, events = events.len(), position = %last.position, "applied batch");
        if lag_due {
            leader.next_lag = Instant::now() + self.options.lag_interval;
        }
        if refresh_now {
            self.refreshed(leader);
            if refresh_error.is_none() {
                leader.touched = Touched::none();
            }
        } else if caught_up {
            // Skipped for now: refresh as soon as it is allowed, so the figures follow shortly.
            leader.next_refresh = leader.next_refresh.min(leader.refresh_allowed_at);
        }
        if let Some(error) = refresh_error
            && !self
                .halt(leader, &format!("after_catch_up failed: {error}"), None)
                .await?
        {
            return Ok(Batch::Lost);
        }
        Ok(Batch::Applied)
    }

    /// Schedules the next refreshes after one ran.
    fn refreshed(&self, leader: &mut LeaderOf<B>) {
        let now = Instant::now();
        leader.next_refresh = now + self.options.refresh_interval;
        leader.refresh_allowed_at = now + self.options.catch_up_refresh_min_interval;
    }

    /// `after_catch_up` without new events, in a transaction of its own. False when the
    /// leadership was lost.
    async fn refresh(&self, leader: &mut LeaderOf<B>) -> Result<bool, RuntimeError> {
        self.refreshed(leader);
        let position = match leader.session.begin().await? {
            Begin::Lost => return Ok(false),
            Begin::Leading(position) => position,
        };
        let refreshed = {
            let caught_up = CaughtUp {
                touched: &leader.touched,
                position,
                store: &self.store,
            };
            let mut tx = leader.session.tx();
            self.projection.after_catch_up(&mut tx, &caught_up).await
        };
        match refreshed {
            Ok(()) => {
                leader.session.commit_refresh().await?;
                leader.touched = Touched::none();
                Ok(true)
            }
            Err(error) => {
                leader.session.rollback().await?;
                self.halt(leader, &format!("after_catch_up failed: {error}"), None)
                    .await
            }
        }
    }

    /// A batch failed: find the event that fails, applying the ones before it, then halt. False
    /// when the leadership was lost meanwhile.
    async fn isolate_poison(
        &self,
        leader: &mut LeaderOf<B>,
        from: Position,
        events: &[RecordedEvent],
        error: ProjectionError,
    ) -> Result<bool, RuntimeError> {
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
                        Batch::Stale => return Ok(true),
                        Batch::Lost => return Ok(false),
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
                Batch::Stale => return Ok(true),
                Batch::Lost => return Ok(false),
                Batch::Failed(error) => {
                    let poison = error.event.unwrap_or((event.id, event.position));
                    return self.halt(leader, &error.message, Some(poison)).await;
                }
            }
        }
        // Every event applied on its own: the batch failure was transient, nothing to halt for.
        tracing::warn!(projection = self.name(), %error, "batch failed but each event applied alone; continuing");
        Ok(true)
    }

    /// Halts the projection visibly. False when the leadership was lost (nothing written).
    async fn halt(
        &self,
        leader: &mut LeaderOf<B>,
        message: &str,
        event: Option<(Uuid, Position)>,
    ) -> Result<bool, RuntimeError> {
        let name = self.name();
        if !leader.session.mark_halted(message, event).await? {
            return Ok(false);
        }
        match event {
            Some((event_id, position)) => tracing::error!(
                projection = name, %event_id, %position, error = message,
                "projection halted on a poison event; fix the projection, then `taizhang projections resume {name}` or rebuild"
            ),
            None => tracing::error!(projection = name, error = message, "projection halted"),
        }
        leader.halted = true;
        Ok(true)
    }

    /// Halted: keep the leadership (so no standby retries the poison event), keep lag visible,
    /// and watch for a resume or a rebuild that clears the halt. False when the leadership was
    /// lost.
    async fn while_halted(
        &self,
        leader: &mut LeaderOf<B>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<bool, RuntimeError> {
        let name = self.name();
        if Instant::now() >= leader.next_lag {
            let from = leader.session.checkpoint().await?;
            let lag = leader.session.measure_lag(from).await?;
            leader.session.record_lag(lag).await?;
            leader.next_lag = Instant::now() + self.options.lag_interval;
        }
        let pause = self.options.standby_retry.min(self.keep_alive_every());
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => return Ok(true),
        }
        if !leader.session.keep_alive().await? {
            return Ok(false);
        }
        if leader.session.state().await?.as_deref() == Some("running") {
            tracing::info!(projection = name, "halt cleared; applying again");
            leader.halted = false;
        }
        Ok(true)
    }
}

/// True once shutdown was requested or its sender dropped (either way, nobody wants us running).
fn stopping(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}
