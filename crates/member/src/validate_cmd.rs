//! `coopbench validate`: check CSV files against a schema and report every problem.

use crate::cli::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use clap::{Args, ValueEnum};
use coopbench_schema::{builtin, Report, TableSchema, BUILTIN_KINDS};
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
    read: crate::inputs::ReadArgs,
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
                file.display()
            )
        })?,
    };
    builtin(&kind).map_err(|e| e.to_string())
}

/// `sales` or `costs` when the file name says so.
pub(crate) fn kind_from_name(file: &Path) -> Option<String> {
    let name = file.file_name()?.to_string_lossy().to_lowercase();
    match (name.contains("sales"), name.contains("cost")) {
        (true, false) => Some("sales".into()),
        (false, true) => Some("costs".into()),
        _ => None,
    }
}

/// Runs `validate` and returns the exit code.
pub fn run(args: &ValidateArgs) -> i32 {
    let options = match args.read.options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {}", coopbench_text::message(&e.to_string()));
            return EXIT_USAGE;
        }
    };
    let mut reports = Vec::with_capacity(args.files.len());
    for file in &args.files {
        let schema = match schema_for(args, file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {}", coopbench_text::message(&e.to_string()));
                return EXIT_USAGE;
            }
        };
        match coopbench_schema::validate(file, &schema, &options, args.max_errors) {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("error: {}", coopbench_text::message(&e.to_string()));
                return EXIT_USAGE;
            }
        }
    }
    let report = Report::new(reports);
    match args.format {
        Format::Text => print!("{}", report.to_text()),
        Format::Json => match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{}", coopbench_text::json(&s)),
            Err(e) => {
                eprintln!("error: cannot write the JSON report: {e}");
                return EXIT_USAGE;
            }
        },
    }
    if report.valid {
        EXIT_OK
    } else {
        EXIT_INVALID
    }
}
