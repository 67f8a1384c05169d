//! Area in mu (亩, about 666.67 m²), fixed point with exactly four decimals.

use crate::error::{ErrorCode, ValueError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An area ≥ 0 in mu, stored as an integer number of ten-thousandths of a mu.
///
/// JSON form (stable): a decimal **string** with exactly four decimals, e.g. `"12.5000"`. A string
/// and not a JSON number because JSON numbers are read as binary floats by most clients, and the
/// ledger promises exact areas. Reading also accepts a JSON number or a string with up to four
/// decimals (`12.5`, `"12"`), parsed from its decimal text, never through a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Mu(i64);

impl Mu {
    pub const ZERO: Mu = Mu(0);
    const SCALE: i64 = 10_000;
    /// Far beyond any county (a county is a few million mu); keeps sums far from overflow.
    const LIMIT_TEN_THOUSANDTHS: i64 = 10_000_000_000 * Self::SCALE;

    pub fn from_ten_thousandths(v: i64) -> Result<Self, ValueError> {
        if (0..Self::LIMIT_TEN_THOUSANDTHS).contains(&v) {
            Ok(Self(v))
        } else {
            Err(invalid(&v.to_string(), "out of range"))
        }
    }

    pub fn ten_thousandths(self) -> i64 {
        self.0
    }

    /// Parse `123`, `123.4` … `123.4567`; no sign, no exponent, at most four decimals.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !digits(int) || !digits(frac) || (s.contains('.') && frac.is_empty()) {
            return Err(invalid(s, "not a decimal number ≥ 0"));
        }
        if frac.len() > 4 {
            return Err(invalid(s, "more than 4 decimals"));
        }
        let int: i64 = int.parse().map_err(|_| invalid(s, "out of range"))?;
        let frac: i64 = format!("{frac:0<4}")
            .parse()
            .map_err(|_| invalid(s, "not a number"))?;
        let v = int
            .checked_mul(Self::SCALE)
            .and_then(|i| i.checked_add(frac))
            .ok_or_else(|| invalid(s, "out of range"))?;
        Self::from_ten_thousandths(v)
    }
}

fn invalid(s: &str, why: &str) -> ValueError {
    ValueError::new(
        ErrorCode::AreaInvalid,
        format!("area {s:?} is not valid: {why} (mu, ≥ 0, at most 4 decimals)"),
        format!("面积 {s:?} 无效：须为不小于 0、最多 4 位小数的亩数"),
    )
}

impl fmt::Display for Mu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:04}", self.0 / Self::SCALE, self.0 % Self::SCALE)
    }
}

impl FromStr for Mu {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        Mu::parse(s)
    }
}

impl Serialize for Mu {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mu {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A JSON number is taken from its text (serde_json's Number keeps it), never as f64 math.
        let text = match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            other => {
                return Err(serde::de::Error::custom(invalid(
                    &other.to_string(),
                    "wrong type",
                )));
            }
        };
        Mu::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_at_most_four_decimals() {
        assert_eq!(Mu::parse("12.5").unwrap().ten_thousandths(), 125_000);
        assert_eq!(Mu::parse("0.0001").unwrap().ten_thousandths(), 1);
        assert_eq!(Mu::parse("7").unwrap().to_string(), "7.0000");
        for bad in [
            "",
            "-1",
            "1.23456",
            "1.",
            ".5",
            "1e3",
            "abc",
            "1,5",
            "99999999999999999999",
        ] {
            assert_eq!(
                Mu::parse(bad).unwrap_err().code,
                ErrorCode::AreaInvalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn json_is_a_four_decimal_string() {
        let m = Mu::parse("12.5").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"12.5000\"");
        assert_eq!(serde_json::from_str::<Mu>("\"12.5000\"").unwrap(), m);
        assert_eq!(serde_json::from_str::<Mu>("12.5").unwrap(), m);
        assert!(serde_json::from_str::<Mu>("-1").is_err());
        assert!(serde_json::from_str::<Mu>("1.00001").is_err());
    }
}
