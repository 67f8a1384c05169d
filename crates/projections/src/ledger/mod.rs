//! The `ledger` projection: every table of the reporting schema except the timeline.
//!
//! A batch is applied in three steps: load the rows the batch touches (one query per table),
//! apply the events to those rows in memory in $all order, write the changed rows back (one
//! statement per table). History tables (assignments, agreements, plans, reports, targets, rules…)
//! only grow; they carry the recorded-at time of each fact. After the batch, when the projection
//! has caught up, the date-dependent figures (target progress, ranking, lights, deadline flags)
//! for today in the county's time zone are computed by the `figures` core and the rows that
//! changed are written (`stored`).

mod apply;
mod decode;
mod rows;
pub(crate) mod store;
mod stored;

use std::sync::Arc;

use eventstore::RecordedEvent;
use time::{Date, UtcOffset};

use crate::{CaughtUp, Clock, Projection, ProjectionError, Touched, Tx};

pub use decode::{Aggregate, Decoded, actor_of, decode};

/// The county's time zone: China Standard Time, UTC+8 all year (no daylight saving).
pub const COUNTY_OFFSET_HOURS: i8 = 8;

/// Today's date in the county, by `clock`.
pub fn county_today(clock: &Clock) -> Date {
    let offset = UtcOffset::from_hms(COUNTY_OFFSET_HOURS, 0, 0).unwrap_or(UtcOffset::UTC);
    clock().to_offset(offset).date()
}

/// The ledger read model.
#[derive(Clone)]
pub struct LedgerProjection {
    clock: Clock,
    /// The facts and the figure rows written from them (see `stored`), kept between batches.
    stored: Arc<tokio::sync::Mutex<stored::StoredFigures>>,
    /// Day of the next month by which a month's figures count as reported on time.
    deadline_day: u8,
}

/// The environment variable that sets the reporting deadline (day 1–28 of the next month).
pub const REPORTING_DEADLINE_DAY_VAR: &str = "TAIZHANG_REPORTING_DEADLINE_DAY";

/// The reporting deadline when nothing says otherwise: the 5th of the next month.
pub const DEFAULT_REPORTING_DEADLINE_DAY: u8 = 5;

/// The deadline day from the environment; an unusable value is logged and the default used
/// (the figures stay available; the log says why the snapshots use the 5th).
fn deadline_day_from_env() -> u8 {
    match std::env::var(REPORTING_DEADLINE_DAY_VAR) {
        Err(_) => DEFAULT_REPORTING_DEADLINE_DAY,
        Ok(text) => match text.trim().parse::<u8>() {
            Ok(day) if (1..=28).contains(&day) => day,
            _ => {
                tracing::error!(
                    variable = REPORTING_DEADLINE_DAY_VAR,
                    value = %text,
                    "the reporting deadline must be a day from 1 to 28; using the 5th"
                );
                DEFAULT_REPORTING_DEADLINE_DAY
            }
        },
    }
}

impl LedgerProjection {
    pub const NAME: &'static str = "ledger";

    pub fn new(clock: Clock) -> Self {
        LedgerProjection {
            clock,
            stored: Arc::default(),
            deadline_day: deadline_day_from_env(),
        }
    }

    /// With the reporting deadline on `day` (1–28) of the next month.
    pub fn with_deadline_day(self, day: u8) -> Self {
        LedgerProjection {
            deadline_day: day.clamp(1, 28),
            ..self
        }
    }
}

impl std::fmt::Debug for LedgerProjection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LedgerProjection(today = {})", county_today(&self.clock))
    }
}

/// Decodes `events` and applies them through `conn`, whichever backend it is: the one
/// implementation of the ledger.
pub(crate) async fn apply_events<S: store::LedgerStore>(
    conn: &mut S,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    let decoded = events.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    apply::apply_batch(conn, &decoded).await
}

impl Projection for LedgerProjection {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "units",
            "projects",
            "project_assignments",
            "agreements",
            "annual_plans",
            "project_milestones",
            "monthly_investment_reports",
            "monthly_investment",
            "expropriation_targets",
            "expropriation_reports",
            "expropriation_progress",
            "land_deliveries",
            "targets",
            "target_progress",
            "supervision_items",
            "accountability_records",
            "rule_settings",
            "unit_ranking",
            "dashboard",
            "dashboard_snapshots",
            "target_progress_snapshots",
            "unit_ranking_snapshots",
        ]
    }

    async fn apply_batch(
        &self,
        tx: &mut Tx<'_>,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        apply_events(tx, events).await
    }

    async fn after_catch_up(
        &self,
        tx: &mut Tx<'_>,
        caught_up: &CaughtUp<'_>,
    ) -> Result<(), ProjectionError> {
        let now = (self.clock)();
        let today = county_today(&self.clock);
        let mut stored = self.stored.lock().await;
        if caught_up.touched == &Touched::All {
            stored.forget_written();
        }
        // Last year's figures keep moving in the first months (late reports, corrections).
        let years = [today.year(), today.year() - 1];
        let refreshed = stored
            .refresh(
                tx,
                caught_up.store,
                caught_up.position,
                today,
                now,
                &years,
                self.deadline_day,
            )
            .await;
        if refreshed.is_err() {
            // The transaction rolls back: what was written is unknown again.
            stored.forget_written();
        }
        refreshed
    }
}
