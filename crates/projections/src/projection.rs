//! What a projection is to the runtime, on either backend.

use std::collections::BTreeSet;
use std::future::Future;

use eventstore::{AnyEventStore, Position, RecordedEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::sqlite::SqliteTables;
use crate::store::{Conflict, Keys, RowStore, Table};

/// Why a projection could not apply events. `event` names the poison event when it is known; the
/// runtime finds it by re-applying a failed batch one event at a time when it is not.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ProjectionError {
    pub event: Option<(Uuid, Position)>,
    pub message: String,
}

impl ProjectionError {
    pub fn at(event: &RecordedEvent, message: impl Into<String>) -> Self {
        ProjectionError {
            event: Some((event.id, event.position)),
            message: message.into(),
        }
    }

    pub fn batch(message: impl Into<String>) -> Self {
        ProjectionError {
            event: None,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for ProjectionError {
    fn from(error: sqlx::Error) -> Self {
        ProjectionError::batch(format!("database error: {error}"))
    }
}

/// The batch transaction a projection writes in, on the backend the store lives in.
///
/// On PostgreSQL the connection's `search_path` is the schema being written (`reporting`, or a
/// fresh schema during a rebuild), so projections never schema-qualify their own tables. On SQLite
/// the tables are named [`SqliteTables::prefix`] + table (`reporting_`, or a rebuild's prefix).
/// Both are a [`RowStore`], so read-model logic written against it runs on either without a match.
pub enum Tx<'c> {
    Postgres(&'c mut PgConnection),
    Sqlite(SqliteTables<'c>),
}

impl RowStore for Tx<'_> {
    async fn load<T: DeserializeOwned + Send>(
        &mut self,
        table: &Table,
        column: &'static str,
        keys: Keys<'_>,
    ) -> Result<Vec<T>, ProjectionError> {
        match self {
            Tx::Postgres(conn) => RowStore::load(&mut **conn, table, column, keys).await,
            Tx::Sqlite(tables) => tables.load(table, column, keys).await,
        }
    }

    async fn write<T: Serialize + Sync>(
        &mut self,
        table: &Table,
        rows: &[T],
        conflict: Conflict,
    ) -> Result<(), ProjectionError> {
        match self {
            Tx::Postgres(conn) => RowStore::write(&mut **conn, table, rows, conflict).await,
            Tx::Sqlite(tables) => tables.write(table, rows, conflict).await,
        }
    }

    async fn update<T: Serialize + Sync>(
        &mut self,
        table: &Table,
        rows: &[T],
    ) -> Result<(), ProjectionError> {
        match self {
            Tx::Postgres(conn) => RowStore::update(&mut **conn, table, rows).await,
            Tx::Sqlite(tables) => tables.update(table, rows).await,
        }
    }

    async fn delete(
        &mut self,
        table: &Table,
        column: &'static str,
        keys: Keys<'_>,
    ) -> Result<(), ProjectionError> {
        match self {
            Tx::Postgres(conn) => RowStore::delete(&mut **conn, table, column, keys).await,
            Tx::Sqlite(tables) => tables.delete(table, column, keys).await,
        }
    }
}

/// What changed since a projection's last [`Projection::after_catch_up`]: the streams whose
/// events the runner applied in between, so that the hook can recompute only what they touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    /// Unknown: the first refresh of a runner (a predecessor may have applied batches whose
    /// refresh never ran), and after a rebuild. Recompute everything.
    All,
    /// These streams, and nothing else (empty: a refresh for the calendar alone).
    Streams(BTreeSet<String>),
}

impl Touched {
    /// Nothing touched yet.
    pub fn none() -> Touched {
        Touched::Streams(BTreeSet::new())
    }

    /// Adds the streams of `events`.
    pub fn add(&mut self, events: &[RecordedEvent]) {
        if let Touched::Streams(streams) = self {
            for event in events {
                if !streams.contains(&event.stream) {
                    streams.insert(event.stream.clone());
                }
            }
        }
    }

    /// The ids of the touched streams of `category` (`project` → the `<uuid>` of every
    /// `project-<uuid>` stream); `None` when everything counts as touched.
    pub fn ids_in<'t>(&'t self, category: &str) -> Option<BTreeSet<&'t str>> {
        match self {
            Touched::All => None,
            Touched::Streams(streams) => Some(
                streams
                    .iter()
                    .filter_map(|s| s.split_once('-'))
                    .filter(|(c, _)| *c == category)
                    .map(|(_, id)| id)
                    .collect(),
            ),
        }
    }
}

/// Where a projection stands when [`Projection::after_catch_up`] runs.
pub struct CaughtUp<'a> {
    /// What changed since the hook last ran.
    pub touched: &'a Touched,
    /// The last event applied (its checkpoint once the transaction commits); [`Position::START`]
    /// before any.
    pub position: Position,
    /// The store, for a projection that keeps facts in memory and reads `$all` up to `position`
    /// (through the pool, never in the batch transaction: on PostgreSQL `$all` stops below the
    /// oldest running transaction, which would be that one).
    pub store: &'a AnyEventStore,
}

/// A read model fed from $all, on PostgreSQL or SQLite.
///
/// The runtime calls [`Projection::apply_batch`] inside the batch transaction ([`Tx`]) and
/// commits the writes together with the checkpoint, so a batch is applied exactly once or not at
/// all.
pub trait Projection: Send + Sync + 'static {
    /// Stable name: the checkpoint key, the row in `reporting.projection_status`, the CLI argument.
    fn name(&self) -> &'static str;

    /// The tables this projection owns, in creation order (referenced tables first). A rebuild
    /// recreates exactly these in a fresh schema (or with a fresh prefix) and swaps them in.
    fn tables(&self) -> &'static [&'static str];

    /// Applies `events` (in $all order, already upcast) to the read model. Events the projection
    /// does not care about are skipped. Must be deterministic: a rebuild replays the same events.
    fn apply_batch<'a>(
        &'a self,
        tx: &'a mut Tx<'_>,
        events: &'a [RecordedEvent],
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send + 'a;

    /// Called once the projection has caught up with $all, in the batch transaction of the batch
    /// that caught up (or, for the calendar, in a transaction of its own about every
    /// [`RunnerOptions::refresh_interval`](crate::RunnerOptions::refresh_interval)), and after a
    /// rebuild: the place for figures that depend on today's date or on many events. `caught_up`
    /// says what changed since it last ran and where the projection stands. An error halts the projection (the batch stays).
    fn after_catch_up<'a>(
        &'a self,
        _tx: &'a mut Tx<'_>,
        _caught_up: &'a CaughtUp<'a>,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send + 'a {
        async { Ok(()) }
    }
}
