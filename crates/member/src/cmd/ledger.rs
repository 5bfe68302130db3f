//! `coopbench ledger`: what was spent, per charge, per round, and in the
//! policy's window.

use crate::cmd::StateArgs;
use clap::Args;
use coopbench_cli::format::fmt_rho;
use coopbench_cli::Stop;
use coopbench_privacy::ledger::Ledger;
use coopbench_text as text;
use std::collections::BTreeMap;

/// Show what you have spent: every charge, per round, and in the policy window.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// Print the entries as JSON lines instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    state: StateArgs,
}

/// Runs `ledger`.
pub fn run(args: &LedgerArgs) -> Result<(), Stop> {
    let state = args.state.resolve()?;
    let ledger = Ledger::open(state.ledger_path()).map_err(Stop::usage)?;
    let policy = state.policy().map_err(Stop::usage)?;
    let now = coopbench_cli::clock::now();
    if ledger.torn_tail() {
        eprintln!("warning: the ledger's last line is incomplete (an interrupted write); it was not a completed charge and is ignored");
    }
    if args.json {
        for e in ledger.entries() {
            let line = serde_json::to_string(e).expect("entry serialises");
            coopbench_cli::outln!("{}", text::json(&line));
        }
        return Ok(());
    }
    coopbench_cli::outln!("Ledger: {}", text::path(&state.ledger_path()));
    if ledger.entries().is_empty() {
        coopbench_cli::outln!("Nothing spent yet.");
    } else {
        coopbench_cli::outln!(
            "{:<30} {:<16} {:<12} {:>4} {:>8} {:>9}  reason",
            "when",
            "pool",
            "round",
            "seq",
            "rho",
            "epsilon"
        );
        for e in ledger.entries() {
            coopbench_cli::outln!(
                "{:<30} {:<16} {:<12} {:>4} {:>8} {:>9.3}  {}",
                text::shown(&e.at),
                text::shown(&e.pool_id),
                text::shown(&e.round_id),
                e.sequence,
                fmt_rho(e.rho),
                e.epsilon,
                text::shown(&e.reason)
            );
        }
        let mut per_round: BTreeMap<(String, String), f64> = BTreeMap::new();
        for e in ledger.entries() {
            *per_round
                .entry((e.pool_id.clone(), e.round_id.clone()))
                .or_default() += e.rho;
        }
        coopbench_cli::outln!();
        coopbench_cli::outln!("Per round:");
        for ((pool, round), rho) in per_round {
            coopbench_cli::outln!(
                "  {} / {}: rho {}",
                text::shown(&pool),
                text::shown(&round),
                fmt_rho(rho)
            );
        }
    }
    let since = now - chrono::Duration::days(i64::from(policy.window_days));
    coopbench_cli::outln!(
        "Spent in the last {} days: rho {} of your cap {} (left: {}).",
        policy.window_days,
        fmt_rho(ledger.spent_since(since)),
        fmt_rho(policy.max_rho),
        fmt_rho((policy.max_rho - ledger.spent_since(since)).max(0.0))
    );
    Ok(())
}
