//! Why a command was not carried out.

use domain::{DecodeError, DomainError};
use eventstore::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A rule refused the command; nothing was written.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Other writers kept winning the race for the stream; nothing was written. Safe to retry.
    #[error("stream {stream} kept changing; gave up after {attempts} attempts")]
    Conflict { stream: String, attempts: u32 },
    /// The client's expected version is not the stream's version; nothing was written.
    #[error("stream {stream} is at version {current:?}, not the expected {expected:?}")]
    WrongExpectedVersion {
        stream: String,
        expected: Option<u64>,
        current: Option<u64>,
    },
    /// The idempotency key was already used for a different command.
    #[error("idempotency key {key:?} was already used for a different command")]
    IdempotencyKeyReused { key: String },
    /// The idempotency key is empty.
    #[error("a command needs a non-empty idempotency key")]
    IdempotencyKeyMissing,
    /// A stored event could not be read back into the domain's types.
    #[error("stored event {event_type} v{version} of {stream}: {source}")]
    Decode {
        stream: String,
        event_type: String,
        version: u32,
        source: DecodeError,
    },
    #[error(transparent)]
    Store(StoreError),
}

impl CommandError {
    /// Stable code for API errors: the domain's code, or one of the handler's own.
    pub fn code(&self) -> String {
        match self {
            Self::Domain(e) => e.code.as_str(),
            Self::Conflict { .. } => "CONCURRENCY_CONFLICT".into(),
            Self::WrongExpectedVersion { .. } => "WRONG_EXPECTED_VERSION".into(),
            Self::IdempotencyKeyReused { .. } => "IDEMPOTENCY_KEY_REUSED".into(),
            Self::IdempotencyKeyMissing => "IDEMPOTENCY_KEY_REQUIRED".into(),
            Self::Decode { .. } => "STORED_EVENT_UNREADABLE".into(),
            Self::Store(_) => "STORE_ERROR".into(),
        }
    }

    /// The domain error, when a rule refused the command.
    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            Self::Domain(e) => Some(e),
            _ => None,
        }
    }
}

/// A guarded command's failure: the guard refused it (nothing was decided or written), or
/// handling failed as for an unguarded command.
#[derive(Debug, thiserror::Error)]
pub enum Guarded<E> {
    #[error("refused: {0}")]
    Refused(E),
    #[error(transparent)]
    Command(#[from] CommandError),
}
