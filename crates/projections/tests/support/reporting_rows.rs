//! Test support shared by the tests that compare the reporting tables of the two backends
//! (`#[path]`-included: crates/projections/tests/scenario.rs, crates/taizhang/tests/move_cli.rs).
//!
//! Every reporting base table's rows as text, PostgreSQL's (`reporting.<t>`) and SQLite's
//! (`reporting_<t>`), normalised only where the backends spell the same value differently:
//! timestamps as microseconds since the epoch, JSON re-serialised, decimals without trailing
//! zeros (the figure tables hold numbers on SQLite: migrations/sqlite/0140). Everything else
//! (dates, booleans, uuids, integers, text) must be the same text on both. The table list
//! and column types come from PostgreSQL's catalog, so a table or column added to PostgreSQL
//! only fails the comparison. `projection_status` is left out (it records times and holders), and
//! so is every `computed_at` column (when a refresh ran, not what it computed).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use sqlx::{PgPool, SqlitePool};
use time::OffsetDateTime;

/// Rows of one table (as text, sorted), by table name.
pub type Tables = BTreeMap<String, Vec<Vec<Option<String>>>>;

/// Both backends' reporting tables, every column.
pub async fn both_backends(pg: &PgPool, lite: &SqlitePool) -> (Tables, Tables) {
    both_backends_except(pg, lite, &[]).await
}

/// Both backends' reporting tables without `leave_out`: entries `"table"` (the whole table) or
/// `"table.column"`, for what one backend does not compute (yet).
pub async fn both_backends_except(
    pg: &PgPool,
    lite: &SqlitePool,
    leave_out: &[&str],
) -> (Tables, Tables) {
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = 'reporting' AND table_name <> 'projection_status' \
           AND column_name <> 'computed_at' \
           AND table_name IN (SELECT table_name FROM information_schema.tables \
                              WHERE table_schema = 'reporting' AND table_type = 'BASE TABLE') \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(pg)
    .await
    .unwrap();
    let mut tables: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (table, column, kind) in columns {
        if leave_out.contains(&table.as_str())
            || leave_out.contains(&format!("{table}.{column}").as_str())
        {
            continue;
        }
        tables.entry(table).or_default().push((column, kind));
    }
    let normalise = |kind: &str, value: Option<String>| -> Option<String> {
        let value = value?;
        Some(match kind {
            "timestamp with time zone" => {
                match OffsetDateTime::parse(&value, &time::format_description::well_known::Rfc3339)
                {
                    Ok(t) => (t.unix_timestamp_nanos() / 1000).to_string(),
                    Err(_) => value,
                }
            }
            "jsonb" | "ARRAY" => serde_json::from_str::<serde_json::Value>(&value)
                .map(|v| v.to_string())
                .unwrap_or(value),
            "numeric" => plain_decimal(&value),
            _ => value,
        })
    };
    let (mut on_pg, mut on_lite) = (BTreeMap::new(), BTreeMap::new());
    for (table, columns) in &tables {
        let pg_exprs: Vec<String> = columns
            .iter()
            .map(|(c, kind)| match kind.as_str() {
                "timestamp with time zone" => {
                    format!("(extract(epoch FROM {c}) * 1000000)::numeric(30, 0)::text")
                }
                "jsonb" | "ARRAY" => format!("to_jsonb({c})::text"),
                _ => format!("{c}::text"),
            })
            .collect();
        let lite_exprs: Vec<String> = columns
            .iter()
            .map(|(c, kind)| match kind.as_str() {
                "boolean" => format!("CASE WHEN {c} THEN 'true' WHEN NOT {c} THEN 'false' END"),
                _ => format!("CAST({c} AS TEXT)"),
            })
            .collect();
        let pg_rows: Vec<Vec<Option<String>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT ARRAY[{}]::text[] FROM reporting.{table}",
            pg_exprs.join(", ")
        )))
        .fetch_all(pg)
        .await
        .unwrap();
        let lite_rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT json_array({}) FROM reporting_{table}",
            lite_exprs.join(", ")
        )))
        .fetch_all(lite)
        .await
        .unwrap_or_else(|e| panic!("reporting_{table} on SQLite: {e}"));
        let mut pg_rows: Vec<Vec<Option<String>>> = pg_rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .zip(columns)
                    .map(|(v, (_, kind))| normalise(kind, v))
                    .collect()
            })
            .collect();
        let mut lite_rows: Vec<Vec<Option<String>>> = lite_rows
            .iter()
            .map(|text| {
                let row: Vec<Option<String>> = serde_json::from_str(text).unwrap();
                row.into_iter()
                    .zip(columns)
                    .map(|(v, (_, kind))| normalise(kind, v))
                    .collect()
            })
            .collect();
        pg_rows.sort();
        lite_rows.sort();
        on_pg.insert(table.clone(), pg_rows);
        on_lite.insert(table.clone(), lite_rows);
    }
    (on_pg, on_lite)
}

/// A decimal without trailing zeros (`24.0000`, SQLite's REAL `24.0` → `24`; `12.350` → `12.35`):
/// the figure tables hold decimals as `numeric` on PostgreSQL and as numbers (REAL) on SQLite.
fn plain_decimal(text: &str) -> String {
    let text = if text.contains(['e', 'E']) {
        text.parse::<f64>()
            .map_or_else(|_| text.to_owned(), |f| f.to_string())
    } else {
        text.to_owned()
    };
    let trimmed = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    if trimmed == "-0" {
        "0".to_owned()
    } else {
        trimmed
    }
}

/// Asserts that the two sides hold the same tables with the same rows, naming the first table
/// and row that differ.
pub fn assert_same_rows(pg: &Tables, lite: &Tables) {
    assert_eq!(
        pg.keys().collect::<Vec<_>>(),
        lite.keys().collect::<Vec<_>>(),
        "the same tables on both"
    );
    for (table, rows) in pg {
        assert_eq!(rows.len(), lite[table].len(), "{table}: row counts differ");
        for (a, b) in rows.iter().zip(&lite[table]) {
            assert_eq!(
                a, b,
                "{table}: a row differs (PostgreSQL left, SQLite right)"
            );
        }
    }
}
