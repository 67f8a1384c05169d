//! The receipt: a seal's fields, optionally signed, as one JSON object (docs/ledger-format.md).

use std::path::Path;

use ed25519_dalek::{Signature, VerifyingKey};
use eventstore::{Position, Seal};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use crate::key::{SealKey, key_id};

/// The receipt's `receipt` field.
pub const RECEIPT: &str = "taizhang-seal-receipt";
/// The receipt format this code writes and reads.
pub const RECEIPT_VERSION: u32 = 1;

/// Why a receipt cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("cannot read the receipts file {path} (无法读取回执文件): {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: not a seal receipt: {problem} ({origin} 不是有效的封存回执)")]
    Malformed { origin: String, problem: String },
    #[error("cannot append to the receipts file {path} (无法追加回执文件): {source}")]
    Append {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A position as receipts and export files write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WirePosition {
    pub commit: u64,
    pub prepare: i64,
}

impl From<Position> for WirePosition {
    fn from(p: Position) -> Self {
        WirePosition {
            commit: p.commit,
            prepare: p.prepare,
        }
    }
}

impl From<WirePosition> for Position {
    fn from(p: WirePosition) -> Self {
        Position::new(p.commit, p.prepare)
    }
}

/// A seal receipt. Field order is the order written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Receipt {
    /// Always [`RECEIPT`].
    pub receipt: String,
    /// [`RECEIPT_VERSION`].
    pub version: u32,
    pub seal_no: u64,
    pub from: WirePosition,
    pub to: WirePosition,
    pub event_count: u64,
    /// Lower-case hex, 64 digits.
    pub digest: String,
    pub prev_hash: String,
    pub hash: String,
    /// RFC 3339, UTC, six fraction digits.
    pub sealed_at: String,
    /// [`key_id`] of `public_key`; `null` when unsigned.
    pub key_id: Option<String>,
    /// The Ed25519 public key, 64 hex digits; `null` when unsigned.
    pub public_key: Option<String>,
    /// Ed25519 signature over [`signed_message`], 128 hex digits; `null` when unsigned.
    pub signature: Option<String>,
}

/// Microseconds since the Unix epoch, as the seal stores its time.
fn micros(t: OffsetDateTime) -> i128 {
    t.unix_timestamp_nanos().div_euclid(1000)
}

fn format_time(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        ))
        // Every OffsetDateTime in UTC formats with this description.
        .unwrap_or_default()
}

/// The bytes a receipt's signature covers: UTF-8 of
/// `taizhang-seal-receipt-v1 LF seal_no LF from.commit LF from.prepare LF to.commit LF to.prepare
/// LF event_count LF digest LF prev_hash LF hash LF sealed_at_micros LF`, numbers in decimal,
/// hashes in lower-case hex.
pub fn signed_message(seal: &Seal) -> Vec<u8> {
    format!(
        "taizhang-seal-receipt-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
        seal.seal_no,
        seal.from.commit,
        seal.from.prepare,
        seal.to.commit,
        seal.to.prepare,
        seal.event_count,
        hex::encode(seal.digest),
        hex::encode(seal.prev_hash),
        hex::encode(seal.hash),
        micros(seal.sealed_at)
    )
    .into_bytes()
}

impl Receipt {
    /// The receipt of `seal`, signed when a key is given. Signing is deterministic (Ed25519), so
    /// the same seal and key always give the same receipt.
    pub fn of(seal: &Seal, key: Option<&SealKey>) -> Receipt {
        let (key_id, public_key, signature) = match key {
            Some(key) => (
                Some(key.key_id()),
                Some(hex::encode(key.public().as_bytes())),
                Some(hex::encode(key.sign(&signed_message(seal)))),
            ),
            None => (None, None, None),
        };
        Receipt {
            receipt: RECEIPT.to_owned(),
            version: RECEIPT_VERSION,
            seal_no: seal.seal_no,
            from: seal.from.into(),
            to: seal.to.into(),
            event_count: seal.event_count,
            digest: hex::encode(seal.digest),
            prev_hash: hex::encode(seal.prev_hash),
            hash: hex::encode(seal.hash),
            sealed_at: format_time(seal.sealed_at),
            key_id,
            public_key,
            signature,
        }
    }

    /// The seal the receipt describes (checked for shape: hex lengths, the time).
    pub fn seal(&self) -> Result<Seal, String> {
        let hash = |name: &str, text: &str| -> Result<[u8; 32], String> {
            hex::decode(text)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| format!("`{name}` is not 64 hex digits"))
        };
        Ok(Seal {
            seal_no: self.seal_no,
            from: self.from.into(),
            to: self.to.into(),
            event_count: self.event_count,
            digest: hash("digest", &self.digest)?,
            prev_hash: hash("prevHash", &self.prev_hash)?,
            hash: hash("hash", &self.hash)?,
            sealed_at: OffsetDateTime::parse(&self.sealed_at, &Rfc3339)
                .map_err(|e| format!("`sealedAt` is not an RFC 3339 time: {e}"))?,
        })
    }

    /// Whether the receipt is signed.
    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }

    /// Checks the signature against the receipt's own public key and its key id against that
    /// key. `Ok(None)` for an unsigned receipt, `Ok(Some(key))` for a good signature.
    pub fn verify_signature(&self) -> Result<Option<VerifyingKey>, String> {
        let (Some(public), Some(signature)) = (&self.public_key, &self.signature) else {
            if self.public_key.is_some() || self.signature.is_some() || self.key_id.is_some() {
                return Err("it has a key or a signature but not both".to_owned());
            }
            return Ok(None);
        };
        let public: [u8; 32] = hex::decode(public)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("`publicKey` is not 64 hex digits")?;
        let public = VerifyingKey::from_bytes(&public)
            .map_err(|_| "`publicKey` is not an Ed25519 public key".to_owned())?;
        if self.key_id.as_deref() != Some(key_id(&public).as_str()) {
            return Err("`keyId` is not the id of `publicKey`".to_owned());
        }
        let signature: [u8; 64] = hex::decode(signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("`signature` is not 128 hex digits")?;
        let seal = self.seal()?;
        public
            .verify_strict(&signed_message(&seal), &Signature::from_bytes(&signature))
            .map_err(|_| {
                "the signature does not match the receipt's fields: the receipt was altered"
                    .to_owned()
            })?;
        Ok(Some(public))
    }

    /// One line of JSON.
    pub fn to_line(&self) -> String {
        // A struct of strings and numbers always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses one receipt (a JSON object), naming `origin` in errors.
    pub fn parse(value: serde_json::Value, origin: &str) -> Result<Receipt, ReceiptError> {
        let malformed = |problem: String| ReceiptError::Malformed {
            origin: origin.to_owned(),
            problem,
        };
        let receipt: Receipt =
            serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
        if receipt.receipt != RECEIPT {
            return Err(malformed(format!("`receipt` is not {RECEIPT:?}")));
        }
        if receipt.version != RECEIPT_VERSION {
            return Err(malformed(format!(
                "version {} is not supported (this taizhang reads version {RECEIPT_VERSION})",
                receipt.version
            )));
        }
        receipt.seal().map_err(malformed)?;
        Ok(receipt)
    }

    /// Appends the receipt as one line to `path` (created if missing).
    pub fn append_to(&self, path: &Path) -> Result<(), ReceiptError> {
        use std::io::Write;
        let err = |source| ReceiptError::Append {
            path: path.display().to_string(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(err)?;
        writeln!(file, "{}", self.to_line())
            .and_then(|()| file.sync_all())
            .map_err(err)
    }
}

/// The receipts in `path`: one JSON object (as `taizhang seal --json` prints it, possibly over
/// several lines) or one receipt per line (a receipts file). Blank lines are skipped.
pub fn read_receipts(path: &Path) -> Result<Vec<Receipt>, ReceiptError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReceiptError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let origin = path.display().to_string();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
        return Ok(vec![Receipt::parse(value, &origin)?]);
    }
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{origin} line {}", n + 1);
        let value = serde_json::from_str(line).map_err(|e| ReceiptError::Malformed {
            origin: at.clone(),
            problem: e.to_string(),
        })?;
        out.push(Receipt::parse(value, &at)?);
    }
    if out.is_empty() {
        return Err(ReceiptError::Malformed {
            origin,
            problem: "the file holds no receipt".to_owned(),
        });
    }
    Ok(out)
}
