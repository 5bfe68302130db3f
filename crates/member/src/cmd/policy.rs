//! `coopbench policy`: show or set the most ρ the member spends per window.

use crate::cmd::StateArgs;
use clap::{Args, Subcommand};
use coopbench_cli::format::fmt_rho;
use coopbench_cli::Stop;
use coopbench_privacy::Policy;

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

/// Runs `policy`.
pub fn run(args: &PolicyArgs) -> Result<(), Stop> {
    let state = args.state.resolve()?;
    match &args.action {
        None | Some(PolicyAction::Show) => {
            let p = state.policy().map_err(Stop::usage)?;
            coopbench_cli::outln!(
                "At most rho = {} in any {} days{}.",
                fmt_rho(p.max_rho),
                p.window_days,
                if state.policy_path().exists() {
                    ""
                } else {
                    " (the default)"
                }
            );
            Ok(())
        }
        Some(PolicyAction::Set {
            max_rho,
            window_days,
        }) => {
            if !(max_rho.is_finite() && *max_rho > 0.0) || *window_days == 0 {
                return Err(Stop::usage(
                    "--max-rho must be a positive number and --window-days at least 1",
                ));
            }
            let p = Policy {
                max_rho: *max_rho,
                window_days: *window_days,
            };
            crate::state::ensure_parent(&state.policy_path()).map_err(Stop::usage)?;
            p.save(state.policy_path()).map_err(Stop::usage)?;
            coopbench_cli::outln!(
                "Policy set: at most rho = {} in any {} days.",
                fmt_rho(p.max_rho),
                p.window_days
            );
            Ok(())
        }
    }
}
