//! Turning the append function's SQLSTATEs into typed errors.

use uuid::Uuid;

use crate::{ExpectedVersion, StoreError};

/// SQLSTATEs raised by migrations/postgres (class TZ is ours).
pub(crate) const WRONG_EXPECTED_VERSION: &str = "TZ001";
pub(crate) const IDEMPOTENCY_CONFLICT: &str = "TZ002";
pub(crate) const BAD_ARGUMENTS: &str = "TZ003";

pub(crate) fn map_append_error(
    error: sqlx::Error,
    stream: &str,
    expected: ExpectedVersion,
) -> StoreError {
    let sqlx::Error::Database(db) = &error else {
        return error.into();
    };
    let detail = db
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .and_then(|e| e.detail())
        .unwrap_or_default()
        .to_owned();
    match db.code().as_deref() {
        Some(WRONG_EXPECTED_VERSION) => StoreError::WrongExpectedVersion {
            stream: stream.to_owned(),
            expected,
            current: detail.parse().ok(),
        },
        Some(IDEMPOTENCY_CONFLICT) => match detail.parse::<Uuid>() {
            Ok(event_id) => StoreError::IdempotencyConflict { event_id },
            Err(_) => StoreError::Corrupt(format!("idempotency conflict without event id: {db}")),
        },
        Some(BAD_ARGUMENTS) => StoreError::InvalidAppend(db.message().to_owned()),
        _ => error.into(),
    }
}

pub(crate) use crate::error::{to_i64, to_u64};
