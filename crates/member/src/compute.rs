//! The member's figures, computed with one polars lazy group-by per file over
//! the whole file (never row by row): per month and per grouping field, the
//! sum of every measure a metric needs and the row count. Everything later
//! (cells, ratios, clipping) works on this small table.

use coopbench_protocol::round::SourceKind;
use coopbench_protocol::Round;
use coopbench_schema::{typed_scan, Source, TableSchema};
use polars::prelude::*;
use std::collections::{BTreeSet, HashMap};

/// Name of the derived month column (`YYYY-MM`).
const MONTH: &str = "__month";
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
    /// (month, key values) → (sum per measure, row count), months of the period only.
    pub groups: HashMap<(String, Vec<String>), (Vec<f64>, u64)>,
    /// Rows dated outside the round's period (ignored).
    pub rows_outside: u64,
    /// Rows inside the period.
    pub rows_inside: u64,
    /// Currencies seen inside the period.
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

/// Aggregates one validated file for `round`.
pub fn aggregate(
    source: &Source,
    schema: &TableSchema,
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
            "{}: polars could not aggregate the file ({kind}); please report this with the coopbench version",
            source.display
        )
    };
    let lf = typed_scan(source, schema).map_err(fail)?;
    let mut group: Vec<Expr> = vec![col("date").dt().strftime("%Y-%m").alias(MONTH)];
    group.extend(keys.iter().map(|k| col(k.as_str())));
    group.push(col("currency"));
    let mut aggs: Vec<Expr> = measures
        .iter()
        .map(|m| col(m.as_str()).cast(DataType::Float64).sum())
        .collect();
    aggs.push(len().alias(COUNT));
    let df = lf
        .group_by(group)
        .agg(aggs)
        .collect_with_engine(Engine::Streaming)
        .map_err(fail)?
        .unwrap_single();
    let months: BTreeSet<String> = round.months().into_iter().collect();
    let text = |name: &str| -> Result<Vec<Option<String>>, String> {
        let c = df.column(name).map_err(fail)?;
        let c = c.cast(&DataType::String).map_err(fail)?;
        let ca = c.str().map_err(fail)?;
        Ok((0..ca.len())
            .map(|i| ca.get(i).map(str::to_string))
            .collect())
    };
    let month_col = text(MONTH)?;
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
    let mut out = SourceAgg {
        keys: keys.clone(),
        measures: measures.clone(),
        ..Default::default()
    };
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
