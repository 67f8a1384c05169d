//! The backend-neutral store interface. Backends (PostgreSQL and SQLite) implement it, and
//! the conformance suite (`conformance` feature) checks any implementation against the same rules.

use std::future::Future;
use std::pin::Pin;

use futures::Stream;

use crate::import::{AllHead, Importer};
use crate::{
    AppendResult, Direction, ExpectedVersion, Filter, NewEvent, Position, RecordedEvent, Seal,
    StoreError, StreamAppend, VerifyReport,
};

/// A subscription: events in $all order, catch-up then live. It ends only when dropped or on an
/// error a retry cannot fix (then it yields that error last); lost connections are retried.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<RecordedEvent, StoreError>> + Send>>;

pub trait EventStore: Clone + Send + Sync + 'static {
    /// An import in progress (see [`EventStore::begin_import`]).
    type Importer: Importer;

    /// Appends `events` atomically to `stream` if it is at `expected`. Retrying with the same
    /// event ids returns the original result and writes nothing.
    fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> impl Future<Output = Result<AppendResult, StoreError>> + Send;

    /// Appends to several streams in one transaction: every part is carried out as
    /// [`EventStore::append`] would (its expected version checked, a retry of its ids answered
    /// with the original result and nothing written for it), and either every part is written or
    /// none is. The first refusal (a wrong expected version, an idempotency conflict, an invalid
    /// part) refuses the whole append, naming its stream; a stream may appear only once and an
    /// event id only once. Answers one result per part, in the order given. Streams are locked in
    /// name order, so concurrent appends sharing streams cannot deadlock.
    fn append_streams(
        &self,
        appends: Vec<StreamAppend>,
    ) -> impl Future<Output = Result<Vec<AppendResult>, StoreError>> + Send;

    /// Up to `max_count` events of `stream` from `from_version` on (backwards: down from it; pass
    /// `u64::MAX` for the end). A stream that does not exist reads as empty.
    fn read_stream(
        &self,
        stream: &str,
        direction: Direction,
        from_version: u64,
        max_count: usize,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    /// Up to `batch_size` events of $all strictly after `from` that pass `filter`. Never returns
    /// an uncommitted event, and never one beyond an event that may still commit before it.
    fn read_all(
        &self,
        from: Position,
        filter: &Filter,
        batch_size: usize,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    /// Events of $all after `from` that pass `filter`: catch-up, then live.
    fn subscribe_all(&self, from: Position, filter: Filter) -> EventStream;

    /// Seals everything appended since the last seal; `None` when there is nothing new.
    fn seal(&self) -> impl Future<Output = Result<Option<Seal>, StoreError>> + Send;

    /// Recomputes every stream chain and seal.
    fn verify(&self) -> impl Future<Output = Result<VerifyReport, StoreError>> + Send;

    /// A consumer's stored checkpoint (see the backend for saving it in the consumer's transaction).
    fn load_checkpoint(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<Position>, StoreError>> + Send;

    /// Starts importing a whole history (crate::import): one transaction that keeps every event's
    /// id, stream, version, `recorded_at`, metadata and hash, rebuilds the stream heads, and keeps
    /// the order of $all as written. Refuses with [`StoreError::NotEmpty`] a store that holds any
    /// event, stream or seal (checked inside the transaction, with appends locked out until the
    /// importer commits or is dropped; dropping it writes nothing).
    fn begin_import(&self) -> impl Future<Output = Result<Self::Importer, StoreError>> + Send;

    /// How many events $all holds and where it ends, as one consistent answer: an export reads
    /// up to `last` and gets exactly `events` events, whatever is appended meanwhile. This default
    /// reads all of $all; backends answer it with a count.
    fn all_head(&self) -> impl Future<Output = Result<AllHead, StoreError>> + Send {
        async move {
            let mut head = AllHead {
                events: 0,
                last: None,
            };
            loop {
                let batch = self
                    .read_all(
                        head.last.unwrap_or(Position::START),
                        &Filter::default(),
                        1000,
                    )
                    .await?;
                let Some(last) = batch.last() else {
                    return Ok(head);
                };
                head.last = Some(last.position);
                head.events += batch.len() as u64;
            }
        }
    }

    /// Reserves a unique business key (e.g. a national project code) for `owner` by appending
    /// `KeyReserved` to the stream `<kind>-<key>` with [`ExpectedVersion::NoStream`]. Reserving
    /// again for the same owner succeeds (idempotent); for another owner it fails with
    /// [`StoreError::KeyTaken`] naming the holder.
    fn reserve_key(
        &self,
        kind: &str,
        key: &str,
        owner: &str,
    ) -> impl Future<Output = Result<AppendResult, StoreError>> + Send {
        crate::keys::reserve(self, kind, key, owner)
    }
}
