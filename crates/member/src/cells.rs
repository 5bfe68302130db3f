//! From the aggregated figures to each metric's clipped fixed-point vector
//! and its noise parameters: the exact vector `export` noises and `plan`
//! reports clipping for. Nothing here is printed or written.

use crate::aggregate::SourceAgg;
use coopbench_privacy::plan::{cell_bounds, unit};
use coopbench_privacy::{clip, fixed};
use coopbench_protocol::date::month_minus;
use coopbench_protocol::round::{cell_count, Filter, Kind, Metric, SourceKind, Term};
use coopbench_protocol::{Dimension, Round};
use std::collections::HashMap;

/// The member's figures per file.
pub type Aggregates = HashMap<SourceKind, SourceAgg>;

/// One metric ready to noise.
#[derive(Debug)]
pub struct PreparedMetric {
    /// The round metric's name.
    pub name: String,
    /// Its cell grid.
    pub grid: Vec<Dimension>,
    /// Clipped fixed-point values (SECRET: the member's own figures).
    pub clipped: Vec<i64>,
    /// How much clipping changed (local diagnostics only).
    pub clip_stats: clip::ClipStats,
    /// Public noise parameters.
    pub params: NoisePlan,
    /// The figures before fixed point and clipping (SECRET; `compare` reads
    /// the members' own ratios from here).
    pub raw: RawFigures,
}

pub use coopbench_privacy::plan::{noise_plans, NoisePlan};

/// Row-major index of a cell from its labels, one per grid dimension.
fn cell_index(grid: &[Dimension], labels: &[&str]) -> Option<usize> {
    let mut idx = 0;
    for (d, l) in grid.iter().zip(labels) {
        let p = d.labels.iter().position(|x| x == l)?;
        idx = idx * d.labels.len() + p;
    }
    Some(idx)
}

fn passes(agg: &SourceAgg, key: &[String], filters: &[Filter]) -> bool {
    filters.iter().all(|f| {
        agg.key_index(&f.field)
            .is_some_and(|i| f.values.iter().any(|v| *v == key[i]))
    })
}

/// The labels of a group for `dims` (month from the group's month).
fn dim_labels<'a>(
    agg: &'a SourceAgg,
    dims: &[String],
    month: &'a str,
    key: &'a [String],
) -> Option<Vec<&'a str>> {
    dims.iter()
        .map(|d| {
            if d == "month" {
                Some(month)
            } else {
                agg.key_index(d).map(|i| key[i].as_str())
            }
        })
        .collect()
}

/// Σ of one term per group of `dims`. A term with `months_back` reads the
/// period that many months earlier and counts each month in the period's
/// month it is compared with.
fn term_sums(
    round: &Round,
    agg: &SourceAgg,
    term: &Term,
    group_grid: &[Dimension],
    dims: &[String],
    out: &mut [f64],
) {
    let sign = if term.negate { -1.0 } else { 1.0 };
    let measure = term.measure.as_deref().and_then(|m| agg.measure_index(m));
    // Month read → the period's month it stands for.
    let months: HashMap<String, String> = round
        .months()
        .into_iter()
        .filter_map(|m| month_minus(&m, term.months_back).map(|read| (read, m)))
        .collect();
    for ((month, key), (sums, count)) in &agg.groups {
        if !passes(agg, key, &term.filter) {
            continue;
        }
        let Some(month) = months.get(month) else {
            continue;
        };
        let Some(labels) = dim_labels(agg, dims, month, key) else {
            continue;
        };
        let Some(i) = cell_index(group_grid, &labels) else {
            continue;
        };
        out[i] += sign * measure.map_or(*count as f64, |j| sums[j]);
    }
}

/// The member's own figures of one metric before fixed-point conversion,
/// clipping and noise (SECRET: never printed or written, except in the local
/// `compare` report the member asks for).
#[derive(Debug, Clone, PartialEq)]
pub enum RawFigures {
    /// `sum`, `count`, `active`: one value per cell of the metric's grid
    /// (row-major), in the measure's units; `active` cells hold the row count.
    Cells(Vec<f64>),
    /// `ratio`: one ratio per cell group (the grid without its `bin`
    /// dimension), `None` where the denominator is not positive.
    Ratios(Vec<Option<f64>>),
}

/// Computes one metric's figures from the member's aggregates: the step
/// `prepare` (and so `export`) and `compare` share.
pub fn raw_figures(round: &Round, m: &Metric, aggs: &Aggregates) -> Result<RawFigures, String> {
    let empty = SourceAgg::default();
    let grid = round.grid(m);
    match m.kind {
        Kind::Ratio => {
            let group_grid = &grid[..grid.len().saturating_sub(1)];
            let groups = cell_count(group_grid);
            let mut num = vec![0.0; groups];
            let mut den = vec![0.0; groups];
            for t in &m.numerator {
                term_sums(
                    round,
                    aggs.get(&t.source).unwrap_or(&empty),
                    t,
                    group_grid,
                    &m.dims,
                    &mut num,
                );
            }
            for t in &m.denominator {
                term_sums(
                    round,
                    aggs.get(&t.source).unwrap_or(&empty),
                    t,
                    group_grid,
                    &m.dims,
                    &mut den,
                );
            }
            Ok(RawFigures::Ratios(
                num.iter()
                    .zip(&den)
                    .map(|(n, d)| (*d > 0.0).then(|| n / d))
                    .collect(),
            ))
        }
        _ => {
            let source = m
                .source
                .ok_or_else(|| format!("metric '{}' has no source", m.name))?;
            let agg = aggs.get(&source).unwrap_or(&empty);
            let term = Term {
                source,
                measure: m.measure.clone(),
                filter: m.filter.clone(),
                negate: false,
                months_back: 0,
            };
            let mut cells = vec![0.0; cell_count(&grid)];
            term_sums(round, agg, &term, &grid, &m.dims, &mut cells);
            Ok(RawFigures::Cells(cells))
        }
    }
}

/// How many of the member's rows in the round's period feed a `sum`,
/// `count` or `active` metric (after its filter), or, for a `ratio`, its
/// denominator. A count of rows, not a figure: safe to print to the member.
pub fn rows_behind(round: &Round, m: &Metric, aggs: &Aggregates) -> u64 {
    let empty = SourceAgg::default();
    let grid = round.grid(m);
    let (terms, grid): (Vec<Term>, &[Dimension]) = match m.kind {
        Kind::Ratio => (m.denominator.clone(), &grid[..grid.len().saturating_sub(1)]),
        _ => match m.source {
            Some(source) => (
                vec![Term {
                    source,
                    measure: None,
                    filter: m.filter.clone(),
                    negate: false,
                    months_back: 0,
                }],
                &grid[..],
            ),
            None => (Vec::new(), &grid[..]),
        },
    };
    let mut rows = vec![0.0; cell_count(grid)];
    for t in terms {
        let counting = Term {
            measure: None,
            negate: false,
            ..t
        };
        let agg = aggs.get(&counting.source).unwrap_or(&empty);
        term_sums(round, agg, &counting, grid, &m.dims, &mut rows);
    }
    rows.iter().sum::<f64>() as u64
}

/// Computes, clips and parameterises every metric of the round.
pub fn prepare(round: &Round, aggs: &Aggregates) -> Result<Vec<PreparedMetric>, String> {
    let plans = noise_plans(round)?;
    round
        .metrics
        .iter()
        .zip(plans)
        .map(|(m, params)| {
            let grid = round.grid(m);
            let figures = raw_figures(round, m, aggs)?;
            let raw: Vec<i64> = match &figures {
                RawFigures::Ratios(ratios) => {
                    let bins = m
                        .bins
                        .ok_or_else(|| format!("metric '{}' has no bins", m.name))?;
                    ratios
                        .iter()
                        .flat_map(|r| {
                            clip::one_hot_bin(*r, bins.lo, bins.hi, bins.count as usize)
                                .into_iter()
                                .map(|b| b * unit(m))
                        })
                        .collect()
                }
                RawFigures::Cells(cells) => cells
                    .iter()
                    .map(|v| fixed_cell(m.kind, *v, m))
                    .collect::<Result<Vec<i64>, String>>()?,
            };
            let b = vec![cell_bounds(m)?; params.cells];
            let clipped = clip::clip_cells(&raw, &b);
            Ok(PreparedMetric {
                name: m.name.clone(),
                grid,
                clipped: clipped.values,
                clip_stats: clipped.stats,
                params,
                raw: figures,
            })
        })
        .collect()
}

/// One cell's fixed-point value before clipping: 0 or [`unit`] for `active`; else the
/// scaled sum, saturated at ±2^61 (far outside any clip bound) so that no
/// figure can overflow. An infinite sum (`INF` amounts, which Table Schema
/// and so validate allow, or finite amounts whose sum passes the range of
/// f64) saturates the same way, so export agrees with validate. A NaN sum
/// (a `NaN` amount, or `INF` and `-INF` in one cell) has no value to clip
/// and is refused without showing it.
fn fixed_cell(kind: Kind, v: f64, m: &Metric) -> Result<i64, String> {
    if kind == Kind::Active {
        return Ok(i64::from(v > 0.0) * unit(m));
    }
    if v.is_nan() {
        return Err(format!(
            "metric '{}': a cell's sum is not a number (the file has a NaN amount, or both INF and -INF, in the period); fix those rows",
            m.name
        ));
    }
    let limit = (1i64 << 61) as f64;
    fixed::to_fixed((v * m.scale).clamp(-limit, limit), 1.0)
        .map_err(|e| format!("metric '{}': {e}", m.name))
}
