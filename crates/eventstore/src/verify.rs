//! Verification: recompute every stream's hash chain and every seal from the stored rows.
//!
//! The checkers here are backend-neutral: a backend feeds them stored rows in the right order and
//! they collect what does not match. Both keep going after a mismatch so one report shows the
//! extent of the damage; the first mismatch (in $all order for events) is the headline.

use std::fmt;

use futures::{Stream, TryStreamExt};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::hash::{self, HashInput, RangeDigest, SealInput, ZERO_HASH};
use crate::{Position, Seal, StoreError};

/// Mismatches kept in a report; beyond this only the count grows.
pub const MAX_REPORTED_MISMATCHES: usize = 100;

/// An event as stored, with its JSON as the database prints it (the hash covers that text).
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: Uuid,
    pub stream: String,
    pub version: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub data: String,
    pub metadata: String,
    pub recorded_at: OffsetDateTime,
    pub position: Position,
    pub hash: Vec<u8>,
}

/// Something that does not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    Event {
        stream: String,
        version: i64,
        position: Position,
        problem: String,
    },
    /// The stream's head row disagrees with its events (e.g. its last event was removed).
    Stream {
        stream: String,
        problem: String,
    },
    Seal {
        seal_no: u64,
        problem: String,
    },
    /// The global log as a whole: positions with holes, a counter that handed out more numbers
    /// than are stored, an emptied store.
    Log {
        problem: String,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Event {
                stream,
                version,
                position,
                problem,
            } => write!(
                f,
                "event in stream {stream} at version {version}, position {position}: {problem}"
            ),
            Mismatch::Stream { stream, problem } => write!(f, "stream {stream}: {problem}"),
            Mismatch::Seal { seal_no, problem } => write!(f, "seal {seal_no}: {problem}"),
            Mismatch::Log { problem } => write!(f, "$all: {problem}"),
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub streams: u64,
    pub events: u64,
    pub seals: u64,
    /// Total mismatches found; `mismatches` keeps the first [`MAX_REPORTED_MISMATCHES`].
    pub mismatch_count: u64,
    /// Event mismatches in $all order, then stream, log and seal mismatches.
    pub mismatches: Vec<Mismatch>,
    /// Every stored seal, in order, as read in the verification's snapshot: what receipts kept
    /// outside the database are compared with (crates/receipts).
    pub sealed: Vec<Seal>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.mismatch_count == 0
    }

    pub fn first_mismatch(&self) -> Option<&Mismatch> {
        self.mismatches.first()
    }

    pub(crate) fn push(&mut self, m: Mismatch) {
        self.mismatch_count += 1;
        if self.mismatches.len() < MAX_REPORTED_MISMATCHES {
            self.mismatches.push(m);
        }
    }

    /// Puts event mismatches in $all order so the first is the earliest in history.
    pub(crate) fn sort(&mut self) {
        fn key(m: &Mismatch) -> (u8, Position, u64) {
            match m {
                Mismatch::Event { position, .. } => (0, *position, 0),
                Mismatch::Stream { .. } | Mismatch::Log { .. } => (1, Position::START, 0),
                Mismatch::Seal { seal_no, .. } => (2, Position::START, *seal_no),
            }
        }
        self.mismatches.sort_by_key(key);
    }
}

/// Checks per-stream chains; feed events ordered by (stream, version).
#[derive(Default)]
pub struct StreamChainChecker {
    current: Option<String>,
    next_version: i64,
    prev: [u8; 32],
}

impl StreamChainChecker {
    pub fn push(&mut self, e: &StoredEvent, report: &mut VerifyReport) {
        if self.current.as_deref() != Some(e.stream.as_str()) {
            self.current = Some(e.stream.clone());
            self.next_version = 0;
            self.prev = ZERO_HASH;
            report.streams += 1;
        }
        report.events += 1;
        let mismatch = |problem: String| Mismatch::Event {
            stream: e.stream.clone(),
            version: e.version,
            position: e.position,
            problem,
        };
        if e.version != self.next_version {
            report.push(mismatch(format!(
                "version {} follows version {} (expected {})",
                e.version,
                self.next_version - 1,
                self.next_version
            )));
        }
        let recomputed = match (u64::try_from(e.version), u32::try_from(e.schema_version)) {
            (Ok(version), Ok(schema_version)) => Some(hash::event_hash(
                &self.prev,
                &HashInput {
                    id: e.id,
                    stream: &e.stream,
                    version,
                    event_type: &e.event_type,
                    schema_version,
                    data: &e.data,
                    metadata: &e.metadata,
                    recorded_at_micros: micros(e.recorded_at),
                },
            )),
            _ => None,
        };
        match (recomputed, hash::to_hash(&e.hash)) {
            (Some(r), Some(stored)) if r == stored => {}
            (Some(r), _) => report.push(mismatch(format!(
                "hash does not match its content and chain (stored {}, recomputed {})",
                hex::encode(&e.hash),
                hex::encode(r)
            ))),
            (None, _) => report.push(mismatch("negative version or schema version".to_owned())),
        }
        // Chain on the stored hash: a rewritten hash then breaks the next event's check too.
        self.prev = hash::to_hash(&e.hash).unwrap_or(ZERO_HASH);
        self.next_version = e.version.saturating_add(1);
    }
}

/// Recorded-at as the hash sees it: microseconds since the Unix epoch.
pub fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1000)).unwrap_or(i64::MAX)
}

/// Checks seals; feed seals in order, each with the event hashes of $all in order, via
/// [`SealChecker::check`] and the events after the previous seal.
#[derive(Default)]
pub struct SealChecker {
    prev_to: Position,
    prev_hash: [u8; 32],
    expected_no: u64,
}

impl SealChecker {
    pub fn new() -> Self {
        SealChecker {
            prev_to: Position::START,
            prev_hash: ZERO_HASH,
            expected_no: 1,
        }
    }

    /// Where the next seal must start.
    pub fn next_from(&self) -> Position {
        self.prev_to
    }

    /// Checks `seal` against the digest of the events a backend found in `(seal.from, seal.to]`.
    pub fn check(&mut self, seal: &Seal, events: RangeDigest, report: &mut VerifyReport) {
        report.seals += 1;
        let bad = |problem: String| Mismatch::Seal {
            seal_no: seal.seal_no,
            problem,
        };
        if seal.seal_no != self.expected_no {
            report.push(bad(format!("expected seal number {}", self.expected_no)));
        }
        if seal.from != self.prev_to {
            report.push(bad(format!(
                "starts at {} but the previous seal ends at {}",
                seal.from, self.prev_to
            )));
        }
        if seal.prev_hash != self.prev_hash {
            report.push(bad(
                "previous-seal hash does not match the previous seal".to_owned()
            ));
        }
        let count = events.count();
        let digest = events.finish();
        if count != seal.event_count {
            report.push(bad(format!(
                "covers {} events but {count} are stored in its range",
                seal.event_count
            )));
        }
        if digest != seal.digest {
            report.push(bad(format!(
                "digest of the event hashes in {}..={} does not match (stored {}, recomputed {})",
                seal.from,
                seal.to,
                hex::encode(seal.digest),
                hex::encode(digest)
            )));
        }
        let recomputed = hash::seal_hash(
            &seal.prev_hash,
            &SealInput {
                seal_no: seal.seal_no,
                from: seal.from,
                to: seal.to,
                event_count: seal.event_count,
                digest: &seal.digest,
            },
        );
        if recomputed != seal.hash {
            report.push(bad("seal hash does not match its content".to_owned()));
        }
        self.prev_to = seal.to;
        self.prev_hash = seal.hash;
        self.expected_no = seal.seal_no + 1;
    }
}

/// Checks `seals` (in seal order) against `events`: `(position, hash)` of every stored event up
/// to the last seal's `to`, in $all order, as a backend streams them from one snapshot.
pub async fn check_seals<S>(
    seals: &[Seal],
    mut events: S,
    report: &mut VerifyReport,
) -> Result<(), StoreError>
where
    S: Stream<Item = Result<(Position, Vec<u8>), StoreError>> + Unpin,
{
    let mut checker = SealChecker::new();
    let mut pending: Option<(Position, Vec<u8>)> = None;
    for seal in seals {
        let mut digest = RangeDigest::default();
        loop {
            if pending.is_none() {
                pending = events.try_next().await?;
            }
            match pending.take() {
                Some((p, h)) if p <= seal.to => digest.push(&h),
                other => {
                    pending = other;
                    break;
                }
            }
        }
        checker.check(seal, digest, report);
    }
    Ok(())
}

/// Checks that the SQLite log's positions run 1, 2, 3, … without holes and end where the
/// AUTOINCREMENT counter (`sqlite_sequence`) says the last number was handed out. A number is
/// consumed only by an insert that commits (a rolled-back append rolls the counter back too), so a
/// hole or a counter beyond the last row means rows were removed behind the triggers: the newest
/// ones (truncation), or all of them (an emptied store).
#[derive(Debug, Default)]
pub struct ContiguityChecker {
    expected: i64,
    holes: u64,
}

impl ContiguityChecker {
    pub fn new() -> Self {
        ContiguityChecker {
            expected: 1,
            holes: 0,
        }
    }

    /// Feed every stored position in ascending order.
    pub fn push(&mut self, position: i64, report: &mut VerifyReport) {
        if position != self.expected {
            self.holes += 1;
            if position > self.expected {
                report.push(Mismatch::Log {
                    problem: format!(
                        "positions {}..={} are missing before position {position}: events were \
                         removed",
                        self.expected,
                        position - 1
                    ),
                });
            } else {
                report.push(Mismatch::Log {
                    problem: format!("position {position} is out of order"),
                });
            }
        }
        self.expected = position.saturating_add(1);
    }

    /// Compares the last position with the counter (`None`: the counter has no row, which is
    /// only right for a store that never held an event).
    pub fn finish(self, counter: Option<i64>, report: &mut VerifyReport) {
        let last = self.expected - 1;
        let counter = counter.unwrap_or(0);
        if counter > last {
            report.push(Mismatch::Log {
                problem: if last == 0 {
                    format!(
                        "the store holds no events, but its position counter (sqlite_sequence) \
                         has handed out {counter}: every event was removed"
                    )
                } else {
                    format!(
                        "the last stored position is {last}, but the position counter \
                         (sqlite_sequence) has handed out {counter}: the newest events were removed"
                    )
                },
            });
        } else if counter < last {
            report.push(Mismatch::Log {
                problem: format!(
                    "the last stored position is {last}, beyond the position counter \
                     (sqlite_sequence) at {counter}: the counter was reset"
                ),
            });
        }
    }
}

/// What is wrong with a stream whose head row (`head` version) disagrees with its last stored event
/// (`last` version; `same_hash`: whether the head's hash equals that event's).
pub fn head_problem(head: Option<i64>, last: Option<i64>, same_hash: Option<bool>) -> String {
    match (head, last) {
        (Some(h), Some(l)) if h != l => {
            format!("head says version {h} but the last stored event is version {l}")
        }
        (Some(_), Some(_)) if same_hash == Some(false) => {
            "head hash differs from the last event's hash".to_owned()
        }
        (Some(h), None) => format!("head says version {h} but no event is stored"),
        (None, Some(l)) => format!("events up to version {l} but no stream head"),
        _ => "head disagrees with its events".to_owned(),
    }
}
