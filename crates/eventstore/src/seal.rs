//! Seals: checkpoints of the global order that make rewriting history evident even when a whole
//! stream (with its chain) is rewritten consistently.

use time::OffsetDateTime;

use crate::hash::{self, ZERO_HASH};
use crate::{Position, StoreError};

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

/// The last stored seal, as both backends read it: `(seal_no, to_commit, to_prepare, hash)`.
pub(crate) type LastSealRow = (i64, i64, i64, Vec<u8>);

/// Where the next seal starts: its number, the position after which it covers events, and the
/// hash it chains to (the first seal starts at [`Position::START`] and chains to zeros).
pub(crate) fn next_seal_start(
    last: Option<LastSealRow>,
) -> Result<(u64, Position, [u8; 32]), StoreError> {
    let Some((seal_no, to_commit, to_prepare, prev)) = last else {
        return Ok((1, Position::START, ZERO_HASH));
    };
    Ok((
        crate::error::to_u64(seal_no, "seal number")? + 1,
        Position {
            commit: crate::error::to_u64(to_commit, "seal position")?,
            prepare: to_prepare,
        },
        hash::to_hash(&prev).ok_or_else(|| StoreError::Corrupt("seal hash length".to_owned()))?,
    ))
}

/// Seals `store` every `every` until the returned task is aborted; failures are logged and
/// retried at the next tick (a missed seal only makes the next one cover more).
pub(crate) fn spawn_sealer<S: crate::EventStore>(
    store: S,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match store.seal().await {
                Ok(Some(seal)) => tracing::info!(
                    seal_no = seal.seal_no,
                    events = seal.event_count,
                    to = %seal.to,
                    "sealed"
                ),
                Ok(None) => tracing::debug!("nothing new to seal"),
                Err(error) => tracing::warn!(%error, "sealing failed; will retry"),
            }
        }
    })
}
