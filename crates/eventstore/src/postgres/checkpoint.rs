//! Consumers' checkpoints, written on the consumer's own connection so they commit (or roll back)
//! together with the consumer's writes.

use sqlx::{PgConnection, Row};

use super::errors::{to_i64, to_u64};
use crate::{Position, StoreError};

/// Stores `position` as the checkpoint `name`. Call it inside the transaction that holds the
/// consumer's writes (`save_checkpoint(&mut tx, …)` with a `sqlx::Transaction`).
pub async fn save_checkpoint(
    conn: &mut PgConnection,
    name: &str,
    position: Position,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO eventstore.checkpoints (name, commit_pos, prepare_pos, updated_at) \
         VALUES ($1, $2, $3, now()) \
         ON CONFLICT (name) DO UPDATE \
         SET commit_pos = excluded.commit_pos, prepare_pos = excluded.prepare_pos, updated_at = now()",
    )
    .bind(name)
    .bind(to_i64(position.commit, "commit position")?)
    .bind(position.prepare)
    .execute(conn)
    .await?;
    Ok(())
}

/// The checkpoint `name`, or `None` when it was never saved.
pub async fn load_checkpoint(
    conn: &mut PgConnection,
    name: &str,
) -> Result<Option<Position>, StoreError> {
    let row =
        sqlx::query("SELECT commit_pos, prepare_pos FROM eventstore.checkpoints WHERE name = $1")
            .bind(name)
            .fetch_optional(conn)
            .await?;
    row.map(|r| {
        Ok(Position {
            commit: to_u64(r.try_get("commit_pos")?, "commit position")?,
            prepare: r.try_get("prepare_pos")?,
        })
    })
    .transpose()
}
