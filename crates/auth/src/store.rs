//! The token store on either backend: what the server and the CLI hold when the configuration
//! decides where the event store lives. Each call goes to [`PgTokens`] or [`SqliteTokens`], which
//! behave the same (tested as one suite on both: crates/auth/tests).

use std::net::IpAddr;

use eventstore::{AnyEventStore, Backend, Database, SqliteEventStore};
use uuid::Uuid;

use crate::sqlite::SqliteTokens;
use crate::token::{CreatedToken, NewToken, TokenError, TokenInfo};
use crate::{AuthError, Identity, PgTokens, Secret};

/// Tokens in the database the event store lives in. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Tokens {
    Postgres(PgTokens),
    Sqlite(SqliteTokens),
}

/// Runs the same expression on whichever store is inside.
macro_rules! on_tokens {
    ($self:expr, |$t:ident| $body:expr) => {
        match $self {
            Tokens::Postgres($t) => $body,
            Tokens::Sqlite($t) => $body,
        }
    };
}

impl From<PgTokens> for Tokens {
    fn from(tokens: PgTokens) -> Self {
        Tokens::Postgres(tokens)
    }
}

impl From<SqliteTokens> for Tokens {
    fn from(tokens: SqliteTokens) -> Self {
        Tokens::Sqlite(tokens)
    }
}

impl Tokens {
    /// Tokens in the store's database; on SQLite they write through `store`'s own writer queue,
    /// the preferred constructor wherever the process holds its store.
    pub fn for_store(store: &AnyEventStore) -> Self {
        match store {
            AnyEventStore::Postgres(s) => Tokens::Postgres(PgTokens::new(s.pool().clone())),
            AnyEventStore::Sqlite(s) => Tokens::Sqlite(SqliteTokens::new(s.clone())),
        }
    }

    /// Tokens in `db`. On SQLite, with only the pool at hand, token writes go through a store of
    /// their own over it: correct (every write still takes SQLite's write lock with
    /// `BEGIN IMMEDIATE`, so the row, its event and $all's numbering stay atomic and gap-free),
    /// but they then wait for the process's other appends in SQLite's busy handler (up to
    /// `busy_timeout`) rather than in the store's queue, and wake its subscribers only at their
    /// next poll. Prefer [`Tokens::for_store`] when the store is at hand.
    pub fn new(db: Database) -> Self {
        match db {
            Database::Postgres(pool) => Tokens::Postgres(PgTokens::new(pool)),
            Database::Sqlite(pool) => {
                Tokens::Sqlite(SqliteTokens::new(SqliteEventStore::new(pool)))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tokens::Postgres(_) => Backend::Postgres,
            Tokens::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The pool of the database the tokens live in.
    pub fn database(&self) -> Database {
        match self {
            Tokens::Postgres(t) => Database::Postgres(t.pool().clone()),
            Tokens::Sqlite(t) => Database::Sqlite(t.store().pool().clone()),
        }
    }

    /// See [`PgTokens::create`].
    pub async fn create(
        &self,
        new: NewToken,
        created_by: &str,
    ) -> Result<CreatedToken, TokenError> {
        on_tokens!(self, |t| t.create(new, created_by).await)
    }

    /// See [`PgTokens::list`].
    pub async fn list(&self) -> Result<Vec<TokenInfo>, TokenError> {
        on_tokens!(self, |t| t.list().await)
    }

    /// See [`PgTokens::any_active`].
    pub async fn any_active(&self) -> Result<bool, TokenError> {
        on_tokens!(self, |t| t.any_active().await)
    }

    /// See [`PgTokens::revoke`].
    pub async fn revoke(&self, token_id: Uuid, revoked_by: &str) -> Result<TokenInfo, TokenError> {
        on_tokens!(self, |t| t.revoke(token_id, revoked_by).await)
    }

    /// See [`PgTokens::authenticate`].
    pub async fn authenticate(
        &self,
        presented: Option<&Secret>,
        source: Option<IpAddr>,
    ) -> Result<Identity, AuthError> {
        on_tokens!(self, |t| t.authenticate(presented, source).await)
    }
}
