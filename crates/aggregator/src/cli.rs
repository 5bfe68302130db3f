//! Command-line interface of `coopbench-aggregator` (clap), and its exit codes.

use clap::{Parser, Subcommand};

/// Exit code: success (published, written, shown).
pub const EXIT_OK: i32 = 0;
/// Exit code: refused (a guardrail, a bad signature, too few contributions,
/// output that already exists).
pub const EXIT_REFUSED: i32 = 1;
/// Exit code: usage or I/O error.
pub const EXIT_USAGE: i32 = 2;

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
    Pool(crate::pool_cmd::PoolCommand),
    #[command(subcommand)]
    Round(crate::round_cmd::RoundCommand),
    Merge(crate::merge_cmd::MergeArgs),
    #[command(subcommand)]
    Helper(crate::helper_cmd::HelperCommand),
    Inspect(crate::inspect_cmd::InspectArgs),
}

/// A refusal or failure with its exit code and message.
#[derive(Debug)]
pub struct Stop(pub i32, pub String);

impl Stop {
    /// A usage or I/O error (exit 2).
    pub fn usage(msg: impl Into<String>) -> Self {
        Stop(EXIT_USAGE, msg.into())
    }
    /// A refusal (exit 1).
    pub fn refused(msg: impl Into<String>) -> Self {
        Stop(EXIT_REFUSED, msg.into())
    }
    /// A refusal listing every reason (each shown escaped: reasons quote
    /// pool and round fields).
    pub fn refused_list(what: &str, reasons: &[String]) -> Self {
        Stop(
            EXIT_REFUSED,
            format!(
                "{what}:\n  - {}",
                reasons
                    .iter()
                    .map(|r| coopbench_text::shown(r).to_string())
                    .collect::<Vec<_>>()
                    .join("\n  - ")
            ),
        )
    }
}

/// Prints the error of a command and returns its exit code.
pub fn finish(result: Result<(), Stop>) -> i32 {
    match result {
        Ok(()) => EXIT_OK,
        Err(Stop(code, msg)) => {
            // File-derived parts were escaped where they were put in; this
            // escapes anything else a terminal would act on (lines are kept).
            eprintln!("error: {}", coopbench_text::message(&msg));
            code
        }
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
        Command::Pool(c) => finish(crate::pool_cmd::run(c)),
        Command::Round(c) => finish(crate::round_cmd::run(c)),
        Command::Merge(args) => crate::merge_cmd::run(&args),
        Command::Helper(c) => finish(crate::helper_cmd::run(c)),
        Command::Inspect(args) => finish(crate::inspect_cmd::run(&args)),
    }
}
