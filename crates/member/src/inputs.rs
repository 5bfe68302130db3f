//! The member's files for `plan` and `export`: picked by kind, validated with
//! exactly the rules of `validate`, then aggregated for the round.

use crate::aggregate;
use crate::cells::Aggregates;
use crate::round_load::LoadedRound;
use clap::Args;
use coopbench_protocol::round::SourceKind;
use coopbench_schema::{Encoding, Mapping, Opened, ReadOptions, Report};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// How to read the member's files: the options `validate`, `plan` and
/// `export` share.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The field separator: a single character such as ';', or 'tab'.
    #[arg(long, default_value = ",", value_parser = parse_delimiter)]
    delimiter: u8,
    /// Numbers are written with a decimal comma (12,50), as in much of Europe.
    #[arg(long)]
    decimal_comma: bool,
    /// The files' encoding: utf-8 (with or without BOM), windows-1252, or latin1.
    #[arg(long, default_value = "utf-8", value_parser = parse_encoding)]
    encoding: Encoding,
    /// A TOML file mapping your column names to schema fields, with an optional
    /// date_format and columns to ignore (see docs/member.md).
    #[arg(long, value_name = "MAPPING")]
    map: Option<PathBuf>,
}

impl ReadArgs {
    /// The read options these arguments describe, or a usage error.
    pub fn options(&self) -> Result<ReadOptions, String> {
        if self.decimal_comma && self.delimiter == b',' {
            return Err(
                "--decimal-comma needs another separator than ',': add --delimiter ';'".into(),
            );
        }
        let mapping = match &self.map {
            Some(p) => Mapping::from_path(p)?,
            None => Mapping::default(),
        };
        Ok(ReadOptions {
            delimiter: self.delimiter,
            decimal_comma: self.decimal_comma,
            encoding: self.encoding,
            mapping,
            progress: true,
        })
    }
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        s if s.len() == 1 && s.is_ascii() && s != "\"" && s != "\n" && s != "\r" => {
            Ok(s.as_bytes()[0])
        }
        _ => Err(format!(
            "{s:?} is not a single ASCII separator character (e.g. ',' ';' or 'tab')"
        )),
    }
}

fn parse_encoding(s: &str) -> Result<Encoding, String> {
    Encoding::parse(s)
        .ok_or_else(|| format!("unknown encoding {s:?}: use utf-8, windows-1252 or latin1"))
}

/// Why the files cannot be used.
#[derive(Debug)]
pub enum InputError {
    /// Usage or I/O (exit 2).
    Usage(String),
    /// The data is invalid: validate's report (exit 1).
    Invalid(Report),
    /// The data is valid but cannot answer this round (exit 1).
    Refused(String),
}

/// What the member's files hold, in counts only (safe to print).
#[derive(Debug, Default)]
pub struct InputSummary {
    /// (file, rows in the period, rows outside it).
    pub files: Vec<(String, u64, u64)>,
    /// The file read for each kind (its name as given, unescaped).
    pub sources: Vec<(SourceKind, String)>,
}

/// Validates and aggregates the member's files for a round.
pub fn load(
    files: &[PathBuf],
    read: &ReadArgs,
    round: &LoadedRound,
) -> Result<(Aggregates, InputSummary), InputError> {
    let options = read.options().map_err(InputError::Usage)?;
    let mut picked: Vec<(SourceKind, PathBuf)> = Vec::new();
    for f in files {
        let kind = match kind_from_name(f).as_deref() {
            Some("sales") => SourceKind::Sales,
            Some("costs") => SourceKind::Costs,
            _ => {
                return Err(InputError::Usage(format!(
                    "cannot tell whether {} holds sales or costs: its name must contain \"sales\" or \"cost\"",
                    f.display()
                )))
            }
        };
        if picked.iter().any(|(k, _)| *k == kind) {
            return Err(InputError::Usage(format!(
                "two {} files given; pass one sales file and one costs file",
                kind.as_str()
            )));
        }
        picked.push((kind, f.clone()));
    }
    let needed: BTreeSet<SourceKind> = round
        .round
        .doc
        .metrics
        .iter()
        .flat_map(|m| {
            m.source
                .into_iter()
                .chain(m.numerator.iter().chain(&m.denominator).map(|t| t.source))
        })
        .collect();
    for k in &needed {
        if !picked.iter().any(|(p, _)| p == k) {
            return Err(InputError::Usage(format!(
                "the round needs your {} file too (a CSV whose name contains \"{}\")",
                k.as_str(),
                if *k == SourceKind::Sales {
                    "sales"
                } else {
                    "cost"
                }
            )));
        }
    }
    let mut sources = Vec::new();
    let mut reports = Vec::new();
    for (kind, path) in picked {
        let schema = round.schema(kind);
        match coopbench_schema::open(&path, &options)
            .map_err(|e| InputError::Usage(e.to_string()))?
        {
            Opened::Unreadable(p) => reports.push(coopbench_schema::FileReport::single(
                &path.display().to_string(),
                &schema.name,
                p,
            )),
            Opened::Ready(source) => {
                // Validation and the round's group-by share one read of the file.
                let query = aggregate::batch_query(&round.round.doc, kind);
                let (report, partials) =
                    coopbench_schema::validate_source_with(&source, schema, 100, Some(&query))
                        .map_err(|e| InputError::Usage(e.to_string()))?;
                let ok = report.valid;
                reports.push(report);
                if ok {
                    sources.push((kind, source, partials));
                }
            }
        }
    }
    let report = Report::new(reports);
    if !report.valid {
        return Err(InputError::Invalid(report));
    }
    let r = &round.round.doc;
    let mut aggs = Aggregates::new();
    let mut summary = InputSummary::default();
    for (kind, source, partials) in sources {
        let agg =
            aggregate::aggregate(&source.display, partials, r, kind).map_err(InputError::Usage)?;
        if let Some(other) = agg.currencies.iter().find(|c| **c != r.currency) {
            return Err(InputError::Refused(format!(
                "{} has amounts in {other} in the round's period; this round is in {} and one metric cannot mix currencies",
                source.display, r.currency
            )));
        }
        summary
            .files
            .push((source.display.clone(), agg.rows_inside, agg.rows_outside));
        summary.sources.push((kind, source.display.clone()));
        aggs.insert(kind, agg);
    }
    Ok((aggs, summary))
}

/// `sales` or `costs` when the file name says so.
pub fn kind_from_name(file: &Path) -> Option<String> {
    let name = file.file_name()?.to_string_lossy().to_lowercase();
    match (name.contains("sales"), name.contains("cost")) {
        (true, false) => Some("sales".into()),
        (false, true) => Some("costs".into()),
        _ => None,
    }
}
