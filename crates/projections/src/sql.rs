//! Loading and writing read-model rows in bulk. One statement per table per batch: rows go to
//! PostgreSQL as one JSON array (`jsonb_populate_recordset`) and come back as JSON text
//! (`row_to_json`), with numeric columns cast to text so that areas keep their exact decimals.
//! Table names are unqualified: the runtime's `search_path` picks `reporting` or a rebuild schema.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgConnection;

use crate::ProjectionError;

/// A table a projection writes: its name, key columns and the columns it writes (generated
/// columns are left out), plus which of those are `numeric` and must be read back as text.
pub struct Table {
    pub name: &'static str,
    pub key: &'static [&'static str],
    pub columns: &'static [&'static str],
    pub numeric: &'static [&'static str],
}

fn select_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|c| {
            if table.numeric.contains(c) {
                format!("{c}::text AS {c}")
            } else {
                (*c).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows of `table` matching `condition` (SQL over the table's columns, binding `$1` to `keys`).
pub async fn load<T, K>(
    conn: &mut PgConnection,
    table: &Table,
    condition: &str,
    keys: &[K],
) -> Result<Vec<T>, ProjectionError>
where
    T: DeserializeOwned,
    K: for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + sqlx::postgres::PgHasArrayType
        + Sync,
{
    let sql = format!(
        "SELECT row_to_json(t)::text FROM (SELECT {} FROM {} WHERE {condition}) t",
        select_list(table),
        table.name
    );
    let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(keys)
        .fetch_all(conn)
        .await?;
    texts
        .iter()
        .map(|text| {
            serde_json::from_str(text).map_err(|e| {
                ProjectionError::batch(format!("cannot read a row of {}: {e}", table.name))
            })
        })
        .collect()
}

/// What to do when a written row's key exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// History rows: a second row for the same fact is a bug, so the batch fails (and halts).
    Fail,
    /// Current-state rows: the new row replaces the old.
    Update,
    /// First-occurrence rows (milestones): the first one stays.
    Ignore,
}

/// Inserts `rows`, resolving existing keys as `conflict` says.
pub async fn write<T: Serialize>(
    conn: &mut PgConnection,
    table: &Table,
    rows: &[T],
    conflict: Conflict,
) -> Result<(), ProjectionError> {
    if rows.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_string(rows).map_err(|e| {
        ProjectionError::batch(format!("cannot encode rows of {}: {e}", table.name))
    })?;
    let columns = table.columns.join(", ");
    let mut sql = format!(
        "INSERT INTO {name} ({columns}) SELECT {columns} FROM jsonb_populate_recordset(NULL::{name}, $1::jsonb)",
        name = table.name
    );
    if conflict == Conflict::Ignore {
        sql.push_str(&format!(
            " ON CONFLICT ({}) DO NOTHING",
            table.key.join(", ")
        ));
    }
    if conflict == Conflict::Update {
        let updates: Vec<&str> = table
            .columns
            .iter()
            .copied()
            .filter(|c| !table.key.contains(c))
            .collect();
        let excluded: Vec<String> = updates.iter().map(|c| format!("excluded.{c}")).collect();
        sql.push_str(&format!(
            " ON CONFLICT ({}) DO UPDATE SET ({}) = ROW({})",
            table.key.join(", "),
            updates.join(", "),
            excluded.join(", ")
        ));
    }
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(json)
        .execute(conn)
        .await?;
    Ok(())
}
