//! Calendar arithmetic for date and timestamp literals: proleptic Gregorian
//! calendar, UTC, years 0 to 9999. Written out so the parser needs no date
//! crate; the day-count conversions are Howard Hinnant's `days_from_civil`
//! and `civil_from_days` algorithms.

use crate::model::date;
use crate::query::ast::{DateLit, Timestamp};

/// Microseconds in one day.
const MICROS_PER_DAY: i64 = 86_400_000_000;

// The calendar arithmetic is the model's (`model::date`); these adapt it to
// the literal types of the AST.

/// Number of days in `month` (1..=12) of `year`.
pub(crate) fn days_in_month(year: i32, month: u8) -> u8 {
    date::days_in_month(year, u32::from(month)) as u8
}

/// Days since 1970-01-01 of a valid civil date.
pub(crate) fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    date::days_from_civil(year, u32::from(month), u32::from(day))
}

/// Civil date `(year, month, day)` of a day count since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let (y, m, d) = date::civil_from_days(days);
    (i64::from(y), m as u8, d as u8)
}

/// Checks that the parts name a real date, returning why not otherwise.
pub(crate) fn check_date(date: &DateLit) -> Result<(), String> {
    let Some(month) = date.month else {
        return Ok(());
    };
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} is out of range 1..12"));
    }
    match date.day {
        Some(day) if day == 0 || day > days_in_month(date.year, month) => Err(format!(
            "day {day} is out of range for {:04}-{month:02} ({} days)",
            date.year,
            days_in_month(date.year, month)
        )),
        _ => Ok(()),
    }
}

/// The parts of a written timestamp, before conversion to UTC.
pub(crate) struct TimestampParts {
    /// Calendar date (day precision).
    pub date: DateLit,
    /// Hour, minute, second.
    pub hms: (u8, u8, u8),
    /// Fraction of a second in microseconds.
    pub micros: u32,
    /// Offset from UTC in minutes (`Z` is 0).
    pub offset_minutes: i32,
}

/// Converts written parts to a UTC [`Timestamp`], or says why it is invalid.
pub(crate) fn timestamp_from_parts(parts: &TimestampParts) -> Result<Timestamp, String> {
    check_date(&parts.date)?;
    let (h, m, s) = parts.hms;
    if h > 23 || m > 59 || s > 59 {
        return Err(format!("time {h:02}:{m:02}:{s:02} is out of range"));
    }
    if parts.offset_minutes.abs() > 23 * 60 + 59 {
        return Err("UTC offset is out of range".to_string());
    }
    let d = &parts.date;
    let days = days_from_civil(d.year, d.month.unwrap_or(1), d.day.unwrap_or(1));
    let secs = i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s) - i64::from(parts.offset_minutes) * 60;
    let micros = days * MICROS_PER_DAY + secs * 1_000_000 + i64::from(parts.micros);
    let ts = Timestamp { micros };
    let (year, ..) = civil_from_days(micros.div_euclid(MICROS_PER_DAY));
    if (0..=9999).contains(&year) {
        Ok(ts)
    } else {
        Err("timestamp is outside years 0000 to 9999 in UTC".to_string())
    }
}

/// Canonical text of a timestamp: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`.
pub(crate) fn format_timestamp(ts: Timestamp) -> String {
    let days = ts.micros.div_euclid(MICROS_PER_DAY);
    let rem = ts.micros.rem_euclid(MICROS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let secs = rem / 1_000_000;
    let frac = rem % 1_000_000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    if frac != 0 {
        out.push_str(&format!(".{frac:06}"));
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_counts_round_trip() {
        for days in [-719_528, -1, 0, 1, 11_016, 20_151, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y as i32, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn leap_years() {
        assert!(date::is_leap(2000) && date::is_leap(2024) && !date::is_leap(1900) && !date::is_leap(2025));
        let feb29 = DateLit { year: 2025, month: Some(2), day: Some(29) };
        assert!(check_date(&feb29).is_err());
    }

    #[test]
    fn timestamp_formats_canonically() {
        let parts = TimestampParts {
            date: DateLit { year: 2025, month: Some(3), day: Some(5) },
            hms: (14, 0, 0),
            micros: 500,
            offset_minutes: 120,
        };
        let ts = timestamp_from_parts(&parts).unwrap();
        assert_eq!(format_timestamp(ts), "2025-03-05T12:00:00.000500Z");
    }
}
