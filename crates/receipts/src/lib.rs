//! Seal receipts: what an auditor keeps outside the database (docs/ledger-format.md, "Receipts";
//! docs/security.md).
//!
//! A seal (crates/eventstore) chains the global order, but whoever can write the database can
//! recompute every hash and seal after a rewrite, remove the newest events with their seals, or
//! empty the store: the database then still agrees with itself. A receipt is a seal's fields, signed
//! with an Ed25519 key that never enters the database ([`SealKey`]: a file or an environment
//! variable), and kept elsewhere (printed by `taizhang seal`, appended to a receipts file, returned
//! by the API, written into every export). [`check`] proves that the ledger still holds, unchanged,
//! what each receipt covers: the store's seal of that number must equal the receipt (same range,
//! count, digest, hash), and verify proves that the stored events re-digest to it and that every
//! later seal chains to it.
//!
//! This crate depends on `eventstore` only (for [`eventstore::Seal`] and
//! [`eventstore::VerifyReport`]); it does no SQL.

mod args;
mod check;
mod key;
mod receipt;
mod sealing;

pub use args::SealArgs;
pub use check::{ReceiptCheck, ReceiptOutcome, check};
pub use key::{KeyError, SealKey, key_id};
pub use receipt::{RECEIPT, RECEIPT_VERSION, Receipt, ReceiptError, read_receipts, signed_message};
pub use sealing::{SealError, Sealing};
