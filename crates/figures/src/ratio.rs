//! Exact arithmetic for percentages and scores: a fraction of two `i128`, rounded once, at the
//! end, to hundredths (half away from zero). Money is integer yuan and areas are integer
//! ten-thousandths of a mu, so every figure of DOMAIN.md is a ratio of integers and needs no float.

use std::cmp::Ordering;
use std::fmt;

/// `num / den` with `den > 0`.
#[derive(Debug, Clone, Copy)]
pub struct Ratio {
    num: i128,
    den: i128,
}

impl Ratio {
    /// `None` when the denominator is 0 (a rate without a base is no rate).
    pub fn new(num: i128, den: i128) -> Option<Ratio> {
        match den.cmp(&0) {
            Ordering::Equal => None,
            Ordering::Greater => Some(Ratio { num, den }.reduced()),
            Ordering::Less => Some(
                Ratio {
                    num: -num,
                    den: -den,
                }
                .reduced(),
            ),
        }
    }

    pub fn int(v: i128) -> Ratio {
        Ratio { num: v, den: 1 }
    }

    /// `part ÷ whole × 100`, `None` when `whole` is 0.
    pub fn percent(part: i128, whole: i128) -> Option<Ratio> {
        Ratio::new(part * 100, whole)
    }

    fn reduced(self) -> Ratio {
        let g = gcd(self.num.unsigned_abs(), self.den.unsigned_abs()) as i128;
        if g > 1 {
            Ratio {
                num: self.num / g,
                den: self.den / g,
            }
        } else {
            self
        }
    }

    /// Rounded to hundredths, half away from zero (PostgreSQL's `round(numeric, 2)`).
    pub fn hundredths(self) -> Hundredths {
        let x = self.num * 100;
        let (q, r) = (x / self.den, x % self.den);
        let q = if 2 * r.abs() >= self.den {
            q + x.signum()
        } else {
            q
        };
        Hundredths(q as i64)
    }
}

impl std::ops::Sub for Ratio {
    type Output = Ratio;

    fn sub(self, other: Ratio) -> Ratio {
        Ratio {
            num: self.num * other.den - other.num * self.den,
            den: self.den * other.den,
        }
        .reduced()
    }
}

impl PartialEq for Ratio {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ratio {}
impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ratio {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.num * other.den).cmp(&(other.num * self.den))
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// A percentage or score rounded to two decimals, held exactly as hundredths (`1234` = 12.34).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hundredths(pub i64);

impl Hundredths {
    /// The nearest `f64` (for GraphQL `Float` fields; the value itself stays exact here).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl fmt::Display for Hundredths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(
            Ratio::new(1, 8).map(Ratio::hundredths),
            Some(Hundredths(13))
        ); // 0.125
        assert_eq!(
            Ratio::new(-1, 8).map(Ratio::hundredths),
            Some(Hundredths(-13))
        );
        assert_eq!(
            Ratio::new(1, 3).map(Ratio::hundredths),
            Some(Hundredths(33))
        );
        assert_eq!(
            Ratio::new(2, 3).map(Ratio::hundredths),
            Some(Hundredths(67))
        );
        assert_eq!(
            Ratio::new(5, 1).map(Ratio::hundredths),
            Some(Hundredths(500))
        );
        assert_eq!(Ratio::new(1, 0), None);
        assert_eq!(Hundredths(-1234).to_string(), "-12.34");
        assert_eq!(Hundredths(5).to_string(), "0.05");
        assert_eq!(Hundredths(-5).to_string(), "-0.05");
    }

    #[test]
    fn compares_exactly() {
        let third = Ratio::new(1, 3).unwrap();
        assert!(third < Ratio::new(334, 1000).unwrap());
        assert!(third > Ratio::new(333, 1000).unwrap());
        assert_eq!(third - third, Ratio::int(0));
        assert_eq!(Ratio::new(2, -4).unwrap(), Ratio::new(-1, 2).unwrap());
    }
}
