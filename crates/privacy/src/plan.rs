//! A round's public noise plan: per metric, the per-cell fixed-point bounds,
//! the L2 sensitivity, its share of ρ and the σ that share buys. It depends on
//! the round alone, so the member (`plan`, `export`) and the association
//! (`round preview`, `merge`) compute exactly the same figures.
//!
//! In two-server mode `sigma` is one member's share σ/√(n_min − t) and `rho`
//! includes the distributed discrete Gaussian's slack (see [`crate::distributed`]).

use crate::clip::Bounds;
use crate::{budget, distributed, fixed, sensitivity};
use coopbench_protocol::round::{Kind, Metric};
use coopbench_protocol::{Mode, Round};

/// A metric's public privacy parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoisePlan {
    /// L2 sensitivity of one member's clipped vector, fixed-point units.
    pub l2: f64,
    /// ρ spent on this metric, slack included.
    pub rho: f64,
    /// Noise standard deviation one member adds per cell, fixed-point units.
    pub sigma: f64,
    /// σ of the guarantee: what one member adds in local mode, what n_min − t
    /// members' shares add up to in two-server mode.
    pub sigma_central: f64,
    /// Members whose noise the guarantee counts on: 1 in local mode, n_min − t
    /// in two-server mode.
    pub parties: u32,
    /// The distributed discrete Gaussian's slack in ρ (0 in local mode).
    pub slack: f64,
    /// Fixed-point scale (integer units per unit of the measure).
    pub scale: f64,
    /// Number of cells.
    pub cells: usize,
}

/// The fixed-point value of "one" in an active cell or a ratio's histogram
/// bin: the metric's scale, a whole number (1 unless the round sets a finer
/// scale, which two-server mode needs for noise shares of at least ½).
pub fn unit(m: &Metric) -> i64 {
    m.scale.round().max(1.0) as i64
}

/// The per-cell fixed-point clip bounds of a metric (0 and [`unit`] for active
/// cells and ratio histogram bins).
pub fn cell_bounds(m: &Metric) -> Result<Bounds, String> {
    match m.kind {
        Kind::Active | Kind::Ratio => Ok(Bounds { lo: 0, hi: unit(m) }),
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

/// The largest magnitude a metric's clipped cell can have, in fixed point.
pub fn widest_bound(m: &Metric) -> Result<u64, String> {
    let b = cell_bounds(m)?;
    Ok(b.lo.unsigned_abs().max(b.hi.unsigned_abs()))
}

/// Every metric's noise plan, in the round's order. Refuses a round whose
/// noise cannot be added: among others, σ so large (a tiny ρ, a wide clip)
/// that the clip bound plus 40σ does not fit in a 64-bit cell. These checks
/// need the round alone, so every refusal comes before anything is charged.
pub fn noise_plans(round: &Round) -> Result<Vec<NoisePlan>, String> {
    let weights: Vec<f64> = round.metrics.iter().map(|m| m.weight).collect();
    let rhos = budget::split_rho(round.rho, &weights).map_err(|e| e.to_string())?;
    round
        .metrics
        .iter()
        .zip(rhos)
        .map(|(m, rho)| {
            let cells = round.metric_cells(m);
            if cells > coopbench_protocol::round::MAX_CELLS {
                return Err(format!(
                    "metric '{}': more than {} cells",
                    m.name,
                    coopbench_protocol::round::MAX_CELLS
                ));
            }
            let l2 = match m.kind {
                Kind::Ratio => {
                    let bins = m.bins.map_or(1, |b| b.cells());
                    sensitivity::histogram_sensitivity_scaled(cells / bins, unit(m))
                }
                _ => sensitivity::l2_sensitivity(&vec![cell_bounds(m)?; cells]),
            };
            let err = |e: &dyn std::fmt::Display| format!("metric '{}': {e}", m.name);
            match (round.mode, &round.two_server) {
                (Mode::TwoServer, Some(ts)) => {
                    let p = distributed::share_plan(l2, rho, cells, ts.parties())
                        .map_err(|e| err(&e))?;
                    Ok(NoisePlan {
                        l2,
                        rho: rho + p.slack,
                        sigma: p.sigma_share,
                        sigma_central: p.sigma_central,
                        parties: p.parties,
                        slack: p.slack,
                        scale: m.scale,
                        cells,
                    })
                }
                (Mode::TwoServer, None) => Err(err(&"two-server mode without [two_server]")),
                (Mode::Local, _) => {
                    let sigma = budget::sigma_for(l2, rho).map_err(|e| err(&e))?;
                    Ok(NoisePlan {
                        l2,
                        rho,
                        sigma,
                        sigma_central: sigma,
                        parties: 1,
                        slack: 0.0,
                        scale: m.scale,
                        cells,
                    })
                }
            }
        })
        .collect::<Result<Vec<NoisePlan>, String>>()
        .and_then(|plans| {
            for (m, p) in round.metrics.iter().zip(&plans) {
                crate::noise::check_headroom(widest_bound(m)?, p.sigma)
                    .map_err(|e| format!("metric '{}': {e}", m.name))?;
            }
            Ok(plans)
        })
}

/// The ρ a member is charged for the round: the round's ρ plus every
/// metric's slack (0 in local mode).
pub fn charged_rho(round: &Round, plans: &[NoisePlan]) -> f64 {
    round.rho + plans.iter().map(|p| p.slack).sum::<f64>()
}

/// In two-server mode the sums are taken modulo 2^64 and read back as `i64`,
/// which is exact while every true cell sum stays within ±2^63. This is the
/// most members whose clipped cells, at the metrics' widest bound, sum within
/// ±2^62 (the other half of the range is left to the noise).
pub fn sum_capacity(round: &Round) -> Result<u64, String> {
    let mut widest: u64 = 1;
    for m in &round.metrics {
        let b = cell_bounds(m)?;
        widest = widest.max(b.lo.unsigned_abs()).max(b.hi.unsigned_abs());
    }
    Ok((1u64 << 62) / widest)
}

/// Two-server checks that need the pool's roster size (empty in local mode):
/// every cell sum of `roster_len` members must stay exact modulo 2^64.
pub fn two_server_problems(round: &Round, roster_len: usize) -> Vec<String> {
    if round.mode != Mode::TwoServer {
        return Vec::new();
    }
    match sum_capacity(round) {
        Ok(cap) if (roster_len as u64) <= cap => Vec::new(),
        Ok(cap) => vec![format!(
            "two-server sums are exact for at most {cap} members at these clip bounds, and the roster has {roster_len}: narrow the bounds or use a coarser scale"
        )],
        Err(e) => vec![e],
    }
}
