//! Writing a round's benchmarks: one Parquet file per table at
//! `OUT/<table>/round=<id>/data.parquet` (zstd; no `round` column, hive
//! partitioning supplies it) with the round's facts in the footer's
//! key-value metadata, and `OUT/manifests/<id>.json`.
//!
//! Everything is written into a staging directory inside `OUT` first and then
//! renamed into place, under a lock file, after checking that no part of the
//! round's output exists: an existing round is never overwritten or
//! half-replaced. The manifest is moved last, so a round directory without
//! its manifest can only be a publish that was interrupted.

use crate::files::{path_id, sync_dir};
use crate::tables::{Figures, Table};
use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use coopbench_privacy::accuracy::Verdict;
use coopbench_privacy::estimate::Interval;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file name inside each partition directory.
pub const DATA_FILE: &str = "data.parquet";

/// The data file's name while staged.
const STAGED_FILE: &str = "data.parquet.staged";

/// The figure columns of sum, count and active tables, after the dimensions.
pub const TOTAL_COLUMNS: [&str; 7] = [
    "estimate",
    "noise_sd",
    "ci95_low",
    "ci95_high",
    "members_noisy",
    "mean_per_member",
    "mean_sd",
];

/// The verdict columns of sum, count and active tables (Utf8, after the
/// figures): the estimate's and the mean's (null without a mean).
pub const TOTAL_VERDICTS: [&str; 2] = ["verdict", "mean_verdict"];

/// The figure columns of ratio tables, after the dimensions: each percentile
/// and the mean with its 95 % interval, the bins' width and the members with
/// a value with its 95 % interval.
pub const RATIO_COLUMNS: [&str; 22] = [
    "p10",
    "p10_ci95_low",
    "p10_ci95_high",
    "p25",
    "p25_ci95_low",
    "p25_ci95_high",
    "p50",
    "p50_ci95_low",
    "p50_ci95_high",
    "p75",
    "p75_ci95_low",
    "p75_ci95_high",
    "p90",
    "p90_ci95_low",
    "p90_ci95_high",
    "mean",
    "mean_ci95_low",
    "mean_ci95_high",
    "bin_width",
    "members_noisy",
    "members_ci95_low",
    "members_ci95_high",
];

/// The verdict columns of ratio tables (Utf8, after the figures).
pub const RATIO_VERDICTS: [&str; 7] = [
    "p10_verdict",
    "p25_verdict",
    "p50_verdict",
    "p75_verdict",
    "p90_verdict",
    "mean_verdict",
    "members_verdict",
];

/// The partition directory of a table's round, relative to the output root.
pub fn partition(table: &str, round_id: &str) -> Result<PathBuf, String> {
    let table = path_id("table name", table)?;
    let round_id = path_id("round id", round_id)?;
    Ok(Path::new(table).join(format!("round={round_id}")))
}

/// The manifest's path relative to the output root.
pub fn manifest_path(round_id: &str) -> Result<PathBuf, String> {
    let round_id = path_id("round id", round_id)?;
    Ok(Path::new("manifests").join(format!("{round_id}.json")))
}

/// The value (0), low end (1) or high end (2) of an interval.
fn interval_part(i: Interval, part: usize) -> f64 {
    [i.value, i.low, i.high][part]
}

/// One figure column's value in a row (None: null).
fn figure(f: &Figures, c: usize) -> Option<f64> {
    match f {
        Figures::Total(None) | Figures::Ratio(None) => None,
        Figures::Total(Some(t)) => match c {
            0 => Some(t.estimate.estimate),
            1 => Some(t.estimate.noise_sd),
            2 => Some(t.estimate.ci95_low),
            3 => Some(t.estimate.ci95_high),
            4 => t.members_noisy,
            5 => t.mean.map(|m| m.0),
            _ => t.mean.map(|m| m.1),
        },
        Figures::Ratio(Some(r)) => {
            let e = &r.estimate;
            match c {
                0..=14 => Some(interval_part(e.percentiles[c / 3], c % 3)),
                15..=17 => Some(interval_part(e.mean, c % 3)),
                18 => Some(r.bin_width),
                _ => Some(interval_part(e.members, c - 19)),
            }
        }
    }
}

/// One verdict column's value in a row: `suppressed` for a suppressed row,
/// null where the figure does not exist (a mean without active members).
fn verdict(f: &Figures, c: usize) -> Option<&'static str> {
    let v = match f {
        Figures::Total(None) | Figures::Ratio(None) => Some(Verdict::Suppressed),
        Figures::Total(Some(t)) if c == 0 => Some(t.verdict()),
        Figures::Total(Some(t)) => t.mean_verdict(),
        Figures::Ratio(Some(r)) if c < 5 => Some(r.percentile_verdicts()[c]),
        Figures::Ratio(Some(r)) if c == 5 => Some(r.mean_verdict()),
        Figures::Ratio(Some(r)) => Some(r.members_verdict()),
    };
    v.map(Verdict::as_str)
}

/// The table as an Arrow record batch: the dimension columns (Utf8), the
/// figure columns (Float64, null where suppressed), the verdict columns
/// (Utf8), then `suppressed`.
pub fn record_batch(table: &Table) -> Result<RecordBatch, String> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (i, d) in table.dims.iter().enumerate() {
        fields.push(Field::new(&d.name, DataType::Utf8, false));
        let values: Vec<&str> = table.rows.iter().map(|r| r.labels[i].as_str()).collect();
        columns.push(Arc::new(StringArray::from(values)));
    }
    let ratio = table
        .rows
        .first()
        .is_some_and(|r| matches!(r.figures, Figures::Ratio(_)));
    let (names, verdicts): (&[&str], &[&str]) = if ratio {
        (&RATIO_COLUMNS, &RATIO_VERDICTS)
    } else {
        (&TOTAL_COLUMNS, &TOTAL_VERDICTS)
    };
    for (c, name) in names.iter().enumerate() {
        let values: Vec<Option<f64>> = table.rows.iter().map(|r| figure(&r.figures, c)).collect();
        fields.push(Field::new(*name, DataType::Float64, true));
        columns.push(Arc::new(Float64Array::from(values)));
    }
    for (c, name) in verdicts.iter().enumerate() {
        let values: Vec<Option<&str>> = table.rows.iter().map(|r| verdict(&r.figures, c)).collect();
        fields.push(Field::new(*name, DataType::Utf8, true));
        columns.push(Arc::new(StringArray::from(values)));
    }
    fields.push(Field::new("suppressed", DataType::Boolean, false));
    let suppressed: Vec<bool> = table.rows.iter().map(|r| r.figures.suppressed()).collect();
    columns.push(Arc::new(BooleanArray::from(suppressed)));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| format!("table '{}': {e}", table.name))
}

/// Writes one table to `path` as zstd Parquet with `metadata` in the file
/// footer's key-value metadata, and fsyncs it.
pub fn write_parquet(
    table: &Table,
    path: &Path,
    metadata: &[(String, String)],
) -> Result<(), String> {
    let batch = record_batch(table)?;
    let kv: Vec<KeyValue> = metadata
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_key_value_metadata(Some(kv))
        .set_created_by(format!(
            "{} (parquet-rs)",
            coopbench_protocol::TOOLKIT_VERSION
        ))
        .build();
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let file = fs::File::create(path).map_err(|e| fail(&e))?;
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(|e| fail(&e))?;
    w.write(&batch).map_err(|e| fail(&e))?;
    let file = w.into_inner().map_err(|e| fail(&e))?;
    file.sync_all().map_err(|e| fail(&e))
}

/// A round's output, ready to publish.
pub struct Output<'a> {
    /// The round id.
    pub round_id: &'a str,
    /// The tables.
    pub tables: &'a [Table],
    /// Key-value metadata for each table's footer (common + per table).
    pub metadata: Vec<Vec<(String, String)>>,
    /// The manifest's JSON.
    pub manifest: Vec<u8>,
}

/// Why nothing was published.
#[derive(Debug)]
pub enum PublishError {
    /// Part of this round's output already exists (exit 1); the paths.
    Exists(Vec<PathBuf>),
    /// A path id was refused (exit 1).
    BadId(String),
    /// Writing failed (exit 2); nothing of the round was left in place.
    Io(String),
}

impl std::fmt::Display for PublishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublishError::Exists(p) => write!(
                f,
                "round output already exists, and is never overwritten: {}",
                p.iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            PublishError::BadId(m) | PublishError::Io(m) => f.write_str(m),
        }
    }
}

/// Writes `out` under `root`: stages everything, checks nothing of the
/// round exists, and renames it into place (tables first, manifest last).
/// Returns the paths published.
pub fn publish(root: &Path, out: &Output<'_>) -> Result<Vec<PathBuf>, PublishError> {
    let io = |what: &str, e: &dyn std::fmt::Display| PublishError::Io(format!("{what}: {e}"));
    let mut targets: Vec<(PathBuf, PathBuf)> = Vec::new();
    for t in out.tables {
        let rel = partition(&t.name, out.round_id).map_err(PublishError::BadId)?;
        targets.push((rel.clone(), root.join(&rel)));
    }
    let man_rel = manifest_path(out.round_id).map_err(PublishError::BadId)?;
    let existing = |targets: &[(PathBuf, PathBuf)]| -> Vec<PathBuf> {
        targets
            .iter()
            .map(|(_, abs)| abs.clone())
            .chain(std::iter::once(root.join(&man_rel)))
            .filter(|p| p.symlink_metadata().is_ok())
            .collect()
    };
    let pre = existing(&targets);
    if !pre.is_empty() {
        return Err(PublishError::Exists(pre));
    }
    crate::files::ensure_dir(root).map_err(|e| io(&root.display().to_string(), &e))?;
    let stage = tempfile::Builder::new()
        .prefix(".coopbench-staging-")
        .tempdir_in(root)
        .map_err(|e| {
            io(
                &format!("cannot create a staging directory in {}", root.display()),
                &e,
            )
        })?;
    for ((rel, _), (t, meta)) in targets.iter().zip(out.tables.iter().zip(&out.metadata)) {
        let dir = stage.path().join(rel);
        fs::create_dir_all(&dir).map_err(|e| io(&dir.display().to_string(), &e))?;
        // Staged under another name, so that a staging directory left by a
        // killed process holds no `*.parquet` for a reader's glob to find.
        write_parquet(t, &dir.join(STAGED_FILE), meta).map_err(PublishError::Io)?;
    }
    let man_staged = stage.path().join(&man_rel);
    fs::create_dir_all(man_staged.parent().expect("has a parent"))
        .map_err(|e| io(&man_staged.display().to_string(), &e))?;
    fs::write(&man_staged, &out.manifest).map_err(|e| io(&man_staged.display().to_string(), &e))?;
    fs::File::open(&man_staged)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(&man_staged.display().to_string(), &e))?;

    // From here on, one publisher at a time in this output directory.
    let lock_path = root.join(".coopbench-publish.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| io(&lock_path.display().to_string(), &e))?;
    lock.lock()
        .map_err(|e| io(&lock_path.display().to_string(), &e))?;
    let again = existing(&targets);
    if !again.is_empty() {
        return Err(PublishError::Exists(again));
    }
    let mut moved: Vec<PathBuf> = Vec::new();
    let mut all: Vec<(PathBuf, PathBuf)> = targets.clone();
    all.push((man_rel.clone(), root.join(&man_rel)));
    for (i, (rel, abs)) in all.iter().enumerate() {
        let is_table = i < targets.len();
        let parent = abs.parent().expect("has a parent");
        let step = fs::create_dir_all(parent)
            .and_then(|_| fs::rename(stage.path().join(rel), abs))
            .and_then(|_| {
                moved.push(abs.clone());
                if is_table {
                    fs::rename(abs.join(STAGED_FILE), abs.join(DATA_FILE))?;
                    sync_dir(abs)?;
                }
                sync_dir(parent)
            });
        if let Err(e) = step {
            // Take back what was already moved: nothing of the round stays.
            for m in &moved {
                let _ = if m.is_dir() {
                    fs::remove_dir_all(m)
                } else {
                    fs::remove_file(m)
                };
            }
            return Err(io(
                &format!("cannot move the round into {}", abs.display()),
                &e,
            ));
        }
    }
    let _ = sync_dir(root);
    drop(lock);
    Ok(moved)
}
