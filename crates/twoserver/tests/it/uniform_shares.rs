//! The leader's view is uniform: the leader's shares of one FIXED vector over
//! many exports (each with a fresh seed from the OS, masked by
//! `mask_vectors`) look like uniform random words.
//!
//! A chi-square goodness-of-fit test with 256 buckets (255 degrees of freedom)
//! is run on the top byte and on the low byte of several cells of the vector
//! (values at the limits of `i64`, zero, ±1 and ordinary figures), and on the
//! joint distribution of two cells' top nibbles (16 × 16 buckets: the cells of
//! one export are independent of each other). N = 25,600 exports, 100 expected
//! per bucket.
//!
//! Critical value: 450. For 255 degrees of freedom P(χ² > 450) < 7.8e-13 (the
//! survival function of χ²₂₅₆ at 450, which bounds that of χ²₂₅₅, is 7.7e-13),
//! so the 17 tests together reject a truly uniform share with probability
//! below 1.4e-11: the test does not flake. A sanity check shows the same test
//! rejects biased shares (a mask with its top bit cleared, a mask with its low
//! bit cleared, a mask reused across exports), whose χ² is in the tens of
//! thousands.

use coopbench_twoserver::{combine, expand, leader_share, mask_vectors, Seed};

/// Exports simulated.
const N: usize = 25_600;
/// Buckets of each test.
const BUCKETS: usize = 256;
/// χ² critical value for 255 degrees of freedom, P(false rejection) < 7.8e-13.
const CRITICAL: f64 = 450.0;

/// The member's fixed (noised, clipped) vector: the same in every export.
fn fixed_vector() -> Vec<i64> {
    vec![0, 1, -1, i64::MAX, i64::MIN, 30_000, -123_456_789, 1 << 59]
}

/// χ² statistic of `counts` against the uniform distribution.
fn chi_square(counts: &[u64]) -> f64 {
    let n: u64 = counts.iter().sum();
    let expected = n as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| {
            let d = c as f64 - expected;
            d * d / expected
        })
        .sum()
}

/// Bucket counts of `f(share)` over the shares of cell `cell`.
fn counts(shares: &[Vec<i64>], f: impl Fn(u64) -> usize) -> Vec<u64> {
    let mut c = vec![0u64; BUCKETS];
    for s in shares {
        c[f(s[0] as u64)] += 1;
    }
    c
}

fn top_byte(w: u64) -> usize {
    (w >> 56) as usize
}

fn low_byte(w: u64) -> usize {
    (w & 0xff) as usize
}

/// The leader's shares of the fixed vector over `N` fresh seeds, exactly as
/// the member makes them (one `mask_vectors` call per export), split in two
/// metrics to use the keystream across vectors.
fn leader_shares() -> Vec<Vec<i64>> {
    let x = fixed_vector();
    (0..N)
        .map(|_| {
            let seed = Seed::fresh().expect("OS RNG");
            let mut a = x[..3].to_vec();
            let mut b = x[3..].to_vec();
            mask_vectors(&mut [&mut a, &mut b], &seed);
            // The helper's share recombines with it to the vector.
            let mask = expand(&seed, x.len());
            let mut share = a;
            share.extend(b);
            let lead: Vec<u64> = share.iter().map(|s| *s as u64).collect();
            assert_eq!(combine(&lead, &mask), x, "shares recombine");
            share
        })
        .collect()
}

/// One column of the shares: cell `c` of every export.
fn column(shares: &[Vec<i64>], c: usize) -> Vec<Vec<i64>> {
    shares.iter().map(|s| vec![s[c]]).collect()
}

#[test]
fn leader_shares_of_a_fixed_vector_are_uniform_top_and_low_byte() {
    let shares = leader_shares();
    let x = fixed_vector();
    let mut report = Vec::new();
    let mut worst: f64 = 0.0;
    for (c, value) in x.iter().enumerate() {
        let col = column(&shares, c);
        for (what, f) in [
            ("top byte", top_byte as fn(u64) -> usize),
            ("low byte", low_byte),
        ] {
            let chi = chi_square(&counts(&col, f));
            report.push(format!("cell {c} ({value}) {what}: chi2 = {chi:.1}"));
            worst = worst.max(chi);
            assert!(
                chi < CRITICAL,
                "cell {c} ({}) {what}: chi2 = {chi:.1} >= {CRITICAL}: the leader's share is not uniform",
                x[c]
            );
        }
    }
    // Joint: top nibbles of cells 0 and 4 (0 and i64::MIN) in one export.
    let mut joint = vec![0u64; BUCKETS];
    for s in &shares {
        joint[(((s[0] as u64) >> 60) << 4 | ((s[4] as u64) >> 60)) as usize] += 1;
    }
    let chi = chi_square(&joint);
    report.push(format!(
        "joint top nibbles of cells 0 and 4: chi2 = {chi:.1}"
    ));
    assert!(chi < CRITICAL, "joint: chi2 = {chi:.1} >= {CRITICAL}");
    // A sanity bound from the other side: a χ²₂₅₅ statistic below 150 has
    // probability < 1e-9 too; so low a value would mean a rigged generator.
    assert!(worst > 150.0, "suspiciously perfect fit: {report:?}");
    eprintln!("{}", report.join("\n"));
    // No two exports gave the same share vector (fresh seeds every time).
    let mut seen: Vec<&Vec<i64>> = shares.iter().collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), N, "every export's shares differ");
}

#[test]
fn the_test_rejects_biased_shares() {
    let x = fixed_vector();
    let biased = |bend: fn(u64, usize) -> u64| -> Vec<Vec<i64>> {
        (0..N)
            .map(|k| {
                let seed = Seed::fresh().expect("OS RNG");
                let mask: Vec<u64> = expand(&seed, x.len())
                    .into_iter()
                    .map(|m| bend(m, k))
                    .collect();
                leader_share(&x, &mask)
            })
            .collect()
    };
    // Top bit of the mask cleared: the top byte of the share takes half its values.
    let top_cleared = biased(|m, _| m & !(1 << 63));
    // Low bit cleared: the low byte keeps the parity of the value.
    let low_cleared = biased(|m, _| m & !1);
    for c in 0..x.len() {
        let chi_top = chi_square(&counts(&column(&top_cleared, c), top_byte));
        let chi_low = chi_square(&counts(&column(&low_cleared, c), low_byte));
        eprintln!("biased, cell {c}: top bit cleared chi2 = {chi_top:.0}, low bit cleared chi2 = {chi_low:.0}");
        assert!(
            chi_top > CRITICAL,
            "cell {c}: top-bit bias not detected ({chi_top})"
        );
        assert!(
            chi_low > CRITICAL,
            "cell {c}: low-bit bias not detected ({chi_low})"
        );
    }
    // A mask that repeats every 8 exports (a reused seed): 8 values only.
    let fixed_masks: Vec<Vec<u64>> = (0..8)
        .map(|_| expand(&Seed::fresh().unwrap(), x.len()))
        .collect();
    let reused: Vec<Vec<i64>> = (0..N)
        .map(|k| leader_share(&x, &fixed_masks[k % 8]))
        .collect();
    let chi = chi_square(&counts(&column(&reused, 0), top_byte));
    eprintln!("reused seeds: chi2 = {chi:.0}");
    assert!(chi > CRITICAL, "a reused mask is not detected ({chi})");
}
