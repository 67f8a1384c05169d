//! What access control answers when it says no.
//!
//! Clients learn as little as is useful: an unauthenticated caller is not told whether its token
//! was unknown, expired or revoked (that would help someone holding a stolen or guessed token);
//! the server logs the precise reason instead (see `postgres::PgTokens::authenticate`).

use std::time::Duration;

use crate::Operation;

/// A refused operation, with the reason in English and Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("forbidden: {reason_en} ({reason_zh})")]
pub struct Denied {
    pub operation: Operation,
    pub reason_en: String,
    pub reason_zh: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No token, or one that is unknown, malformed, expired or revoked.
    #[error(
        "authentication required: send a valid API token as `Authorization: Bearer <token>` \
         (需要有效的访问令牌)"
    )]
    Unauthenticated,

    /// A valid token whose role or scope does not allow the operation.
    #[error("forbidden to {}: {reason_en} (无权{}：{reason_zh})", operation.label_en(), operation.label_zh())]
    Forbidden {
        operation: Operation,
        reason_en: String,
        reason_zh: String,
    },

    /// Too many requests for this token; try again after `retry_after`.
    #[error(
        "too many requests: retry after {} ms (请求过于频繁，请 {} 毫秒后重试)",
        retry_after.as_millis(),
        retry_after.as_millis()
    )]
    RateLimited { retry_after: Duration },

    /// The token store could not be asked (the database is down): neither yes nor no.
    #[error("cannot check the API token now (暂时无法校验访问令牌): {0}")]
    Unavailable(#[from] sqlx::Error),
}

impl AuthError {
    /// The GraphQL `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Unauthenticated => "UNAUTHENTICATED",
            AuthError::Forbidden { .. } => "FORBIDDEN",
            AuthError::RateLimited { .. } => "RATE_LIMITED",
            AuthError::Unavailable(_) => "UNAVAILABLE",
        }
    }

    /// The HTTP status for a request refused before GraphQL execution (the API answers
    /// GraphQL-level refusals with 200 and `extensions.code`, per the GraphQL-over-HTTP spec).
    pub fn http_status(&self) -> u16 {
        match self {
            AuthError::Unauthenticated => 401,
            AuthError::Forbidden { .. } => 403,
            AuthError::RateLimited { .. } => 429,
            AuthError::Unavailable(_) => 503,
        }
    }
}

impl From<Denied> for AuthError {
    fn from(d: Denied) -> Self {
        AuthError::Forbidden {
            operation: d.operation,
            reason_en: d.reason_en,
            reason_zh: d.reason_zh,
        }
    }
}
