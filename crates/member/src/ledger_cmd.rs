//! `coopbench ledger` and `coopbench policy`: what was spent, and the cap.

use crate::cli::{StateArgs, EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::export_cmd::{fmt_rho, load_policy};
use crate::state::State;
use clap::{Args, Subcommand};
use coopbench_privacy::ledger::Ledger;
use coopbench_privacy::Policy;
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

/// Show or set your privacy policy (the most rho you spend per window).
///
/// The default is at most rho = 2 in any 365 days. `export` refuses a round
/// that would go over it.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    action: Option<PolicyAction>,
    #[command(flatten)]
    state: StateArgs,
}

#[derive(Debug, Subcommand)]
enum PolicyAction {
    /// Show the policy (the default action).
    Show,
    /// Set the cap.
    Set {
        /// Most rho spent in any window.
        #[arg(long)]
        max_rho: f64,
        /// Window length in days.
        #[arg(long, default_value_t = 365)]
        window_days: u32,
    },
}

fn state_or_exit(s: &StateArgs) -> Result<State, i32> {
    s.resolve().map_err(|e| {
        eprintln!("error: {}", coopbench_text::message(&e.to_string()));
        EXIT_USAGE
    })
}

/// Runs `ledger`.
pub fn run_ledger(args: &LedgerArgs) -> i32 {
    let state = match state_or_exit(&args.state) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let now = crate::clock::now();
    let (ledger, policy) = match (Ledger::open(state.ledger_path()), load_policy(&state)) {
        (Ok(l), Ok(p)) => (l, p),
        (Err(e), _) => {
            eprintln!("error: {}", coopbench_text::message(&e.to_string()));
            return EXIT_USAGE;
        }
        (_, Err(e)) => {
            eprintln!("error: {}", coopbench_text::message(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    if ledger.torn_tail() {
        eprintln!("warning: the ledger's last line is incomplete (an interrupted write); it was not a completed charge and is ignored");
    }
    if args.json {
        for e in ledger.entries() {
            let line = serde_json::to_string(e).expect("entry serialises");
            println!("{}", coopbench_text::json(&line));
        }
        return EXIT_OK;
    }
    println!("Ledger: {}", text::path(&state.ledger_path()));
    if ledger.entries().is_empty() {
        println!("Nothing spent yet.");
    } else {
        println!(
            "{:<30} {:<16} {:<12} {:>4} {:>8} {:>9}  reason",
            "when", "pool", "round", "seq", "rho", "epsilon"
        );
        for e in ledger.entries() {
            println!(
                "{:<30} {:<16} {:<12} {:>4} {:>8} {:>9.3}  {}",
                coopbench_text::shown(&e.at),
                coopbench_text::shown(&e.pool_id),
                coopbench_text::shown(&e.round_id),
                e.sequence,
                fmt_rho(e.rho),
                e.epsilon,
                coopbench_text::shown(&e.reason)
            );
        }
        let mut per_round: BTreeMap<(String, String), f64> = BTreeMap::new();
        for e in ledger.entries() {
            *per_round
                .entry((e.pool_id.clone(), e.round_id.clone()))
                .or_default() += e.rho;
        }
        println!();
        println!("Per round:");
        for ((pool, round), rho) in per_round {
            println!(
                "  {} / {}: rho {}",
                coopbench_text::shown(&pool),
                coopbench_text::shown(&round),
                fmt_rho(rho)
            );
        }
    }
    let since = now - chrono::Duration::days(i64::from(policy.window_days));
    println!(
        "Spent in the last {} days: rho {} of your cap {} (left: {}).",
        policy.window_days,
        fmt_rho(ledger.spent_since(since)),
        fmt_rho(policy.max_rho),
        fmt_rho((policy.max_rho - ledger.spent_since(since)).max(0.0))
    );
    EXIT_OK
}

/// Runs `policy`.
pub fn run_policy(args: &PolicyArgs) -> i32 {
    let state = match state_or_exit(&args.state) {
        Ok(s) => s,
        Err(c) => return c,
    };
    match &args.action {
        None | Some(PolicyAction::Show) => match load_policy(&state) {
            Ok(p) => {
                println!(
                    "At most rho = {} in any {} days{}.",
                    fmt_rho(p.max_rho),
                    p.window_days,
                    if state.policy_path().exists() {
                        ""
                    } else {
                        " (the default)"
                    }
                );
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {}", coopbench_text::message(&e.to_string()));
                EXIT_USAGE
            }
        },
        Some(PolicyAction::Set {
            max_rho,
            window_days,
        }) => {
            if !(max_rho.is_finite() && *max_rho > 0.0) || *window_days == 0 {
                eprintln!(
                    "error: --max-rho must be a positive number and --window-days at least 1"
                );
                return EXIT_INVALID;
            }
            let p = Policy {
                max_rho: *max_rho,
                window_days: *window_days,
            };
            if let Err(e) = crate::state::ensure_parent(&state.policy_path())
                .map_err(|e| e.to_string())
                .and_then(|_| p.save(state.policy_path()).map_err(|e| e.to_string()))
            {
                eprintln!("error: {}", coopbench_text::message(&e.to_string()));
                return EXIT_USAGE;
            }
            println!(
                "Policy set: at most rho = {} in any {} days.",
                fmt_rho(p.max_rho),
                p.window_days
            );
            EXIT_OK
        }
    }
}
