//! Writing a round's benchmarks: one Parquet file per table at
//! `OUT/<table>/<id>.parquet` (zstd; a `round` column inside, no hive
//! directory) with the round's facts in the footer's key-value metadata,
//! and `OUT/manifests/<id>.json`.
//!
//! A round is published under the lock `OUT/.coopbench-publish.lock`, in
//! three steps (see docs/robustness.md):
//!
//! 1. **Stage.** Every file is written and fsync'd into
//!    `OUT/.coopbench-staging/<id>/`, data files as `<id>.parquet.staged` (no
//!    reader's `*.parquet` glob matches them).
//! 2. **Commit.** `COMMITTED` is written there (atomically, fsync'd): the
//!    list of what the round consists of. Before it exists, the round does
//!    not exist; after, it must appear whole.
//! 3. **Roll forward.** Each table's file is renamed to
//!    `OUT/<table>/<id>.parquet` (the only steps a glob reader sees, one
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

use crate::columns;
use crate::files::sync_dir;
use crate::tables::{Figures, Row, Table};
use coopbench_benchmark::layout::{
    manifest_path, table_file, RATIO_COLUMNS, RATIO_VERDICTS, TOTAL_COLUMNS, TOTAL_VERDICTS,
};
use coopbench_benchmark::table as format;
use coopbench_privacy::accuracy::Verdict;
use coopbench_privacy::estimate::Interval;
use coopbench_protocol::Round;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// A staged file's path: the published one's with this suffix.
const STAGED_SUFFIX: &str = ".staged";

/// Where part `rel` of a round lies in its staging directory.
fn staged(stage: &Path, rel: &Path) -> PathBuf {
    let mut name = stage.join(rel).into_os_string();
    name.push(STAGED_SUFFIX);
    PathBuf::from(name)
}

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

/// A table in the published format: every dimension column of
/// [`columns::dimension_columns`] (null where the round does not split by
/// it), the figures laid out in the columns `TOTAL_COLUMNS` or
/// `RATIO_COLUMNS` name and typed by [`columns::info`], the verdicts in
/// `TOTAL_VERDICTS` or `RATIO_VERDICTS`, with its footer metadata.
pub fn published_table(
    round: &Round,
    table: &Table,
    metadata: &[(String, String)],
) -> format::Table {
    let ratio = columns::is_ratio(table);
    let (names, verdicts): (&[&str], &[&str]) = if ratio {
        (&RATIO_COLUMNS, &RATIO_VERDICTS)
    } else {
        (&TOTAL_COLUMNS, &TOTAL_VERDICTS)
    };
    let info = columns::info(round, table);
    let ty = |c: &str| info.get(c).map(|i| i.ty).unwrap_or_default();
    let rows = table
        .rows
        .iter()
        .map(|r| match &r.figures {
            Figures::Total(Some(t)) => Row {
                labels: r.labels.clone(),
                figures: Figures::Total(Some(columns::stored_total(&info, t))),
            },
            _ => r.clone(),
        })
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
                .map(|(c, n)| {
                    let v = figure(&r.figures, c).map(|v| columns::stored_value(n, ty(n), v));
                    (n.to_string(), v)
                })
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
        round: round.id.clone(),
        all_dims: columns::dimension_columns(round)
            .into_iter()
            .map(|d| d.0)
            .collect(),
        dims: table.dims.iter().map(|d| d.name.clone()).collect(),
        columns: names.iter().map(|n| n.to_string()).collect(),
        verdict_columns: verdicts.iter().map(|n| n.to_string()).collect(),
        rows,
        metadata: metadata.iter().cloned().collect::<BTreeMap<_, _>>(),
        info,
    }
}

/// Writes one table to `path` in the published format, and fsyncs it.
pub fn write_parquet(
    round: &Round,
    table: &Table,
    path: &Path,
    metadata: &[(String, String)],
) -> Result<(), String> {
    format::write(
        &published_table(round, table, metadata),
        path,
        coopbench_protocol::TOOLKIT_VERSION,
    )
}

/// A round's output, ready to publish.
pub struct Output<'a> {
    /// The round id.
    pub round_id: &'a str,
    /// The tables in the published format, by name.
    pub tables: Vec<(String, format::Table)>,
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
            // Only the shapes this module writes: `<table>/<id>.parquet`
            // and last `manifests/<id>.json`, plain components, nothing
            // hidden (a staging of another layout is refused as damaged).
            let plain = |p: &PathBuf| {
                p.components().count() == 2
                    && p.components().all(|c| {
                        matches!(c, std::path::Component::Normal(n)
                            if !n.to_string_lossy().starts_with('.'))
                    })
            };
            let shaped = parts.split_last().is_some_and(|(man, tables)| {
                man.extension().is_some_and(|e| e == "json")
                    && tables
                        .iter()
                        .all(|t| t.extension().is_some_and(|e| e == "parquet"))
            });
            if !shaped || !parts.iter().all(plain) {
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

/// Moves a committed round's parts into place, skipping what is done: each
/// table's file (one rename, which makes it visible), then the manifest (the
/// last part); then removes the staging directory.
fn roll_forward(root: &Path, stage: &Path, parts: &[PathBuf]) -> Result<(), PublishError> {
    for (i, rel) in parts.iter().enumerate() {
        let (from, to) = (staged(stage, rel), root.join(rel));
        if from.exists() {
            let parent = to.parent().expect("has a parent");
            no_symlink(parent)?;
            fs::create_dir_all(parent).map_err(|e| io_err(parent, &e))?;
            fs::rename(&from, &to).map_err(|e| io_err(&to, &e))?;
            sync_dir(parent).map_err(|e| io_err(parent, &e))?;
        }
        if i + 1 < parts.len() {
            failpoint(&format!("publish-moved-{}", i + 1));
        }
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
    for (name, _) in &out.tables {
        parts.push(table_file(name, out.round_id).map_err(PublishError::BadId)?);
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
    for (rel, (_, t)) in parts.iter().zip(&out.tables) {
        let path = staged(stage, rel);
        let dir = path.parent().expect("has a parent");
        fs::create_dir_all(dir).map_err(|e| io_err(dir, &e))?;
        format::write(t, &path, coopbench_protocol::TOOLKIT_VERSION).map_err(PublishError::Io)?;
        sync_dir(dir).map_err(|e| io_err(dir, &e))?;
        failpoint("publish-staging");
    }
    let man = staged(stage, parts.last().expect("the manifest"));
    let parent = man.parent().expect("has a parent");
    fs::create_dir_all(parent).map_err(|e| io_err(parent, &e))?;
    crate::files::write_atomic(&man, &out.manifest).map_err(|e| io_err(&man, &e))
}

/// The published schema of every metric's table in `round`, by name: its
/// columns and their types, as [`published_table`] writes them.
fn round_schemas(round: &Round) -> Vec<(String, arrow_schema::Schema)> {
    round
        .metrics
        .iter()
        .map(|m| {
            let empty = Table {
                name: m.name.clone(),
                kind: m.kind,
                description: m.description.clone(),
                dims: vec![],
                rows: vec![],
                members_source: String::new(),
                noise_sd: 0.0,
            };
            (m.name.clone(), published_table(round, &empty, &[]).schema())
        })
        .collect()
}

/// What differs between two tables' columns (names and types), in words.
fn column_changes(old: &arrow_schema::Schema, new: &arrow_schema::Schema) -> Vec<String> {
    let ty = |s: &arrow_schema::Schema, n: &str| {
        s.field_with_name(n).ok().map(|f| {
            format::ColumnType::of(f.data_type())
                .map_or(f.data_type().to_string(), |t| t.name().to_string())
        })
    };
    let mut names: Vec<&str> = old.fields().iter().map(|f| f.name().as_str()).collect();
    names.extend(new.fields().iter().map(|f| f.name().as_str()));
    names.dedup();
    let mut seen = std::collections::BTreeSet::new();
    names
        .into_iter()
        .filter(|n| seen.insert(*n))
        .filter_map(|n| match (ty(old, n), ty(new, n)) {
            (Some(a), Some(b)) if a == b => None,
            (Some(a), Some(b)) => Some(format!("{n} is {a} there, {b} in this round")),
            (Some(a), None) => Some(format!("{n} ({a}) is not in this round's table")),
            (None, Some(b)) => Some(format!("{n} ({b}) is new in this round")),
            (None, None) => None,
        })
        .collect()
}

/// Refusals for tables of `round` whose columns would differ from those of
/// the rounds already published in `root` under the same name (a metric
/// whose kind or unit changed: a sum in EUR become a ratio, say). Every
/// round of a table must read as one dataset, so such a round goes to
/// another folder, or its metric gets another name. Empty: compatible.
pub fn incompatible_tables(root: &Path, round: &Round) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (name, schema) in round_schemas(round) {
        let dir = root.join(coopbench_benchmark::layout::table_dir(&name)?);
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "parquet") && p.is_file())
            .collect();
        files.sort();
        for f in files {
            let old = format::read_schema(&f)?;
            let changes = column_changes(&old, &schema);
            if !changes.is_empty() {
                out.push(format!(
                    "table '{name}' would not read as one dataset with {}: {}",
                    coopbench_text::path(&f),
                    changes.join("; ")
                ));
                break;
            }
        }
    }
    Ok(out)
}
