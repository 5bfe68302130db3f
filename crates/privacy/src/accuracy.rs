//! How accurate a figure is, and the one rule that says whether it can be
//! read: the [`Verdict`] every published figure carries (merge writes it
//! into each table, `inspect` and `compare` show it) and the expected noise
//! `plan` and `round preview` judge a round by, in both modes.
//!
//! The rule ([`total_verdict`], [`percentile_verdict`]):
//! - a total, count or mean is **readable** when its 95 % interval lies
//!   within ±25 % of it, **rough** within ±50 %, else **too noisy**;
//! - a percentile is **readable** when its 95 % interval spans at most 5
//!   bins and at most two thirds of the bins' range, **rough** at most 10
//!   bins and less than the whole range, else **too noisy**;
//! - a figure not published (too few members) is **suppressed**.
//!
//! The sd reported is σ, the scale of the continuous Gaussian that OpenDP's
//! discrete Gaussian discretises; the discrete Gaussian's true sd is never
//! larger, so these figures are conservative.

use crate::estimate::{self, BinGrid, PERCENTILES};
use crate::plan::NoisePlan;
use coopbench_protocol::{Mode, Round};
use serde::Serialize;

pub use crate::estimate::Z_95;

/// Noise sd and 95 % half-width of a figure, in the measure's units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Accuracy {
    /// Standard deviation of the noise.
    pub sd: f64,
    /// Half-width of the 95 % interval: `Z_95 · sd`.
    pub half_width_95: f64,
}

impl Accuracy {
    /// The accuracy of noise with standard deviation `sd`.
    pub fn from_sd(sd: f64) -> Self {
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

/// Whether a published figure can be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// Within the strict rule: read it as a figure.
    #[serde(rename = "readable")]
    Readable,
    /// Twice as loose: its order of magnitude, with its interval.
    #[serde(rename = "rough")]
    Rough,
    /// Noise, not data: never shown as a figure.
    #[serde(rename = "too noisy")]
    TooNoisy,
    /// Not published (too few members).
    #[serde(rename = "suppressed")]
    Suppressed,
}

impl Verdict {
    /// The word written into the tables and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Readable => "readable",
            Verdict::Rough => "rough",
            Verdict::TooNoisy => "too noisy",
            Verdict::Suppressed => "suppressed",
        }
    }

    /// The verdict written as [`Verdict::as_str`]; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Verdict::Readable,
            Verdict::Rough,
            Verdict::TooNoisy,
            Verdict::Suppressed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// Whether the figure may be shown as a number (readable or rough).
    pub fn shows_figure(self) -> bool {
        matches!(self, Verdict::Readable | Verdict::Rough)
    }
}

/// Whether a published table's column holds verdicts (Utf8 `verdict` or
/// `<figure>_verdict`), not a dimension.
pub fn is_verdict_column(name: &str) -> bool {
    name == "verdict" || name.ends_with("_verdict")
}

/// The verdict column of a figure column: `verdict` for `estimate`,
/// `<figure>_verdict` otherwise (`p50_verdict`, `mean_verdict`).
pub fn verdict_column(figure: &str) -> String {
    match figure {
        "estimate" => "verdict".into(),
        "mean_per_member" => "mean_verdict".into(),
        "members_noisy" => "members_verdict".into(),
        f => format!("{f}_verdict"),
    }
}

/// How a published figure is to be read, from its row's `suppressed` flag
/// and the verdict word written next to it: suppressed for a suppressed row,
/// the word's verdict otherwise, and **too noisy** when there is no word or
/// it is not one this version knows (a figure that cannot be judged is never
/// shown as data). Every reader of the tables (`inspect`, its CSV and JSON,
/// the association's report, `compare`) reads verdicts through this.
pub fn published_verdict(suppressed: bool, word: Option<&str>) -> Verdict {
    if suppressed {
        return Verdict::Suppressed;
    }
    word.and_then(Verdict::parse).unwrap_or(Verdict::TooNoisy)
}

/// Largest 95 % half-width of a readable total, count or mean, relative to it.
pub const READABLE_RELATIVE: f64 = 0.25;
/// Largest 95 % half-width of a rough total, count or mean, relative to it.
pub const ROUGH_RELATIVE: f64 = 0.5;
/// Most bins a readable percentile's 95 % interval spans.
pub const READABLE_BINS: f64 = 5.0;
/// Most bins a rough percentile's 95 % interval spans.
pub const ROUGH_BINS: f64 = 10.0;

/// The verdict of a total, count or mean `value` with 95 % interval
/// `[low, high]`: its larger half-width against `|value|`.
pub fn total_verdict(value: f64, low: f64, high: f64) -> Verdict {
    let half = (value - low).max(high - value);
    relative_verdict(half, value.abs())
}

/// The verdict of a figure of typical size `size` whose 95 % half-width is
/// `half` (the rule of [`total_verdict`]).
pub fn relative_verdict(half: f64, size: f64) -> Verdict {
    if !(half.is_finite() && size.is_finite()) || size <= 0.0 {
        return Verdict::TooNoisy;
    }
    match half / size {
        r if r <= READABLE_RELATIVE => Verdict::Readable,
        r if r <= ROUGH_RELATIVE => Verdict::Rough,
        _ => Verdict::TooNoisy,
    }
}

/// The verdict of a percentile whose 95 % interval is `[low, high]`, read
/// from `bins` bins `width` wide.
pub fn percentile_verdict(low: f64, high: f64, width: f64, bins: u32) -> Verdict {
    span_verdict((high - low) / width, bins)
}

/// The verdict of a percentile whose 95 % interval spans `span` bins of `bins`.
pub fn span_verdict(span: f64, bins: u32) -> Verdict {
    let bins = f64::from(bins);
    if !span.is_finite() {
        return Verdict::TooNoisy;
    }
    if span <= READABLE_BINS.min(bins * 2.0 / 3.0) {
        Verdict::Readable
    } else if span <= ROUGH_BINS && span < bins {
        Verdict::Rough
    } else {
        Verdict::TooNoisy
    }
}

/// Members whose noise a two-server round counts on: the round's
/// `n_min − t`, or for a local round the two-server round it could be
/// (a helper with `n_min = min_members_total`, `t = 0`), at least 2.
pub fn parties_for(round: &Round) -> u32 {
    round
        .two_server
        .as_ref()
        .map_or(round.min_members_total, |t| t.parties())
        .max(2)
}

/// The noise of one merged cell (ratio: one bin) with `n` contributions in
/// each mode, in the measure's units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BothModes {
    /// Every member adds the full noise: `σ · √n / scale`.
    pub local: Accuracy,
    /// Every member adds a 1/parties share of the variance: `σ · √(n / parties) / scale`.
    pub two_server: Accuracy,
}

/// [`BothModes`] for a metric's plan (σ of the guarantee) with `n`
/// contributions, counting on `parties` members' noise in two-server mode.
pub fn both_modes(p: &NoisePlan, parties: u32, n: usize) -> BothModes {
    let n = n as f64;
    BothModes {
        local: Accuracy::from_sd(p.sigma_central * n.sqrt() / p.scale),
        two_server: Accuracy::from_sd(
            p.sigma_central * (n / f64::from(parties.max(1))).sqrt() / p.scale,
        ),
    }
}

/// The accuracy in `mode` of [`both_modes`].
pub fn in_mode(b: BothModes, mode: Mode) -> Accuracy {
    match mode {
        Mode::Local => b.local,
        Mode::TwoServer => b.two_server,
    }
}

/// The expected accuracy of one percentile of a ratio metric.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PercentileAccuracy {
    /// `p10` … `p90`.
    pub name: &'static str,
    /// Mean absolute error of the published percentile, the metric's units.
    pub mean_abs_error: f64,
    /// Mean span of its 95 % interval, in bins.
    pub interval_bins: f64,
    /// The verdict of that mean span.
    pub verdict: Verdict,
}

/// Simulations behind [`expected_percentiles`].
pub const PREVIEW_SIMULATIONS: usize = 60;

/// The expected accuracy of each published percentile of a ratio metric
/// (`bins`), for `n` members whose values spread like a normal distribution
/// centred at `centre` with an sd of a sixth of the bins' range (the member
/// values sit at its `n` quantiles), with noise of sd `bin_sd` members per
/// bin: [`PREVIEW_SIMULATIONS`] merges simulated with a fixed seed and read
/// with the published estimator ([`estimate::ratio_estimate`]).
pub fn expected_percentiles(
    n: usize,
    bin_sd: f64,
    g: BinGrid,
    centre: f64,
) -> [PercentileAccuracy; 5] {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let top = g.lo + g.width * g.count as f64;
    let sd = (top - g.lo) / 6.0;
    let mut truth = vec![0.0; g.count + 1];
    for i in 0..n {
        let q = normal_quantile((i as f64 + 0.5) / n as f64);
        let v = (centre + sd * q).clamp(g.lo, top);
        let k = (((v - g.lo) / g.width).floor() as usize).min(g.count - 1);
        truth[k] += 1.0;
    }
    let true_p: Vec<f64> = PERCENTILES
        .iter()
        .map(|(_, p)| estimate::percentile(&truth[..g.count], g.lo, g.width, *p).unwrap_or(g.lo))
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x7072_6576_6965_77);
    let mut err = [0.0; 5];
    let mut span = [0.0; 5];
    for _ in 0..PREVIEW_SIMULATIONS {
        let noisy: Vec<f64> = truth
            .iter()
            .map(|t| {
                let z: f64 = StandardNormal.sample(&mut rng);
                t + bin_sd * z
            })
            .collect();
        match estimate::ratio_estimate(&noisy, n as f64, bin_sd, g) {
            Some(r) => {
                for j in 0..5 {
                    err[j] += (r.percentiles[j].value - true_p[j]).abs();
                    span[j] += (r.percentiles[j].high - r.percentiles[j].low) / g.width;
                }
            }
            None => {
                for j in 0..5 {
                    err[j] += top - g.lo;
                    span[j] += g.count as f64;
                }
            }
        }
    }
    let k = PREVIEW_SIMULATIONS as f64;
    std::array::from_fn(|j| {
        let interval_bins = span[j] / k;
        PercentileAccuracy {
            name: PERCENTILES[j].0,
            mean_abs_error: err[j] / k,
            interval_bins,
            verdict: span_verdict(interval_bins, g.count as u32),
        }
    })
}

/// The standard normal quantile Φ⁻¹(p), 0 < p < 1 (Acklam's rational
/// approximation, relative error below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The complementary error function, |relative error| < 1.2e-7 (Numerical
/// Recipes' Chebyshev fit `erfcc`).
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
/// sd `sd` (normal approximation with a continuity correction of one half).
/// With `sd == 0`, the exact answer.
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
    fn units_and_growth() {
        let a = per_member(250.0, 100.0);
        assert_eq!(a.sd, 2.5);
        assert_eq!(a.half_width_95, 2.5 * Z_95);
        let m = merged_local(250.0, 100.0, 16);
        assert_eq!(m.sd, 10.0);
        assert_eq!(merged_local(3.0, 1.0, 0).sd, 0.0);
    }

    #[test]
    fn the_rule_is_at_least_as_strict_as_stated() {
        assert_eq!(total_verdict(100.0, 75.0, 125.0), Verdict::Readable);
        assert_eq!(total_verdict(100.0, 74.0, 125.0), Verdict::Rough);
        assert_eq!(total_verdict(100.0, 60.0, 151.0), Verdict::TooNoisy);
        assert_eq!(total_verdict(-100.0, -125.0, -75.0), Verdict::Readable);
        assert_eq!(total_verdict(0.0, -1.0, 1.0), Verdict::TooNoisy);
        assert_eq!(total_verdict(f64::NAN, 0.0, 1.0), Verdict::TooNoisy);
        // 20 bins of 0.05: 5 bins is 0.25.
        assert_eq!(percentile_verdict(0.5, 0.75, 0.05, 20), Verdict::Readable);
        assert_eq!(percentile_verdict(0.5, 0.76, 0.05, 20), Verdict::Rough);
        assert_eq!(percentile_verdict(0.2, 0.8, 0.05, 20), Verdict::TooNoisy);
        // 6 bins: at most two thirds of the range (4 bins) is readable.
        assert_eq!(span_verdict(4.0, 6), Verdict::Readable);
        assert_eq!(span_verdict(4.5, 6), Verdict::Rough);
        assert_eq!(span_verdict(6.0, 6), Verdict::TooNoisy);
        for v in [
            Verdict::Readable,
            Verdict::Rough,
            Verdict::TooNoisy,
            Verdict::Suppressed,
        ] {
            assert_eq!(Verdict::parse(v.as_str()), Some(v));
        }
        assert!(!Verdict::TooNoisy.shows_figure() && !Verdict::Suppressed.shows_figure());
        assert_eq!(Verdict::parse("readable "), None);
        assert_eq!(
            published_verdict(true, Some("readable")),
            Verdict::Suppressed
        );
        assert_eq!(published_verdict(false, Some("rough")), Verdict::Rough);
        assert_eq!(published_verdict(false, None), Verdict::TooNoisy);
        assert_eq!(published_verdict(false, Some("fine")), Verdict::TooNoisy);
    }

    #[test]
    fn normal_tails_and_quantiles() {
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-6);
        assert!((normal_quantile(0.975) - Z_95).abs() < 1e-8);
        assert!((normal_quantile(0.01) + 2.326_347_874).abs() < 1e-8);
        assert!(prob_below(30.0, 3.0, 5.0) < 1e-10);
        assert_eq!(prob_below(4.0, 0.0, 5.0), 1.0);
    }

    #[test]
    fn expected_percentiles_grow_with_noise() {
        let g = BinGrid {
            lo: 0.0,
            width: 0.05,
            count: 20,
        };
        let quiet = expected_percentiles(30, 0.5, g, 0.5);
        let loud = expected_percentiles(30, 8.0, g, 0.5);
        for (q, l) in quiet.iter().zip(&loud) {
            assert!(q.mean_abs_error < l.mean_abs_error, "{q:?} {l:?}");
            assert!(q.interval_bins < l.interval_bins);
        }
        assert_eq!(quiet[2].verdict, Verdict::Readable);
        assert_ne!(loud[0].verdict, Verdict::Readable);
    }
}
