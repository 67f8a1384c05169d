//! Pure rules of the investment-project ledger (台账): value types, events, commands and the
//! `decide`/`apply` functions. This crate does no I/O and is not async.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
