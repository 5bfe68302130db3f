//! Calendar dates as ISO `YYYY-MM-DD` strings in documents (chrono's
//! `NaiveDate` underneath; serialised by hand so the documents do not depend
//! on chrono's serde feature).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A calendar date, written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

impl Date {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Self, String> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Date)
            .map_err(|_| format!("'{s}' is not a date (expected YYYY-MM-DD)"))
    }

    /// The date `days` days later (negative: earlier).
    pub fn plus_days(self, days: i64) -> Self {
        Date(self.0 + chrono::Duration::days(days))
    }

    /// Whole days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        (later.0 - self.0).num_days()
    }

    /// True on the first day of a month.
    pub fn is_month_start(self) -> bool {
        self.0.day() == 1
    }

    /// True on the last day of a month.
    pub fn is_month_end(self) -> bool {
        self.plus_days(1).0.day() == 1
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The month labels `YYYY-MM` from `start`'s month to `end`'s month inclusive.
pub fn months_between(start: Date, end: Date) -> Vec<String> {
    let mut out = Vec::new();
    let (mut y, mut m) = (start.0.year(), start.0.month());
    let (ey, em) = (end.0.year(), end.0.month());
    while (y, m) <= (ey, em) {
        out.push(format!("{y:04}-{m:02}"));
        if m == 12 {
            y += 1;
            m = 1;
        } else {
            m += 1;
        }
    }
    out
}

/// The month label `YYYY-MM` that lies `back` months before `label` (also
/// `YYYY-MM`); `None` if `label` is not one.
pub fn month_minus(label: &str, back: u32) -> Option<String> {
    let (y, m) = label.split_once('-')?;
    let (y, m): (i64, i64) = (y.parse().ok()?, m.parse().ok()?);
    if !(1..=12).contains(&m) || label.len() != 7 {
        return None;
    }
    let idx = y * 12 + (m - 1) - i64::from(back);
    Some(format!(
        "{:04}-{:02}",
        idx.div_euclid(12),
        idx.rem_euclid(12) + 1
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_cross_a_year_boundary() {
        let m = months_between(
            Date::parse("2024-11-01").unwrap(),
            Date::parse("2025-02-28").unwrap(),
        );
        assert_eq!(m, ["2024-11", "2024-12", "2025-01", "2025-02"]);
    }

    #[test]
    fn months_go_back_across_years() {
        assert_eq!(month_minus("2025-10", 3).as_deref(), Some("2025-07"));
        assert_eq!(month_minus("2025-02", 3).as_deref(), Some("2024-11"));
        assert_eq!(month_minus("2025-12", 12).as_deref(), Some("2024-12"));
        assert_eq!(month_minus("2025-13", 1), None);
    }

    #[test]
    fn month_ends_are_recognised() {
        assert!(Date::parse("2024-02-29").unwrap().is_month_end());
        assert!(!Date::parse("2025-02-27").unwrap().is_month_end());
        assert!(Date::parse("2025-03-01").unwrap().is_month_start());
        assert!(Date::parse("2025-13-01").is_err());
    }
}
