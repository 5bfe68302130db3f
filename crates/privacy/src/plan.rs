//! A round's public noise plan: per metric, the per-cell fixed-point bounds,
//! the L2 sensitivity, its share of ρ and the σ that share buys. It depends on
//! the round alone, so the member (`plan`, `export`) and the association
//! (`round preview`, `merge`) compute exactly the same figures.

use crate::clip::Bounds;
use crate::{budget, fixed, sensitivity};
use coopbench_protocol::round::{cell_count, Kind, Metric};
use coopbench_protocol::Round;

/// A metric's public privacy parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoisePlan {
    /// L2 sensitivity of one member's clipped vector, fixed-point units.
    pub l2: f64,
    /// ρ spent on this metric.
    pub rho: f64,
    /// Noise standard deviation one member adds per cell, fixed-point units.
    pub sigma: f64,
    /// Fixed-point scale (integer units per unit of the measure).
    pub scale: f64,
    /// Number of cells.
    pub cells: usize,
}

/// The per-cell fixed-point clip bounds of a metric (0/1 for active cells and
/// ratio histogram bins).
pub fn cell_bounds(m: &Metric) -> Result<Bounds, String> {
    match m.kind {
        Kind::Active | Kind::Ratio => Ok(Bounds { lo: 0, hi: 1 }),
        Kind::Sum | Kind::Count => {
            let c = m
                .clip
                .ok_or_else(|| format!("metric '{}' has no clip bounds", m.name))?;
            let lo = fixed::to_fixed(c.lo, m.scale)
                .map_err(|e| format!("metric '{}': clip lo: {e}", m.name))?;
            let hi = fixed::to_fixed(c.hi, m.scale)
                .map_err(|e| format!("metric '{}': clip hi: {e}", m.name))?;
            Bounds::new(lo, hi).map_err(|e| format!("metric '{}': {e}", m.name))
        }
    }
}

/// Every metric's noise plan, in the round's order.
pub fn noise_plans(round: &Round) -> Result<Vec<NoisePlan>, String> {
    let weights: Vec<f64> = round.metrics.iter().map(|m| m.weight).collect();
    let rhos = budget::split_rho(round.rho, &weights).map_err(|e| e.to_string())?;
    round
        .metrics
        .iter()
        .zip(rhos)
        .map(|(m, rho)| {
            let cells = cell_count(&round.grid(m));
            let l2 = match m.kind {
                Kind::Ratio => {
                    let bins = m.bins.map_or(1, |b| b.count as usize).max(1);
                    sensitivity::histogram_sensitivity(cells / bins)
                }
                _ => sensitivity::l2_sensitivity(&vec![cell_bounds(m)?; cells]),
            };
            let sigma =
                budget::sigma_for(l2, rho).map_err(|e| format!("metric '{}': {e}", m.name))?;
            Ok(NoisePlan {
                l2,
                rho,
                sigma,
                scale: m.scale,
                cells,
            })
        })
        .collect()
}
