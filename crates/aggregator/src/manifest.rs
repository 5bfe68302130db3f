//! What is written beside the benchmarks: the manifest (`manifests/<id>.json`)
//! and the key-value metadata in every Parquet file's footer.
//!
//! Neither names a member: files are listed by SHA-256 (a member can find its
//! own contribution; nobody else can tell whose a hash is), with their fate as
//! a reason code, and never by file name (associations often name files after
//! their members) or key id (the roster is shared with every member).

use crate::columns::metric_unit;
use crate::merge::{Outcome, Status};
use crate::tables::Table;
use coopbench_benchmark::layout::table_file;
use coopbench_benchmark::manifest::{
    dictionary, Counts, FileFact, Manifest, Privacy, RoundFacts, TableFact, TwoServerFacts, FORMAT,
};
use coopbench_privacy::plan::{charged_rho, NoisePlan};
use coopbench_protocol::{Round, TOOLKIT_VERSION};

/// How the figures are read from the noised sums and judged, in words.
pub const ESTIMATES: &str = "Percentiles are interpolated inside histogram bins and are never a member's own value: \
each ratio histogram (every member counted once, in a last bin if it has no value) is first projected onto the histograms \
with no negative bin and the number of contributions as total, and each percentile carries a 95 % interval from the noise model \
(a test on the raw noisy bins, inverted), the mean one by the delta method. Every figure carries a verdict: readable (95 % interval within +/-25 % of a total, count or \
mean; a percentile's interval at most 5 bins wide), rough (twice as loose), too noisy (read it as noise, not data) or suppressed.";
/// What the guarantee does not hide, in every statement (and in `coopbench
/// plan`): the neighbouring relation and what is public besides the figures.
pub const DISCLOSED: &str = "The guarantee is for substitution neighbours: it hides what a member's data is, not whether the member \
     took part. Public to the association, and not protected by the noise: which members contributed, the number of contributions, and \
     re-exports (a contribution with sequence number above 1; the member's earlier file is then counted as superseded).";

/// The privacy statement in words.
pub fn statement(round: &Round, rho: f64, epsilon: f64, accepted: usize) -> String {
    if let Some(t) = &round.two_server {
        return format!(
            "Every number in these tables was computed from {accepted} member contributions in two-server mode: each member added a share of \
             OpenDP discrete Gaussian noise on its own machine and split its noised figures into two random-looking shares, one for the association \
             and one sealed to the helper ({}); only the sums of all members' shares were combined, so neither server saw any member's figures, \
             provided the association and the helper do not collude. The noise of any {} members (n_min {} less t {} colluding members) alone makes \
             the central noise; by the distributed discrete Gaussian bound (Kairouz, Liu & Steinke 2021) the published figures satisfy \
             rho = {} zCDP per member (slack included), which implies (epsilon = {:.3}, delta = {:e})-differential privacy. A cell is published only \
             when its noisy number of active members is at least {}; suppressed cells have every figure null. {ESTIMATES} {DISCLOSED}",
            t.helper_name,
            t.parties(),
            t.n_min,
            t.t,
            rho,
            epsilon,
            round.delta,
            round.min_members
        );
    }
    format!(
        "Every number in these tables was computed from {accepted} member contributions, each already noised on the member's own machine \
         (OpenDP discrete Gaussian, {} mode) before it was sent: the association never saw an unnoised figure, and merging is post-processing. \
         The privacy unit is the member: for each member's whole data in round '{}', the published figures satisfy rho = {} zCDP, \
         which implies (epsilon = {:.3}, delta = {:e})-differential privacy. A cell is published only when its noisy number of active members \
         is at least {}; suppressed cells have every figure null. {ESTIMATES} {DISCLOSED}",
        round.mode.name(),
        round.id,
        rho,
        epsilon,
        round.delta,
        round.min_members
    )
}

/// Builds the manifest; `published` are `tables` in the published format
/// (their data dictionary goes in).
#[allow(clippy::too_many_arguments)]
pub fn build(
    round: &Round,
    round_hash: &str,
    plans: &[NoisePlan],
    epsilon: f64,
    outcome: &Outcome,
    tables: &[Table],
    published: &[coopbench_benchmark::table::Table],
    merged_at: String,
) -> Result<Manifest, String> {
    let files = outcome
        .files
        .iter()
        .map(|f| {
            let (status, related) = match &f.status {
                Status::Accepted => ("accepted".to_string(), None),
                Status::NotUsed { reason, other, .. } => (
                    reason.code().to_string(),
                    other.and_then(|o| outcome.files[o].sha256.clone()),
                ),
            };
            FileFact {
                sha256: f.sha256.clone(),
                status,
                related,
            }
        })
        .collect();
    let table_facts = tables
        .iter()
        .zip(published)
        .map(|(t, p)| {
            Ok(TableFact {
                name: t.name.clone(),
                kind: t.kind.name().into(),
                description: t.description.clone(),
                path: table_file(&t.name, &round.id)?
                    .to_string_lossy()
                    .replace('\\', "/"),
                rows: t.rows.len(),
                suppressed: t.suppressed(),
                noise_sd: t.noise_sd,
                members_noisy: t.members_source.clone(),
                unit: metric_unit(round, t).0,
                columns: dictionary(p),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Manifest {
        format: FORMAT.into(),
        round: RoundFacts {
            id: round.id.clone(),
            pool_id: round.pool_id.clone(),
            purpose: round.purpose.clone(),
            period_start: round.period.start.to_string(),
            period_end: round.period.end.to_string(),
            round_hash: round_hash.into(),
            mode: round.mode.name().into(),
            currency: round.currency.clone(),
            min_members: round.min_members,
            min_members_total: round.min_members_total,
            schemas: [
                ("sales".to_string(), round.schemas.sales.clone()),
                ("costs".to_string(), round.schemas.costs.clone()),
            ]
            .into(),
        },
        privacy: Privacy {
            unit: "member".into(),
            rho: charged_rho(round, plans),
            epsilon,
            delta: round.delta,
            statement: statement(round, charged_rho(round, plans), epsilon, outcome.accepted),
            two_server: two_server_facts(round, plans),
        },
        toolkit_version: TOOLKIT_VERSION.into(),
        merged_at,
        contributions: Counts {
            files: outcome.files.len(),
            accepted: outcome.accepted,
            rejected: outcome
                .not_used_by_reason()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        },
        files,
        tables: table_facts,
    })
}

/// A two-server round's facts for the manifest (None in local mode).
pub fn two_server_facts(round: &Round, plans: &[NoisePlan]) -> Option<TwoServerFacts> {
    let t = round.two_server.as_ref()?;
    Some(TwoServerFacts {
        n_min: t.n_min,
        t: t.t,
        slack: plans.iter().map(|p| p.slack).sum(),
        helper_name: t.helper_name.clone(),
        helper_key: t.signing_key().map(|k| k.fingerprint()).unwrap_or_default(),
    })
}

/// `x` with `decimals` decimals, rounded up (a privacy cost is never shown
/// smaller than it is).
pub fn round_up(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.parse::<f64>().is_ok_and(|v| v >= x) {
        return s;
    }
    let half = 0.5 * 10f64.powi(-(decimals as i32));
    format!("{:.decimals$}", x + half)
}

/// The footer key-value metadata of one table's Parquet file.
pub fn parquet_metadata(
    round: &Round,
    round_hash: &str,
    plans: &[NoisePlan],
    epsilon: f64,
    metric_rho: f64,
    accepted: usize,
    table: &Table,
) -> Vec<(String, String)> {
    let metric = round.metric(&table.name);
    let mut kv: Vec<(String, String)> = vec![
        ("round_id".into(), round.id.clone()),
        ("pool_id".into(), round.pool_id.clone()),
        ("purpose".into(), round.purpose.clone()),
        ("period_start".into(), round.period.start.to_string()),
        ("period_end".into(), round.period.end.to_string()),
        ("round_hash".into(), round_hash.into()),
        ("mode".into(), round.mode.name().into()),
        ("privacy_unit".into(), "member".into()),
        ("rho".into(), charged_rho(round, plans).to_string()),
        ("epsilon".into(), epsilon.to_string()),
        ("delta".into(), round.delta.to_string()),
        ("metric_rho".into(), round_up(metric_rho, 6)),
        ("contributions".into(), accepted.to_string()),
        ("min_members".into(), round.min_members.to_string()),
        ("toolkit_version".into(), TOOLKIT_VERSION.into()),
        ("schema_sales".into(), round.schemas.sales.clone()),
        ("schema_costs".into(), round.schemas.costs.clone()),
        ("metric".into(), table.name.clone()),
        ("kind".into(), table.kind.name().into()),
        ("description".into(), table.description.clone()),
        ("noise_sd".into(), table.noise_sd.to_string()),
        ("members_noisy_source".into(), table.members_source.clone()),
        ("verdict_rule".into(), ESTIMATES.into()),
    ];
    if let Some(f) = two_server_facts(round, plans) {
        kv.push(("n_min".into(), f.n_min.to_string()));
        kv.push(("t".into(), f.t.to_string()));
        kv.push(("slack".into(), f.slack.to_string()));
        kv.push(("helper".into(), f.helper_name));
    }
    kv.push((
        "dimensions".into(),
        table
            .dims
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>()
            .join(","),
    ));
    if let Some(m) = metric {
        kv.push(("unit".into(), metric_unit(round, table).0));
        kv.push(("scale".into(), m.scale.to_string()));
        if let Some(b) = m.bins {
            kv.push(("bins_lo".into(), b.lo.to_string()));
            kv.push(("bins_hi".into(), b.hi.to_string()));
            kv.push(("bins_count".into(), b.count.to_string()));
        }
        if m.clip.is_some() {
            // The bounds cells were clipped to: the fixed-point bounds back
            // in the measure's units (clip × scale is rounded to whole units).
            if let Ok(b) = coopbench_privacy::plan::cell_bounds(m) {
                kv.push(("clip_lo".into(), (b.lo as f64 / m.scale).to_string()));
                kv.push(("clip_hi".into(), (b.hi as f64 / m.scale).to_string()));
            }
        }
    }
    kv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privacy_costs_are_rounded_up() {
        assert_eq!(round_up(0.1234561, 6), "0.123457");
        assert_eq!(round_up(0.1234569, 6), "0.123457");
        assert_eq!(round_up(0.375, 6), "0.375000");
        assert_eq!(round_up(1.0 / 3.0, 6), "0.333334");
        for x in [1e-9, 0.1, 2.0 / 3.0, 0.999_999_4, 12.345_678_9] {
            assert!(round_up(x, 6).parse::<f64>().unwrap() >= x, "{x}");
        }
    }
}
