//! The contribution: one member's noised cells for one round. It carries
//! nothing derived from the member's data except those noised integers.

use crate::round::{cell_count, Dimension, Mode, Round};
use serde::{Deserialize, Serialize};

/// DSSE payload type of a signed contribution.
pub const CONTRIBUTION_TYPE: &str = "application/vnd.coopbench.contribution+json";

/// One member's answer to one round.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Contribution {
    /// The round answered.
    pub round_id: String,
    /// Hex SHA-256 of the signed round payload.
    pub round_hash: String,
    /// The pool.
    pub pool_id: String,
    /// Hex SHA-256 of the member's public key (also the envelope's keyid).
    pub member_key_id: String,
    /// `coopbench x.y.z` that made it.
    pub toolkit_version: String,
    /// 1 for the first export; each `--supersede` adds one.
    pub sequence: u32,
    /// The round's mode.
    pub mode: Mode,
    /// One entry per round metric, in the round's order. In two-server mode
    /// the values are the leader's shares (uniform modulo 2^64).
    pub metrics: Vec<MetricValues>,
    /// Two-server mode: the member's signed [`crate::SealedSeedDoc`], which the
    /// leader forwards to the helper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_seed: Option<crate::dsse::Envelope>,
}

/// The noised cells of one metric.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MetricValues {
    /// The round metric's name.
    pub name: String,
    /// The cell grid (row-major: the last dimension varies fastest).
    pub grid: Vec<Dimension>,
    /// Noised fixed-point values, one per cell.
    pub values: Vec<i64>,
    /// How they were noised.
    pub noise: NoiseParams,
}

/// The noise a member added to one metric.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NoiseParams {
    /// Always `discrete_gaussian` (OpenDP).
    pub mechanism: String,
    /// Standard deviation (scale) in fixed-point units.
    pub sigma: f64,
    /// zCDP ρ this metric cost.
    pub rho: f64,
    /// L2 sensitivity of the clipped vector, fixed-point units.
    pub l2_sensitivity: f64,
    /// Fixed-point scale (integer units per unit of the measure).
    pub scale: f64,
}

/// The mechanism name written in [`NoiseParams::mechanism`].
pub const DISCRETE_GAUSSIAN: &str = "discrete_gaussian";

/// Whether `v` is a coopbench toolkit version as contributions carry it:
/// `coopbench X.Y.Z` with X, Y, Z decimal numbers (at most 9 digits each),
/// optionally followed by `-` and a pre-release of ASCII letters, digits and
/// dots; at most 64 bytes, nothing else (no control or direction characters).
pub fn is_toolkit_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix("coopbench ") else {
        return false;
    };
    if v.len() > 64 {
        return false;
    }
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    numbers.len() == 3
        && numbers
            .iter()
            .all(|n| (1..=9).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
        && pre.is_none_or(|p| {
            !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
        })
}

impl Contribution {
    /// Problems that make this contribution unfit for `round` (empty: fine):
    /// round id and hash, metric names, grids and value counts, noise.
    pub fn problems_against(&self, round: &Round, round_hash: &str) -> Vec<String> {
        let mut out = Vec::new();
        if self.round_id != round.id {
            out.push(format!(
                "for round '{}', not round '{}'",
                self.round_id, round.id
            ));
        }
        if self.round_hash != round_hash {
            out.push("made for a different version of the round (round hash differs)".into());
        }
        if self.pool_id != round.pool_id {
            out.push(format!(
                "for pool '{}', not '{}'",
                self.pool_id, round.pool_id
            ));
        }
        if self.mode != round.mode {
            out.push("its mode differs from the round's".into());
        }
        if (self.mode == Mode::TwoServer) != self.sealed_seed.is_some() {
            out.push(match self.mode {
                Mode::TwoServer => "a two-server contribution without its sealed seed".into(),
                Mode::Local => "a local-mode contribution carrying a sealed seed".into(),
            });
        }
        if self.sequence == 0 {
            out.push("sequence number 0 (the first export is 1)".into());
        }
        if self.metrics.len() != round.metrics.len() {
            out.push(format!(
                "{} metrics; the round has {}",
                self.metrics.len(),
                round.metrics.len()
            ));
        }
        for (mv, m) in self.metrics.iter().zip(&round.metrics) {
            if mv.name != m.name {
                out.push(format!(
                    "metric '{}' where the round has '{}'",
                    mv.name, m.name
                ));
                continue;
            }
            let grid = round.grid(m);
            if mv.grid != grid {
                out.push(format!(
                    "metric '{}': its cell grid differs from the round's",
                    m.name
                ));
            }
            if mv.values.len() != cell_count(&grid) {
                out.push(format!(
                    "metric '{}': {} values for {} cells",
                    m.name,
                    mv.values.len(),
                    cell_count(&grid)
                ));
            }
            let n = &mv.noise;
            if n.mechanism != DISCRETE_GAUSSIAN
                || !(n.sigma.is_finite() && n.sigma > 0.0)
                || !(n.rho.is_finite() && n.rho > 0.0)
                || n.scale != m.scale
            {
                out.push(format!(
                    "metric '{}': noise parameters are not valid",
                    m.name
                ));
            }
        }
        out
    }
}
