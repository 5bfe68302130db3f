//! `coopbench compare`: the member's own figures next to a published round's
//! benchmarks, on the member's machine. Reads the benchmark directory, the
//! signed round (verified against the pinned association key and matched to
//! the benchmark by hash) and the member's files; spends nothing, sends
//! nothing, and writes nothing but the report file it is asked for.

use crate::cells;
use crate::cmd::StateArgs;
use crate::compare::{self, Comparison};
use crate::inputs::{self, InputError, InputSummary};
use crate::read_args::ReadArgs;
use crate::round_load::{self, LoadedRound};
use crate::state::State;
use clap::{Args, ValueEnum};
use coopbench_benchmark::layout::table_file;
use coopbench_benchmark::manifest::{self, PublishedRound};
use coopbench_benchmark::table::{self, Table};
use coopbench_cli::Stop;
use coopbench_protocol::round::Kind;
use coopbench_text as text;
use coopbench_text::shown;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// See where you stand: your own figures next to the published benchmarks.
///
/// Validates your files, computes the round's figures from them exactly as
/// export does (before noise), and sets them against the benchmark your
/// association published: your share of each market total with its range,
/// your growth against the market's, and where your ratios fall among the
/// percentiles. Suppressed cells and figures too noisy to read are marked as
/// such. Everything happens on this machine: no budget is spent, nothing is
/// sent, and nothing is written except the --html report you ask for.
///
/// The round's definition comes from the signed round file your last export
/// of that round kept in your state directory (or --round-file), checked
/// against the association you joined and against the benchmark.
///
/// Examples:
///   coopbench compare --benchmarks benchmarks/ sales.csv costs.csv
///   coopbench compare --benchmarks benchmarks/ --round 2025q4 --html report.html sales.csv costs.csv
///   coopbench compare --benchmarks benchmarks/ --map kasse.toml --map expenses.toml kasse_export.csv expenses.csv
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CompareArgs {
    /// The benchmark folder your association published (it holds manifests/).
    #[arg(long, value_name = "DIR")]
    benchmarks: PathBuf,
    /// The round to compare with. Default: the latest in DIR (by period).
    #[arg(long, value_name = "ID")]
    round: Option<String>,
    /// The signed round file (round.sig.json), if your state directory does
    /// not hold it (it does after you exported that round).
    #[arg(long, value_name = "FILE")]
    round_file: Option<PathBuf>,
    /// Output on the terminal: a table, or JSON.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write a self-contained HTML report with charts to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Your sales and costs CSV files (each one's kind from --kind, its mapping
    /// file, or its name: containing "sales" or "cost").
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    state: StateArgs,
}

/// Terminal output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Tables for people.
    Table,
    /// One JSON document.
    Json,
}

/// Finds and verifies the signed round behind `published`.
fn load_round(
    state: &State,
    args: &CompareArgs,
    published: &PublishedRound,
) -> Result<LoadedRound, Stop> {
    let facts = &published.manifest.round;
    let path = match &args.round_file {
        Some(p) => p.clone(),
        None => {
            // The manifest is not signed: its ids name a file only once they
            // are ids (no `../`).
            for (what, id) in [("pool", &facts.pool_id), ("round", &facts.id)] {
                if !coopbench_protocol::pool::is_identifier(id) {
                    return Err(Stop::refused(format!(
                        "{} names {what} \"{}\", which is not an id",
                        coopbench_text::path(&published.path),
                        coopbench_text::shown(id)
                    )));
                }
            }
            let p = state.round_path(&facts.pool_id, &facts.id);
            if !p.exists() {
                return Err(Stop::refused(format!(
                    "compare needs the definition of round '{}' (its metrics and grid), which your state directory keeps once you have exported that round; \
                     it has none ({}). Pass the round file your association sent: --round-file round.sig.json",
                    shown(&facts.id),
                    text::path(&p)
                )));
            }
            p
        }
    };
    let loaded = round_load::load(state, &path, None)?;
    let r = &loaded.round.doc;
    if r.id != facts.id || r.pool_id != facts.pool_id {
        return Err(Stop::refused(format!(
            "{} is round '{}' of pool '{}', but the benchmark is round '{}' of pool '{}': pass the matching round file, or --round {}",
            text::path(&path),
            r.id,
            r.pool_id,
            shown(&facts.id),
            shown(&facts.pool_id),
            r.id
        )));
    }
    if loaded.round.hash != facts.round_hash {
        return Err(Stop::refused(format!(
            "{} is another version of round '{}' than the benchmark was merged from (round hash {} in the round file, {} in {}); \
             pass the round file the benchmark was made from with --round-file",
            text::path(&path),
            r.id,
            short(&loaded.round.hash),
            shown(short(&facts.round_hash)),
            text::path(&published.path)
        )));
    }
    if facts.currency != r.currency {
        return Err(Stop::refused(format!(
            "{} says the benchmark is in {}, the round in {}",
            text::path(&published.path),
            shown(&facts.currency),
            r.currency
        )));
    }
    Ok(loaded)
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Input errors, said in compare's terms.
fn input_stop(e: InputError, loaded: &LoadedRound) -> Stop {
    match e {
        InputError::Invalid(report) => {
            let r = &loaded.round.doc;
            eprint!("{}", report.to_text());
            Stop::refused(format!(
                "your files do not fit round '{}' (schemas {} and {}): see the problems above; nothing was compared",
                r.id, r.schemas.sales, r.schemas.costs
            ))
        }
        InputError::Refused(m) => Stop::refused(format!(
            "your files do not match round '{}': {m}",
            loaded.round.doc.id
        )),
        InputError::Usage(m) => Stop::usage(m),
    }
}

/// Refuses files with no rows in the round's period (a benchmark for
/// another period than the member's files).
fn period_check(loaded: &LoadedRound, summary: &InputSummary) -> Result<(), Stop> {
    let r = &loaded.round.doc;
    for (file, inside, outside) in &summary.files {
        if *inside == 0 {
            return Err(Stop::refused(format!(
                "{file} has no rows in round '{}''s period {} to {} ({outside} rows, all outside it): \
                 the benchmark is for another period than your file",
                r.id, r.period.start, r.period.end
            )));
        }
    }
    Ok(())
}

/// Months of the period in which the member's sales file has no row at all.
fn empty_months(loaded: &LoadedRound, aggs: &cells::Aggregates) -> Vec<String> {
    let r = &loaded.round.doc;
    let Some(sales) = aggs.get(&coopbench_protocol::round::SourceKind::Sales) else {
        return Vec::new();
    };
    r.months()
        .into_iter()
        .filter(|m| !sales.groups.keys().any(|(month, _)| month == m))
        .map(|m| {
            format!("your sales file has no rows in {m}: your figures for that month are zero")
        })
        .collect()
}

/// Runs `compare`.
pub fn run(args: &CompareArgs) -> Result<(), Stop> {
    let state = args.state.resolve()?;
    if let Some(path) = &args.html {
        // Before any figure is computed: the report can be written there.
        coopbench_fsio::check_output_target(path).map_err(Stop::usage)?;
    }
    let published = manifest::pick(&args.benchmarks, args.round.as_deref()).map_err(Stop::usage)?;
    let loaded = load_round(&state, args, &published)?;
    let round = &loaded.round.doc;
    let (aggs, summary) =
        inputs::load(&args.files, &args.read, &loaded).map_err(|e| input_stop(e, &loaded))?;
    period_check(&loaded, &summary)?;
    let mut notes = empty_months(&loaded, &aggs);
    let prepared = cells::prepare(round, &aggs).map_err(Stop::refused)?;
    let mut tables = HashMap::new();
    for m in &round.metrics {
        if m.kind == Kind::Active {
            continue;
        }
        let t = read_table(&args.benchmarks, &m.name, &round.id)?;
        tables.insert(m.name.clone(), t);
    }
    for m in &prepared {
        if m.clip_stats.cells_clipped > 0 {
            notes.push(format!(
                "{}: {} of {} of your cells are above the round's bounds; the benchmark counts at most the bound from any member, and so do your shares",
                m.name, m.clip_stats.cells_clipped, m.clip_stats.cells
            ));
        }
    }
    let comparison =
        compare::build(round, &published, &prepared, &tables, notes).map_err(Stop::refused)?;
    if let Some(path) = &args.html {
        write_html(path, &comparison)?;
    }
    match args.format {
        Format::Json => {
            let text =
                serde_json::to_string_pretty(&comparison).expect("the comparison serialises");
            coopbench_cli::outln!("{}", coopbench_text::json(&text));
        }
        Format::Table => coopbench_cli::out!("{}", crate::compare::text::render(&comparison)),
    }
    if let Some(path) = &args.html {
        eprintln!(
            "wrote {} (it holds your own figures: keep it to yourself)",
            text::path(&path)
        );
    }
    Ok(())
}

/// Reads `metric`'s table of `round_id` from the benchmark directory `dir`.
fn read_table(dir: &Path, metric: &str, round_id: &str) -> Result<Table, Stop> {
    let path = dir.join(table_file(metric, round_id).map_err(Stop::refused)?);
    if !path.exists() {
        return Err(Stop::refused(format!(
            "the benchmark has no table for metric '{metric}': {} does not exist",
            text::path(&path)
        )));
    }
    table::read(&path).map_err(Stop::refused)
}

/// Writes the HTML report atomically (whole or not at all).
fn write_html(path: &Path, c: &Comparison) -> Result<(), Stop> {
    let html = crate::compare::html::render(c).map_err(Stop::refused)?;
    coopbench_fsio::write_atomic(path, html.as_bytes())
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(&path))))
}
