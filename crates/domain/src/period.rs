//! Calendar values: reporting periods (`YYYY-MM`), business dates (`YYYY-MM-DD`) and the
//! "not in the future" check of rule 2.

use crate::error::{DomainError, ErrorCode, ValueError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use time::{Date, Duration, Month};

/// Years the ledger accepts at all. Earlier or later values are typing mistakes.
pub const MIN_YEAR: i32 = 2000;
pub const MAX_YEAR: i32 = 2099;

/// A reporting month, `YYYY-MM`. Ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u8,
}

impl Period {
    pub fn new(year: i32, month: u8) -> Result<Self, ValueError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) || !(1..=12).contains(&month) {
            return Err(invalid(&format!("{year}-{month}")));
        }
        Ok(Self { year, month })
    }

    pub fn of(date: Date) -> Self {
        Self {
            year: date.year(),
            month: u8::from(date.month()),
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn first_day(self) -> Date {
        let month = Month::try_from(self.month).unwrap_or(Month::January);
        Date::from_calendar_date(self.year, month, 1).unwrap_or(Date::MIN)
    }

    /// Months from `self` to `later` (negative when `later` is earlier).
    pub fn months_until(self, later: Period) -> i32 {
        (later.year - self.year) * 12 + i32::from(later.month) - i32::from(self.month)
    }

    pub fn next(self) -> Period {
        if self.month == 12 {
            Period {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Period {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let b = s.as_bytes();
        if b.len() != 7
            || b[4] != b'-'
            || !s[..4]
                .bytes()
                .chain(s[5..].bytes())
                .all(|c| c.is_ascii_digit())
        {
            return Err(invalid(s));
        }
        let year: i32 = s[..4].parse().map_err(|_| invalid(s))?;
        let month: u8 = s[5..].parse().map_err(|_| invalid(s))?;
        Self::new(year, month).map_err(|_| invalid(s))
    }
}

fn invalid(s: &str) -> ValueError {
    ValueError::new(
        ErrorCode::PeriodInvalid,
        format!("period {s:?} is not a month YYYY-MM between {MIN_YEAR} and {MAX_YEAR}"),
        format!("期间 {s:?} 无效，应为 YYYY-MM 格式的月份"),
    )
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Period {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        Period::parse(s)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Period::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Parse an ISO date `YYYY-MM-DD` within the ledger's years.
pub fn parse_date(s: &str) -> Result<Date, ValueError> {
    let err = || {
        ValueError::new(
            ErrorCode::DateInvalid,
            format!("date {s:?} is not a valid YYYY-MM-DD date between {MIN_YEAR} and {MAX_YEAR}"),
            format!("日期 {s:?} 无效，应为 YYYY-MM-DD 格式"),
        )
    };
    let d = Date::parse(s, ISO_DATE).map_err(|_| err())?;
    if (MIN_YEAR..=MAX_YEAR).contains(&d.year()) {
        Ok(d)
    } else {
        Err(err())
    }
}

const ISO_DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// `#[serde(with = "crate::period::iso_date")]` for `time::Date` fields: ISO `YYYY-MM-DD`,
/// read through [`parse_date`].
pub mod iso_date {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        let text = d.format(ISO_DATE).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        parse_date(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Business dates may be up to one day ahead of the server's "today": the county and the
/// server may sit in different time zones (rule 2).
pub const FUTURE_TOLERANCE_DAYS: i64 = 1;

/// Rule 2 for a business date.
pub fn not_in_future(field: &'static str, date: Date, today: Date) -> Result<(), DomainError> {
    if date > today + Duration::days(FUTURE_TOLERANCE_DAYS) {
        return Err(DomainError::new(
            ErrorCode::DateInFuture,
            field,
            format!("{field} {date} is in the future (today is {today})"),
            format!("{field} {date} 晚于今天（{today}），不能登记未来的日期"),
        ));
    }
    Ok(())
}

/// Rule 2 for a period: the month of "today plus the tolerance" is the latest allowed, so the
/// current month can be reported (clerks report around the 25th).
pub fn period_not_in_future(
    field: &'static str,
    period: Period,
    today: Date,
) -> Result<(), DomainError> {
    let latest = Period::of(today + Duration::days(FUTURE_TOLERANCE_DAYS));
    if period > latest {
        return Err(DomainError::new(
            ErrorCode::PeriodInFuture,
            field,
            format!("{field} {period} is in the future (today is {today})"),
            format!("{field} {period} 是未来的月份（今天是 {today}）"),
        ));
    }
    Ok(())
}

/// A year of plans and targets: within the ledger's years and at most next year (plans and
/// targets for the coming year are set in December).
pub fn plausible_year(field: &'static str, year: i32, today: Date) -> Result<(), DomainError> {
    if year < MIN_YEAR || year > today.year() + 1 {
        return Err(DomainError::new(
            ErrorCode::YearOutOfRange,
            field,
            format!(
                "year {year} must be between {MIN_YEAR} and next year ({})",
                today.year() + 1
            ),
            format!(
                "年度 {year} 须在 {MIN_YEAR} 年至明年（{}）之间",
                today.year() + 1
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn period_parses_and_orders() {
        let p = Period::parse("2026-03").unwrap();
        assert_eq!((p.year(), p.month()), (2026, 3));
        assert_eq!(p.to_string(), "2026-03");
        assert!(Period::parse("2026-02").unwrap() < p);
        assert_eq!(
            Period::parse("2025-12").unwrap().next(),
            Period::parse("2026-01").unwrap()
        );
        assert_eq!(Period::parse("2025-11").unwrap().months_until(p), 4);
        for bad in [
            "2026-13",
            "2026-00",
            "26-03",
            "2026/03",
            "2026-3",
            "1999-01",
            "２０２６-03",
        ] {
            assert_eq!(
                Period::parse(bad).unwrap_err().code,
                ErrorCode::PeriodInvalid,
                "{bad}"
            );
        }
        assert!(serde_json::from_str::<Period>("\"2026-13\"").is_err());
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"2026-03\"");
    }

    #[test]
    fn dates_are_iso() {
        assert_eq!(parse_date("2026-02-28").unwrap(), date!(2026 - 02 - 28));
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("2026-2-3").is_err());
        assert!(parse_date("1990-01-01").is_err());
    }

    #[test]
    fn one_day_of_tolerance() {
        let today = date!(2026 - 05 - 31);
        assert!(not_in_future("date", date!(2026 - 06 - 01), today).is_ok());
        let e = not_in_future("date", date!(2026 - 06 - 02), today).unwrap_err();
        assert_eq!((e.code, e.field), (ErrorCode::DateInFuture, "date"));
        assert!(period_not_in_future("period", Period::parse("2026-06").unwrap(), today).is_ok());
        let e =
            period_not_in_future("period", Period::parse("2026-07").unwrap(), today).unwrap_err();
        assert_eq!(e.code, ErrorCode::PeriodInFuture);
        let mid = date!(2026 - 05 - 15);
        assert!(period_not_in_future("period", Period::parse("2026-05").unwrap(), mid).is_ok());
        assert!(period_not_in_future("period", Period::parse("2026-06").unwrap(), mid).is_err());
    }
}
