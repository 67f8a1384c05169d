//! Waiting until projections have passed a position of $all (read-your-writes for the API: append,
//! then wait for the read models to include the append, then answer from them).
//!
//! Runners NOTIFY [`postgres::CHANNEL`] after each committed batch; waiters listen and re-read the
//! checkpoints, and poll as well, so a lost notification costs latency, never a wrong answer.

use std::sync::Arc;
use std::time::Duration;

use eventstore::Position;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::{RuntimeError, postgres};

/// How often a waiter re-reads checkpoints when no notification arrives.
const POLL: Duration = Duration::from_millis(100);

/// Which projections to wait for.
#[derive(Debug, Clone, Copy)]
pub enum Which<'a> {
    /// Every projection with a row in `reporting.projection_status` (every one that ever ran).
    All,
    Named(&'a [&'a str]),
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitOutcome {
    /// Every projection's checkpoint is at or after the position.
    Reached,
    /// Time ran out; these projections were still before the position.
    TimedOut { behind: Vec<String> },
    /// This projection is halted before the position: waiting longer would not help.
    Halted { projection: String },
}

impl WaitOutcome {
    pub fn is_reached(&self) -> bool {
        *self == WaitOutcome::Reached
    }
}

/// Waits until every projection of `which` has passed `position`, or `timeout`.
///
/// Returns at once when the position is already passed; otherwise it listens on a connection of
/// its own for this call. A server that waits often should keep a [`Waiter`] instead.
pub async fn wait_for(
    pool: &PgPool,
    which: Which<'_>,
    position: Position,
    timeout: Duration,
) -> Result<WaitOutcome, RuntimeError> {
    if let Some(outcome) = check(pool, &names_of(which), position, timeout.is_zero()).await? {
        return Ok(outcome);
    }
    Waiter::start(pool.clone())
        .wait_for(which, position, timeout)
        .await
}

/// A shared listener for many waits (one connection for the whole process). Cheap to clone; the
/// listening task stops when the last clone is dropped.
#[derive(Clone)]
pub struct Waiter {
    pool: PgPool,
    inner: Arc<WaiterInner>,
}

struct WaiterInner {
    ticks: watch::Sender<u64>,
    task: JoinHandle<()>,
}

impl Drop for WaiterInner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Waiter {
    /// Starts the listening task.
    pub fn start(pool: PgPool) -> Waiter {
        let (ticks, _) = watch::channel(0u64);
        let task = tokio::spawn(listen_forever(pool.clone(), ticks.clone()));
        Waiter {
            pool,
            inner: Arc::new(WaiterInner { ticks, task }),
        }
    }

    /// Like [`wait_for`], over the shared listener.
    pub async fn wait_for(
        &self,
        which: Which<'_>,
        position: Position,
        timeout: Duration,
    ) -> Result<WaitOutcome, RuntimeError> {
        let deadline = Instant::now() + timeout;
        let names = names_of(which);
        // Subscribed before the first check, so a batch committed after the check wakes us.
        let mut ticks = self.inner.ticks.subscribe();
        loop {
            let timed_out = Instant::now() >= deadline;
            if let Some(outcome) = check(&self.pool, &names, position, timed_out).await? {
                return Ok(outcome);
            }
            tokio::select! {
                _ = ticks.changed() => {}
                () = tokio::time::sleep(POLL) => {}
                () = tokio::time::sleep_until(deadline) => {}
            }
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(postgres::CHANNEL).await?;
    Ok(listener)
}

async fn listen_forever(pool: PgPool, ticks: watch::Sender<u64>) {
    loop {
        let mut listener = match listen(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for projection progress; retrying (waiters poll meanwhile)");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        loop {
            match listener.recv().await {
                Ok(_) => {
                    ticks.send_modify(|n| *n = n.wrapping_add(1));
                }
                Err(error) => {
                    tracing::warn!(%error, "projection listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}

fn names_of(which: Which<'_>) -> Vec<String> {
    match which {
        Which::All => Vec::new(),
        Which::Named(names) => names.iter().map(|n| (*n).to_owned()).collect(),
    }
}

/// The outcome if the wait is over: reached, halted, or (when `timed_out`) timed out.
async fn check(
    pool: &PgPool,
    names: &[String],
    position: Position,
    timed_out: bool,
) -> Result<Option<WaitOutcome>, RuntimeError> {
    let mut conn = pool.acquire().await?;
    let progress = postgres::progress_of(&mut conn, names).await?;
    let mut behind = Vec::new();
    for p in progress {
        if p.checkpoint.is_some_and(|c| c >= position) {
            continue;
        }
        if p.state.as_deref() == Some("halted") {
            return Ok(Some(WaitOutcome::Halted { projection: p.name }));
        }
        behind.push(p.name);
    }
    if behind.is_empty() {
        Ok(Some(WaitOutcome::Reached))
    } else if timed_out {
        Ok(Some(WaitOutcome::TimedOut { behind }))
    } else {
        Ok(None)
    }
}
