//! The published percentiles at n = 30, simulated end to end with OpenDP's
//! sampler: 30 generated bakeries (crates/datagen) each put their gross
//! margin as one unit into the example round's histogram (6 bins of 0.05
//! from 0.50 to 0.80, then "no value"), each adds its two-server noise
//! share with OpenDP's discrete Gaussian ([`add_noise_share`]), the shares
//! are summed and the merge's estimator reads the percentiles
//! ([`ratio_estimate`]). The truth is the noise-free histogram's percentile:
//! what the merge would publish without privacy noise.
//!
//! Tolerances are the required ones, fixed; the number of merges makes them
//! safe. A 1,000-merge run (`calibrate`, at ρ 0.3/5.5, more noise than the
//! example round's 0.6/6) measured: median
//! within one bin in 98.0 % of merges; p25/p75 mean absolute error 0.021 and
//! 0.019 (one bin is 0.05); coverage of the 95 % intervals 94.4–96.6 %. At
//! 2,000 merges the binomial sd of a rate near 0.96 is 0.44 points: 99 % is
//! 5.4 sd above the highest coverage measured and 90 % 10 sd below the
//! lowest, 95 % for the median 6 sd below its rate (each tail below 1e-7,
//! all five percentiles together below 1e-6); the mean absolute errors are
//! less than half a bin with a standard error under 0.001.

use coopbench_privacy::add_noise_share;
use coopbench_privacy::estimate::{
    clamp_histogram, percentile, ratio_estimate, BinGrid, PERCENTILES,
};
use coopbench_privacy::{budget, sensitivity};

/// Members in the pool.
const N: usize = 30;
/// n_min − t of the example round's helper.
const PARTIES: u32 = 25;
/// The example round's gross-margin bins.
const GRID: BinGrid = BinGrid {
    lo: 0.50,
    width: 0.05,
    count: 6,
};
/// The example round's fixed-point scale of ratio metrics.
const SCALE: i64 = 16;
/// The gross-margin metric's ρ in the example round (ρ 0.6 over six metrics
/// of weight 1).
const RHO: f64 = 0.6 / 6.0;
/// Simulated merges.
const MERGES: usize = 2000;

/// The members' one-hot histogram (in members) of generated gross margins.
fn truth(g: BinGrid) -> Vec<f64> {
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let kpis = coopbench_datagen::firm_kpis(1, N, start);
    let mut h = vec![0.0; g.count + 1];
    for k in kpis {
        let r = coopbench_privacy::one_hot_bin(
            Some(k.gross_margin),
            g.lo,
            g.lo + g.width * g.count as f64,
            g.count,
        );
        let i = r.iter().position(|x| *x == 1).unwrap();
        h[i] += 1.0;
    }
    h
}

/// One merge: every member's share of noise on its one-hot vector (fixed
/// point), summed; returned in members per bin with the bins' noise sd.
fn merge(truth: &[f64], rho: f64) -> (Vec<f64>, f64) {
    let l2 = sensitivity::histogram_sensitivity_scaled(1, SCALE);
    let sigma = budget::sigma_for(l2, rho).unwrap();
    let share = sigma / f64::from(PARTIES).sqrt();
    let share = share.next_up();
    let mut sum = vec![0i64; truth.len()];
    let mut members: Vec<Vec<i64>> = Vec::new();
    for (k, t) in truth.iter().enumerate() {
        for _ in 0..*t as usize {
            let mut v = vec![0i64; truth.len()];
            v[k] = SCALE;
            members.push(v);
        }
    }
    for v in &members {
        let noised = add_noise_share(v, share, l2, PARTIES, rho * 1.000_000_1).unwrap();
        for (s, x) in sum.iter_mut().zip(noised) {
            *s += x;
        }
    }
    let sd = share * (N as f64).sqrt() / SCALE as f64;
    (sum.iter().map(|s| *s as f64 / SCALE as f64).collect(), sd)
}

struct Tally {
    median_within_bin: usize,
    abs_err: [f64; 5],
    abs_err_clamp: [f64; 5],
    covered: [usize; 5],
    width_bins: [f64; 5],
}

fn simulate(merges: usize, g: BinGrid, rho: f64) -> Tally {
    let h = truth(g);
    let top = g.lo + g.width * g.count as f64;
    let true_p: Vec<f64> = PERCENTILES
        .iter()
        .map(|(_, p)| percentile(&h[..g.count], g.lo, g.width, *p).unwrap())
        .collect();
    let mut t = Tally {
        median_within_bin: 0,
        abs_err: [0.0; 5],
        abs_err_clamp: [0.0; 5],
        covered: [0; 5],
        width_bins: [0.0; 5],
    };
    for _ in 0..merges {
        let (noisy, sd) = merge(&h, rho);
        let r = ratio_estimate(&noisy, N as f64, sd, g).expect("members with a value");
        let clamped = clamp_histogram(&noisy[..g.count]);
        for j in 0..5 {
            let i = r.percentiles[j];
            let err = (i.value - true_p[j]).abs();
            t.abs_err[j] += err;
            let c = percentile(&clamped, g.lo, g.width, PERCENTILES[j].1).unwrap_or(top);
            t.abs_err_clamp[j] += (c - true_p[j]).abs();
            if i.low <= true_p[j] && true_p[j] <= i.high {
                t.covered[j] += 1;
            }
            t.width_bins[j] += (i.high - i.low) / g.width;
            if j == 2 && err <= g.width {
                t.median_within_bin += 1;
            }
        }
    }
    t
}

fn report(t: &Tally, merges: usize, g: BinGrid, rho: f64) {
    let m = merges as f64;
    println!(
        "{merges} merges at n = {N}, {} bins of {}, rho {rho:.4}:",
        g.count, g.width
    );
    for j in 0..5 {
        println!(
            "  {}: mean abs error {:.4} (clamp {:.4}); 95% interval covers {:.1}%, {:.2} bins wide",
            PERCENTILES[j].0,
            t.abs_err[j] / m,
            t.abs_err_clamp[j] / m,
            100.0 * t.covered[j] as f64 / m,
            t.width_bins[j] / m
        );
    }
    println!(
        "  median within one bin: {:.1}%",
        100.0 * t.median_within_bin as f64 / m
    );
}

#[test]
fn percentiles_at_30_members_are_accurate_and_their_intervals_cover() {
    let t = simulate(MERGES, GRID, RHO);
    report(&t, MERGES, GRID, RHO);
    let m = MERGES as f64;
    assert!(
        t.median_within_bin as f64 >= 0.95 * m,
        "median within one bin in only {} of {MERGES}",
        t.median_within_bin
    );
    for j in [1, 3] {
        assert!(
            t.abs_err[j] / m <= GRID.width,
            "{}: mean abs error {} above one bin",
            PERCENTILES[j].0,
            t.abs_err[j] / m
        );
    }
    for j in 0..5 {
        let c = t.covered[j] as f64 / m;
        assert!(
            (0.90..=0.99).contains(&c),
            "{}: the 95% interval covered the truth in {:.1}% of merges",
            PERCENTILES[j].0,
            100.0 * c
        );
    }
}

/// The long run the tolerances were set from (`cargo test -p
/// coopbench-privacy --test percentile_accuracy -- --ignored --nocapture`).
#[test]
#[ignore]
fn calibrate() {
    for (count, rho) in [(6, 0.6 / 6.0), (6, 0.3 / 6.0), (12, 0.6 / 6.0)] {
        let g = BinGrid {
            lo: 0.5,
            width: 0.3 / count as f64,
            count,
        };
        let t = simulate(1000, g, rho);
        report(&t, 1000, g, rho);
    }
}
