//! `coopbench-aggregator report`: the association's benchmark report for
//! all members, one self-contained HTML file (`crate::report`).

use crate::readback;
use clap::Args;
use coopbench_cli::Stop;
use coopbench_text as text;
use std::path::PathBuf;

/// Write the benchmark report of a published round for all members.
///
/// One self-contained HTML file (no script, nothing loaded from anywhere):
/// the round's purpose, the privacy guarantee in plain words, and per table a
/// chart and the table of its published figures with their 95% ranges and
/// verdicts; what was not published says why. It holds nothing the manifest
/// and the Parquet files do not. An existing FILE is replaced only with --force.
///
/// Example:
///   coopbench-aggregator report benchmarks --round 2025q4 --html benchmark-report.html
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ReportArgs {
    /// The benchmark directory `merge --out` wrote.
    #[arg(value_name = "OUTDIR")]
    out: PathBuf,
    /// The round to report (default: the only one).
    #[arg(long, value_name = "ID")]
    round: Option<String>,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE")]
    html: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
}

/// Runs `report`.
pub fn run(a: &ReportArgs) -> Result<(), Stop> {
    // Before anything is read: the report can be written there.
    coopbench_fsio::check_output_target(&a.html).map_err(Stop::usage)?;
    if !a.force && a.html.exists() {
        return Err(Stop::usage(format!(
            "{} already exists: nothing is overwritten unless you pass --force",
            text::path(&a.html)
        )));
    }
    let round = readback::read(&a.out, a.round.as_deref()).map_err(Stop::usage)?;
    let html = crate::report::render(&round).map_err(Stop::usage)?;
    let written = if a.force {
        coopbench_fsio::write_atomic(&a.html, html.as_bytes())
    } else {
        coopbench_fsio::write_new_public(&a.html, html.as_bytes())
    };
    written.map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&a.html))))?;
    let tables = round.tables.len();
    coopbench_cli::outln!(
        "Wrote the benchmark report of round '{}' ({} table{}) to {}: one self-contained file to send to every member.",
        text::shown(&round.manifest.round.id),
        tables,
        if tables == 1 { "" } else { "s" },
        text::path(&a.html)
    );
    Ok(())
}
