//! One large sales CSV for benchmarks, streamed in constant memory.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use chrono::{Days, Months, NaiveDate};
use rand::Rng;

use crate::firm::{rng_for, Firm, Stream};
use crate::output::{atomic_write, SalesWriter};
use crate::sales::{draw_refund, draw_row, REFUND_RATE};
use crate::season;
use crate::vocab::{Category, Channel};

/// Number of virtual firms whose rows the big file mixes.
const FIRMS: usize = 40;
/// Length of the big file's period.
const YEARS: u32 = 10;

/// Picks an index with probability proportional to `weights` (all non-negative, sum > 0).
fn weighted<R: Rng + ?Sized>(rng: &mut R, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random_range(0.0..total);
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}

/// Writes exactly `rows` data rows of `sales.csv` format to `path`, dates spread evenly over
/// ten years from `start`, every row with a unique receipt id.
pub(crate) fn write_big_sales(
    rows: u64,
    seed: u64,
    start: NaiveDate,
    path: &Path,
) -> anyhow::Result<()> {
    let end = start
        .checked_add_months(Months::new(12 * YEARS))
        .context("period ends beyond the supported calendar")?;
    // Days on which bakeries open at all (a few thousand dates: constant in `rows`).
    let mut days = Vec::new();
    let mut d = start;
    while d < end {
        if !season::closed(d, false, false) {
            days.push(d);
        }
        d = d + Days::new(1);
    }
    let firms: Vec<Firm> = (1..=FIRMS)
        .map(|k| Firm::new(seed, k, start, Stream::BigProfile))
        .collect();
    let mut rng = rng_for(seed, 0, Stream::BigRows);

    atomic_write(path, |out| {
        let mut w = SalesWriter::new(out)?;
        let mut receipt = String::new();
        // Expected revenue per firm × channel × category, recomputed when the date changes.
        let mut table = vec![[[0.0f64; 6]; 3]; FIRMS];
        let mut table_date = None;
        for i in 0..rows {
            let date = days[(u128::from(i) * days.len() as u128 / u128::from(rows)) as usize];
            if table_date != Some(date) {
                table_date = Some(date);
                for (firm, t) in firms.iter().zip(table.iter_mut()) {
                    for ch in Channel::ALL {
                        for c in Category::ALL {
                            t[ch.idx()][c.idx()] = firm.expected(date, ch, c);
                        }
                    }
                }
            }
            // A firm open that day (fall back to any firm if none is found quickly).
            let mut k = rng.random_range(0..FIRMS);
            for _ in 0..64 {
                if !firms[k].closed(date) {
                    break;
                }
                k = rng.random_range(0..FIRMS);
            }
            let (firm, expected) = (&firms[k], &table[k]);
            let ch_weights = expected.map(|cats| cats.iter().sum::<f64>());
            let channel = Channel::ALL[weighted(&mut rng, &ch_weights)];
            let cat_weights = &expected[channel.idx()];
            let category = Category::ALL[weighted(&mut rng, cat_weights)];
            let expected = cat_weights[category.idx()];
            let mut row = draw_row(firm, &mut rng, date, channel, category, expected, false)
                .expect("positive expected revenue gives a row");
            if rng.random_bool(REFUND_RATE) {
                row = draw_refund(firm, &mut rng, &row);
            }
            receipt.clear();
            let _ = write!(receipt, "R-{:010}", i + 1);
            w.write(&row, &receipt)?;
        }
        w.finish()
    })
    .with_context(|| format!("writing {}", path.display()))
}
