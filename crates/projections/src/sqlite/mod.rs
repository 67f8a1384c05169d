//! The read models on SQLite: the same projections as on PostgreSQL (their logic goes through
//! [`crate::store::RowStore`] and [`crate::Tx`]), run by the same runner ([`crate::Projectors`]
//! with the SQLite backend of [`crate::backend`]), over the `reporting_` tables of
//! migrations/sqlite.
//!
//! What differs from PostgreSQL (docs/sqlite.md): one active runner per projection is a lease row
//! (`projection_leases`) instead of an advisory lock; batches run in `BEGIN IMMEDIATE`, which holds
//! the file's write lock, so the lease check, the writes and the checkpoint commit together; an
//! append wakes this process's runners through the store's in-process signal. The figures are
//! the core's on both (the ledger's after-catch-up refresh writes them through the same
//! [`crate::store::RowStore`]). Rebuild: [`rebuild`] (fresh tables, swapped in by renaming).

mod progress;
mod rebuild;
pub(crate) mod status;
mod tables;

pub(crate) use progress::progress_of;
pub use rebuild::rebuild;
pub use status::{lag, progress_signal, resume, status, statuses, wait_for};
pub use tables::{PREFIX, SqliteTables, normalize_decimal};
