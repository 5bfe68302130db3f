//! The cryptography of coopbench's two-server mode, in one place.
//!
//! A member hides its noised vector `y` from both servers by splitting it into
//! two additive shares modulo 2^64:
//!
//! - the **leader's share** `y − PRG(r) mod 2^64`, sent in the clear inside the
//!   member's signed contribution, and
//! - the **helper's share** `PRG(r)`, sent as the 32-byte seed `r`, sealed to the
//!   helper's X25519 key with HPKE ([`seal_seed`], [`open_seed`]) and bound to the
//!   round and the member by the associated data ([`seed_aad`]).
//!
//! Either share alone is uniformly distributed and says nothing about `y`; the
//! sum of all leader shares plus the sum of all helper shares is `Σ y mod 2^64`
//! ([`combine`]). The PRG is the ChaCha20 keystream keyed by the seed
//! ([`expand`]); see its documentation for the exact construction.
//!
//! This crate knows nothing of rounds or files: the protocol crate carries the
//! sealed seeds as base64 text, the member seals, the helper opens.

#![warn(missing_docs)]

pub mod hpke_seal;
pub mod prg;
pub mod shares;

pub use hpke_seal::{
    open_seed, seal_seed, seed_aad, HelperKeyPair, HpkeError, SealedSeed, HPKE_INFO, HPKE_SUITE,
};
pub use prg::{expand, Seed, SEED_LEN};
pub use shares::{add_into, combine, leader_share, mask_vectors, to_signed};
