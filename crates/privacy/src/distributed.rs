//! Accounting for two-server mode, where each member adds only a share of the
//! noise: the distributed discrete Gaussian (Kairouz, Liu & Steinke, "The
//! Distributed Discrete Gaussian Mechanism for Federated Learning with Secure
//! Aggregation", ICML 2021, Theorem 1).
//!
//! Each of the `n` members whose noise is counted on (`n = n_min − t`: the
//! fewest contributions a round may be merged with, less the colluding members
//! tolerated) adds discrete Gaussian noise N_Z(0, σ_m²) with σ_m = σ / √n,
//! where σ is the central noise scale the metric's ρ buys. The sum of `n`
//! discrete Gaussians is not exactly a discrete Gaussian; the theorem bounds
//! the release of `x + Σ noise` (L2 sensitivity Δ, `d` cells) by
//! ½ε²-zCDP with
//!
//! ```text
//!   τ = 10 · Σ_{k=1}^{n−1} exp(−2π² σ_m² · k/(k+1))
//!   ε = min( sqrt(Δ²/(n σ_m²) + 2τd),  Δ/(√n σ_m) + τ√d )      (σ_m ≥ 1/2)
//! ```
//!
//! The first term alone is the central guarantee Δ²/(2σ²) = ρ; the rest is the
//! slack, stated in the round and the manifest. Parameters whose slack exceeds
//! [`MAX_SLACK_FRACTION`] of ρ are refused. τ falls like exp(−π²σ_m²), and the
//! slack is of the order of τ (times √d or d): τ ≈ 9·10⁻⁸ at σ_m ≈ 1.37,
//! ≈ 7·10⁻¹⁷ at σ_m = 2, ≈ 3·10⁻⁵⁵ at σ_m ≈ 3.6 (so the slack there is of the
//! order of 10⁻⁵⁵, not 10⁻⁷), ≈ 7·10⁻¹⁰⁷ at σ_m = 5, and for money sums (σ_m
//! in the thousands) it is 0.0 in floating point. Metrics
//! whose cells are 0 or 1 (active, ratio) need a whole-number `scale` in
//! two-server rounds to keep σ_m large enough.

use crate::budget::{sigma_for, BudgetError};
use std::f64::consts::PI;
use thiserror::Error;

/// The largest slack accepted, as a fraction of the metric's ρ.
pub const MAX_SLACK_FRACTION: f64 = 1e-6;

/// Why two-server noise parameters are refused.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DistributedError {
    /// Fewer than two members' noise would be counted on.
    #[error("n_min − t is {parties}; two-server mode needs at least 2 members' noise to count on")]
    TooFewParties {
        /// n_min − t.
        parties: u32,
    },
    /// The per-member σ is below the theorem's ½.
    #[error("each member's noise share would have σ = {sigma_share:.3}, below the 1/2 the distributed discrete Gaussian bound needs: give the metric a finer fixed-point scale (e.g. scale = 16: the same figures in units 16 times smaller, noise included), or lower n_min − t")]
    ShareTooSmall {
        /// σ_m.
        sigma_share: f64,
    },
    /// The slack term is not negligible.
    #[error("the distributed discrete Gaussian's slack ({slack:.3e}) is more than {MAX_SLACK_FRACTION:e} of ρ = {rho:.4}: each member's noise share (σ = {sigma_share:.3}) is too coarse for the sum of shares to behave as one discrete Gaussian; give the metric a finer fixed-point scale (e.g. scale = 16 for active and ratio metrics, whose cells are 0 or 1), or lower n_min − t")]
    SlackTooLarge {
        /// The slack in ρ.
        slack: f64,
        /// The metric's ρ.
        rho: f64,
        /// σ_m.
        sigma_share: f64,
    },
    /// The central σ could not be computed.
    #[error(transparent)]
    Budget(#[from] BudgetError),
}

/// One metric's two-server noise parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SharePlan {
    /// n = n_min − t: members whose noise the guarantee counts on.
    pub parties: u32,
    /// σ of the central guarantee (what a trusted curator would add).
    pub sigma_central: f64,
    /// σ_m: what each member adds (σ_central / √n, rounded up).
    pub sigma_share: f64,
    /// The slack of the bound in ρ (≥ 0).
    pub slack: f64,
}

/// τ of the theorem for `parties` members each adding N_Z(0, σ_m²).
pub fn tau(sigma_share: f64, parties: u32) -> f64 {
    let s2 = sigma_share * sigma_share;
    10.0 * (1..parties)
        .map(|k| {
            let k = f64::from(k);
            (-2.0 * PI * PI * s2 * k / (k + 1.0)).exp()
        })
        .sum::<f64>()
}

/// The slack in ρ beyond the central term Δ²/(2nσ_m²), computed without
/// cancellation: ½·min(2τd, 2τ√(d·base) + τ²d) with base = Δ²/(nσ_m²).
pub fn slack(l2: f64, sigma_share: f64, parties: u32, cells: usize) -> f64 {
    let t = tau(sigma_share, parties);
    if t == 0.0 {
        return 0.0;
    }
    let d = cells as f64;
    let base = l2 * l2 / (f64::from(parties) * sigma_share * sigma_share);
    0.5 * (2.0 * t * d).min(2.0 * t * (d * base).sqrt() + t * t * d)
}

/// The ρ the theorem gives, ½ε² (central term plus slack).
pub fn ddg_rho(l2: f64, sigma_share: f64, parties: u32, cells: usize) -> f64 {
    let base = l2 * l2 / (f64::from(parties) * sigma_share * sigma_share);
    0.5 * base + slack(l2, sigma_share, parties, cells)
}

/// The two-server parameters for a metric of L2 sensitivity `l2`, budget
/// `rho` and `cells` cells, counting on `parties = n_min − t` members' noise.
pub fn share_plan(
    l2: f64,
    rho: f64,
    cells: usize,
    parties: u32,
) -> Result<SharePlan, DistributedError> {
    if parties < 2 {
        return Err(DistributedError::TooFewParties { parties });
    }
    let sigma_central = sigma_for(l2, rho)?;
    let n = f64::from(parties);
    let mut sigma_share = sigma_central / n.sqrt();
    // Never let n·σ_m² fall below σ² by rounding.
    while n * sigma_share * sigma_share < sigma_central * sigma_central {
        sigma_share = sigma_share.next_up();
    }
    if sigma_share < 0.5 {
        return Err(DistributedError::ShareTooSmall { sigma_share });
    }
    let slack = slack(l2, sigma_share, parties, cells);
    if slack > MAX_SLACK_FRACTION * rho {
        return Err(DistributedError::SlackTooLarge {
            slack,
            rho,
            sigma_share,
        });
    }
    Ok(SharePlan {
        parties,
        sigma_central,
        sigma_share,
        slack,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tau_at_the_documented_scales() {
        // The figures in the module documentation.
        assert!((tau(1.37, 4) / 9.0357e-8 - 1.0).abs() < 1e-3);
        assert!((tau(3.6, 30) / 2.8142e-55 - 1.0).abs() < 1e-3);
        assert!((tau(5.0, 30) / 6.9524e-107 - 1.0).abs() < 1e-3);
    }

    #[test]
    fn tau_matches_a_hand_computed_value() {
        // n = 3, σ_m = 0.5: 10·(e^{-π²/4} + e^{-π²/3}).
        let want = 10.0 * ((-PI * PI / 4.0).exp() + (-PI * PI / 3.0).exp());
        assert!((tau(0.5, 3) - want).abs() < 1e-15);
        assert_eq!(tau(5.0, 1), 0.0, "one party: no sum, no slack");
    }

    #[test]
    fn slack_is_the_smaller_of_the_two_bounds() {
        let (l2, s, n, d) = (2.0, 0.6, 10, 50);
        let t = tau(s, n);
        let base = l2 * l2 / (f64::from(n) * s * s);
        let e1 = (base + 2.0 * t * d as f64).sqrt();
        let e2 = base.sqrt() + t * (d as f64).sqrt();
        let want = 0.5 * e1.min(e2).powi(2);
        let got = ddg_rho(l2, s, n, d);
        assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
        assert!(slack(l2, s, n, d) > 0.0);
    }

    #[test]
    fn shares_carry_the_central_variance_and_negligible_slack() {
        let p = share_plan(1.0e6, 0.05, 2000, 30).unwrap();
        assert!(30.0 * p.sigma_share.powi(2) >= p.sigma_central.powi(2));
        assert!((p.sigma_share * 30f64.sqrt() / p.sigma_central - 1.0).abs() < 1e-12);
        assert_eq!(p.slack, 0.0);
        // The central term reproduces ρ.
        let rho = ddg_rho(1.0e6, p.sigma_share, 30, 2000);
        assert!((rho - 0.05).abs() < 1e-9, "{rho}");
    }

    #[test]
    fn refuses_too_few_parties_tiny_shares_and_real_slack() {
        assert_eq!(
            share_plan(1.0, 0.1, 10, 1),
            Err(DistributedError::TooFewParties { parties: 1 })
        );
        // Δ = √2 (a one-hot histogram) with a generous ρ and many parties: σ_m < ½.
        assert!(matches!(
            share_plan(2f64.sqrt(), 2.0, 10, 100),
            Err(DistributedError::ShareTooSmall { .. })
        ));
        // σ_m just above ½ leaves a slack that is far from negligible.
        assert!(matches!(
            share_plan(2f64.sqrt(), 0.25, 1000, 8),
            Err(DistributedError::SlackTooLarge { .. })
        ));
    }
}
