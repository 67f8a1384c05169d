//! What the runner ([`crate::runtime`]) needs from a database, as a small trait with one
//! implementation per backend: leadership (an advisory lock on PostgreSQL, a lease row on SQLite),
//! the batch transaction, the checkpoint, the status row, the halt and the wake-up after an append.
//! The runner's logic (batches, catch-up refresh, poison isolation, lag, halts, standby) is written
//! once over it.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use std::future::Future;

use eventstore::{EventStore, Position};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::status::Lag;
use crate::{RunnerOptions, RuntimeError, Tx};

/// A store's backend, as the runner sees it.
pub(crate) trait Backend: Clone + Send + Sync + 'static {
    type Session: Session;
    type Wakeup: Wakeup;

    type Store: EventStore + Clone + Into<eventstore::AnyEventStore> + Send + Sync;

    /// The store: the runner reads $all from it through its pool, outside any batch transaction
    /// (on PostgreSQL $all stops below the oldest running transaction, which would be ours).
    fn store(&self) -> &Self::Store;

    /// A dedicated connection for the runner of `projection`, not yet leading. `runner` tells
    /// runners of one process apart and stays the same across a runner's sessions.
    fn connect(
        &self,
        projection: &'static str,
        options: &RunnerOptions,
        runner: &str,
    ) -> impl Future<Output = Result<Self::Session, RuntimeError>> + Send;

    /// A source of wake-ups after appends, subscribed before the first read so that an append
    /// between a read and the wait is not missed.
    fn wakeup(&self, projection: &'static str) -> impl Future<Output = Self::Wakeup> + Send;
}

/// How a batch transaction began.
pub(crate) enum Begin {
    /// We lead; the checkpoint as stored now, under the transaction's lock.
    Leading(Position),
    /// Another runner took the leadership (SQLite: our lease expired and was taken); nothing is
    /// open.
    Lost,
}

/// What a committed batch writes into the status row.
pub(crate) struct BatchStatus {
    pub position: Position,
    pub events: u64,
    pub last_event_at: OffsetDateTime,
    /// None: keep the last measured lag.
    pub lag: Option<Lag>,
}

/// One runner's connection to the database, and its leadership once taken. Every method runs on
/// that connection; the batch transaction is open between [`Session::begin`] and
/// [`Session::commit_batch`], [`Session::commit_refresh`] or [`Session::rollback`]. Dropping the
/// session (an error, a panic, an abort) closes the connection, which rolls back an open
/// transaction.
pub(crate) trait Session: Send {
    /// Tries once to become the leader; true when we lead now.
    fn try_lead(&mut self) -> impl Future<Output = Result<bool, RuntimeError>> + Send;

    /// Who leads, for the status row (set by a successful [`Session::try_lead`]).
    fn holder(&self) -> &str;

    /// The stored checkpoint (START when none), outside a transaction.
    fn checkpoint(&mut self) -> impl Future<Output = Result<Position, RuntimeError>> + Send;

    /// Records that we lead (creating the status row at `position`) and returns the state.
    fn claim_status(
        &mut self,
        position: Position,
    ) -> impl Future<Output = Result<String, RuntimeError>> + Send;

    /// The state in the status row.
    fn state(&mut self) -> impl Future<Output = Result<Option<String>, RuntimeError>> + Send;

    /// Opens the batch transaction, confirming the leadership inside it.
    fn begin(&mut self) -> impl Future<Output = Result<Begin, RuntimeError>> + Send;

    /// The open batch transaction, as projections see it.
    fn tx(&mut self) -> Tx<'_>;

    /// A statement of the runner's own inside the transaction (savepoints).
    fn execute(
        &mut self,
        sql: &'static str,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Events after `from` and the age of the first of them.
    fn measure_lag(
        &mut self,
        from: Position,
    ) -> impl Future<Output = Result<Lag, RuntimeError>> + Send;

    /// Saves the checkpoint and the status, tells waiters, commits.
    fn commit_batch(
        &mut self,
        status: &BatchStatus,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Commits a transaction that only refreshed (`after_catch_up` without events).
    fn commit_refresh(&mut self) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Rolls the open transaction back.
    fn rollback(&mut self) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Marks the projection halted (on `event` when known), visibly; false when we turned out not
    /// to lead any more (then nothing was written).
    fn mark_halted(
        &mut self,
        message: &str,
        event: Option<(Uuid, Position)>,
    ) -> impl Future<Output = Result<bool, RuntimeError>> + Send;

    /// Stores a lag measured outside a batch.
    fn record_lag(&mut self, lag: Lag) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Keeps the leadership alive while idle or halted (SQLite renews its lease when due); false
    /// when it was lost.
    fn keep_alive(&mut self) -> impl Future<Output = Result<bool, RuntimeError>> + Send;

    /// Gives the leadership up, so that a standby takes over at once.
    fn release(&mut self) -> impl Future<Output = Result<(), RuntimeError>> + Send;
}

/// Wake-ups after appends. Missing one costs latency, never correctness: the runner also polls.
pub(crate) trait Wakeup: Send {
    /// Called before each read of $all: appends until now are covered by that read.
    fn before_read(&mut self);

    /// Resolves when an append may have happened since [`Wakeup::before_read`].
    fn appended(&mut self) -> impl Future<Output = ()> + Send;
}
