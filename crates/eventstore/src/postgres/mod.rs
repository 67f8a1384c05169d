//! The PostgreSQL backend. Every SQL statement of the store lives under this module.
//!
//! Appends go through one PL/pgSQL function (`eventstore.append`, migrations/postgres) so an append
//! is one round trip; $all is read in `(tx_id, position)` order below the oldest running
//! transaction, which makes it gap-free without a global lock (docs/ARCHITECTURE.md).

mod append;
mod checkpoint;
mod errors;
mod import;
mod notifier;
mod read;
pub(crate) mod seal;
mod subscription;
#[cfg(feature = "conformance")]
pub mod testing;
mod verify;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

use crate::{
    AllHead, AppendResult, Direction, EventStore, EventStream, ExpectedVersion, Filter, NewEvent,
    Position, RecordedEvent, Seal, StoreError, StreamAppend, Upcasters, VerifyReport,
};

pub use checkpoint::{load_checkpoint, save_checkpoint};
pub use import::PgImporter;

/// The store's migrations (migrations/postgres), embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// The channel appends notify (payload: the stream name).
pub const NOTIFY_CHANNEL: &str = "eventstore";

/// Applies the store's migrations to the database behind `pool` (idempotent; concurrent callers
/// are serialised by sqlx's advisory lock).
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Tuning of subscriptions.
#[derive(Debug, Clone)]
pub struct PgStoreOptions {
    /// How often a live subscription reads $all when no notification arrives. Bounds the delay
    /// after a lost notification, a dropped listener connection or a long transaction ending.
    pub poll_interval: Duration,
    /// Events read per query by subscriptions.
    pub subscription_batch: usize,
    /// Whether subscriptions LISTEN for wake-ups (false: polling only).
    pub listen: bool,
    /// Pause before retrying after a database error in a subscription.
    pub retry_delay: Duration,
    /// How appends wake subscribers.
    pub notify: NotifyMode,
}

/// How appends wake subscribers (who also poll, so every mode is correct; they differ in latency
/// and in what they cost writers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyMode {
    /// `pg_notify` inside each append's transaction: subscribers wake exactly when it commits, but
    /// every notifying commit takes a cluster-wide lock, which caps concurrent append throughput.
    InTransaction,
    /// One `pg_notify` after appends, outside their transactions, at most every `min_interval`.
    Coalesced { min_interval: Duration },
    /// No notifications: subscribers rely on polling alone.
    Off,
}

impl Default for PgStoreOptions {
    fn default() -> Self {
        PgStoreOptions {
            poll_interval: Duration::from_millis(500),
            subscription_batch: 500,
            listen: true,
            retry_delay: Duration::from_millis(200),
            notify: NotifyMode::Coalesced {
                min_interval: Duration::from_millis(5),
            },
        }
    }
}

/// The event store on PostgreSQL. Cheap to clone (a pool handle and shared settings).
#[derive(Clone, Debug)]
pub struct PgEventStore {
    pool: PgPool,
    upcasters: Arc<Upcasters>,
    options: Arc<PgStoreOptions>,
    notifier: Arc<notifier::Notifier>,
}

impl PgEventStore {
    /// How many events of $all pass `filter` (what `read_all` from the start would deliver, as of
    /// now). A full count: meant for audit pages, not for hot paths.
    pub async fn count_all(&self, filter: &Filter) -> Result<u64, StoreError> {
        read::count_all(&self.pool, filter).await
    }

    /// A store over an existing pool (the schema must be migrated, see [`migrate`]).
    pub fn new(pool: PgPool) -> Self {
        PgEventStore {
            pool,
            upcasters: Arc::new(Upcasters::new()),
            options: Arc::new(PgStoreOptions::default()),
            notifier: Arc::default(),
        }
    }

    /// Connects a pool of `max_connections` to `url`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .connect(url)
            .await?;
        Ok(PgEventStore::new(pool))
    }

    pub fn with_upcasters(mut self, upcasters: Upcasters) -> Self {
        self.upcasters = Arc::new(upcasters);
        self
    }

    pub fn with_options(mut self, options: PgStoreOptions) -> Self {
        self.options = Arc::new(options);
        self
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies the store's migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrate(&self.pool).await
    }

    /// Seals every `every` until the returned task is aborted; failures are logged and retried
    /// at the next tick (a missed seal only makes the next one cover more).
    pub fn spawn_sealer(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        crate::seal::spawn_sealer(self.clone(), every)
    }
}

impl EventStore for PgEventStore {
    type Importer = PgImporter;

    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        let in_transaction = self.options.notify == NotifyMode::InTransaction;
        let result = append::append(&self.pool, stream, expected, events, in_transaction).await?;
        if let NotifyMode::Coalesced { min_interval } = self.options.notify
            && !result.replayed
        {
            self.notifier.poke(&self.pool, min_interval);
        }
        Ok(result)
    }

    async fn append_streams(
        &self,
        appends: Vec<StreamAppend>,
    ) -> Result<Vec<AppendResult>, StoreError> {
        let in_transaction = self.options.notify == NotifyMode::InTransaction;
        let results = append::append_streams(&self.pool, appends, in_transaction).await?;
        if let NotifyMode::Coalesced { min_interval } = self.options.notify
            && results.iter().any(|r| !r.replayed)
        {
            self.notifier.poke(&self.pool, min_interval);
        }
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
        seal::seal(&self.pool).await
    }

    async fn verify(&self) -> Result<VerifyReport, StoreError> {
        verify::verify(&self.pool).await
    }

    async fn begin_import(&self) -> Result<PgImporter, StoreError> {
        import::begin(&self.pool).await
    }

    async fn all_head(&self) -> Result<AllHead, StoreError> {
        import::all_head(&self.pool).await
    }

    async fn load_checkpoint(&self, name: &str) -> Result<Option<Position>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        checkpoint::load_checkpoint(&mut conn, name).await
    }
}
