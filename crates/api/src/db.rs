//! The read side's two SQL dialects. Resolvers read the same reporting tables on PostgreSQL
//! (`reporting.<table>`, typed columns) and on SQLite (`reporting_<table>`, decimals and dates as
//! text): each query is written once, with the few fragments that differ (table names, casts,
//! timestamps, `ILIKE`) taken from [`Dialect`], and runs on either pool through [`on_db!`].
//! Placeholders are `$1`, `$2`, … in both: SQLite reads `$N` as parameter N.

pub use eventstore::Database;

/// Which SQL the read queries speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    pub fn of(db: &Database) -> Dialect {
        match db {
            Database::Postgres(_) => Dialect::Postgres,
            Database::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// A reporting table by its PostgreSQL name without schema, e.g. `projects`.
    pub fn table(self, name: &str) -> String {
        match self {
            Dialect::Postgres => format!("reporting.{name}"),
            Dialect::Sqlite => format!("{}{name}", projections::sqlite::PREFIX),
        }
    }

    /// A uuid, date or decimal column as its text form (SQLite stores that text already).
    pub fn text(self, column: &str) -> String {
        match self {
            Dialect::Postgres => format!("{column}::text"),
            Dialect::Sqlite => column.to_owned(),
        }
    }

    /// A numeric column as a double, for percentages (never for money or areas).
    pub fn float(self, column: &str) -> String {
        match self {
            Dialect::Postgres => format!("{column}::float8"),
            Dialect::Sqlite => format!("CAST({column} AS REAL)"),
        }
    }

    /// A JSON column (jsonb on PostgreSQL; JSON text on SQLite, read through `json()` so that
    /// the value reaches sqlx as text whatever the declared column type).
    pub fn json(self, column: &str) -> String {
        match self {
            Dialect::Postgres => column.to_owned(),
            Dialect::Sqlite => format!("json({column})"),
        }
    }

    /// A placeholder compared with a uuid column (SQLite stores the uuid's text).
    pub fn uuid(self, placeholder: &str) -> String {
        match self {
            Dialect::Postgres => format!("{placeholder}::uuid"),
            Dialect::Sqlite => placeholder.to_owned(),
        }
    }

    /// Placeholder `$n` compared with a uuid column.
    pub fn uuid_param(self, n: usize) -> String {
        self.uuid(&format!("${n}"))
    }

    /// A timestamp column as our `DateTime` text: RFC 3339 in UTC with exactly six fractional
    /// digits, e.g. `2026-03-05T08:00:00.120000Z`. SQLite holds RFC 3339 text in UTC written by
    /// the projections with as many fractional digits as needed (none for whole seconds), so
    /// the fraction is padded to six.
    pub fn timestamp(self, column: &str) -> String {
        match self {
            Dialect::Postgres => {
                format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
            }
            Dialect::Sqlite => format!(
                "(substr({column}, 1, 19) || '.' || substr(CASE WHEN substr({column}, 20, 1) = '.' \
                 THEN substr({column}, 21, length({column}) - 21) ELSE '' END || '000000', 1, 6) || 'Z')"
            ),
        }
    }

    /// Case-insensitive `LIKE` with `\` as the escape character (PostgreSQL's default; SQLite has
    /// none unless told, and its `LIKE` ignores case only for ASCII letters, which is all a
    /// Chinese name needs).
    pub fn ilike(self, column: &str, placeholder: &str) -> String {
        match self {
            Dialect::Postgres => format!("{column} ILIKE {placeholder}"),
            Dialect::Sqlite => format!("{column} LIKE {placeholder} ESCAPE '\\'"),
        }
    }
}

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds. The body is compiled once per
/// backend, so `sqlx::query_as::<_, T>` decodes each backend's rows with its own types.
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Database::Postgres($pool) => $body,
            $crate::db::Database::Sqlite($pool) => $body,
        }
    };
}

/// A bind value of a query assembled at run time (filters): what either backend can bind.
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Int(i64),
}

/// SQL with numbered placeholders assembled piece by piece, with its bind values, runnable on
/// either backend (unlike sqlx's `QueryBuilder`, which is tied to one).
#[derive(Debug, Default)]
pub struct Assembled {
    pub sql: String,
    pub binds: Vec<Bind>,
}

impl Assembled {
    pub fn new(sql: impl Into<String>) -> Assembled {
        Assembled {
            sql: sql.into(),
            binds: Vec::new(),
        }
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Adds `value` and returns its placeholder without writing it, for a value the SQL uses
    /// more than once.
    pub fn placeholder(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: Bind) -> &mut Self {
        let p = self.placeholder(value);
        self.push(&p)
    }

    /// Appends `(p1, p2, …)` for `values`; `(NULL)` for none, which matches nothing.
    pub fn bind_list(&mut self, values: impl IntoIterator<Item = Bind>) -> &mut Self {
        self.push("(");
        let mut first = true;
        for v in values {
            if !first {
                self.push(", ");
            }
            first = false;
            self.bind(v);
        }
        if first {
            self.push("NULL");
        }
        self.push(")")
    }
}

/// Binds an [`Assembled`]'s values to a query of either backend.
#[macro_export]
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut q = $query;
        for b in $binds {
            q = match b {
                $crate::db::Bind::Text(s) => q.bind(s.clone()),
                $crate::db::Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

#[cfg(test)]
mod tests {
    use super::{Assembled, Bind, Dialect};

    #[test]
    fn assembles_numbered_placeholders_and_lists() {
        let mut q = Assembled::new("SELECT 1 WHERE a = ");
        q.bind(Bind::Int(1)).push(" AND b IN ");
        q.bind_list([Bind::Text("x".into()), Bind::Text("y".into())]);
        q.push(" AND c IN ").bind_list([]);
        assert_eq!(
            q.sql,
            "SELECT 1 WHERE a = $1 AND b IN ($2, $3) AND c IN (NULL)"
        );
        assert_eq!(q.binds.len(), 3);
    }

    #[test]
    fn dialects_name_tables_and_casts() {
        assert_eq!(Dialect::Postgres.table("projects"), "reporting.projects");
        assert_eq!(Dialect::Sqlite.table("projects"), "reporting_projects");
        assert_eq!(Dialect::Sqlite.float("x"), "CAST(x AS REAL)");
        assert_eq!(Dialect::Postgres.uuid_param(2), "$2::uuid");
    }
}
