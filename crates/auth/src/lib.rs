//! Access control: who is calling, and what they may do (docs/security.md).
//!
//! - [`Secret`]: token text that never prints; [`secret::bearer`] and
//!   [`secret::from_connection_init`] find it in a request.
//! - [`Tokens`]: create, list, revoke and authenticate tokens (stored as SHA-256) on either
//!   backend: [`postgres::PgTokens`] (schema `auth`) or [`sqlite::SqliteTokens`] (table
//!   `auth_tokens` in the store's file), chosen by the event store's database.
//! - [`Identity`]: the caller a token stands for, and the actor written into event metadata.
//! - [`authorize`]: the one policy, role × [`Operation`] × unit scope.
//! - [`RateLimiter`]: per-token token buckets.
//! - [`Gate`]: all of the above behind the few calls a server makes, with its flags ([`AuthArgs`]).
//!
//! This crate knows the domain's commands (to name every operation) but not the API: the API
//! authenticates each request here, puts the [`Identity`] in its context and asks [`authorize`]
//! before every mutation and sensitive read.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod error;
pub mod gate;
pub mod identity;
pub mod limiter;
pub mod operation;
pub mod policy;
pub mod postgres;
pub mod role;
pub mod secret;
pub mod sqlite;
pub mod store;
pub mod throttle;
pub mod token;

pub use error::{AuthError, Denied};
pub use gate::{AuthArgs, Gate};
pub use identity::Identity;
pub use limiter::{RateLimit, RateLimiter};
pub use operation::{Area, Operation};
pub use policy::{Grant, authorize, authorize_project_command, grant};
pub use postgres::{PgTokens, TOKEN_CREATED, TOKEN_REVOKED, token_stream};
pub use role::Role;
pub use secret::Secret;
pub use sqlite::SqliteTokens;
pub use store::Tokens;
pub use token::{CreatedToken, NewToken, TokenError, TokenInfo, TokenStatus, parse_lifetime};
