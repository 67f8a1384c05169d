//! Command handling: the one-way path from a command to stored events.
//!
//! `handle` loads the aggregate's stream, folds it with the domain's `apply`, decides the command
//! with the domain's rules and appends the events with `Exact(version)` (or `NoStream`). When
//! another writer got there first (`WrongExpectedVersion`) it reloads and decides again, a bounded
//! number of times, so concurrent commands on one aggregate serialise and each is decided against
//! the state it will actually extend.
//!
//! Idempotency: a command carries a client-chosen idempotency key; its id and its events' ids
//! derive from that key (UUIDv5), and its events' metadata carry a digest of its content
//! (`commandDigest`). A retry — the same key and the same content — finds its own events in the
//! stream (or the store recognises their ids) and returns the first result without writing
//! anything; the same key with other content is `IDEMPOTENCY_KEY_REUSED`, however the two raced.
//!
//! Batches (`handle_batch_guarded`) decide every command against its stream and append all
//! streams in one atomic multi-stream append: all land or none.
//!
//! This crate depends on `domain` and `eventstore`; neither depends on it.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod error;
mod handler;
mod ids;

pub use error::{CommandError, Guarded};
pub use handler::{
    BatchError, BatchItem, COMMAND_DIGEST, CommandHandler, Envelope, HandledEvent, ItemError,
    Outcome, command_digest, county_today,
};
pub use ids::{command_id, event_id};
