//! Verifying one contribution against its round, before anything of it is
//! summed: the envelope, a signature by its member's roster key, the round
//! and pool it names, the toolkit, the sequence, the metrics and grids, the
//! noise parameters, the value range, and in two-server mode the sealed seed.
//! Each failure is one [`Reason`] with a message.
//!
//! Signatures by keys not on the roster are ignored, and every roster key id
//! present is tried: the contribution is the one its claimed member signed.
//!
//! In local mode every value is range-checked against what a clipped,
//! noised cell of the round can be (see [`ValueRange`]); a contribution
//! outside it (a member trying to poison the sums, or to push suppressed
//! cells over `min_members`) is rejected with reason `value_range`. In
//! two-server mode the values are masked shares, uniform modulo 2^64, and
//! cannot be range-checked (see docs/threat-model.md).

use coopbench_privacy::plan::NoisePlan;
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{
    Contribution, Envelope, Mode, Pool, PublicKey, Round, SealedSeedDoc, VerifyError,
};
use coopbench_text::shown;
use std::collections::HashMap;

/// No contribution value may reach this magnitude (2^62): members' values are
/// clipped fixed-point figures plus noise, far below it.
pub const VALUE_LIMIT: u64 = 1 << 62;

/// How many σ of noise a local-mode value may lie outside its cell's clip
/// bounds. The discrete Gaussian's tail is sub-Gaussian,
/// P(|X| ≥ kσ) ≤ 2·exp(−k²/2) (Canonne, Kamath & Steinke 2020), so at
/// k = 12 an honest value is rejected with probability at most
/// 2·e^−72 ≈ 1.1·10^−31 per cell: below 10^−25 for a round of 100,000
/// cells per metric and ten metrics.
pub const RANGE_SIGMAS: f64 = 12.0;

/// The values a local-mode contribution may carry for one metric: the
/// clip bounds in fixed point (0 and one unit for active and ratio cells)
/// widened by [`RANGE_SIGMAS`] σ of the metric's noise on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueRange {
    /// Lowest value accepted.
    pub lo: i128,
    /// Highest value accepted.
    pub hi: i128,
}

impl ValueRange {
    /// The range for a metric with fixed-point `bounds` and noise `sigma`.
    pub fn new(bounds: coopbench_privacy::clip::Bounds, sigma: f64) -> Self {
        // Rounded up; σ is at most 2^62/40 (noise headroom), so this fits.
        let tail = (RANGE_SIGMAS * sigma).ceil().min(1e30) as i128;
        Self {
            lo: i128::from(bounds.lo) - tail,
            hi: i128::from(bounds.hi) + tail,
        }
    }

    /// Whether `v` is inside.
    pub fn contains(&self, v: i64) -> bool {
        (self.lo..=self.hi).contains(&i128::from(v))
    }
}

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
    /// Local mode: a value outside the round's clip bounds ± 12σ of noise.
    /// Two-server mode: a value at or beyond ±2^62 (never, for shares read
    /// as i64; masked shares cannot be range-checked).
    ValueRange,
    /// Two-server mode: the sealed seed is missing, unsigned by the member or
    /// made for another round, member, sequence or vector length.
    SealedSeed,
    /// The same signed contribution (same member, same signed payload) as
    /// another file, whatever its bytes: counted once.
    Duplicate,
    /// A higher sequence from the same member replaces it.
    Superseded,
    /// Another contribution from the same member with the same sequence and
    /// different signed content.
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
    /// Local mode: per metric, the values a contribution may carry (None
    /// for metrics whose bounds cannot be computed: the round is refused
    /// before any merge then).
    pub ranges: Vec<Option<ValueRange>>,
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
        let ranges = round
            .metrics
            .iter()
            .zip(plans)
            .map(|(m, p)| {
                coopbench_privacy::plan::cell_bounds(m)
                    .ok()
                    .map(|b| ValueRange::new(b, p.sigma))
            })
            .collect();
        Self {
            round,
            round_hash,
            roster,
            plans,
            ranges,
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
    // Every roster key id among the signatures, once each, in order; other
    // signatures (anyone can add one) are ignored.
    let mut roster_ids: Vec<&str> = Vec::new();
    for id in env.signer_ids() {
        if ctx.roster.contains_key(id) && !roster_ids.contains(&id) {
            roster_ids.push(id);
        }
    }
    if roster_ids.is_empty() {
        let ids: Vec<String> = env.signer_ids().iter().map(|s| short(s)).collect();
        return Err((
            Reason::UnknownSigner,
            format!(
                "signed by a key that is not on the pool's roster (key id {})",
                if ids.is_empty() {
                    "none".into()
                } else {
                    ids.join(", ")
                }
            ),
        ));
    }
    let mut verified: Vec<Verified<Contribution>> = Vec::new();
    let mut failure = None;
    for id in roster_ids {
        let key = &ctx.roster[id];
        match signed::verify::<Contribution>(&env, key) {
            Ok(c) => verified.push(c),
            Err(e) => {
                if failure.is_none() {
                    failure = Some(verify_failure(e, key));
                }
            }
        }
    }
    // A member's contribution is the one its claimed member signed; a file
    // that only other roster members signed claims to be someone else.
    let Some(first) = verified.first().map(|c| c.signer.clone()) else {
        return Err(failure.expect("at least one roster key was tried"));
    };
    let c = match verified
        .iter()
        .position(|c| c.doc.member_key_id == c.signer)
    {
        Some(i) => verified.swap_remove(i),
        None => {
            let claimed = verified[0].doc.member_key_id.clone();
            return Err((
                Reason::SignerMismatch,
                format!(
                    "signed by roster key {} but claims to come from key {}",
                    short(&first),
                    short(&claimed)
                ),
            ));
        }
    };
    let doc = &c.doc;
    let round = ctx.round;
    if doc.round_id != round.id {
        return Err((
            Reason::WrongRound,
            format!(
                "made for round \"{}\", not \"{}\"",
                shown(&doc.round_id),
                shown(&round.id)
            ),
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
            format!(
                "made for pool \"{}\", not \"{}\"",
                shown(&doc.pool_id),
                shown(&round.pool_id)
            ),
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
                    "toolkit version \"{}\" is not a coopbench release ('coopbench x.y.z')",
                    shown(&doc.toolkit_version)
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
        return Err((Reason::Grid, shown(&problems.join("; ")).to_string()));
    }
    for (((mv, m), plan), range) in doc
        .metrics
        .iter()
        .zip(&round.metrics)
        .zip(ctx.plans)
        .zip(&ctx.ranges)
    {
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
        // Two-server shares are uniform modulo 2^64: any value is possible,
        // and no share can be range-checked. Local values are clipped cells
        // plus noise: outside the clip bounds ± 12σ they are not a member's
        // honest answer, whatever its data (a poisoning attempt).
        if round.mode == Mode::Local {
            let bad = match range {
                Some(r) => mv.values.iter().position(|v| !r.contains(*v)),
                None => mv
                    .values
                    .iter()
                    .position(|v| v.unsigned_abs() >= VALUE_LIMIT),
            };
            if let Some(i) = bad {
                let (lo, hi) = range.map_or((-(VALUE_LIMIT as i128), VALUE_LIMIT as i128), |r| {
                    (r.lo, r.hi)
                });
                return Err((
                    Reason::ValueRange,
                    format!(
                        "metric '{}' cell {}: a value outside [{lo}, {hi}], the round's clip bounds (in fixed point) widened by {RANGE_SIGMAS}σ of noise, which no clipped, noised figure reaches",
                        m.name,
                        i + 1
                    ),
                ));
            }
        }
    }
    if round.mode == Mode::TwoServer {
        check_sealed_seed(ctx, &c).map_err(|m| (Reason::SealedSeed, m))?;
    }
    Ok(c)
}

/// The reason a roster key's signature did not verify.
fn verify_failure(e: VerifyError, key: &PublicKey) -> (Reason, String) {
    match e {
        VerifyError::Malformed(m) => (Reason::Malformed, format!("not a DSSE envelope: {m}")),
        VerifyError::WrongType { found, .. } => (
            Reason::WrongType,
            format!(
                "not a contribution (its document type is {})",
                coopbench_text::shown(&found)
            ),
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
    }
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
    fn value_ranges_are_the_clip_bounds_plus_twelve_sigma() {
        let b = coopbench_privacy::clip::Bounds {
            lo: -100,
            hi: 30_000,
        };
        let r = ValueRange::new(b, 1000.5);
        // ⌈12 · 1000.5⌉ = 12006.
        assert_eq!((r.lo, r.hi), (-12_106, 42_006));
        assert!(r.contains(42_006) && r.contains(-12_106) && r.contains(0));
        assert!(!r.contains(42_007) && !r.contains(-12_107));
        assert!(!r.contains(i64::MAX) && !r.contains(i64::MIN));
        assert!(!r.contains((1 << 62) - 1));
        // The widest bounds and σ still fit (no overflow in i128).
        let wide = ValueRange::new(
            coopbench_privacy::clip::Bounds {
                lo: -(1 << 62),
                hi: 1 << 62,
            },
            1e18,
        );
        assert!(wide.contains(i64::MAX) && wide.contains(i64::MIN));
    }

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
