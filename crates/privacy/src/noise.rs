//! Discrete-Gaussian noise on a member's clipped integer cells, by OpenDP.
//!
//! Sampling is OpenDP's exact discrete Gaussian (Canonne, Kamath & Steinke
//! 2020) over integers, drawing from OpenSSL's CSPRNG: no floating-point
//! sampling and no sampler of our own. The RNG cannot be seeded, on purpose.

use thiserror::Error;

use crate::mech::{describe, gaussian, Gaussian};

/// How many σ of headroom a cell must keep below the `i64` limit: a discrete
/// Gaussian exceeds 40σ with probability below e^-800, so OpenDP's saturating
/// cast back to `i64` never changes a released value in practice.
pub const NOISE_HEADROOM_SIGMAS: f64 = 40.0;

/// Why noise was not added. Never carries a member's value: cells are named by
/// index.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum NoiseError {
    /// σ is not finite and positive.
    #[error("the noise scale σ must be a finite number greater than zero (got {sigma})")]
    InvalidSigma {
        /// The offending σ.
        sigma: f64,
    },
    /// The sensitivity is not finite and non-negative.
    #[error("the L2 sensitivity must be a finite number of at least zero (got {l2})")]
    InvalidSensitivity {
        /// The offending sensitivity.
        l2: f64,
    },
    /// ρ is not finite and non-negative.
    #[error("the budget ρ must be a finite number of at least zero (got {rho})")]
    InvalidRho {
        /// The offending ρ.
        rho: f64,
    },
    /// This σ at this sensitivity costs more than the budget allows.
    #[error("noise with σ = {sigma} at L2 sensitivity {l2} costs ρ = {needed}, more than the ρ = {rho} allowed; no noise was drawn")]
    BudgetExceeded {
        /// The noise scale asked for.
        sigma: f64,
        /// The sensitivity.
        l2: f64,
        /// What OpenDP's privacy map says this costs.
        needed: f64,
        /// The budget allowed.
        rho: f64,
    },
    /// σ is so large that 40σ does not fit in `i64`.
    #[error("the noise scale σ = {sigma} is too large for 64-bit cells")]
    NoiseTooLarge {
        /// The offending σ.
        sigma: f64,
    },
    /// The clip bound plus 40σ of noise does not fit in `i64`.
    #[error("noise of scale σ = {sigma} does not fit in 64-bit cells on top of the clip bound {bound} (fixed point): narrow the metric's clip bounds or its scale, or raise its share of rho")]
    BoundTooLarge {
        /// The noise scale.
        sigma: f64,
        /// The largest clip bound's magnitude.
        bound: u64,
    },
    /// A cell's value is too close to the `i64` limit for noise of this scale.
    #[error("cell {cell}: the value is too close to the 64-bit limit to add noise of this scale (check the metric's clip bounds)")]
    ValueTooLarge {
        /// Index of the cell.
        cell: usize,
    },
    /// OpenDP refused to build or map the measurement.
    #[error("OpenDP could not {context}: {message}")]
    OpenDp {
        /// What was being done.
        context: &'static str,
        /// OpenDP's message (about public parameters only).
        message: String,
    },
    /// OpenDP failed while sampling (e.g. the system RNG failed).
    #[error("OpenDP failed while drawing noise ({variant}); no noise was released")]
    Sampling {
        /// OpenDP's error kind; its message is dropped, as it could quote data.
        variant: String,
    },
}

/// Adds discrete-Gaussian noise of scale `sigma` to every cell.
///
/// `l2` is the member-level L2 sensitivity of `values` (after clipping) and
/// `rho` the budget of this metric. Refuses with
/// [`NoiseError::BudgetExceeded`] if OpenDP's privacy map gives
/// `map(l2) > rho`, and with [`NoiseError::ValueTooLarge`] if `|v| + 40σ`
/// could overflow `i64` for some cell; either way nothing is sampled.
/// Callers check the round's bounds first with [`check_discrete_gaussian`],
/// before anything is charged.
pub fn add_discrete_gaussian(
    values: &[i64],
    sigma: f64,
    l2: f64,
    rho: f64,
) -> Result<Vec<i64>, NoiseError> {
    let meas = checked_gaussian(sigma, l2, rho)?;
    sample(&meas, values, sigma)
}

/// Every check [`add_discrete_gaussian`] makes, for cells clipped to
/// `|v| ≤ bound`, without sampling: the parameters, OpenDP's privacy map
/// against `rho`, and the `i64` headroom of the bound plus 40σ. It depends
/// on the round alone, so `export` runs it before it charges anything.
pub fn check_discrete_gaussian(
    sigma: f64,
    l2: f64,
    rho: f64,
    bound: u64,
) -> Result<(), NoiseError> {
    checked_gaussian(sigma, l2, rho)?;
    check_headroom(bound, sigma)
}

fn checked_gaussian(sigma: f64, l2: f64, rho: f64) -> Result<Gaussian, NoiseError> {
    if !(sigma.is_finite() && sigma > 0.0) {
        return Err(NoiseError::InvalidSigma { sigma });
    }
    if !(l2.is_finite() && l2 >= 0.0) {
        return Err(NoiseError::InvalidSensitivity { l2 });
    }
    if !(rho.is_finite() && rho >= 0.0) {
        return Err(NoiseError::InvalidRho { rho });
    }
    let meas = gaussian(sigma).map_err(|e| NoiseError::OpenDp {
        context: "build the discrete Gaussian",
        message: describe(&e),
    })?;
    let needed = meas.map(&l2).map_err(|e| NoiseError::OpenDp {
        context: "compute the discrete Gaussian's privacy loss",
        message: describe(&e),
    })?;
    if needed > rho {
        return Err(NoiseError::BudgetExceeded {
            sigma,
            l2,
            needed,
            rho,
        });
    }
    Ok(meas)
}

/// Adds one member's share of two-server noise: discrete Gaussian noise of
/// scale `sigma_share` (σ/√n) on every cell.
///
/// Refuses unless the distributed discrete Gaussian bound for `parties`
/// members each adding this noise, at L2 sensitivity `l2` over the vector's
/// cells, is within `rho` plus the negligible slack
/// [`crate::distributed::MAX_SLACK_FRACTION`] allows (see
/// [`crate::distributed`]); nothing is sampled then. Callers check the
/// round's bounds first with [`check_noise_share`].
pub fn add_noise_share(
    values: &[i64],
    sigma_share: f64,
    l2: f64,
    parties: u32,
    rho: f64,
) -> Result<Vec<i64>, NoiseError> {
    let meas = checked_share(sigma_share, l2, parties, rho, values.len())?;
    sample(&meas, values, sigma_share)
}

/// Every check [`add_noise_share`] makes for `cells` cells clipped to
/// `|v| ≤ bound`, without sampling (see [`check_discrete_gaussian`]).
pub fn check_noise_share(
    sigma_share: f64,
    l2: f64,
    parties: u32,
    rho: f64,
    cells: usize,
    bound: u64,
) -> Result<(), NoiseError> {
    checked_share(sigma_share, l2, parties, rho, cells)?;
    check_headroom(bound, sigma_share)
}

fn checked_share(
    sigma_share: f64,
    l2: f64,
    parties: u32,
    rho: f64,
    cells: usize,
) -> Result<Gaussian, NoiseError> {
    if !(sigma_share.is_finite() && sigma_share >= 0.5) {
        return Err(NoiseError::InvalidSigma { sigma: sigma_share });
    }
    if !(l2.is_finite() && l2 >= 0.0) {
        return Err(NoiseError::InvalidSensitivity { l2 });
    }
    if !(rho.is_finite() && rho >= 0.0) || parties < 2 {
        return Err(NoiseError::InvalidRho { rho });
    }
    let needed = crate::distributed::ddg_rho(l2, sigma_share, parties, cells);
    // The central term is l2²/(2σ²) computed in f64; allow its rounding (1e-12)
    // on top of the slack the plan accepted.
    let allowed = rho * (1.0 + crate::distributed::MAX_SLACK_FRACTION + 1e-12);
    if needed > allowed {
        return Err(NoiseError::BudgetExceeded {
            sigma: sigma_share,
            l2,
            needed,
            rho,
        });
    }
    gaussian(sigma_share).map_err(|e| NoiseError::OpenDp {
        context: "build the discrete Gaussian",
        message: describe(&e),
    })
}

/// Whether noise of scale `sigma` fits in `i64` on top of any cell of
/// magnitude up to `bound` (a clip bound): `bound + ⌈40σ⌉ ≤ i64::MAX`. A
/// check on the round's bounds, never on a member's value, so whether it
/// passes says nothing about the member's data.
pub fn check_headroom(bound: u64, sigma: f64) -> Result<(), NoiseError> {
    let margin = (NOISE_HEADROOM_SIGMAS * sigma).ceil();
    // 2^63 is exact in f64; below it the cast is exact too.
    if !(margin < 9_223_372_036_854_775_808.0) {
        return Err(NoiseError::NoiseTooLarge { sigma });
    }
    match bound.checked_add(margin as u64) {
        Some(m) if m <= i64::MAX as u64 => Ok(()),
        _ => Err(NoiseError::BoundTooLarge { sigma, bound }),
    }
}

/// Draws OpenDP's noise onto `values` after checking the `i64` headroom.
fn sample(meas: &Gaussian, values: &[i64], sigma: f64) -> Result<Vec<i64>, NoiseError> {
    let margin = (NOISE_HEADROOM_SIGMAS * sigma).ceil();
    // 2^63 is exact in f64; below it the cast is exact too.
    if margin >= 9_223_372_036_854_775_808.0 {
        return Err(NoiseError::NoiseTooLarge { sigma });
    }
    let margin = margin as u64;
    if let Some(cell) = values.iter().position(|v| {
        v.unsigned_abs()
            .checked_add(margin)
            .is_none_or(|m| m > i64::MAX as u64)
    }) {
        return Err(NoiseError::ValueTooLarge { cell });
    }
    let noised = meas
        .invoke(&values.to_vec())
        .map_err(|e| NoiseError::Sampling {
            variant: e.variant.to_string(),
        })?;
    debug_assert_eq!(noised.len(), values.len());
    Ok(noised)
}
