//! Positions in the global log ($all).

use std::fmt;

/// A place in $all, like EventStoreDB's commit/prepare position pair.
///
/// `commit` is the id of the transaction that wrote the event (PostgreSQL `xid8`), `prepare` its
/// number from the position sequence. $all is ordered by `(commit, prepare)`; the sequence alone is
/// not an order readers can trust, because transactions commit in a different order than they take
/// numbers. Both parts may have gaps. A consumer stores the pair as its checkpoint and reads after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    /// The writing transaction's id.
    pub commit: u64,
    /// The event's number from the position sequence (unique, not gap-free).
    pub prepare: i64,
}

impl Position {
    /// Before the first event: reading after it reads everything.
    pub const START: Position = Position {
        commit: 0,
        prepare: 0,
    };

    pub const fn new(commit: u64, prepare: i64) -> Self {
        Position { commit, prepare }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.commit, self.prepare)
    }
}
