//! Checkpoint and state of projections on SQLite, for waiters (the SQLite side of
//! `postgres::progress_of`; the decision on them is shared, in `crate::wait`).

use sqlx::{Row, SqlitePool};

use crate::RuntimeError;
use crate::postgres::Progress;

/// Checkpoint and state of each named projection (every projection with a status row when
/// `names` is empty). On SQLite the checkpoint row is named after the projection itself.
pub(crate) async fn progress_of(
    pool: &SqlitePool,
    names: &[String],
) -> Result<Vec<Progress>, RuntimeError> {
    let wanted = serde_json::Value::from(names.to_vec()).to_string();
    let rows = sqlx::query(
        "WITH wanted(name) AS ( \
             SELECT value FROM json_each(?1) WHERE json_array_length(?1) > 0 \
             UNION ALL \
             SELECT projection FROM reporting_projection_status WHERE json_array_length(?1) = 0) \
         SELECT w.name AS name, c.commit_pos AS commit_pos, c.prepare_pos AS prepare_pos, \
                s.state AS state \
         FROM wanted w \
         LEFT JOIN checkpoints c ON c.name = w.name \
         LEFT JOIN reporting_projection_status s ON s.projection = w.name",
    )
    .bind(wanted)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let commit: Option<i64> = r.try_get("commit_pos")?;
            let prepare: Option<i64> = r.try_get("prepare_pos")?;
            let checkpoint = match (commit, prepare) {
                (Some(commit), Some(prepare)) => Some(eventstore::Position {
                    commit: u64::try_from(commit).map_err(|_| {
                        RuntimeError::PositionRange(format!("commit position {commit}"))
                    })?,
                    prepare,
                }),
                _ => None,
            };
            Ok(Progress {
                name: r.try_get("name")?,
                checkpoint,
                state: r.try_get("state")?,
            })
        })
        .collect()
}
