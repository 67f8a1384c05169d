//! The event envelope: what is appended, what is read back, and what an append answers.

use std::collections::HashSet;

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Position, StoreError};

/// What the writer expects the stream to be before its append (EventStoreDB semantics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist yet (has no event).
    NoStream,
    /// The stream must have at least one event.
    StreamExists,
    /// The stream's last event must have exactly this version (versions are 0-based).
    Exact(u64),
}

/// An event to append. `id` makes retries idempotent: send the same ids again after a lost
/// response and the store answers with the original result instead of writing twice.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: Uuid,
    pub event_type: String,
    /// Version of the shape of `data`, starting at 1; upcasters raise old versions on read.
    pub schema_version: u32,
    pub data: Value,
    /// `actor`, `correlationId`, `causationId` and free keys; a JSON object.
    pub metadata: Value,
}

impl NewEvent {
    /// An event with a fresh (time-ordered) id, schema version 1 and empty metadata.
    pub fn new(event_type: impl Into<String>, data: Value) -> Self {
        NewEvent {
            id: Uuid::now_v7(),
            event_type: event_type.into(),
            schema_version: 1,
            data,
            metadata: Value::Object(Default::default()),
        }
    }

    pub fn with_id(mut self, id: Uuid) -> Self {
        self.id = id;
        self
    }

    pub fn with_schema_version(mut self, schema_version: u32) -> Self {
        self.schema_version = schema_version;
        self
    }

    pub fn with_metadata(mut self, metadata: Value) -> Self {
        self.metadata = metadata;
        self
    }
}

/// An event as stored, after upcasting to the current schema version.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub id: Uuid,
    pub stream: String,
    /// 0-based version within the stream.
    pub version: u64,
    pub event_type: String,
    /// The schema version of `data` as delivered (after upcasting).
    pub schema_version: u32,
    pub data: Value,
    pub metadata: Value,
    /// When the store recorded it (the appending transaction's start), microsecond precision.
    pub recorded_at: OffsetDateTime,
    pub position: Position,
    /// SHA-256 chained to the previous event of the stream, over the stored (not upcast) event.
    pub hash: [u8; 32],
}

/// Where one appended event landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendedEvent {
    pub version: u64,
    pub position: Position,
}

/// The answer to an append, in the order of the events given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendResult {
    pub events: Vec<AppendedEvent>,
    /// The version of the last event of this append: the expected version for the next append.
    pub stream_version: u64,
    /// True when the events were already stored by an earlier append of the same ids (a retry),
    /// so nothing was written and `events` are the original versions and positions.
    pub replayed: bool,
}

impl AppendResult {
    pub fn versions(&self) -> Vec<u64> {
        self.events.iter().map(|e| e.version).collect()
    }

    pub fn positions(&self) -> Vec<Position> {
        self.events.iter().map(|e| e.position).collect()
    }
}

/// One stream's part of an atomic multi-stream append ([`crate::EventStore::append_streams`]):
/// what [`crate::EventStore::append`] takes for one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamAppend {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

impl StreamAppend {
    pub fn new(
        stream: impl Into<String>,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Self {
        StreamAppend {
            stream: stream.into(),
            expected,
            events,
        }
    }
}

/// Which way to read a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Versions `from_version`, `from_version + 1`, …
    Forwards,
    /// Versions `from_version`, `from_version - 1`, … down to 0; pass `u64::MAX` to start at the end.
    Backwards,
}

/// The checks every backend makes on a multi-stream append before touching the database: at
/// least one stream, each named once (its events go in one append, so that the stream's
/// expected version means one thing), each with valid events, and no event id twice in the
/// whole append (an id names one event of one stream).
pub(crate) fn check_stream_appends(appends: &[StreamAppend]) -> Result<(), StoreError> {
    if appends.is_empty() {
        return Err(StoreError::InvalidAppend(
            "no streams to append to".to_owned(),
        ));
    }
    let mut streams = HashSet::with_capacity(appends.len());
    let mut ids = HashSet::new();
    for a in appends {
        crate::stream_name::validate_stream_name(&a.stream)?;
        if !streams.insert(a.stream.as_str()) {
            return Err(StoreError::InvalidAppend(format!(
                "stream {} appears twice in one append (give all its events in one part)",
                a.stream
            )));
        }
        check_events(&a.events)?;
        for e in &a.events {
            if !ids.insert(e.id) {
                return Err(StoreError::InvalidAppend(format!(
                    "event id {} appears twice",
                    e.id
                )));
            }
        }
    }
    Ok(())
}

/// The order in which a multi-stream append visits its streams: by name, so that two appends
/// sharing streams lock them in the same order and never deadlock each other.
pub(crate) fn lock_order(appends: &[StreamAppend]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..appends.len()).collect();
    order.sort_by(|&a, &b| appends[a].stream.cmp(&appends[b].stream));
    order
}

/// The checks every backend makes on an append's events before touching the database.
pub(crate) fn check_events(events: &[NewEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Err(StoreError::InvalidAppend("no events to append".to_owned()));
    }
    let mut seen = HashSet::with_capacity(events.len());
    for e in events {
        if !seen.insert(e.id) {
            return Err(StoreError::InvalidAppend(format!(
                "event id {} appears twice",
                e.id
            )));
        }
        if e.event_type.is_empty() {
            return Err(StoreError::InvalidAppend(format!(
                "event {} has no type",
                e.id
            )));
        }
        if e.schema_version == 0 {
            return Err(StoreError::InvalidAppend(format!(
                "event {} has schema version 0 (they start at 1)",
                e.id
            )));
        }
        if !e.metadata.is_object() {
            return Err(StoreError::InvalidAppend(format!(
                "metadata of event {} is not a JSON object",
                e.id
            )));
        }
    }
    Ok(())
}
