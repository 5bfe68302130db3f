//! The last step before signing: turning the member's clipped vectors into
//! what leaves the machine, by the round's mode.
//!
//! - local: each metric gets the full discrete-Gaussian noise.
//! - two-server: each metric gets one member's share of the noise
//!   (σ/√(n_min − t)); then one fresh 32-byte seed `r` from the OS RNG masks
//!   every cell, `x + noise − PRG(r) mod 2^64` is what the contribution
//!   carries, and `r` is sealed to the helper (HPKE) with the round hash and
//!   the member's key id as associated data, inside an envelope the member
//!   signs, so the helper can check who sent it without seeing the shares.

use crate::cells::PreparedMetric;
use coopbench_privacy::noise;
use coopbench_protocol::contribution::DISCRETE_GAUSSIAN;
use coopbench_protocol::SigningKey;
use coopbench_protocol::{signed, Envelope, MetricValues, Mode, NoiseParams, Round, SealedSeedDoc};
use coopbench_twoserver as ts;

/// The metrics as they go out, and the signed sealed seed (two-server mode).
pub struct Protected {
    /// Noised values (local) or the leader's shares (two-server), per metric.
    pub metrics: Vec<MetricValues>,
    /// The member-signed sealed seed (two-server mode only).
    pub sealed_seed: Option<Envelope>,
}

/// Every check [`protect`] makes that can refuse, run without drawing noise:
/// the noise parameters against OpenDP's privacy map (or the distributed
/// bound), the 64-bit headroom of each metric's clip bound plus 40σ, and the
/// helper's signed HPKE key. They depend on the round alone; `export` runs
/// them before it charges anything, so a round that cannot be answered
/// costs nothing.
pub fn check(round: &Round, prepared: &[PreparedMetric]) -> Result<(), String> {
    for (m, metric) in prepared.iter().zip(&round.metrics) {
        let p = m.params;
        let bound = coopbench_privacy::plan::widest_bound(metric)?;
        match round.mode {
            Mode::Local => noise::check_discrete_gaussian(p.sigma, p.l2, p.rho, bound),
            Mode::TwoServer => noise::check_noise_share(
                p.sigma,
                p.l2,
                p.parties,
                p.rho - p.slack,
                m.clipped.len(),
                bound,
            ),
        }
        .map_err(|e| format!("metric '{}': {e}", m.name))?;
    }
    if let (Mode::TwoServer, Some(two)) = (&round.mode, &round.two_server) {
        two.verified_hpke_key()?;
    }
    Ok(())
}

/// Noises (and in two-server mode, masks and seals) the prepared metrics.
/// Errors name a metric, never a value.
pub fn protect(
    round: &Round,
    round_hash: &str,
    member_key_id: &str,
    sequence: u32,
    key: &SigningKey,
    prepared: &[PreparedMetric],
) -> Result<Protected, String> {
    let mut metrics = Vec::with_capacity(prepared.len());
    for m in prepared {
        let p = m.params;
        let values = match round.mode {
            Mode::Local => noise::add_discrete_gaussian(&m.clipped, p.sigma, p.l2, p.rho),
            Mode::TwoServer => {
                noise::add_noise_share(&m.clipped, p.sigma, p.l2, p.parties, p.rho - p.slack)
            }
        }
        .map_err(|e| format!("metric '{}': {e}", m.name))?;
        metrics.push(MetricValues {
            name: m.name.clone(),
            grid: m.grid.clone(),
            values,
            noise: NoiseParams {
                mechanism: DISCRETE_GAUSSIAN.into(),
                sigma: p.sigma,
                rho: p.rho,
                l2_sensitivity: p.l2,
                scale: p.scale,
            },
        });
    }
    let sealed_seed = match (&round.mode, &round.two_server) {
        (Mode::Local, _) => None,
        (Mode::TwoServer, None) => return Err("two-server round without [two_server]".into()),
        (Mode::TwoServer, Some(two)) => {
            let helper_key = two.verified_hpke_key()?;
            let seed = ts::Seed::fresh()
                .map_err(|e| format!("the system random number generator failed: {e}"))?;
            mask(&mut metrics, &seed);
            let aad = ts::seed_aad(round_hash, member_key_id);
            let sealed = ts::seal_seed(&helper_key, &seed, &aad)
                .map_err(|e| format!("sealing the seed to the helper: {e}"))?;
            let doc = SealedSeedDoc {
                round_id: round.id.clone(),
                round_hash: round_hash.to_string(),
                member_key_id: member_key_id.to_string(),
                sequence,
                cells: metrics.iter().map(|m| m.values.len() as u64).sum(),
                enc: b64(&sealed.enc),
                ciphertext: b64(&sealed.ciphertext),
            };
            Some(signed::sign(&doc, key))
        }
    };
    Ok(Protected {
        metrics,
        sealed_seed,
    })
}

/// Replaces every metric's values by the leader's share under `seed`'s mask
/// (one keystream over all metrics, in the round's order).
pub fn mask(metrics: &mut [MetricValues], seed: &ts::Seed) {
    let mut vectors: Vec<&mut Vec<i64>> = metrics.iter_mut().map(|m| &mut m.values).collect();
    ts::mask_vectors(&mut vectors, seed);
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
