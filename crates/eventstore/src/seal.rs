//! Seals: checkpoints of the global order that make rewriting history evident even when a whole
//! stream (with its chain) is rewritten consistently.

use time::OffsetDateTime;

use crate::Position;

/// One seal: a digest over the hashes of the events in `(from, to]` in $all order, chained to the
/// previous seal through `prev_hash`. See [`crate::hash::seal_hash`] for the exact formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    /// 1-based, without gaps.
    pub seal_no: u64,
    /// The previous seal's `to`, or [`Position::START`].
    pub from: Position,
    /// The last event covered.
    pub to: Position,
    pub event_count: u64,
    pub digest: [u8; 32],
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
    pub sealed_at: OffsetDateTime,
}
