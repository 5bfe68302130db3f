//! One published table as a Parquet file: the dimension columns (Utf8), the
//! figure columns (Float64, null where suppressed), then `suppressed`
//! (Boolean), with the round's facts in the footer's key-value metadata.
//! Written with zstd and page-level statistics; no `round` column (hive
//! partitioning supplies it).

use crate::layout::{is_verdict_column, SUPPRESSED};
use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// One row of a published table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Dimension column → label.
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
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Dimension (Utf8) column names, in file order.
    pub dims: Vec<String>,
    /// Figure (Float64) column names, in file order.
    pub columns: Vec<String>,
    /// Verdict (text) column names, in file order, after the figures.
    pub verdict_columns: Vec<String>,
    /// The rows.
    pub rows: Vec<Row>,
    /// The footer's key-value metadata (`noise_sd`, `min_members`, …).
    pub metadata: BTreeMap<String, String>,
}

impl Table {
    /// A footer value parsed as a number.
    pub fn meta_f64(&self, key: &str) -> Option<f64> {
        self.metadata.get(key).and_then(|v| v.parse().ok())
    }

    /// The table as one Arrow record batch, columns in file order.
    pub fn record_batch(&self) -> Result<RecordBatch, String> {
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for d in &self.dims {
            let values: Vec<&str> = self
                .rows
                .iter()
                .map(|r| r.labels.get(d).map(String::as_str).unwrap_or_default())
                .collect();
            fields.push(Field::new(d, DataType::Utf8, false));
            columns.push(Arc::new(StringArray::from(values)));
        }
        for c in &self.columns {
            let values: Vec<Option<f64>> = self.rows.iter().map(|r| r.get(c)).collect();
            fields.push(Field::new(c, DataType::Float64, true));
            columns.push(Arc::new(Float64Array::from(values)));
        }
        for c in &self.verdict_columns {
            let values: Vec<Option<&str>> = self
                .rows
                .iter()
                .map(|r| r.verdicts.get(c).and_then(|v| v.as_deref()))
                .collect();
            fields.push(Field::new(c, DataType::Utf8, true));
            columns.push(Arc::new(StringArray::from(values)));
        }
        let flags: Vec<bool> = self.rows.iter().map(|r| r.suppressed).collect();
        fields.push(Field::new(SUPPRESSED, DataType::Boolean, false));
        columns.push(Arc::new(BooleanArray::from(flags)));
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())
    }
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

/// Reads a table: every text column is a dimension, every Float64 column a
/// figure, `suppressed` the flag (a null flag reads as suppressed). A file
/// without the flag is not a coopbench table.
pub fn read(path: &Path) -> Result<Table, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", coopbench_text::path(&path));
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot open {}: {e}", coopbench_text::path(&path)))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
        format!(
            "{}: not a readable Parquet file: {e}",
            coopbench_text::path(&path)
        )
    })?;
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
    let mut dims = Vec::new();
    let mut columns = Vec::new();
    let mut verdict_columns = Vec::new();
    let mut has_flag = false;
    for f in builder.schema().fields() {
        match f.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                if is_verdict_column(f.name()) =>
            {
                verdict_columns.push(f.name().clone())
            }
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                dims.push(f.name().clone())
            }
            DataType::Float64 => columns.push(f.name().clone()),
            DataType::Boolean if f.name() == SUPPRESSED => has_flag = true,
            _ => {}
        }
    }
    if !has_flag {
        return Err(format!(
            "{} is not a coopbench benchmark table: it has no `{SUPPRESSED}` column",
            coopbench_text::path(&path)
        ));
    }
    let reader = builder.build().map_err(|e| fail(&e))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| fail(&e))?;
        let dim_cols = dims
            .iter()
            .map(|d| text_column(&batch, d).map_err(|e| fail(&e)))
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
                    .and_then(|a| a.as_primitive_opt::<Float64Type>().cloned())
                    .ok_or_else(|| fail(&format!("column {c} is not Float64")))
            })
            .collect::<Result<_, _>>()?;
        let flag = batch
            .column_by_name(SUPPRESSED)
            .and_then(|a| a.as_boolean_opt().cloned())
            .ok_or_else(|| fail(&"column suppressed is not Boolean"))?;
        for i in 0..batch.num_rows() {
            rows.push(Row {
                labels: dims
                    .iter()
                    .zip(&dim_cols)
                    .map(|(d, c)| (d.clone(), c[i].clone().unwrap_or_default()))
                    .collect(),
                figures: columns
                    .iter()
                    .zip(&fig_cols)
                    .map(|(n, c)| (n.clone(), (!c.is_null(i)).then(|| c.value(i))))
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
    Ok(Table {
        dims,
        columns,
        verdict_columns,
        rows,
        metadata,
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
mod tests {
    use super::*;

    fn row(region: &str, estimate: Option<f64>) -> Row {
        Row {
            labels: [("region".to_string(), region.to_string())].into(),
            figures: [("estimate".to_string(), estimate)].into(),
            verdicts: [(
                "verdict".to_string(),
                Some(
                    if estimate.is_some() {
                        "readable"
                    } else {
                        "suppressed"
                    }
                    .to_string(),
                ),
            )]
            .into(),
            suppressed: estimate.is_none(),
        }
    }

    #[test]
    fn a_table_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.parquet");
        let table = Table {
            dims: vec!["region".into()],
            columns: vec!["estimate".into()],
            verdict_columns: vec!["verdict".into()],
            rows: vec![row("north", Some(1234.5)), row("south", None)],
            metadata: [("round_id".to_string(), "r1".to_string())].into(),
        };
        write(&table, &path, "coopbench test").unwrap();
        let back = read(&path).unwrap();
        assert_eq!(back, table);
        assert_eq!(back.dims, ["region"], "a verdict column is no dimension");
    }

    #[test]
    fn a_file_without_the_flag_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.parquet");
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)])),
            vec![Arc::new(Float64Array::from(vec![1.0]))],
        )
        .unwrap();
        let mut w =
            ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), None)
                .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let e = read(&path).unwrap_err();
        assert!(e.contains("no `suppressed` column"), "{e}");
    }
}
