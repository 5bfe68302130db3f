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

use crate::files::sync_dir;
use crate::tables::{Figures, Table};
use coopbench_benchmark::layout::{
    manifest_path, partition, DATA_FILE, RATIO_COLUMNS, TOTAL_COLUMNS,
};
use coopbench_benchmark::table as format;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The data file's name while staged.
const STAGED_FILE: &str = "data.parquet.staged";

/// A table in the published format: the figures laid out in the columns
/// `TOTAL_COLUMNS` or `RATIO_COLUMNS` name, with its footer metadata.
pub fn published_table(table: &Table, metadata: &[(String, String)]) -> format::Table {
    let ratio = table
        .rows
        .first()
        .is_some_and(|r| matches!(r.figures, Figures::Ratio(_)));
    let names: &[&str] = if ratio {
        &RATIO_COLUMNS
    } else {
        &TOTAL_COLUMNS
    };
    let rows = table
        .rows
        .iter()
        .map(|r| {
            let values: Vec<Option<f64>> = match &r.figures {
                Figures::Total(None) | Figures::Ratio(None) => vec![None; names.len()],
                Figures::Total(Some(t)) => vec![
                    Some(t.estimate.estimate),
                    Some(t.estimate.noise_sd),
                    Some(t.estimate.ci95_low),
                    Some(t.estimate.ci95_high),
                    t.members_noisy,
                    t.mean.map(|m| m.0),
                    t.mean.map(|m| m.1),
                ],
                Figures::Ratio(Some(f)) => {
                    let mut v: Vec<Option<f64>> = f.percentiles.iter().map(|p| Some(*p)).collect();
                    v.extend([Some(f.mean), Some(f.bin_width), Some(f.members_noisy)]);
                    v
                }
            };
            format::Row {
                labels: table
                    .dims
                    .iter()
                    .zip(&r.labels)
                    .map(|(d, l)| (d.name.clone(), l.clone()))
                    .collect(),
                figures: names.iter().map(|n| n.to_string()).zip(values).collect(),
                suppressed: r.figures.suppressed(),
            }
        })
        .collect();
    format::Table {
        dims: table.dims.iter().map(|d| d.name.clone()).collect(),
        columns: names.iter().map(|n| n.to_string()).collect(),
        rows,
        metadata: metadata.iter().cloned().collect::<BTreeMap<_, _>>(),
    }
}

/// Writes one table to `path` in the published format, and fsyncs it.
pub fn write_parquet(
    table: &Table,
    path: &Path,
    metadata: &[(String, String)],
) -> Result<(), String> {
    format::write(
        &published_table(table, metadata),
        path,
        coopbench_protocol::TOOLKIT_VERSION,
    )
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
