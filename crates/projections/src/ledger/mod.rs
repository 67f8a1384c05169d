//! The `ledger` projection: every table of the reporting schema except the timeline.
//!
//! A batch is applied in three steps: load the rows the batch touches (one query per table),
//! apply the events to those rows in memory in $all order, write the changed rows back (one
//! statement per table). History tables (assignments, agreements, plans, reports, targets, rules…)
//! only grow; they carry the recorded-at time of each fact so that the metric functions can
//! answer for any past moment. After the batch, when the projection has caught up, the
//! date-dependent figures (target progress, ranking, lights, deadline flags) are refreshed by
//! `reporting.refresh_current` for today's date in the county's time zone.

mod apply;
mod decode;
mod rows;
pub(crate) mod store;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eventstore::RecordedEvent;
use time::{Date, UtcOffset};

use crate::{Clock, Projection, ProjectionError, Touched, Tx};

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
    /// When last year's figures were last refreshed (see `after_catch_up`).
    prior_year_refreshed: Arc<Mutex<Option<Instant>>>,
}

/// Last year's figures change rarely (late reports and corrections in the first months), and
/// every refresh runs inside a batch transaction that holds back `$all` readers: so caught-up
/// batches refresh this year every time and last year at most this often. The runtime's timer
/// (every minute) keeps both current even without new events.
const PRIOR_YEAR_REFRESH_EVERY: Duration = Duration::from_secs(30);

impl LedgerProjection {
    pub const NAME: &'static str = "ledger";

    pub fn new(clock: Clock) -> Self {
        LedgerProjection {
            clock,
            prior_year_refreshed: Arc::new(Mutex::new(None)),
        }
    }

    /// Today in the county and the years `after_catch_up` refreshes now: this year every time,
    /// last year too when PRIOR_YEAR_REFRESH_EVERY has passed since it last was (the same cadence
    /// on both backends).
    pub(crate) fn refresh_years(&self) -> (Date, Vec<i32>) {
        let today = county_today(&self.clock);
        let prior_due = {
            let mut last = self
                .prior_year_refreshed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let due = last.is_none_or(|at| at.elapsed() >= PRIOR_YEAR_REFRESH_EVERY);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        let years = if prior_due {
            vec![today.year() - 1, today.year()]
        } else {
            vec![today.year()]
        };
        (today, years)
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
        _touched: &Touched,
    ) -> Result<(), ProjectionError> {
        let (today, years) = self.refresh_years();
        match tx {
            Tx::Postgres(conn) => {
                // JIT compiles these large queries for longer than they run (migration 0103);
                // LOCAL keeps the setting to this batch transaction.
                sqlx::query("SET LOCAL jit = off")
                    .execute(&mut **conn)
                    .await?;
                for year in years {
                    sqlx::query("SELECT refresh_current($1, $2)")
                        .bind(year)
                        .bind(today)
                        .execute(&mut **conn)
                        .await?;
                }
            }
            Tx::Sqlite(tables) => {
                let prefix = tables.prefix().to_owned();
                for year in years {
                    crate::sqlite::metrics::refresh_current(tables.conn(), &prefix, year, today)
                        .await?;
                }
            }
        }
        Ok(())
    }
}
