//! Errors of the projector runtime (the projections' own errors are [`crate::ProjectionError`]).

use eventstore::{Position, StoreError};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event store error: {0}")]
    Store(#[from] StoreError),
    #[error("unknown projection {0:?}")]
    UnknownProjection(String),
    #[error(
        "invalid projection name {0:?}: use lower_snake_case (it becomes part of schema names)"
    )]
    InvalidName(String),
    #[error("a rebuild of projection {0} is already running")]
    RebuildRunning(String),
    #[error("projection {projection} failed on event {event_id} at {position}: {message}")]
    Poison {
        projection: String,
        event_id: Uuid,
        position: Position,
        message: String,
    },
    #[error("projection {projection} failed: {message}")]
    Projection { projection: String, message: String },
    #[error("position out of range: {0}")]
    PositionRange(String),
}
