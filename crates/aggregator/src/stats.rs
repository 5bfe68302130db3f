//! The published figures' arithmetic, all of it post-processing of noised
//! sums: estimates and their intervals, means per active member with a
//! delta-method sd, ratio histograms turned into percentiles, and the normal
//! tail probabilities `round preview` uses. Pure functions, no I/O.

/// The two-sided 95 % normal quantile.
pub use coopbench_privacy::accuracy::Z_95;

/// The percentiles published for ratio metrics, in column order.
pub const PERCENTILES: [(&str, f64); 5] = [
    ("p10", 0.10),
    ("p25", 0.25),
    ("p50", 0.50),
    ("p75", 0.75),
    ("p90", 0.90),
];

/// A merged sum or count in the measure's units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The noisy total: the exact integer sum of the members' noised cells,
    /// divided by the fixed-point scale.
    pub estimate: f64,
    /// Standard deviation of the noise in `estimate`: `sqrt(Σ σᵢ²) / scale`.
    pub noise_sd: f64,
    /// `estimate − 1.96 · noise_sd`.
    pub ci95_low: f64,
    /// `estimate + 1.96 · noise_sd`.
    pub ci95_high: f64,
}

/// The estimate of a cell from its exact integer sum and the noise scales
/// (σᵢ, fixed-point units) of the contributions summed.
pub fn estimate(sum: i128, sum_sigma_sq: f64, scale: f64) -> Estimate {
    let estimate = sum as f64 / scale;
    let noise_sd = sum_sigma_sq.sqrt() / scale;
    Estimate {
        estimate,
        noise_sd,
        ci95_low: estimate - Z_95 * noise_sd,
        ci95_high: estimate + Z_95 * noise_sd,
    }
}

/// The mean per active member, `S / A`, and its sd by the delta method.
///
/// `S` (a cell's noisy total, sd `s_S`) and `A` (the noisy number of active
/// members in the cell, sd `s_A`) carry independent noise: they are different
/// metrics, each member noises them with independent draws. To first order,
/// `S/A − s/a ≈ (S − s)/a − s (A − a)/a²`, so
///
/// `Var(S/A) ≈ s_S² / A² + S² s_A² / A⁴`, i.e.
/// `sd = sqrt(s_S² + (S/A)² · s_A²) / |A|`,
///
/// evaluated at the noisy `S` and `A` (the true ones are not known). The sd
/// covers the privacy noise only: the members' figures are the population,
/// not a sample. The approximation is good when `A` is many times `s_A`; a
/// cell whose `A` is small is suppressed before this is computed.
pub fn mean_per_member(total: f64, total_sd: f64, active: f64, active_sd: f64) -> (f64, f64) {
    let mean = total / active;
    let sd = (total_sd * total_sd + mean * mean * active_sd * active_sd).sqrt() / active.abs();
    (mean, sd)
}

/// The post-processed noisy histogram: negative counts become 0. Clamping is
/// enough for consistency here: the counts are then a valid (unnormalised)
/// histogram whose total is the noisy number of members in the group, and the
/// percentiles below are monotone in p.
pub fn clamp_histogram(noisy: &[f64]) -> Vec<f64> {
    noisy.iter().map(|c| c.max(0.0)).collect()
}

/// The `p`-quantile (0 < p < 1) of a histogram over equal bins starting at
/// `lo`, `width` wide: the CDF is linear inside each bin (counts spread evenly
/// over it), so the result is `lo_k + width · (p·total − below_k) / count_k`
/// for the first bin `k` whose cumulative count reaches `p · total`. Never an
/// actual member's value, only a point inside a bin. `None` for an empty
/// histogram.
pub fn percentile(hist: &[f64], lo: f64, width: f64, p: f64) -> Option<f64> {
    let total: f64 = hist.iter().sum();
    if total.is_nan() || total <= 0.0 || hist.is_empty() {
        return None;
    }
    let target = p * total;
    let mut below = 0.0;
    for (k, &c) in hist.iter().enumerate() {
        if c > 0.0 && below + c >= target {
            let within = ((target - below) / c).clamp(0.0, 1.0);
            return Some(lo + width * (k as f64 + within));
        }
        below += c;
    }
    // Rounding left the target a hair above the total: the top of the last
    // non-empty bin.
    let last = hist.iter().rposition(|c| *c > 0.0)?;
    Some(lo + width * (last as f64 + 1.0))
}

/// The histogram's mean, each bin's count at its midpoint. `None` when empty.
pub fn histogram_mean(hist: &[f64], lo: f64, width: f64) -> Option<f64> {
    let total: f64 = hist.iter().sum();
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let weighted: f64 = hist
        .iter()
        .enumerate()
        .map(|(k, c)| c * (lo + width * (k as f64 + 0.5)))
        .sum();
    Some(weighted / total)
}

/// The complementary error function, |relative error| < 1.2e-7 (Numerical
/// Recipes' Chebyshev fit `erfcc`): plenty for the probabilities `round
/// preview` prints as percentages.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The standard normal CDF Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// P(X < threshold) for an integer-valued count X with mean `mean` and noise
/// sd `sd` (normal approximation with a continuity correction of one half:
/// X < m means X ≤ m − 1). With `sd == 0`, the exact answer.
pub fn prob_below(mean: f64, sd: f64, threshold: f64) -> f64 {
    if sd <= 0.0 {
        return if mean < threshold { 1.0 } else { 0.0 };
    }
    normal_cdf((threshold - 0.5 - mean) / sd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_and_interval() {
        let e = estimate(12_345, 4.0 * 100.0 * 100.0, 100.0);
        assert_eq!(e.estimate, 123.45);
        assert_eq!(e.noise_sd, 2.0);
        assert!((e.ci95_low - (123.45 - 2.0 * Z_95)).abs() < 1e-12);
        assert!((e.ci95_high - (123.45 + 2.0 * Z_95)).abs() < 1e-12);
    }

    #[test]
    fn delta_method_matches_a_simulation_free_check() {
        // With no noise in A the sd is s_S / A.
        let (m, sd) = mean_per_member(1000.0, 50.0, 10.0, 0.0);
        assert_eq!(m, 100.0);
        assert_eq!(sd, 5.0);
        // With noise in A only, sd = (S/A) · s_A / A.
        let (_, sd) = mean_per_member(1000.0, 0.0, 10.0, 2.0);
        assert!((sd - 20.0).abs() < 1e-12);
        // Both: root of the sum of squares.
        let (_, sd) = mean_per_member(1000.0, 50.0, 10.0, 2.0);
        assert!((sd - (25.0f64 + 400.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn percentiles_on_a_uniform_histogram_are_exact() {
        // 10 members in each of 4 bins over [0, 1): a uniform CDF.
        let h = [10.0, 10.0, 10.0, 10.0];
        for (_, p) in PERCENTILES {
            let v = percentile(&h, 0.0, 0.25, p).unwrap();
            assert!((v - p).abs() < 1e-12, "p{p}: {v}");
        }
        assert!((histogram_mean(&h, 0.0, 0.25).unwrap() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn percentiles_interpolate_inside_the_bin() {
        // Bins [0,1) [1,2) [2,3) [3,4) with counts 0, 4, 0, 6 (total 10).
        let h = [0.0, 4.0, 0.0, 6.0];
        // p10: target 1 of 4 in bin 1 -> 1 + 1/4.
        assert_eq!(percentile(&h, 0.0, 1.0, 0.10), Some(1.25));
        // p25: target 2.5 -> 1 + 2.5/4.
        assert_eq!(percentile(&h, 0.0, 1.0, 0.25), Some(1.625));
        // p50: target 5 -> bin 3 (empty bin 2 skipped), 3 + 1/6.
        assert!((percentile(&h, 0.0, 1.0, 0.50).unwrap() - (3.0 + 1.0 / 6.0)).abs() < 1e-12);
        // p90: target 9 -> 3 + 5/6.
        assert!((percentile(&h, 0.0, 1.0, 0.90).unwrap() - (3.0 + 5.0 / 6.0)).abs() < 1e-12);
        // Exactly at a bin's top: p40 -> target 4 = the top of bin 1.
        assert_eq!(percentile(&h, 0.0, 1.0, 0.40), Some(2.0));
        // Mean from midpoints: (4·1.5 + 6·3.5) / 10.
        assert_eq!(histogram_mean(&h, 0.0, 1.0), Some(2.7));
        // Offsets and widths.
        assert_eq!(percentile(&h, 10.0, 0.5, 0.10), Some(10.0 + 0.5 * 1.25));
        assert_eq!(percentile(&[0.0, 0.0], 0.0, 1.0, 0.5), None);
        assert_eq!(histogram_mean(&[], 0.0, 1.0), None);
    }

    #[test]
    fn percentiles_are_monotone_after_clamping() {
        let noisy = [-3.0, 7.0, -1.0, 2.0, 5.0, -0.5, 9.0];
        let h = clamp_histogram(&noisy);
        assert_eq!(h, vec![0.0, 7.0, 0.0, 2.0, 5.0, 0.0, 9.0]);
        let mut last = f64::NEG_INFINITY;
        for i in 1..100 {
            let v = percentile(&h, -1.0, 0.3, f64::from(i) / 100.0).unwrap();
            assert!(v >= last);
            assert!((-1.0..=-1.0 + 0.3 * 7.0).contains(&v));
            last = v;
        }
    }

    #[test]
    fn normal_tails() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158_655_253_9).abs() < 1e-6);
        assert!((erfc(3.0) - 2.209_049_699_858_544e-5).abs() < 1e-9);
        // 30 members, sd 3, fewer than 5: almost never.
        assert!(prob_below(30.0, 3.0, 5.0) < 1e-10);
        // At the threshold itself: a bit under a half (X ≤ 4 when the mean is 5).
        let p = prob_below(5.0, 2.0, 5.0);
        assert!((p - normal_cdf(-0.25)).abs() < 1e-12);
        assert_eq!(prob_below(4.0, 0.0, 5.0), 1.0);
        assert_eq!(prob_below(5.0, 0.0, 5.0), 0.0);
    }
}
