//! The store's errors.

use uuid::Uuid;

use crate::ExpectedVersion;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("wrong expected version for stream {stream}: expected {expected:?}, current {}", display_version(*.current))]
    WrongExpectedVersion {
        stream: String,
        expected: ExpectedVersion,
        /// The stream's version when the append was refused; `None` when it does not exist.
        current: Option<u64>,
    },

    #[error(
        "event {event_id} was already appended, but not as this append (other stream, order or content)"
    )]
    IdempotencyConflict { event_id: Uuid },

    #[error("{kind} key {key:?} is already taken by {owner}")]
    KeyTaken {
        kind: String,
        key: String,
        owner: String,
    },

    #[error("invalid stream name {stream:?}: {reason}")]
    InvalidStreamName { stream: String, reason: String },

    #[error("invalid append: {0}")]
    InvalidAppend(String),

    #[error("cannot upcast {event_type} from schema version {from_version}: {message}")]
    Upcast {
        event_type: String,
        from_version: u32,
        message: String,
    },

    /// An import's target already holds events, streams or seals: an import only fills an empty
    /// store, so that the imported history is the whole history.
    #[error(
        "the target store is not empty ({events} events, {streams} streams, {seals} seals): \
         import only into an empty store (目标库非空：只能导入到空库)"
    )]
    NotEmpty {
        events: u64,
        streams: u64,
        seals: u64,
    },

    /// An imported event does not continue its stream's hash chain (wrong version, or a hash that
    /// does not match its content chained on the previous event's hash).
    #[error(
        "hash chain broken at stream {stream} version {version}: {problem} \
         (哈希链断裂：流 {stream} 版本 {version})"
    )]
    BrokenChain {
        stream: String,
        version: u64,
        problem: String,
    },

    /// An import that cannot proceed for another reason (e.g. an event id that appears twice).
    #[error("import refused: {0}")]
    ImportRefused(String),

    /// Stored data the store cannot read back (should not happen; verify explains more).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),

    /// A store location (database URL, data directory) that cannot be used.
    #[error("invalid store configuration: {0}")]
    Config(String),

    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

fn display_version(version: Option<u64>) -> String {
    version.map_or_else(|| "none (no stream)".to_owned(), |v| v.to_string())
}

/// Converts between the API's unsigned numbers and the databases' signed ones.
pub(crate) fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|_| StoreError::InvalidAppend(format!("{what} {value} is out of range")))
}

pub(crate) fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what} {value}")))
}
