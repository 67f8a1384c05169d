//! Money: exact integer yuan (元). Never a float, anywhere: displays in 万元 and 亿元 are exact
//! decimals computed from the integer.

use crate::error::{ErrorCode, ValueError};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// An amount of money in whole yuan, 0 ≤ v < 10¹³ (rule 1). JSON: a plain integer number
/// (10¹³ is far below 2⁵³, so JavaScript clients read it exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Yuan(i64);

impl Yuan {
    /// Exclusive upper bound: ten trillion yuan, beyond any county project.
    pub const LIMIT: i64 = 10_000_000_000_000;
    pub const ZERO: Yuan = Yuan(0);
    /// 1 亿元, the threshold of a "big project".
    pub const YI: Yuan = Yuan(100_000_000);

    pub fn new(v: i64) -> Result<Self, ValueError> {
        if (0..Self::LIMIT).contains(&v) {
            Ok(Self(v))
        } else {
            Err(ValueError::new(
                ErrorCode::MoneyOutOfRange,
                format!("amount {v} yuan is outside 0 ≤ amount < 10^13"),
                format!("金额 {v} 元超出范围（0 ≤ 金额 < 10^13 元）"),
            ))
        }
    }

    /// Whole 万元 (10⁴ yuan).
    pub fn from_wan(wan: i64) -> Result<Self, ValueError> {
        Self::new(wan.checked_mul(10_000).unwrap_or(i64::MAX))
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// Sum that stays inside the range, for totals that must stay valid amounts.
    pub fn checked_add(self, other: Yuan) -> Option<Yuan> {
        Yuan::new(self.0 + other.0).ok()
    }

    /// Exact decimal in 万元, e.g. `1234.5678`; trailing zeros of the fraction are dropped.
    pub fn to_wan_string(self) -> String {
        exact_decimal(self.0, 4)
    }

    /// Exact decimal in 亿元, e.g. `1.23456789`.
    pub fn to_yi_string(self) -> String {
        exact_decimal(self.0, 8)
    }
}

/// `value / 10^scale` as an exact decimal string without trailing fractional zeros.
fn exact_decimal(value: i64, scale: u32) -> String {
    let div = 10_i64.pow(scale);
    let (int, frac) = (value / div, value % div);
    if frac == 0 {
        return int.to_string();
    }
    let digits = format!("{frac:0width$}", width = scale as usize);
    format!("{int}.{}", digits.trim_end_matches('0'))
}

impl fmt::Display for Yuan {
    /// `12,345 元`-style is a presentation concern; the canonical display is `12345元`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}元", self.0)
    }
}

impl<'de> Deserialize<'de> for Yuan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Yuan::new(i64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<i64> for Yuan {
    type Error = ValueError;
    fn try_from(v: i64) -> Result<Self, ValueError> {
        Yuan::new(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_is_enforced() {
        assert!(Yuan::new(0).is_ok());
        assert!(Yuan::new(Yuan::LIMIT - 1).is_ok());
        assert_eq!(Yuan::new(-1).unwrap_err().code, ErrorCode::MoneyOutOfRange);
        assert_eq!(
            Yuan::new(Yuan::LIMIT).unwrap_err().code,
            ErrorCode::MoneyOutOfRange
        );
        assert!(Yuan::from_wan(i64::MAX).is_err());
    }

    #[test]
    fn formats_exactly() {
        let y = Yuan::new(123_456_789).unwrap();
        assert_eq!(y.to_string(), "123456789元");
        assert_eq!(y.to_wan_string(), "12345.6789");
        assert_eq!(y.to_yi_string(), "1.23456789");
        assert_eq!(Yuan::new(50_000_000).unwrap().to_yi_string(), "0.5");
        assert_eq!(Yuan::new(10_000).unwrap().to_wan_string(), "1");
        assert_eq!(Yuan::new(5).unwrap().to_wan_string(), "0.0005");
        assert_eq!(Yuan::from_wan(1000).unwrap().get(), 10_000_000);
    }

    #[test]
    fn serde_goes_through_validation() {
        assert_eq!(
            serde_json::to_string(&Yuan::new(42).unwrap()).unwrap(),
            "42"
        );
        assert!(serde_json::from_str::<Yuan>("-5").is_err());
        assert!(serde_json::from_str::<Yuan>("10000000000000").is_err());
        assert!(serde_json::from_str::<Yuan>("1.5").is_err());
        assert_eq!(serde_json::from_str::<Yuan>("7").unwrap().get(), 7);
    }
}
