//! Errors as clients see them: every GraphQL error carries `extensions.code` (a stable
//! SCREAMING_SNAKE string), `extensions.class` (one of the generic classes below), the field at
//! fault when there is one, and the message in English (`message`) and Chinese
//! (`extensions.messageZh`). Internal failures are logged and answered with a generic message:
//! no stack trace or SQL ever reaches a client.

use async_graphql::ErrorExtensions;
use auth::{AuthError, TokenError};
use commands::{CommandError, Guarded};
use domain::{DomainError, ErrorCode, ValueError};

/// The generic classes of `extensions.class` (and of `extensions.code` for errors that are not
/// the domain's own).
pub mod class {
    /// The request or an argument is malformed, or a value breaks a rule of the domain.
    pub const VALIDATION: &str = "VALIDATION";
    /// The thing named does not exist.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// Someone else changed it first (expected version), or an idempotency key was reused.
    pub const CONFLICT: &str = "CONFLICT";
    /// No valid API token (missing, malformed, unknown, expired or revoked).
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The token's role or unit scope does not allow the operation.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// Too many requests for this token now: retry after `extensions.retryAfterMs`.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// A fixed limit of the server (depth, complexity, selections, aliases, directives, page
    /// size, batch size, execution time, a subscriber too far behind): the same request will be
    /// refused again, so it is not to be retried as is.
    pub const LIMIT_EXCEEDED: &str = "LIMIT_EXCEEDED";
    /// The server failed; the log has the cause.
    pub const INTERNAL: &str = "INTERNAL";
}

/// Why a GraphQL operation failed.
///
/// Deliberately not `Display`: async-graphql turns any `Display` error into a bare message, and
/// every error must keep its code, so the only way out is the `From` below.
#[derive(Debug)]
pub enum ApiError {
    Domain(DomainError),
    Command(CommandError),
    Validation {
        field: Option<String>,
        en: String,
        zh: String,
    },
    NotFound {
        what: &'static str,
        id: String,
    },
    Limit {
        en: String,
        zh: String,
    },
    /// Access control said no (or could not ask the token store).
    Auth(AuthError),
    /// The request conflicts with what is recorded (other than a domain rule).
    Conflict {
        code: &'static str,
        field: &'static str,
        en: String,
        zh: String,
    },
    Internal(String),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::Auth(e)
    }
}

impl From<Guarded<AuthError>> for ApiError {
    fn from(e: Guarded<AuthError>) -> Self {
        match e {
            Guarded::Refused(a) => ApiError::Auth(a),
            Guarded::Command(c) => ApiError::Command(c),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Invalid { field, en, zh } => ApiError::Validation {
                field: Some(camel(field)),
                en,
                zh,
            },
            TokenError::NotFound(id) => ApiError::NotFound {
                what: "token",
                id: id.to_string(),
            },
            TokenError::AlreadyRevoked(id) => ApiError::Conflict {
                code: "TOKEN_ALREADY_REVOKED",
                field: "tokenId",
                en: format!("token {id} is already revoked"),
                zh: format!("令牌 {id} 已被吊销"),
            },
            other @ (TokenError::Random(_)
            | TokenError::Database(_)
            | TokenError::Corrupt { .. }) => ApiError::Internal(format!("tokens: {other}")),
        }
    }
}

/// What a client is told when access control says no: `(code, class, English, Chinese)`. The
/// same words over HTTP (before execution) and in GraphQL errors.
pub fn auth_messages(e: &AuthError) -> (&'static str, &'static str, String, String) {
    match e {
        AuthError::Unauthenticated => (
            class::UNAUTHENTICATED,
            class::UNAUTHENTICATED,
            "authentication required: send a valid API token as `Authorization: Bearer <token>`"
                .to_owned(),
            "需要有效的访问令牌：请以 `Authorization: Bearer <令牌>` 发送".to_owned(),
        ),
        AuthError::Forbidden {
            operation,
            reason_en,
            reason_zh,
        } => (
            class::FORBIDDEN,
            class::FORBIDDEN,
            format!("forbidden to {}: {reason_en}", operation.label_en()),
            format!("无权{}：{reason_zh}", operation.label_zh()),
        ),
        AuthError::RateLimited { retry_after } => (
            class::RATE_LIMITED,
            class::RATE_LIMITED,
            format!(
                "too many requests for this token: retry after {} ms",
                retry_after.as_millis()
            ),
            format!(
                "该令牌请求过于频繁，请 {} 毫秒后重试",
                retry_after.as_millis()
            ),
        ),
        AuthError::Unavailable(_) => (
            "UNAVAILABLE",
            class::INTERNAL,
            "cannot check the API token now; try again shortly".to_owned(),
            "暂时无法校验访问令牌，请稍后重试".to_owned(),
        ),
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Domain(e)
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        ApiError::Command(e)
    }
}

impl ApiError {
    pub fn validation(
        field: impl Into<String>,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> Self {
        ApiError::Validation {
            field: Some(field.into()),
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// A value of an argument that the domain's parsers refused.
    pub fn value(field: &str, e: ValueError) -> Self {
        ApiError::Domain(DomainError::new(e.code, leak_field(field), e.en, e.zh))
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(format!("database: {e}"))
    }
}

impl From<eventstore::StoreError> for ApiError {
    fn from(e: eventstore::StoreError) -> Self {
        ApiError::Internal(format!("event store: {e}"))
    }
}

impl From<projections::RuntimeError> for ApiError {
    fn from(e: projections::RuntimeError) -> Self {
        ApiError::Internal(format!("projections: {e}"))
    }
}

/// Field names arrive as `&str` from the API's own argument names, but `DomainError` keeps a
/// `&'static str`; the set of names is fixed by the schema, so interning them is bounded.
fn leak_field(field: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(Default::default);
    let mut names = match names.lock() {
        Ok(n) => n,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(n) = names.get(field) {
        return n;
    }
    let leaked: &'static str = Box::leak(field.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// The class of a domain error code.
pub fn class_of(code: ErrorCode) -> &'static str {
    use ErrorCode as C;
    match code {
        C::ProjectNotFound | C::UnitNotFound | C::SupervisionItemNotFound => class::NOT_FOUND,
        C::ProjectAlreadyRegistered
        | C::UnitAlreadyExists
        | C::UnitNameTaken
        | C::SupervisionItemAlreadyOpened
        | C::ProjectCodeTaken
        | C::InvestmentAlreadyReported
        | C::TargetAlreadySet => class::CONFLICT,
        _ => class::VALIDATION,
    }
}

/// snake_case (the domain's JSON spelling) to camelCase (the schema's).
pub fn camel(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn gql(
    message: &str,
    code: &str,
    class: &str,
    field: Option<&str>,
    zh: &str,
    hint: Option<(&str, &str)>,
) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| {
        e.set("code", code);
        e.set("class", class);
        if let Some(f) = field {
            e.set("field", f);
        }
        e.set("messageZh", zh);
        if let Some((en, zh)) = hint {
            e.set("hint", en);
            e.set("hintZh", zh);
        }
    })
}

fn domain_error(d: &DomainError) -> async_graphql::Error {
    let field = camel(d.field);
    gql(
        &d.message_en,
        &d.code.as_str(),
        class_of(d.code),
        Some(&field),
        &d.message_zh,
        d.hint.as_deref().map(|h| (h.en.as_str(), h.zh.as_str())),
    )
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        crate::metrics::error(&e);
        match &e {
            ApiError::Domain(d) => domain_error(d),
            ApiError::Command(c) => match c {
                CommandError::Domain(d) => domain_error(d),
                CommandError::WrongExpectedVersion {
                    expected, current, ..
                } => {
                    let show = |v: &Option<u64>| v.map_or("none".to_owned(), |v| v.to_string());
                    gql(
                        &format!(
                            "the record is at version {}, not the expected {}: reload and try again",
                            show(current),
                            show(expected)
                        ),
                        class::CONFLICT,
                        class::CONFLICT,
                        Some("expectedVersion"),
                        &format!(
                            "记录已被他人修改（当前版本 {}，预期版本 {}），请刷新后重试",
                            show(current),
                            show(expected)
                        ),
                        None,
                    )
                    .extend_with(|_, x| {
                        if let Some(v) = current {
                            x.set("currentVersion", *v);
                        }
                    })
                }
                CommandError::Conflict { .. } => gql(
                    "the record kept changing while this command was decided; try again",
                    class::CONFLICT,
                    class::CONFLICT,
                    None,
                    "记录正被频繁修改，请稍后重试",
                    None,
                ),
                CommandError::IdempotencyKeyReused { .. } => gql(
                    "this idempotency key was already used for a different command",
                    "IDEMPOTENCY_KEY_REUSED",
                    class::CONFLICT,
                    Some("idempotencyKey"),
                    "该幂等键已用于另一条指令，请为新的修改使用新的键",
                    None,
                ),
                CommandError::IdempotencyKeyMissing => gql(
                    "idempotencyKey must not be empty",
                    class::VALIDATION,
                    class::VALIDATION,
                    Some("idempotencyKey"),
                    "幂等键不能为空",
                    None,
                ),
                CommandError::Decode { .. } | CommandError::Store(_) => {
                    tracing::error!(error = %c, "command failed");
                    internal()
                }
            },
            ApiError::Validation { field, en, zh } => gql(
                en,
                class::VALIDATION,
                class::VALIDATION,
                field.as_deref(),
                zh,
                None,
            ),
            ApiError::NotFound { what, id } => gql(
                &format!("{what} {id} not found"),
                class::NOT_FOUND,
                class::NOT_FOUND,
                Some("id"),
                &format!("未找到{what} {id}"),
                None,
            ),
            ApiError::Limit { en, zh } => gql(
                en,
                class::LIMIT_EXCEEDED,
                class::LIMIT_EXCEEDED,
                None,
                zh,
                None,
            ),
            ApiError::Auth(a) => {
                if let AuthError::Unavailable(cause) = a {
                    tracing::error!(%cause, "cannot check an API token");
                }
                let (code, class, en, zh) = auth_messages(a);
                gql(&en, code, class, None, &zh, None).extend_with(|_, x| match a {
                    AuthError::Forbidden { operation, .. } => x.set("operation", operation.field()),
                    AuthError::RateLimited { retry_after } => {
                        x.set("retryAfterMs", retry_after.as_millis() as u64)
                    }
                    _ => {}
                })
            }
            ApiError::Conflict {
                code,
                field,
                en,
                zh,
            } => gql(en, code, class::CONFLICT, Some(field), zh, None),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                internal()
            }
        }
    }
}

fn internal() -> async_graphql::Error {
    gql(
        "internal error; the server log has the details",
        class::INTERNAL,
        class::INTERNAL,
        None,
        "服务器内部错误，详情见服务器日志",
        None,
    )
}

pub type ApiResult<T> = Result<T, ApiError>;
