//! Writing a round's benchmarks: one Parquet file per table at
//! `OUT/<table>/round=<id>/data.parquet` (zstd; no `round` column, hive
//! partitioning supplies it) with the round's facts in the footer's
//! key-value metadata, and `OUT/manifests/<id>.json`.
//!
//! A round is published under the lock `OUT/.coopbench-publish.lock`, in
//! three steps (see docs/robustness.md):
//!
//! 1. **Stage.** Every file is written and fsync'd into
//!    `OUT/.coopbench-staging/<id>/`, data files as `data.parquet.staged` (no
//!    reader's `*.parquet` glob matches them).
//! 2. **Commit.** `COMMITTED` is written there (atomically, fsync'd): the
//!    list of what the round consists of. Before it exists, the round does
//!    not exist; after, it must appear whole.
//! 3. **Roll forward.** Each table's partition directory is renamed into
//!    place (still holding `data.parquet.staged`), then each data file is
//!    renamed to `data.parquet` (the only steps a glob reader sees, one
//!    rename per table, back to back), then the manifest, which readers of a
//!    whole round go by, is moved last; the staging directory is removed.
//!
//! Every merge first recovers what a killed one left, under the same lock:
//! a staging directory without `COMMITTED` is deleted, one with it is rolled
//! forward to the end (every step checks what is already done). So staging
//! directories never pile up, and a re-run after a crash leaves the round
//! absent or complete. Symbolic links for the lock, the staging directory,
//! a table's directory or `manifests/` are refused: publishing never writes
//! outside `OUT`.

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
    /// A path id was refused, or a path in `OUT` is a symbolic link (exit 1).
    BadId(String),
    /// Writing failed (exit 2); the message says what is left.
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

/// The lock file every publisher and recovery holds.
pub const LOCK_FILE: &str = ".coopbench-publish.lock";
/// The directory of staged rounds, one subdirectory per round id.
pub const STAGING_DIR: &str = ".coopbench-staging";
/// The commit record inside a staged round: its parts, one relative path a line.
const COMMITTED: &str = "COMMITTED";

fn io_err(what: &Path, e: &dyn std::fmt::Display) -> PublishError {
    PublishError::Io(format!("{}: {e}", what.display()))
}

/// Test-only crash hook: `COOPBENCH_CRASH_AT=<point>` aborts the process
/// there, as a kill -9 would (no destructors, no cleanup).
fn failpoint(point: &str) {
    if std::env::var("COOPBENCH_CRASH_AT").as_deref() == Ok(point) {
        std::process::abort();
    }
}

/// Refuses `path` if it is a symbolic link (publishing follows none).
fn no_symlink(path: &Path) -> Result<(), PublishError> {
    match path.symlink_metadata() {
        Ok(m) if m.file_type().is_symlink() => Err(PublishError::BadId(format!(
            "{} is a symbolic link: a round is only published into real directories inside the output directory",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Opens and locks `OUT/.coopbench-publish.lock` (never through a symbolic
/// link); the lock is released when the file is dropped.
fn lock(root: &Path) -> Result<fs::File, PublishError> {
    let path = root.join(LOCK_FILE);
    no_symlink(&path)?;
    let mut opts = fs::OpenOptions::new();
    opts.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NOFOLLOW);
    let file = opts.open(&path).map_err(|e| io_err(&path, &e))?;
    file.lock().map_err(|e| io_err(&path, &e))?;
    Ok(file)
}

/// What recovery did with an interrupted publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// A committed round was moved into place to the end.
    Finished(String),
    /// An uncommitted staging directory was deleted (the round does not exist).
    Removed(String),
}

/// Finishes or removes what interrupted publishes left in `root`, under the
/// publish lock. Nothing to do (or no `root`) is an empty list.
pub fn recover(root: &Path) -> Result<Vec<Recovered>, PublishError> {
    if !root.is_dir() {
        return Ok(Vec::new());
    }
    let _lock = lock(root)?;
    recover_locked(root)
}

fn recover_locked(root: &Path) -> Result<Vec<Recovered>, PublishError> {
    let staging = root.join(STAGING_DIR);
    no_symlink(&staging)?;
    let entries = match fs::read_dir(&staging) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(&staging, &e)),
    };
    let mut done = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_err(&staging, &e))?;
        let dir = entry.path();
        let id = entry.file_name().to_string_lossy().into_owned();
        match read_commit(&dir)? {
            Some(parts) => {
                roll_forward(root, &dir, &parts)?;
                done.push(Recovered::Finished(id));
            }
            None => {
                remove(&dir)?;
                done.push(Recovered::Removed(id));
            }
        }
    }
    let _ = fs::remove_dir(&staging);
    let _ = sync_dir(root);
    Ok(done)
}

fn remove(path: &Path) -> Result<(), PublishError> {
    let r = match path.symlink_metadata() {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(_) => Ok(()),
    };
    r.map_err(|e| io_err(path, &e))
}

/// The parts a staged round committed to, or `None` if it never committed.
fn read_commit(stage: &Path) -> Result<Option<Vec<PathBuf>>, PublishError> {
    let path = stage.join(COMMITTED);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let parts: Vec<PathBuf> = text.lines().map(PathBuf::from).collect();
            // Only the shapes this module writes: `<table>/round=<id>` and
            // `manifests/<id>.json`, plain components, nothing hidden.
            let plain = |p: &PathBuf| {
                p.components().count() == 2
                    && p.components().all(|c| {
                        matches!(c, std::path::Component::Normal(n)
                            if !n.to_string_lossy().starts_with('.'))
                    })
            };
            if parts.is_empty() || !parts.iter().all(plain) {
                return Err(PublishError::Io(format!(
                    "{} is damaged; move {} away by hand",
                    path.display(),
                    stage.display()
                )));
            }
            Ok(Some(parts))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path, &e)),
    }
}

/// Moves a committed round's parts into place, skipping what is done: the
/// table directories, then their data files' final names, then the
/// manifest (the last part); then removes the staging directory.
fn roll_forward(root: &Path, stage: &Path, parts: &[PathBuf]) -> Result<(), PublishError> {
    let (tables, manifest) = parts.split_at(parts.len() - 1);
    for (i, rel) in tables.iter().enumerate() {
        let (from, to) = (stage.join(rel), root.join(rel));
        if from.exists() {
            let parent = to.parent().expect("has a parent");
            no_symlink(parent)?;
            fs::create_dir_all(parent).map_err(|e| io_err(parent, &e))?;
            fs::rename(&from, &to).map_err(|e| io_err(&to, &e))?;
            sync_dir(parent).map_err(|e| io_err(parent, &e))?;
            failpoint(&format!("publish-moved-{}", i + 1));
        }
    }
    for (i, rel) in tables.iter().enumerate() {
        let dir = root.join(rel);
        if dir.join(STAGED_FILE).exists() {
            fs::rename(dir.join(STAGED_FILE), dir.join(DATA_FILE)).map_err(|e| io_err(&dir, &e))?;
            sync_dir(&dir).map_err(|e| io_err(&dir, &e))?;
            failpoint(&format!("publish-visible-{}", i + 1));
        }
    }
    let (from, to) = (stage.join(&manifest[0]), root.join(&manifest[0]));
    if from.exists() {
        let parent = to.parent().expect("has a parent");
        no_symlink(parent)?;
        fs::create_dir_all(parent).map_err(|e| io_err(parent, &e))?;
        fs::rename(&from, &to).map_err(|e| io_err(&to, &e))?;
        sync_dir(parent).map_err(|e| io_err(parent, &e))?;
    }
    failpoint("publish-manifest-moved");
    remove(stage)?;
    // The staging directory itself goes once it is empty (under the lock).
    let _ = fs::remove_dir(root.join(STAGING_DIR));
    let _ = sync_dir(root);
    Ok(())
}

/// Writes `out` under `root`: recovers interrupted publishes, checks nothing
/// of the round exists, stages, commits and moves it into place, all under
/// the publish lock. Returns the paths published.
pub fn publish(root: &Path, out: &Output<'_>) -> Result<Vec<PathBuf>, PublishError> {
    let mut parts: Vec<PathBuf> = Vec::new();
    for t in out.tables {
        parts.push(partition(&t.name, out.round_id).map_err(PublishError::BadId)?);
    }
    let man_rel = manifest_path(out.round_id).map_err(PublishError::BadId)?;
    parts.push(man_rel.clone());
    crate::files::ensure_dir(root).map_err(|e| io_err(root, &e))?;
    let _lock = lock(root)?;
    failpoint("publish-locked");
    recover_locked(root)?;
    for rel in &parts {
        let top = root.join(rel.components().next().expect("two components"));
        no_symlink(&top)?;
    }
    let existing: Vec<PathBuf> = parts
        .iter()
        .map(|rel| root.join(rel))
        .filter(|p| p.symlink_metadata().is_ok())
        .collect();
    if !existing.is_empty() {
        return Err(PublishError::Exists(existing));
    }
    let staging = root.join(STAGING_DIR);
    no_symlink(&staging)?;
    let stage = staging.join(out.round_id);
    fs::create_dir_all(&stage).map_err(|e| io_err(&stage, &e))?;
    let staged = stage_files(&stage, &parts, out);
    if let Err(e) = staged {
        let _ = remove(&stage);
        return Err(e);
    }
    failpoint("publish-staged");
    let list: String = parts.iter().map(|p| format!("{}\n", p.display())).collect();
    crate::files::write_atomic(&stage.join(COMMITTED), list.as_bytes())
        .map_err(|e| io_err(&stage.join(COMMITTED), &e))?;
    failpoint("publish-committed");
    roll_forward(root, &stage, &parts).map_err(|e| {
        PublishError::Io(format!(
            "{e}; the round is committed in {}: run the merge again to finish publishing it",
            stage.display()
        ))
    })?;
    let _ = sync_dir(root);
    Ok(parts.iter().map(|rel| root.join(rel)).collect())
}

/// Writes and fsyncs every file of the round into the staging directory.
fn stage_files(stage: &Path, parts: &[PathBuf], out: &Output<'_>) -> Result<(), PublishError> {
    for (rel, (t, meta)) in parts.iter().zip(out.tables.iter().zip(&out.metadata)) {
        let dir = stage.join(rel);
        fs::create_dir_all(&dir).map_err(|e| io_err(&dir, &e))?;
        write_parquet(t, &dir.join(STAGED_FILE), meta).map_err(PublishError::Io)?;
        sync_dir(&dir).map_err(|e| io_err(&dir, &e))?;
        failpoint("publish-staging");
    }
    let man = stage.join(parts.last().expect("the manifest"));
    let parent = man.parent().expect("has a parent");
    fs::create_dir_all(parent).map_err(|e| io_err(parent, &e))?;
    crate::files::write_atomic(&man, &out.manifest).map_err(|e| io_err(&man, &e))
}
