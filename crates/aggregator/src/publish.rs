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

use crate::files::sync_dir;
use crate::tables::{Figures, Table};
use coopbench_benchmark::layout::{
    manifest_path, partition, DATA_FILE, RATIO_COLUMNS, RATIO_VERDICTS, TOTAL_COLUMNS,
    TOTAL_VERDICTS,
};
use coopbench_benchmark::table as format;
use coopbench_privacy::accuracy::Verdict;
use coopbench_privacy::estimate::Interval;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The data file's name while staged.
const STAGED_FILE: &str = "data.parquet.staged";

/// The value (0), low end (1) or high end (2) of an interval.
fn interval_part(i: Interval, part: usize) -> f64 {
    [i.value, i.low, i.high][part]
}

/// One figure column's value in a row (None: null), in the order of
/// `TOTAL_COLUMNS` or `RATIO_COLUMNS`.
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

/// A table in the published format: the dimension columns, the figures laid
/// out in the columns `TOTAL_COLUMNS` or `RATIO_COLUMNS` name, the verdicts
/// in `TOTAL_VERDICTS` or `RATIO_VERDICTS`, with its footer metadata.
pub fn published_table(table: &Table, metadata: &[(String, String)]) -> format::Table {
    let ratio = table
        .rows
        .first()
        .is_some_and(|r| matches!(r.figures, Figures::Ratio(_)));
    let (names, verdicts): (&[&str], &[&str]) = if ratio {
        (&RATIO_COLUMNS, &RATIO_VERDICTS)
    } else {
        (&TOTAL_COLUMNS, &TOTAL_VERDICTS)
    };
    let rows = table
        .rows
        .iter()
        .map(|r| format::Row {
            labels: table
                .dims
                .iter()
                .zip(&r.labels)
                .map(|(d, l)| (d.name.clone(), l.clone()))
                .collect(),
            figures: names
                .iter()
                .enumerate()
                .map(|(c, n)| (n.to_string(), figure(&r.figures, c)))
                .collect(),
            verdicts: verdicts
                .iter()
                .enumerate()
                .map(|(c, n)| (n.to_string(), verdict(&r.figures, c).map(str::to_string)))
                .collect(),
            suppressed: r.figures.suppressed(),
        })
        .collect();
    format::Table {
        dims: table.dims.iter().map(|d| d.name.clone()).collect(),
        columns: names.iter().map(|n| n.to_string()).collect(),
        verdict_columns: verdicts.iter().map(|n| n.to_string()).collect(),
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
