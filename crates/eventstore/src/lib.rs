//! Append-only, hash-chained event store over PostgreSQL.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
