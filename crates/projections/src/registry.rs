//! The projections this binary runs. The read models register here; the runtime, the CLI and the
//! API take the list from [`all`].

use std::sync::Arc;

use time::OffsetDateTime;

use crate::SharedProjection;

/// The current time as the read models see it: figures that depend on today's date (lights,
/// overdue items, time progress) read it, and tests pin it.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// The wall clock.
pub fn system_clock() -> Clock {
    Arc::new(OffsetDateTime::now_utc)
}

/// Every projection, in the order they are rebuilt.
pub fn all(clock: Clock) -> Vec<SharedProjection> {
    vec![
        crate::shared(crate::LedgerProjection::new(clock)),
        crate::shared(crate::TimelineProjection),
    ]
}

/// The projection called `name` among `projections`.
pub fn find(projections: &[SharedProjection], name: &str) -> Option<SharedProjection> {
    projections.iter().find(|p| p.name() == name).cloned()
}
