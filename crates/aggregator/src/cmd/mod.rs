//! The `coopbench-aggregator` command line: the clap types, and the dispatch
//! to one module per command. Every command returns `Result<(), Stop>`; the
//! exit code and the `error:` line come from `coopbench_cli` alone.

use crate::pool_dir::PoolDirError;
use clap::{Parser, Subcommand};
use coopbench_cli::Stop;

mod helper;
mod inspect;
mod merge;
mod pool;
mod report;
mod round;

/// coopbench-aggregator: run your association's benchmark pool.
///
/// Members send you signed contributions whose every number is already noised;
/// you verify and merge them into benchmark Parquet files for analysts. The usual
/// order:
///   coopbench-aggregator pool init --dir pool --id bakeries --name "Bakeries" \
///       --purpose "Benchmarks for independent bakeries" --sunset 2029-12-31
///   coopbench-aggregator pool add-member --dir pool "Bakery Jansen" <PUBLIC KEY>
///   coopbench-aggregator pool sign --dir pool            send pool/pool.sig.json to members
///   coopbench-aggregator round new --dir pool --from 2025q4.toml
///   coopbench-aggregator round preview --dir pool 2025q4 --expected-members 30
///   coopbench-aggregator round sign --dir pool 2025q4    send pool/rounds/2025q4.sig.json
///   coopbench-aggregator merge --pool pool/pool.sig.json --round pool/rounds/2025q4.sig.json \
///       contributions/ --out benchmarks
///   coopbench-aggregator inspect benchmarks
///   coopbench-aggregator report benchmarks --html benchmark-report.html   send it to every member
///
/// Two-server rounds add an independent helper (`helper keygen`, `helper sum`)
/// and a second merge step; see `merge --help`.
///
/// Exit codes: 0 done, 1 refused (the reasons are printed), 2 usage or I/O error.
#[derive(Debug, Parser)]
#[command(
    name = "coopbench-aggregator",
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
    #[command(subcommand)]
    Pool(pool::PoolCommand),
    #[command(subcommand)]
    Round(round::RoundCommand),
    Merge(merge::MergeArgs),
    #[command(subcommand)]
    Helper(helper::HelperCommand),
    Inspect(inspect::InspectArgs),
    Report(report::ReportArgs),
}

impl From<PoolDirError> for Stop {
    fn from(e: PoolDirError) -> Self {
        match e {
            PoolDirError::Io(m) => Stop::usage(m),
            PoolDirError::Refused(m) => Stop::refused(m),
        }
    }
}

/// Parses the command line, runs the command, and returns the process exit code.
pub fn main() -> i32 {
    coopbench_cli::run(|cli: Cli| match cli.command {
        Command::Pool(c) => pool::run(c),
        Command::Round(c) => round::run(c),
        Command::Merge(args) => merge::run(&args),
        Command::Helper(c) => helper::run(c),
        Command::Inspect(args) => inspect::run(&args),
        Command::Report(args) => report::run(&args),
    })
}
