//! The ledger's few queries beyond loading and writing rows, one implementation per SQL dialect:
//! the latest plan revision per project and year, the latest target revisions, and marking the
//! latest revision current. Everything else the ledger does goes through [`RowStore`].

use std::future::Future;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::ProjectionError;
use crate::store::RowStore;

/// `(project, year, latest revision, its planned start month)`.
pub type LatestPlan = (Uuid, i32, i32, Option<String>);
/// `(year, scope, metric, latest revision)`.
pub type TargetRevision = (i32, String, String, i32);

pub trait LedgerStore: RowStore {
    /// The latest revision of every annual plan of `projects`, with its planned start month.
    fn latest_plans(
        &mut self,
        projects: &[Uuid],
    ) -> impl Future<Output = Result<Vec<LatestPlan>, ProjectionError>> + Send;

    /// The latest revision of every target of `years`.
    fn target_revisions(
        &mut self,
        years: &[i32],
    ) -> impl Future<Output = Result<Vec<TargetRevision>, ProjectionError>> + Send;

    /// Sets `is_current` on the annual plans of `projects`: true for the latest revision only.
    fn mark_current_plans(
        &mut self,
        projects: &[Uuid],
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Sets `is_current` on the targets of `years`: true for the latest revision only.
    fn mark_current_targets(
        &mut self,
        years: &[i32],
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;
}

impl LedgerStore for PgConnection {
    async fn latest_plans(
        &mut self,
        projects: &[Uuid],
    ) -> Result<Vec<LatestPlan>, ProjectionError> {
        Ok(sqlx::query_as(
            "SELECT DISTINCT ON (project_id, plan_year) project_id, plan_year, revision, planned_start_period \
             FROM annual_plans WHERE project_id = ANY($1) \
             ORDER BY project_id, plan_year, revision DESC",
        )
        .bind(projects)
        .fetch_all(self)
        .await?)
    }

    async fn target_revisions(
        &mut self,
        years: &[i32],
    ) -> Result<Vec<TargetRevision>, ProjectionError> {
        Ok(sqlx::query_as(
            "SELECT target_year, scope, metric, max(revision) FROM targets \
             WHERE target_year = ANY($1) GROUP BY 1, 2, 3",
        )
        .bind(years)
        .fetch_all(self)
        .await?)
    }

    async fn mark_current_plans(&mut self, projects: &[Uuid]) -> Result<(), ProjectionError> {
        sqlx::query(
            "UPDATE annual_plans a SET is_current = (a.revision = m.latest) \
             FROM (SELECT project_id, plan_year, max(revision) AS latest FROM annual_plans \
                   WHERE project_id = ANY($1) GROUP BY 1, 2) m \
             WHERE a.project_id = m.project_id AND a.plan_year = m.plan_year \
               AND a.is_current IS DISTINCT FROM (a.revision = m.latest)",
        )
        .bind(projects)
        .execute(self)
        .await?;
        Ok(())
    }

    async fn mark_current_targets(&mut self, years: &[i32]) -> Result<(), ProjectionError> {
        sqlx::query(
            "UPDATE targets t SET is_current = (t.revision = m.latest) \
             FROM (SELECT target_year, scope, metric, max(revision) AS latest FROM targets \
                   WHERE target_year = ANY($1) GROUP BY 1, 2, 3) m \
             WHERE t.target_year = m.target_year AND t.scope = m.scope AND t.metric = m.metric \
               AND t.is_current IS DISTINCT FROM (t.revision = m.latest)",
        )
        .bind(years)
        .execute(self)
        .await?;
        Ok(())
    }
}
