//! Loading and writing read-model rows in bulk. One statement per table per batch: rows go to
//! PostgreSQL as one JSON array (`jsonb_populate_recordset`) and come back as JSON text
//! (`to_jsonb`), with numeric columns cast to text so that areas keep their exact decimals.
//! Table names are unqualified: the runtime's `search_path` picks `reporting` or a rebuild schema.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgConnection;

use crate::ProjectionError;
use crate::store::{Conflict, Keys, RowStore, Table, decode_rows, encode_rows};

/// `to_jsonb(t)`, with the numeric columns as text.
fn row_json(table: &Table) -> String {
    let overrides: Vec<String> = table
        .numeric
        .iter()
        .map(|c| format!("'{c}', t.{c}::text"))
        .collect();
    if overrides.is_empty() {
        "to_jsonb(t)".to_owned()
    } else {
        format!(
            "to_jsonb(t) || jsonb_build_object({})",
            overrides.join(", ")
        )
    }
}

/// Rows of `table` matching `condition` (SQL over the table's columns, binding `$1` to `keys`).
async fn load<T, K>(
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
    // Columns the row type does not name (generated ones) are ignored when deserializing.
    let sql = format!(
        "SELECT ({})::text FROM {} t WHERE {condition}",
        row_json(table),
        table.name
    );
    let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(keys)
        .fetch_all(conn)
        .await?;
    decode_rows(table, &texts)
}

/// Inserts `rows`, resolving existing keys as `conflict` says.
async fn write<T: Serialize>(
    conn: &mut PgConnection,
    table: &Table,
    rows: &[T],
    conflict: Conflict,
) -> Result<(), ProjectionError> {
    if rows.is_empty() {
        return Ok(());
    }
    let (json, names) = encode_rows(table, rows)?;
    let columns = names.join(", ");
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
        let updates: Vec<&str> = names
            .iter()
            .map(String::as_str)
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

/// Sets the non-key fields of `rows` on the rows with their keys.
async fn update<T: Serialize>(
    conn: &mut PgConnection,
    table: &Table,
    rows: &[T],
) -> Result<(), ProjectionError> {
    if rows.is_empty() {
        return Ok(());
    }
    let (json, names) = encode_rows(table, rows)?;
    let sets: Vec<String> = names
        .iter()
        .filter(|c| !table.key.contains(&c.as_str()))
        .map(|c| format!("{c} = r.{c}"))
        .collect();
    let matches: Vec<String> = table.key.iter().map(|k| format!("t.{k} = r.{k}")).collect();
    let sql = format!(
        "UPDATE {name} t SET {} FROM jsonb_populate_recordset(NULL::{name}, $1::jsonb) r WHERE {}",
        sets.join(", "),
        matches.join(" AND "),
        name = table.name
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(json)
        .execute(conn)
        .await?;
    Ok(())
}

impl RowStore for PgConnection {
    async fn load<T: DeserializeOwned + Send>(
        &mut self,
        table: &Table,
        column: &'static str,
        keys: Keys<'_>,
    ) -> Result<Vec<T>, ProjectionError> {
        let condition = format!("{column} = ANY($1)");
        match keys {
            Keys::Uuids(keys) => load(self, table, &condition, keys).await,
            Keys::Texts(keys) => load(self, table, &condition, keys).await,
            Keys::Ints(keys) => load(self, table, &condition, keys).await,
        }
    }

    async fn update<T: Serialize + Sync>(
        &mut self,
        table: &Table,
        rows: &[T],
    ) -> Result<(), ProjectionError> {
        update(self, table, rows).await
    }

    async fn delete(
        &mut self,
        table: &Table,
        column: &'static str,
        keys: Keys<'_>,
    ) -> Result<(), ProjectionError> {
        let sql = format!("DELETE FROM {} WHERE {column} = ANY($1)", table.name);
        let query = sqlx::query(sqlx::AssertSqlSafe(sql));
        match keys {
            Keys::Uuids(keys) => query.bind(keys),
            Keys::Texts(keys) => query.bind(keys),
            Keys::Ints(keys) => query.bind(keys),
        }
        .execute(self)
        .await?;
        Ok(())
    }

    async fn write<T: Serialize + Sync>(
        &mut self,
        table: &Table,
        rows: &[T],
        conflict: Conflict,
    ) -> Result<(), ProjectionError> {
        write(self, table, rows, conflict).await
    }
}
