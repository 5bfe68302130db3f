//! The comparison `coopbench compare` shows: the member's own figures (as
//! export computes them before noise) set against one published round.
//!
//! Definitions (also in docs/member.md):
//! - **share** of a total cell = your clipped figure / the published
//!   estimate. Its **range** uses the 95 % interval of the market total,
//!   narrowed by what you know for sure: the market holds at least your own
//!   figure (clip bounds ≥ 0), so the range is
//!   `[yours / ci95_high, yours / max(ci95_low, yours)]`, at most 100 %.
//! - **growth** is month over month, per cell: yours, `(y_t − y_{t−1}) / y_{t−1}`;
//!   the market's, from the estimates, with a range from both months'
//!   intervals, `[max(lo_t, 0) / hi_{t−1} − 1, hi_t / lo_{t−1} − 1]`.
//! - **verdicts**: every published figure carries the verdict the
//!   aggregator wrote next to it (readable, rough, too noisy, suppressed;
//!   the rule is `coopbench_privacy::accuracy`). A figure too noisy to read
//!   is never shown as a number (its value is left out here, in the text,
//!   the HTML and the JSON); a rough one is marked rough; a growth is shown
//!   only when both months are readable.
//! - **position** of a ratio: where your value falls among p10 … p90, which
//!   are only known to within one bin width.

pub(crate) mod charts;
pub(crate) mod html;
pub(crate) mod text;

use crate::cells::{PreparedMetric, RawFigures};
use coopbench_benchmark::manifest::PublishedRound;
use coopbench_benchmark::table::{Row as TableRow, Table};
use coopbench_privacy::accuracy::Verdict;
use coopbench_protocol::round::{Kind, Metric};
use coopbench_protocol::Round;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A published row's verdicts as `compare` reads them (the format keeps the
/// words; what they mean is `privacy::accuracy`'s).
trait RowVerdicts {
    /// The verdict of figure column `figure` (`estimate`, `p50`, `mean`, …):
    /// suppressed for a suppressed row, too noisy when the table has no
    /// verdict for it (a figure that cannot be judged is not shown as data).
    fn verdict(&self, figure: &str) -> Verdict;
    /// The figure if its verdict lets it be shown (readable or rough).
    fn shown(&self, figure: &str) -> Option<f64>;
}

impl RowVerdicts for TableRow {
    fn verdict(&self, figure: &str) -> Verdict {
        let word = self
            .verdicts
            .get(&coopbench_privacy::accuracy::verdict_column(figure))
            .and_then(|v| v.as_deref());
        coopbench_privacy::accuracy::published_verdict(self.suppressed, word)
    }

    fn shown(&self, figure: &str) -> Option<f64> {
        self.get(figure)
            .filter(|_| self.verdict(figure).shows_figure())
    }
}

/// The two-sided 95 % normal quantile (as the aggregator's intervals use).
pub use coopbench_privacy::accuracy::Z_95;

/// What the report says first: it holds the member's own figures.
pub const PRIVATE_NOTE: &str = "This report contains your own figures. It was made on your machine, \
spent no privacy budget and sent nothing: keep it to yourself (and your accountant) and do not send it to the association.";

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The report's warning: the member's own figures are in it.
    pub private_note: String,
    /// The published round compared with.
    pub round: RoundInfo,
    /// Totals (sum and count metrics): shares and growth.
    pub totals: Vec<TotalMetric>,
    /// Ratios: positions among the percentiles.
    pub ratios: Vec<RatioMetric>,
    /// Things to know about the member's files (months without rows, …).
    pub notes: Vec<String>,
}

/// The round's public facts.
#[derive(Debug, Clone, Serialize)]
pub struct RoundInfo {
    /// Round id.
    pub id: String,
    /// Pool id.
    pub pool_id: String,
    /// The round's purpose.
    pub purpose: String,
    /// First day of the period.
    pub period_start: String,
    /// Last day of the period.
    pub period_end: String,
    /// `local` or `two-server`.
    pub mode: String,
    /// Currency of money figures.
    pub currency: String,
    /// Fewest noisy active members for a published cell.
    pub min_members: u32,
    /// Contributions merged (when the manifest says).
    pub contributions: Option<u64>,
    /// When the benchmark was merged.
    pub merged_at: String,
}

/// Published, suppressed, or too noisy to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Figures published and readable (or rough).
    Published,
    /// Fewer than `min_members` (noisy) members: nothing published.
    Suppressed,
    /// Published, but every figure is too noisy to read: none is shown.
    TooNoisy,
}

/// One total metric (sum or count).
#[derive(Debug, Clone, Serialize)]
pub struct TotalMetric {
    /// Metric (table) name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Unit of the figures (the currency, `rows`).
    pub unit: String,
    /// Dimension names, the order of every cell's `labels`.
    pub dims: Vec<String>,
    /// The per-cell clip bound above which your figure is not counted.
    pub clip_hi: Option<f64>,
    /// One entry per cell, grid order.
    pub cells: Vec<TotalCell>,
}

/// The published market figures of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Market {
    /// The noisy total.
    pub estimate: f64,
    /// Its noise sd.
    pub noise_sd: f64,
    /// 95 % interval, low end.
    pub ci95_low: f64,
    /// 95 % interval, high end.
    pub ci95_high: f64,
    /// Noisy number of active members (when the round has an active metric).
    pub members_noisy: Option<f64>,
    /// The estimate's verdict (readable or rough: nothing else is shown).
    pub verdict: Verdict,
}

/// A share (fractions, 0.25 = 25 %).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Share {
    /// Your figure / the estimate.
    pub value: f64,
    /// Lowest share the interval allows.
    pub low: f64,
    /// Highest share the interval allows (at most 1).
    pub high: f64,
}

/// Month-over-month growth (fractions, 0.1 = +10 %).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Growth {
    /// The month compared with.
    pub from: String,
    /// Your growth (None: nothing the month before).
    pub yours: Option<f64>,
    /// The market's growth from the estimates (None: a month not published).
    pub market: Option<f64>,
    /// Lowest market growth both intervals allow.
    pub market_low: Option<f64>,
    /// Highest market growth both intervals allow (None: unbounded).
    pub market_high: Option<f64>,
    /// Either month too noisy or not published.
    pub too_noisy: bool,
}

/// One cell of a total metric.
#[derive(Debug, Clone, Serialize)]
pub struct TotalCell {
    /// One label per dimension.
    pub labels: Vec<String>,
    /// Your figure as export counts it (clipped to the round's bounds).
    pub yours: f64,
    /// Your figure before clipping.
    pub yours_unclipped: f64,
    /// Whether clipping changed it.
    pub clipped: bool,
    /// Published or suppressed.
    pub status: Status,
    /// The market's figures (None when suppressed).
    pub market: Option<Market>,
    /// Your share of the market (None when suppressed or the estimate ≤ 0).
    pub share: Option<Share>,
    /// Growth against the previous month (cells after the first month).
    pub growth: Option<Growth>,
    /// The estimate's verdict is "too noisy" (no market figure is given).
    pub too_noisy: bool,
    /// The estimate's verdict.
    pub verdict: Verdict,
    /// In plain words.
    pub text: String,
}

/// A ratio metric's bins.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BinsInfo {
    /// Lower edge.
    pub lo: f64,
    /// Upper edge.
    pub hi: f64,
    /// Number of bins.
    pub count: u32,
    /// Width: the resolution of every percentile.
    pub width: f64,
}

/// One ratio metric.
#[derive(Debug, Clone, Serialize)]
pub struct RatioMetric {
    /// Metric (table) name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Show values as percentages (bins inside [-1, 1]).
    pub percent: bool,
    /// Dimension names of the groups.
    pub dims: Vec<String>,
    /// The bins.
    pub bins: BinsInfo,
    /// One entry per group, grid order.
    pub groups: Vec<RatioGroup>,
}

/// Where a value falls among p10, p25, p50, p75, p90.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Below p10.
    BelowP10,
    /// p10 ≤ v < p25.
    P10ToP25,
    /// p25 ≤ v < p50.
    P25ToP50,
    /// p50 ≤ v < p75.
    P50ToP75,
    /// p75 ≤ v < p90.
    P75ToP90,
    /// p90 ≤ v.
    AboveP90,
}

impl Position {
    /// Where `v` falls among the five percentiles (ascending).
    pub fn of(v: f64, p: &[f64; 5]) -> Self {
        match p.iter().filter(|q| v >= **q).count() {
            0 => Self::BelowP10,
            1 => Self::P10ToP25,
            2 => Self::P25ToP50,
            3 => Self::P50ToP75,
            4 => Self::P75ToP90,
            _ => Self::AboveP90,
        }
    }

    /// In plain words.
    pub fn words(self) -> &'static str {
        match self {
            Self::BelowP10 => "below the 10th percentile",
            Self::P10ToP25 => "between the 10th percentile and the lower quartile",
            Self::P25ToP50 => "between the lower quartile and the median",
            Self::P50ToP75 => "between the median and the upper quartile",
            Self::P75ToP90 => "between the upper quartile and the 90th percentile",
            Self::AboveP90 => "above the 90th percentile",
        }
    }
}

/// One group of a ratio metric.
#[derive(Debug, Clone, Serialize)]
pub struct RatioGroup {
    /// One label per dimension (none for a whole-period ratio).
    pub labels: Vec<String>,
    /// Your ratio (None: the denominator is zero).
    pub yours: Option<f64>,
    /// The bin export counts you in, `[lo, hi)`.
    pub your_bin: Option<[f64; 2]>,
    /// Published or suppressed.
    pub status: Status,
    /// The readable or rough ones of p10, p25, p50, p75, p90 (None when
    /// suppressed; a percentile too noisy to read is left out).
    pub percentiles: Option<BTreeMap<String, f64>>,
    /// The 95 % interval of each percentile in `percentiles`.
    pub percentile_ranges: BTreeMap<String, [f64; 2]>,
    /// The verdict of every percentile, p10 … p90.
    pub verdicts: BTreeMap<String, Verdict>,
    /// The histogram mean (when readable or rough).
    pub mean: Option<f64>,
    /// Noisy number of members with a value (when readable or rough).
    pub members_noisy: Option<f64>,
    /// Its 95 % interval.
    pub members_ci95: Option<[f64; 2]>,
    /// Where your value falls (when all five percentiles can be read).
    pub position: Option<Position>,
    /// No percentile can be read.
    pub too_noisy: bool,
    /// In plain words.
    pub text: String,
}

/// The percentile columns, in order.
pub const PERCENTILES: [&str; 5] = ["p10", "p25", "p50", "p75", "p90"];

/// Why the benchmark cannot be compared with.
fn mismatch(table: &Table, what: String) -> String {
    let metric = table.metadata.get("metric").map_or("?", String::as_str);
    format!("the benchmark's table '{metric}' does not match the round's grid: {what}")
}

/// Finds each grid cell's row by its labels.
fn rows_by_cell<'a>(
    table: &'a Table,
    dims: &[String],
    cells: &[Vec<String>],
) -> Result<Vec<&'a TableRow>, String> {
    for d in dims {
        if !table.dims.contains(d) {
            return Err(mismatch(table, format!("it has no column '{d}'")));
        }
    }
    let index: HashMap<Vec<&str>, &TableRow> = table
        .rows
        .iter()
        .map(|r| {
            (
                dims.iter()
                    .map(|d| r.labels.get(d).map_or("", String::as_str))
                    .collect(),
                r,
            )
        })
        .collect();
    cells
        .iter()
        .map(|c| {
            let key: Vec<&str> = c.iter().map(String::as_str).collect();
            index
                .get(&key)
                .copied()
                .ok_or_else(|| mismatch(table, format!("no row for ({})", c.join(", "))))
        })
        .collect()
}

/// Your share of a market total, with its range (see the module docs).
pub fn share(yours: f64, m: &Market, floor_is_yours: bool) -> Option<Share> {
    if m.estimate <= 0.0 || yours < 0.0 {
        return None;
    }
    let value = yours / m.estimate;
    let low = if m.ci95_high > 0.0 {
        yours / m.ci95_high
    } else {
        value
    };
    let floor = if floor_is_yours {
        m.ci95_low.max(yours)
    } else {
        m.ci95_low
    };
    let high = if floor > 0.0 {
        (yours / floor).min(1.0)
    } else {
        1.0
    };
    Some(Share {
        value,
        low: low.min(value),
        high: high.max(value.min(1.0)),
    })
}

/// Month-over-month growth of one cell (see the module docs).
pub fn growth(
    from: &str,
    (y0, y1): (f64, f64),
    m0: Option<&Market>,
    m1: Option<&Market>,
    noisy: bool,
) -> Growth {
    let yours = (y0 > 0.0).then(|| (y1 - y0) / y0);
    let (market, low, high) = match (m0, m1) {
        // A growth between figures that are not both readable is not shown.
        _ if noisy => (None, None, None),
        (Some(a), Some(b)) if a.estimate > 0.0 => (
            Some((b.estimate - a.estimate) / a.estimate),
            (a.ci95_high > 0.0).then(|| b.ci95_low.max(0.0) / a.ci95_high - 1.0),
            (a.ci95_low > 0.0).then(|| b.ci95_high / a.ci95_low - 1.0),
        ),
        _ => (None, None, None),
    };
    Growth {
        from: from.to_string(),
        yours,
        market,
        market_low: low,
        market_high: high,
        too_noisy: noisy || market.is_none() || high.is_none(),
    }
}

fn market_of(row: &TableRow) -> Option<Market> {
    if row.suppressed {
        return None;
    }
    Some(Market {
        estimate: row.get("estimate")?,
        noise_sd: row.get("noise_sd")?,
        ci95_low: row.get("ci95_low")?,
        ci95_high: row.get("ci95_high")?,
        members_noisy: row.get("members_noisy"),
        verdict: row.verdict("estimate"),
    })
    .filter(|m| m.verdict.shows_figure())
}

fn suppressed_text(min_members: u32) -> String {
    format!("not published: fewer than {min_members} members")
}

/// Builds the comparison from the round, the member's prepared figures and
/// the published tables (by metric name).
pub fn build(
    round: &Round,
    published: &PublishedRound,
    prepared: &[PreparedMetric],
    tables: &HashMap<String, Table>,
    notes: Vec<String>,
) -> Result<Comparison, String> {
    let facts = &published.manifest.round;
    let min = facts.min_members;
    let mut totals = Vec::new();
    let mut ratios = Vec::new();
    for (m, p) in round.metrics.iter().zip(prepared) {
        let Some(table) = tables.get(&m.name) else {
            continue;
        };
        match m.kind {
            Kind::Active => {}
            Kind::Sum | Kind::Count => totals.push(total_metric(round, m, p, table, min)?),
            Kind::Ratio => ratios.push(ratio_metric(round, m, p, table, min)?),
        }
    }
    Ok(Comparison {
        private_note: PRIVATE_NOTE.into(),
        round: RoundInfo {
            id: facts.id.clone(),
            pool_id: facts.pool_id.clone(),
            purpose: round.purpose.clone(),
            period_start: facts.period_start.clone(),
            period_end: facts.period_end.clone(),
            mode: facts.mode.clone(),
            currency: facts.currency.clone(),
            min_members: min,
            contributions: Some(published.manifest.contributions.accepted as u64),
            merged_at: published.manifest.merged_at.clone(),
        },
        totals,
        ratios,
        notes,
    })
}

fn total_metric(
    round: &Round,
    m: &Metric,
    p: &PreparedMetric,
    table: &Table,
    min: u32,
) -> Result<TotalMetric, String> {
    let grid = round.grid(m);
    let dims: Vec<String> = grid.iter().map(|d| d.name.clone()).collect();
    let cells = coopbench_protocol::round::cell_labels(&grid);
    let rows = rows_by_cell(table, &dims, &cells)?;
    let RawFigures::Cells(raw) = &p.raw else {
        return Err(format!("metric '{}': expected cell figures", m.name));
    };
    let clipped: Vec<f64> = p.clipped.iter().map(|v| *v as f64 / m.scale).collect();
    let floor_is_yours = m.clip.is_some_and(|c| c.lo >= 0.0);
    let month = dims.iter().position(|d| d == "month");
    let mut out: Vec<TotalCell> = Vec::with_capacity(cells.len());
    for (i, labels) in cells.iter().enumerate() {
        let verdict = rows[i].verdict("estimate");
        let market = market_of(rows[i]);
        let yours = clipped[i];
        let share = market
            .as_ref()
            .and_then(|mk| share(yours, mk, floor_is_yours));
        let text = match (verdict, &share) {
            (Verdict::Suppressed, _) => suppressed_text(min),
            (Verdict::TooNoisy, _) => "too noisy to read".into(),
            (_, None) => "too noisy to read: the estimate is not positive".into(),
            (Verdict::Rough, Some(_)) => "rough: read the range, not the digits".into(),
            _ => String::new(),
        };
        out.push(TotalCell {
            labels: labels.clone(),
            yours,
            yours_unclipped: raw[i],
            clipped: (raw[i] - yours).abs() > 0.5 / m.scale,
            status: match verdict {
                Verdict::Suppressed => Status::Suppressed,
                Verdict::TooNoisy => Status::TooNoisy,
                _ => Status::Published,
            },
            market,
            share,
            growth: None,
            too_noisy: verdict == Verdict::TooNoisy || (market.is_some() && share.is_none()),
            verdict,
            text,
        });
    }
    // Growth against the previous month: the cell with the same other labels.
    if let Some(mi) = month {
        let months = &grid[mi].labels;
        let pos: HashMap<&[String], usize> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_slice(), i))
            .collect();
        for i in 0..out.len() {
            let labels = &cells[i];
            let k = months.iter().position(|x| *x == labels[mi]).unwrap_or(0);
            if k == 0 {
                continue;
            }
            let mut prev = labels.clone();
            prev[mi] = months[k - 1].clone();
            let Some(&j) = pos.get(prev.as_slice()) else {
                continue;
            };
            let (a, b) = (&out[j], &out[i]);
            let noisy = a.verdict != Verdict::Readable || b.verdict != Verdict::Readable;
            let g = growth(
                &months[k - 1],
                (a.yours, b.yours),
                a.market.as_ref(),
                b.market.as_ref(),
                noisy || a.market.is_none() || b.market.is_none(),
            );
            out[i].growth = Some(g);
        }
    }
    Ok(TotalMetric {
        name: m.name.clone(),
        description: m.description.clone(),
        unit: match m.kind {
            Kind::Count => "rows".into(),
            _ => round.currency.clone(),
        },
        dims,
        clip_hi: m.clip.map(|c| c.hi),
        cells: out,
    })
}

fn ratio_metric(
    round: &Round,
    m: &Metric,
    p: &PreparedMetric,
    table: &Table,
    min: u32,
) -> Result<RatioMetric, String> {
    let bins = m
        .bins
        .ok_or_else(|| format!("metric '{}' has no bins", m.name))?;
    let grid = round.grid(m);
    let group_grid = &grid[..grid.len().saturating_sub(1)];
    let dims: Vec<String> = group_grid.iter().map(|d| d.name.clone()).collect();
    let cells = coopbench_protocol::round::cell_labels(group_grid);
    let rows = rows_by_cell(table, &dims, &cells)?;
    let RawFigures::Ratios(raw) = &p.raw else {
        return Err(format!("metric '{}': expected ratios", m.name));
    };
    let width = bins.width();
    let groups = cells
        .iter()
        .zip(&rows)
        .zip(raw)
        .map(|((labels, row), yours)| {
            let yours = yours.filter(|v| v.is_finite());
            let your_bin = yours.map(|v| {
                let c = v.clamp(bins.lo, bins.hi);
                let k =
                    (((c - bins.lo) / width).floor() as i64).clamp(0, i64::from(bins.count) - 1);
                let lo = bins.lo + width * k as f64;
                [lo, lo + width]
            });
            let verdicts: BTreeMap<String, Verdict> = PERCENTILES
                .iter()
                .map(|k| (k.to_string(), row.verdict(k)))
                .collect();
            let shown: BTreeMap<String, f64> = PERCENTILES
                .iter()
                .filter_map(|k| row.shown(k).map(|v| (k.to_string(), v)))
                .collect();
            let ranges: BTreeMap<String, [f64; 2]> = shown
                .keys()
                .filter_map(|k| {
                    let lo = row.get(&format!("{k}_ci95_low"))?;
                    let hi = row.get(&format!("{k}_ci95_high"))?;
                    Some((k.clone(), [lo, hi]))
                })
                .collect();
            let all: Option<[f64; 5]> = (shown.len() == 5).then(|| {
                let v: Vec<f64> = PERCENTILES.iter().map(|k| shown[*k]).collect();
                [v[0], v[1], v[2], v[3], v[4]]
            });
            let too_noisy = !row.suppressed && shown.is_empty();
            let members = row.shown("members_noisy");
            let members_ci = members
                .and_then(|_| Some([row.get("members_ci95_low")?, row.get("members_ci95_high")?]));
            let position = all.zip(yours).map(|(p, v)| Position::of(v, &p));
            let rough = verdicts.values().any(|v| *v == Verdict::Rough);
            let text = match (row.suppressed, yours, position, shown.get("p50")) {
                (true, _, _, _) => suppressed_text(min),
                (_, _, _, _) if too_noisy => "too noisy to read".into(),
                (_, None, _, _) => "no value of yours: your denominator is zero".into(),
                (_, Some(_), Some(pos), _) => {
                    let mut t = pos.words().to_string();
                    if rough {
                        t.push_str(" (some percentiles are rough)");
                    }
                    t
                }
                (_, Some(v), None, Some(med)) => format!(
                    "{} the median; the other percentiles are too noisy to read",
                    if v >= *med { "above" } else { "below" }
                ),
                (_, Some(_), None, None) => {
                    "the median is too noisy to read; see the percentiles shown".into()
                }
            };
            RatioGroup {
                labels: labels.clone(),
                yours,
                your_bin,
                status: if row.suppressed {
                    Status::Suppressed
                } else if too_noisy {
                    Status::TooNoisy
                } else {
                    Status::Published
                },
                percentiles: (!row.suppressed).then_some(shown),
                percentile_ranges: ranges,
                verdicts,
                mean: row.shown("mean"),
                members_noisy: members,
                members_ci95: members_ci,
                position,
                too_noisy,
                text,
            }
        })
        .collect();
    Ok(RatioMetric {
        name: m.name.clone(),
        description: m.description.clone(),
        percent: bins.lo >= -1.0 && bins.hi <= 1.0,
        dims,
        bins: BinsInfo {
            lo: bins.lo,
            hi: bins.hi,
            count: bins.count,
            width,
        },
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market(e: f64, lo: f64, hi: f64) -> Market {
        Market {
            estimate: e,
            noise_sd: (hi - lo) / (2.0 * Z_95),
            ci95_low: lo,
            ci95_high: hi,
            members_noisy: None,
            verdict: Verdict::Readable,
        }
    }

    #[test]
    fn positions_follow_the_percentiles() {
        let p = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(Position::of(0.5, &p), Position::BelowP10);
        assert_eq!(Position::of(1.0, &p), Position::P10ToP25);
        assert_eq!(Position::of(3.5, &p), Position::P50ToP75);
        assert_eq!(
            Position::of(3.5, &p).words(),
            "between the median and the upper quartile"
        );
        assert_eq!(Position::of(9.0, &p), Position::AboveP90);
    }

    #[test]
    fn share_range_is_bounded_by_your_own_figure() {
        let s = share(100.0, &market(1000.0, 800.0, 1200.0), true).unwrap();
        assert_eq!(s.value, 0.1);
        assert!((s.low - 100.0 / 1200.0).abs() < 1e-12);
        assert!((s.high - 100.0 / 800.0).abs() < 1e-12);
        // An interval reaching below zero: the market is at least your figure.
        let s = share(100.0, &market(300.0, -200.0, 800.0), true).unwrap();
        assert_eq!(s.high, 1.0);
        assert!(share(100.0, &market(-5.0, -300.0, 290.0), true).is_none());
    }

    #[test]
    fn growth_uses_both_intervals() {
        let g = growth(
            "m1",
            (100.0, 110.0),
            Some(&market(1000.0, 900.0, 1100.0)),
            Some(&market(1200.0, 1100.0, 1300.0)),
            false,
        );
        assert!((g.yours.unwrap() - 0.1).abs() < 1e-12);
        assert!((g.market.unwrap() - 0.2).abs() < 1e-12);
        assert!((g.market_low.unwrap() - (1100.0 / 1100.0 - 1.0)).abs() < 1e-12);
        assert!((g.market_high.unwrap() - (1300.0 / 900.0 - 1.0)).abs() < 1e-12);
        assert!(!g.too_noisy);
        let g = growth("m1", (0.0, 5.0), None, Some(&market(1.0, 0.5, 1.5)), false);
        assert!(g.yours.is_none() && g.market.is_none() && g.too_noisy);
    }
}
