//! Rebuild on SQLite: replay $all into fresh tables, then swap them in by renaming, in one
//! transaction.
//!
//! The fresh tables are `rebuild_<name>_<table>`, created from the live tables' own `CREATE TABLE`
//! text (so columns, generated columns, keys and checks are the same) with references among the
//! projection's tables pointed at the fresh ones. The replay runs in short `BEGIN IMMEDIATE`
//! batches while the live runner keeps serving the old tables. The swap holds the file's write lock
//! (so no live batch is in flight): it applies what arrived meanwhile, drops the old tables,
//! renames the new ones (SQLite rewrites the foreign keys among them), recreates the indexes, sets
//! the checkpoint and a running status (clearing any halt) and commits. Readers see the old tables
//! or the new ones, never a mix; the live runner finds the checkpoint moved and continues after it.

use eventstore::sqlite::save_checkpoint;
use eventstore::{EventStore, Filter, Position, SqliteEventStore};
use sqlx::{Connection, SqliteConnection};

use super::status::record_progress;
use super::{PREFIX, SqliteTables};
use crate::{CaughtUp, RuntimeError, SharedProjection, Touched, Tx};

/// Events read and applied per transaction during the replay.
const REPLAY_BATCH: usize = 1000;

/// Replaces every occurrence of the identifier `from` in `sql` (not as part of a longer one).
fn rename_identifier(sql: &str, from: &str, to: &str) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(sql.len());
    let (mut copied, mut search) = (0, 0);
    while let Some(found) = sql[search..].find(from) {
        let start = search + found;
        let end = start + from.len();
        let alone = !sql[..start].chars().next_back().is_some_and(is_word)
            && !sql[end..].chars().next().is_some_and(is_word);
        if alone {
            out.push_str(&sql[copied..start]);
            out.push_str(to);
            copied = end;
        }
        search = end;
    }
    out.push_str(&sql[copied..]);
    out
}

fn invalid(projection: &str, message: String) -> RuntimeError {
    RuntimeError::Projection {
        projection: projection.to_owned(),
        message,
    }
}

/// `CREATE` statements of `table` in the file: the table's, then its explicit indexes'.
async fn definition(
    conn: &mut SqliteConnection,
    table: &str,
) -> Result<(Option<String>, Vec<String>), RuntimeError> {
    let create: Option<String> =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1")
            .bind(table)
            .fetch_optional(&mut *conn)
            .await?;
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL \
         ORDER BY name",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    Ok((create, indexes))
}

/// Rebuilds `projection` (its [`Projection::tables`](crate::Projection::tables)) from the start of
/// $all and swaps the result in. Returns the position the rebuilt tables reflect.
pub async fn rebuild(
    store: &SqliteEventStore,
    projection: SharedProjection,
) -> Result<Position, RuntimeError> {
    let name = projection.name();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(RuntimeError::InvalidName(name.to_owned()));
    }
    let tables = projection.tables();
    let fresh = format!("rebuild_{name}_");
    let mut conn = store.pool().acquire().await?;

    // Fresh tables, from the live ones' definitions (leftovers of a failed rebuild dropped first).
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    for table in tables.iter().rev() {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP TABLE IF EXISTS {fresh}{table}"
        )))
        .execute(&mut *tx)
        .await?;
    }
    for table in tables {
        let (create, _) = definition(&mut tx, &format!("{PREFIX}{table}")).await?;
        let mut sql =
            create.ok_or_else(|| invalid(name, format!("table {PREFIX}{table} does not exist")))?;
        for other in tables {
            sql = rename_identifier(
                &sql,
                &format!("{PREFIX}{other}"),
                &format!("{fresh}{other}"),
            );
        }
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;

    // Replay in short transactions, beside the live runner.
    let mut position = Position::START;
    let mut applied = 0usize;
    loop {
        let events = store
            .read_all(position, &Filter::all(), REPLAY_BATCH)
            .await?;
        let Some(last) = events.last() else { break };
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        projection
            .apply_batch(&mut Tx::Sqlite(SqliteTables::new(&mut tx, &fresh)), &events)
            .await
            .map_err(|e| invalid(name, format!("rebuild failed: {}", e.message)))?;
        tx.commit().await?;
        position = last.position;
        applied += events.len();
        tracing::debug!(projection = name, applied, "rebuild replaying");
    }

    // The swap, under the write lock: nothing can append or apply meanwhile.
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    loop {
        let events = store
            .read_all(position, &Filter::all(), REPLAY_BATCH)
            .await?;
        let Some(last) = events.last() else { break };
        projection
            .apply_batch(&mut Tx::Sqlite(SqliteTables::new(&mut tx, &fresh)), &events)
            .await
            .map_err(|e| invalid(name, format!("rebuild failed: {}", e.message)))?;
        position = last.position;
        applied += events.len();
    }
    // Today's figures into the fresh tables before they go live, as the runner would after
    // catching up (PostgreSQL's rebuild calls after_catch_up the same way).
    let any_store = eventstore::AnyEventStore::from(store.clone());
    let caught_up = CaughtUp {
        touched: &Touched::All,
        position,
        store: &any_store,
    };
    projection
        .after_catch_up(
            &mut Tx::Sqlite(SqliteTables::new(&mut tx, &fresh)),
            &caught_up,
        )
        .await
        .map_err(|e| {
            invalid(
                name,
                format!("after_catch_up failed after rebuild: {}", e.message),
            )
        })?;
    let mut indexes = Vec::new();
    for table in tables {
        indexes.extend(definition(&mut tx, &format!("{PREFIX}{table}")).await?.1);
    }
    for table in tables.iter().rev() {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {PREFIX}{table}")))
            .execute(&mut *tx)
            .await?;
    }
    for table in tables {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {fresh}{table} RENAME TO {PREFIX}{table}"
        )))
        .execute(&mut *tx)
        .await?;
    }
    for index in indexes {
        sqlx::query(sqlx::AssertSqlSafe(index))
            .execute(&mut *tx)
            .await?;
    }
    save_checkpoint(&mut tx, name, position).await?;
    sqlx::query(
        "UPDATE reporting_projection_status SET state = 'running', events_applied = 0, \
         error = NULL, error_event_id = NULL, error_position_commit = NULL, \
         error_position_prepare = NULL WHERE projection = ?1",
    )
    .bind(name)
    .execute(&mut *tx)
    .await?;
    record_progress(&mut tx, name, "rebuild", position, None, applied).await?;
    tx.commit().await?;
    tracing::info!(
        projection = name,
        applied,
        "projection rebuilt and swapped in"
    );
    Ok(position)
}

#[cfg(test)]
mod tests {
    use super::rename_identifier;

    #[test]
    fn only_whole_identifiers_are_renamed() {
        let sql = "CREATE TABLE reporting_monthly_investment (p TEXT REFERENCES reporting_projects (id), \
                   x TEXT REFERENCES reporting_monthly_investment_reports(id))";
        let renamed = rename_identifier(sql, "reporting_monthly_investment", "fresh_mi");
        assert_eq!(
            renamed,
            "CREATE TABLE fresh_mi (p TEXT REFERENCES reporting_projects (id), \
                   x TEXT REFERENCES reporting_monthly_investment_reports(id))"
        );
        assert_eq!(
            rename_identifier("a_b a_bc xa_b a_b", "a_b", "z"),
            "z a_bc xa_b z"
        );
    }
}
