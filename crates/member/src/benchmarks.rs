//! Published benchmarks as a member reads them: the rounds in a benchmark
//! directory (`DIR/manifests/<id>.json`), and one metric's table
//! (`DIR/<metric>/round=<id>/data.parquet`) read with arrow-rs.
//!
//! This follows the aggregator's published format (README, "For analysts"),
//! not its code: the member never links the aggregator. Manifests are read
//! tolerantly: fields this version does not know (a two-server round's
//! `n_min`, `t`, `slack`, …) are ignored.

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::Array;
use coopbench_privacy::accuracy::{is_verdict_column, verdict_column, Verdict};
use coopbench_text as text;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The facts of one published round that `compare` uses, from its manifest.
#[derive(Debug, Clone, Deserialize)]
pub struct ManifestView {
    /// The round merged.
    pub round: RoundFacts,
    /// When it was merged (RFC 3339).
    #[serde(default)]
    pub merged_at: String,
    /// How many contributions were accepted.
    #[serde(default)]
    pub contributions: Option<Counts>,
}

/// The round's public facts in a manifest.
#[derive(Debug, Clone, Deserialize)]
pub struct RoundFacts {
    /// Round id.
    pub id: String,
    /// Pool id.
    pub pool_id: String,
    /// First day of the period (`YYYY-MM-DD`).
    pub period_start: String,
    /// Last day of the period.
    pub period_end: String,
    /// Hex SHA-256 of the signed round the benchmark was merged from.
    pub round_hash: String,
    /// `local` or `two-server` (absent in old manifests: local).
    #[serde(default = "local")]
    pub mode: String,
    /// Currency of money figures.
    pub currency: String,
    /// Fewest noisy active members for a published cell.
    pub min_members: u32,
    /// Member schemas by source, e.g. `sales` → `sales.v1`.
    #[serde(default)]
    pub schemas: BTreeMap<String, String>,
}

fn local() -> String {
    "local".into()
}

/// Counts of contributions.
#[derive(Debug, Clone, Deserialize)]
pub struct Counts {
    /// Accepted contributions.
    pub accepted: u64,
}

/// One round found in a benchmark directory.
#[derive(Debug, Clone)]
pub struct PublishedRound {
    /// The manifest's facts.
    pub manifest: ManifestView,
    /// The manifest file.
    pub path: PathBuf,
}

/// Every round published in `dir`, oldest first (by period end, then merge
/// time, then id). A manifest that cannot be read is an error naming it.
pub fn rounds(dir: &Path) -> Result<Vec<PublishedRound>, String> {
    let manifests = dir.join("manifests");
    let entries = std::fs::read_dir(&manifests).map_err(|e| {
        format!(
            "{} holds no benchmarks: cannot read {} ({e}); pass the folder `coopbench-aggregator merge --out` wrote",
            text::path(&dir),
            text::path(&manifests)
        )
    })?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", text::path(&manifests)))?
            .path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        out.push(read_manifest(&path)?);
    }
    if out.is_empty() {
        return Err(format!(
            "{} holds no published round (no manifests/<round>.json)",
            text::path(&dir)
        ));
    }
    out.sort_by(|a, b| {
        let (x, y) = (&a.manifest, &b.manifest);
        (&x.round.period_end, &x.merged_at, &x.round.id).cmp(&(
            &y.round.period_end,
            &y.merged_at,
            &y.round.id,
        ))
    });
    Ok(out)
}

/// Reads one manifest.
pub fn read_manifest(path: &Path) -> Result<PublishedRound, String> {
    let bytes = coopbench_fsio::read_bounded(
        path,
        coopbench_protocol::limits::MANIFEST_MAX_BYTES,
        "a manifest",
    )
    .map_err(|e| format!("cannot read {}: {e}", text::path(&path)))?;
    let manifest: ManifestView = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{} is not a benchmark manifest: {e}", text::path(&path)))?;
    Ok(PublishedRound {
        manifest,
        path: path.to_path_buf(),
    })
}

/// Picks the round `id` (or the latest) from `dir`.
pub fn pick(dir: &Path, id: Option<&str>) -> Result<PublishedRound, String> {
    let all = rounds(dir)?;
    match id {
        None => Ok(all
            .into_iter()
            .next_back()
            .expect("rounds() is never empty")),
        Some(id) => {
            let known: Vec<String> = all.iter().map(|r| r.manifest.round.id.clone()).collect();
            all.into_iter()
                .find(|r| r.manifest.round.id == id)
                .ok_or_else(|| {
                    format!(
                        "{} has no round '{}'; it has: {}",
                        text::path(&dir),
                        coopbench_text::shown(id),
                        coopbench_text::shown(&known.join(", "))
                    )
                })
        }
    }
}

/// One row of a published table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// Dimension column → label.
    pub labels: BTreeMap<String, String>,
    /// Figure column → value (`None`: null, as in every suppressed row).
    pub figures: BTreeMap<String, Option<f64>>,
    /// Verdict column → verdict (absent: null or an unknown word).
    pub verdicts: BTreeMap<String, Verdict>,
    /// The `suppressed` flag.
    pub suppressed: bool,
}

impl TableRow {
    /// A figure, if present and not null.
    pub fn get(&self, column: &str) -> Option<f64> {
        self.figures.get(column).copied().flatten()
    }

    /// The verdict of figure column `figure` (`estimate`, `p50`, `mean`, …):
    /// suppressed for a suppressed row, too noisy when the table has no
    /// verdict for it (a figure that cannot be judged is not shown as data).
    pub fn verdict(&self, figure: &str) -> Verdict {
        if self.suppressed {
            return Verdict::Suppressed;
        }
        self.verdicts
            .get(&verdict_column(figure))
            .copied()
            .unwrap_or(Verdict::TooNoisy)
    }

    /// The figure if its verdict lets it be shown (readable or rough).
    pub fn shown(&self, figure: &str) -> Option<f64> {
        self.get(figure)
            .filter(|_| self.verdict(figure).shows_figure())
    }
}

/// One published table.
#[derive(Debug, Clone)]
pub struct Table {
    /// The file.
    pub path: PathBuf,
    /// Dimension (Utf8) column names, in file order.
    pub dims: Vec<String>,
    /// The rows.
    pub rows: Vec<TableRow>,
    /// The footer's key-value metadata (`noise_sd`, `min_members`, …).
    pub metadata: BTreeMap<String, String>,
}

impl Table {
    /// A footer value parsed as a number.
    pub fn meta_f64(&self, key: &str) -> Option<f64> {
        self.metadata.get(key).and_then(|v| v.parse().ok())
    }
}

/// The file of `metric`'s table for `round_id` in `dir`.
pub fn table_path(dir: &Path, metric: &str, round_id: &str) -> PathBuf {
    dir.join(metric)
        .join(format!("round={round_id}"))
        .join("data.parquet")
}

/// Reads `metric`'s table of `round_id` from `dir`: every Utf8 column is a
/// dimension, every Float64 column a figure, `suppressed` the flag.
pub fn read_table(dir: &Path, metric: &str, round_id: &str) -> Result<Table, String> {
    let path = table_path(dir, metric, round_id);
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", text::path(&path));
    let file = std::fs::File::open(&path).map_err(|e| {
        format!(
            "the benchmark has no table for metric '{metric}': cannot open {} ({e})",
            text::path(&path)
        )
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| fail(&e))?;
    let metadata: BTreeMap<String, String> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let schema = builder.schema().clone();
    let mut dims = Vec::new();
    let mut figures = Vec::new();
    let mut verdict_cols = Vec::new();
    let mut has_flag = false;
    for f in schema.fields() {
        // The type's name; arrow's DataType lives in arrow-schema, which the
        // member does not need to name.
        let t = format!("{:?}", f.data_type());
        match t.as_str() {
            "Utf8" | "LargeUtf8" | "Utf8View" if is_verdict_column(f.name()) => {
                verdict_cols.push(f.name().clone())
            }
            "Utf8" | "LargeUtf8" | "Utf8View" => dims.push(f.name().clone()),
            "Float64" => figures.push(f.name().clone()),
            "Boolean" if f.name() == "suppressed" => has_flag = true,
            _ => {}
        }
    }
    if !has_flag {
        return Err(format!(
            "{} is not a coopbench benchmark table: it has no `suppressed` column",
            text::path(&path)
        ));
    }
    let reader = builder.build().map_err(|e| fail(&e))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| fail(&e))?;
        let text_col = |d: &str| -> Result<Vec<Option<String>>, String> {
            let col = batch
                .column_by_name(d)
                .ok_or_else(|| fail(&"a column vanished"))?;
            let get = |a: &dyn Array, v: &dyn Fn(usize) -> String| -> Vec<Option<String>> {
                (0..a.len()).map(|i| a.is_valid(i).then(|| v(i))).collect()
            };
            Ok(match col.as_string_opt::<i32>() {
                Some(a) => get(a, &|i| a.value(i).to_string()),
                None => match col.as_string_opt::<i64>() {
                    Some(a) => get(a, &|i| a.value(i).to_string()),
                    None => {
                        let a = col
                            .as_string_view_opt()
                            .ok_or_else(|| fail(&format!("column {d} is not text")))?;
                        get(a, &|i| a.value(i).to_string())
                    }
                },
            })
        };
        let mut dim_cols = Vec::new();
        for d in &dims {
            let values: Vec<String> = text_col(d)?
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect();
            dim_cols.push(values);
        }
        let verdict_values: Vec<Vec<Option<String>>> = verdict_cols
            .iter()
            .map(|d| text_col(d))
            .collect::<Result<_, _>>()?;
        let fig_cols: Vec<_> = figures
            .iter()
            .map(|c| {
                batch
                    .column_by_name(c)
                    .and_then(|a| a.as_primitive_opt::<Float64Type>().cloned())
                    .ok_or_else(|| fail(&format!("column {c} is not Float64")))
            })
            .collect::<Result<_, _>>()?;
        let flag = batch
            .column_by_name("suppressed")
            .and_then(|a| a.as_boolean_opt().cloned())
            .ok_or_else(|| fail(&"column suppressed is not Boolean"))?;
        for i in 0..batch.num_rows() {
            rows.push(TableRow {
                labels: dims
                    .iter()
                    .zip(&dim_cols)
                    .map(|(d, c)| (d.clone(), c[i].clone()))
                    .collect(),
                figures: figures
                    .iter()
                    .zip(&fig_cols)
                    .map(|(n, c)| (n.clone(), (!c.is_null(i)).then(|| c.value(i))))
                    .collect(),
                verdicts: verdict_cols
                    .iter()
                    .zip(&verdict_values)
                    .filter_map(|(n, c)| {
                        c[i].as_deref()
                            .and_then(Verdict::parse)
                            .map(|v| (n.clone(), v))
                    })
                    .collect(),
                // A null flag cannot be read as "published".
                suppressed: flag.is_null(i) || flag.value(i),
            });
        }
    }
    Ok(Table {
        path,
        dims,
        rows,
        metadata,
    })
}
