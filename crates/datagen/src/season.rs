//! Calendar effects: seasonality, weekdays, Easter, Christmas, closing days.

use chrono::{Datelike, NaiveDate, Weekday};

use crate::vocab::{Category, Channel};

/// Overall demand by calendar month (January first): December peak, August dip.
const MONTH: [f64; 12] = [
    0.92, 0.90, 0.97, 1.02, 1.00, 0.97, 0.93, 0.76, 0.99, 1.01, 1.05, 1.22,
];

/// Demand by weekday (Monday first) for each channel.
const WEEKDAY: [[f64; 7]; 3] = [
    // store: busy Friday and Saturday, Sunday morning rush when open
    [0.85, 0.90, 0.92, 0.95, 1.10, 1.40, 1.15],
    // online: pre-orders picked up towards the weekend
    [1.00, 1.00, 1.00, 1.00, 1.10, 1.20, 0.80],
    // wholesale: deliveries to cafés and restaurants, none on Sunday
    [1.00, 1.00, 1.00, 1.00, 1.05, 0.60, 0.00],
];

/// Easter Sunday of `year` (Gregorian calendar, anonymous algorithm).
pub(crate) fn easter(year: i32) -> NaiveDate {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a valid date")
}

/// Days from Easter Sunday (−3 = Maundy Thursday … +1 = Easter Monday), if within that window.
fn easter_offset(d: NaiveDate) -> Option<i64> {
    let off = (d - easter(d.year())).num_days();
    (-3..=1).contains(&off).then_some(off)
}

/// Whether the whole bakery is closed on `d` (Christmas Day, New Year's Day, rest days).
pub(crate) fn closed(d: NaiveDate, sunday_closed: bool, monday_closed: bool) -> bool {
    matches!((d.month(), d.day()), (12, 25) | (1, 1))
        || (sunday_closed && d.weekday() == Weekday::Sun)
        || (monday_closed && d.weekday() == Weekday::Mon)
}

/// Relative demand of channel `ch` on an open day `d` (month × weekday × holidays).
pub(crate) fn day_factor(d: NaiveDate, ch: Channel) -> f64 {
    let mut f =
        MONTH[d.month0() as usize] * WEEKDAY[ch.idx()][d.weekday().num_days_from_monday() as usize];
    if ch != Channel::Wholesale {
        f *= match (d.month(), d.day()) {
            (12, 23) => 1.3,
            (12, 24) => 1.7,
            (12, 31) => 1.4,
            (12, 26) => 0.8,
            _ => 1.0,
        };
        f *= match easter_offset(d) {
            Some(-3) => 1.3,
            Some(-2) => 1.1,
            Some(-1) => 1.6,
            Some(0) => 1.2,
            Some(_) => 0.9,
            None => 1.0,
        };
    }
    f
}

/// Extra demand for one category on `d` on top of [`day_factor`].
pub(crate) fn category_factor(d: NaiveDate, cat: Category) -> f64 {
    let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    let easter_days = matches!(easter_offset(d), Some(-3..=0));
    let m = d.month();
    match cat {
        Category::Bread => {
            if d.weekday() == Weekday::Sat {
                1.1
            } else {
                1.0
            }
        }
        Category::Pastry => {
            let mut f = if m == 12 { 1.2 } else { 1.0 };
            if easter_days {
                f *= 1.3;
            }
            f
        }
        Category::Cakes => {
            let mut f = match m {
                12 => 1.5,
                11 => 1.1,
                7 | 8 => 0.85,
                _ => 1.0,
            };
            if weekend {
                f *= 1.3;
            }
            if easter_days {
                f *= 1.6;
            }
            f
        }
        Category::Savoury => {
            if weekend {
                0.85
            } else {
                1.1
            }
        }
        Category::Drinks => match m {
            6..=8 => 1.25,
            12 | 1 | 2 => 1.1,
            _ => 1.0,
        },
        Category::Other => match m {
            12 => 1.6,
            _ => 1.0,
        },
    }
}

/// Relative energy bill by calendar month (ovens all year, heating in winter).
pub(crate) const ENERGY_MONTH: [f64; 12] = [
    1.25, 1.20, 1.10, 0.95, 0.90, 0.85, 0.85, 0.85, 0.90, 1.00, 1.10, 1.20,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_dates() {
        let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(easter(2024), ymd(2024, 3, 31));
        assert_eq!(easter(2025), ymd(2025, 4, 20));
        assert_eq!(easter(2026), ymd(2026, 4, 5));
        assert_eq!(easter(2019), ymd(2019, 4, 21));
        assert_eq!(easter(2000), ymd(2000, 4, 23));
    }
}
