//! Official codes: the national project code (项目代码) and the unified social credit code
//! (统一社会信用代码, USCC).

use crate::error::{DomainError, ErrorCode, ValueError};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// National investment project code from the online approval platform (投资项目在线审批监管平台),
/// `^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$` (rule 7). The first block is a year 2015–2020 in legacy
/// codes and `YYMM` in new ones; a new code's year must be 2017 or later (the platform's
/// YYMM scheme is newer than the legacy one), its month 01–12. The domain checks that the
/// code's month is not in the future when it is assigned; uniqueness across projects is the
/// command handler's job through [`ProjectCode::reservation_key`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ProjectCode(String);

/// What the first block of a project code says about when it was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeIssued {
    LegacyYear(i32),
    YearMonth(i32, u8),
}

impl ProjectCode {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let blocks: Vec<&str> = s.split('-').collect();
        let lens: Vec<usize> = blocks.iter().map(|b| b.len()).collect();
        if lens != [4, 6, 2, 2, 6] || !blocks.iter().all(|b| b.bytes().all(|c| c.is_ascii_digit()))
        {
            return Err(invalid(s, "does not match 9999-999999-99-99-999999"));
        }
        let code = Self(s.to_owned());
        code.issued().ok_or_else(|| {
            invalid(
                s,
                "the first block is neither a year 2015–2020 nor a plausible YYMM",
            )
        })?;
        Ok(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn issued(&self) -> Option<CodeIssued> {
        let first: i32 = self.0.get(..4)?.parse().ok()?;
        if (2015..=2020).contains(&first) {
            return Some(CodeIssued::LegacyYear(first));
        }
        let (yy, mm) = (first / 100, first % 100);
        ((17..=99).contains(&yy) && (1..=12).contains(&mm))
            .then(|| CodeIssued::YearMonth(2000 + yy, mm as u8))
    }

    /// The key `(kind, key)` under which the command handler reserves the code, so that it
    /// belongs to one project only. The kind is a bare word because the store reserves a key
    /// by appending to the stream `<kind>-<key>` (`projectcode-2406-610403-04-01-123456`).
    pub fn reservation_key(&self) -> UniqueKey {
        UniqueKey {
            kind: "projectcode",
            key: self.0.clone(),
            field: "code",
            taken: ErrorCode::ProjectCodeTaken,
            holder_zh: "项目",
        }
    }
}

fn invalid(s: &str, why: &str) -> ValueError {
    ValueError::new(
        ErrorCode::ProjectCodeInvalid,
        format!("project code {s:?} is not valid: {why}"),
        format!("项目代码 {s:?} 无效，应为 年份或年月-行政区划-行业-类别-流水号 格式"),
    )
}

impl fmt::Display for ProjectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ProjectCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ProjectCode::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A business key that must belong to one aggregate only. The command handler reserves it in
/// the store before appending; when another aggregate holds it, the command is refused with
/// `taken` on `field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueKey {
    /// A bare word (a stream category): the store's key stream is `<kind>-<key>`.
    pub kind: &'static str,
    pub key: String,
    pub field: &'static str,
    pub taken: ErrorCode,
    /// What holds such keys, in Chinese, for the refusal (项目, 单位).
    pub holder_zh: &'static str,
}

impl UniqueKey {
    /// The refusal when `owner` (another aggregate's stream) already holds the key.
    pub fn taken_error(&self, owner: &str) -> DomainError {
        DomainError::new(
            self.taken,
            self.field,
            format!("{} {} already belongs to {owner}", self.field, self.key),
            format!("{} 已被其他{}使用（{owner}）", self.key, self.holder_zh),
        )
    }
}

/// Unified social credit code, 18 characters, last one a check character per GB 32100-2015:
/// characters `0-9 A-H J-N P-R T-U W-Y` (no I, O, S, V, Z) valued 0–30, weights 3^i mod 31,
/// check = 31 − (Σ value×weight mod 31), where 31 becomes 0. Letters are upper-cased on parsing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Uscc(String);

const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

impl Uscc {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let upper = s.trim().to_ascii_uppercase();
        let values: Option<Vec<u32>> = upper
            .bytes()
            .map(|c| USCC_CHARS.iter().position(|&x| x == c).map(|p| p as u32))
            .collect();
        let values = match values {
            Some(v) if v.len() == 18 => v,
            _ => {
                return Err(uscc_invalid(
                    s,
                    "not 18 characters of 0-9 and A-Y without I, O, S, V, Z",
                ));
            }
        };
        let sum: u32 = values.iter().zip(USCC_WEIGHTS).map(|(v, w)| v * w).sum();
        let check = (31 - sum % 31) % 31;
        if values[17] != check {
            return Err(uscc_invalid(s, "wrong check character"));
        }
        Ok(Self(upper))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn uscc_invalid(s: &str, why: &str) -> ValueError {
    ValueError::new(
        ErrorCode::UsccInvalid,
        format!("unified social credit code {s:?} is not valid: {why}"),
        format!("统一社会信用代码 {s:?} 无效（须为 18 位且校验码正确）"),
    )
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Uscc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Uscc::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_codes() {
        assert_eq!(
            ProjectCode::parse("2018-420100-47-03-012345")
                .unwrap()
                .issued(),
            Some(CodeIssued::LegacyYear(2018))
        );
        assert_eq!(
            ProjectCode::parse("2406-610403-04-01-123456")
                .unwrap()
                .issued(),
            Some(CodeIssued::YearMonth(2024, 6))
        );
        for bad in [
            "2406-610403-04-01-12345",
            "2406-610403-04-01-1234567",
            "2413-610403-04-01-123456",
            "2400-610403-04-01-123456",
            "2014-610403-04-01-123456",
            "1606-610403-04-01-123456",
            "2406_610403-04-01-123456",
            "24O6-610403-04-01-123456",
            "2406-610403-04-01-123456-",
        ] {
            assert_eq!(
                ProjectCode::parse(bad).unwrap_err().code,
                ErrorCode::ProjectCodeInvalid,
                "{bad}"
            );
        }
        let key = ProjectCode::parse("2018-420100-47-03-012345")
            .unwrap()
            .reservation_key();
        assert_eq!(
            (key.kind, key.key.as_str()),
            ("projectcode", "2018-420100-47-03-012345")
        );
        let err = key.taken_error("project-x");
        assert_eq!((err.code, err.field), (ErrorCode::ProjectCodeTaken, "code"));
    }

    #[test]
    fn published_credit_codes_are_valid() {
        // Examples published with GB 32100-2015 and on the national enterprise credit system.
        for ok in [
            "91350100M000100Y43",
            "91110000600037341L",
            "91440300708461136T",
            "91110108551385082Q",
        ] {
            assert!(Uscc::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            Uscc::parse("91350100m000100y43").unwrap().as_str(),
            "91350100M000100Y43"
        );
    }

    #[test]
    fn bad_credit_codes() {
        for bad in [
            "91350100M000100Y44",
            "91350100M000100Y4",
            "91350100M000100I43",
            "",
            "913501OOM000100Y43",
        ] {
            assert_eq!(
                Uscc::parse(bad).unwrap_err().code,
                ErrorCode::UsccInvalid,
                "{bad}"
            );
        }
        assert!(serde_json::from_str::<Uscc>("\"91350100M000100Y44\"").is_err());
    }
}
