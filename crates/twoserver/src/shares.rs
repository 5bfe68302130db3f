//! Additive shares modulo 2^64. Values travel as `i64` (two's complement), so
//! a wrapped sum read back as `i64` is the true sum whenever the true sum fits
//! in `i64`, which the round's bounds guarantee.

/// The leader's share of `values` under `mask`: `value − mask mod 2^64`, as `i64`.
pub fn leader_share(values: &[i64], mask: &[u64]) -> Vec<i64> {
    debug_assert_eq!(values.len(), mask.len());
    values
        .iter()
        .zip(mask)
        .map(|(v, m)| (*v as u64).wrapping_sub(*m) as i64)
        .collect()
}

/// Masks every vector with one keystream of `seed` (the vectors in order, each
/// in its own order): each value becomes the leader's share.
pub fn mask_vectors(vectors: &mut [&mut Vec<i64>], seed: &crate::Seed) {
    let total: usize = vectors.iter().map(|v| v.len()).sum();
    let words = crate::expand(seed, total);
    let mut at = 0;
    for v in vectors.iter_mut() {
        let n = v.len();
        **v = leader_share(v, &words[at..at + n]);
        at += n;
    }
}

/// Adds `mask` into the running sums `acc`, modulo 2^64.
pub fn add_into(acc: &mut [u64], mask: &[u64]) {
    for (a, m) in acc.iter_mut().zip(mask) {
        *a = a.wrapping_add(*m);
    }
}

/// Reads an `i64` share or sum as its residue modulo 2^64.
pub fn to_signed(x: u64) -> i64 {
    x as i64
}

/// The total from the leader's and the helper's sums, modulo 2^64, as `i64`.
pub fn combine(leader: &[u64], helper: &[u64]) -> Vec<i64> {
    leader
        .iter()
        .zip(helper)
        .map(|(l, h)| l.wrapping_add(*h) as i64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_recombine_exactly_at_the_limits() {
        let values = [i64::MAX, i64::MIN, -1, 0, 1, i64::MAX - 7];
        let mask = [u64::MAX, 1, 0x8000_0000_0000_0000, 12345, u64::MAX - 3, 7];
        let share = leader_share(&values, &mask);
        let back = combine(&share.iter().map(|s| *s as u64).collect::<Vec<_>>(), &mask);
        assert_eq!(back, values);
    }

    #[test]
    fn sums_of_shares_are_sums_of_values() {
        let rows: [[i64; 3]; 3] = [[5, -9, 1 << 61], [7, 2, 1 << 61], [-3, 4, -(1 << 60)]];
        let masks: [[u64; 3]; 3] = [[u64::MAX, 3, 9], [1 << 63, 77, u64::MAX / 3], [42, 0, 1]];
        let mut lead = [0u64; 3];
        let mut help = [0u64; 3];
        for (v, m) in rows.iter().zip(&masks) {
            let s: Vec<u64> = leader_share(v, m).iter().map(|x| *x as u64).collect();
            add_into(&mut lead, &s);
            add_into(&mut help, m);
        }
        let want: Vec<i64> = (0..3).map(|c| rows.iter().map(|r| r[c]).sum()).collect();
        assert_eq!(combine(&lead, &help), want);
    }
}
