//! Validation of one file: header binding, then every row rule as one streaming
//! polars query that keeps only failing rows, then uniqueness over hashes.

use crate::batches::{self, Batch, BatchError};
use crate::dups::DupFinder;
use crate::header::{self, Need};
use crate::model::FieldType;
use crate::model::TableSchema;
use crate::report::{FileReport, Problem, RuleCount};
use crate::rules::{self, Check, Dialect};
use crate::scan::{self, ROW};
use crate::source::{encoding_problem, spinner, Opened, ReadOptions, Source, SourceError};
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

/// Extra work on each batch during validation (export's group-by): it gets
/// the batch's typed columns, named as the schema's fields (values that fail
/// validation are null), and returns a small partial result.
pub type BatchQuery<'a> = &'a (dyn Fn(LazyFrame) -> PolarsResult<DataFrame> + Sync);

/// Validates an opened file.
pub fn validate_source(
    source: &Source,
    schema: &TableSchema,
    max_errors: usize,
) -> Result<FileReport, ValidateError> {
    validate_source_with(source, schema, max_errors, &[], None).map(|(report, _)| report)
}

/// The problem for a polars error that reached validation: what is wrong
/// with the file and how to fix it, in the report's words (polars' own
/// message, which can hold its query plan, is never shown).
fn polars_problem(source: &Source, e: &PolarsError) -> Problem {
    let o = &source.options;
    let mut root = e;
    while let PolarsError::Context { error, .. } | PolarsError::ExprContext { error, .. } = root {
        root = error;
    }
    let (other, flag) = if o.delimiter == b';' {
        ("\",\"", "--delimiter ','")
    } else {
        ("\";\"", "--delimiter ';'")
    };
    let message = match root {
        PolarsError::ColumnNotFound(text) => {
            // polars says `unable to find column "x"; valid columns: …`.
            let text = text.to_string();
            let name = text.split('"').nth(1).unwrap_or("");
            format!(
                "the file has no column for field {name:?}, which this command needs: name a column so, or map yours to it in a mapping file (--map)"
            )
        }
        _ => format!(
            "the file could not be read as CSV separated by {:?} (from {}): check that every quote is closed; if it is separated otherwise, {}",
            o.delimiter as char,
            o.origins.delimiter.describe(),
            o.advice("delimiter", other, flag, &o.origins.delimiter)
        ),
    };
    Problem::file_level(&source.display, 1, "csv", message)
}

/// Validates an opened file and, in the same read, runs `extra` on every
/// batch; its partial results are returned (in no particular order) beside
/// the report. They mean something only when the report is valid.
pub fn validate_source_with(
    source: &Source,
    schema: &TableSchema,
    max_errors: usize,
    needs: &[Need],
    extra: Option<BatchQuery<'_>>,
) -> Result<(FileReport, Vec<DataFrame>), ValidateError> {
    let polars_problem = |e: PolarsError| {
        FileReport::single(&source.display, &schema.name, polars_problem(source, &e))
    };
    let most = schema.fields.len() + crate::source::MAX_EXTRA_COLUMNS;
    if source.header.len() > most {
        let p = Problem::file_level(
            &source.display,
            1,
            "header-too-wide",
            format!(
                "the header has {} columns; schema {} has {} fields and at most {} more columns are read: is the separator {:?} (from {}) right, or is this another table?",
                source.header.len(),
                schema.name,
                schema.fields.len(),
                crate::source::MAX_EXTRA_COLUMNS,
                source.options.delimiter as char,
                source.options.origins.delimiter.describe()
            ),
        );
        return Ok((FileReport::single(&source.display, &schema.name, p), vec![]));
    }
    let (binding, header_problems) = header::bind(schema, source, needs);
    let dialect = scan::dialect(source);
    let bound: Vec<usize> = (0..schema.fields.len())
        .filter(|f| binding.has_field(*f))
        .collect();
    let names = scan::column_names(source, schema, &binding);
    let spinner = spinner(
        source.options.progress,
        source.size,
        "checking every rule with polars",
    );
    let (stage, checks) = rules::row_checks(schema, &bound, &dialect);
    // The caller's query reads the fields it needs: without one of them its
    // result would mean nothing (the header problem already says so), and
    // polars would fail on the missing column.
    let extra = extra.filter(|_| {
        needs.iter().all(|n| {
            schema
                .fields
                .iter()
                .position(|f| f.name == n.field)
                .is_some_and(|f| binding.has_field(f))
        })
    });
    let uniques = unique_rules(schema, &bound);
    let typed: Vec<Expr> = extra
        .map(|_| {
            bound
                .iter()
                .map(|&f| {
                    let field = &schema.fields[f];
                    let name = field.name.as_str();
                    if field.field_type == FieldType::String {
                        when(rules::is_missing(schema, name).not())
                            .then(col(name))
                            .otherwise(lit(NULL).cast(DataType::String))
                            .alias(typed_alias(f))
                    } else {
                        col(rules::typed_name(f)).alias(typed_alias(f))
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let plan = BatchPlan {
        stage,
        checks: &checks,
        uniques: &uniques,
        typed,
        typed_back: bound
            .iter()
            .map(|&f| col(typed_alias(f)).alias(schema.fields[f].name.as_str()))
            .collect(),
        extra,
        max_errors,
    };
    let mut check_counts = vec![0u64; checks.len()];
    let mut check_pending: Vec<(u32, usize)> = Vec::new();
    let mut finders: Vec<DupFinder> = uniques.iter().map(|_| DupFinder::new()).collect();
    let mut partials = Vec::new();
    let run = batches::run(
        source,
        &names,
        &|batch, df| plan.run(batch, df),
        &mut |out: BatchOut| {
            for (c, n) in check_counts.iter_mut().zip(&out.counts) {
                *c += n;
            }
            check_pending.extend(out.pending);
            if check_pending.len() > 2 * max_errors.max(1) {
                check_pending.sort_unstable();
                check_pending.truncate(max_errors);
            }
            for (f, keys) in finders.iter_mut().zip(&out.keys) {
                f.extend(keys).map_err(BatchError::Io)?;
            }
            partials.extend(out.extra);
            Ok(())
        },
    );
    spinner.finish_and_clear();
    let shape = match run {
        Ok(shape) => shape,
        Err(BatchError::Encoding(offset, line, bytes)) => {
            let p = encoding_problem(&source.display, &source.options, offset, line, &bytes);
            return Ok((FileReport::single(&source.display, &schema.name, p), vec![]));
        }
        Err(BatchError::Io(e)) => {
            return Err(ValidateError::Source(SourceError {
                path: source.display.clone(),
                message: e.to_string(),
            }))
        }
        Err(BatchError::Changed(how)) => {
            return Err(ValidateError::Source(SourceError {
                path: source.display.clone(),
                message: format!(
                "{how}; nothing was concluded from it: validate it again once nothing writes to it"
            ),
            }))
        }
        Err(BatchError::Limit(line, rule, message)) => {
            let p = Problem::file_level(&source.display, line, rule, message);
            return Ok((FileReport::single(&source.display, &schema.name, p), vec![]));
        }
        Err(BatchError::Polars(e)) => return Ok((polars_problem(e), vec![])),
    };
    check_pending.sort_unstable();
    check_pending.truncate(max_errors);
    let mut pending: Vec<Pending> = check_pending
        .iter()
        .map(|&(row, i)| Pending {
            row,
            field: checks[i].field,
            rule: checks[i].rule,
            first: None,
        })
        .collect();
    let mut unique_counts = Vec::with_capacity(uniques.len());
    for (u, finder) in uniques.iter().zip(finders) {
        let repeats = finder.finish(max_errors).map_err(|e| {
            ValidateError::Source(SourceError {
                path: source.display.clone(),
                message: format!("cannot use a temporary file for the uniqueness check: {e}"),
            })
        })?;
        unique_counts.push(repeats.count);
        pending.extend(repeats.first.iter().map(|&(row, first)| Pending {
            row,
            field: Some(u.field),
            rule: u.rule,
            first: Some(first),
        }));
    }
    let rows = shape.data_rows;
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
    match describe(source, schema, &bound, &names, &dialect, &pending) {
        Ok(mut described) => problems.append(&mut described),
        Err(e) => return Ok((polars_problem(e), vec![])),
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
    let report = FileReport {
        file: source.display.clone(),
        schema: schema.name.clone(),
        rows: Some(rows),
        valid: total == 0,
        problems,
        problems_total: total,
        counts,
    };
    Ok((report, partials))
}

/// The column names of the typed values handed to a [`BatchQuery`].
fn typed_alias(field: usize) -> String {
    format!("__t{field}")
}

/// The column of a check's flag and of a uniqueness rule's key.
fn flag(i: usize) -> String {
    format!("__f{i}")
}
fn key(i: usize) -> String {
    format!("__k{i}")
}

/// What every batch runs: the rule expressions, the uniqueness keys and the
/// caller's extra query.
struct BatchPlan<'a> {
    stage: Vec<Vec<Expr>>,
    checks: &'a [Check],
    uniques: &'a [UniqueRule],
    typed: Vec<Expr>,
    typed_back: Vec<Expr>,
    extra: Option<BatchQuery<'a>>,
    max_errors: usize,
}

/// One batch's findings: failures per check, the first failing (row, check)
/// pairs, every present key's hash with its row, and the extra query's result.
struct BatchOut {
    counts: Vec<u64>,
    pending: Vec<(u32, usize)>,
    keys: Vec<Vec<(u64, u32)>>,
    extra: Option<DataFrame>,
}

impl BatchPlan<'_> {
    /// Runs every rule over one batch in one polars query.
    fn run(&self, batch: &Batch, df: DataFrame) -> PolarsResult<BatchOut> {
        let mut exprs = vec![col(ROW)];
        exprs.extend(
            self.checks
                .iter()
                .enumerate()
                .map(|(i, c)| c.fail.clone().alias(flag(i))),
        );
        exprs.extend(
            self.uniques
                .iter()
                .enumerate()
                .map(|(i, u)| u.key.clone().alias(key(i))),
        );
        exprs.extend(self.typed.iter().cloned());
        let mut lf = df.lazy();
        for stage in &self.stage {
            lf = lf.with_columns(stage.clone());
        }
        let out = lf.select(exprs).collect()?;
        // Ragged and blank rows are reported by the structural pass; their cells are not checked.
        let complete = if batch.skipped.is_empty() {
            lit(true)
        } else {
            col(ROW)
                .is_in(
                    lit(Series::new("".into(), batch.skipped.clone())).implode(false),
                    false,
                )
                .not()
        };
        let any = (0..self.checks.len())
            .map(|i| col(flag(i)))
            .reduce(|a, b| a.or(b))
            .unwrap_or(lit(false));
        let mut flags: Vec<Expr> = vec![col(ROW)];
        flags.extend((0..self.checks.len()).map(|i| col(flag(i))));
        let failing = out
            .clone()
            .lazy()
            .filter(any.and(complete))
            .select(flags)
            .collect()?;
        let rows = failing.column(ROW)?.idx()?;
        let mut counts = vec![0u64; self.checks.len()];
        let mut pending = Vec::new();
        for (i, c) in counts.iter_mut().enumerate() {
            let f = failing.column(&flag(i))?.bool()?;
            *c = f.sum().unwrap_or(0) as u64;
        }
        if failing.height() > 0 {
            let cols: Vec<&BooleanChunked> = (0..self.checks.len())
                .map(|i| failing.column(&flag(i)).and_then(|c| c.bool()))
                .collect::<PolarsResult<_>>()?;
            'rows: for (r, row) in rows.iter().enumerate() {
                for (i, f) in cols.iter().enumerate() {
                    if f.get(r) == Some(true) {
                        pending.push((row.unwrap_or(0), i));
                        if pending.len() >= self.max_errors {
                            break 'rows;
                        }
                    }
                }
            }
        }
        let ids = out.column(ROW)?.idx()?;
        let mut keys = Vec::with_capacity(self.uniques.len());
        for i in 0..self.uniques.len() {
            let k = out.column(&key(i))?.u64()?;
            let present: Vec<(u64, u32)> = match (k.cont_slice(), ids.cont_slice()) {
                // No missing keys (the usual case): straight from the buffers.
                (Ok(k), Ok(r)) => k.iter().copied().zip(r.iter().copied()).collect(),
                _ => k
                    .iter()
                    .zip(ids.iter())
                    .filter_map(|(h, r)| Some((h?, r?)))
                    .collect(),
            };
            keys.push(present);
        }
        let extra = match self.extra {
            Some(q) => Some(q(out.lazy().select(self.typed_back.clone()))?),
            None => None,
        };
        Ok(BatchOut {
            counts,
            pending,
            keys,
            extra,
        })
    }
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
        // Each part as `<byte length>:<text>`: an injective encoding, so no two
        // different keys join to the same text whatever characters they hold.
        let joined = concat_str(
            names
                .iter()
                .flat_map(|n| {
                    [
                        col(*n).str().len_bytes().cast(DataType::String),
                        lit(":"),
                        col(*n),
                    ]
                })
                .collect::<Vec<_>>(),
            "",
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

/// Reads back the raw text of a few rows (another batched read of the file).
fn read_rows(
    source: &Source,
    names: &[PlSmallStr],
    cols: Vec<Expr>,
    wanted: Vec<u32>,
) -> PolarsResult<DataFrame> {
    let wanted = lit(Series::new("".into(), wanted)).implode(false);
    let mut parts: Vec<DataFrame> = Vec::new();
    let read = batches::run(
        source,
        names,
        &|_, df| {
            df.lazy()
                .filter(col(ROW).is_in(wanted.clone(), false))
                .select(cols.clone())
                .collect()
        },
        &mut |part: DataFrame| {
            parts.push(part);
            Ok(())
        },
    );
    match read {
        Ok(_) => {}
        Err(BatchError::Polars(e)) => return Err(e),
        Err(_) => polars_bail!(ComputeError: "the file changed while it was being validated"),
    }
    let mut rows = match parts.pop() {
        Some(first) => first,
        None => {
            return polars::prelude::DataFrame::empty()
                .lazy()
                .select(cols)
                .collect()
        }
    };
    for p in &parts {
        rows.vstack_mut(p)?;
    }
    Ok(rows)
}

/// Writes the messages of the problems to show, reading back only their rows.
fn describe(
    source: &Source,
    schema: &TableSchema,
    bound: &[usize],
    names: &[PlSmallStr],
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
    let rows = if wanted.is_empty() {
        None
    } else {
        Some(read_rows(source, names, cols, wanted)?)
    };
    let mut index: HashMap<u32, usize> = HashMap::new();
    if let Some(rows) = &rows {
        let ids = rows.column(ROW)?.cast(&DataType::UInt32)?;
        index.extend(
            ids.u32()?
                .iter()
                .enumerate()
                .filter_map(|(i, r)| r.map(|r| (r, i))),
        );
    }
    let raw = |row: u32, field: usize| -> PolarsResult<String> {
        let (Some(&i), Some(rows)) = (index.get(&row), &rows) else {
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
