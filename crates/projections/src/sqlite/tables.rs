//! Read-model rows on SQLite: the [`RowStore`] of the shared projection logic, over the
//! `reporting_`-prefixed tables of migrations/sqlite/0100_reporting_tables.sql.
//!
//! Rows travel as JSON, as on PostgreSQL: written with one `INSERT … SELECT … FROM json_each(?1)`
//! per table, read back with `json_object` over the table's declared columns (BOOLEAN columns as
//! JSON booleans, JSON columns as JSON). Decimal columns are text, normalised to PostgreSQL's four
//! decimals when written, so the file holds exactly the digits PostgreSQL shows and nothing ever
//! passes through a float.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::SqliteConnection;

use crate::ProjectionError;
use crate::store::{Conflict, Keys, RowStore, Table, decode_rows, encode_rows};

/// The prefix of the reporting tables in the store's file (SQLite has no schemas; why a prefix
/// and not an attached file: migrations/sqlite/0100_reporting_tables.sql).
pub const PREFIX: &str = "reporting_";

/// Digits after the point of every decimal column (PostgreSQL: `numeric(p, 4)`).
const DECIMALS: usize = 4;

/// The reporting tables of one SQLite connection (inside the runner's batch transaction).
pub struct SqliteTables<'c> {
    pub(crate) conn: &'c mut SqliteConnection,
    prefix: &'c str,
}

impl<'c> SqliteTables<'c> {
    pub fn new(conn: &'c mut SqliteConnection, prefix: &'c str) -> Self {
        SqliteTables { conn, prefix }
    }

    /// What the projection's table names start with (`reporting_`, or a rebuild's prefix).
    pub fn prefix(&self) -> &str {
        self.prefix
    }

    /// The connection, inside the batch transaction, for statements of a projection's own.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        self.conn
    }

    /// The name of `table` in the file.
    pub(crate) fn name(&self, table: &str) -> String {
        format!("{}{table}", self.prefix)
    }
}

/// `text` as a decimal with exactly four decimals (`12.5` → `12.5000`), as PostgreSQL stores a
/// `numeric(p, 4)`; an error for anything that is not a plain decimal or has more decimals.
pub fn normalize_decimal(text: &str) -> Result<String, String> {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !all_digits(int) || !all_digits(frac) || frac.len() > DECIMALS {
        return Err(format!(
            "{text:?} is not a decimal with at most {DECIMALS} decimals"
        ));
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let zero = int == "0" && frac.bytes().all(|b| b == b'0');
    let sign = if zero { "" } else { sign };
    Ok(format!("{sign}{int}.{frac:0<DECIMALS$}"))
}

/// `keys` as the JSON array `json_each` reads.
fn keys_json(name: &str, keys: Keys<'_>) -> Result<String, ProjectionError> {
    match keys {
        Keys::Uuids(k) => serde_json::to_string(k),
        Keys::Texts(k) => serde_json::to_string(k),
        Keys::Ints(k) => serde_json::to_string(k),
    }
    .map_err(|e| ProjectionError::batch(format!("cannot encode keys of {name}: {e}")))
}

/// `rows` as JSON, with the decimal columns normalised as the table stores them.
fn encode_normalized<T: Serialize>(
    name: &str,
    table: &Table,
    rows: &[T],
) -> Result<(serde_json::Value, Vec<String>), ProjectionError> {
    let (mut json, names) = encode_rows(table, rows)?;
    if let serde_json::Value::Array(rows) = &mut json {
        for row in rows {
            for column in table.numeric {
                if let Some(value) = row.get_mut(*column)
                    && let serde_json::Value::String(text) = value
                {
                    *text = normalize_decimal(text)
                        .map_err(|e| ProjectionError::batch(format!("{name}.{column}: {e}")))?;
                }
            }
        }
    }
    Ok((json, names))
}

impl RowStore for SqliteTables<'_> {
    async fn load<T: DeserializeOwned + Send>(
        &mut self,
        table: &Table,
        column: &'static str,
        keys: Keys<'_>,
    ) -> Result<Vec<T>, ProjectionError> {
        let name = self.name(table.name);
        // The declared columns (generated ones are not listed, and the row types ignore them).
        let columns: Vec<(String, String)> =
            sqlx::query_as("SELECT name, upper(type) FROM pragma_table_info(?1)")
                .bind(&name)
                .fetch_all(&mut *self.conn)
                .await?;
        if columns.is_empty() {
            return Err(ProjectionError::batch(format!(
                "table {name} does not exist"
            )));
        }
        let fields: Vec<String> = columns
            .iter()
            .map(|(c, kind)| match kind.as_str() {
                "BOOLEAN" => format!(
                    "'{c}', CASE WHEN {c} IS NULL THEN NULL WHEN {c} THEN json('true') ELSE json('false') END"
                ),
                "JSON" => format!("'{c}', json({c})"),
                _ => format!("'{c}', {c}"),
            })
            .collect();
        let keys = keys_json(&name, keys)?;
        // Two arguments a column: the widest table (projects, 47 columns) stays under SQLite's
        // default limit of 127 function arguments.
        let sql = format!(
            "SELECT json_object({}) FROM {name} WHERE {column} IN (SELECT value FROM json_each(?1))",
            fields.join(", ")
        );
        let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(keys)
            .fetch_all(&mut *self.conn)
            .await?;
        decode_rows(table, &texts)
    }

    async fn write<T: Serialize + Sync>(
        &mut self,
        table: &Table,
        rows: &[T],
        conflict: Conflict,
    ) -> Result<(), ProjectionError> {
        if rows.is_empty() {
            return Ok(());
        }
        let name = self.name(table.name);
        let (json, names) = encode_normalized(&name, table, rows)?;
        let columns = names.join(", ");
        let values: Vec<String> = names
            .iter()
            .map(|c| format!("json_extract(value, '$.{c}')"))
            .collect();
        // `WHERE true`: without it SQLite would read ON CONFLICT as part of the SELECT's join.
        let mut sql = format!(
            "INSERT INTO {name} ({columns}) SELECT {} FROM json_each(?1) WHERE true",
            values.join(", ")
        );
        let key = table.key.join(", ");
        match conflict {
            Conflict::Fail => {}
            Conflict::Ignore => sql.push_str(&format!(" ON CONFLICT ({key}) DO NOTHING")),
            Conflict::Update => {
                let updates: Vec<String> = names
                    .iter()
                    .filter(|c| !table.key.contains(&c.as_str()))
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect();
                sql.push_str(&format!(
                    " ON CONFLICT ({key}) DO UPDATE SET {}",
                    updates.join(", ")
                ));
            }
        }
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(json.to_string())
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn update<T: Serialize + Sync>(
        &mut self,
        table: &Table,
        rows: &[T],
    ) -> Result<(), ProjectionError> {
        if rows.is_empty() {
            return Ok(());
        }
        let name = self.name(table.name);
        let (json, names) = encode_normalized(&name, table, rows)?;
        let sets: Vec<String> = names
            .iter()
            .filter(|c| !table.key.contains(&c.as_str()))
            .map(|c| format!("{c} = json_extract(r.value, '$.{c}')"))
            .collect();
        let matches: Vec<String> = table
            .key
            .iter()
            .map(|k| format!("{name}.{k} = json_extract(r.value, '$.{k}')"))
            .collect();
        let sql = format!(
            "UPDATE {name} SET {} FROM json_each(?1) AS r WHERE {}",
            sets.join(", "),
            matches.join(" AND ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(json.to_string())
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn delete(
        &mut self,
        table: &Table,
        column: &'static str,
        keys: Keys<'_>,
    ) -> Result<(), ProjectionError> {
        let name = self.name(table.name);
        let keys = keys_json(&name, keys)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {name} WHERE {column} IN (SELECT value FROM json_each(?1))"
        )))
        .bind(keys)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_decimal;

    #[test]
    fn decimals_get_four_places_exactly() {
        assert_eq!(normalize_decimal("12.5").unwrap(), "12.5000");
        assert_eq!(normalize_decimal("100000000").unwrap(), "100000000.0000");
        assert_eq!(normalize_decimal("007.0001").unwrap(), "7.0001");
        assert_eq!(normalize_decimal("-0.0").unwrap(), "0.0000");
        assert_eq!(normalize_decimal("-3.25").unwrap(), "-3.2500");
        assert!(normalize_decimal("1.23456").is_err());
        assert!(normalize_decimal("1e3").is_err());
        assert!(normalize_decimal("").is_err());
    }
}
