//! The read models on SQLite: the same ledger and timeline logic as on PostgreSQL (through
//! [`crate::store::RowStore`]), a runner per projection over a [`SqliteEventStore`](eventstore::SqliteEventStore),
//! and the `reporting_` tables of migrations/sqlite.
//!
//! What differs from PostgreSQL (docs/sqlite.md): one active runner per projection is a lease row
//! (`projection_leases`) instead of an advisory lock; batches run in `BEGIN IMMEDIATE`, which holds
//! the file's write lock, so the lease check, the writes and the checkpoint commit together. The
//! metric functions are SQLite queries of their own ([`metrics`]), which the ledger's
//! after-catch-up refresh runs as PostgreSQL's does. Rebuild: [`rebuild`] (fresh tables, swapped in
//! by renaming).

pub mod metrics;
mod progress;
mod rebuild;
mod runtime;
mod supervisor;
mod tables;

use std::sync::Arc;

use eventstore::RecordedEvent;
use futures::future::BoxFuture;
use sqlx::SqliteConnection;

use crate::{LedgerProjection, ProjectionError, TimelineProjection};

pub(crate) use progress::progress_of;
pub use rebuild::rebuild;
pub use runtime::{
    SqliteRunner, SqliteRunnerOptions, Step, lag, progress_signal, resume, status, statuses,
    wait_for,
};
pub use supervisor::SqliteProjectors;
pub use tables::{PREFIX, SqliteTables, normalize_decimal};

/// A read model fed from $all on SQLite. Implemented by the ledger and the timeline with the same
/// event → row code they run on PostgreSQL.
pub trait SqliteProjection: Send + Sync + 'static {
    /// Stable name: the checkpoint key and the row in `reporting_projection_status`.
    fn name(&self) -> &'static str;

    /// The tables it owns, without the prefix, referenced ones first: what a rebuild recreates.
    fn tables(&self) -> &'static [&'static str];

    /// Applies `events` to the tables named `prefix` + table, inside the runner's transaction.
    fn apply_sqlite<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        prefix: &'a str,
        events: &'a [RecordedEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>>;

    /// Runs after a batch that caught up with $all (and, about once a minute, when idle), inside
    /// the runner's transaction, on the tables named `prefix` + table: figures that depend on
    /// today's date. Default: nothing.
    fn after_catch_up_sqlite<'a>(
        &'a self,
        _conn: &'a mut SqliteConnection,
        _prefix: &'a str,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async { Ok(()) })
    }
}

/// A SQLite projection behind a pointer, as the runner holds it.
pub type SharedSqliteProjection = Arc<dyn SqliteProjection>;

impl SqliteProjection for LedgerProjection {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        crate::Projection::tables(self)
    }

    fn apply_sqlite<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        prefix: &'a str,
        events: &'a [RecordedEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let mut tables = SqliteTables::new(conn, prefix);
            crate::ledger::apply_events(&mut tables, events).await
        })
    }

    // PostgreSQL's after_catch_up with the SQLite queries of `metrics` (the same years: this one
    // every time, last year at most every PRIOR_YEAR_REFRESH_EVERY).
    fn after_catch_up_sqlite<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let (today, years) = self.refresh_years();
            for year in years {
                metrics::refresh_current(conn, prefix, year, today).await?;
            }
            Ok(())
        })
    }
}

impl SqliteProjection for TimelineProjection {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        crate::Projection::tables(self)
    }

    fn apply_sqlite<'a>(
        &'a self,
        conn: &'a mut SqliteConnection,
        prefix: &'a str,
        events: &'a [RecordedEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let mut tables = SqliteTables::new(conn, prefix);
            crate::timeline::apply(&mut tables, events).await
        })
    }
}

/// The ledger and the timeline, for a runner each.
pub fn all(clock: crate::Clock) -> Vec<SharedSqliteProjection> {
    vec![
        Arc::new(LedgerProjection::new(clock)),
        Arc::new(TimelineProjection),
    ]
}
