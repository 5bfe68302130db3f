//! The `coopbench-examples` command line (the binary in the root package is a thin `main`).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::{generate_members, write_big_sales, GenConfig};
use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};

/// Generate realistic, seeded example data for coopbench.
///
/// Every file is fully determined by its options: the same seed gives byte-identical files.
#[derive(Debug, Parser)]
#[command(name = "coopbench-examples", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write sales.csv and costs.csv for each member bakery: OUT/member-01/ ... OUT/member-NN/.
    ///
    /// Firms differ in size (median annual revenue ~400k EUR, a few 10x others), product and
    /// channel mix and opening days; sales follow the seasons (December peak, August dip,
    /// Easter). Member k's files stay the same when --members grows.
    Generate {
        /// Number of member firms.
        #[arg(long, default_value_t = 30)]
        members: usize,
        /// Number of calendar months of data.
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// First month of the period, YYYY-MM (or YYYY-MM-01).
        #[arg(long, default_value = "2025-01", value_name = "YYYY-MM")]
        start: String,
        /// Output directory (created if missing).
        #[arg(long, default_value = "examples/data", value_name = "DIR")]
        out: PathBuf,
    },
    /// Write one large sales.csv-format file of exactly --rows data rows, for benchmarks.
    ///
    /// Rows mix 40 virtual bakeries, dates spread evenly over ten years from --start; the file
    /// is streamed, so memory use does not grow with --rows.
    BigSales {
        /// Number of data rows (header excluded).
        #[arg(long, default_value_t = 10_000_000)]
        rows: u64,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// First day of the ten-year period, YYYY-MM-DD (or YYYY-MM).
        #[arg(long, default_value = "2016-01-01", value_name = "DATE")]
        start: String,
        /// Output file.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Parses `YYYY-MM` (first day of that month) or `YYYY-MM-DD`.
fn parse_start(text: &str) -> anyhow::Result<NaiveDate> {
    let full = if text.len() == 7 {
        format!("{text}-01")
    } else {
        text.to_string()
    };
    NaiveDate::parse_from_str(&full, "%Y-%m-%d").with_context(|| {
        format!("--start {text:?} is not a date of the form YYYY-MM or YYYY-MM-DD")
    })
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Generate {
            members,
            months,
            seed,
            start,
            out,
        } => {
            let start = parse_start(&start)?;
            if chrono::Datelike::day(&start) != 1 {
                bail!("--start must be the first day of a month, got {start}");
            }
            let cfg = GenConfig {
                members,
                months,
                start,
                seed,
            };
            let summaries = generate_members(&cfg, &out)?;
            let (mut sales, mut costs) = (0, 0);
            for m in &summaries {
                coopbench_cli::outln!(
                    "{}: {} sales rows, {} cost rows, net sales {:.2} EUR",
                    m.dir.display(),
                    m.sales_rows,
                    m.cost_rows,
                    m.net_sales_cents() as f64 / 100.0
                );
                sales += m.sales_rows;
                costs += m.cost_rows;
            }
            coopbench_cli::outln!(
                "total: {} members, {} rows ({sales} sales, {costs} costs)",
                summaries.len(),
                sales + costs
            );
        }
        Command::BigSales {
            rows,
            seed,
            start,
            out,
        } => {
            let start = parse_start(&start)?;
            write_big_sales(rows, seed, start, &out)?;
            coopbench_cli::outln!("{}: {rows} sales rows", out.display());
        }
    }
    Ok(())
}

/// Runs `coopbench-examples` with the process arguments; exit code 0 on success, 2 with a
/// one-line `error: ...` on stderr on failure (clap's own usage errors also exit 2).
pub fn main() -> ExitCode {
    main_from(std::env::args_os())
}

/// Runs `coopbench-examples` with the given arguments (the first is the program name).
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = Cli::parse_from(args);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn start_accepts_month_or_date() {
        let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(parse_start("2025-01").unwrap(), ymd(2025, 1, 1));
        assert_eq!(parse_start("2016-03-01").unwrap(), ymd(2016, 3, 1));
        assert!(parse_start("2025-13").is_err());
        assert!(parse_start("January").is_err());
    }
}
