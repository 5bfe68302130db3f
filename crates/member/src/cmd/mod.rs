//! The `coopbench` command line: the clap types, and the dispatch to one
//! module per command. Every command returns `Result<(), Stop>`; the exit
//! code and the `error:` line come from `coopbench_cli` alone.

use clap::{Parser, Subcommand};
use coopbench_cli::Stop;

mod compare;
mod export;
mod join;
mod keygen;
mod ledger;
mod plan;
mod policy;
mod validate;

/// coopbench: share benchmarks with your industry association without exposing your figures.
///
/// Your sales and cost files never leave this machine. The usual order:
///   coopbench validate sales.csv costs.csv       check your files, fix what it lists
///   coopbench keygen                             once: your key (send the public one to the association)
///   coopbench join pool.sig.json                 once per pool: trust the association's key
///   coopbench plan --round round.sig.json        what a round asks, costs, and how accurate it is
///   coopbench export --round round.sig.json sales.csv costs.csv
///                                                your noised, signed contribution, to send
///   coopbench ledger                             what you have spent
///   coopbench compare --benchmarks DIR sales.csv costs.csv
///                                                where you stand (local only: nothing sent or spent)
#[derive(Debug, Parser)]
#[command(
    name = "coopbench",
    version,
    about,
    long_about,
    verbatim_doc_comment,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Validate(validate::ValidateArgs),
    Keygen(keygen::KeygenArgs),
    Join(join::JoinArgs),
    Plan(plan::PlanArgs),
    Export(export::ExportArgs),
    Ledger(ledger::LedgerArgs),
    Policy(policy::PolicyArgs),
    Compare(compare::CompareArgs),
}

/// Where the member's keys, ledger and exports live.
#[derive(Debug, Clone, clap::Args)]
pub struct StateArgs {
    /// The state directory (keys, pinned pools, ledger, exports). Default:
    /// $COOPBENCH_STATE_DIR, else your user data directory.
    #[arg(long, value_name = "DIR", global = true)]
    state_dir: Option<std::path::PathBuf>,
}

impl StateArgs {
    /// The state directory these arguments name.
    pub fn resolve(&self) -> Result<crate::state::State, Stop> {
        crate::state::State::resolve(self.state_dir.as_deref()).map_err(Stop::usage)
    }
}

/// Parses the command line, runs the command, and returns the process exit code.
pub fn main() -> i32 {
    coopbench_cli::run(|cli: Cli| match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Keygen(args) => keygen::run(&args),
        Command::Join(args) => join::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Ledger(args) => ledger::run(&args),
        Command::Policy(args) => policy::run(&args),
        Command::Compare(args) => compare::run(&args),
    })
}

impl From<crate::round_load::RoundError> for Stop {
    fn from(e: crate::round_load::RoundError) -> Self {
        match e {
            crate::round_load::RoundError::Io(m) => Stop::usage(m),
            crate::round_load::RoundError::Refused(list) => {
                Stop::refused_list("the round is refused", &list)
            }
        }
    }
}

/// An input error of `plan` or `export`; an invalid file's report goes to stdout first.
fn input_stop(e: crate::inputs::InputError) -> Stop {
    use crate::inputs::InputError;
    match e {
        InputError::Usage(m) => Stop::usage(m),
        InputError::Refused(m) => Stop::refused(m),
        InputError::Invalid(report) => {
            coopbench_cli::out!("{}", report.to_text());
            Stop::refused(
                "your files have the problems listed above; fix them and run again (nothing was computed or charged)",
            )
        }
    }
}
