//! Command-line interface of `coopbench` (clap), and its exit codes.

use clap::{Parser, Subcommand};

pub(crate) mod compare;
pub(crate) mod export;
pub(crate) mod join;
pub(crate) mod keygen;
pub(crate) mod ledger;
pub(crate) mod plan;
pub(crate) mod validate;

/// Exit code: success (and, for `validate`, every file valid).
pub const EXIT_OK: i32 = 0;
/// Exit code: the data is invalid, or the command refused to act on it.
pub const EXIT_INVALID: i32 = 1;
/// Exit code: usage or I/O error.
pub const EXIT_USAGE: i32 = 2;

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
    Validate(crate::cmd::validate::ValidateArgs),
    Keygen(crate::cmd::keygen::KeygenArgs),
    Join(crate::cmd::join::JoinArgs),
    Plan(crate::cmd::plan::PlanArgs),
    Export(crate::cmd::export::ExportArgs),
    Ledger(crate::cmd::ledger::LedgerArgs),
    Policy(crate::cmd::ledger::PolicyArgs),
    Compare(crate::cmd::compare::CompareArgs),
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
    pub fn resolve(&self) -> Result<crate::state::State, String> {
        crate::state::State::resolve(self.state_dir.as_deref())
    }
}

/// Parses the command line, runs the command, and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Validate(args) => crate::cmd::validate::run(&args),
        Command::Keygen(args) => crate::cmd::keygen::run(&args),
        Command::Join(args) => crate::cmd::join::run(&args),
        Command::Plan(args) => crate::cmd::plan::run(&args),
        Command::Export(args) => crate::cmd::export::run(&args),
        Command::Ledger(args) => crate::cmd::ledger::run_ledger(&args),
        Command::Policy(args) => crate::cmd::ledger::run_policy(&args),
        Command::Compare(args) => crate::cmd::compare::run(&args),
    }
}
