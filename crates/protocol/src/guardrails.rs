//! The guardrails a round must keep against its pool and the calendar (see
//! docs/architecture.md, "Guardrails"). Both the member (before export) and the
//! association (before signing a round) run them.

use crate::date::Date;
use crate::pool::Pool;
use crate::round::Round;

/// Problems of `round` against `pool` that hold on any day (empty: fine).
pub fn against_pool(pool: &Pool, round: &Round) -> Vec<String> {
    let mut out = Vec::new();
    if round.pool_id != pool.id {
        out.push(format!(
            "the round belongs to pool '{}', not '{}'",
            round.pool_id, pool.id
        ));
    }
    if round.opens > pool.sunset {
        out.push(format!(
            "the round opens {} after the pool's sunset {}",
            round.opens, pool.sunset
        ));
    }
    if let Some(ts) = &round.two_server {
        if ts.helper_signing_key.trim() == pool.association_key.trim() {
            out.push(
                "the round's helper signs with the association's own key: the helper must be an independent party with its own key".into(),
            );
        }
    }
    if round.min_members < pool.policy.min_members {
        out.push(format!(
            "min_members {} is below the pool's floor {}",
            round.min_members, pool.policy.min_members
        ));
    }
    if round.min_data_age_days < pool.policy.min_data_age_days {
        out.push(format!(
            "min_data_age_days {} is below the pool's floor {}",
            round.min_data_age_days, pool.policy.min_data_age_days
        ));
    }
    let oldest_open = round
        .period
        .end
        .plus_days(i64::from(round.min_data_age_days));
    if round.opens < oldest_open {
        out.push(format!(
            "the period ends {} and the round opens {}: data must be at least {} days old (open on {} or later)",
            round.period.end, round.opens, round.min_data_age_days, oldest_open
        ));
    }
    out
}

/// Problems of `round` on `today` (empty: it may be answered today).
pub fn on_day(pool: &Pool, round: &Round, today: Date) -> Vec<String> {
    let mut out = Vec::new();
    if today > pool.sunset {
        out.push(format!("the pool's sunset {} has passed", pool.sunset));
    }
    if round.period.end >= today {
        out.push(format!(
            "the period ends {}, which is not in the past",
            round.period.end
        ));
    } else {
        let age = round.period.end.days_until(today);
        if age < i64::from(round.min_data_age_days) {
            out.push(format!(
                "the period ended {age} days ago; the round requires {} days",
                round.min_data_age_days
            ));
        }
    }
    if today < round.opens {
        out.push(format!("the round opens on {}", round.opens));
    }
    if today > round.closes {
        out.push(format!("the round closed on {}", round.closes));
    }
    out
}
