//! Append-only, hash-chained event store with a gap-free global log ($all) and subscriptions.
//!
//! The public types and the [`EventStore`] trait are backend-neutral; everything that speaks SQL
//! lives in the backends, [`postgres`] and [`sqlite`]. Semantics follow EventStoreDB (streams
//! `category-id`, 0-based versions, expected versions, idempotent appends by event id).
//! docs/ARCHITECTURE.md explains the design.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod any;
pub mod canonical_json;
mod error;
mod event;
mod filter;
pub mod hash;
pub mod import;
mod keys;
mod position;
mod seal;
mod store;
pub mod stream_name;
mod subscription;
mod upcast;
pub mod verify;

pub mod postgres;
pub mod sqlite;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use any::{AnyEventStore, AnyImporter, Backend, Database, Location, create_parent_dir};
pub use error::StoreError;
pub use event::{
    AppendResult, AppendedEvent, Direction, ExpectedVersion, NewEvent, RecordedEvent, StreamAppend,
};
pub use filter::Filter;
pub use import::{AllHead, ChainCheck, ImportEvent, ImportSummary, Importer};
pub use keys::{KEY_RESERVED, key_stream};
pub use position::Position;
pub use postgres::{NotifyMode, PgEventStore, PgStoreOptions};
pub use seal::Seal;
pub use sqlite::{SqliteEventStore, SqliteStoreOptions};
pub use store::{EventStore, EventStream};
pub use upcast::Upcasters;
pub use verify::{Mismatch, VerifyReport};
