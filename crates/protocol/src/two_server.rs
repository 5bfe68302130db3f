//! Two-server mode's documents: the round's helper section, the member's
//! signed sealed seed, the leader's batch for the helper and the helper's
//! signed sum. See docs/two-server.md.
//!
//! Keys and ciphertexts travel as base64 text; the cryptography that makes and
//! opens them lives in `coopbench-twoserver`. Signatures here are Ed25519 over
//! DSSE, as for every other document.

use crate::dsse::Envelope;
use crate::keys::PublicKey;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// DSSE payload type of a member's sealed seed.
pub const SEALED_SEED_TYPE: &str = "application/vnd.coopbench.sealed-seed+json";
/// DSSE payload type of the leader's batch for the helper.
pub const BATCH_TYPE: &str = "application/vnd.coopbench.helper-batch+json";
/// DSSE payload type of the helper's sum.
pub const HELPER_SUM_TYPE: &str = "application/vnd.coopbench.helper-sum+json";

/// The message the helper signs to vouch for its HPKE key: this tag, a NUL
/// byte, then the 32 raw bytes of the X25519 public key.
pub const HPKE_KEY_CONTEXT: &[u8] = b"coopbench helper HPKE key v1";

/// A round's two-server parameters (`[two_server]` in the round's TOML).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TwoServer {
    /// The fewest contributions the round may be merged with; the helper
    /// refuses fewer.
    pub n_min: u32,
    /// How many colluding members the noise must tolerate: each member adds
    /// σ²/(n_min − t) of variance, so n_min − t honest members' noise together
    /// make the central σ².
    pub t: u32,
    /// Who runs the helper, in plain words (shown to members).
    pub helper_name: String,
    /// The helper's Ed25519 public key (base64): it signs its HPKE key and its sums.
    pub helper_signing_key: String,
    /// The helper's X25519 HPKE public key (base64).
    pub helper_hpke_key: String,
    /// The helper's Ed25519 signature over [`hpke_key_message`] (base64).
    pub helper_hpke_key_signature: String,
}

/// The bytes the helper signs for its HPKE key.
pub fn hpke_key_message(hpke_key: &[u8]) -> Vec<u8> {
    let mut m = HPKE_KEY_CONTEXT.to_vec();
    m.push(0);
    m.extend_from_slice(hpke_key);
    m
}

fn b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

impl TwoServer {
    /// n_min − t: the members whose noise the guarantee counts on (0 if t ≥ n_min).
    pub fn parties(&self) -> u32 {
        self.n_min.saturating_sub(self.t)
    }

    /// The helper's signing key.
    pub fn signing_key(&self) -> Result<PublicKey, String> {
        PublicKey::from_base64(&self.helper_signing_key)
            .map_err(|e| format!("helper_signing_key: {e}"))
    }

    /// The helper's HPKE public key, after checking the helper's signature on it.
    pub fn verified_hpke_key(&self) -> Result<[u8; 32], String> {
        let signer = self.signing_key()?;
        let key: [u8; 32] = b64(&self.helper_hpke_key)
            .and_then(|k| k.try_into().ok())
            .ok_or("helper_hpke_key is not 32 bytes of base64 (an X25519 public key)")?;
        let sig = b64(&self.helper_hpke_key_signature)
            .ok_or("helper_hpke_key_signature is not base64")?;
        if !signer.verify(&hpke_key_message(&key), &sig) {
            return Err(format!(
                "the helper's HPKE key is not signed by the helper's signing key {}: the round may have been given someone else's key",
                signer.fingerprint()
            ));
        }
        Ok(key)
    }

    /// Problems with these parameters (empty: fine).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.parties() < 2 {
            out.push(format!(
                "two_server: n_min − t = {} − {} is below 2: at least two members' noise must count",
                self.n_min, self.t
            ));
        }
        if self.helper_name.trim().is_empty() {
            out.push("two_server: helper_name is empty: say who runs the helper".into());
        }
        if let Err(e) = self.verified_hpke_key() {
            out.push(format!("two_server: {e}"));
        }
        out
    }
}

/// A member's seed sealed to the helper (the payload of a signed envelope
/// inside the member's contribution; the leader forwards it to the helper
/// without the leader's share).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SealedSeedDoc {
    /// The round answered.
    pub round_id: String,
    /// Hex SHA-256 of the signed round payload.
    pub round_hash: String,
    /// Hex SHA-256 of the member's public key.
    pub member_key_id: String,
    /// The contribution's sequence number.
    pub sequence: u32,
    /// Cells over all metrics: how many words the helper expands.
    pub cells: u64,
    /// HPKE's encapsulated key (base64).
    pub enc: String,
    /// The sealed seed (base64).
    pub ciphertext: String,
}

/// The leader's request to the helper: the accepted contributions' sealed
/// seeds, signed by the association key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HelperBatch {
    /// The round.
    pub round_id: String,
    /// Hex SHA-256 of the signed round payload.
    pub round_hash: String,
    /// The pool.
    pub pool_id: String,
    /// Each accepted member's signed sealed seed, sorted by member key id.
    pub seeds: Vec<Envelope>,
}

/// The helper's answer: per metric, the sum of the members' masks mod 2^64.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HelperSum {
    /// The round.
    pub round_id: String,
    /// Hex SHA-256 of the signed round payload.
    pub round_hash: String,
    /// Hex SHA-256 of the batch payload it answers.
    pub batch_hash: String,
    /// The members summed (key ids, sorted).
    pub members: Vec<String>,
    /// Per metric, in the round's order, per cell: Σ masks mod 2^64 (as i64).
    pub metrics: Vec<Vec<i64>>,
}
