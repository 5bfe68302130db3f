//! Every check a round must pass before the association writes or signs it:
//! the round's own problems, the pool's guardrails, the schemas, and the
//! calendar (no period in the future, no round after the pool's sunset).

use crate::schemas;
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
