//! Every check a round must pass before the association writes or signs it:
//! the round's own problems, the pool's guardrails, the schemas, and the
//! calendar (no period in the future, no round after the pool's sunset), and
//! whether members can answer it at all (window still open long enough, ρ
//! within the members' default cap).

use crate::schemas;
use coopbench_cli::format::{fmt_rho, fmt_rho_up};
use coopbench_privacy::plan::{charged_rho, noise_plans};
use coopbench_privacy::policy::Policy;
use coopbench_protocol::round::Kind;
use coopbench_protocol::{guardrails, Date, Pool, Round};

/// Everything that makes `round` unfit to be created or signed in `pool` on
/// `today`, one message each (empty: fine).
pub fn round_problems(pool: &Pool, round: &Round, today: Date) -> Vec<String> {
    let mut out: Vec<String> = pool
        .problems()
        .into_iter()
        .map(|p| format!("the pool: {p}"))
        .collect();
    out.extend(round.problems());
    out.extend(guardrails::against_pool(pool, round));
    out.extend(schemas::problems(round));
    if today > pool.sunset {
        out.push(format!(
            "the pool's sunset {} has passed: no new rounds",
            pool.sunset
        ));
    }
    if round.period.end >= today {
        out.push(format!(
            "the period ends {}, which is not in the past (today is {today}): no round may ask for figures of the future",
            round.period.end
        ));
    }
    out
}

/// Days a round's export window must still be open, counting today, when the
/// association creates or signs it: members need time to run `plan` and
/// `export`, and a round that closes sooner could collect nothing.
pub const MIN_DAYS_OPEN: i64 = 7;

/// What makes `round` impossible for members to answer from `today`: a window
/// that has closed or closes within [`MIN_DAYS_OPEN`] days, or a charge above
/// the members' default privacy cap (every member on the default policy would
/// refuse the export) unless `allow_above_default_cap`.
pub fn unanswerable(round: &Round, today: Date, allow_above_default_cap: bool) -> Vec<String> {
    let mut out = Vec::new();
    let left = today.days_until(round.closes) + 1;
    if round.closes < today {
        out.push(format!(
            "its export window closed on {} (today is {today}): no member can answer it; set `closes` to a later day",
            round.closes
        ));
    } else if left < MIN_DAYS_OPEN {
        out.push(format!(
            "its export window closes on {}, {left} day(s) from today counted inclusively: members need at least {MIN_DAYS_OPEN} days to plan and export; set `closes` later",
            round.closes
        ));
    }
    if let Ok(plans) = noise_plans(round) {
        let rho = charged_rho(round, &plans);
        let cap = Policy::default();
        if rho > cap.max_rho && !allow_above_default_cap {
            out.push(format!(
                "each member would be charged rho = {}, above the default member cap of rho = {} per {} days: every member on the default policy would refuse the export. \
                 Lower `rho`, or pass --allow-above-default-cap if your members raised their caps (`coopbench policy`)",
                fmt_rho_up(rho),
                fmt_rho(cap.max_rho),
                cap.window_days
            ));
        }
    }
    out
}

/// Things worth knowing about a valid round that are not errors, e.g. a
/// metric whose cells cannot be suppressed by member count.
pub fn round_notes(round: &Round) -> Vec<String> {
    let mut out = Vec::new();
    for m in &round.metrics {
        if matches!(m.kind, Kind::Sum | Kind::Count) && active_for(round, &m.dims).is_none() {
            out.push(format!(
                "metric '{}' has no active metric over the same dimensions ({}): its cells will have no members_noisy and are never suppressed by member count",
                m.name,
                if m.dims.is_empty() { "none".to_string() } else { m.dims.join(", ") }
            ));
        }
    }
    out
}

/// The first `active` metric of the round whose dims are the same set as
/// `dims` (its index): the one that gives `members_noisy` to a metric.
pub fn active_for(round: &Round, dims: &[String]) -> Option<usize> {
    let mut want: Vec<&String> = dims.iter().collect();
    want.sort();
    round.metrics.iter().position(|m| {
        let mut have: Vec<&String> = m.dims.iter().collect();
        have.sort();
        m.kind == Kind::Active && have == want
    })
}
