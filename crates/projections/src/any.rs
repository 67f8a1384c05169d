//! The projections' status on whichever backend the store lives in: what the server and the CLI
//! call when the configuration (a database URL) chose the backend at run time. Each call goes to
//! the backend's own status functions; nothing here speaks SQL. (Running them on either backend:
//! [`crate::Projectors::start_any`].)

use eventstore::Database;

use crate::RuntimeError;
use crate::status::{Lag, ProjectionStatus};

/// The names of the projections this binary runs, in order: the ones a server waits for after an
/// append (the same list runs on both backends).
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
