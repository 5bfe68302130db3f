//! Two-server mode, the leader's side (the association): the batch of sealed
//! seeds it sends the helper, and the combination of its own sums with the
//! helper's signed sum.
//!
//! The batch is deterministic (seeds sorted by member key id, canonical JSON,
//! deterministic Ed25519), so the second `merge` run, given the helper's sum,
//! recomputes it from the same contributions and checks that the helper
//! answered exactly this batch.

use crate::merge::{Outcome, Sums};
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{
    canonical_json, sha256_hex, Envelope, HelperBatch, HelperSum, Round, SigningKey,
};

/// The batch for the helper: the accepted contributions' signed sealed seeds.
pub fn batch(round: &Round, round_hash: &str, outcome: &Outcome) -> HelperBatch {
    HelperBatch {
        round_id: round.id.clone(),
        round_hash: round_hash.to_string(),
        pool_id: round.pool_id.clone(),
        seeds: outcome.seeds.clone(),
    }
}

/// Hex SHA-256 of the batch's signed payload (what the helper's sum names).
pub fn batch_hash(b: &HelperBatch) -> String {
    sha256_hex(&canonical_json(b).expect("batches serialise"))
}

/// The signed batch file's bytes.
pub fn signed_batch(b: &HelperBatch, key: &SigningKey) -> Vec<u8> {
    signed::sign(b, key).to_json()
}

/// Checks the helper's signed sum against the round and the batch, and adds
/// it to the leader's sums (mod 2^64): the result replaces `sums`.
pub fn combine(
    round: &Round,
    round_hash: &str,
    batch: &HelperBatch,
    helper_sum: &[u8],
    sums: &mut Sums,
) -> Result<Verified<HelperSum>, String> {
    let two = round
        .two_server
        .as_ref()
        .ok_or("the round is not in two-server mode")?;
    let key = two.signing_key()?;
    let env = Envelope::from_json(helper_sum).map_err(|e| format!("not a signed file: {e}"))?;
    let sum: Verified<HelperSum> = signed::verify(&env, &key).map_err(|e| {
        format!(
            "not a helper sum signed by the round's helper ({}, key {}): {e}",
            two.helper_name,
            key.fingerprint()
        )
    })?;
    let d = &sum.doc;
    if d.round_id != round.id || d.round_hash != round_hash {
        return Err(format!(
            "the helper's sum is for round '{}' (another version or round), not this one",
            d.round_id
        ));
    }
    if d.batch_hash != batch_hash(batch) {
        return Err("the helper's sum answers another batch than these contributions make: merge the same contribution files the batch was made from".into());
    }
    if d.metrics.len() != sums.cells.len()
        || d.metrics
            .iter()
            .zip(&sums.cells)
            .any(|(h, l)| h.len() != l.len())
    {
        return Err("the helper's sum has another shape than the round's metrics".into());
    }
    for (leader, helper) in sums.cells.iter_mut().zip(&d.metrics) {
        for (l, h) in leader.iter_mut().zip(helper) {
            // The low 64 bits of the exact i128 sum are the sum modulo 2^64.
            let total = (*l as u64).wrapping_add(*h as u64) as i64;
            *l = i128::from(total);
        }
    }
    Ok(sum)
}
