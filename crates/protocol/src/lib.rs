//! coopbench's wire formats: signed DSSE envelopes (Ed25519 via `ring`) and
//! canonical hashes. Every document that crosses between a member and the
//! association is signed and verified here, in one place.

pub mod dsse;
pub mod keys;

pub use dsse::{canonical_json, sha256_hex, Envelope, Signature, VerifyError};
pub use keys::{KeyError, PublicKey, SigningKey};
