//! From exact cell sums to the published tables: estimates with noise sd and
//! 95 % intervals, noisy active-member counts, suppression, means per active
//! member, and ratio histograms turned into percentiles. All of it is
//! post-processing of noised figures; nothing here sees a member's value.

use crate::guard::active_for;
use crate::merge::Outcome;
use coopbench_privacy::accuracy::{percentile_verdict, total_verdict, Verdict};
use coopbench_privacy::estimate::{self, BinGrid, Estimate, Interval, RatioEstimate};
use coopbench_protocol::round::{cell_count, cell_labels, Kind};
use coopbench_protocol::{Dimension, Round};

/// The published figures of a `sum`, `count` or `active` cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TotalFigures {
    /// The estimate, its noise sd and 95 % interval.
    pub estimate: Estimate,
    /// The noisy number of active members in the cell, clamped to
    /// [0, contributions] (None: the round has no active metric over the
    /// same dimensions).
    pub members_noisy: Option<f64>,
    /// Mean per active member and its delta-method sd (None without
    /// `members_noisy`, and for active metrics themselves).
    pub mean: Option<(f64, f64)>,
}

impl TotalFigures {
    /// The estimate's verdict.
    pub fn verdict(&self) -> Verdict {
        let e = self.estimate;
        total_verdict(e.estimate, e.ci95_low, e.ci95_high)
    }

    /// The mean's verdict (None without a mean).
    pub fn mean_verdict(&self) -> Option<Verdict> {
        self.mean
            .map(|(m, sd)| total_verdict(m, m - estimate::Z_95 * sd, m + estimate::Z_95 * sd))
    }
}

/// The published figures of one ratio group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioFigures {
    /// p10 … p90, the mean and the members with a value, with intervals.
    pub estimate: RatioEstimate,
    /// The bins' width: the resolution of the percentiles.
    pub bin_width: f64,
    /// The number of value bins.
    pub bins: u32,
}

impl RatioFigures {
    /// The verdict of each percentile, p10 … p90.
    pub fn percentile_verdicts(&self) -> [Verdict; 5] {
        self.estimate
            .percentiles
            .map(|i| percentile_verdict(i.low, i.high, self.bin_width, self.bins))
    }

    /// The mean's verdict.
    pub fn mean_verdict(&self) -> Verdict {
        let Interval { value, low, high } = self.estimate.mean;
        total_verdict(value, low, high)
    }

    /// The verdict of the members with a value.
    pub fn members_verdict(&self) -> Verdict {
        let Interval { value, low, high } = self.estimate.members;
        total_verdict(value, low, high)
    }

    /// Members with a value: the projected histogram's value bins.
    pub fn members_noisy(&self) -> f64 {
        self.estimate.members.value
    }
}

/// One row's figures; `None` when suppressed.
#[derive(Debug, Clone, PartialEq)]
pub enum Figures {
    /// A sum, count or active cell.
    Total(Option<TotalFigures>),
    /// A ratio group.
    Ratio(Option<RatioFigures>),
}

impl Figures {
    /// Whether the row is suppressed (every figure null).
    pub fn suppressed(&self) -> bool {
        matches!(self, Figures::Total(None) | Figures::Ratio(None))
    }
}

/// One row: the labels of its dimensions, then its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// One label per dimension column.
    pub labels: Vec<String>,
    /// The figures.
    pub figures: Figures,
}

/// One published table (one metric).
#[derive(Debug, Clone)]
pub struct Table {
    /// The metric's name: the table's name and directory.
    pub name: String,
    /// The metric's kind.
    pub kind: Kind,
    /// The metric's description.
    pub description: String,
    /// The dimension columns (a ratio's bins are not a column).
    pub dims: Vec<Dimension>,
    /// One row per cell (ratio: per group), grid order.
    pub rows: Vec<Row>,
    /// Where `members_noisy` comes from, in words.
    pub members_source: String,
    /// Noise sd of one merged cell (ratio: of one bin's count), measure units.
    pub noise_sd: f64,
}

impl Table {
    /// Rows suppressed.
    pub fn suppressed(&self) -> usize {
        self.rows.iter().filter(|r| r.figures.suppressed()).count()
    }
}

/// Row-major index of a cell in `grid` given labels by dimension name.
fn index_in(grid: &[Dimension], names: &[String], labels: &[String]) -> Option<usize> {
    let mut idx = 0;
    for d in grid {
        let pos = names.iter().position(|n| *n == d.name)?;
        let p = d.labels.iter().position(|l| *l == labels[pos])?;
        idx = idx * d.labels.len() + p;
    }
    Some(idx)
}

/// Builds every metric's table from the merge's outcome. A cell is
/// suppressed (every figure null) when its noisy active count is below the
/// round's `min_members`; a ratio group when its estimated number of members
/// with a value is.
pub fn build(round: &Round, outcome: &Outcome) -> Vec<Table> {
    let min = f64::from(round.min_members);
    let n = outcome.accepted;
    round
        .metrics
        .iter()
        .enumerate()
        .map(|(mi, m)| {
            let grid = round.grid(m);
            let sums = &outcome.sums.cells[mi];
            let sigma_sq = outcome.sigma_sq[mi];
            let noise_sd = sigma_sq.sqrt() / m.scale;
            if m.kind == Kind::Ratio {
                let bins = m.bins.expect("ratio metrics have bins (Round::problems)");
                let nb = bins.cells();
                let g = BinGrid {
                    lo: bins.lo,
                    width: bins.width(),
                    count: bins.count as usize,
                };
                let group_dims = grid[..grid.len() - 1].to_vec();
                let rows = cell_labels(&group_dims)
                    .into_iter()
                    .enumerate()
                    .map(|(k, labels)| {
                        let noisy: Vec<f64> = sums[k * nb..(k + 1) * nb]
                            .iter()
                            .map(|s| *s as f64 / m.scale)
                            .collect();
                        // Every contribution holds one unit per group: the
                        // histogram's total is the public number n.
                        let figures = estimate::ratio_estimate(&noisy, n as f64, noise_sd, g)
                            .filter(|e| e.members.value >= min)
                            .map(|mut e| {
                                // Members with a value lie in [0, contributions]:
                                // so does their interval (post-processing).
                                // (The projection's sum can miss n by a rounding error.)
                                e.members.value = e.members.value.clamp(0.0, n as f64);
                                e.members.low = e.members.low.clamp(0.0, n as f64);
                                e.members.high = e.members.high.clamp(0.0, n as f64);
                                e
                            })
                            .map(|e| RatioFigures {
                                estimate: e,
                                bin_width: g.width,
                                bins: bins.count,
                            });
                        Row {
                            labels,
                            figures: Figures::Ratio(figures),
                        }
                    })
                    .collect();
                return Table {
                    name: m.name.clone(),
                    kind: m.kind,
                    description: m.description.clone(),
                    dims: group_dims,
                    rows,
                    members_source: format!(
                        "the estimated histogram's value bins: the noisy histogram (its last bin counts members without a value) projected onto {{h >= 0, sum h = {n}}}, {n} being the contributions merged"
                    ),
                    noise_sd,
                };
            }
            let active = if m.kind == Kind::Active {
                Some(mi)
            } else {
                active_for(round, &m.dims)
            };
            let members_source = match active {
                Some(a) if a == mi => "this metric's own noisy count".to_string(),
                Some(a) => format!("metric '{}' (noisy count of active members)", round.metrics[a].name),
                None => format!(
                    "none: the round has no active metric over the same dimensions, so members_noisy is null and no cell is suppressed by member count (each cell sums all {n} accepted contributions: every member sends every cell)"
                ),
            };
            let rows = cell_labels(&grid)
                .into_iter()
                .enumerate()
                .map(|(c, labels)| {
                    let est = estimate::estimate(sums[c], sigma_sq, m.scale);
                    let members = active.map(|a| {
                        let am = &round.metrics[a];
                        let ag = round.grid(am);
                        let ai = index_in(&ag, &m.dims, &labels)
                            .expect("same dimensions, same labels");
                        estimate::estimate(outcome.sums.cells[a][ai], outcome.sigma_sq[a], am.scale)
                    });
                    // A count of members outside [0, contributions] cannot be
                    // true: clamped (post-processing, free under DP). The
                    // floor min_members is at most the contributions, so the
                    // suppression is the same either way.
                    let members = members.map(|a| Estimate {
                        estimate: a.estimate.clamp(0.0, n as f64),
                        ..a
                    });
                    let suppressed = members.is_some_and(|a| a.estimate < min);
                    let figures = (!suppressed).then(|| TotalFigures {
                        estimate: est,
                        members_noisy: members.map(|a| a.estimate),
                        mean: members.filter(|_| m.kind != Kind::Active).map(|a| {
                            estimate::mean_per_member(est.estimate, est.noise_sd, a.estimate, a.noise_sd)
                        }),
                    });
                    Row {
                        labels,
                        figures: Figures::Total(figures),
                    }
                })
                .collect();
            Table {
                name: m.name.clone(),
                kind: m.kind,
                description: m.description.clone(),
                dims: grid,
                rows,
                members_source,
                noise_sd,
            }
        })
        .collect()
}

/// Number of cells of a metric's table (ratio: groups).
pub fn rows_of(round: &Round, metric: usize) -> usize {
    let m = &round.metrics[metric];
    let grid = round.grid(m);
    if m.kind == Kind::Ratio {
        cell_count(&grid[..grid.len() - 1])
    } else {
        cell_count(&grid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_row_major() {
        let dims = vec![
            Dimension {
                name: "month".into(),
                labels: vec!["m1".into(), "m2".into()],
            },
            Dimension {
                name: "cat".into(),
                labels: vec!["a".into(), "b".into(), "c".into()],
            },
        ];
        let c = cell_labels(&dims);
        assert_eq!(c.len(), 6);
        assert_eq!(c[1], ["m1", "b"]);
        assert_eq!(c[3], ["m2", "a"]);
        assert_eq!(cell_labels(&[]), vec![Vec::<String>::new()]);
        // The same cell in a grid with the dimensions the other way round.
        let swapped = vec![dims[1].clone(), dims[0].clone()];
        let names = vec!["month".to_string(), "cat".to_string()];
        assert_eq!(
            index_in(&swapped, &names, &["m2".into(), "a".into()]),
            Some(1)
        );
        assert_eq!(index_in(&dims, &names, &["m2".into(), "a".into()]), Some(3));
    }
}
