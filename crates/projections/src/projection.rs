//! What a projection is to the runtime.

use std::future::Future;

use eventstore::RecordedEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use eventstore::Position;

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

/// A read model fed from $all.
///
/// The runtime calls [`Projection::apply_batch`] inside a transaction whose `search_path` is the
/// schema being written: `reporting` normally, a fresh schema during a rebuild. Projections
/// therefore never schema-qualify their own tables. The runtime commits the writes together with
/// the checkpoint, so a batch is applied exactly once or not at all.
pub trait Projection: Send + Sync + 'static {
    /// Stable name: the checkpoint key, the row in `reporting.projection_status`, the CLI argument.
    fn name(&self) -> &'static str;

    /// The tables this projection owns, in creation order (referenced tables first). A rebuild
    /// recreates exactly these in a fresh schema and swaps them in.
    fn tables(&self) -> &'static [&'static str];

    /// Applies `events` (in $all order, already upcast) to the read model. Events the projection
    /// does not care about are skipped. Must be deterministic: a rebuild replays the same events.
    fn apply_batch<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        events: &'a [RecordedEvent],
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send + 'a;

    /// Called after a batch when the projection has caught up with $all (not during a rebuild),
    /// in the same transaction: the place to refresh figures that depend on today's date.
    fn after_catch_up<'a>(
        &'a self,
        _conn: &'a mut PgConnection,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send + 'a {
        async { Ok(()) }
    }
}
