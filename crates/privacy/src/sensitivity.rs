//! Member-level L2 sensitivity of clipped vectors and one-hot histograms.
//!
//! Sums of squares are exact integers (`u128`); the square root is rounded
//! *up* to an `f64` whose square is at least the exact sum, so σ derived from
//! it is never too small.

use crate::clip::Bounds;

/// `sqrt(Σ_cells (hi − lo)²)`: how far apart two members' clipped vectors can
/// be in L2, rounded up to an `f64` `s` with `s² >=` the exact sum.
///
/// Returns `f64::INFINITY` when the exact sum does not fit in `u128` (a
/// sensitivity of 2^64 fixed-point units or more, for which no noise fits in
/// `i64`); [`crate::sigma_for`] and [`crate::add_discrete_gaussian`] refuse it.
/// Inverted bounds count as `|hi − lo|`.
pub fn l2_sensitivity(bounds: &[Bounds]) -> f64 {
    let mut sum: u128 = 0;
    for b in bounds {
        let w = u128::from(b.width());
        match w.checked_mul(w).and_then(|sq| sum.checked_add(sq)) {
            Some(s) => sum = s,
            None => return f64::INFINITY,
        }
    }
    sqrt_up(sum)
}

/// `sqrt(2 · groups)`, rounded up: the L2 sensitivity of `groups` one-hot
/// histograms (one member moves its 1 from one bin to another in each group).
pub fn histogram_sensitivity(groups: usize) -> f64 {
    sqrt_up(2 * groups as u128)
}

/// As [`histogram_sensitivity`] for one-hot cells worth `unit` each (a ratio
/// metric with fixed-point scale `unit`): `sqrt(2 · groups) · unit`, from the
/// exact integer `2 · groups · unit²`, rounded up.
pub fn histogram_sensitivity_scaled(groups: usize, unit: i64) -> f64 {
    let u = u128::from(unit.unsigned_abs());
    sqrt_up(2 * groups as u128 * u * u)
}

/// The L2 distance between two integer vectors, rounded to nearest: exact
/// integer sum of squares, then one rounding to `f64` and a correctly rounded
/// square root (so it is monotone in the exact distance). Past `u128` the sum
/// is taken in `f64`.
///
/// # Panics
/// If the vectors differ in length.
pub fn l2_distance(a: &[i64], b: &[i64]) -> f64 {
    assert_eq!(a.len(), b.len(), "l2_distance: vectors differ in length");
    let diffs = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (i128::from(x) - i128::from(y)).unsigned_abs());
    let mut sum: u128 = 0;
    for d in diffs.clone() {
        match d.checked_mul(d).and_then(|sq| sum.checked_add(sq)) {
            Some(s) => sum = s,
            None => return diffs.map(|d| (d as f64) * (d as f64)).sum::<f64>().sqrt(),
        }
    }
    (sum as f64).sqrt()
}

/// The smallest `f64` (found from the nearest one upward) whose square is at
/// least `n`.
pub(crate) fn sqrt_up(n: u128) -> f64 {
    let mut s = (n as f64).sqrt();
    // The correctly rounded root of the rounded n is within a couple of ulps.
    for _ in 0..64 {
        if square_at_least(s, n) {
            return s;
        }
        s = s.next_up();
    }
    f64::INFINITY
}

/// Whether `s² >= n` exactly, for a finite `s >= 0`.
pub(crate) fn square_at_least(s: f64, n: u128) -> bool {
    if n == 0 {
        return true;
    }
    // 2^64: its square is 2^128 > any u128.
    if s >= 18_446_744_073_709_551_616.0 {
        return true;
    }
    let bits = s.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    // s = m · 2^e exactly.
    let (m, e) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), biased - 1075)
    };
    let m2 = u128::from(m) * u128::from(m); // < 2^106
    if e >= 0 {
        // s < 2^64, so s² = m² · 2^(2e) < 2^128 fits.
        (m2 << (2 * e)) >= n
    } else {
        let k = (-2 * e) as u32;
        // s² >= n  <=>  m² >= n · 2^k; if n · 2^k overflows it exceeds m².
        if n.leading_zeros() < k {
            return false;
        }
        m2 >= (n << k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqrt_up_is_tight_and_sufficient() {
        let cases: Vec<u128> = vec![
            0,
            1,
            2,
            3,
            4,
            8,
            1 << 52,
            (1 << 53) + 1,
            (1 << 106) + 12345,
            u128::from(u64::MAX) * u128::from(u64::MAX),
            u128::MAX,
            u128::MAX - 1,
            (1u128 << 126) * 3,
            987_654_321_987_654_321_987_654_321,
        ];
        for n in cases {
            let s = sqrt_up(n);
            assert!(s.is_finite(), "{n}");
            assert!(square_at_least(s, n), "{n}: {s}");
            if n > 0 {
                assert!(!square_at_least(s.next_down(), n), "{n}: {s} not tight");
            }
        }
        assert_eq!(sqrt_up(4), 2.0);
        assert_eq!(sqrt_up(1 << 100), (1u128 << 50) as f64);
    }

    #[test]
    fn square_at_least_exact() {
        assert!(square_at_least(3.0, 9));
        assert!(!square_at_least(3.0, 10));
        assert!(square_at_least(0.5, 0));
        assert!(!square_at_least(0.5, 1));
        assert!(!square_at_least(f64::from_bits(1), 1));
        // 2^63 squared is 2^126.
        assert!(square_at_least(9_223_372_036_854_775_808.0, 1 << 126));
        assert!(!square_at_least(
            9_223_372_036_854_775_808.0,
            (1 << 126) + 1
        ));
    }

    #[test]
    fn sensitivities() {
        let b = [Bounds::new(0, 3).unwrap(), Bounds::new(-2, 2).unwrap()];
        assert_eq!(l2_sensitivity(&b), 5.0);
        assert_eq!(l2_sensitivity(&[]), 0.0);
        let h = histogram_sensitivity(1);
        assert!(h * h >= 2.0 && h >= std::f64::consts::SQRT_2);
        let wide = Bounds::new(-(1 << 62), 1 << 62).unwrap();
        assert_eq!(l2_sensitivity(&[wide]), 9_223_372_036_854_775_808.0);
        assert_eq!(l2_sensitivity(&[wide; 4]), f64::INFINITY);
        assert_eq!(l2_distance(&[0, 0], &[3, -4]), 5.0);
        assert_eq!(
            l2_distance(&[i64::MIN], &[i64::MAX]),
            18_446_744_073_709_551_615.0
        );
        assert!(l2_distance(&[i64::MIN; 3], &[i64::MAX; 3]).is_finite());
    }
}
