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

    /// Parse an amount typed in 万元 (10⁴ yuan), exactly: at most 4 decimals, so the result is
    /// whole yuan; anything finer is refused, never rounded, and no float is involved.
    ///
    /// This is the one reading of what people type, in the sheets and in the API's `Wan` inputs,
    /// so it tolerates what Excel and WPS really write: surrounding spaces (also the ideographic
    /// space and no-break spaces), full-width digits and punctuation (`１２３．４５`), a leading
    /// `+`, and thousands separators (`1,234.5`, `１，２３４`) when they group by three. Refused:
    /// signs other than `+` (a negative amount is out of range), exponents, empty text, a lone
    /// `.`, misplaced separators.
    pub fn parse_wan(text: &str) -> Result<Self, ValueError> {
        let normal = normalize_decimal(text);
        let bad = |why_en: &str, why_zh: &str| {
            ValueError::new(
                ErrorCode::MoneyInvalid,
                format!("{text:?} is not an amount in 万元: {why_en}"),
                format!("“{text}”不是有效的万元金额：{why_zh}"),
            )
        };
        if normal.starts_with('-') {
            return Err(ValueError::new(
                ErrorCode::MoneyOutOfRange,
                format!("{text:?} 万元 is negative; amounts are ≥ 0"),
                format!("“{text}”万元为负数；金额不能小于 0"),
            ));
        }
        let unsigned = normal.strip_prefix('+').unwrap_or(&normal);
        let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if unsigned.is_empty() {
            return Err(bad("empty", "为空"));
        }
        let int = if int.contains(',') {
            let mut groups = int.split(',');
            let first = groups.next().unwrap_or("");
            let grouped =
                digits(first) && first.len() <= 3 && groups.all(|g| g.len() == 3 && digits(g));
            if !grouped {
                return Err(bad(
                    "thousands separators must group the integer part by three",
                    "千位分隔符须按三位分组",
                ));
            }
            int.replace(',', "")
        } else {
            int.to_owned()
        };
        let has_point = unsigned.contains('.');
        if !digits(&int) || (has_point && !digits(frac)) {
            return Err(bad("not a decimal number", "不是十进制数字"));
        }
        if frac.len() > 4 {
            return Err(bad(
                "more than 4 decimals (万元 has at most 4: whole yuan)",
                "小数超过 4 位（万元最多 4 位小数，即精确到元）",
            ));
        }
        let too_big = || {
            ValueError::new(
                ErrorCode::MoneyOutOfRange,
                format!("{text:?} 万元 is outside 0 ≤ amount < 10^9 万元"),
                format!("“{text}”万元超出范围（0 ≤ 金额 < 10^9 万元）"),
            )
        };
        let int: i64 = int.parse().map_err(|_| too_big())?;
        let frac: i64 = format!("{frac:0<4}")
            .parse()
            .map_err(|_| bad("not a number", "不是数字"))?;
        let yuan = int
            .checked_mul(10_000)
            .and_then(|v| v.checked_add(frac))
            .ok_or_else(too_big)?;
        Yuan::new(yuan).map_err(|_| too_big())
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

/// Decimal text as typed, brought to ASCII: surrounding white space (ASCII, ideographic U+3000,
/// no-break U+00A0/U+202F) trimmed, full-width digits and `．，＋－` mapped to ASCII, the Chinese
/// comma `、` is not a separator and stays (so it is refused).
fn normalize_decimal(text: &str) -> String {
    // `char::is_whitespace` is Unicode's White_Space: it includes U+3000, U+00A0 and U+202F.
    text.trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '．' => '.',
            '，' => ',',
            '＋' => '+',
            '－' | '−' => '-',
            other => other,
        })
        .collect()
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
    fn parses_wan_exactly_and_tolerantly() {
        let wan = |s: &str| Yuan::parse_wan(s).map(Yuan::get);
        assert_eq!(wan("123.45"), Ok(1_234_500));
        assert_eq!(wan("0.0001"), Ok(1));
        assert_eq!(wan("12"), Ok(120_000));
        assert_eq!(wan(" 1,234.5 "), Ok(12_345_000));
        assert_eq!(wan("１２３．４５"), Ok(1_234_500));
        assert_eq!(wan("１，２３４"), Ok(12_340_000));
        assert_eq!(wan("\u{3000}7\u{a0}"), Ok(70_000));
        assert_eq!(wan("+5"), Ok(50_000));
        assert_eq!(wan("99999.9999"), Ok(999_999_999));
        assert_eq!(wan("999999999.9999"), Ok(Yuan::LIMIT - 1));
        for (bad, code) in [
            ("1.23456", ErrorCode::MoneyInvalid),
            ("", ErrorCode::MoneyInvalid),
            ("  ", ErrorCode::MoneyInvalid),
            (".", ErrorCode::MoneyInvalid),
            (".5", ErrorCode::MoneyInvalid),
            ("1.", ErrorCode::MoneyInvalid),
            ("1e3", ErrorCode::MoneyInvalid),
            ("12,34", ErrorCode::MoneyInvalid),
            ("1,2345", ErrorCode::MoneyInvalid),
            (",123", ErrorCode::MoneyInvalid),
            ("1 234", ErrorCode::MoneyInvalid),
            ("abc", ErrorCode::MoneyInvalid),
            ("NaN", ErrorCode::MoneyInvalid),
            ("-1", ErrorCode::MoneyOutOfRange),
            ("－0.5", ErrorCode::MoneyOutOfRange),
            ("1000000000", ErrorCode::MoneyOutOfRange),
            ("99999999999999999999", ErrorCode::MoneyOutOfRange),
        ] {
            assert_eq!(Yuan::parse_wan(bad).unwrap_err().code, code, "{bad:?}");
        }
        let e = Yuan::parse_wan("1.23456").unwrap_err();
        assert!(
            e.en.contains("4 decimals") && e.zh.contains("4 位小数"),
            "{e:?}"
        );
    }

    #[test]
    fn wan_text_round_trips_every_amount() {
        for v in [0, 1, 9_999, 10_000, 123_456_789, Yuan::LIMIT - 1] {
            let y = Yuan::new(v).unwrap();
            assert_eq!(Yuan::parse_wan(&y.to_wan_string()), Ok(y));
        }
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
