//! Calendar dates of year, month or day precision, valid-time intervals, and
//! UTC timestamps. Pure arithmetic: no clock, no I/O.
//!
//! Every date names a *period* (`2025` is the whole year). Internally a period is
//! a half-open range of day numbers (days since 1970-01-01), so overlap tests are
//! integer comparisons. Open ends use [`DAY_MIN`] / [`DAY_MAX`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Day number standing for an open start ("since forever").
pub const DAY_MIN: i32 = i32::MIN;
/// Day number standing for an open end ("until further notice"), exclusive.
pub const DAY_MAX: i32 = i32::MAX;

/// How much of a date is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    Year,
    Month,
    Day,
}

/// A calendar date of year, month or day precision, e.g. `2025`, `2025-03`,
/// `2025-03-04`. Ordering is by (year, month, day) with absent parts first,
/// so `2025 < 2025-01 < 2025-01-01`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i16,
    month: u8,
    day: u8,
}

/// Why a date or timestamp text was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{text}`: {why}")]
pub struct DateError {
    pub what: &'static str,
    pub text: String,
    pub why: String,
}

impl Date {
    /// Earliest and latest supported years.
    pub const MIN_YEAR: i32 = 1;
    pub const MAX_YEAR: i32 = 9999;

    /// A date; `month`/`day` of `None` lower the precision. Checks the calendar.
    pub fn new(year: i32, month: Option<u32>, day: Option<u32>) -> Result<Date, String> {
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) {
            return Err(format!("year must be within 0001..9999, got {year}"));
        }
        let month = match month {
            None if day.is_some() => return Err("a day needs a month".into()),
            None => 0,
            Some(m @ 1..=12) => m as u8,
            Some(m) => return Err(format!("month must be 01..12, got {m:02}")),
        };
        let day = match day {
            None => 0,
            Some(d) if d >= 1 && d <= days_in_month(year, month as u32) => d as u8,
            Some(d) => return Err(format!("day {d:02} does not exist in {year:04}-{month:02}")),
        };
        Ok(Date { year: year as i16, month, day })
    }

    /// A day-precision date.
    pub fn ymd(year: i32, month: u32, day: u32) -> Result<Date, String> {
        Date::new(year, Some(month), Some(day))
    }

    /// The day-precision date of a day number.
    pub fn from_day_number(days: i32) -> Date {
        let (y, m, d) = civil_from_days(days as i64);
        Date { year: y as i16, month: m as u8, day: d as u8 }
    }

    pub fn year(&self) -> i32 {
        self.year as i32
    }
    pub fn month(&self) -> Option<u32> {
        (self.month != 0).then_some(self.month as u32)
    }
    pub fn day(&self) -> Option<u32> {
        (self.day != 0).then_some(self.day as u32)
    }

    pub fn precision(&self) -> Precision {
        match (self.month, self.day) {
            (0, _) => Precision::Year,
            (_, 0) => Precision::Month,
            _ => Precision::Day,
        }
    }

    /// First day of the period this date names.
    pub fn first_day(&self) -> i32 {
        days_from_civil(self.year(), self.month().unwrap_or(1), self.day().unwrap_or(1)) as i32
    }

    /// Day after the last day of the period (exclusive end).
    pub fn end_day(&self) -> i32 {
        match self.precision() {
            Precision::Day => self.first_day() + 1,
            Precision::Month => self.first_day() + days_in_month(self.year(), self.month as u32) as i32,
            Precision::Year => days_from_civil(self.year() + 1, 1, 1) as i32,
        }
    }

    /// The date packed as `yyyymmdd` with zeros for absent parts (stable, ordered).
    pub fn packed(&self) -> i32 {
        self.year() * 10_000 + self.month as i32 * 100 + self.day as i32
    }

    /// Inverse of [`Date::packed`].
    pub fn from_packed(v: i32) -> Result<Date, String> {
        let (y, m, d) = (v / 10_000, (v / 100 % 100) as u32, (v % 100) as u32);
        Date::new(y, (m != 0).then_some(m), (d != 0).then_some(d))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Dates are written for every row that returns one (CONFLICTS writes
        // two per pair): digits by hand instead of three formatting calls.
        if (0..=9999).contains(&self.year) && self.month <= 12 && self.day <= 31 {
            let digit = |n: u32| b'0' + (n % 10) as u8;
            let y = self.year as u32;
            let mut out = [digit(y / 1000), digit(y / 100), digit(y / 10), digit(y), b'-', 0, 0, b'-', 0, 0];
            let len = match (self.month, self.day) {
                (0, _) => 4,
                (m, d) => {
                    out[5..7].copy_from_slice(&[digit(m as u32 / 10), digit(m as u32)]);
                    out[8..10].copy_from_slice(&[digit(d as u32 / 10), digit(d as u32)]);
                    if d == 0 { 7 } else { 10 }
                }
            };
            // The buffer holds ASCII digits and dashes only.
            return f.write_str(std::str::from_utf8(&out[..len]).map_err(|_| fmt::Error)?);
        }
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month() {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day() {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(text: &str) -> Result<Date, DateError> {
        let err = |why: String| DateError { what: "date", text: text.to_string(), why };
        let parts: Vec<&str> = text.split('-').collect();
        let widths = [4, 2, 2];
        if parts.is_empty() || parts.len() > 3 {
            return Err(err("expected YYYY, YYYY-MM or YYYY-MM-DD".into()));
        }
        let mut nums = [0u32; 3];
        for (i, part) in parts.iter().enumerate() {
            if part.len() != widths[i] || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("expected YYYY, YYYY-MM or YYYY-MM-DD".into()));
            }
            nums[i] = part.parse().map_err(|_| err("not a number".into()))?;
        }
        let month = (parts.len() > 1).then_some(nums[1]);
        let day = (parts.len() > 2).then_some(nums[2]);
        Date::new(nums[0] as i32, month, day).map_err(err)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() { s.collect_str(self) } else { s.serialize_i32(self.packed()) }
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            text.parse().map_err(serde::de::Error::custom)
        } else {
            Date::from_packed(i32::deserialize(d)?).map_err(serde::de::Error::custom)
        }
    }
}

/// The world time a claim is about, as written: either end may be open, each end
/// inclusive of the period it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct ValidTime {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl ValidTime {
    /// The whole period of one date (`valid: 2025-01`).
    pub fn during(date: Date) -> ValidTime {
        ValidTime { from: Some(date), to: Some(date) }
    }

    /// Half-open day range `[start, end)`; open ends are [`DAY_MIN`]/[`DAY_MAX`].
    pub fn days(&self) -> DayRange {
        DayRange {
            start: self.from.map_or(DAY_MIN, |d| d.first_day()),
            end: self.to.map_or(DAY_MAX, |d| d.end_day()),
        }
    }

    /// Checks `from <= to` (by the periods they name).
    pub fn check(&self) -> Result<(), String> {
        match (self.from, self.to) {
            (Some(f), Some(t)) if f.first_day() >= t.end_day() => {
                Err(format!("valid_from {f} is after valid_to {t}"))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for ValidTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.from, self.to) {
            (None, None) => write!(f, "always"),
            (Some(a), Some(b)) if a == b => write!(f, "{a}"),
            (a, b) => {
                let show = |d: Option<Date>| d.map_or(String::new(), |d| d.to_string());
                write!(f, "{}..{}", show(a), show(b))
            }
        }
    }
}

/// A half-open range of day numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DayRange {
    pub start: i32,
    pub end: i32,
}

impl DayRange {
    /// Every day.
    pub const ALL: DayRange = DayRange { start: DAY_MIN, end: DAY_MAX };

    /// The period one date names.
    pub fn of(date: Date) -> DayRange {
        DayRange { start: date.first_day(), end: date.end_day() }
    }

    pub fn overlaps(&self, other: &DayRange) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// The common part of two ranges, if any.
    pub fn intersect(&self, other: &DayRange) -> Option<DayRange> {
        let r = DayRange { start: self.start.max(other.start), end: self.end.min(other.end) };
        (r.start < r.end).then_some(r)
    }
}

impl fmt::Display for DayRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start != DAY_MIN {
            write!(f, "{}", Date::from_day_number(self.start))?;
        }
        f.write_str("..")?;
        if self.end != DAY_MAX {
            write!(f, "{}", Date::from_day_number(self.end - 1))?;
        }
        Ok(())
    }
}

/// A UTC instant in microseconds since the Unix epoch; written as RFC 3339 with `Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current time of the system clock.
    pub fn now() -> Timestamp {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp(d.as_micros().min(i64::MAX as u128) as i64)
    }

    pub fn micros(&self) -> i64 {
        self.0
    }

    /// The UTC calendar day of this instant.
    pub fn date(&self) -> Date {
        Date::from_day_number(self.0.div_euclid(MICROS_PER_DAY) as i32)
    }
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MICROS_PER_DAY);
        let in_day = self.0.rem_euclid(MICROS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let secs = in_day / 1_000_000;
        let micros = in_day % 1_000_000;
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)?;
        if micros != 0 {
            let frac = format!("{micros:06}");
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        write!(f, "Z")
    }
}

impl FromStr for Timestamp {
    type Err = DateError;
    /// RFC 3339: `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)`.
    fn from_str(text: &str) -> Result<Timestamp, DateError> {
        let err = |why: &str| DateError { what: "timestamp", text: text.to_string(), why: why.into() };
        let b = text.as_bytes();
        if b.len() < 20 || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') {
            return Err(err("expected YYYY-MM-DDTHH:MM:SSZ"));
        }
        let date: Date = text[..10].parse().map_err(|e: DateError| err(&e.why))?;
        if date.precision() != Precision::Day {
            return Err(err("expected YYYY-MM-DDTHH:MM:SSZ"));
        }
        let num = |r: std::ops::Range<usize>| -> Result<i64, DateError> {
            let s = text.get(r).ok_or_else(|| err("expected YYYY-MM-DDTHH:MM:SSZ"))?;
            if !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err("expected YYYY-MM-DDTHH:MM:SSZ"));
            }
            s.parse().map_err(|_| err("expected digits"))
        };
        if b[13] != b':' || b[16] != b':' {
            return Err(err("expected HH:MM:SS"));
        }
        let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if h > 23 || mi > 59 || s > 59 {
            return Err(err("time of day out of range"));
        }
        let mut rest = &text[19..];
        let mut micros = 0i64;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 || digits > 6 {
                return Err(err("fractional seconds must have 1 to 6 digits"));
            }
            micros = frac[..digits].parse::<i64>().map_err(|_| err("bad fraction"))?
                * 10i64.pow(6 - digits as u32);
            rest = &frac[digits..];
        }
        let offset_secs = match rest {
            "Z" | "z" => 0,
            _ if rest.len() == 6
                && (rest.starts_with('+') || rest.starts_with('-'))
                && &rest[3..4] == ":" =>
            {
                let oh: i64 = rest[1..3].parse().map_err(|_| err("bad offset"))?;
                let om: i64 = rest[4..6].parse().map_err(|_| err("bad offset"))?;
                let sign = if rest.starts_with('-') { -1 } else { 1 };
                sign * (oh * 3600 + om * 60)
            }
            _ => return Err(err("expected `Z` or an offset like +02:00 after the time")),
        };
        let day = date.first_day() as i64;
        let secs = day * 86_400 + h * 3600 + mi * 60 + s - offset_secs;
        Ok(Timestamp(secs * 1_000_000 + micros))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() { s.collect_str(self) } else { s.serialize_i64(self.0) }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        if d.is_human_readable() {
            String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
        } else {
            Ok(Timestamp(i64::deserialize(d)?))
        }
    }
}

pub(crate) fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y as i64 - 1 } else { y as i64 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y as i32, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn dates_write_back_as_they_were_written() {
        for year in ["0001", "0999", "1970", "2025", "9999"] {
            for text in
                [year.to_string(), format!("{year}-01"), format!("{year}-12-31"), format!("{year}-02-09")]
            {
                let d: Date = text.parse().unwrap();
                assert_eq!(d.to_string(), text);
                assert_eq!(format!("[{d}]"), format!("[{text}]"));
            }
        }
        assert_eq!(Date::from_day_number(0).to_string(), "1970-01-01");
    }

    #[test]
    fn parses_and_prints_each_precision() {
        for s in ["2025", "2025-03", "2025-03-04", "0001-01-01", "9999-12-31"] {
            assert_eq!(d(s).to_string(), s);
        }
        assert_eq!(d("2025").precision(), Precision::Year);
        assert_eq!(d("2025-02").precision(), Precision::Month);
        assert_eq!(d("2025-02-12").precision(), Precision::Day);
    }

    #[test]
    fn rejects_impossible_dates() {
        for s in ["2025-13", "2025-02-29", "2025-00", "25", "2025-1", "2025-01-01-01", "abcd", "0000", ""] {
            assert!(s.parse::<Date>().is_err(), "{s} should be rejected");
        }
        assert!("2024-02-29".parse::<Date>().is_ok());
        let e = "2025-02-30".parse::<Date>().unwrap_err();
        assert_eq!(e.to_string(), "invalid date `2025-02-30`: day 30 does not exist in 2025-02");
    }

    #[test]
    fn periods_are_inclusive_half_open_day_ranges() {
        assert_eq!(d("1970-01-01").first_day(), 0);
        assert_eq!(d("2025").end_day() - d("2025").first_day(), 365);
        assert_eq!(d("2024").end_day() - d("2024").first_day(), 366);
        assert_eq!(d("2024-02").end_day() - d("2024-02").first_day(), 29);
        assert_eq!(d("2025-02").end_day(), d("2025-03-01").first_day());
        assert_eq!(d("2025-12").end_day(), d("2026-01-01").first_day());
    }

    #[test]
    fn valid_time_covers_from_through_to() {
        let v = ValidTime { from: Some(d("2025-01")), to: Some(d("2025-03")) };
        let days = v.days();
        assert!(days.overlaps(&DayRange::of(d("2025-01-01"))));
        assert!(days.overlaps(&DayRange::of(d("2025-03-31"))));
        assert!(!days.overlaps(&DayRange::of(d("2025-04-01"))));
        assert!(!days.overlaps(&DayRange::of(d("2024-12-31"))));
        assert!(ValidTime::during(d("2025-01")).check().is_ok());
        let bad = ValidTime { from: Some(d("2025-03")), to: Some(d("2025-01")) };
        assert_eq!(bad.check().unwrap_err(), "valid_from 2025-03 is after valid_to 2025-01");
        // The same period at both ends is fine; a later day inside it is not.
        assert!(ValidTime { from: Some(d("2025")), to: Some(d("2025-01-01")) }.check().is_ok());
    }

    #[test]
    fn open_ends_are_unbounded() {
        let open = ValidTime { from: Some(d("2022")), to: None }.days();
        assert!(open.overlaps(&DayRange::of(d("9999"))));
        assert!(!open.overlaps(&DayRange::of(d("2021-12-31"))));
        let always = ValidTime::default().days();
        assert_eq!(always, DayRange::ALL);
        assert!(always.overlaps(&DayRange::of(d("0001"))));
        let a = DayRange::of(d("2025-01"));
        let b = DayRange::of(d("2025"));
        assert_eq!(a.intersect(&b), Some(a));
        assert_eq!(a.intersect(&DayRange::of(d("2025-02"))), None);
        assert_eq!(ValidTime { from: Some(d("2022")), to: None }.to_string(), "2022..");
    }

    #[test]
    fn day_numbers_round_trip() {
        for z in [-719_162, -1, 0, 1, 10_000, 20_000, 2_932_896] {
            let date = Date::from_day_number(z);
            assert_eq!(date.first_day(), z, "{date}");
        }
    }

    #[test]
    fn ordering_and_packing() {
        assert!(d("2025") < d("2025-01"));
        assert!(d("2025-01") < d("2025-01-01"));
        assert!(d("2024-12-31") < d("2025"));
        for s in ["2025", "2025-03", "2025-03-04"] {
            assert_eq!(Date::from_packed(d(s).packed()).unwrap(), d(s));
        }
    }

    #[test]
    fn timestamps_round_trip_rfc3339() {
        for s in [
            "2025-03-04T09:00:00Z",
            "1970-01-01T00:00:00Z",
            "2025-03-05T12:00:00.5Z",
            "1969-12-31T23:59:59.000001Z",
        ] {
            let t: Timestamp = s.parse().unwrap();
            assert_eq!(t.to_string(), s);
        }
        let t: Timestamp = "2025-03-05T14:00:00+02:00".parse().unwrap();
        assert_eq!(t.to_string(), "2025-03-05T12:00:00Z");
        assert_eq!(t.date(), d("2025-03-05"));
        for bad in
            ["2025-03-05", "2025-03-05T25:00:00Z", "2025-03-05T12:00:00", "2025-03-05T12:00:00.1234567Z"]
        {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad}");
        }
    }
}
