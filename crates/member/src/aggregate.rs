//! The member's figures, computed with polars group-bys over the whole file
//! (never row by row), in the same batched read that validates it: a partial
//! group-by per batch, then one over the partials. Per month and per grouping
//! field, the sum of every measure a metric needs and the row count. Everything later
//! (cells, ratios, clipping) works on this small table.

use coopbench_protocol::round::SourceKind;
use coopbench_protocol::Round;
use polars::prelude::*;
use std::collections::{BTreeSet, HashMap};

/// Name of the row count column.
const COUNT: &str = "__rows";

/// One file's figures grouped by month and the fields the round groups or
/// filters by. Held in memory only; never written or printed.
#[derive(Debug, Default)]
pub struct SourceAgg {
    /// Group key fields after the month, e.g. `category`, `channel`.
    pub keys: Vec<String>,
    /// Measures summed, e.g. `net_amount`.
    pub measures: Vec<String>,
    /// (month, key values) → (sum per measure, row count), months the round
    /// reads only (its period, and earlier periods a growth ratio compares with).
    pub groups: HashMap<(String, Vec<String>), (Vec<f64>, u64)>,
    /// Rows dated outside the months the round reads (ignored).
    pub rows_outside: u64,
    /// Rows inside the months the round reads.
    pub rows_inside: u64,
    /// Currencies seen inside the months the round reads.
    pub currencies: BTreeSet<String>,
}

impl SourceAgg {
    /// Position of a key field.
    pub fn key_index(&self, field: &str) -> Option<usize> {
        self.keys.iter().position(|k| k == field)
    }
    /// Position of a measure.
    pub fn measure_index(&self, field: &str) -> Option<usize> {
        self.measures.iter().position(|k| k == field)
    }
}

/// The key fields and measures `round` needs from `source`.
pub fn needs(round: &Round, source: SourceKind) -> (Vec<String>, Vec<String>) {
    let mut keys = BTreeSet::new();
    let mut measures = BTreeSet::new();
    for m in &round.metrics {
        let mut terms = Vec::new();
        if m.source == Some(source) {
            terms.push((m.measure.as_ref(), &m.filter));
        }
        for t in m.numerator.iter().chain(&m.denominator) {
            if t.source == source {
                terms.push((t.measure.as_ref(), &t.filter));
            }
        }
        if terms.is_empty() {
            continue;
        }
        keys.extend(m.dims.iter().filter(|d| *d != "month").cloned());
        for (measure, filters) in terms {
            measures.extend(measure.cloned());
            keys.extend(filters.iter().map(|f| f.field.clone()));
        }
    }
    (keys.into_iter().collect(), measures.into_iter().collect())
}

/// Name of the derived year and month columns.
const YEAR: &str = "__year";
const MONTH_NO: &str = "__month_no";

/// The grouping of one file for `round`: year, month, the key fields, currency.
fn group_keys(keys: &[String]) -> Vec<Expr> {
    let mut group: Vec<Expr> = vec![col(YEAR), col(MONTH_NO)];
    group.extend(keys.iter().map(|k| col(k.as_str())));
    group.push(col("currency"));
    group
}

/// The partial group-by `export` runs on every batch of a file while it is
/// validated (one read of the file for both): per year, month, key fields and
/// currency, the sum of each measure and the row count.
pub fn batch_query(
    round: &Round,
    kind: SourceKind,
) -> impl Fn(LazyFrame) -> PolarsResult<DataFrame> + Sync {
    let (keys, measures) = needs(round, kind);
    move |typed: LazyFrame| {
        let mut aggs: Vec<Expr> = measures
            .iter()
            .map(|m| col(m.as_str()).cast(DataType::Float64).sum())
            .collect();
        aggs.push(len().alias(COUNT));
        typed
            .with_columns([
                col("date").dt().year().alias(YEAR),
                col("date").dt().month().alias(MONTH_NO),
            ])
            .group_by(group_keys(&keys))
            .agg(aggs)
            .collect()
    }
}

/// Combines the partial results of [`batch_query`] over a validated file.
pub fn aggregate(
    display: &str,
    partials: Vec<DataFrame>,
    round: &Round,
    kind: SourceKind,
) -> Result<SourceAgg, String> {
    let (keys, measures) = needs(round, kind);
    // Polars' message may quote a cell of the member's file: it stays out of
    // the error (the file was validated, so this is a bug to report, not data).
    let fail = |e: PolarsError| {
        let kind = format!("{e:?}");
        let kind = kind.split(['(', ' ']).next().unwrap_or("error").to_string();
        format!(
            "{display}: polars could not aggregate the file ({kind}); please report this with the coopbench version"
        )
    };
    let mut out = SourceAgg {
        keys: keys.clone(),
        measures: measures.clone(),
        ..Default::default()
    };
    let mut parts = partials.into_iter();
    let Some(mut all) = parts.next() else {
        return Ok(out);
    };
    for p in parts {
        all.vstack_mut(&p).map_err(fail)?;
    }
    let mut aggs: Vec<Expr> = measures.iter().map(|m| col(m.as_str()).sum()).collect();
    aggs.push(col(COUNT).sum());
    let df = all
        .lazy()
        .group_by(group_keys(&keys))
        .agg(aggs)
        .collect()
        .map_err(fail)?;
    let months: BTreeSet<String> = round.months_read().into_iter().collect();
    let text = |name: &str| -> Result<Vec<Option<String>>, String> {
        let c = df.column(name).map_err(fail)?;
        let c = c.cast(&DataType::String).map_err(fail)?;
        let ca = c.str().map_err(fail)?;
        Ok((0..ca.len())
            .map(|i| ca.get(i).map(str::to_string))
            .collect())
    };
    // The result is one row per group (months × keys × currency): small.
    let int = |name: &str| -> Result<Vec<Option<i64>>, String> {
        let c = df.column(name).map_err(fail)?;
        let c = c.cast(&DataType::Int64).map_err(fail)?;
        let ca = c.i64().map_err(fail)?;
        Ok((0..ca.len()).map(|i| ca.get(i)).collect())
    };
    let month_col: Vec<Option<String>> = int(YEAR)?
        .into_iter()
        .zip(int(MONTH_NO)?)
        .map(|(y, m)| Some(format!("{:04}-{:02}", y?, m?)))
        .collect();
    let key_cols: Vec<Vec<Option<String>>> =
        keys.iter().map(|k| text(k)).collect::<Result<_, _>>()?;
    let currency_col = text("currency")?;
    let measure_cols: Vec<Vec<Option<f64>>> = measures
        .iter()
        .map(|m| -> Result<Vec<Option<f64>>, String> {
            let ca = df.column(m).map_err(fail)?.f64().map_err(fail)?.clone();
            Ok((0..ca.len()).map(|i| ca.get(i)).collect())
        })
        .collect::<Result<_, _>>()?;
    let counts = df
        .column(COUNT)
        .map_err(fail)?
        .cast(&DataType::UInt64)
        .map_err(fail)?;
    let counts = counts.u64().map_err(fail)?;
    let counts: Vec<u64> = (0..counts.len())
        .map(|i| counts.get(i).unwrap_or(0))
        .collect();
    for i in 0..df.height() {
        let month = month_col[i].clone().unwrap_or_default();
        if !months.contains(&month) {
            out.rows_outside += counts[i];
            continue;
        }
        out.rows_inside += counts[i];
        if let Some(c) = &currency_col[i] {
            out.currencies.insert(c.clone());
        }
        let key: Vec<String> = key_cols
            .iter()
            .map(|c| c[i].clone().unwrap_or_default())
            .collect();
        let entry = out
            .groups
            .entry((month, key))
            .or_insert_with(|| (vec![0.0; measures.len()], 0));
        for (j, m) in measure_cols.iter().enumerate() {
            entry.0[j] += m[i].unwrap_or(0.0);
        }
        entry.1 += counts[i];
    }
    Ok(out)
}
