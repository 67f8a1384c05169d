//! Load, fold, decide, append; retry on a lost race; recognise a retried command.

use crate::error::{CommandError, Guarded};
use crate::ids::{command_id, event_id};
use domain::{Aggregate, Context, DomainEvent};
use eventstore::{
    Direction, EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent, StoreError,
};
use serde_json::json;
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
        if envelope.idempotency_key.trim().is_empty() {
            return Err(CommandError::IdempotencyKeyMissing.into());
        }
        let cid = command_id(&envelope.idempotency_key);
        let ctx = Context::new((self.today)(), envelope.actor.clone());
        for attempt in 1..=self.max_attempts {
            let recorded = self.load(stream).await?;
            if let Some(outcome) = already_handled(stream, cid, &recorded) {
                return Ok(outcome);
            }
            let current = recorded.last().map(|e| e.version);
            check_expected(stream, envelope.expected_version, current)?;
            let state = fold::<A>(stream, &recorded)?;
            guard(&state).map_err(Guarded::Refused)?;
            let events = state
                .decide(&envelope.command, &ctx)
                .map_err(CommandError::from)?;
            if events.is_empty() {
                return Ok(Outcome {
                    command_id: cid,
                    stream: stream.into(),
                    events: vec![],
                    stream_version: current,
                    replayed: false,
                });
            }
            for key in A::unique_keys(&envelope.command) {
                match self.store.reserve_key(key.kind, &key.key, stream).await {
                    Ok(_) => {}
                    Err(StoreError::KeyTaken { owner, .. }) => {
                        return Err(CommandError::from(key.taken_error(&owner)).into());
                    }
                    Err(e) => return Err(CommandError::Store(e).into()),
                }
            }
            let metadata = json!({
                "actor": envelope.actor,
                "correlationId": cid,
                "causationId": envelope.causation_id.unwrap_or(cid),
                "idempotencyKey": envelope.idempotency_key,
            });
            let new_events: Vec<NewEvent> = events
                .iter()
                .enumerate()
                .map(|(i, e)| NewEvent {
                    id: event_id(cid, i),
                    event_type: e.event_type().to_owned(),
                    schema_version: e.schema_version(),
                    data: e.to_json(),
                    metadata: metadata.clone(),
                })
                .collect();
            let expected = current.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact);
            match self
                .store
                .append(stream, expected, new_events.clone())
                .await
            {
                Ok(result) => {
                    let handled = new_events
                        .iter()
                        .zip(&result.events)
                        .map(|(n, a)| HandledEvent {
                            id: n.id,
                            event_type: n.event_type.clone(),
                            version: a.version,
                            position: a.position,
                        })
                        .collect();
                    return Ok(Outcome {
                        command_id: cid,
                        stream: stream.into(),
                        events: handled,
                        stream_version: Some(result.stream_version),
                        replayed: result.replayed,
                    });
                }
                Err(StoreError::WrongExpectedVersion { current, .. })
                    if envelope.expected_version.is_some() =>
                {
                    // The client pinned the version it saw: deciding again would act on state
                    // it never saw, so the lost race is its conflict to resolve.
                    return Err(CommandError::WrongExpectedVersion {
                        stream: stream.into(),
                        expected: envelope.expected_version,
                        current,
                    }
                    .into());
                }
                Err(StoreError::WrongExpectedVersion { .. }) => {
                    // Someone else appended since we loaded: decide again against their events.
                    tracing::debug!(stream, attempt, "lost the race for the stream; reloading");
                }
                Err(StoreError::IdempotencyConflict { .. }) => {
                    return Err(CommandError::IdempotencyKeyReused {
                        key: envelope.idempotency_key,
                    }
                    .into());
                }
                Err(e) => return Err(CommandError::Store(e).into()),
            }
        }
        Err(CommandError::Conflict {
            stream: stream.into(),
            attempts: self.max_attempts,
        }
        .into())
    }

    /// Decides `envelope.command` against the stream as it is now, without writing anything:
    /// `Ok` means `handle` would accept it unless the stream changes in between. Used to check
    /// every command of a batch before the first is carried out.
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
        if envelope.idempotency_key.trim().is_empty() {
            return Err(CommandError::IdempotencyKeyMissing.into());
        }
        let cid = command_id(&envelope.idempotency_key);
        let recorded = self.load(stream).await?;
        if already_handled(stream, cid, &recorded).is_some() {
            return Ok(());
        }
        check_expected(
            stream,
            envelope.expected_version,
            recorded.last().map(|e| e.version),
        )?;
        let ctx = Context::new((self.today)(), envelope.actor.clone());
        let state = fold::<A>(stream, &recorded)?;
        guard(&state).map_err(Guarded::Refused)?;
        state
            .decide(&envelope.command, &ctx)
            .map_err(CommandError::from)?;
        Ok(())
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

/// The first result again, when the stream already holds this command's events.
fn already_handled(stream: &str, cid: Uuid, recorded: &[RecordedEvent]) -> Option<Outcome> {
    let first = event_id(cid, 0);
    let start = recorded.iter().position(|e| e.id == first)?;
    let events: Vec<HandledEvent> = recorded[start..]
        .iter()
        .enumerate()
        .take_while(|(i, e)| e.id == event_id(cid, *i))
        .map(|(_, e)| HandledEvent {
            id: e.id,
            event_type: e.event_type.clone(),
            version: e.version,
            position: e.position,
        })
        .collect();
    let stream_version = events.last().map(|e| e.version);
    Some(Outcome {
        command_id: cid,
        stream: stream.into(),
        events,
        stream_version,
        replayed: true,
    })
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
