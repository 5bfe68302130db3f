//! Privacy accounting in ρ-zCDP: splitting a round's ρ over its metrics, the σ
//! a metric needs, the ρ a σ costs, and the (ε, δ) a ρ amounts to.
//!
//! Every ρ here comes from OpenDP's own privacy map of the discrete Gaussian
//! (`(Δ₂/σ)² / 2` in exact rationals, rounded up to `f64`), so what is computed
//! here is exactly what [`crate::add_discrete_gaussian`] will accept.

use opendp::combinators::make_zCDP_to_approxDP;
use thiserror::Error;

use crate::mech::{describe, gaussian};

/// Bound on the `next_up` / `next_down` nudging loops; a handful of steps is
/// always enough, so hitting it means the arguments are degenerate.
const MAX_NUDGES: usize = 1000;

/// Why a budget computation failed. All fields are public round parameters.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum BudgetError {
    /// The total ρ is not finite and positive.
    #[error("the total privacy budget ρ must be a finite number greater than zero (got {total})")]
    InvalidTotal {
        /// The offending total.
        total: f64,
    },
    /// A metric's weight is not finite and positive.
    #[error("metric {index}: its budget weight must be a finite number greater than zero (got {weight})")]
    InvalidWeight {
        /// Index of the metric in the round.
        index: usize,
        /// The offending weight.
        weight: f64,
    },
    /// The weights add up to more than `f64` can hold.
    #[error("the metrics' budget weights add up to more than a 64-bit float can hold")]
    WeightsOverflow,
    /// A metric's share of ρ underflows to zero.
    #[error("metric {index}: its share of the budget is too small to represent")]
    PartTooSmall {
        /// Index of the metric in the round.
        index: usize,
    },
    /// A ρ is not finite and positive.
    #[error("ρ must be a finite number greater than zero (got {rho})")]
    InvalidRho {
        /// The offending ρ.
        rho: f64,
    },
    /// An L2 sensitivity is not finite and positive (or, for [`rho_of`], negative).
    #[error("the L2 sensitivity must be a finite number greater than zero (got {l2}); check the metric's clip bounds")]
    InvalidSensitivity {
        /// The offending sensitivity.
        l2: f64,
    },
    /// A σ is not finite and positive.
    #[error("the noise scale σ must be a finite number greater than zero (got {sigma})")]
    InvalidSigma {
        /// The offending σ.
        sigma: f64,
    },
    /// δ is not strictly between 0 and 1.
    #[error("δ must be strictly between 0 and 1 (got {delta})")]
    InvalidDelta {
        /// The offending δ.
        delta: f64,
    },
    /// No σ (or ε) could be found that satisfies the budget.
    #[error("no noise scale satisfies sensitivity {l2} at ρ = {rho}")]
    Unsatisfiable {
        /// The sensitivity.
        l2: f64,
        /// The budget.
        rho: f64,
    },
    /// OpenDP refused to build or map the measurement.
    #[error("OpenDP could not {context}: {message}")]
    OpenDp {
        /// What was being done.
        context: &'static str,
        /// OpenDP's message (about public parameters only).
        message: String,
    },
}

fn opendp(context: &'static str) -> impl Fn(opendp::error::Error) -> BudgetError {
    move |e| BudgetError::OpenDp {
        context,
        message: describe(&e),
    }
}

/// Splits `total` ρ over metrics in proportion to `weights`.
///
/// The parts never sum above `total`: not exactly, and not when added in `f64`
/// in any order. To that end each part is `total · w / Σw` lowered by the
/// worst-case rounding error of an `n`-term sum (a relative `2(n − 1) · 2^-52`,
/// far below any meaningful ρ; a single metric gets `total` exactly), then checked in exact arithmetic and lowered one
/// ulp at a time if still needed. Errors name the metric index.
pub fn split_rho(total: f64, weights: &[f64]) -> Result<Vec<f64>, BudgetError> {
    if !(total.is_finite() && total > 0.0) {
        return Err(BudgetError::InvalidTotal { total });
    }
    for (index, &weight) in weights.iter().enumerate() {
        if !(weight.is_finite() && weight > 0.0) {
            return Err(BudgetError::InvalidWeight { index, weight });
        }
    }
    let sum: f64 = weights.iter().sum();
    if !sum.is_finite() {
        return Err(BudgetError::WeightsOverflow);
    }
    let n = weights.len().saturating_sub(1) as f64;
    let shrink = 1.0 - 2.0 * n * f64::EPSILON;
    let mut parts: Vec<f64> = weights.iter().map(|w| total * (w / sum) * shrink).collect();
    // Any order of f64 addition of n + 1 non-negative terms returns at most
    // the exact sum times (1 + 2^-53)^n, i.e. less than the exact sum plus
    // n · 2^-52 · total (twice the first-order error): keep that much
    // headroom, checked exactly.
    let headroom = n * f64::EPSILON * total;
    let mut nudges = 0;
    while exact_sum_exceeds(&with(&parts, headroom), total) {
        nudges += 1;
        if nudges > MAX_NUDGES {
            return Err(BudgetError::InvalidTotal { total });
        }
        for p in &mut parts {
            *p = p.next_down();
        }
    }
    if let Some(index) = parts.iter().position(|&p| p <= 0.0) {
        return Err(BudgetError::PartTooSmall { index });
    }
    Ok(parts)
}

fn with(parts: &[f64], extra: f64) -> Vec<f64> {
    let mut v = parts.to_vec();
    v.push(extra);
    v
}

/// Whether the exact (real-number) sum of `values` exceeds `total`, using
/// Shewchuk's error-free expansion (as in Python's `math.fsum`): the sign of a
/// non-overlapping expansion is the sign of its largest component.
fn exact_sum_exceeds(values: &[f64], total: f64) -> bool {
    let mut partials: Vec<f64> = Vec::new();
    for mut x in values.iter().copied().chain(std::iter::once(-total)) {
        let mut i = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        partials.truncate(i);
        partials.push(x);
    }
    partials
        .iter()
        .rev()
        .find(|p| **p != 0.0)
        .is_some_and(|p| *p > 0.0)
}

/// The noise scale σ for L2 sensitivity `l2` at budget `rho`.
///
/// Starts from `σ = l2 / sqrt(2ρ)`, builds OpenDP's discrete Gaussian with it
/// and raises σ one ulp at a time until OpenDP's privacy map gives
/// `map(l2) <= rho`, so the returned σ is accepted by
/// [`crate::add_discrete_gaussian`] with the same `l2` and `rho`.
pub fn sigma_for(l2: f64, rho: f64) -> Result<f64, BudgetError> {
    if !(l2.is_finite() && l2 > 0.0) {
        return Err(BudgetError::InvalidSensitivity { l2 });
    }
    if !(rho.is_finite() && rho > 0.0) {
        return Err(BudgetError::InvalidRho { rho });
    }
    let mut sigma = l2 / (2.0 * rho).sqrt();
    for _ in 0..MAX_NUDGES {
        if !(sigma.is_finite() && sigma > 0.0) {
            break;
        }
        let meas = gaussian(sigma).map_err(opendp("build the discrete Gaussian"))?;
        let spent = meas
            .map(&l2)
            .map_err(opendp("compute the discrete Gaussian's privacy loss"))?;
        if spent <= rho {
            return Ok(sigma);
        }
        sigma = sigma.next_up();
    }
    Err(BudgetError::Unsatisfiable { l2, rho })
}

/// The ρ that noise scale `sigma` costs at L2 sensitivity `l2`, from OpenDP's
/// privacy map (rounded up). `l2` may be 0 (costs nothing).
pub fn rho_of(l2: f64, sigma: f64) -> Result<f64, BudgetError> {
    if !(l2.is_finite() && l2 >= 0.0) {
        return Err(BudgetError::InvalidSensitivity { l2 });
    }
    if !(sigma.is_finite() && sigma > 0.0) {
        return Err(BudgetError::InvalidSigma { sigma });
    }
    gaussian(sigma)
        .map_err(opendp("build the discrete Gaussian"))?
        .map(&l2)
        .map_err(opendp("compute the discrete Gaussian's privacy loss"))
}

/// The ε such that ρ-zCDP implies (ε, δ)-DP, via OpenDP's conversion.
///
/// OpenDP converts measurements, not numbers, so this builds a discrete
/// Gaussian with σ = 1 and feeds it `d_in = sqrt(2ρ)` (raised an ulp at a time
/// until its map gives at least `rho`: the conversion then runs on a ρ' ≥ ρ),
/// wraps it with `make_zCDP_to_approxDP` and asks the resulting privacy
/// profile for `epsilon(delta)`. OpenDP bounds δ(ε) from above (Canonne,
/// Kamath & Steinke 2020, with conservative rounding) and returns an ε whose
/// δ(ε) is at most `delta`, so the ε returned is never below the true one.
/// `rho == 0` gives 0.
pub fn epsilon_for(rho: f64, delta: f64) -> Result<f64, BudgetError> {
    if !(rho.is_finite() && rho >= 0.0) {
        return Err(BudgetError::InvalidRho { rho });
    }
    if !(delta > 0.0 && delta < 1.0) {
        return Err(BudgetError::InvalidDelta { delta });
    }
    if rho == 0.0 {
        return Ok(0.0);
    }
    let meas = gaussian(1.0).map_err(opendp("build the discrete Gaussian"))?;
    let mut d_in = (2.0 * rho).sqrt();
    let mut found = false;
    for _ in 0..MAX_NUDGES {
        let mapped = meas
            .map(&d_in)
            .map_err(opendp("compute the discrete Gaussian's privacy loss"))?;
        if mapped >= rho {
            found = true;
            break;
        }
        d_in = d_in.next_up();
    }
    if !found {
        return Err(BudgetError::Unsatisfiable { l2: d_in, rho });
    }
    let approx = make_zCDP_to_approxDP(meas).map_err(opendp("convert zCDP to (ε, δ)-DP"))?;
    let profile = approx
        .map(&d_in)
        .map_err(opendp("convert zCDP to (ε, δ)-DP"))?;
    let eps = profile.epsilon(delta).map_err(opendp("find ε for δ"))?;
    if !eps.is_finite() {
        return Err(BudgetError::OpenDp {
            context: "find ε for δ",
            message: "ε is unbounded".into(),
        });
    }
    Ok(eps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sum_detects_one_ulp() {
        assert!(!exact_sum_exceeds(&[0.5, 0.5], 1.0));
        assert!(exact_sum_exceeds(&[0.5, 0.5f64.next_up()], 1.0));
        // 0.1 + 0.2 rounds to 0.30000000000000004 but the exact sum of the two
        // f64 values is below that f64.
        assert!(!exact_sum_exceeds(&[0.1, 0.2], 0.1 + 0.2));
        assert!(exact_sum_exceeds(&[0.1, 0.2], 0.3));
        // 1 + 2^-60 rounds to 1 in f64 but exceeds 1 exactly.
        assert!(exact_sum_exceeds(&[1.0, 2f64.powi(-60)], 1.0));
        assert!(!exact_sum_exceeds(&[], 1.0));
    }

    #[test]
    fn split_rho_lowers_parts_when_rounding_overshoots() {
        let total = 0.3;
        let parts = split_rho(total, &[1.0, 2.0]).unwrap();
        assert!(parts.iter().sum::<f64>() <= total);
        assert!(parts.iter().rev().sum::<f64>() <= total);
        assert!(!exact_sum_exceeds(&parts, total));
    }
}
