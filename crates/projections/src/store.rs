//! What the read models' Rust logic needs from a database, whichever it is: load the rows of a
//! table whose key column is in a list, and write rows back (insert, upsert or insert-if-absent).
//! [`crate::sql`] implements it for PostgreSQL (`PgConnection`), [`crate::sqlite`] for SQLite
//! (`SqliteTables`), so the event → row logic of each projection exists once and both backends
//! run it.

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::ProjectionError;

/// A table a projection writes: its name (unqualified; each backend places it), its key columns,
/// and its decimal columns (`numeric` on PostgreSQL, exact decimal text on SQLite), which travel as
/// text so that areas keep their exact decimals. The columns a write sets are the fields of the row
/// type (its serde names): the row struct is the one list of them.
pub struct Table {
    pub name: &'static str,
    pub key: &'static [&'static str],
    pub numeric: &'static [&'static str],
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

/// The values a load matches its column against.
#[derive(Debug, Clone, Copy)]
pub enum Keys<'a> {
    Uuids(&'a [Uuid]),
    Texts(&'a [String]),
    Ints(&'a [i64]),
}

/// Loading and writing read-model rows in bulk: one statement per table per call.
pub trait RowStore: Send {
    /// Rows of `table` whose `column` is one of `keys`. Columns the row type does not name
    /// (generated ones) are ignored.
    fn load<T: DeserializeOwned + Send>(
        &mut self,
        table: &Table,
        column: &'static str,
        keys: Keys<'_>,
    ) -> impl Future<Output = Result<Vec<T>, ProjectionError>> + Send;

    /// Inserts `rows`, resolving existing keys as `conflict` says.
    fn write<T: Serialize + Sync>(
        &mut self,
        table: &Table,
        rows: &[T],
        conflict: Conflict,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Sets, on each existing row with the key of one of `rows`, the other fields of that row
    /// (a row type naming only some columns updates only those). Rows without a match are
    /// ignored.
    fn update<T: Serialize + Sync>(
        &mut self,
        table: &Table,
        rows: &[T],
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Deletes the rows of `table` whose `column` is one of `keys`.
    fn delete(
        &mut self,
        table: &Table,
        column: &'static str,
        keys: Keys<'_>,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;
}

/// Column names of `rows` (the keys of the first row's JSON object) and the rows as a JSON array.
pub(crate) fn encode_rows<T: Serialize>(
    table: &Table,
    rows: &[T],
) -> Result<(serde_json::Value, Vec<String>), ProjectionError> {
    let json = serde_json::to_value(rows).map_err(|e| {
        ProjectionError::batch(format!("cannot encode rows of {}: {e}", table.name))
    })?;
    let names: Vec<String> = match json.get(0) {
        Some(serde_json::Value::Object(first)) => first.keys().cloned().collect(),
        _ => {
            return Err(ProjectionError::batch(format!(
                "rows of {} do not encode as JSON objects",
                table.name
            )));
        }
    };
    Ok((json, names))
}

/// Rows decoded from the JSON text a backend returned for them.
pub(crate) fn decode_rows<T: DeserializeOwned>(
    table: &Table,
    texts: &[String],
) -> Result<Vec<T>, ProjectionError> {
    texts
        .iter()
        .map(|text| {
            serde_json::from_str(text).map_err(|e| {
                ProjectionError::batch(format!("cannot read a row of {}: {e}", table.name))
            })
        })
        .collect()
}
