//! The member's files for `plan`, `export` and `compare`: picked by kind, validated with
//! exactly the rules of `validate`, then aggregated for the round.

use crate::aggregate;
use crate::cells::Aggregates;
use crate::read_args::{InputFile, ReadArgs};
use crate::round_load::LoadedRound;
use coopbench_protocol::round::SourceKind;
use coopbench_schema::{Need, Opened, Report};
use std::collections::BTreeSet;
use std::path::PathBuf;

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

/// The fields `round` reads from files of `kind`, each with the metrics
/// that read it: a file without one of them cannot answer the round.
pub fn needs(round: &coopbench_protocol::Round, kind: SourceKind) -> Vec<Need> {
    let mut out: Vec<Need> = Vec::new();
    let mut add = |field: &str, by: String| match out.iter_mut().find(|n| n.field == field) {
        Some(n) if !n.by.contains(&by) => n.by = format!("{}, {by}", n.by),
        Some(_) => {}
        None => out.push(Need {
            field: field.into(),
            by,
        }),
    };
    for m in &round.metrics {
        // The same terms as the round's group-by reads (aggregate::needs).
        let mut terms = Vec::new();
        if m.source == Some(kind) {
            terms.push((m.measure.as_ref(), &m.filter));
        }
        for t in m.numerator.iter().chain(&m.denominator) {
            if t.source == kind {
                terms.push((t.measure.as_ref(), &t.filter));
            }
        }
        if terms.is_empty() {
            continue;
        }
        let mut reads: Vec<String> = m.dims.iter().filter(|d| *d != "month").cloned().collect();
        for (measure, filters) in terms {
            reads.extend(measure.cloned());
            reads.extend(filters.iter().map(|f| f.field.clone()));
        }
        reads.extend(["date".to_string(), "currency".to_string()]);
        for f in reads {
            add(&f, format!("metric \"{}\"", m.name));
        }
    }
    out
}

/// Validates and aggregates the member's files for a round: each file's
/// kind and reading options are settled before anything is read.
pub fn load(
    files: &[PathBuf],
    read: &ReadArgs,
    round: &LoadedRound,
) -> Result<(Aggregates, InputSummary), InputError> {
    let inputs = read.files(files, true).map_err(InputError::Usage)?;
    load_files(inputs, round)
}

/// As [`load`], for files already resolved with [`ReadArgs::files`].
pub fn load_files(
    inputs: Vec<InputFile>,
    round: &LoadedRound,
) -> Result<(Aggregates, InputSummary), InputError> {
    let mut picked: Vec<(SourceKind, InputFile)> = Vec::new();
    for f in inputs {
        let kind = match f.kind.as_deref() {
            Some("sales") => SourceKind::Sales,
            _ => SourceKind::Costs,
        };
        if picked.iter().any(|(k, _)| *k == kind) {
            return Err(InputError::Usage(format!(
                "two {} files given; pass one sales file and one costs file",
                kind.as_str()
            )));
        }
        picked.push((kind, f));
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
                "the round needs your {} file too (a CSV whose name contains \"{}\", or pass --kind {} for it)",
                k.as_str(),
                if *k == SourceKind::Sales {
                    "sales"
                } else {
                    "cost"
                },
                k.as_str()
            )));
        }
    }
    let mut sources = Vec::new();
    let mut reports = Vec::new();
    for (kind, input) in picked {
        let path = input.path;
        let schema = round.schema(kind);
        match coopbench_schema::open(&path, &input.options)
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
                let needs = needs(&round.round.doc, kind);
                let (report, partials) = coopbench_schema::validate_source_with(
                    &source,
                    schema,
                    100,
                    &needs,
                    Some(&query),
                )
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
