//! The ledger's few queries beyond loading and writing rows, one implementation per SQL dialect:
//! the latest plan revision per project and year, the latest target revisions, and marking the
//! latest revision current. Everything else the ledger does goes through [`RowStore`].

use std::future::Future;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::ProjectionError;
use crate::sqlite::SqliteTables;
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

/// `values` as the JSON array SQLite's `json_each` reads.
fn json_list<T: serde::Serialize>(values: &[T]) -> Result<String, ProjectionError> {
    serde_json::to_string(values)
        .map_err(|e| ProjectionError::batch(format!("cannot encode a key list: {e}")))
}

impl LedgerStore for SqliteTables<'_> {
    async fn latest_plans(
        &mut self,
        projects: &[Uuid],
    ) -> Result<Vec<LatestPlan>, ProjectionError> {
        let plans = self.name("annual_plans");
        let rows: Vec<(String, i32, i32, Option<String>)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT project_id, plan_year, revision, planned_start_period FROM {plans} a \
                 WHERE project_id IN (SELECT value FROM json_each(?1)) \
                   AND revision = (SELECT max(revision) FROM {plans} m \
                                   WHERE m.project_id = a.project_id AND m.plan_year = a.plan_year)"
            )))
            .bind(json_list(projects)?)
            .fetch_all(&mut *self.conn)
            .await?;
        rows.into_iter()
            .map(|(id, year, revision, start)| {
                let id = Uuid::parse_str(&id).map_err(|e| {
                    ProjectionError::batch(format!("{plans}.project_id {id:?} is not a uuid: {e}"))
                })?;
                Ok((id, year, revision, start))
            })
            .collect()
    }

    async fn target_revisions(
        &mut self,
        years: &[i32],
    ) -> Result<Vec<TargetRevision>, ProjectionError> {
        let targets = self.name("targets");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT target_year, scope, metric, max(revision) FROM {targets} \
             WHERE target_year IN (SELECT value FROM json_each(?1)) GROUP BY 1, 2, 3"
        )))
        .bind(json_list(years)?)
        .fetch_all(&mut *self.conn)
        .await?)
    }

    async fn mark_current_plans(&mut self, projects: &[Uuid]) -> Result<(), ProjectionError> {
        let plans = self.name("annual_plans");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {plans} AS a SET is_current = (a.revision = \
                 (SELECT max(m.revision) FROM {plans} m \
                  WHERE m.project_id = a.project_id AND m.plan_year = a.plan_year)) \
             WHERE a.project_id IN (SELECT value FROM json_each(?1))"
        )))
        .bind(json_list(projects)?)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn mark_current_targets(&mut self, years: &[i32]) -> Result<(), ProjectionError> {
        let targets = self.name("targets");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {targets} AS t SET is_current = (t.revision = \
                 (SELECT max(m.revision) FROM {targets} m WHERE m.target_year = t.target_year \
                  AND m.scope = t.scope AND m.metric = t.metric)) \
             WHERE t.target_year IN (SELECT value FROM json_each(?1))"
        )))
        .bind(json_list(years)?)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }
}

/// The batch transaction of either backend: each query goes to that backend's dialect above.
impl LedgerStore for crate::Tx<'_> {
    async fn latest_plans(
        &mut self,
        projects: &[Uuid],
    ) -> Result<Vec<LatestPlan>, ProjectionError> {
        match self {
            crate::Tx::Postgres(conn) => conn.latest_plans(projects).await,
            crate::Tx::Sqlite(tables) => tables.latest_plans(projects).await,
        }
    }

    async fn target_revisions(
        &mut self,
        years: &[i32],
    ) -> Result<Vec<TargetRevision>, ProjectionError> {
        match self {
            crate::Tx::Postgres(conn) => conn.target_revisions(years).await,
            crate::Tx::Sqlite(tables) => tables.target_revisions(years).await,
        }
    }

    async fn mark_current_plans(&mut self, projects: &[Uuid]) -> Result<(), ProjectionError> {
        match self {
            crate::Tx::Postgres(conn) => conn.mark_current_plans(projects).await,
            crate::Tx::Sqlite(tables) => tables.mark_current_plans(projects).await,
        }
    }

    async fn mark_current_targets(&mut self, years: &[i32]) -> Result<(), ProjectionError> {
        match self {
            crate::Tx::Postgres(conn) => conn.mark_current_targets(years).await,
            crate::Tx::Sqlite(tables) => tables.mark_current_targets(years).await,
        }
    }
}
