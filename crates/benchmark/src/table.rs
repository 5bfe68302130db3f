//! One published table as a Parquet file, in this column order:
//!
//! - `round` (Utf8): the round's id, in every row;
//! - the dimension columns, the same in every table and every round
//!   (nullable: null means "all values of this dimension", the round does not
//!   split by it); `month` is a Date32, the first day of the month, the others
//!   Utf8;
//! - the figure columns, null where suppressed: Decimal128(38, 2) for money,
//!   Int64 for counts, Float64 for the rest;
//! - the verdict columns (Utf8), then `suppressed` (Boolean).
//!
//! Every column's unit and description ride in its Arrow field metadata
//! (`unit`, `description`, in the `ARROW:schema` footer entry that pyarrow
//! and parquet-rs read back); the round's facts are in the footer's key-value
//! metadata. Written with zstd and page-level statistics.
//!
//! In memory every figure is an `f64` and every label a string (`month` as
//! `YYYY-MM`): the types above are the file's, applied on write and undone
//! on read.

use crate::layout::{
    describe, is_verdict_column, DESCRIPTION_KEY, MONTH, ROUND, SUPPRESSED, UNIT_KEY,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Float64Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array,
    RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use coopbench_protocol::date::Date;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

/// Digits of a money column: Decimal128(38, 2), the widest, so that no sum
/// a round can publish overflows it (the protocol's limits allow totals past
/// 10^18); up to ±10^36 in the currency's major unit.
pub const MONEY_PRECISION: u8 = 38;
/// Decimals of a money column: the currency's minor unit (cents).
pub const MONEY_SCALE: i8 = 2;
/// The footer key listing the dimensions the round splits this table by
/// (comma-separated, grid order); every other dimension column is null.
pub const DIMENSIONS_KEY: &str = "dimensions";

/// How a column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColumnType {
    /// Utf8 text.
    Text,
    /// Date32: a calendar day (`month`: the first day of the month).
    Date,
    /// Decimal128(38, 2): an amount of the currency named in the unit.
    Money,
    /// Int64: a whole number of the unit.
    Integer,
    /// Float64.
    #[default]
    Float,
    /// Boolean.
    Boolean,
}

impl ColumnType {
    /// The Arrow type written.
    pub fn arrow(self) -> DataType {
        match self {
            ColumnType::Text => DataType::Utf8,
            ColumnType::Date => DataType::Date32,
            ColumnType::Money => DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE),
            ColumnType::Integer => DataType::Int64,
            ColumnType::Float => DataType::Float64,
            ColumnType::Boolean => DataType::Boolean,
        }
    }

    /// The type's name in the data dictionary.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Text => "string",
            ColumnType::Date => "date",
            ColumnType::Money => "decimal(38,2)",
            ColumnType::Integer => "int64",
            ColumnType::Float => "float64",
            ColumnType::Boolean => "boolean",
        }
    }

    /// The column type an Arrow type reads as (None: not one of ours).
    pub fn of(dt: &DataType) -> Option<Self> {
        Some(match dt {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ColumnType::Text,
            DataType::Date32 => ColumnType::Date,
            DataType::Decimal128(..) => ColumnType::Money,
            DataType::Int64 => ColumnType::Integer,
            DataType::Float64 => ColumnType::Float,
            DataType::Boolean => ColumnType::Boolean,
            _ => return None,
        })
    }

    /// Whether figures of this type are numbers.
    fn numeric(self) -> bool {
        matches!(
            self,
            ColumnType::Money | ColumnType::Integer | ColumnType::Float
        )
    }
}

/// A column's type, unit and meaning: one entry of the data dictionary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnInfo {
    /// How it is stored.
    pub ty: ColumnType,
    /// The unit of its values (`EUR`, `members`, `fraction`, …; empty for
    /// labels, verdicts and flags).
    pub unit: String,
    /// What it holds, in words.
    pub description: String,
}

/// One row of a published table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Dimension column → label, for the dimensions the round splits by
    /// (`month` as `YYYY-MM`); a dimension the row does not split by (null in
    /// the file) has no entry.
    pub labels: BTreeMap<String, String>,
    /// Figure column → value (`None`: null, as in every suppressed row).
    pub figures: BTreeMap<String, Option<f64>>,
    /// Verdict column → verdict word (`None`: null).
    pub verdicts: BTreeMap<String, Option<String>>,
    /// The `suppressed` flag.
    pub suppressed: bool,
}

impl Row {
    /// A figure, if present and not null.
    pub fn get(&self, column: &str) -> Option<f64> {
        self.figures.get(column).copied().flatten()
    }
}

/// One published table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The round's id, written to the `round` column of every row (empty:
    /// the footer's `round_id`).
    pub round: String,
    /// Every dimension column of the file, in file order, whether or not
    /// the round splits by it (empty: just `dims`).
    pub all_dims: Vec<String>,
    /// The dimensions the round splits this table by, in grid order.
    pub dims: Vec<String>,
    /// Figure column names, in file order.
    pub columns: Vec<String>,
    /// Verdict (text) column names, in file order, after the figures.
    pub verdict_columns: Vec<String>,
    /// The rows.
    pub rows: Vec<Row>,
    /// The footer's key-value metadata (`noise_sd`, `min_members`, …).
    pub metadata: BTreeMap<String, String>,
    /// Type, unit and description by column; a column without an entry is
    /// typed by its role (dimensions text, `month` a date, figures Float64)
    /// and described by [`describe`].
    pub info: BTreeMap<String, ColumnInfo>,
}

impl Table {
    /// A footer value parsed as a number.
    pub fn meta_f64(&self, key: &str) -> Option<f64> {
        self.metadata.get(key).and_then(|v| v.parse().ok())
    }

    /// The dimension columns of the file, in order.
    pub fn dimension_columns(&self) -> &[String] {
        if self.all_dims.is_empty() {
            &self.dims
        } else {
            &self.all_dims
        }
    }

    /// Every column of the file, in order.
    pub fn column_names(&self) -> Vec<String> {
        std::iter::once(ROUND.to_string())
            .chain(self.dimension_columns().iter().cloned())
            .chain(self.columns.iter().cloned())
            .chain(self.verdict_columns.iter().cloned())
            .chain(std::iter::once(SUPPRESSED.to_string()))
            .collect()
    }

    /// A column's type, unit and description: its `info` entry, completed
    /// from its role where that entry is missing or empty.
    pub fn column(&self, name: &str) -> ColumnInfo {
        let role_type = if name == ROUND || self.verdict_columns.iter().any(|c| c == name) {
            ColumnType::Text
        } else if name == SUPPRESSED {
            ColumnType::Boolean
        } else if self.dimension_columns().iter().any(|c| c == name) {
            if name == MONTH {
                ColumnType::Date
            } else {
                ColumnType::Text
            }
        } else {
            ColumnType::Float
        };
        let mut info = self.info.get(name).cloned().unwrap_or(ColumnInfo {
            ty: role_type,
            ..ColumnInfo::default()
        });
        if info.description.is_empty() {
            info.description = describe(name).to_string();
        }
        info
    }

    /// The data dictionary: every column in file order with its type, unit
    /// and description.
    pub fn dictionary(&self) -> Vec<(String, ColumnInfo)> {
        self.column_names()
            .into_iter()
            .map(|c| {
                let info = self.column(&c);
                (c, info)
            })
            .collect()
    }

    /// The Arrow schema written: every field nullable except `round` and
    /// `suppressed` (so rounds with and without a dimension have the same
    /// schema), with `unit` and `description` in each field's metadata.
    pub fn schema(&self) -> Schema {
        let fields: Vec<Field> = self
            .dictionary()
            .into_iter()
            .map(|(name, info)| {
                let nullable = name != ROUND && name != SUPPRESSED;
                let mut meta = HashMap::new();
                if !info.unit.is_empty() {
                    meta.insert(UNIT_KEY.to_string(), info.unit.clone());
                }
                meta.insert(DESCRIPTION_KEY.to_string(), info.description.clone());
                Field::new(name, info.ty.arrow(), nullable).with_metadata(meta)
            })
            .collect();
        Schema::new(fields)
    }

    /// The table as one Arrow record batch, columns in file order.
    pub fn record_batch(&self) -> Result<RecordBatch, String> {
        let round = if self.round.is_empty() {
            self.metadata.get("round_id").cloned().unwrap_or_default()
        } else {
            self.round.clone()
        };
        if round.is_empty() {
            return Err("the table names no round (neither `round` nor footer `round_id`)".into());
        }
        let n = self.rows.len();
        let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec![round.as_str(); n]))];
        for d in self.dimension_columns() {
            let labels: Vec<Option<&str>> = self
                .rows
                .iter()
                .map(|r| r.labels.get(d).map(String::as_str))
                .collect();
            columns.push(match self.column(d).ty {
                ColumnType::Date => Arc::new(Date32Array::from(
                    labels
                        .iter()
                        .map(|l| l.map(|l| month_days(d, l)).transpose())
                        .collect::<Result<Vec<_>, _>>()?,
                )),
                ColumnType::Text => Arc::new(StringArray::from(labels)),
                t => return Err(format!("dimension {d} cannot be stored as {}", t.name())),
            });
        }
        for c in &self.columns {
            let values: Vec<Option<f64>> = self.rows.iter().map(|r| r.get(c)).collect();
            columns.push(figure_array(c, self.column(c).ty, &values)?);
        }
        for c in &self.verdict_columns {
            let values: Vec<Option<&str>> = self
                .rows
                .iter()
                .map(|r| r.verdicts.get(c).and_then(|v| v.as_deref()))
                .collect();
            columns.push(Arc::new(StringArray::from(values)));
        }
        let flags: Vec<bool> = self.rows.iter().map(|r| r.suppressed).collect();
        columns.push(Arc::new(BooleanArray::from(flags)));
        RecordBatch::try_new(Arc::new(self.schema()), columns).map_err(|e| e.to_string())
    }
}

/// 1970-01-01, day 0 of Date32.
fn epoch() -> Date {
    Date::parse("1970-01-01").expect("a date")
}

/// A month label (`YYYY-MM`, or a day `YYYY-MM-DD`) as Date32 days.
fn month_days(column: &str, label: &str) -> Result<i32, String> {
    let day = if label.len() == 7 {
        format!("{label}-01")
    } else {
        label.to_string()
    };
    let date = Date::parse(&day)
        .map_err(|_| format!("{column} label '{label}' is not a month (YYYY-MM)"))?;
    i32::try_from(epoch().days_until(date)).map_err(|e| e.to_string())
}

/// Date32 days as a month label: `YYYY-MM` for a first of the month, else
/// the day.
fn month_label(days: i32) -> String {
    let date = epoch().plus_days(i64::from(days));
    let s = date.to_string();
    if date.is_month_start() {
        s[..7].to_string()
    } else {
        s
    }
}

/// One figure column's array: money rounded to cents, whole numbers to the
/// nearest integer.
fn figure_array(name: &str, ty: ColumnType, values: &[Option<f64>]) -> Result<ArrayRef, String> {
    let out_of_range = |v: f64| format!("figure {name} = {v} cannot be stored as {}", ty.name());
    Ok(match ty {
        ColumnType::Float => Arc::new(Float64Array::from(values.to_vec())),
        ColumnType::Money => {
            let cents = values
                .iter()
                .map(|v| {
                    v.map(|v| to_cents(v).ok_or_else(|| out_of_range(v)))
                        .transpose()
                })
                .collect::<Result<Vec<_>, _>>()?;
            Arc::new(
                Decimal128Array::from(cents)
                    .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)
                    .map_err(|e| e.to_string())?,
            )
        }
        ColumnType::Integer => {
            let ints = values
                .iter()
                .map(|v| {
                    v.map(|v| {
                        let r = v.round();
                        if r.is_finite() && r.abs() < 9.0e18 {
                            Ok(r as i64)
                        } else {
                            Err(out_of_range(v))
                        }
                    })
                    .transpose()
                })
                .collect::<Result<Vec<_>, _>>()?;
            Arc::new(Int64Array::from(ints))
        }
        t => return Err(format!("figure {name} cannot be stored as {}", t.name())),
    })
}

/// An amount as whole cents, exactly for the whole part (a total of
/// integers comes back bit for bit), the fraction rounded to the cent; None
/// beyond the column's precision or not finite.
fn to_cents(v: f64) -> Option<i128> {
    let whole = v.trunc();
    if !v.is_finite() || whole.abs() >= 1e35 {
        return None;
    }
    let fraction = ((v - whole) * 100.0).round() as i128;
    Some(whole as i128 * 100 + fraction)
}

/// Cents (or any decimal of `scale`) back as an amount: the whole part
/// exactly as it was written.
fn from_decimal(value: i128, scale: i8) -> f64 {
    let unit = 10i128.pow(u32::from(scale.max(0) as u8));
    (value / unit) as f64 + (value % unit) as f64 / unit as f64
}

/// A numeric column's values as `f64` (`None`: null).
fn numbers(col: &ArrayRef) -> Option<Vec<Option<f64>>> {
    let pick = |i: usize, v: f64| (!col.is_null(i)).then_some(v);
    if let Some(a) = col.as_primitive_opt::<Float64Type>() {
        Some((0..a.len()).map(|i| pick(i, a.value(i))).collect())
    } else if let Some(a) = col.as_primitive_opt::<Int64Type>() {
        Some((0..a.len()).map(|i| pick(i, a.value(i) as f64)).collect())
    } else if let Some(a) = col.as_primitive_opt::<Decimal128Type>() {
        Some(
            (0..a.len())
                .map(|i| pick(i, from_decimal(a.value(i), a.scale())))
                .collect(),
        )
    } else {
        None
    }
}

/// A label column's values (text, or Date32 as month labels; `None`: null).
fn labels(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, String> {
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| format!("column {name} vanished"))?;
    if let Some(a) = col.as_primitive_opt::<Date32Type>() {
        return Ok((0..a.len())
            .map(|i| a.is_valid(i).then(|| month_label(a.value(i))))
            .collect());
    }
    text_column(batch, name)
}

/// Writes `table` to `path` as zstd Parquet with its metadata in the file
/// footer, and fsyncs it. `created_by` names the writer (the toolkit version).
pub fn write(table: &Table, path: &Path, created_by: &str) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", coopbench_text::path(&path));
    let batch = table.record_batch().map_err(|e| fail(&e))?;
    let kv: Vec<KeyValue> = table
        .metadata
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_key_value_metadata(Some(kv))
        .set_created_by(format!("{created_by} (parquet-rs)"))
        .build();
    let file = std::fs::File::create(path).map_err(|e| fail(&e))?;
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(|e| fail(&e))?;
    w.write(&batch).map_err(|e| fail(&e))?;
    let file = w.into_inner().map_err(|e| fail(&e))?;
    file.sync_all().map_err(|e| fail(&e))
}

/// The Arrow schema of a published file, from its footer alone (no data
/// read): what `merge` compares a new round's table with.
pub fn read_schema(path: &Path) -> Result<Schema, String> {
    Ok(open(path)?.schema().as_ref().clone())
}

/// A published file opened for reading, or why it cannot be.
fn open(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<std::fs::File>, String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot open {}: {e}", coopbench_text::path(&path)))?;
    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
        format!(
            "{}: not a readable Parquet file: {e}",
            coopbench_text::path(&path)
        )
    })
}

/// Reads a table: `round` the round, text and date columns the dimensions
/// (verdict names excepted), numeric columns the figures, `suppressed` the
/// flag (a null flag reads as suppressed). A file without the flag is not a
/// coopbench table. Files of the earlier layout (no `round` column, Float64
/// figures) read too.
pub fn read(path: &Path) -> Result<Table, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", coopbench_text::path(&path));
    let builder = open(path)?;
    let metadata: BTreeMap<String, String> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                // The Arrow schema the writer embeds is the writer's, not the round's.
                .filter(|k| k.key != "ARROW:schema")
                .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let mut all_dims = Vec::new();
    let mut columns = Vec::new();
    let mut verdict_columns = Vec::new();
    let mut info = BTreeMap::new();
    let mut has_flag = false;
    let mut has_round = false;
    for f in builder.schema().fields() {
        let Some(ty) = ColumnType::of(f.data_type()) else {
            continue;
        };
        let name = f.name().clone();
        match ty {
            ColumnType::Text if name == ROUND => has_round = true,
            ColumnType::Text if is_verdict_column(&name) => verdict_columns.push(name.clone()),
            ColumnType::Text | ColumnType::Date => all_dims.push(name.clone()),
            t if t.numeric() => columns.push(name.clone()),
            ColumnType::Boolean if name == SUPPRESSED => has_flag = true,
            _ => continue,
        }
        let meta = f.metadata();
        info.insert(
            name,
            ColumnInfo {
                ty,
                unit: meta.get(UNIT_KEY).cloned().unwrap_or_default(),
                description: meta.get(DESCRIPTION_KEY).cloned().unwrap_or_default(),
            },
        );
    }
    if !has_flag {
        return Err(format!(
            "{} is not a coopbench benchmark table: it has no `{SUPPRESSED}` column",
            coopbench_text::path(&path)
        ));
    }
    let reader = builder.build().map_err(|e| fail(&e))?;
    let mut rows = Vec::new();
    let mut round = String::new();
    for batch in reader {
        let batch = batch.map_err(|e| fail(&e))?;
        if has_round && round.is_empty() {
            round = text_column(&batch, ROUND)
                .map_err(|e| fail(&e))?
                .into_iter()
                .flatten()
                .next()
                .unwrap_or_default();
        }
        let dim_cols = all_dims
            .iter()
            .map(|d| labels(&batch, d).map_err(|e| fail(&e)))
            .collect::<Result<Vec<_>, _>>()?;
        let verdict_cols = verdict_columns
            .iter()
            .map(|d| text_column(&batch, d).map_err(|e| fail(&e)))
            .collect::<Result<Vec<_>, _>>()?;
        let fig_cols: Vec<_> = columns
            .iter()
            .map(|c| {
                batch
                    .column_by_name(c)
                    .and_then(numbers)
                    .ok_or_else(|| fail(&format!("column {c} is not a number")))
            })
            .collect::<Result<_, _>>()?;
        let flag = batch
            .column_by_name(SUPPRESSED)
            .and_then(|a| a.as_boolean_opt().cloned())
            .ok_or_else(|| fail(&"column suppressed is not Boolean"))?;
        for i in 0..batch.num_rows() {
            rows.push(Row {
                labels: all_dims
                    .iter()
                    .zip(&dim_cols)
                    .filter_map(|(d, c)| c[i].clone().map(|l| (d.clone(), l)))
                    .collect(),
                figures: columns
                    .iter()
                    .zip(&fig_cols)
                    .map(|(n, c)| (n.clone(), c[i]))
                    .collect(),
                verdicts: verdict_columns
                    .iter()
                    .zip(&verdict_cols)
                    .map(|(n, c)| (n.clone(), c[i].clone()))
                    .collect(),
                // A null flag cannot be read as "published".
                suppressed: flag.is_null(i) || flag.value(i),
            });
        }
    }
    if round.is_empty() {
        round = metadata.get("round_id").cloned().unwrap_or_default();
    }
    // The dimensions the round splits by: the footer's list, else those
    // with a label in some row.
    let dims: Vec<String> = match metadata.get(DIMENSIONS_KEY) {
        Some(list) => list
            .split(',')
            .filter(|d| all_dims.iter().any(|a| a == d))
            .map(str::to_string)
            .collect(),
        None => all_dims
            .iter()
            .filter(|d| rows.iter().any(|r| r.labels.contains_key(*d)))
            .cloned()
            .collect(),
    };
    Ok(Table {
        round,
        all_dims,
        dims,
        columns,
        verdict_columns,
        rows,
        metadata,
        info,
    })
}

/// A text column's values (Utf8, LargeUtf8 or Utf8View; `None`: null).
fn text_column(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, String> {
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| format!("column {name} vanished"))?;
    let values = if let Some(a) = col.as_string_opt::<i32>() {
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
            .collect()
    } else if let Some(a) = col.as_string_opt::<i64>() {
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
            .collect()
    } else if let Some(a) = col.as_string_view_opt() {
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
            .collect()
    } else {
        return Err(format!("column {name} is not text"));
    };
    Ok(values)
}

#[cfg(test)]
mod tests;
