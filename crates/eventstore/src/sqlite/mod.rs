//! The SQLite backend: the same store as [`crate::postgres`] in one file, for a single machine.
//!
//! SQLite has one writer at a time, and the design leans on that instead of working around it:
//! * Every append (and every seal) runs in `BEGIN IMMEDIATE`, which takes the database's write lock
//!   before reading anything. So the stream check, the idempotency check and the numbering all see
//!   the latest committed state, and no other writer (in this process or another) can commit in
//!   between. Within the process, writers also queue on an async mutex first, so they wait in
//!   order instead of in SQLite's sleeping busy handler; other processes wait in `busy_timeout`.
//! * Positions are numbered while holding that lock, so numbering order is commit order and a
//!   reader that sees position `p` sees every committed event before it: $all is gap-free without
//!   PostgreSQL's "below the oldest running transaction" rule. A [`Position`] here has
//!   `commit == prepare ==` the event's number in $all (1, 2, 3, …), which keeps the
//!   `(commit, prepare)` order equal to $all order.
//! * WAL journal mode (readers never block the writer or each other, and read from a snapshot) and
//!   `synchronous = FULL` (the WAL is synced at every commit: an append that returned survives power
//!   loss).
//! * No LISTEN/NOTIFY: appends wake this process's subscribers through a `tokio::sync::watch`
//!   shared by clones of the store, and subscribers also poll, for writers in other processes.
//!
//! Data and metadata are stored as PostgreSQL's jsonb text ([`crate::canonical_json`]) so hashes
//! are the ones PostgreSQL computes and events can be moved between the backends.

pub(crate) mod append;
mod checkpoint;
mod import;
mod read;
pub(crate) mod seal;
mod subscription;
#[cfg(feature = "conformance")]
pub mod testing;
mod verify;
mod write;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::{Mutex, watch};

use crate::{
    AllHead, AppendResult, Direction, EventStore, EventStream, ExpectedVersion, Filter, NewEvent,
    Position, RecordedEvent, Seal, StoreError, StreamAppend, Upcasters, VerifyReport,
};

pub use checkpoint::{load_checkpoint, save_checkpoint};
pub use import::SqliteImporter;
pub use write::SqliteWrite;

/// The store's SQLite migrations (migrations/sqlite), embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Applies the store's migrations to the database behind `pool` (idempotent).
pub async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// How long a connection waits for another process's write lock before failing with "database is
/// locked" (appends in this process queue on the store's mutex first and do not count against it).
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Connection options for a store file: created if missing, WAL, `synchronous = FULL`, foreign
/// keys on, [`DEFAULT_BUSY_TIMEOUT`]. Use them (or equivalent settings) for any pool given to
/// [`SqliteEventStore::new`].
pub fn connect_options(path: impl AsRef<Path>) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(DEFAULT_BUSY_TIMEOUT)
}

/// Tuning of subscriptions and wake-ups.
#[derive(Debug, Clone)]
pub struct SqliteStoreOptions {
    /// How often a live subscription reads $all without a wake-up: the delay for events written by
    /// another process (this process's appends wake subscribers at once).
    pub poll_interval: Duration,
    /// Events read per query by subscriptions.
    pub subscription_batch: usize,
    /// Pause before retrying after a database error in a subscription.
    pub retry_delay: Duration,
    /// Whether appends wake this process's subscribers (false: polling only).
    pub wake_subscribers: bool,
}

impl Default for SqliteStoreOptions {
    fn default() -> Self {
        SqliteStoreOptions {
            poll_interval: Duration::from_millis(500),
            subscription_batch: 500,
            retry_delay: Duration::from_millis(200),
            wake_subscribers: true,
        }
    }
}

/// What clones of one store share: the writer queue and the wake-up channel.
#[derive(Debug)]
struct Shared {
    /// Held by an append, a seal or an import from before `BEGIN IMMEDIATE` until after its
    /// commit (owned by an importer, hence the `Arc`).
    writer: Arc<Mutex<()>>,
    /// Bumped after each committed append; subscribers wait for a change.
    appended: watch::Sender<u64>,
}

/// The event store on SQLite. Cheap to clone (a pool handle and shared state).
#[derive(Clone, Debug)]
pub struct SqliteEventStore {
    pool: SqlitePool,
    upcasters: Arc<Upcasters>,
    options: Arc<SqliteStoreOptions>,
    shared: Arc<Shared>,
}

impl SqliteEventStore {
    /// A store over an existing pool (migrated, see [`migrate`]; opened with settings like
    /// [`connect_options`]'s). Two stores over two pools on one file behave like two processes.
    pub fn new(pool: SqlitePool) -> Self {
        SqliteEventStore {
            pool,
            upcasters: Arc::new(Upcasters::new()),
            options: Arc::new(SqliteStoreOptions::default()),
            shared: Arc::new(Shared {
                writer: Arc::new(Mutex::new(())),
                appended: watch::Sender::new(0),
            }),
        }
    }

    /// Opens (creating if missing) the store file at `path` with a pool of `max_connections` and
    /// applies the migrations.
    pub async fn open(path: impl AsRef<Path>, max_connections: u32) -> Result<Self, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(connect_options(path))
            .await?;
        let store = SqliteEventStore::new(pool);
        store.migrate().await?;
        Ok(store)
    }

    pub fn with_upcasters(mut self, upcasters: Upcasters) -> Self {
        self.upcasters = Arc::new(upcasters);
        self
    }

    pub fn with_options(mut self, options: SqliteStoreOptions) -> Self {
        self.options = Arc::new(options);
        self
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Applies the store's migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrate(&self.pool).await
    }

    /// How many events of $all pass `filter`. A full count: for audit pages, not hot paths.
    pub async fn count_all(&self, filter: &Filter) -> Result<u64, StoreError> {
        read::count_all(&self.pool, filter).await
    }

    /// Seals every `every` until the returned task is aborted; failures are logged and retried
    /// at the next tick (a missed seal only makes the next one cover more).
    pub fn spawn_sealer(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        crate::seal::spawn_sealer(self.clone(), every)
    }

    /// Changes after each append (or import) this process commits through this store or a clone
    /// of it, when [`SqliteStoreOptions::wake_subscribers`] is on: what consumers in this process
    /// wait on instead of polling (other processes' appends are only found by polling).
    pub fn appended(&self) -> watch::Receiver<u64> {
        self.shared.appended.subscribe()
    }

    fn wake_subscribers(&self) {
        if self.options.wake_subscribers {
            self.shared.appended.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

/// The SQLite [`Position`] of the event numbered `n` in $all.
pub(crate) fn position_of(n: i64) -> Result<Position, StoreError> {
    Ok(Position {
        commit: crate::error::to_u64(n, "position")?,
        prepare: n,
    })
}

/// The first event number strictly after `from` in `(commit, prepare)` order, when events are
/// numbered `(n, n)`: `n > from.commit`, or `n == from.commit` when `from.prepare < from.commit`.
pub(crate) fn first_after(from: Position) -> i64 {
    match i64::try_from(from.commit) {
        Ok(c) if from.prepare < c => c,
        Ok(c) => c.saturating_add(1),
        Err(_) => i64::MAX,
    }
}

impl EventStore for SqliteEventStore {
    type Importer = SqliteImporter;

    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        let prepared = append::prepare(stream, events)?;
        let result = {
            let _writer = self.shared.writer.lock().await;
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let result = append::append_in(&mut tx, stream, expected, &prepared).await?;
            if !result.replayed {
                tx.commit().await?;
            }
            result
        };
        if !result.replayed {
            self.wake_subscribers();
        }
        tracing::debug!(
            stream,
            events = result.events.len(),
            stream_version = result.stream_version,
            replayed = result.replayed,
            "appended"
        );
        Ok(result)
    }

    async fn append_streams(
        &self,
        appends: Vec<StreamAppend>,
    ) -> Result<Vec<AppendResult>, StoreError> {
        crate::event::check_stream_appends(&appends)?;
        let order = crate::event::lock_order(&appends);
        let prepared = appends
            .into_iter()
            .map(|a| {
                Ok((
                    a.stream.clone(),
                    a.expected,
                    append::prepare(&a.stream, a.events)?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let results = {
            // One `BEGIN IMMEDIATE` for every stream: the write lock is held from the first check
            // to the commit, and a refusal anywhere drops the transaction (rolling back the
            // streams already appended, their numbers included).
            let _writer = self.shared.writer.lock().await;
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let mut results: Vec<Option<AppendResult>> = vec![None; prepared.len()];
            for i in order {
                let (stream, expected, events) = &prepared[i];
                results[i] = Some(append::append_in(&mut tx, stream, *expected, events).await?);
            }
            let results = results
                .into_iter()
                .map(|r| r.ok_or_else(|| StoreError::Corrupt("a stream not appended".to_owned())))
                .collect::<Result<Vec<_>, StoreError>>()?;
            if results.iter().any(|r| !r.replayed) {
                tx.commit().await?;
            }
            results
        };
        if results.iter().any(|r| !r.replayed) {
            self.wake_subscribers();
        }
        tracing::debug!(
            streams = results.len(),
            events = results.iter().map(|r| r.events.len()).sum::<usize>(),
            "appended to several streams"
        );
        Ok(results)
    }

    async fn read_stream(
        &self,
        stream: &str,
        direction: Direction,
        from_version: u64,
        max_count: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        read::read_stream(
            &self.pool,
            &self.upcasters,
            stream,
            direction,
            from_version,
            max_count,
        )
        .await
    }

    async fn read_all(
        &self,
        from: Position,
        filter: &Filter,
        batch_size: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        read::read_all(&self.pool, &self.upcasters, from, filter, batch_size).await
    }

    fn subscribe_all(&self, from: Position, filter: Filter) -> EventStream {
        subscription::subscribe(self.clone(), from, filter)
    }

    async fn seal(&self) -> Result<Option<Seal>, StoreError> {
        let _writer = self.shared.writer.lock().await;
        seal::seal(&self.pool).await
    }

    async fn verify(&self) -> Result<VerifyReport, StoreError> {
        verify::verify(&self.pool).await
    }

    async fn begin_import(&self) -> Result<SqliteImporter, StoreError> {
        import::begin(self).await
    }

    async fn all_head(&self) -> Result<AllHead, StoreError> {
        import::all_head(&self.pool).await
    }

    async fn load_checkpoint(&self, name: &str) -> Result<Option<Position>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        checkpoint::load_checkpoint(&mut conn, name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_after_follows_pair_order() {
        assert_eq!(first_after(Position::START), 1);
        assert_eq!(first_after(Position::new(5, 5)), 6);
        // A pair that is not a SQLite position still reads strictly after it in pair order.
        assert_eq!(first_after(Position::new(5, 3)), 5);
        assert_eq!(first_after(Position::new(5, 9)), 6);
        assert_eq!(first_after(Position::new(u64::MAX, 0)), i64::MAX);
    }
}
