//! The projections on whichever backend the store lives in: what the server and the CLI call when
//! the configuration (a database URL) chose the backend at run time. Each call goes to the
//! backend's own runtime or status functions; nothing here speaks SQL.

use eventstore::{AnyEventStore, Database};

use crate::sqlite::{SqliteProjectors, SqliteRunnerOptions};
use crate::status::{Lag, ProjectionStatus};
use crate::{Clock, Projectors, RunnerOptions, RuntimeError};

/// The running projectors of this process, on PostgreSQL or on SQLite. Dropping it stops them
/// without waiting.
pub enum AnyProjectors {
    Postgres(Projectors),
    Sqlite(SqliteProjectors),
}

impl AnyProjectors {
    /// Every projection of this binary ([`crate::all`] / [`crate::sqlite::all`]) on the store's
    /// backend, one supervised runner each. On SQLite the runners take the batch size, poll
    /// interval, retry delay and holder of `options`
    /// ([`SqliteRunnerOptions::from_runner_options`]).
    pub fn start(
        store: &AnyEventStore,
        clock: Clock,
        options: RunnerOptions,
    ) -> Result<AnyProjectors, RuntimeError> {
        Ok(match store {
            AnyEventStore::Postgres(store) => {
                AnyProjectors::Postgres(Projectors::start(store, crate::all(clock), options)?)
            }
            AnyEventStore::Sqlite(store) => AnyProjectors::Sqlite(SqliteProjectors::start(
                store,
                crate::sqlite::all(clock),
                SqliteRunnerOptions::from_runner_options(&options),
            )?),
        })
    }

    /// Stops every runner after its batch in flight and waits for them.
    pub async fn shutdown(self) {
        match self {
            AnyProjectors::Postgres(p) => p.shutdown().await,
            AnyProjectors::Sqlite(p) => p.shutdown().await,
        }
    }

    /// Stops every runner at once, mid-batch (as a crash would).
    pub fn abort(self) {
        match self {
            AnyProjectors::Postgres(p) => p.abort(),
            AnyProjectors::Sqlite(p) => p.abort(),
        }
    }
}

/// The names of the projections this binary runs, in order: the ones a server waits for after an
/// append. The same on both backends (a test holds the two lists to it).
pub fn projection_names() -> Vec<&'static str> {
    crate::all(crate::system_clock())
        .iter()
        .map(|p| p.name())
        .collect()
}

/// Every projection's status row, by name.
pub async fn statuses_in(db: &Database) -> Result<Vec<ProjectionStatus>, RuntimeError> {
    match db {
        Database::Postgres(pool) => crate::statuses(pool).await,
        Database::Sqlite(pool) => crate::sqlite::statuses(pool).await,
    }
}

/// The lag of `projection`, measured now.
pub async fn lag_in(db: &Database, projection: &str) -> Result<Lag, RuntimeError> {
    match db {
        Database::Postgres(pool) => crate::lag(pool, projection).await,
        Database::Sqlite(pool) => crate::sqlite::lag(pool, projection).await,
    }
}

/// Clears a halted projection so its runner retries from its checkpoint; false when it was not
/// halted.
pub async fn resume_in(db: &Database, projection: &str) -> Result<bool, RuntimeError> {
    match db {
        Database::Postgres(pool) => crate::resume(pool, projection).await,
        Database::Sqlite(pool) => crate::sqlite::resume(pool, projection).await,
    }
}
