//! Waiting until projections have passed a position of $all (read-your-writes for the API: append,
//! then wait for the read models to include the append, then answer from them).
//!
//! On PostgreSQL, runners NOTIFY [`postgres::CHANNEL`] after each committed batch; waiters listen
//! and re-read the checkpoints, and poll as well, so a lost notification costs latency, never a
//! wrong answer. On SQLite there is no LISTEN: runners of this process bump
//! [`sqlite::progress_signal`](crate::sqlite::progress_signal) after each commit and waiters wake
//! on it; commits of other processes on the file are found by the same polling. Which projections
//! are behind, halted or through is decided by one function ([`decide`]) for both backends.

use std::sync::Arc;
use std::time::Duration;

use eventstore::{Database, Position};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::postgres::Progress;
use crate::{RuntimeError, postgres};

/// How often a waiter re-reads checkpoints when no notification (or, on SQLite, no in-process
/// signal) arrives.
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
    let db = Database::Postgres(pool.clone());
    if let Some(outcome) = check(&db, &names_of(which), position, timeout.is_zero()).await? {
        return Ok(outcome);
    }
    Waiter::start(pool.clone())
        .wait_for(which, position, timeout)
        .await
}

/// A shared listener for many waits (on PostgreSQL one connection for the whole process; on SQLite
/// a subscription to the runners' in-process signal). Cheap to clone; the listening task stops
/// when the last clone is dropped.
#[derive(Clone)]
pub struct Waiter {
    db: Database,
    inner: Arc<WaiterInner>,
}

struct WaiterInner {
    /// Changes when some projection may have moved: a NOTIFY on PostgreSQL, a commit of a runner
    /// of this process on SQLite.
    ticks: watch::Receiver<u64>,
    /// The PostgreSQL listening task (SQLite needs none).
    task: Option<JoinHandle<()>>,
}

impl Drop for WaiterInner {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl Waiter {
    /// Starts the listening task on PostgreSQL.
    pub fn start(pool: PgPool) -> Waiter {
        Waiter::start_for(Database::Postgres(pool))
    }

    /// A waiter on the database the store lives in, whichever backend it is.
    pub fn start_for(db: Database) -> Waiter {
        let (ticks, task) = match &db {
            Database::Postgres(pool) => {
                let (sender, ticks) = watch::channel(0u64);
                let task = tokio::spawn(listen_forever(pool.clone(), sender));
                (ticks, Some(task))
            }
            Database::Sqlite(_) => (crate::sqlite::progress_signal(), None),
        };
        Waiter {
            db,
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
        let mut ticks = self.inner.ticks.clone();
        ticks.borrow_and_update();
        loop {
            let timed_out = Instant::now() >= deadline;
            if let Some(outcome) = check(&self.db, &names, position, timed_out).await? {
                return Ok(outcome);
            }
            tokio::select! {
                // A closed channel (the listening task ended) disables this branch: poll only.
                Ok(()) = ticks.changed() => {}
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
            // The pool closes at a graceful shutdown: an orderly stop, not a failure.
            Err(_) if pool.is_closed() => return,
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
                Err(_) if pool.is_closed() => return,
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
    db: &Database,
    names: &[String],
    position: Position,
    timed_out: bool,
) -> Result<Option<WaitOutcome>, RuntimeError> {
    let progress = match db {
        Database::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            postgres::progress_of(&mut conn, names).await?
        }
        Database::Sqlite(pool) => crate::sqlite::progress_of(pool, names).await?,
    };
    Ok(decide(progress, position, timed_out))
}

/// The decision on both backends: a projection at or after `position` is through; one before it
/// that is halted ends the wait (waiting longer would not help); the others are behind.
fn decide(progress: Vec<Progress>, position: Position, timed_out: bool) -> Option<WaitOutcome> {
    let mut behind = Vec::new();
    for p in progress {
        if p.checkpoint.is_some_and(|c| c >= position) {
            continue;
        }
        if p.state.as_deref() == Some("halted") {
            return Some(WaitOutcome::Halted { projection: p.name });
        }
        behind.push(p.name);
    }
    if behind.is_empty() {
        Some(WaitOutcome::Reached)
    } else if timed_out {
        Some(WaitOutcome::TimedOut { behind })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use eventstore::Position;

    use super::{WaitOutcome, decide};
    use crate::postgres::Progress;

    fn at(commit: u64) -> Option<Position> {
        Some(Position {
            commit,
            prepare: i64::try_from(commit).unwrap_or(i64::MAX),
        })
    }

    fn progress(name: &str, checkpoint: Option<Position>, state: Option<&str>) -> Progress {
        Progress {
            name: name.to_owned(),
            checkpoint,
            state: state.map(str::to_owned),
        }
    }

    #[test]
    fn through_behind_halted_and_timed_out() {
        let target = Position {
            commit: 10,
            prepare: 10,
        };
        let through = || progress("a", at(10), Some("running"));
        assert_eq!(
            decide(vec![through()], target, false),
            Some(WaitOutcome::Reached)
        );
        // Nothing to wait for is reached at once (Which::All before any projection ran).
        assert_eq!(
            decide(Vec::new(), target, false),
            Some(WaitOutcome::Reached)
        );
        let behind = || progress("b", at(9), Some("running"));
        assert_eq!(decide(vec![through(), behind()], target, false), None);
        assert_eq!(
            decide(
                vec![through(), behind(), progress("c", None, None)],
                target,
                true
            ),
            Some(WaitOutcome::TimedOut {
                behind: vec!["b".into(), "c".into()]
            })
        );
        // Halted before the position ends the wait; halted after it does not matter.
        assert_eq!(
            decide(
                vec![behind(), progress("h", at(3), Some("halted"))],
                target,
                false
            ),
            Some(WaitOutcome::Halted {
                projection: "h".into()
            })
        );
        assert_eq!(
            decide(vec![progress("h", at(11), Some("halted"))], target, false),
            Some(WaitOutcome::Reached)
        );
    }
}
