//! Load, fold, decide, append; retry on a lost race; recognise a retried command.

use crate::error::{CommandError, Guarded};
use crate::ids::{command_id, event_id};
use domain::{Aggregate, Context, DomainEvent};
use eventstore::{
    AppendResult, Direction, EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent,
    StoreError, StreamAppend,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::convert::Infallible;
use std::sync::Arc;
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

/// A command as it arrives: who, under which idempotency key, and what.
#[derive(Debug, Clone)]
pub struct Envelope<C> {
    /// Chosen by the client, unique per intended change (e.g. a UUID made when the form opens).
    /// Sending an accepted command again with the same key changes nothing and returns the first
    /// result. A refused command stores nothing, so sending it again decides it afresh.
    pub idempotency_key: String,
    /// Who issues the command (rule 9); recorded in every event's metadata.
    pub actor: String,
    /// What caused this command when it is not a person's direct action (e.g. an event that a
    /// process reacted to); `None` means the command itself is the cause.
    pub causation_id: Option<Uuid>,
    /// The stream version the client last saw (optimistic concurrency for people editing a
    /// form): when set and the stream is elsewhere, the command is refused with
    /// [`CommandError::WrongExpectedVersion`] instead of being decided against state the client
    /// never saw. `None` decides against whatever the stream holds (and retries lost races).
    pub expected_version: Option<u64>,
    pub command: C,
}

impl<C> Envelope<C> {
    pub fn new(idempotency_key: impl Into<String>, actor: impl Into<String>, command: C) -> Self {
        Self {
            idempotency_key: idempotency_key.into(),
            actor: actor.into(),
            causation_id: None,
            expected_version: None,
            command,
        }
    }

    /// Refuse the command unless the stream is at `version` (see [`Envelope::expected_version`]).
    pub fn with_expected_version(mut self, version: Option<u64>) -> Self {
        self.expected_version = version;
        self
    }
}

/// One event a command wrote (or had written, for a retried command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandledEvent {
    pub id: Uuid,
    pub event_type: String,
    pub version: u64,
    pub position: Position,
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// UUIDv5 of the idempotency key; the correlation id of the events.
    pub command_id: Uuid,
    pub stream: String,
    pub events: Vec<HandledEvent>,
    /// The stream's version after the command's last event (`None` if it wrote none to a new stream).
    pub stream_version: Option<u64>,
    /// True when this is a retry of a command already carried out: nothing was written now.
    pub replayed: bool,
}

type Today = Arc<dyn Fn() -> Date + Send + Sync>;

/// Handles commands against an event store. Cheap to clone.
#[derive(Clone)]
pub struct CommandHandler<S> {
    store: S,
    max_attempts: u32,
    today: Today,
}

/// The county's clock: China Standard Time (UTC+8), where business dates are written.
pub fn county_today() -> Date {
    let offset = UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC);
    OffsetDateTime::now_utc().to_offset(offset).date()
}

/// Events read per page when loading a stream.
const PAGE: usize = 1000;

impl<S: EventStore> CommandHandler<S> {
    pub fn new(store: S) -> Self {
        Self {
            store,
            max_attempts: 5,
            today: Arc::new(county_today),
        }
    }

    /// How many times a command is decided before giving up on a stream others keep changing.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Replace the clock that says "today" (tests, imports of historical data).
    pub fn with_today(mut self, today: impl Fn() -> Date + Send + Sync + 'static) -> Self {
        self.today = Arc::new(today);
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Carry out `envelope.command` on the aggregate of `stream` (e.g. `ProjectId::stream()`).
    pub async fn handle<A: Aggregate>(
        &self,
        stream: &str,
        envelope: Envelope<A::Command>,
    ) -> Result<Outcome, CommandError> {
        self.handle_guarded::<A, Infallible>(stream, envelope, |_| Ok(()))
            .await
            .map_err(unguarded)
    }

    /// [`CommandHandler::handle`] with a `guard` that sees the aggregate's state just before
    /// each decision (every attempt, after a lost race too) and may refuse the command. Access
    /// control uses it to check scope against the very state the command is decided on (an
    /// editor's project must belong to one of its units), so no reassignment can slip in between
    /// a check and the write. A retry of a command already carried out returns its first result
    /// without asking the guard, as it writes nothing.
    pub async fn handle_guarded<A: Aggregate, E>(
        &self,
        stream: &str,
        envelope: Envelope<A::Command>,
        guard: impl Fn(&A) -> Result<(), E>,
    ) -> Result<Outcome, Guarded<E>> {
        let item = BatchItem {
            stream: stream.to_owned(),
            envelope,
            guard,
        };
        match self.handle_batch_guarded::<A, E, _>(vec![item]).await {
            Ok(mut outcomes) => outcomes.pop().ok_or_else(|| {
                Guarded::Command(CommandError::Store(StoreError::Corrupt(
                    "a command without an outcome".to_owned(),
                )))
            }),
            Err(BatchError::Items(mut refused)) if !refused.is_empty() => {
                Err(refused.swap_remove(0).error)
            }
            Err(BatchError::Items(_)) => Err(Guarded::Command(CommandError::Store(
                StoreError::Corrupt("a refusal without an error".to_owned()),
            ))),
            Err(BatchError::Batch(e)) => Err(Guarded::Command(e)),
        }
    }

    /// Carries out several commands (on one stream or many) all or nothing: every item is decided
    /// against its stream as loaded (after the batch's earlier items on the same stream), with its
    /// own guard, and the events of all items are appended in one atomic multi-stream append
    /// ([`EventStore::append_streams`]) at the versions the decisions were made on. Any refusal
    /// refuses the whole batch with every item's error ([`BatchError::Items`]) and writes nothing.
    /// When another writer changed one of the streams in between, the whole batch is decided
    /// again (up to the handler's attempts), so the batch either lands as decided or not at all.
    /// Items that are retries of commands already carried out (same key, same content) answer
    /// their first result and write nothing; unique keys are reserved before the append, as for
    /// a single command.
    pub async fn handle_batch_guarded<A: Aggregate, E, G>(
        &self,
        items: Vec<BatchItem<A::Command, G>>,
    ) -> Result<Vec<Outcome>, BatchError<E>>
    where
        G: Fn(&A) -> Result<(), E>,
    {
        let mut keyed = Vec::with_capacity(items.len());
        let mut refused = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match Keyed::of(&item.stream, &item.envelope) {
                Ok(k) => keyed.push(k),
                Err(e) => refused.push(ItemError::new(index, e)),
            }
        }
        if !refused.is_empty() {
            return Err(BatchError::Items(refused));
        }
        let mut last_conflict = items.first().map(|i| i.stream.clone()).unwrap_or_default();
        for attempt in 1..=self.max_attempts {
            let plan = self.plan::<A, E, G>(&items, &keyed).await?;
            if plan.appends.is_empty() {
                return Ok(plan.outcomes(&items, &keyed, &[]));
            }
            for &i in &plan.writing {
                for key in A::unique_keys(&items[i].envelope.command) {
                    match self
                        .store
                        .reserve_key(key.kind, &key.key, &items[i].stream)
                        .await
                    {
                        Ok(_) => {}
                        Err(StoreError::KeyTaken { owner, .. }) => {
                            let e = CommandError::from(key.taken_error(&owner));
                            return Err(BatchError::Items(vec![ItemError::new(i, e)]));
                        }
                        Err(e) => return Err(BatchError::Batch(CommandError::Store(e))),
                    }
                }
            }
            let appends = plan.appends.clone();
            let appended = if appends.len() == 1 {
                // One stream: the store's single append, one round trip.
                let a = appends.into_iter().next().ok_or_else(|| {
                    BatchError::Batch(CommandError::Store(StoreError::Corrupt(
                        "an empty append".to_owned(),
                    )))
                })?;
                self.store
                    .append(&a.stream, a.expected, a.events)
                    .await
                    .map(|r| vec![r])
            } else {
                self.store.append_streams(appends).await
            };
            match appended {
                Ok(results) => return Ok(plan.outcomes(&items, &keyed, &results)),
                Err(StoreError::WrongExpectedVersion {
                    stream, current, ..
                }) => {
                    // A client that pinned the version it saw gets the conflict to resolve:
                    // deciding again would act on state it never saw.
                    let pinned: Vec<ItemError<E>> = items
                        .iter()
                        .enumerate()
                        .filter(|(_, it)| {
                            it.stream == stream && it.envelope.expected_version.is_some()
                        })
                        .map(|(i, it)| {
                            ItemError::new(
                                i,
                                CommandError::WrongExpectedVersion {
                                    stream: stream.clone(),
                                    expected: it.envelope.expected_version,
                                    current,
                                },
                            )
                        })
                        .collect();
                    if !pinned.is_empty() {
                        return Err(BatchError::Items(pinned));
                    }
                    // Someone else appended since we loaded: decide again against their events.
                    tracing::debug!(%stream, attempt, "lost the race for a stream; reloading");
                    last_conflict = stream;
                }
                Err(StoreError::IdempotencyConflict { event_id }) => {
                    // An event id of ours exists with other content: the key was used by another
                    // command, or by this one with another actor or cause. Which of the two is
                    // judged on the command's content, as when the retry is found on loading.
                    let Some(i) = plan.item_of(event_id) else {
                        return Err(BatchError::Batch(CommandError::Store(
                            StoreError::IdempotencyConflict { event_id },
                        )));
                    };
                    let recorded = self
                        .load(&items[i].stream)
                        .await
                        .map_err(BatchError::Batch)?;
                    let ctx = self.context(&items[i].envelope);
                    match retry_of::<A>(
                        &items[i].stream,
                        &items[i].envelope,
                        &keyed[i],
                        &recorded,
                        &ctx,
                    ) {
                        // The same command, carried out meanwhile: the next attempt answers it.
                        Ok(Some(_)) => tracing::debug!(attempt, "a retry landed meanwhile"),
                        Ok(None) => {
                            return Err(BatchError::Items(vec![ItemError::new(
                                i,
                                CommandError::IdempotencyKeyReused {
                                    key: items[i].envelope.idempotency_key.clone(),
                                },
                            )]));
                        }
                        Err(e) => return Err(BatchError::Items(vec![ItemError::new(i, e)])),
                    }
                }
                Err(e) => return Err(BatchError::Batch(CommandError::Store(e))),
            }
        }
        Err(BatchError::Batch(CommandError::Conflict {
            stream: last_conflict,
            attempts: self.max_attempts,
        }))
    }

    /// One attempt's decisions: every item judged against its stream as loaded now.
    async fn plan<A: Aggregate, E, G>(
        &self,
        items: &[BatchItem<A::Command, G>],
        keyed: &[Keyed],
    ) -> Result<Plan, BatchError<E>>
    where
        G: Fn(&A) -> Result<(), E>,
    {
        let mut streams: Vec<Working<A>> = Vec::new();
        let mut plan = Plan::default();
        let mut refused = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let s = match streams.iter().position(|w| w.stream == item.stream) {
                Some(s) => s,
                None => {
                    let recorded = self.load(&item.stream).await.map_err(BatchError::Batch)?;
                    let state = match fold::<A>(&item.stream, &recorded) {
                        Ok(state) => state,
                        Err(e) => return Err(BatchError::Batch(e)),
                    };
                    streams.push(Working {
                        stream: item.stream.clone(),
                        current: recorded.last().map(|e| e.version),
                        recorded,
                        state,
                        pending: Vec::new(),
                    });
                    streams.len() - 1
                }
            };
            let w = &mut streams[s];
            let ctx = self.context(&item.envelope);
            match retry_of::<A>(&item.stream, &item.envelope, &keyed[i], &w.recorded, &ctx) {
                Ok(Some(outcome)) => {
                    plan.items.push(Planned::Replayed(outcome));
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    refused.push(ItemError::new(i, e));
                    continue;
                }
            }
            if let Err(e) = check_expected(&item.stream, item.envelope.expected_version, w.current)
            {
                refused.push(ItemError::new(i, e));
                continue;
            }
            if let Err(e) = (item.guard)(&w.state) {
                refused.push(ItemError {
                    index: i,
                    error: Guarded::Refused(e),
                });
                continue;
            }
            let events = match w.state.decide(&item.envelope.command, &ctx) {
                Ok(events) => events,
                Err(e) => {
                    refused.push(ItemError::new(i, CommandError::from(e)));
                    continue;
                }
            };
            if events.is_empty() {
                plan.items.push(Planned::Nothing {
                    stream_version: w.current,
                });
                continue;
            }
            let metadata = json!({
                "actor": item.envelope.actor,
                "correlationId": keyed[i].command_id,
                "causationId": item.envelope.causation_id.unwrap_or(keyed[i].command_id),
                "idempotencyKey": item.envelope.idempotency_key,
                COMMAND_DIGEST: keyed[i].digest,
            });
            let from = w.pending.len();
            for (k, e) in events.iter().enumerate() {
                w.pending.push(NewEvent {
                    id: event_id(keyed[i].command_id, k),
                    event_type: e.event_type().to_owned(),
                    schema_version: e.schema_version(),
                    data: e.to_json(),
                    metadata: metadata.clone(),
                });
            }
            // Later items of the batch on this stream are decided after this one's events.
            w.state = events
                .iter()
                .fold(std::mem::take(&mut w.state), |state, e| state.apply(e));
            plan.writing.push(i);
            plan.items.push(Planned::Write {
                stream: s,
                events: from..w.pending.len(),
            });
        }
        if !refused.is_empty() {
            return Err(BatchError::Items(refused));
        }
        for w in streams {
            let expected = w
                .current
                .map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact);
            plan.append_index.push(if w.pending.is_empty() {
                None
            } else {
                plan.appends
                    .push(StreamAppend::new(w.stream, expected, w.pending));
                Some(plan.appends.len() - 1)
            });
        }
        Ok(plan)
    }

    /// Decides `envelope.command` against the stream as it is now, without writing anything:
    /// `Ok` means `handle` would accept it unless the stream changes in between (a retry of a
    /// command already carried out is `Ok` too; the key used for another command is not).
    pub async fn check<A: Aggregate>(
        &self,
        stream: &str,
        envelope: &Envelope<A::Command>,
    ) -> Result<(), CommandError> {
        self.check_guarded::<A, Infallible>(stream, envelope, |_| Ok(()))
            .await
            .map_err(unguarded)
    }

    /// [`CommandHandler::check`] with the guard of [`CommandHandler::handle_guarded`].
    pub async fn check_guarded<A: Aggregate, E>(
        &self,
        stream: &str,
        envelope: &Envelope<A::Command>,
        guard: impl Fn(&A) -> Result<(), E>,
    ) -> Result<(), Guarded<E>> {
        let keyed = Keyed::of(stream, envelope)?;
        let recorded = self.load(stream).await?;
        let ctx = self.context(envelope);
        if retry_of::<A>(stream, envelope, &keyed, &recorded, &ctx)?.is_some() {
            return Ok(());
        }
        check_expected(
            stream,
            envelope.expected_version,
            recorded.last().map(|e| e.version),
        )?;
        let state = fold::<A>(stream, &recorded)?;
        guard(&state).map_err(Guarded::Refused)?;
        state
            .decide(&envelope.command, &ctx)
            .map_err(CommandError::from)?;
        Ok(())
    }

    fn context<C>(&self, envelope: &Envelope<C>) -> Context {
        Context::new((self.today)(), envelope.actor.clone())
    }

    /// The aggregate as its stream stands now, with the stream's version (`None`: no stream),
    /// folded exactly as a command is decided against it. For readers that must agree with the
    /// rules, e.g. the monthly template listing the projects that can report.
    pub async fn current<A: Aggregate>(
        &self,
        stream: &str,
    ) -> Result<(A, Option<u64>), CommandError> {
        let recorded = self.load(stream).await?;
        let version = recorded.last().map(|e| e.version);
        Ok((fold::<A>(stream, &recorded)?, version))
    }

    /// The events of `stream` after `version`, oldest first: what changed since a client read
    /// it (the upload of a sheet names them).
    pub async fn since(
        &self,
        stream: &str,
        version: u64,
    ) -> Result<Vec<RecordedEvent>, CommandError> {
        let mut recorded = self.load(stream).await?;
        recorded.retain(|e| e.version > version);
        Ok(recorded)
    }

    /// The whole stream, in order.
    async fn load(&self, stream: &str) -> Result<Vec<RecordedEvent>, CommandError> {
        let mut all: Vec<RecordedEvent> = Vec::new();
        loop {
            let from = all.last().map_or(0, |e| e.version + 1);
            let page = self
                .store
                .read_stream(stream, Direction::Forwards, from, PAGE)
                .await
                .map_err(CommandError::Store)?;
            let done = page.len() < PAGE;
            all.extend(page);
            if done {
                return Ok(all);
            }
        }
    }
}

/// The error of a guard that never refuses.
fn unguarded(e: Guarded<Infallible>) -> CommandError {
    match e {
        Guarded::Command(e) => e,
        Guarded::Refused(never) => match never {},
    }
}

fn check_expected(
    stream: &str,
    expected: Option<u64>,
    current: Option<u64>,
) -> Result<(), CommandError> {
    match expected {
        Some(v) if current != Some(v) => Err(CommandError::WrongExpectedVersion {
            stream: stream.into(),
            expected,
            current,
        }),
        _ => Ok(()),
    }
}

/// Where a command's retry is recognised: the digest of its content in its events' metadata.
pub const COMMAND_DIGEST: &str = "commandDigest";

/// The digest of a command's content: SHA-256 (lower-case hex) of the canonical JSON
/// (PostgreSQL's jsonb text, [`eventstore::canonical_json`]) of `{"stream": …, "command": …}`,
/// the command serialised as the domain defines it (its type and its data). The actor, the
/// causation and the expected version are not part of it: a retry may come from another session
/// of the same person, and a retry under a stale version must still be recognised.
pub fn command_digest<C: serde::Serialize>(
    stream: &str,
    command: &C,
) -> Result<String, CommandError> {
    let value = json!({
        "stream": stream,
        "command": serde_json::to_value(command)
            .map_err(|e| CommandError::Store(StoreError::InvalidAppend(e.to_string())))?,
    });
    let text = eventstore::canonical_json::jsonb_text(&value)
        .map_err(|e| CommandError::Store(StoreError::InvalidAppend(e.to_string())))?;
    Ok(hex::encode(Sha256::digest(text.as_bytes())))
}

/// One command of a batch ([`CommandHandler::handle_batch_guarded`]): its stream, its envelope
/// and the guard that sees the stream's state before it is decided.
pub struct BatchItem<C, G> {
    pub stream: String,
    pub envelope: Envelope<C>,
    pub guard: G,
}

/// An item of a batch that was refused, with why.
#[derive(Debug)]
pub struct ItemError<E> {
    /// The item's index in the batch.
    pub index: usize,
    pub error: Guarded<E>,
}

impl<E> ItemError<E> {
    fn new(index: usize, error: CommandError) -> Self {
        ItemError {
            index,
            error: Guarded::Command(error),
        }
    }
}

/// Why a batch was not carried out; in every case nothing of it was written.
#[derive(Debug)]
pub enum BatchError<E> {
    /// Items were refused (by their guard, the rules, their expected version, a reused key), in
    /// item order.
    Items(Vec<ItemError<E>>),
    /// The batch as a whole failed (a store error, or streams that kept changing).
    Batch(CommandError),
}

/// An item's ids and digest, fixed for every attempt.
struct Keyed {
    command_id: Uuid,
    digest: String,
}

impl Keyed {
    fn of<C: serde::Serialize>(
        stream: &str,
        envelope: &Envelope<C>,
    ) -> Result<Keyed, CommandError> {
        if envelope.idempotency_key.trim().is_empty() {
            return Err(CommandError::IdempotencyKeyMissing);
        }
        Ok(Keyed {
            command_id: command_id(&envelope.idempotency_key),
            digest: command_digest(stream, &envelope.command)?,
        })
    }
}

/// A stream as one attempt of a batch sees it.
struct Working<A> {
    stream: String,
    recorded: Vec<RecordedEvent>,
    current: Option<u64>,
    /// The state after the stream's events and the batch's earlier items on it.
    state: A,
    pending: Vec<NewEvent>,
}

enum Planned {
    Replayed(Outcome),
    /// Decided into no events: nothing to write.
    Nothing {
        stream_version: Option<u64>,
    },
    /// Writes `events` of the pending events of the attempt's `stream`-th stream.
    Write {
        stream: usize,
        events: std::ops::Range<usize>,
    },
}

#[derive(Default)]
struct Plan {
    items: Vec<Planned>,
    /// The items that write, in order.
    writing: Vec<usize>,
    /// One append per stream with events to write.
    appends: Vec<StreamAppend>,
    /// For each stream of the attempt (in the order first named), its part in `appends`.
    append_index: Vec<Option<usize>>,
}

impl Plan {
    /// The item that was to write the event `id`.
    fn item_of(&self, id: Uuid) -> Option<usize> {
        self.writing
            .iter()
            .copied()
            .find(|&i| match &self.items[i] {
                Planned::Write { stream, events } => self
                    .append_index
                    .get(*stream)
                    .copied()
                    .flatten()
                    .and_then(|a| self.appends.get(a))
                    .is_some_and(|a| a.events[events.clone()].iter().any(|e| e.id == id)),
                _ => false,
            })
    }

    /// Each item's outcome, given the append's results (one per part of `appends`).
    fn outcomes<C, G>(
        self,
        items: &[BatchItem<C, G>],
        keyed: &[Keyed],
        results: &[AppendResult],
    ) -> Vec<Outcome> {
        let Plan {
            items: planned,
            appends,
            append_index,
            ..
        } = self;
        planned
            .into_iter()
            .zip(items.iter().zip(keyed))
            .map(|(p, (item, k))| match p {
                Planned::Replayed(outcome) => outcome,
                Planned::Nothing { stream_version } => Outcome {
                    command_id: k.command_id,
                    stream: item.stream.clone(),
                    events: vec![],
                    stream_version,
                    replayed: false,
                },
                Planned::Write { stream, events } => {
                    let part = append_index.get(stream).copied().flatten();
                    let (sent, result) =
                        match part.and_then(|a| Some((appends.get(a)?, results.get(a)?))) {
                            Some(found) => found,
                            None => {
                                return Outcome {
                                    command_id: k.command_id,
                                    stream: item.stream.clone(),
                                    events: vec![],
                                    stream_version: None,
                                    replayed: false,
                                };
                            }
                        };
                    let handled: Vec<HandledEvent> = sent.events[events.clone()]
                        .iter()
                        .zip(&result.events[events])
                        .map(|(n, a)| HandledEvent {
                            id: n.id,
                            event_type: n.event_type.clone(),
                            version: a.version,
                            position: a.position,
                        })
                        .collect();
                    Outcome {
                        command_id: k.command_id,
                        stream: item.stream.clone(),
                        stream_version: handled.last().map(|e| e.version),
                        events: handled,
                        replayed: result.replayed,
                    }
                }
            })
            .collect()
    }
}

/// Whether the stream already holds this command's events, judged by key **and** content:
/// `Some` (the first result again) when they were written for the same command, `None` when the
/// key has not been used on this stream, [`CommandError::IdempotencyKeyReused`] when it was used
/// for another command.
///
/// The content is the digest in the first event's metadata ([`COMMAND_DIGEST`]). Events written
/// before digests were recorded have none; for them the command is decided again against the
/// state just before those events, and it is the same command when that gives the same events
/// (type and data, compared as domain events) — what the store compares for a retried append.
fn retry_of<A: Aggregate>(
    stream: &str,
    envelope: &Envelope<A::Command>,
    keyed: &Keyed,
    recorded: &[RecordedEvent],
    ctx: &Context,
) -> Result<Option<Outcome>, CommandError> {
    let cid = keyed.command_id;
    let first = event_id(cid, 0);
    let Some(start) = recorded.iter().position(|e| e.id == first) else {
        return Ok(None);
    };
    let mine = &recorded[start..];
    let n = mine
        .iter()
        .enumerate()
        .take_while(|(i, e)| e.id == event_id(cid, *i))
        .count();
    let mine = &mine[..n];
    let same = match mine[0].metadata.get(COMMAND_DIGEST) {
        Some(digest) => digest.as_str() == Some(keyed.digest.as_str()),
        None => {
            let before = fold::<A>(stream, &recorded[..start])?;
            let stored =
                mine.iter()
                    .map(|r| {
                        A::Event::from_json(&r.event_type, r.schema_version, r.data.clone())
                            .map_err(|source| CommandError::Decode {
                                stream: stream.to_owned(),
                                event_type: r.event_type.clone(),
                                version: r.schema_version,
                                source,
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
            before
                .decide(&envelope.command, ctx)
                .is_ok_and(|decided| decided == stored)
        }
    };
    if !same {
        return Err(CommandError::IdempotencyKeyReused {
            key: envelope.idempotency_key.clone(),
        });
    }
    let events: Vec<HandledEvent> = mine
        .iter()
        .map(|e| HandledEvent {
            id: e.id,
            event_type: e.event_type.clone(),
            version: e.version,
            position: e.position,
        })
        .collect();
    Ok(Some(Outcome {
        command_id: cid,
        stream: stream.to_owned(),
        stream_version: events.last().map(|e| e.version),
        events,
        replayed: true,
    }))
}

fn fold<A: Aggregate>(stream: &str, recorded: &[RecordedEvent]) -> Result<A, CommandError> {
    recorded.iter().try_fold(A::default(), |state, r| {
        let event = A::Event::from_json(&r.event_type, r.schema_version, r.data.clone()).map_err(
            |source| CommandError::Decode {
                stream: stream.into(),
                event_type: r.event_type.clone(),
                version: r.schema_version,
                source,
            },
        )?;
        Ok(state.apply(&event))
    })
}
