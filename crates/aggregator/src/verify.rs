//! Verifying one contribution against its round, before anything of it is
//! summed: the envelope, a signature by a roster key, the round and pool it
//! names, the toolkit, the sequence, the metrics and grids, the noise
//! parameters, the value range, and in two-server mode the sealed seed.
//! Each failure is one [`Reason`] with a message.

use coopbench_privacy::plan::NoisePlan;
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{
    Contribution, Envelope, Mode, Pool, PublicKey, Round, SealedSeedDoc, VerifyError,
};
use std::collections::HashMap;

/// No contribution value may reach this magnitude (2^62): members' values are
/// clipped fixed-point figures plus noise, far below it.
pub const VALUE_LIMIT: u64 = 1 << 62;

/// The toolkit version every contribution must start with.
pub const TOOLKIT_PREFIX: &str = "coopbench ";

/// Why a file is not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The file could not be read.
    Unreadable,
    /// Not a DSSE envelope (not JSON, wrong shape, payload not base64).
    Malformed,
    /// An envelope of another document type (a round, a pool...).
    WrongType,
    /// No signature by a key on the pool's roster.
    UnknownSigner,
    /// A roster key's signature that does not verify: altered or forged.
    BadSignature,
    /// Signed, but the payload is not a contribution document.
    BadPayload,
    /// Signed by one member, claiming to be another.
    SignerMismatch,
    /// For another round, round version, pool or mode.
    WrongRound,
    /// Not made by a coopbench toolkit.
    Toolkit,
    /// Sequence number 0.
    BadSequence,
    /// Metrics, grids or value counts differ from the round's.
    Grid,
    /// Noise parameters differ from the round's plan.
    Noise,
    /// A value at or beyond ±2^62.
    ValueRange,
    /// Two-server mode: the sealed seed is missing, unsigned by the member or
    /// made for another round, member, sequence or vector length.
    SealedSeed,
    /// Identical bytes to another file: counted once.
    Duplicate,
    /// A higher sequence from the same member replaces it.
    Superseded,
    /// Another different file from the same member with the same sequence.
    Conflict,
}

impl Reason {
    /// The short code used in the manifest.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Unreadable => "unreadable",
            Reason::Malformed => "malformed",
            Reason::WrongType => "wrong_type",
            Reason::UnknownSigner => "unknown_signer",
            Reason::BadSignature => "bad_signature",
            Reason::BadPayload => "bad_payload",
            Reason::SignerMismatch => "signer_mismatch",
            Reason::WrongRound => "wrong_round",
            Reason::Toolkit => "toolkit_version",
            Reason::BadSequence => "bad_sequence",
            Reason::Grid => "grid",
            Reason::Noise => "noise_parameters",
            Reason::ValueRange => "value_range",
            Reason::SealedSeed => "sealed_seed",
            Reason::Duplicate => "duplicate",
            Reason::Superseded => "superseded",
            Reason::Conflict => "conflict",
        }
    }
}

/// Everything the merge needs from the pool and round, verified.
pub struct Context<'a> {
    /// The round.
    pub round: &'a Round,
    /// Hex SHA-256 of the signed round payload.
    pub round_hash: &'a str,
    /// Roster key id → public key.
    pub roster: HashMap<String, PublicKey>,
    /// The round's noise plan, one per metric.
    pub plans: &'a [NoisePlan],
}

impl<'a> Context<'a> {
    /// The context for merging `round` (with its hash) in `pool`.
    pub fn new(pool: &Pool, round: &'a Round, round_hash: &'a str, plans: &'a [NoisePlan]) -> Self {
        let roster = pool
            .roster
            .iter()
            .filter_map(|m| {
                PublicKey::from_base64(&m.public_key)
                    .ok()
                    .filter(|k| k.key_id() == m.key_id)
                    .map(|k| (m.key_id.clone(), k))
            })
            .collect();
        Self {
            round,
            round_hash,
            roster,
            plans,
        }
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Verifies one contribution file's bytes against the round: envelope,
/// signature by a roster key, signer = claimed member, round id and hash,
/// pool, mode, toolkit version, sequence, metrics and grids, noise
/// parameters, value range. Returns the contribution or the first reason it
/// fails, in words.
pub fn verify(ctx: &Context<'_>, bytes: &[u8]) -> Result<Verified<Contribution>, (Reason, String)> {
    let env = Envelope::from_json(bytes).map_err(|e| (Reason::Malformed, e.to_string()))?;
    let key = env
        .signer_ids()
        .into_iter()
        .find_map(|id| ctx.roster.get(id))
        .ok_or_else(|| {
            let ids: Vec<String> = env.signer_ids().iter().map(|s| short(s)).collect();
            (
                Reason::UnknownSigner,
                format!(
                    "signed by a key that is not on the pool's roster (key id {})",
                    if ids.is_empty() {
                        "none".into()
                    } else {
                        ids.join(", ")
                    }
                ),
            )
        })?;
    let c: Verified<Contribution> = signed::verify(&env, key).map_err(|e| match e {
        VerifyError::Malformed(m) => (Reason::Malformed, format!("not a DSSE envelope: {m}")),
        VerifyError::WrongType { found, .. } => (
            Reason::WrongType,
            format!("not a contribution (its document type is {found})"),
        ),
        VerifyError::BadSignature(_) | VerifyError::NotSignedBy(_) => (
            Reason::BadSignature,
            format!(
                "the signature of roster key {} does not verify: the file was altered after signing, or forged",
                key.fingerprint()
            ),
        ),
        VerifyError::BadPayload(m) => (
            Reason::BadPayload,
            format!("signed, but not a valid contribution document: {m}"),
        ),
    })?;
    let doc = &c.doc;
    if doc.member_key_id != c.signer {
        return Err((
            Reason::SignerMismatch,
            format!(
                "signed by roster key {} but claims to come from key {}",
                short(&c.signer),
                short(&doc.member_key_id)
            ),
        ));
    }
    let round = ctx.round;
    if doc.round_id != round.id {
        return Err((
            Reason::WrongRound,
            format!("made for round {:?}, not {:?}", doc.round_id, round.id),
        ));
    }
    if doc.round_hash != ctx.round_hash {
        return Err((
            Reason::WrongRound,
            "made for a different version of the round (its round hash differs from the signed round's)".into(),
        ));
    }
    if doc.pool_id != round.pool_id {
        return Err((
            Reason::WrongRound,
            format!("made for pool {:?}, not {:?}", doc.pool_id, round.pool_id),
        ));
    }
    if doc.mode != round.mode {
        return Err((
            Reason::WrongRound,
            "its mode differs from the round's".into(),
        ));
    }
    match coopbench_protocol::contribution::is_toolkit_version(&doc.toolkit_version) {
        true => {}
        false => {
            return Err((
                Reason::Toolkit,
                format!(
                    "toolkit version {:?} is not a coopbench release ('coopbench x.y.z')",
                    doc.toolkit_version
                ),
            ))
        }
    }
    if doc.sequence == 0 {
        return Err((
            Reason::BadSequence,
            "sequence number 0 (the first export is 1)".into(),
        ));
    }
    let problems = doc.problems_against(round, ctx.round_hash);
    if !problems.is_empty() {
        return Err((Reason::Grid, problems.join("; ")));
    }
    for ((mv, m), plan) in doc.metrics.iter().zip(&round.metrics).zip(ctx.plans) {
        let n = &mv.noise;
        if !close(n.sigma, plan.sigma)
            || !close(n.rho, plan.rho)
            || !close(n.l2_sensitivity, plan.l2)
        {
            return Err((
                Reason::Noise,
                format!(
                    "metric '{}': noise σ = {}, ρ = {}, L2 = {}; the round requires σ = {}, ρ = {}, L2 = {}",
                    m.name, n.sigma, n.rho, n.l2_sensitivity, plan.sigma, plan.rho, plan.l2
                ),
            ));
        }
        // Two-server shares are uniform modulo 2^64: any value is possible.
        if let Some(i) = mv
            .values
            .iter()
            .position(|v| v.unsigned_abs() >= VALUE_LIMIT)
            .filter(|_| round.mode == Mode::Local)
        {
            return Err((
                Reason::ValueRange,
                format!(
                    "metric '{}' cell {}: a value beyond ±2^62, which no clipped, noised figure can reach",
                    m.name,
                    i + 1
                ),
            ));
        }
    }
    if round.mode == Mode::TwoServer {
        check_sealed_seed(ctx, &c).map_err(|m| (Reason::SealedSeed, m))?;
    }
    Ok(c)
}

/// Two-server mode: the contribution's sealed seed is signed by the same
/// member, for this round, member, sequence and number of cells. (Only the
/// helper can open it; it checks the same facts again.)
fn check_sealed_seed(ctx: &Context<'_>, c: &Verified<Contribution>) -> Result<(), String> {
    let env = c
        .doc
        .sealed_seed
        .as_ref()
        .ok_or("a two-server contribution without its sealed seed")?;
    let key = ctx
        .roster
        .get(&c.signer)
        .ok_or("the sealed seed's member is not on the roster")?;
    let seed: Verified<SealedSeedDoc> = signed::verify(env, key)
        .map_err(|e| format!("the sealed seed is not signed by the contribution's member: {e}"))?;
    let d = &seed.doc;
    let cells: u64 = c.doc.metrics.iter().map(|m| m.values.len() as u64).sum();
    if d.round_id != ctx.round.id
        || d.round_hash != ctx.round_hash
        || d.member_key_id != c.signer
        || d.sequence != c.doc.sequence
        || d.cells != cells
    {
        return Err(
            "the sealed seed was made for another round, member, sequence or vector length".into(),
        );
    }
    Ok(())
}

/// The first 16 hex digits of a key id, for messages.
fn short(id: &str) -> String {
    id.chars().take(16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_are_distinct() {
        let all = [
            Reason::Unreadable,
            Reason::Malformed,
            Reason::WrongType,
            Reason::UnknownSigner,
            Reason::BadSignature,
            Reason::BadPayload,
            Reason::SignerMismatch,
            Reason::WrongRound,
            Reason::Toolkit,
            Reason::BadSequence,
            Reason::Grid,
            Reason::Noise,
            Reason::ValueRange,
            Reason::SealedSeed,
            Reason::Duplicate,
            Reason::Superseded,
            Reason::Conflict,
        ];
        let mut codes: Vec<&str> = all.iter().map(|r| r.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
