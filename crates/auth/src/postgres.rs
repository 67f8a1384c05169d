//! The token store on PostgreSQL (schema `auth`, migrations/postgres/0200_auth.sql). Every SQL
//! statement of this crate lives here.
//!
//! **No cache.** Each request looks its token up by hash: one primary-key-sized index probe,
//! cheap next to the request itself. In exchange a revocation or an expiry takes effect at the
//! very next request, in every process, with nothing to invalidate. (Should the lookup ever show
//! up in profiles, the way to cache is per process with LISTEN on a revocation channel; until
//! then there is nothing that could serve a revoked token.)
//!
//! **Audit.** Creation and revocation write the row and an event on stream `token-<id>`
//! (`TokenCreated`, `TokenRevoked`; never the secret nor its hash) in one transaction, through the
//! event store's own append function, so the hash-chained log says who made or revoked which
//! token and when, and `verify` covers it.

use std::net::IpAddr;

use domain::UnitId;
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::token::{CreatedToken, NewToken, TokenError, TokenInfo};
use crate::{AuthError, Identity, Role, Secret};

/// The event types of a token's stream.
pub const TOKEN_CREATED: &str = "TokenCreated";
pub const TOKEN_REVOKED: &str = "TokenRevoked";

/// The stream of a token's events.
pub fn token_stream(token_id: Uuid) -> String {
    format!("token-{token_id}")
}

/// Tokens in PostgreSQL. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PgTokens {
    pool: PgPool,
}

const COLUMNS: &str = "token_id, name, role, units, expires_at, created_at, created_by, \
                       revoked_at, revoked_by";

impl PgTokens {
    pub fn new(pool: PgPool) -> Self {
        PgTokens { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Makes a token for `new`, recorded as made by `created_by` (an actor string). The secret is
    /// in the result and nowhere else.
    pub async fn create(
        &self,
        new: NewToken,
        created_by: &str,
    ) -> Result<CreatedToken, TokenError> {
        let new = new.validated()?;
        let created_by = actor_text("created_by", created_by)?;
        let secret = Secret::generate().map_err(TokenError::Random)?;
        let token_id = Uuid::now_v7();
        let units: Vec<String> = new.units.iter().map(|u| u.as_str().to_owned()).collect();

        // The row and its TokenCreated event are written together by `auth.create_token`
        // (migrations/postgres/0201): the service role has no INSERT on auth.tokens, so no
        // token can exist without its event, and its times are the database's clock.
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM auth.create_token($1, $2, $3, $4, $5, $6, $7)"
        )))
        .bind(token_id)
        .bind(&new.name)
        .bind(new.role.as_str())
        .bind(&units)
        .bind(secret.hash().as_slice())
        .bind(new.lifetime.whole_seconds())
        .bind(&created_by)
        .fetch_one(&self.pool)
        .await?;
        let info = info_of(&row)?;
        tracing::info!(
            token_id = %token_id,
            name = %info.name,
            role = %info.role,
            created_by = %created_by,
            "token created"
        );
        Ok(CreatedToken { info, secret })
    }

    /// Every token, oldest first (revoked and expired ones too: they are the record).
    pub async fn list(&self) -> Result<Vec<TokenInfo>, TokenError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM auth.tokens ORDER BY created_at, token_id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(info_of).collect()
    }

    /// Whether any token could still get in (the server's first-run check).
    pub async fn any_active(&self) -> Result<bool, TokenError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM auth.tokens WHERE revoked_at IS NULL AND expires_at > now())",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Revokes a token, effective for the next request anywhere.
    pub async fn revoke(&self, token_id: Uuid, revoked_by: &str) -> Result<TokenInfo, TokenError> {
        let revoked_by = actor_text("revoked_by", revoked_by)?;
        // `auth.revoke_token` revokes the row and appends its TokenRevoked event together.
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM auth.revoke_token($1, $2)"
        )))
        .bind(token_id)
        .bind(&revoked_by)
        .fetch_one(&self.pool)
        .await
        .map_err(
            |e| match e.as_database_error().and_then(|d| d.code()).as_deref() {
                Some("TZ202") => TokenError::NotFound(token_id),
                Some("TZ203") => TokenError::AlreadyRevoked(token_id),
                _ => TokenError::from(e),
            },
        )?;
        let info = info_of(&row)?;
        tracing::info!(token_id = %token_id, revoked_by = %revoked_by, "token revoked");
        Ok(info)
    }

    /// Who presents `presented`: an active token's identity, else `Unauthenticated`. The precise
    /// reason (missing, malformed, unknown, expired, revoked) and the source address are logged,
    /// never the token; the client is told only that it is not authenticated.
    pub async fn authenticate(
        &self,
        presented: Option<&Secret>,
        source: Option<IpAddr>,
    ) -> Result<Identity, AuthError> {
        // DEBUG: the gate logs failures per address in aggregate at WARN (auth::throttle).
        let refuse = |reason: &'static str, token_id: Option<Uuid>| {
            tracing::debug!(
                reason,
                token_id = token_id.map(tracing::field::display),
                source = source.map(tracing::field::display),
                "authentication failed"
            );
            Err(AuthError::Unauthenticated)
        };
        let Some(secret) = presented else {
            return refuse("no token", None);
        };
        if !secret.is_well_formed() {
            return refuse("malformed token", None);
        }
        // The clock that decides expiry is the database's, the same for every process.
        let row = sqlx::query(
            "SELECT token_id, name, role, units, revoked_at IS NOT NULL AS revoked, \
                    expires_at <= now() AS expired \
             FROM auth.tokens WHERE secret_hash = $1",
        )
        .bind(secret.hash().as_slice())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return refuse("unknown token", None);
        };
        let token_id: Uuid = row.try_get("token_id")?;
        if row.try_get::<bool, _>("revoked")? {
            return refuse("revoked token", Some(token_id));
        }
        if row.try_get::<bool, _>("expired")? {
            return refuse("expired token", Some(token_id));
        }
        let role: String = row.try_get("role")?;
        let units: Vec<String> = row.try_get("units")?;
        match (role.parse::<Role>(), parse_units(&units)) {
            (Ok(role), Ok(units)) => Ok(Identity {
                token_id,
                name: row.try_get("name")?,
                role,
                units,
            }),
            // The table's CHECKs make this unreachable short of tampering; refuse, loudly.
            _ => {
                tracing::error!(token_id = %token_id, "stored token has an unreadable role or unit");
                refuse("corrupt token record", Some(token_id))
            }
        }
    }
}

pub(crate) fn actor_text(field: &'static str, actor: &str) -> Result<String, TokenError> {
    let actor = actor.trim();
    if actor.is_empty() {
        return Err(TokenError::Invalid {
            field,
            en: "every token change must name who makes it".into(),
            zh: "令牌变更必须注明操作人".into(),
        });
    }
    Ok(actor.to_owned())
}

pub(crate) fn parse_units(units: &[String]) -> Result<Vec<UnitId>, domain::ValueError> {
    units.iter().map(|u| UnitId::parse(u)).collect()
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn info_of(row: &sqlx::postgres::PgRow) -> Result<TokenInfo, TokenError> {
    let token_id: Uuid = row.try_get("token_id")?;
    let corrupt = |detail: String| TokenError::Corrupt { token_id, detail };
    let role: String = row.try_get("role")?;
    let units: Vec<String> = row.try_get("units")?;
    Ok(TokenInfo {
        token_id,
        name: row.try_get("name")?,
        role: role.parse().map_err(|e| corrupt(format!("{e}")))?,
        units: parse_units(&units).map_err(|e| corrupt(format!("{e:?}")))?,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
        revoked_at: row.try_get("revoked_at")?,
        revoked_by: row.try_get("revoked_by")?,
    })
}
