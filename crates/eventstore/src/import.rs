//! Importing a whole history into an empty store (`taizhang import`, docs/export-format.md).
//!
//! Appends cannot do this: they assign versions, `recorded_at` and hashes themselves. An import
//! keeps every event's id, stream, version, type, stored schema version, data, metadata,
//! `recorded_at` and hash, and the order of $all (positions are the target's own). It is one
//! transaction per backend: [`EventStore::begin_import`](crate::EventStore::begin_import) refuses a
//! store that holds anything and keeps appends out until the importer commits or is dropped
//! (dropping it writes nothing); [`Importer::write`] checks each event against its stream's chain
//! ([`ChainCheck`]) before it is written.

use std::collections::HashMap;
use std::future::Future;

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::canonical_json::jsonb_text;
use crate::hash::{self, HashInput, RangeDigest, ZERO_HASH};
use crate::stream_name::validate_stream_name;
use crate::{RecordedEvent, StoreError};

/// An event exactly as stored in the source: what an import writes.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportEvent {
    pub id: Uuid,
    pub stream: String,
    pub version: u64,
    pub event_type: String,
    /// The stored schema version (not upcast).
    pub schema_version: u32,
    pub data: Value,
    pub metadata: Value,
    pub recorded_at: OffsetDateTime,
    pub hash: [u8; 32],
}

impl From<RecordedEvent> for ImportEvent {
    /// The stored form of an event read from a store without upcasters (with upcasters, `data`
    /// and `schema_version` are the upcast ones and the hash check refuses the event).
    fn from(e: RecordedEvent) -> Self {
        ImportEvent {
            id: e.id,
            stream: e.stream,
            version: e.version,
            event_type: e.event_type,
            schema_version: e.schema_version,
            data: e.data,
            metadata: e.metadata,
            recorded_at: e.recorded_at,
            hash: e.hash,
        }
    }
}

/// What a committed import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub events: u64,
    pub streams: u64,
    /// SHA-256 over the event hashes in the order written (the export file's trailer digest).
    pub digest: [u8; 32],
}

/// One import in progress: a transaction of the target store. Dropping it without
/// [`commit`](Importer::commit) rolls everything back.
pub trait Importer: Send {
    /// Writes `batch` (in $all order, after every earlier batch). Each event must continue its
    /// stream's chain: the next version, and a hash that matches its content chained on the
    /// previous event's hash ([`StoreError::BrokenChain`] otherwise; the import is then unusable,
    /// drop it).
    fn write(
        &mut self,
        batch: Vec<ImportEvent>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Commits everything written; only now do the events become visible.
    fn commit(self) -> impl Future<Output = Result<ImportSummary, StoreError>> + Send;
}

/// How far $all reaches: what an export will contain, fixed before it starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllHead {
    /// Events of $all up to and including `last`.
    pub events: u64,
    /// The last visible event's position; `None` for an empty store.
    pub last: Option<crate::Position>,
}

/// Refuses an import into a store that holds anything, given the counts its backend read under
/// the import's lock.
pub(crate) fn require_empty(events: i64, streams: i64, seals: i64) -> Result<(), StoreError> {
    let count = |n: i64, what: &str| {
        u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative {what} {n}")))
    };
    let (events, streams, seals) = (
        count(events, "event count")?,
        count(streams, "stream count")?,
        count(seals, "seal count")?,
    );
    if events + streams + seals > 0 {
        return Err(StoreError::NotEmpty {
            events,
            streams,
            seals,
        });
    }
    Ok(())
}

struct StreamHead {
    next_version: u64,
    last_hash: [u8; 32],
}

/// Checks a sequence of events in $all order against their streams' hash chains (versions from 0
/// without gaps, each hash recomputed from the content and the previous event's hash), and digests
/// their hashes in order. Shared by importers and by anything that checks an export file before
/// writing. Memory grows with the number of streams, not of events.
#[derive(Default)]
pub struct ChainCheck {
    heads: HashMap<String, StreamHead>,
    digest: RangeDigest,
}

impl ChainCheck {
    pub fn new() -> Self {
        ChainCheck::default()
    }

    /// The hash the next event of `stream` must chain on (zeros for a stream not seen yet).
    pub fn last_hash(&self, stream: &str) -> [u8; 32] {
        self.heads.get(stream).map_or(ZERO_HASH, |h| h.last_hash)
    }

    /// Checks `e` as the next event of its stream and records it.
    pub fn check(&mut self, e: &ImportEvent) -> Result<(), StoreError> {
        let broken = |problem: String| StoreError::BrokenChain {
            stream: e.stream.clone(),
            version: e.version,
            problem,
        };
        validate_stream_name(&e.stream).map_err(|err| broken(err.to_string()))?;
        let (expected, prev) = self
            .heads
            .get(&e.stream)
            .map_or((0, ZERO_HASH), |h| (h.next_version, h.last_hash));
        if e.version != expected {
            return Err(broken(if expected == 0 {
                format!("the stream starts at version {} instead of 0", e.version)
            } else {
                format!(
                    "version {} follows version {} (expected {expected}: an event is missing or repeated)",
                    e.version,
                    expected - 1
                )
            }));
        }
        if e.event_type.is_empty() {
            return Err(broken("the event type is empty".to_owned()));
        }
        if e.schema_version == 0 {
            return Err(broken("schema version 0 (they start at 1)".to_owned()));
        }
        if !e.metadata.is_object() {
            return Err(broken("metadata is not a JSON object".to_owned()));
        }
        let nanos = e.recorded_at.unix_timestamp_nanos();
        if nanos % 1000 != 0 {
            return Err(broken(
                "recordedAt has a precision finer than microseconds".to_owned(),
            ));
        }
        let micros = i64::try_from(nanos / 1000)
            .map_err(|_| broken("recordedAt is out of range".to_owned()))?;
        let data = jsonb_text(&e.data).map_err(|err| broken(format!("data: {err}")))?;
        let metadata = jsonb_text(&e.metadata).map_err(|err| broken(format!("metadata: {err}")))?;
        let recomputed = hash::event_hash(
            &prev,
            &HashInput {
                id: e.id,
                stream: &e.stream,
                version: e.version,
                event_type: &e.event_type,
                schema_version: e.schema_version,
                data: &data,
                metadata: &metadata,
                recorded_at_micros: micros,
            },
        );
        if recomputed != e.hash {
            return Err(broken(format!(
                "the hash {} does not match the event's content chained on the previous event \
                 (recomputed {}): the event was changed, or one before it in the stream",
                hex::encode(e.hash),
                hex::encode(recomputed)
            )));
        }
        self.heads.insert(
            e.stream.clone(),
            StreamHead {
                next_version: e.version + 1,
                last_hash: e.hash,
            },
        );
        self.digest.push(&e.hash);
        Ok(())
    }

    /// Events checked so far.
    pub fn events(&self) -> u64 {
        self.digest.count()
    }

    /// Streams seen so far.
    pub fn streams(&self) -> u64 {
        self.heads.len() as u64
    }

    /// The summary of everything checked.
    pub fn finish(self) -> ImportSummary {
        ImportSummary {
            events: self.digest.count(),
            streams: self.heads.len() as u64,
            digest: self.digest.finish(),
        }
    }
}
