//! The year's clock: closed months, time progress and the window of a year at a date
//! (DOMAIN.md "Metrics": closed months m = month(D) − 1; time progress monthly or by days).

use crate::ratio::Ratio;
use domain::Period;
use time::{Date, Month};

/// Closed months of year `y` at `d`: month(D) − 1 within Y, 12 once Y is over, 0 before Y.
pub fn closed_months(y: i32, d: Date) -> u8 {
    match d.year().cmp(&y) {
        std::cmp::Ordering::Greater => 12,
        std::cmp::Ordering::Less => 0,
        std::cmp::Ordering::Equal => u8::from(d.month()) - 1,
    }
}

/// Time progress of monthly metrics: m ÷ 12 × 100.
pub fn month_progress(y: i32, d: Date) -> Ratio {
    Ratio::new(i128::from(closed_months(y, d)) * 100, 12).unwrap_or(Ratio::int(0))
}

/// Time progress of the other metrics: days of Y up to and including D ÷ days of Y × 100
/// (0 before Y, 100 after).
pub fn day_progress(y: i32, d: Date) -> Ratio {
    let (first, last) = (first_day(y), last_day(y));
    if d < first {
        Ratio::int(0)
    } else if d > last {
        Ratio::int(100)
    } else {
        let elapsed = (d - first).whole_days() + 1;
        let days = (last - first).whole_days() + 1;
        Ratio::new(i128::from(elapsed) * 100, i128::from(days)).unwrap_or(Ratio::int(0))
    }
}

pub fn first_day(y: i32) -> Date {
    Date::from_calendar_date(y, Month::January, 1).unwrap_or(Date::MIN)
}

pub fn last_day(y: i32) -> Date {
    Date::from_calendar_date(y, Month::December, 31).unwrap_or(Date::MAX)
}

/// The days of Y that count at D: 1 January up to min(D, 31 December). Empty before Y.
pub fn window(y: i32, d: Date) -> (Date, Date) {
    (first_day(y), d.min(last_day(y)))
}

/// The closed periods of year `y` at `d`: `y-01 ..= y-m`, or `None` when no month is closed.
pub fn closed_periods(y: i32, m: u8) -> Option<(Period, Period)> {
    if m == 0 {
        return None;
    }
    Some((Period::new(y, 1).ok()?, Period::new(y, m).ok()?))
}

/// Months from `from` to the month of `d` (negative when `from` is later).
pub fn months_from(from: Period, d: Date) -> i32 {
    (d.year() * 12 + i32::from(u8::from(d.month()))) - (from.year() * 12 + i32::from(from.month()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_report_for_january_to_october_is_read_in_november() {
        assert_eq!(closed_months(2026, date!(2026 - 11 - 15)), 10);
        assert_eq!(closed_months(2026, date!(2026 - 01 - 31)), 0);
        assert_eq!(closed_months(2025, date!(2026 - 03 - 01)), 12);
        assert_eq!(closed_months(2027, date!(2026 - 03 - 01)), 0);
        assert_eq!(
            month_progress(2026, date!(2026 - 07 - 01)).hundredths().0,
            5000
        );
    }

    #[test]
    fn day_progress_counts_the_day_itself() {
        assert_eq!(day_progress(2026, date!(2026 - 01 - 01)).hundredths().0, 27); // 1/365
        assert_eq!(
            day_progress(2026, date!(2026 - 12 - 31)).hundredths().0,
            10000
        );
        assert_eq!(
            day_progress(2024, date!(2024 - 07 - 01)).hundredths().0,
            5000
        ); // 183/366
        assert_eq!(day_progress(2026, date!(2025 - 12 - 31)).hundredths().0, 0);
    }
}
