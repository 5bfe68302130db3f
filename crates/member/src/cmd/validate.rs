//! `coopbench validate`: check CSV files against a schema and report every problem.

use crate::read_args::{InputFile, ReadArgs};
use clap::{Args, ValueEnum};
use coopbench_cli::Stop;
use coopbench_schema::{builtin, Report, TableSchema};
use std::path::PathBuf;

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
///   coopbench validate --map sales=kasse.toml --map costs=buchhaltung.toml kasse.csv buchhaltung.csv
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ValidateArgs {
    /// The CSV files to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// A Table Schema JSON file to check against instead of a published one.
    #[arg(long, value_name = "SCHEMA", conflicts_with = "kinds")]
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

/// The schema for a file: `--schema`, else its kind's.
fn schema_for(args: &ValidateArgs, file: &InputFile) -> Result<TableSchema, String> {
    if let Some(path) = &args.schema {
        return TableSchema::from_path(path).map_err(|e| e.to_string());
    }
    match file.kind.as_deref() {
        Some(kind) => builtin(kind).map_err(|e| e.to_string()),
        None => Err("pass --kind sales or --kind costs".into()),
    }
}

/// Runs `validate`: the report on stdout; exit 1 (and nothing on stderr)
/// when a file is invalid.
pub fn run(args: &ValidateArgs) -> Result<(), Stop> {
    // Every file's kind and settings before anything is read or printed.
    let files = args
        .read
        .files(&args.files, args.schema.is_none())
        .map_err(Stop::usage)?;
    let mut reports = Vec::with_capacity(files.len());
    for file in &files {
        let schema = schema_for(args, file).map_err(Stop::usage)?;
        let report =
            coopbench_schema::validate(&file.path, &schema, &file.options, args.max_errors)
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
