//! Consumers' checkpoints on SQLite, written on the consumer's own connection so they commit (or
//! roll back) together with the consumer's writes, as on PostgreSQL.

use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;

use crate::error::{to_i64, to_u64};
use crate::verify::micros;
use crate::{Position, StoreError};

/// Stores `position` as the checkpoint `name`. Call it inside the transaction that holds the
/// consumer's writes (`save_checkpoint(&mut tx, …)` with a `sqlx::Transaction` begun on the
/// store's pool; `BEGIN IMMEDIATE` avoids a "database is locked" upgrade failure mid-way).
pub async fn save_checkpoint(
    conn: &mut SqliteConnection,
    name: &str,
    position: Position,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO checkpoints (name, commit_pos, prepare_pos, updated_at) \
         VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (name) DO UPDATE SET commit_pos = excluded.commit_pos, \
         prepare_pos = excluded.prepare_pos, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(to_i64(position.commit, "commit position")?)
    .bind(position.prepare)
    .bind(micros(OffsetDateTime::now_utc()))
    .execute(conn)
    .await?;
    Ok(())
}

/// The checkpoint `name`, or `None` when it was never saved.
pub async fn load_checkpoint(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<Option<Position>, StoreError> {
    let row = sqlx::query("SELECT commit_pos, prepare_pos FROM checkpoints WHERE name = ?1")
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
