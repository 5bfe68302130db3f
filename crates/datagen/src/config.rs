//! Run settings of [`crate::generate`].

use anyhow::{bail, Context};
use chrono::{Datelike, Months, NaiveDate};

/// Settings of one [`crate::generate`] run: how many members, which months, which seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenConfig {
    /// Number of member firms to write (`member-01` … `member-NN`).
    pub members: usize,
    /// Length of the period in calendar months.
    pub months: u32,
    /// First day of the first month of the period.
    pub start: NaiveDate,
    /// Seed of every random draw; the same seed gives byte-identical files.
    pub seed: u64,
}

impl Default for GenConfig {
    /// 30 members, 12 months from 2025-01-01, seed 1.
    fn default() -> Self {
        GenConfig {
            members: 30,
            months: 12,
            start: NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date"),
            seed: 1,
        }
    }
}

impl GenConfig {
    /// Checks the settings and returns the first day after the period.
    pub(crate) fn validate(&self) -> anyhow::Result<NaiveDate> {
        if self.members == 0 {
            bail!("members must be at least 1");
        }
        if self.months == 0 || self.months > 1200 {
            bail!("months must be between 1 and 1200, got {}", self.months);
        }
        if self.start.day() != 1 {
            bail!("start must be the first day of a month, got {}", self.start);
        }
        self.start
            .checked_add_months(Months::new(self.months))
            .context("period ends beyond the supported calendar")
    }
}

/// Index of the month of `d` counted from the month of `start` (0-based).
pub(crate) fn month_index(start: NaiveDate, d: NaiveDate) -> usize {
    let m = (d.year() - start.year()) * 12 + d.month() as i32 - start.month() as i32;
    usize::try_from(m).expect("date not before start")
}
