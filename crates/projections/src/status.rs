//! What `reporting.projection_status` says, lag, and the resume switch.

use eventstore::Position;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{RuntimeError, postgres};

/// How far a projection is behind $all.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Lag {
    /// Events in $all after the checkpoint (counting stops at [`postgres::LAG_COUNT_CAP`]).
    pub events: i64,
    /// Age of the oldest event not yet applied, in seconds (0 when caught up).
    pub seconds: f64,
}

/// One row of `reporting.projection_status`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionStatus {
    pub projection: String,
    /// `running`, `halted` or `rebuilding`.
    pub state: String,
    pub position: Position,
    pub events_applied: i64,
    pub last_event_at: Option<OffsetDateTime>,
    /// As last recorded by the runner (see [`lag`] for a fresh measurement).
    pub lag: Lag,
    pub error: Option<String>,
    pub error_event_id: Option<Uuid>,
    pub error_position: Option<Position>,
    pub holder: Option<String>,
    pub updated_at: OffsetDateTime,
}

impl ProjectionStatus {
    pub fn is_halted(&self) -> bool {
        self.state == "halted"
    }
}

/// Every projection's status row, by name.
pub async fn statuses(pool: &PgPool) -> Result<Vec<ProjectionStatus>, RuntimeError> {
    let mut conn = pool.acquire().await?;
    postgres::statuses(&mut conn).await
}

/// Measures the lag of `projection` now: events after its checkpoint and the age of the first.
/// Two index lookups on the event table, cheap enough for a readiness probe or a metrics scrape.
pub async fn lag(pool: &PgPool, projection: &str) -> Result<Lag, RuntimeError> {
    let mut conn = pool.acquire().await?;
    let from = postgres::checkpoint(&mut conn, projection).await?;
    postgres::measure_lag(&mut conn, from).await
}

/// Clears a halted projection so its runner retries from its checkpoint (after the cause was
/// fixed, e.g. by deploying a corrected projection). Returns false when it was not halted.
pub async fn resume(pool: &PgPool, projection: &str) -> Result<bool, RuntimeError> {
    let mut conn = pool.acquire().await?;
    let resumed = postgres::resume(&mut conn, projection).await?;
    if resumed {
        tracing::info!(projection, "projection resumed");
    }
    Ok(resumed)
}
