//! Expected accuracy of noised figures, in the measure's own units, so that
//! `round preview` and `plan` can say how noisy a figure will be before any
//! budget is spent.
//!
//! The sd reported is σ, the scale of the continuous Gaussian that OpenDP's
//! discrete Gaussian discretises; the discrete Gaussian's true sd is never
//! larger, so these figures are conservative.

use serde::Serialize;

/// The two-sided 95 % normal quantile.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// Noise sd and 95 % half-width of a figure, in the measure's units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Accuracy {
    /// Standard deviation of the noise.
    pub sd: f64,
    /// Half-width of the 95 % interval: `Z_95 · sd`.
    pub half_width_95: f64,
}

impl Accuracy {
    fn from_sd(sd: f64) -> Self {
        Accuracy {
            sd,
            half_width_95: Z_95 * sd,
        }
    }
}

/// Accuracy of one member's noised cell: `sd = σ / scale`.
pub fn per_member(sigma: f64, scale: f64) -> Accuracy {
    Accuracy::from_sd(sigma / scale)
}

/// Accuracy of a cell summed over `n` members in local mode, each having added
/// independent noise of scale σ: `sd = σ · √n / scale`.
pub fn merged_local(sigma: f64, scale: f64, n: usize) -> Accuracy {
    Accuracy::from_sd(sigma * (n as f64).sqrt() / scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_growth() {
        let a = per_member(250.0, 100.0);
        assert_eq!(a.sd, 2.5);
        assert_eq!(a.half_width_95, 2.5 * Z_95);
        let m = merged_local(250.0, 100.0, 16);
        assert_eq!(m.sd, 10.0);
        assert!((m.half_width_95 - 19.599_639_845_400_54).abs() < 1e-12);
        assert_eq!(merged_local(3.0, 1.0, 0).sd, 0.0);
    }
}
