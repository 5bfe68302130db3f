//! Command-line interface of `coopbench` (clap), and its exit codes.

use clap::{Parser, Subcommand};

/// Exit code: success (and, for `validate`, every file valid).
pub const EXIT_OK: i32 = 0;
/// Exit code: the data is invalid, or the command refused to act on it.
pub const EXIT_INVALID: i32 = 1;
/// Exit code: usage or I/O error.
pub const EXIT_USAGE: i32 = 2;

/// coopbench: share benchmarks with your industry association without exposing your figures.
///
/// Your sales and cost files never leave this machine. `validate` checks them
/// against the published schema and tells you exactly what to fix.
#[derive(Debug, Parser)]
#[command(name = "coopbench", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Validate(crate::validate_cmd::ValidateArgs),
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
        Command::Validate(args) => crate::validate_cmd::run(&args),
    }
}
