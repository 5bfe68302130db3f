//! Pinned pools: the association key a member accepted at `join`, and the
//! pool document it signed. Later rounds must verify against this key.

use crate::state::{write_atomic, State};
use coopbench_protocol::limits::{CONFIG_MAX_BYTES, POOL_MAX_BYTES};
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{Envelope, Pool, PublicKey};
use coopbench_text as text;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What `join` stores for one pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pin {
    /// The pool id.
    pub pool_id: String,
    /// The association's public key, base64.
    pub association_key: String,
    /// When it was pinned (RFC 3339).
    pub pinned_at: String,
    /// Hex SHA-256 of the pool payload last accepted.
    pub pool_hash: String,
    /// The pool document last accepted.
    pub pool: Pool,
}

impl Pin {
    /// The pinned association key.
    pub fn key(&self) -> Result<PublicKey, String> {
        PublicKey::from_base64(&self.association_key)
            .map_err(|e| format!("pinned key for pool '{}': {e}", self.pool_id))
    }

    /// Loads the pin for `pool_id`, or explains how to join.
    pub fn load(state: &State, pool_id: &str) -> Result<Self, String> {
        let path = state.pin_path(pool_id);
        let text = coopbench_fsio::read_bounded(&path, CONFIG_MAX_BYTES, "a pin file").map_err(|_| {
            format!("you have not joined pool '{pool_id}': run `coopbench join POOL-FILE` with the pool file your association sent")
        })?;
        serde_json::from_slice(&text).map_err(|e| format!("{} is damaged: {e}", text::path(&path)))
    }

    /// Saves the pin atomically.
    pub fn save(&self, state: &State) -> Result<(), String> {
        let path = state.pin_path(&self.pool_id);
        let mut bytes = serde_json::to_vec_pretty(self).expect("pin serialises");
        bytes.push(b'\n');
        write_atomic(&path, &bytes).map_err(|e| format!("cannot write {}: {e}", text::path(&path)))
    }
}

/// Reads a DSSE envelope file of at most `limit` bytes (`what` names it).
pub fn read_envelope(path: &Path, limit: u64, what: &str) -> Result<Envelope, String> {
    let bytes = coopbench_fsio::read_bounded(path, limit, what)
        .map_err(|e| format!("cannot read {}: {e}", text::path(&path)))?;
    Envelope::from_json(&bytes).map_err(|e| format!("{}: {e}", text::path(&path)))
}

/// Verifies a pool file against its own association key (trust on first use;
/// the member checks the fingerprint with the association).
pub fn verify_pool_self_signed(path: &Path) -> Result<Verified<Pool>, String> {
    let env = read_envelope(path, POOL_MAX_BYTES, "a signed pool")?;
    let claimed: Pool = signed::peek(&env).map_err(|e| format!("{}: {e}", text::path(&path)))?;
    let key = claimed
        .association_public_key()
        .map_err(|e| format!("{}: association_key: {e}", text::path(&path)))?;
    let verified: Verified<Pool> =
        signed::verify(&env, &key).map_err(|e| format!("{}: {e}", text::path(&path)))?;
    let problems = verified.doc.problems();
    if !problems.is_empty() {
        return Err(format!("{}: {}", text::path(&path), problems.join("; ")));
    }
    Ok(verified)
}
