//! Projections: the runtime that feeds $all into read models, and the read models of the
//! `reporting` schema (the public contract for BI tools and the API).
//!
//! A [`Projection`] turns a batch of events into writes inside one transaction; the runtime commits
//! those writes together with the projection's checkpoint, keeps one active instance per projection
//! across processes, halts a projection on a poison event, and can rebuild a projection into fresh
//! tables and swap them in.
//!
//! - Run: [`Projectors::start`] (PostgreSQL), [`Projectors::start_sqlite`] or
//!   [`Projectors::start_any`] with [`all`]: one runner, generic over a small backend trait
//!   (`backend`), for both.
//! - Read-your-writes: [`wait_for`] or a shared [`Waiter`] ([`Waiter::start_for`] on either backend).
//! - Operate: [`statuses`], [`lag`], [`resume`], [`rebuild`]; on either backend [`statuses_in`],
//!   [`lag_in`], [`resume_in`].
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod any;
mod backend;
mod dyn_projection;
mod error;
pub mod ledger;
pub mod live;
pub mod postgres;
mod projection;
mod rebuild;
mod registry;
mod runtime;
mod sql;
pub mod sqlite;
mod status;
mod store;
pub mod timeline;
mod wait;

pub use any::{lag_in, projection_names, resume_in, statuses_in};
pub use dyn_projection::{AnyProjection, SharedProjection, shared};
pub use error::RuntimeError;
pub use ledger::LedgerProjection;
pub use projection::{CaughtUp, Projection, ProjectionError, Touched, Tx};
pub use rebuild::{
    RebuildOptions, RebuildPhase, RebuildProgress, rebuild, rebuild_all, rebuild_schema,
};
pub use registry::{Clock, all, find, system_clock};
pub use runtime::{Projectors, RunnerOptions, default_holder};
pub use status::{Lag, ProjectionStatus, lag, resume, statuses};
pub use timeline::TimelineProjection;
pub use wait::{WaitOutcome, Waiter, Which, wait_for};
