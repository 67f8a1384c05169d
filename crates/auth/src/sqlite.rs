//! The token store on SQLite (table `auth_tokens` in the event store's file,
//! migrations/sqlite/0200_auth.sql): the operations, errors and log lines of
//! [`crate::postgres::PgTokens`], whose module docs say why there is no cache and how creation and
//! revocation are audited. What differs here:
//!
//! * **One writer.** Creation and revocation run in a write transaction of the event store
//!   ([`SqliteEventStore::begin_write`]): this process's writer queue, then `BEGIN IMMEDIATE`, the
//!   token row, the `token-<id>` event through the store's own append code, one commit. So the row
//!   and its event commit together or not at all, and the event is numbered in $all under the same
//!   lock as every other append.
//! * **The clock.** Times are microseconds since the Unix epoch (as the store's `recorded_at`),
//!   read from this machine's clock when the statement runs. A SQLite file is only ever used by
//!   processes on one machine, so that clock is the same for all of them, as PostgreSQL's `now()`
//!   is for its clients.

use std::net::IpAddr;

use serde_json::json;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;
use uuid::Uuid;

use eventstore::verify::micros;
use eventstore::{ExpectedVersion, NewEvent, SqliteEventStore, StoreError};

use crate::postgres::{
    TOKEN_CREATED, TOKEN_REVOKED, actor_text, parse_units, rfc3339, token_stream,
};
use crate::token::{CreatedToken, NewToken, TokenError, TokenInfo};
use crate::{AuthError, Identity, Role, Secret};

/// Tokens in the SQLite store file. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SqliteTokens {
    store: SqliteEventStore,
}

const COLUMNS: &str = "token_id, name, role, units, expires_at, created_at, created_by, \
                       revoked_at, revoked_by";

impl SqliteTokens {
    /// Tokens in `store`'s file (migrated: [`SqliteEventStore::migrate`] creates the table). Give
    /// it the process's store, not a second one over the same file, so that token writes queue
    /// with the store's appends instead of waiting in SQLite's busy handler.
    pub fn new(store: SqliteEventStore) -> Self {
        SqliteTokens { store }
    }

    pub fn store(&self) -> &SqliteEventStore {
        &self.store
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
        let units_json = json!(units).to_string();
        // `validated` bounds the lifetime to five years: far inside i64 microseconds.
        let lifetime = i64::try_from(new.lifetime.whole_microseconds()).unwrap_or(i64::MAX);

        let mut write = self
            .store
            .begin_write()
            .await
            .map_err(store_error(token_id))?;
        // Read under the write lock, so creation times follow commit order as on PostgreSQL.
        let now = now_micros();
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO auth_tokens (token_id, name, role, units, secret_hash, expires_at, \
             created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING {COLUMNS}"
        )))
        .bind(token_id.to_string())
        .bind(&new.name)
        .bind(new.role.as_str())
        .bind(&units_json)
        .bind(secret.hash().as_slice())
        .bind(now.saturating_add(lifetime))
        .bind(now)
        .bind(&created_by)
        .fetch_one(write.conn())
        .await?;
        let info = info_of(&row)?;
        write
            .append(
                &token_stream(token_id),
                // A fresh id has no events yet.
                ExpectedVersion::NoStream,
                vec![event(
                    TOKEN_CREATED,
                    json!({
                        "token_id": token_id,
                        "name": info.name,
                        "role": info.role,
                        "units": units,
                        "expires_at": rfc3339(info.expires_at),
                    }),
                    &created_by,
                )],
            )
            .await
            .map_err(store_error(token_id))?;
        write.commit().await.map_err(store_error(token_id))?;
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
            "SELECT {COLUMNS} FROM auth_tokens ORDER BY created_at, token_id"
        )))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(info_of).collect()
    }

    /// Whether any token could still get in (the server's first-run check).
    pub async fn any_active(&self) -> Result<bool, TokenError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM auth_tokens \
                            WHERE revoked_at IS NULL AND expires_at > ?1)",
        )
        .bind(now_micros())
        .fetch_one(self.store.pool())
        .await?)
    }

    /// Revokes a token, effective for the next request anywhere.
    pub async fn revoke(&self, token_id: Uuid, revoked_by: &str) -> Result<TokenInfo, TokenError> {
        let revoked_by = actor_text("revoked_by", revoked_by)?;
        // The write lock is taken before the read, so no one can revoke in between (PostgreSQL's
        // `FOR UPDATE`).
        let mut write = self
            .store
            .begin_write()
            .await
            .map_err(store_error(token_id))?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM auth_tokens WHERE token_id = ?1"
        )))
        .bind(token_id.to_string())
        .fetch_optional(write.conn())
        .await?
        .ok_or(TokenError::NotFound(token_id))?;
        if info_of(&row)?.revoked_at.is_some() {
            return Err(TokenError::AlreadyRevoked(token_id));
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE auth_tokens SET revoked_at = ?2, revoked_by = ?3 WHERE token_id = ?1 \
             RETURNING {COLUMNS}"
        )))
        .bind(token_id.to_string())
        .bind(now_micros())
        .bind(&revoked_by)
        .fetch_one(write.conn())
        .await?;
        let info = info_of(&row)?;
        write
            .append(
                &token_stream(token_id),
                // The TokenCreated event is there.
                ExpectedVersion::StreamExists,
                vec![event(
                    TOKEN_REVOKED,
                    json!({ "token_id": token_id, "revoked_at": info.revoked_at.map(rfc3339) }),
                    &revoked_by,
                )],
            )
            .await
            .map_err(store_error(token_id))?;
        write.commit().await.map_err(store_error(token_id))?;
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
        let row = sqlx::query(
            "SELECT token_id, name, role, units, revoked_at IS NOT NULL AS revoked, \
                    expires_at <= ?2 AS expired \
             FROM auth_tokens WHERE secret_hash = ?1",
        )
        .bind(secret.hash().as_slice())
        .bind(now_micros())
        .fetch_optional(self.store.pool())
        .await?;
        let Some(row) = row else {
            return refuse("unknown token", None);
        };
        let token_text: String = row.try_get("token_id")?;
        let Ok(token_id) = Uuid::parse_str(&token_text) else {
            // The table's CHECK makes this unreachable short of tampering; refuse, loudly.
            tracing::error!(token_id = %token_text, "stored token has an unreadable id");
            return refuse("corrupt token record", None);
        };
        if row.try_get::<bool, _>("revoked")? {
            return refuse("revoked token", Some(token_id));
        }
        if row.try_get::<bool, _>("expired")? {
            return refuse("expired token", Some(token_id));
        }
        let role: String = row.try_get("role")?;
        let units: String = row.try_get("units")?;
        let units = serde_json::from_str::<Vec<String>>(&units)
            .ok()
            .and_then(|u| parse_units(&u).ok());
        match (role.parse::<Role>(), units) {
            (Ok(role), Some(units)) => Ok(Identity {
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

/// One audit event with the metadata PostgreSQL's token code writes (`postgres::append`).
fn event(event_type: &str, data: serde_json::Value, actor: &str) -> NewEvent {
    let correlation = Uuid::new_v4();
    NewEvent::new(event_type, data)
        .with_id(Uuid::new_v4())
        .with_metadata(json!({
            "actor": actor,
            "correlationId": correlation,
            "causationId": correlation,
        }))
}

/// The store's refusals as token errors. A database error stays one; anything else (a token
/// stream that already exists, or none where the created event should be) means the file was
/// changed behind the store's back, which is what `Corrupt` says.
fn store_error(token_id: Uuid) -> impl Fn(StoreError) -> TokenError {
    move |e| match e {
        StoreError::Database(e) => TokenError::Database(e),
        other => TokenError::Corrupt {
            token_id,
            detail: format!("its audit stream: {other}"),
        },
    }
}

fn now_micros() -> i64 {
    micros(OffsetDateTime::now_utc())
}

fn from_micros(token_id: Uuid, column: &str, micros: i64) -> Result<OffsetDateTime, TokenError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).map_err(|e| {
        TokenError::Corrupt {
            token_id,
            detail: format!("{column} {micros}: {e}"),
        }
    })
}

fn info_of(row: &SqliteRow) -> Result<TokenInfo, TokenError> {
    let text: String = row.try_get("token_id")?;
    let token_id = Uuid::parse_str(&text).map_err(|e| TokenError::Corrupt {
        token_id: Uuid::nil(),
        detail: format!("token id {text:?}: {e}"),
    })?;
    let corrupt = |detail: String| TokenError::Corrupt { token_id, detail };
    let role: String = row.try_get("role")?;
    let units: String = row.try_get("units")?;
    let units: Vec<String> =
        serde_json::from_str(&units).map_err(|e| corrupt(format!("units {units:?}: {e}")))?;
    let time = |column: &str| -> Result<OffsetDateTime, TokenError> {
        from_micros(token_id, column, row.try_get(column)?)
    };
    let revoked_at = match row.try_get::<Option<i64>, _>("revoked_at")? {
        Some(m) => Some(from_micros(token_id, "revoked_at", m)?),
        None => None,
    };
    Ok(TokenInfo {
        token_id,
        name: row.try_get("name")?,
        role: role.parse().map_err(|e| corrupt(format!("{e}")))?,
        units: parse_units(&units).map_err(|e| corrupt(format!("{e:?}")))?,
        expires_at: time("expires_at")?,
        created_at: time("created_at")?,
        created_by: row.try_get("created_by")?,
        revoked_at,
        revoked_by: row.try_get("revoked_by")?,
    })
}
