//! Pure rules of the investment-project ledger (台账): value types, events, commands and the
//! `decide`/`apply` functions. This crate does no I/O and is not async: it depends on no other
//! crate of ours, so every rule is testable without a database or a clock.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod aggregate;
pub mod area;
pub mod codes;
pub mod context;
pub mod error;
pub mod event;
pub mod ids;
pub mod money;
pub mod period;
pub mod project;
pub mod rules;
pub mod supervision;
pub mod targets;
pub mod unit;

pub use aggregate::{Aggregate, AnyEvent};
pub use area::Mu;
pub use codes::{ProjectCode, UniqueKey, Uscc};
pub use context::Context;
pub use error::{DomainError, ErrorCode, ValueError};
pub use event::{DecodeError, DomainEvent};
pub use ids::{ProjectId, SupervisionItemId, UnitId};
pub use money::Yuan;
pub use period::Period;
