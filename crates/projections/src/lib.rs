//! Projections: the runtime that feeds $all into read models, and the read models of the
//! `reporting` schema (the public contract for BI tools and the API).
//!
//! A [`Projection`] turns a batch of events into writes inside one transaction; the runtime commits
//! those writes together with the projection's checkpoint, keeps one active instance per projection
//! across processes, halts a projection on a poison event, and can rebuild a projection into fresh
//! tables and swap them in.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod projection;

pub use projection::{Projection, ProjectionError};
