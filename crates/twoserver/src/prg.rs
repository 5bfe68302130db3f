//! The seed and the pseudo-random generator that expands it into a mask.
//!
//! Construction (fixed; changing it is a protocol change): the mask of a
//! contribution with `n` cells in total (every metric's cells, metrics in the
//! round's order, each metric's cells in grid order) is the first `8·n` bytes
//! of the ChaCha20 keystream (RFC 8439: 20 rounds, 32-bit block counter
//! starting at 0) under the key `r` (the 32-byte seed) and the all-zero 96-bit
//! nonce, read as consecutive little-endian `u64` words. The all-zero nonce is
//! safe because every seed is fresh and used for exactly one keystream.

use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::ChaCha20;
use rand_core::{OsRng, TryRngCore};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Bytes in a seed.
pub const SEED_LEN: usize = 32;

/// A secret 32-byte seed, wiped from memory when dropped. It never appears in
/// `Debug` output.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Seed([u8; SEED_LEN]);

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(..)")
    }
}

impl Seed {
    /// A fresh seed from the operating system's random number generator.
    pub fn fresh() -> Result<Self, rand_core::OsError> {
        let mut b = [0u8; SEED_LEN];
        OsRng.try_fill_bytes(&mut b)?;
        Ok(Seed(b))
    }

    /// A seed from its bytes (the helper, after opening a sealed seed; tests).
    pub fn from_bytes(b: [u8; SEED_LEN]) -> Self {
        Seed(b)
    }

    /// The secret bytes, to be sealed to the helper and nowhere else.
    pub fn secret_bytes(&self) -> &[u8; SEED_LEN] {
        &self.0
    }
}

/// The first `cells` words of the seed's keystream (see the module docs).
pub fn expand(seed: &Seed, cells: usize) -> Vec<u64> {
    let mut bytes = vec![0u8; cells * 8];
    let mut cipher = ChaCha20::new(&seed.0.into(), &[0u8; 12].into());
    cipher.apply_keystream(&mut bytes);
    let words = bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("chunks of 8")))
        .collect();
    bytes.zeroize();
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keystream_matches_rfc8439_block_function_test_vector() {
        // RFC 8439 appendix A.1, test vector #1: all-zero key and nonce, counter 0.
        let words = expand(&Seed::from_bytes([0; 32]), 2);
        let first16: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(
            first16,
            [
                0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90, 0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86,
                0xbd, 0x28
            ]
        );
    }

    #[test]
    fn same_seed_same_mask_and_prefixes_agree() {
        let s = Seed::fresh().unwrap();
        let a = expand(&s, 1000);
        let b = expand(&s, 10);
        assert_eq!(&a[..10], &b[..]);
        assert_ne!(expand(&Seed::fresh().unwrap(), 10), b, "fresh seeds differ");
        assert_eq!(format!("{s:?}"), "Seed(..)");
    }
}
