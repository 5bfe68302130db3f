//! Accuracy of two-server mode's distributed noise against local mode, as the
//! issue states it: at n = n_min = 30 members and t = 0, over 20,000 cells,
//!
//! - each of 30 simulated members adds `add_noise_share` noise with the σ_m of
//!   `distributed::share_plan` to one fixed vector; the empirical sd of the
//!   summed error (Σ noised − Σ true, per cell) is within 5% of σ_central;
//! - the same cells in local mode (each member adds `add_discrete_gaussian`
//!   with the local plan's σ = σ_central) give a local / two-server sd ratio
//!   within 10% of √30.
//!
//! Tolerances are fixed. The relative standard error of an sd estimated from
//! N = 20,000 samples is 1/√(2N) = 0.5%, so 5% is 10 standard errors; the
//! ratio of two independent sds has a relative SE of 0.71%, and 10% is 14 of
//! them: a correct implementation fails with probability far below 1e-20.
//! σ_central = 2000 (σ_m ≈ 365) keeps OpenDP's exact sampler quick in a debug
//! build while the slack of the bound stays below 1e-30.
//!
//! Also: `add_noise_share` refuses (and draws nothing) whenever the distributed
//! discrete Gaussian bound for the parameters it is given exceeds ρ: a share
//! below the plan's σ_m, fewer parties than planned, a smaller ρ, and a
//! coarse share whose central term fits ρ but whose slack does not.

use coopbench_privacy::distributed::{ddg_rho, share_plan, slack, MAX_SLACK_FRACTION};
use coopbench_privacy::noise::{add_discrete_gaussian, add_noise_share, NoiseError};
use coopbench_privacy::sigma_for;
use std::time::Instant;

const MEMBERS: u32 = 30;
const CELLS: usize = 20_000;
/// L2 sensitivity and ρ chosen so that σ_central = L2 / √(2ρ) = 2000.
const L2: f64 = 2000.0;
const RHO: f64 = 0.5;

/// The fixed (clipped) vector every member holds: varied values, negative too.
fn fixed_vector(member: u32) -> Vec<i64> {
    (0..CELLS as i64)
        .map(|c| (c * 7919 + i64::from(member) * 104_729) % 100_003 - 50_000)
        .collect()
}

fn sd(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// Per cell, Σ over members of (noised − true), with each member's vector
/// noised by `noise`. Members run on two threads (two cores).
fn summed_errors(noise: &(dyn Fn(&[i64]) -> Vec<i64> + Sync)) -> Vec<f64> {
    let per_thread: Vec<Vec<i128>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|half| {
                s.spawn(move || {
                    let mut acc = vec![0i128; CELLS];
                    for m in (0..MEMBERS).filter(|m| m % 2 == half) {
                        let x = fixed_vector(m);
                        let y = noise(&x);
                        assert_eq!(y.len(), CELLS);
                        for ((a, y), x) in acc.iter_mut().zip(&y).zip(&x) {
                            *a += i128::from(*y) - i128::from(*x);
                        }
                    }
                    acc
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    (0..CELLS)
        .map(|c| per_thread.iter().map(|v| v[c]).sum::<i128>() as f64)
        .collect()
}

#[test]
fn two_server_error_is_central_and_local_error_is_sqrt_n_larger() {
    let plan = share_plan(L2, RHO, CELLS, MEMBERS).expect("the plan");
    assert_eq!(plan.parties, MEMBERS);
    assert!(
        plan.slack >= 0.0 && plan.slack < 1e-30,
        "slack {} at σ_m = {}",
        plan.slack,
        plan.sigma_share
    );
    let sigma_central = sigma_for(L2, RHO).unwrap();
    assert!((plan.sigma_central - sigma_central).abs() < 1e-9);
    assert!((sigma_central - 2000.0).abs() < 1e-6, "{sigma_central}");
    let share = plan.sigma_share;
    assert!((share * f64::from(MEMBERS).sqrt() / sigma_central - 1.0).abs() < 1e-9);

    let started = Instant::now();
    let two = summed_errors(&|x| add_noise_share(x, share, L2, MEMBERS, RHO).expect("share"));
    let t_two = started.elapsed();
    let started = Instant::now();
    // Local mode: the local plan's σ (one party) is σ_central itself.
    let local_sigma = sigma_for(L2, RHO).unwrap();
    let local = summed_errors(&|x| add_discrete_gaussian(x, local_sigma, L2, RHO).expect("local"));
    let t_local = started.elapsed();

    let sd_two = sd(&two);
    let sd_local = sd(&local);
    let ratio = sd_local / sd_two;
    let sqrt_n = f64::from(MEMBERS).sqrt();
    eprintln!(
        "{CELLS} cells, {MEMBERS} members: σ_central = {sigma_central:.4}, σ_m = {share:.4}; \
         two-server sd = {sd_two:.4} ({:.4} of σ_central, sampled in {t_two:.2?}); \
         local sd = {sd_local:.4} (sampled in {t_local:.2?}); ratio = {ratio:.4} (√30 = {sqrt_n:.4}, {:.4} of it)",
        sd_two / sigma_central,
        ratio / sqrt_n
    );
    assert!(
        (sd_two / sigma_central - 1.0).abs() <= 0.05,
        "two-server error sd {sd_two} is not within 5% of σ_central {sigma_central}"
    );
    assert!(
        (ratio / sqrt_n - 1.0).abs() <= 0.10,
        "local/two-server sd ratio {ratio} is not within 10% of √30 = {sqrt_n}"
    );
    // The errors are centred: |mean| within 6 standard errors.
    for (name, e, s) in [("two-server", &two, sd_two), ("local", &local, sd_local)] {
        let mean = e.iter().sum::<f64>() / e.len() as f64;
        assert!(
            mean.abs() <= 6.0 * s / (CELLS as f64).sqrt(),
            "{name}: mean error {mean}"
        );
    }
}

#[test]
fn add_noise_share_refuses_parameters_whose_bound_exceeds_rho() {
    let x = vec![5i64; 100];
    let plan = share_plan(L2, RHO, x.len(), MEMBERS).unwrap();
    let ok = add_noise_share(&x, plan.sigma_share, L2, MEMBERS, RHO).expect("the plan's own share");
    assert_eq!(ok.len(), x.len());
    let refused =
        |sigma: f64, parties: u32, rho: f64| match add_noise_share(&x, sigma, L2, parties, rho) {
            Err(NoiseError::BudgetExceeded { needed, .. }) => {
                assert!(needed > rho, "needed {needed} <= rho {rho}");
            }
            other => panic!(
                "σ = {sigma}, parties {parties}, ρ = {rho}: expected a refusal, got {other:?}"
            ),
        };
    // A share just below the plan's: the central term alone exceeds ρ.
    refused(plan.sigma_share * 0.999, MEMBERS, RHO);
    // The plan's share counted on fewer parties.
    refused(plan.sigma_share, MEMBERS - 1, RHO);
    // A smaller budget than the share was planned for.
    refused(plan.sigma_share, MEMBERS, RHO * 0.99);
    // Fewer than two parties, or a share below ½: never.
    assert!(add_noise_share(&x, plan.sigma_share, L2, 1, RHO).is_err());
    assert!(matches!(
        add_noise_share(&x, 0.49, 0.01, MEMBERS, 1e9),
        Err(NoiseError::InvalidSigma { .. })
    ));

    // A coarse share (σ_m = 0.6, 8 parties, Δ = √2, 1000 cells) whose central
    // term Δ²/(2nσ_m²) fits ρ with room to spare, but whose slack does not.
    let (l2, s, n, d) = (2f64.sqrt(), 0.6, 8u32, 1000usize);
    let central = l2 * l2 / (2.0 * f64::from(n) * s * s);
    let sl = slack(l2, s, n, d);
    assert!(
        sl > MAX_SLACK_FRACTION * central * 1.01,
        "slack {sl} is not negligible here"
    );
    let rho = central * (1.0 + 2.0 * MAX_SLACK_FRACTION);
    assert!(ddg_rho(l2, s, n, d) > rho);
    let v = vec![0i64; d];
    match add_noise_share(&v, s, l2, n, rho) {
        Err(NoiseError::BudgetExceeded { needed, .. }) => assert!(needed > rho),
        other => panic!("slack not counted: {other:?}"),
    }
    // The same with ρ covering central term and slack is accepted.
    let generous = ddg_rho(l2, s, n, d) * 1.000_001;
    assert!(add_noise_share(&v, s, l2, n, generous).is_ok());
}
