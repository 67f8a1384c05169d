//! Checking receipts against a verified ledger.

use ed25519_dalek::VerifyingKey;
use eventstore::{Seal, VerifyReport};

use crate::key::key_id;
use crate::receipt::Receipt;

/// What one receipt showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptOutcome {
    pub seal_no: u64,
    /// True when the ledger holds the receipt's seal unchanged and its signature (if any) holds.
    pub ok: bool,
    pub message_en: String,
    pub message_zh: String,
}

/// Every receipt's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiptCheck {
    pub outcomes: Vec<ReceiptOutcome>,
}

impl ReceiptCheck {
    pub fn is_ok(&self) -> bool {
        self.outcomes.iter().all(|o| o.ok)
    }

    pub fn failures(&self) -> impl Iterator<Item = &ReceiptOutcome> {
        self.outcomes.iter().filter(|o| !o.ok)
    }
}

fn outcome(seal_no: u64, ok: bool, en: String, zh: String) -> ReceiptOutcome {
    ReceiptOutcome {
        seal_no,
        ok,
        message_en: en,
        message_zh: zh,
    }
}

/// The fields of `stored` that differ from the receipt's `kept`.
fn differences(stored: &Seal, kept: &Seal) -> Vec<&'static str> {
    let mut out = Vec::new();
    if stored.from != kept.from || stored.to != kept.to {
        out.push("range");
    }
    if stored.event_count != kept.event_count {
        out.push("event count");
    }
    if stored.digest != kept.digest {
        out.push("digest");
    }
    if stored.prev_hash != kept.prev_hash {
        out.push("previous seal hash");
    }
    if stored.hash != kept.hash {
        out.push("hash");
    }
    out
}

/// Checks each receipt against the seals `report` read (one verification snapshot). `trusted`:
/// the ledger's own public key when known (the configured seal key); a receipt signed by another
/// key then fails. A receipt passes when its signature holds and the ledger's seal of its number
/// equals it; together with a clean `report` (the events re-digest to every stored seal, and each
/// seal chains to the one before) that proves the ledger still holds, unchanged, every event the
/// receipt covers, and that every later seal chains to it.
pub fn check(
    report: &VerifyReport,
    receipts: &[Receipt],
    trusted: Option<&VerifyingKey>,
) -> ReceiptCheck {
    let last = report.sealed.last();
    let outcomes = receipts
        .iter()
        .map(|r| check_one(report, r, trusted, last))
        .collect();
    ReceiptCheck { outcomes }
}

fn check_one(
    report: &VerifyReport,
    receipt: &Receipt,
    trusted: Option<&VerifyingKey>,
    last: Option<&Seal>,
) -> ReceiptOutcome {
    let n = receipt.seal_no;
    let kept = match receipt.seal() {
        Ok(seal) => seal,
        Err(problem) => {
            return outcome(
                n,
                false,
                format!("receipt for seal {n} is malformed: {problem}"),
                format!("封存 {n} 的回执格式有误：{problem}"),
            );
        }
    };
    let signer = match receipt.verify_signature() {
        Err(problem) => {
            return outcome(
                n,
                false,
                format!("receipt for seal {n}: {problem}"),
                format!("封存 {n} 的回执签名无效（回执被改动或签名不符）"),
            );
        }
        Ok(signer) => signer,
    };
    if let (Some(signer), Some(trusted)) = (&signer, trusted)
        && signer != trusted
    {
        return outcome(
            n,
            false,
            format!(
                "receipt for seal {n} is signed by key {}, not by this ledger's key {}",
                key_id(signer),
                key_id(trusted)
            ),
            format!(
                "封存 {n} 的回执由密钥 {} 签名，而非本台账的密钥 {}",
                key_id(signer),
                key_id(trusted)
            ),
        );
    }
    let signed_en = match &signer {
        Some(k) => format!("signed by key {}", key_id(k)),
        None => "unsigned".to_owned(),
    };
    let signed_zh = match &signer {
        Some(k) => format!("密钥 {} 签名", key_id(k)),
        None => "未签名".to_owned(),
    };
    let Some(stored) = report.sealed.iter().find(|s| s.seal_no == n) else {
        let (en, zh) = match last {
            None if report.events == 0 => (
                format!(
                    "the ledger is empty, but this receipt ({signed_en}) shows seal {n} covering \
                     events up to position {}: the store was emptied",
                    kept.to
                ),
                format!(
                    "台账为空，但回执（{signed_zh}）表明封存 {n} 覆盖至位置 {}：数据库被清空",
                    kept.to
                ),
            ),
            None => (
                format!(
                    "the ledger has no seal, but this receipt ({signed_en}) shows seal {n} covering \
                     events up to position {}: its seals were removed",
                    kept.to
                ),
                format!("台账没有任何封存，但回执（{signed_zh}）表明存在封存 {n}：封存记录被删除"),
            ),
            Some(last) => (
                format!(
                    "the ledger's last seal is {}, but this receipt ({signed_en}) shows seal {n} \
                     covering events up to position {}: the newest seals (and events) were removed",
                    last.seal_no, kept.to
                ),
                format!(
                    "台账最后的封存为 {}，但回执（{signed_zh}）表明封存 {n} 覆盖至位置 {}：最新的封存（及事件）被删除",
                    last.seal_no, kept.to
                ),
            ),
        };
        return outcome(n, false, en, zh);
    };
    let differ = differences(stored, &kept);
    if !differ.is_empty() {
        return outcome(
            n,
            false,
            format!(
                "seal {n} in the ledger differs from its receipt ({signed_en}) in: {}: the history \
                 up to position {} was rewritten and re-sealed",
                differ.join(", "),
                kept.to
            ),
            format!(
                "台账中的封存 {n} 与回执（{signed_zh}）不符：位置 {} 之前的历史被改写并重新封存",
                kept.to
            ),
        );
    }
    let later = last.map_or(n, |l| l.seal_no);
    let chain_en = if later > n {
        format!(", and seals {}..={later} chain to it", n + 1)
    } else {
        String::new()
    };
    let chain_zh = if later > n {
        format!("，其后的封存 {}..={later} 与之相链", n + 1)
    } else {
        String::new()
    };
    if report.is_ok() {
        outcome(
            n,
            true,
            format!(
                "receipt for seal {n} ({signed_en}) matches: the ledger still holds the events up \
                 to position {} unchanged{chain_en}",
                kept.to
            ),
            format!(
                "封存 {n} 的回执（{signed_zh}）相符：位置 {} 之前的事件未被改动{chain_zh}",
                kept.to
            ),
        )
    } else {
        outcome(
            n,
            false,
            format!(
                "seal {n} equals its receipt ({signed_en}), but the ledger has mismatches (above): \
                 it no longer holds what the seals cover"
            ),
            format!("封存 {n} 与回执一致，但台账存在不一致（见上）"),
        )
    }
}
