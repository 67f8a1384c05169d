//! The GraphQL API and its HTTP/WebSocket server.
//!
//! Queries read the `reporting` read models (never the event store, except the auditors' event
//! feed and verification); mutations go through `commands::CommandHandler` and then wait, bounded,
//! for the projections to include the write, so a payload shows what was just written;
//! subscriptions follow `$all`. [`Application::build`] wires everything (pool, migrations,
//! projectors, router) and binds the listener, so tests run the real server on port 0.
//!
//! Architecture invariant: this crate never writes to `reporting.*` (only projections do) and
//! never appends except through the command handler.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

/// SQL assembled from the server's own fragments (column lists, casts), never from input:
/// input always goes through bind parameters.
#[macro_export]
macro_rules! sql {
    ($($t:tt)*) => {
        ::sqlx::AssertSqlSafe(format!($($t)*))
    };
}

pub mod access;
pub mod app;
pub mod config;
pub mod db;
pub mod error;
mod explain;
mod http;
mod input;
mod limits;
mod metrics;
pub mod schema;

pub use app::{Application, BuildError};
pub use config::{Config, Limits, LogFormat, ServeArgs};
pub use schema::{ApiSchema, sdl};
