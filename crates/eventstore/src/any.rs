//! One store type over either backend, chosen at run time: what the server and the CLI hold when
//! the configuration (a `DATABASE_URL` or a data directory) decides the backend. Every call goes
//! to the backend's own implementation; nothing here speaks SQL.

use std::path::Path;
use std::time::Duration;

use sqlx::{PgPool, SqlitePool};

use crate::import::{AllHead, ImportEvent, ImportSummary, Importer};
use crate::postgres::PgImporter;
use crate::sqlite::SqliteImporter;
use crate::{
    AppendResult, Direction, EventStore, EventStream, ExpectedVersion, Filter, NewEvent,
    PgEventStore, Position, RecordedEvent, Seal, SqliteEventStore, StoreError, StreamAppend,
    VerifyReport,
};

/// Which backend a store (or a read-side pool next to it) lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// The name used in logs, export headers and status output.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgresql",
            Backend::Sqlite => "sqlite",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The database the store lives in: the pool that read models, tokens and checkpoints share
/// with it.
#[derive(Clone, Debug)]
pub enum Database {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl Database {
    pub fn backend(&self) -> Backend {
        match self {
            Database::Postgres(_) => Backend::Postgres,
            Database::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Closes the pool (waits for connections in use to be returned).
    pub async fn close(&self) {
        match self {
            Database::Postgres(pool) => pool.close().await,
            Database::Sqlite(pool) => pool.close().await,
        }
    }
}

/// The event store on the backend chosen at run time.
#[derive(Clone, Debug)]
pub enum AnyEventStore {
    Postgres(PgEventStore),
    Sqlite(SqliteEventStore),
}

/// Runs the same expression on whichever store is inside.
macro_rules! on_store {
    ($self:expr, |$s:ident| $body:expr) => {
        match $self {
            AnyEventStore::Postgres($s) => $body,
            AnyEventStore::Sqlite($s) => $body,
        }
    };
}

impl From<PgEventStore> for AnyEventStore {
    fn from(store: PgEventStore) -> Self {
        AnyEventStore::Postgres(store)
    }
}

impl From<SqliteEventStore> for AnyEventStore {
    fn from(store: SqliteEventStore) -> Self {
        AnyEventStore::Sqlite(store)
    }
}

/// What a database URL selects: `postgres://…` or `postgresql://…` a PostgreSQL server,
/// `sqlite://<path>` or `sqlite:<path>` a SQLite file (created if missing; a query string is
/// ignored: the store sets its own pragmas).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Postgres { url: String },
    Sqlite { path: std::path::PathBuf },
}

impl Location {
    pub fn parse(url: &str) -> Result<Location, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Location::Postgres {
                url: url.to_owned(),
            });
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(StoreError::Config(format!(
                    "{url}: a SQLite store needs a file path (sqlite://<path>)"
                )));
            }
            return Ok(Location::Sqlite { path: path.into() });
        }
        Err(StoreError::Config(format!(
            "database URL must start with postgres://, postgresql:// or sqlite:// (got {})",
            url.split("://").next().unwrap_or(url)
        )))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Location::Postgres { .. } => Backend::Postgres,
            Location::Sqlite { .. } => Backend::Sqlite,
        }
    }
}

/// Creates the directory a SQLite store file goes in, if missing: SQLite creates the file but
/// not its directory, and "the data directory does not exist" is a first-run situation, not an
/// error.
pub fn create_parent_dir(path: &Path) -> Result<(), StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Config(format!(
                "cannot create the directory {} for the store file: {e}",
                dir.display()
            ))
        })?;
    }
    create_private_file(path)
}

/// Creates a missing store file readable and writable by its owner only (0600, docs/security.md):
/// it holds the whole ledger and the token hashes. SQLite gives its -wal and -shm files the
/// database file's mode. An existing file keeps the mode its owner chose.
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Config(format!(
            "cannot create the store file {}: {e}",
            path.display()
        ))),
    }
}

impl AnyEventStore {
    /// Opens (creating if missing) a SQLite store file and applies its migrations.
    pub async fn open_sqlite(
        path: impl AsRef<Path>,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        Ok(AnyEventStore::Sqlite(
            SqliteEventStore::open(path, max_connections).await?,
        ))
    }

    /// Connects to the store at `url` (see [`Location`]) with a pool of `max_connections`.
    /// Migrations are not applied: call [`AnyEventStore::migrate`].
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        Ok(match Location::parse(url)? {
            Location::Postgres { url } => {
                AnyEventStore::Postgres(PgEventStore::connect(&url, max_connections).await?)
            }
            Location::Sqlite { path } => {
                create_parent_dir(&path)?;
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .connect_with(crate::sqlite::connect_options(path))
                    .await?;
                AnyEventStore::Sqlite(SqliteEventStore::new(pool))
            }
        })
    }

    pub fn backend(&self) -> Backend {
        match self {
            AnyEventStore::Postgres(_) => Backend::Postgres,
            AnyEventStore::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The pool of the database the store lives in.
    pub fn database(&self) -> Database {
        match self {
            AnyEventStore::Postgres(s) => Database::Postgres(s.pool().clone()),
            AnyEventStore::Sqlite(s) => Database::Sqlite(s.pool().clone()),
        }
    }

    /// Applies the backend's migrations (event store, reporting tables, tokens).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        on_store!(self, |s| s.migrate().await)
    }

    /// How many events of $all pass `filter` (a full count: for audit pages, not hot paths).
    pub async fn count_all(&self, filter: &Filter) -> Result<u64, StoreError> {
        on_store!(self, |s| s.count_all(filter).await)
    }

    /// Committed events no seal covers yet, whether or not $all shows them yet (on PostgreSQL an
    /// older transaction elsewhere in the cluster can hold them back from readers and sealers).
    pub async fn unsealed_events(&self) -> Result<u64, StoreError> {
        match self {
            AnyEventStore::Postgres(s) => crate::postgres::seal::unsealed(s.pool()).await,
            AnyEventStore::Sqlite(s) => crate::sqlite::seal::unsealed(s.pool()).await,
        }
    }

    /// Seals every `every` until the returned task is aborted.
    pub fn spawn_sealer(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        on_store!(self, |s| s.spawn_sealer(every))
    }
}

/// An import into either backend.
pub enum AnyImporter {
    Postgres(PgImporter),
    Sqlite(SqliteImporter),
}

impl Importer for AnyImporter {
    async fn write(&mut self, batch: Vec<ImportEvent>) -> Result<(), StoreError> {
        match self {
            AnyImporter::Postgres(i) => i.write(batch).await,
            AnyImporter::Sqlite(i) => i.write(batch).await,
        }
    }

    async fn commit(self) -> Result<ImportSummary, StoreError> {
        match self {
            AnyImporter::Postgres(i) => i.commit().await,
            AnyImporter::Sqlite(i) => i.commit().await,
        }
    }
}

impl EventStore for AnyEventStore {
    type Importer = AnyImporter;

    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        on_store!(self, |s| s.append(stream, expected, events).await)
    }

    async fn append_streams(
        &self,
        appends: Vec<StreamAppend>,
    ) -> Result<Vec<AppendResult>, StoreError> {
        on_store!(self, |s| s.append_streams(appends).await)
    }

    async fn read_stream(
        &self,
        stream: &str,
        direction: Direction,
        from_version: u64,
        max_count: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        on_store!(self, |s| s
            .read_stream(stream, direction, from_version, max_count)
            .await)
    }

    async fn read_all(
        &self,
        from: Position,
        filter: &Filter,
        batch_size: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        on_store!(self, |s| s.read_all(from, filter, batch_size).await)
    }

    fn subscribe_all(&self, from: Position, filter: Filter) -> EventStream {
        on_store!(self, |s| s.subscribe_all(from, filter))
    }

    async fn seal(&self) -> Result<Option<Seal>, StoreError> {
        on_store!(self, |s| s.seal().await)
    }

    async fn verify(&self) -> Result<VerifyReport, StoreError> {
        on_store!(self, |s| s.verify().await)
    }

    async fn load_checkpoint(&self, name: &str) -> Result<Option<Position>, StoreError> {
        on_store!(self, |s| s.load_checkpoint(name).await)
    }

    async fn begin_import(&self) -> Result<AnyImporter, StoreError> {
        Ok(match self {
            AnyEventStore::Postgres(s) => AnyImporter::Postgres(s.begin_import().await?),
            AnyEventStore::Sqlite(s) => AnyImporter::Sqlite(s.begin_import().await?),
        })
    }

    async fn all_head(&self) -> Result<AllHead, StoreError> {
        on_store!(self, |s| s.all_head().await)
    }

    async fn reserve_key(
        &self,
        kind: &str,
        key: &str,
        owner: &str,
    ) -> Result<AppendResult, StoreError> {
        on_store!(self, |s| s.reserve_key(kind, key, owner).await)
    }
}

#[cfg(test)]
mod tests {
    use super::{Backend, Location};

    #[test]
    fn urls_select_the_backend() {
        let pg = Location::parse("postgres://u@h/db").expect("postgres");
        assert_eq!(pg.backend(), Backend::Postgres);
        assert_eq!(
            Location::parse("postgresql://h/db")
                .map(|l| l.backend())
                .ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Location::parse("sqlite:///var/lib/taizhang/taizhang.sqlite3?mode=rwc").ok(),
            Some(Location::Sqlite {
                path: "/var/lib/taizhang/taizhang.sqlite3".into()
            })
        );
        assert_eq!(
            Location::parse("sqlite:data/t.sqlite3").ok(),
            Some(Location::Sqlite {
                path: "data/t.sqlite3".into()
            })
        );
        for bad in ["mysql://h/db", "sqlite::memory:", "sqlite://", "/tmp/x"] {
            let err = Location::parse(bad).expect_err(bad).to_string();
            assert!(err.contains("invalid store configuration"), "{bad}: {err}");
        }
    }
}
