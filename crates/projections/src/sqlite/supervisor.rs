//! The runners of several projections on SQLite, supervised: what [`crate::Projectors`] is on
//! PostgreSQL.
//!
//! One task per projection runs a [`SqliteRunner`]. The runner itself retries after a database
//! error and keeps a halted projection halted (visible in `reporting_projection_status`) while the
//! others go on; the supervisor adds what the runner cannot do for itself: when the runner ends
//! with an error or panics (a bug in a projection, say), the error is logged and a fresh runner is
//! started after [`SqliteRunnerOptions::retry_delay`], under the same holder so it renews its own
//! lease instead of waiting for it to expire.

use std::any::Any;
use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use eventstore::SqliteEventStore;
use futures::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::{SharedSqliteProjection, SqliteRunner, SqliteRunnerOptions};
use crate::{RunnerOptions, RuntimeError};

/// Least lease whatever the poll interval: a runner renews its lease every poll, and a lease
/// shorter than a few polls would be lost to a busy machine.
const MIN_LEASE: Duration = Duration::from_secs(10);
/// How many poll intervals a lease lasts at least.
const LEASE_POLLS: u32 = 20;

impl SqliteRunnerOptions {
    /// The SQLite runner's options for the PostgreSQL runner's `options`: the same batch size,
    /// poll interval and retry delay; the holder made unique per call (the SQLite lease tells
    /// runners apart by holder alone, where PostgreSQL appends its backend pid); a lease of at
    /// least [`MIN_LEASE`] and [`LEASE_POLLS`] poll intervals. The PostgreSQL-only tunings (the
    /// standby retry, refresh and lag intervals) have no SQLite counterpart: a standby tries the
    /// lease every poll, and lag is recorded with every batch.
    pub fn from_runner_options(options: &RunnerOptions) -> SqliteRunnerOptions {
        SqliteRunnerOptions {
            batch_size: options.batch_size.max(1),
            lease: MIN_LEASE.max(options.poll_interval.saturating_mul(LEASE_POLLS)),
            poll_interval: options.poll_interval,
            retry_delay: options.retry_delay,
            holder: format!("{}/{}", options.holder, Uuid::new_v4().simple()),
        }
    }
}

/// The supervised runners of several projections on one SQLite store. Dropping it stops them like
/// [`SqliteProjectors::shutdown`] without waiting.
pub struct SqliteProjectors {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl SqliteProjectors {
    /// Starts one supervised runner per projection, each on its own task. Refuses names that are
    /// not lower_snake_case or that appear twice (two runners under one holder would both believe
    /// they hold the lease).
    pub fn start(
        store: &SqliteEventStore,
        projections: Vec<SharedSqliteProjection>,
        options: SqliteRunnerOptions,
    ) -> Result<SqliteProjectors, RuntimeError> {
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
        let options = SqliteRunnerOptions {
            batch_size: options.batch_size.max(1),
            ..options
        };
        let (stop, stopped) = watch::channel(false);
        let tasks = projections
            .into_iter()
            .map(|projection| {
                tokio::spawn(supervise(
                    store.clone(),
                    projection,
                    options.clone(),
                    stopped.clone(),
                ))
            })
            .collect();
        Ok(SqliteProjectors { stop, tasks })
    }

    /// Stops every runner (a batch in flight is committed first; each runner then releases its
    /// lease, so a standby elsewhere takes over at once) and waits for them.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            if let Err(error) = task.await {
                tracing::error!(%error, "SQLite projection supervisor task failed");
            }
        }
    }

    /// Stops every runner at once, dropping a batch mid-transaction (as a crash would: SQLite
    /// rolls it back; the lease stays until it expires).
    pub fn abort(mut self) {
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
        }
    }
}

impl Drop for SqliteProjectors {
    fn drop(&mut self) {
        // A runner stops when told to, not when the sender goes away: tell it.
        let _ = self.stop.send(true);
    }
}

/// Runs `projection` until `stop` turns true, starting a fresh runner after one fails or panics.
async fn supervise(
    store: SqliteEventStore,
    projection: SharedSqliteProjection,
    options: SqliteRunnerOptions,
    mut stop: watch::Receiver<bool>,
) {
    let name = projection.name();
    loop {
        if *stop.borrow() {
            return;
        }
        let runner = SqliteRunner::new(store.clone(), projection.clone(), options.clone());
        // The runner's future is polled here, not on a task of its own, so that aborting this
        // task drops the runner too.
        let outcome = AssertUnwindSafe(runner.run(stop.clone()))
            .catch_unwind()
            .await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(projection = name, %error, "projection runner failed; restarting it")
            }
            Err(panic) => tracing::error!(
                projection = name,
                panic = panic_message(panic.as_ref()),
                "projection runner panicked; restarting it"
            ),
        }
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(options.retry_delay) => {}
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
