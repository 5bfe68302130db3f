//! `coopbench validate`: check CSV files against a schema and report every problem.

use crate::inputs::{kind_from_name, ReadArgs};
use clap::{Args, ValueEnum};
use coopbench_cli::Stop;
use coopbench_schema::{builtin, Report, TableSchema, BUILTIN_KINDS};
use coopbench_text as text;
use std::path::{Path, PathBuf};

/// Check sales or cost CSV files against the published schema.
///
/// Prints one line per problem, `FILE:ROW:COLUMN: RULE: message`, where ROW is
/// the row as a spreadsheet numbers it (the header is row 1), then a summary per
/// file. Exit status: 0 all valid, 1 some data invalid, 2 usage or I/O error.
///
/// Examples:
///   coopbench validate sales.csv costs.csv
///   coopbench validate --kind sales --delimiter ';' --decimal-comma --encoding windows-1252 export.csv
///   coopbench validate --map mapping.toml till-export.csv
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ValidateArgs {
    /// The CSV files to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The kind of file (picks the published schema). Default: from the file name
    /// (a name containing "sales" or "cost").
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(BUILTIN_KINDS))]
    kind: Option<String>,
    /// A Table Schema JSON file to check against instead of a published one.
    #[arg(long, value_name = "SCHEMA", conflicts_with = "kind")]
    schema: Option<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
    /// Show at most this many problems per file (all are still counted).
    #[arg(long, default_value_t = 100, value_name = "N")]
    max_errors: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// Compiler-style lines and a summary.
    Text,
    /// One JSON document with the same facts.
    Json,
}

/// The schema for a file: `--schema`, `--kind`, or the kind its name says.
fn schema_for(args: &ValidateArgs, file: &Path) -> Result<TableSchema, String> {
    if let Some(path) = &args.schema {
        return TableSchema::from_path(path).map_err(|e| e.to_string());
    }
    let kind = match &args.kind {
        Some(k) => k.clone(),
        None => kind_from_name(file).ok_or_else(|| {
            format!(
                "cannot tell whether {} holds sales or costs: pass --kind sales or --kind costs",
                text::path(&file)
            )
        })?,
    };
    builtin(&kind).map_err(|e| e.to_string())
}

/// Runs `validate`: the report on stdout; exit 1 (and nothing on stderr)
/// when a file is invalid.
pub fn run(args: &ValidateArgs) -> Result<(), Stop> {
    let options = args.read.options().map_err(Stop::usage)?;
    let mut reports = Vec::with_capacity(args.files.len());
    for file in &args.files {
        let schema = schema_for(args, file).map_err(Stop::usage)?;
        let report = coopbench_schema::validate(file, &schema, &options, args.max_errors)
            .map_err(Stop::usage)?;
        reports.push(report);
    }
    let report = Report::new(reports);
    match args.format {
        Format::Text => coopbench_cli::out!("{}", report.to_text()),
        Format::Json => {
            let json = serde_json::to_string_pretty(&report)
                .map_err(|e| Stop::usage(format!("cannot write the JSON report: {e}")))?;
            coopbench_cli::outln!("{}", coopbench_text::json(&json));
        }
    }
    if report.valid {
        Ok(())
    } else {
        Err(Stop::quiet())
    }
}
