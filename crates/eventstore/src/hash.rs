//! The hash formulas. They are part of the audit contract (docs/ARCHITECTURE.md, "Tamper
//! evidence"): the PostgreSQL append function computes the event hash in SQL, and verify recomputes
//! both in Rust from the stored columns. Change them only with a migration and a new contract.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The previous hash of a stream's first event.
pub const ZERO_HASH: [u8; 32] = [0; 32];

/// The stored fields of an event that its hash covers, as text exactly as the database prints them.
#[derive(Debug, Clone, Copy)]
pub struct HashInput<'a> {
    pub id: Uuid,
    pub stream: &'a str,
    pub version: u64,
    pub event_type: &'a str,
    pub schema_version: u32,
    /// `data::text` of the stored jsonb (PostgreSQL's normalised form).
    pub data: &'a str,
    /// `metadata::text` of the stored jsonb.
    pub metadata: &'a str,
    /// recorded_at as microseconds since the Unix epoch.
    pub recorded_at_micros: i64,
}

/// SHA-256( prev ‖ id ‖ LF ‖ stream ‖ LF ‖ version ‖ LF ‖ type ‖ LF ‖ schema_version ‖ LF ‖
/// data ‖ LF ‖ metadata ‖ LF ‖ recorded_at_micros ), numbers in decimal, text in UTF-8, the id in
/// lower-case hyphenated form.
pub fn event_hash(prev: &[u8; 32], e: &HashInput<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            e.id.hyphenated(),
            e.stream,
            e.version,
            e.event_type,
            e.schema_version,
            e.data,
            e.metadata,
            e.recorded_at_micros
        )
        .as_bytes(),
    );
    h.finalize().into()
}

/// Digest of a seal's range: SHA-256 over the event hashes concatenated in $all order.
#[derive(Default)]
pub struct RangeDigest {
    hasher: Sha256,
    count: u64,
}

impl RangeDigest {
    pub fn push(&mut self, event_hash: &[u8]) {
        self.hasher.update(event_hash);
        self.count += 1;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn finish(self) -> [u8; 32] {
        self.hasher.finalize().into()
    }
}

/// What a seal's own hash covers.
#[derive(Debug, Clone, Copy)]
pub struct SealInput<'a> {
    pub seal_no: u64,
    pub from: crate::Position,
    pub to: crate::Position,
    pub event_count: u64,
    pub digest: &'a [u8; 32],
}

/// SHA-256( prev_seal_hash ‖ "seal_no LF from.commit LF from.prepare LF to.commit LF to.prepare LF
/// event_count LF" ‖ digest ). The first seal's previous hash is 32 zero bytes.
pub fn seal_hash(prev: &[u8; 32], s: &SealInput<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n",
            s.seal_no, s.from.commit, s.from.prepare, s.to.commit, s.to.prepare, s.event_count
        )
        .as_bytes(),
    );
    h.update(s.digest);
    h.finalize().into()
}

/// Reads a stored 32-byte hash.
pub fn to_hash(bytes: &[u8]) -> Option<[u8; 32]> {
    bytes.try_into().ok()
}
