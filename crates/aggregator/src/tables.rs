//! From exact cell sums to the published tables: estimates with noise sd and
//! 95 % intervals, noisy active-member counts, suppression, means per active
//! member, and ratio histograms turned into percentiles. All of it is
//! post-processing of noised figures; nothing here sees a member's value.

use crate::guard::active_for;
use crate::merge::Outcome;
use crate::stats::{self, PERCENTILES};
use coopbench_protocol::round::{cell_count, cell_labels, Kind};
use coopbench_protocol::{Dimension, Round};

/// The published figures of a `sum`, `count` or `active` cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TotalFigures {
    /// The estimate, its noise sd and 95 % interval.
    pub estimate: stats::Estimate,
    /// The noisy number of active members in the cell (None: the round has
    /// no active metric over the same dimensions).
    pub members_noisy: Option<f64>,
    /// Mean per active member and its delta-method sd (None without
    /// `members_noisy`, and for active metrics themselves).
    pub mean: Option<(f64, f64)>,
}

/// The published figures of one ratio group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioFigures {
    /// p10, p25, p50, p75, p90, interpolated inside bins.
    pub percentiles: [f64; 5],
    /// Mean over bin midpoints.
    pub mean: f64,
    /// The bins' width: the resolution of the percentiles.
    pub bin_width: f64,
    /// The post-processed histogram's total: the noisy number of members
    /// with a ratio in the group.
    pub members_noisy: f64,
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
/// round's `min_members`; a ratio group when its post-processed histogram
/// total is.
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
                let nb = bins.count as usize;
                let group_dims = grid[..grid.len() - 1].to_vec();
                let rows = cell_labels(&group_dims)
                    .into_iter()
                    .enumerate()
                    .map(|(g, labels)| {
                        let noisy: Vec<f64> = sums[g * nb..(g + 1) * nb]
                            .iter()
                            .map(|s| *s as f64 / m.scale)
                            .collect();
                        // The member count is the sum of the RAW noisy bins: an
                        // unbiased estimate (sd σ·√bins). Summing the clamped
                        // bins instead would add ~0.4σ for every empty bin.
                        let members: f64 = noisy.iter().sum();
                        let hist = stats::clamp_histogram(&noisy);
                        let mass: f64 = hist.iter().sum();
                        let figures = (members >= min && mass > 0.0).then(|| {
                            let w = bins.width();
                            let mut p = [0.0; 5];
                            for (slot, (_, q)) in p.iter_mut().zip(PERCENTILES) {
                                *slot = stats::percentile(&hist, bins.lo, w, q)
                                    .expect("total >= min_members > 0");
                            }
                            RatioFigures {
                                percentiles: p,
                                mean: stats::histogram_mean(&hist, bins.lo, w)
                                    .expect("total > 0"),
                                bin_width: w,
                                members_noisy: members,
                            }
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
                    members_source: "the post-processed histogram's total (negative bins clamped to 0)".into(),
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
                    let est = stats::estimate(sums[c], sigma_sq, m.scale);
                    let members = active.map(|a| {
                        let am = &round.metrics[a];
                        let ag = round.grid(am);
                        let ai = index_in(&ag, &m.dims, &labels)
                            .expect("same dimensions, same labels");
                        stats::estimate(outcome.sums.cells[a][ai], outcome.sigma_sq[a], am.scale)
                    });
                    let suppressed = members.is_some_and(|a| a.estimate < min);
                    let figures = (!suppressed).then(|| TotalFigures {
                        estimate: est,
                        members_noisy: members.map(|a| a.estimate),
                        mean: members.filter(|_| m.kind != Kind::Active).map(|a| {
                            stats::mean_per_member(est.estimate, est.noise_sd, a.estimate, a.noise_sd)
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
