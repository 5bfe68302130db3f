//! Statistical checks of the discrete-Gaussian noise as this crate adds it.
//!
//! OpenDP's RNG is OpenSSL's CSPRNG and cannot be seeded, so these tests are
//! random on every run; tolerances are fixed so that a correct sampler fails
//! with negligible probability while a wrong scale, a bias of a fraction of a
//! standard error times a few, or a wrong shape fails reliably:
//! - sd within 3 % of σ: at n = 20 000 the sd estimate has a relative standard
//!   error of about 0.5 %, so 3 % is ~6 standard errors (p ≈ 2e-9).
//! - mean within 5 standard errors (σ/√n · 5): p ≈ 6e-7 per check. (3 standard
//!   errors would fail a correct sampler once in ~370 runs per check.)
//! - share of |noise| <= σ within 5 standard errors of the exact discrete
//!   Gaussian value: a Laplace of the same variance would be off by ~20.

use std::time::Instant;

use coopbench_privacy::{add_discrete_gaussian, rho_of};

const N: usize = 20_000;

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// P(|Z| <= sigma) for the discrete Gaussian with scale `sigma`, from its pmf.
fn discrete_share_within(sigma: f64) -> f64 {
    let bound = (60.0 * sigma).ceil() as i64;
    let w = |x: i64| (-((x * x) as f64) / (2.0 * sigma * sigma)).exp();
    let total: f64 = (-bound..=bound).map(w).sum();
    let inside: f64 = (-(sigma.floor() as i64)..=(sigma.floor() as i64))
        .map(w)
        .sum();
    inside / total
}

/// Noises `centres` with σ at a budget exactly meeting sensitivity 1 and
/// returns the residuals (noised − centre).
fn residuals(centres: &[i64], sigma: f64) -> Vec<f64> {
    let l2 = 1.0;
    let rho = rho_of(l2, sigma).unwrap();
    let start = Instant::now();
    let noised = add_discrete_gaussian(centres, sigma, l2, rho).unwrap();
    eprintln!(
        "sampled {} cells at sigma = {sigma} in {:.2?}",
        centres.len(),
        start.elapsed()
    );
    assert_eq!(noised.len(), centres.len());
    noised
        .iter()
        .zip(centres)
        .map(|(&y, &c)| (i128::from(y) - i128::from(c)) as f64)
        .collect()
}

fn check(res: &[f64], sigma: f64) {
    let n = res.len() as f64;
    let (mean, sd) = mean_sd(res);
    let se = sigma / n.sqrt();
    assert!(
        (sd / sigma - 1.0).abs() <= 0.03,
        "sigma = {sigma}: empirical sd {sd} is not within 3% of sigma"
    );
    assert!(
        mean.abs() <= 5.0 * se,
        "sigma = {sigma}: mean residual {mean} is more than 5 standard errors ({se}) from 0"
    );
    let p = discrete_share_within(sigma);
    let within = res.iter().filter(|r| r.abs() <= sigma.floor()).count() as f64 / n;
    let se_p = (p * (1.0 - p) / n).sqrt();
    assert!(
        (within - p).abs() <= 5.0 * se_p,
        "sigma = {sigma}: share within ±σ is {within}, expected {p} (se {se_p})"
    );
}

#[test]
fn constant_input_sigma_5() {
    let centre = 1_234;
    let res = residuals(&vec![centre; N], 5.0);
    check(&res, 5.0);
}

#[test]
fn constant_input_sigma_1000() {
    let centre = -7_000_000;
    let res = residuals(&vec![centre; N], 1000.0);
    check(&res, 1000.0);
}

#[test]
fn vector_with_different_centres() {
    let sigma = 50.0;
    // Centres spread over ±10^10, plus two cells near the i64 limits (40σ =
    // 2000 of headroom is required; these keep 10 000).
    let mut centres: Vec<i64> = (0..N as i64)
        .map(|i| (i - N as i64 / 2) * 1_000_003)
        .collect();
    centres[0] = i64::MAX - 10_000;
    centres[1] = i64::MIN + 10_000;
    let res = residuals(&centres, sigma);
    check(&res, sigma);
    // A noised value near the limit is its centre plus ordinary noise, not a
    // saturated i64::MAX / i64::MIN.
    assert!(res[0].abs() < 40.0 * sigma && res[1].abs() < 40.0 * sigma);
}
