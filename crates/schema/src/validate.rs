//! Validation of one file: header binding, then every row rule as one streaming
//! polars query that keeps only failing rows, then uniqueness over hashes.

use crate::header;
use crate::model::TableSchema;
use crate::report::{FileReport, Problem, RuleCount};
use crate::rules::{self, Check, Dialect};
use crate::scan::{self, ROW};
use crate::source::{spinner, Opened, ReadOptions, Source, SourceError};
use polars::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Validation could not run (exit code 2): the file is unreadable, or polars failed.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// The file could not be opened or read.
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// Fixed keys for the 64-bit hashes that find repeated values. Two different
/// values collide with probability about n²/2⁶⁵ (3·10⁻⁶ for 10M distinct
/// values); shown duplicates are always confirmed on the real text.
const HASH_KEYS: (u64, u64, u64, u64) = (0x636f_6f70, 0x6265_6e63, 0x6875_6e69, 0x7175_6521);

/// Validates one file against a schema; at most `max_errors` problems are
/// kept for display, all are counted.
pub fn validate(
    path: &Path,
    schema: &TableSchema,
    options: &ReadOptions,
    max_errors: usize,
) -> Result<FileReport, ValidateError> {
    match Source::open(path, options)? {
        Opened::Unreadable(p) => Ok(FileReport::single(
            &path.display().to_string(),
            &schema.name,
            p,
        )),
        Opened::Ready(source) => validate_source(&source, schema, max_errors),
    }
}

/// A problem located in a data row, before its message is written.
struct Pending {
    row: u32,
    field: Option<usize>,
    rule: &'static str,
    /// For repeated values: the row of the first occurrence; for ragged rows, the cell count.
    first: Option<u32>,
}

/// A uniqueness rule: a single field's `unique`, or the composite primary key.
struct UniqueRule {
    rule: &'static str,
    field: usize,
    key: Expr,
}

/// Validates an opened file.
pub fn validate_source(
    source: &Source,
    schema: &TableSchema,
    max_errors: usize,
) -> Result<FileReport, ValidateError> {
    let polars_problem = |e: PolarsError| {
        FileReport::single(
            &source.display,
            &schema.name,
            Problem::file_level(
                &source.display,
                1,
                "csv",
                format!("the file could not be read as CSV: {e}; check the delimiter (--delimiter) and quoting"),
            ),
        )
    };
    let (binding, header_problems) = header::bind(schema, source);
    let dialect = scan::dialect(source);
    let bound: Vec<usize> = (0..schema.fields.len())
        .filter(|f| binding.has_field(*f))
        .collect();
    let spinner = spinner(
        source.options.progress,
        source.size,
        "checking every rule with polars",
    );
    let lf = match scan::raw_scan(source, schema, &binding) {
        Ok(lf) => lf,
        Err(e) => return Ok(polars_problem(e)),
    };
    let shape = &source.structure;
    // Ragged and blank rows are reported from the structural pass; their cells are not checked.
    let mut skipped: Vec<u32> = shape
        .ragged
        .iter()
        .map(|(r, _)| *r)
        .chain(shape.blank.iter().copied())
        .collect();
    skipped.sort_unstable();
    let checks = rules::row_checks(schema, &bound, &dialect, &skipped);
    let uniques = unique_rules(schema, &bound);
    let result = run_queries(&lf, &checks, &uniques, max_errors);
    spinner.finish_and_clear();
    let rows = shape.data_rows;
    let (check_counts, mut pending, unique_counts) = match result {
        Ok(r) => r,
        Err(e) => return Ok(polars_problem(e)),
    };

    let mut problems = header_problems;
    let mut counts: BTreeMap<(String, Option<String>), u64> = BTreeMap::new();
    for p in &problems {
        *counts
            .entry((p.rule.clone(), p.column.clone()))
            .or_default() += 1;
    }
    if rows == 0 {
        let p = Problem::file_level(
            &source.display,
            2,
            "no-data",
            "the file has a header but no data rows".into(),
        );
        *counts.entry((p.rule.clone(), None)).or_default() += 1;
        problems.push(p);
    }
    let column_of = |f: Option<usize>| f.map(|f| schema.fields[f].name.clone());
    // The first `max_errors` ragged rows are candidates whatever the cell
    // checks already found: the sort and truncation below keep the first
    // problems in file order, so an early short row is not crowded out by
    // cell problems further down.
    for (i, &(row, cells)) in shape.ragged.iter().enumerate() {
        let rule = if cells > shape.header_cells {
            "extra-cell"
        } else {
            "missing-cell"
        };
        *counts.entry((rule.to_string(), None)).or_default() += 1;
        if i < max_errors {
            pending.push(Pending {
                row,
                field: None,
                rule,
                first: Some(cells),
            });
        }
    }
    for (i, &row) in shape.blank.iter().enumerate() {
        *counts.entry(("blank-row".to_string(), None)).or_default() += 1;
        if i < max_errors {
            pending.push(Pending {
                row,
                field: None,
                rule: "blank-row",
                first: None,
            });
        }
    }
    for (check, n) in checks.iter().zip(&check_counts) {
        if *n > 0 {
            *counts
                .entry((check.rule.to_string(), column_of(check.field)))
                .or_default() += n;
        }
    }
    for (u, n) in uniques.iter().zip(&unique_counts) {
        if *n > 0 {
            *counts
                .entry((
                    u.rule.to_string(),
                    Some(schema.fields[u.field].name.clone()),
                ))
                .or_default() += n;
        }
    }
    pending.sort_by_key(|p| (p.row, p.field.map_or(0, |f| f + 1)));
    let room = max_errors.saturating_sub(problems.len());
    pending.truncate(room);
    match describe(source, schema, &bound, &lf, &dialect, &pending) {
        Ok(mut described) => problems.append(&mut described),
        Err(e) => return Ok(polars_problem(e)),
    }
    problems.truncate(max_errors);
    let total: u64 = counts.values().sum();
    let counts: Vec<RuleCount> = counts
        .into_iter()
        .map(|((rule, column), count)| RuleCount {
            rule,
            column,
            count,
        })
        .collect();
    Ok(FileReport {
        file: source.display.clone(),
        schema: schema.name.clone(),
        rows: Some(rows),
        valid: total == 0,
        problems,
        problems_total: total,
        counts,
    })
}

fn unique_rules(schema: &TableSchema, bound: &[usize]) -> Vec<UniqueRule> {
    let (k0, k1, k2, k3) = HASH_KEYS;
    let mut out: Vec<UniqueRule> = bound
        .iter()
        .filter(|f| schema.fields[**f].constraints.unique)
        .map(|&f| {
            let name = schema.fields[f].name.as_str();
            UniqueRule {
                rule: "unique",
                field: f,
                key: when(rules::is_missing(schema, name).not())
                    .then(col(name).hash(k0, k1, k2, k3))
                    .otherwise(lit(NULL).cast(DataType::UInt64)),
            }
        })
        .collect();
    let pk: Vec<usize> = schema
        .primary_key
        .iter()
        .filter_map(|k| schema.fields.iter().position(|f| &f.name == k))
        .collect();
    if !pk.is_empty() && pk.iter().all(|f| bound.contains(f)) {
        let names: Vec<&str> = pk.iter().map(|&f| schema.fields[f].name.as_str()).collect();
        let all_present = names
            .iter()
            .map(|n| rules::is_missing(schema, n).not())
            .reduce(|a, b| a.and(b))
            .expect("non-empty key");
        let joined = concat_str(
            names.iter().map(|n| col(*n)).collect::<Vec<_>>(),
            "\u{1f}",
            false,
        );
        out.push(UniqueRule {
            rule: "primaryKey",
            field: pk[0],
            key: when(all_present)
                .then(joined.hash(k0, k1, k2, k3))
                .otherwise(lit(NULL).cast(DataType::UInt64)),
        });
    }
    out
}

type QueryOutcome = (Vec<u64>, Vec<Pending>, Vec<u64>);

/// Runs the row-rule and uniqueness queries. Returns failures per check, up to `max_errors` pending problems from each source,
/// and duplicates per unique rule.
fn run_queries(
    lf: &LazyFrame,
    checks: &[Check],
    uniques: &[UniqueRule],
    max_errors: usize,
) -> PolarsResult<QueryOutcome> {
    let streaming = |q: LazyFrame| {
        q.collect_with_engine(Engine::Streaming)
            .map(|r| r.unwrap_single())
    };
    let flag = |i: usize| format!("__f{i}");
    let mut exprs = vec![col(ROW)];
    exprs.extend(
        checks
            .iter()
            .enumerate()
            .map(|(i, c)| c.fail.clone().alias(flag(i))),
    );
    let any = (0..checks.len())
        .map(|i| col(flag(i)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let failing = streaming(lf.clone().select(exprs).filter(any))?;
    let failing = failing.sort([ROW], SortMultipleOptions::default())?;
    let sums = failing
        .clone()
        .lazy()
        .select(
            (0..checks.len())
                .map(|i| col(flag(i)).cast(DataType::UInt64).sum())
                .collect::<Vec<_>>(),
        )
        .collect()?;
    let mut check_counts = Vec::with_capacity(checks.len());
    for i in 0..checks.len() {
        check_counts.push(sums.column(&flag(i))?.u64()?.get(0).unwrap_or(0));
    }
    let mut pending = Vec::new();
    let row_ids = failing.column(ROW)?.cast(&DataType::UInt32)?;
    let row_ids = row_ids.u32()?;
    let flags: Vec<BooleanChunked> = (0..checks.len())
        .map(|i| failing.column(&flag(i)).and_then(|c| c.bool().cloned()))
        .collect::<PolarsResult<_>>()?;
    'rows: for (r, row) in row_ids.iter().enumerate() {
        for (i, check) in checks.iter().enumerate() {
            if flags[i].get(r) == Some(true) {
                pending.push(Pending {
                    row: row.unwrap_or(0),
                    field: check.field,
                    rule: check.rule,
                    first: None,
                });
                if pending.len() >= max_errors {
                    break 'rows;
                }
            }
        }
    }
    let mut unique_counts = vec![0u64; uniques.len()];
    if !uniques.is_empty() {
        let key = |i: usize| format!("__k{i}");
        let mut exprs = vec![col(ROW)];
        exprs.extend(
            uniques
                .iter()
                .enumerate()
                .map(|(i, u)| u.key.clone().alias(key(i))),
        );
        let keys = streaming(lf.clone().select(exprs))?;
        for (i, u) in uniques.iter().enumerate() {
            let k = key(i);
            let dups = keys
                .clone()
                .lazy()
                .select([col(ROW), col(&k)])
                .filter(col(&k).is_not_null().and(col(&k).is_duplicated()))
                .sort([ROW], SortMultipleOptions::default())
                .collect()?;
            let rows = dups.column(ROW)?.cast(&DataType::UInt32)?;
            let hashes = dups.column(&k)?.u64()?.clone();
            let mut first_seen: HashMap<u64, u32> = HashMap::new();
            let mut shown = 0usize;
            for (row, h) in rows.u32()?.iter().zip(hashes.iter()) {
                let (Some(row), Some(h)) = (row, h) else {
                    continue;
                };
                match first_seen.get(&h) {
                    None => {
                        first_seen.insert(h, row);
                    }
                    Some(&first) => {
                        unique_counts[i] += 1;
                        if shown < max_errors {
                            shown += 1;
                            pending.push(Pending {
                                row,
                                field: Some(u.field),
                                rule: u.rule,
                                first: Some(first),
                            });
                        }
                    }
                }
            }
        }
    }
    Ok((check_counts, pending, unique_counts))
}

/// Writes the messages of the problems to show, reading back only their rows.
fn describe(
    source: &Source,
    schema: &TableSchema,
    bound: &[usize],
    lf: &LazyFrame,
    dialect: &Dialect,
    pending: &[Pending],
) -> PolarsResult<Vec<Problem>> {
    if pending.is_empty() {
        return Ok(vec![]);
    }
    let mut wanted: Vec<u32> = pending
        .iter()
        .filter(|p| p.field.is_some())
        .flat_map(|p| [Some(p.row), p.first])
        .flatten()
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let cols: Vec<Expr> = std::iter::once(col(ROW))
        .chain(bound.iter().map(|&f| col(schema.fields[f].name.as_str())))
        .collect();
    let rows = lf
        .clone()
        .filter(col(ROW).is_in(lit(Series::new("".into(), wanted)).implode(false), false))
        .select(cols)
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let ids = rows.column(ROW)?.cast(&DataType::UInt32)?;
    let index: HashMap<u32, usize> = ids
        .u32()?
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.map(|r| (r, i)))
        .collect();
    let raw = |row: u32, field: usize| -> PolarsResult<String> {
        let Some(&i) = index.get(&row) else {
            return Ok(String::new());
        };
        Ok(rows
            .column(&schema.fields[field].name)?
            .str()?
            .get(i)
            .unwrap_or("")
            .to_string())
    };
    let width = source.header.len();
    let mut out = Vec::with_capacity(pending.len());
    for p in pending {
        let message = match (p.rule, p.field) {
            ("blank-row", _) => "the row is blank: delete it".to_string(),
            ("extra-cell", _) | ("missing-cell", _) => {
                format!(
                    "the row has {} cells, the header has {width}",
                    p.first.unwrap_or(0)
                )
            }
            ("unique", Some(f)) => {
                let v = raw(p.row, f)?;
                if p.first
                    .is_some_and(|first| raw(first, f).ok().as_deref() != Some(v.as_str()))
                {
                    continue; // a 64-bit hash collision, not a real repeat
                }
                format!(
                    "{v:?} repeats the value in row {}",
                    p.first.unwrap_or(0) as u64 + 2
                )
            }
            ("primaryKey", Some(_)) if p.first.is_some() => {
                let key_of = |row: u32| -> PolarsResult<Vec<String>> {
                    schema
                        .primary_key
                        .iter()
                        .filter_map(|k| schema.fields.iter().position(|f| &f.name == k))
                        .map(|f| raw(row, f))
                        .collect()
                };
                let key = key_of(p.row)?;
                let first = p.first.unwrap_or(0);
                if key_of(first)? != key {
                    continue; // a 64-bit hash collision, not a real repeat
                }
                format!(
                    "the key ({}) repeats the key in row {}",
                    key.join(", "),
                    first as u64 + 2
                )
            }
            (rule, Some(f)) => rules::message(&schema.fields[f], rule, &raw(p.row, f)?, dialect),
            (rule, None) => rule.to_string(),
        };
        out.push(Problem {
            file: source.display.clone(),
            row: p.row as u64 + 2,
            column: p.field.map(|f| schema.fields[f].name.clone()),
            rule: p.rule.to_string(),
            message,
        });
    }
    Ok(out)
}
