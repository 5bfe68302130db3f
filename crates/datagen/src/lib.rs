//! Seeded generator of realistic example data for coopbench: one `sales.csv` and one
//! `costs.csv` per member bakery (or one large sales file for benchmarks), byte-identical
//! for a given seed.
//!
//! Firms differ in size (log-normal annual revenue, median 400k EUR), category and channel
//! mix, opening days and cost structure; demand follows the seasons (December peak, August
//! dip, Easter), the weekdays and the Christmas days. Firm `k` draws from its own random
//! streams derived from `(seed, k)`, so its files do not change when more members are added.

mod big;
pub mod cli;
mod config;
mod costs;
mod firm;
mod output;
mod sales;
mod season;
mod vocab;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;

pub use config::GenConfig;
pub use vocab::{CATEGORIES, CHANNELS, COSTS_HEADER, COST_TYPES, CURRENCY, SALES_HEADER};

use firm::{rng_for, Firm, Stream};
use output::{atomic_write, SalesWriter};
use rand::Rng;

/// What [`generate_members`] wrote for one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSummary {
    /// The member's directory (`<out>/member-NN`), holding `sales.csv` and `costs.csv`.
    pub dir: PathBuf,
    /// Data rows written to `sales.csv` (header excluded).
    pub sales_rows: usize,
    /// Data rows written to `costs.csv` (header excluded).
    pub cost_rows: usize,
    /// Net sales per month of the period, in euro cents (refunds included).
    pub monthly_net_sales_cents: Vec<i64>,
    /// Total costs over the period, in euro cents.
    pub total_costs_cents: i64,
}

impl MemberSummary {
    /// Net sales over the whole period, in euro cents.
    pub fn net_sales_cents(&self) -> i64 {
        self.monthly_net_sales_cents.iter().sum()
    }
}

/// The cost ratios a generated firm is drawn with (its monthly files carry
/// them with a little month-to-month noise): the "true" KPIs of the example
/// members, for simulations of the published percentiles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FirmKpis {
    /// 1 − cost of goods / net sales.
    pub gross_margin: f64,
    /// Rent / net sales over the firm's first year.
    pub rent_share: f64,
    /// Wages / net sales.
    pub wage_share: f64,
}

/// The KPIs of firms 1 ..= `members` for `seed`, as [`generate_members`]
/// draws them (with `start` as its first month).
pub fn firm_kpis(seed: u64, members: usize, start: NaiveDate) -> Vec<FirmKpis> {
    (1..=members)
        .map(|k| {
            let f = Firm::new(seed, k, start, Stream::Profile);
            FirmKpis {
                gross_margin: 1.0 - f.cogs_share,
                rent_share: f.rent_cents as f64 / 100.0 * 12.0 / f.annual_revenue,
                wage_share: f.wage_share,
            }
        })
        .collect()
}

/// Writes `out/member-01/{sales.csv,costs.csv}` … `out/member-NN/…`; returns the member
/// directories in order.
pub fn generate(cfg: &GenConfig, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    Ok(generate_members(cfg, out)?
        .into_iter()
        .map(|m| m.dir)
        .collect())
}

/// Like [`generate`], but returns row counts and totals of every member written.
pub fn generate_members(cfg: &GenConfig, out: &Path) -> anyhow::Result<Vec<MemberSummary>> {
    let end = cfg.validate()?;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let width = cfg.members.to_string().len().max(2);
    let mut summaries = Vec::with_capacity(cfg.members);
    for k in 1..=cfg.members {
        let dir = out.join(format!("member-{k:0width$}"));
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let firm = Firm::new(cfg.seed, k, cfg.start, Stream::Profile);

        let mut rng = rng_for(cfg.seed, k as u64, Stream::Sales);
        let rows = sales::firm_sales(&firm, &mut rng, cfg.start, end);
        let mut monthly = vec![0i64; cfg.months as usize];
        for row in &rows {
            monthly[config::month_index(cfg.start, row.date)] += row.net_cents;
        }
        atomic_write(&dir.join("sales.csv"), |out| {
            let mut w = SalesWriter::new(out)?;
            let mut receipt = String::new();
            let mut n = 0u32;
            for row in &rows {
                receipt.clear();
                if !rng.random_bool(sales::EMPTY_RECEIPT_RATE) {
                    n += 1;
                    receipt = format!("R-{k:02}-{n:06}");
                }
                w.write(row, &receipt)?;
            }
            w.finish()
        })?;

        let mut rng = rng_for(cfg.seed, k as u64, Stream::Costs);
        let cost_rows = costs::firm_costs(&firm, &mut rng, cfg.start, &monthly);
        atomic_write(&dir.join("costs.csv"), |out| {
            output::write_costs(out, &cost_rows)
        })?;

        summaries.push(MemberSummary {
            dir,
            sales_rows: rows.len(),
            cost_rows: cost_rows.len(),
            monthly_net_sales_cents: monthly,
            total_costs_cents: cost_rows.iter().map(|r| r.amount_cents).sum(),
        });
    }
    Ok(summaries)
}

/// Writes one large sales CSV of exactly `rows` data rows (for benchmarks), streaming
/// through a `BufWriter` in constant memory: same columns and value distributions as a
/// member's `sales.csv`, dates spread over ten years from `start`, a unique receipt id on
/// every row.
pub fn write_big_sales(rows: u64, seed: u64, start: NaiveDate, path: &Path) -> anyhow::Result<()> {
    big::write_big_sales(rows, seed, start, path)
}
