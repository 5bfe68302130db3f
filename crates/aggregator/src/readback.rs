//! A published round read back for people: its manifest and every table,
//! each figure with its 95 % range and its verdict, read through the one
//! rule of [`coopbench_privacy::accuracy::published_verdict`]. `inspect`
//! (terminal, CSV, JSON) and `report` (HTML) render this and nothing else,
//! so none of them can show a figure the verdict says is noise.

use coopbench_benchmark::layout::{manifest_path, table_file};
use coopbench_benchmark::manifest::{self, Manifest, TableFact};
use coopbench_benchmark::table::{self, Row, Table};
use coopbench_privacy::accuracy::{published_verdict, verdict_column, Verdict, Z_95};
use coopbench_protocol::pool::path_id;
use coopbench_text as text;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A published round.
#[derive(Debug, Clone)]
pub struct Round {
    /// The manifest.
    pub manifest: Manifest,
    /// The manifest's file.
    pub manifest_path: PathBuf,
    /// Every table the manifest lists, in its order.
    pub tables: Vec<Published>,
}

/// One published table with its figures read.
#[derive(Debug, Clone)]
pub struct Published {
    /// The manifest's facts about it.
    pub fact: TableFact,
    /// Its file, relative to the benchmark directory.
    pub rel: PathBuf,
    /// The table as read.
    pub table: Table,
    /// The figures every row shows, in order.
    pub columns: Vec<FigureColumn>,
    /// The rows, in file order.
    pub rows: Vec<ReadRow>,
}

/// One figure of a table's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FigureColumn {
    /// The column in the table (`estimate`, `p50`, `members_noisy`, …).
    pub column: &'static str,
    /// Its name for people (`estimate`, `median`, `members`, …).
    pub header: &'static str,
}

/// One row read.
#[derive(Debug, Clone)]
pub struct ReadRow {
    /// One label per dimension, in the table's order.
    pub labels: Vec<String>,
    /// The row's `suppressed` flag.
    pub suppressed: bool,
    /// One entry per [`FigureColumn`] (`None`: the table has no such figure,
    /// e.g. members where the round has no active metric).
    pub figures: Vec<Option<Figure>>,
}

/// A published figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    /// The value as published (noise included; null where suppressed).
    pub value: Option<f64>,
    /// Its 95 % range.
    pub range: Option<(f64, f64)>,
    /// Whether it can be read.
    pub verdict: Verdict,
}

impl Figure {
    /// The value, if its verdict lets it be shown (readable or rough).
    pub fn shown(&self) -> Option<f64> {
        self.value.filter(|_| self.verdict.shows_figure())
    }

    /// The 95 % range, if the value is shown.
    pub fn shown_range(&self) -> Option<(f64, f64)> {
        self.range.filter(|_| self.shown().is_some())
    }
}

const TOTALS: [FigureColumn; 3] = [
    FigureColumn {
        column: "estimate",
        header: "estimate",
    },
    FigureColumn {
        column: "members_noisy",
        header: "members",
    },
    FigureColumn {
        column: "mean_per_member",
        header: "mean per member",
    },
];

const RATIOS: [FigureColumn; 7] = [
    FigureColumn {
        column: "p10",
        header: "p10",
    },
    FigureColumn {
        column: "p25",
        header: "p25",
    },
    FigureColumn {
        column: "p50",
        header: "median",
    },
    FigureColumn {
        column: "p75",
        header: "p75",
    },
    FigureColumn {
        column: "p90",
        header: "p90",
    },
    FigureColumn {
        column: "mean",
        header: "mean",
    },
    FigureColumn {
        column: "members_noisy",
        header: "members",
    },
];

/// The figure `column` of `row` with its range and verdict, as the table
/// holds it (`None`: the table has no such column).
fn figure(t: &Table, row: &Row, column: &str) -> Option<Figure> {
    if !t.columns.iter().any(|c| c == column) {
        return None;
    }
    let verdict_col = verdict_column(column);
    let word = row.verdicts.get(&verdict_col).and_then(|v| v.as_deref());
    let range = match column {
        "estimate" => row.get("ci95_low").zip(row.get("ci95_high")),
        "mean_per_member" => row
            .get("mean_per_member")
            .zip(row.get("mean_sd"))
            .map(|(m, sd)| (m - Z_95 * sd, m + Z_95 * sd)),
        "members_noisy" => row
            .get("members_ci95_low")
            .zip(row.get("members_ci95_high")),
        f => row
            .get(&format!("{f}_ci95_low"))
            .zip(row.get(&format!("{f}_ci95_high"))),
    };
    if row.get(column).is_none() && word.is_none() && !row.suppressed {
        // Not computed for this table (a mean per member without an
        // active metric): no figure, rather than one judged too noisy.
        return None;
    }
    Some(Figure {
        value: row.get(column),
        range,
        verdict: published_verdict(row.suppressed, word),
    })
}

/// The rows' labels in `dims` order.
fn labels_of(row: &Row, dims: &[String]) -> Vec<String> {
    dims.iter()
        .map(|d| row.labels.get(d).cloned().unwrap_or_default())
        .collect()
}

/// Reads `table`'s rows. A total's members are its `members_noisy`, the
/// estimate of `active` (the round's active table over the same
/// dimensions) clamped to [0, `contributions`], with that estimate's verdict
/// and its range clamped the same way.
fn read_rows(
    t: &Table,
    ratio: bool,
    active: Option<&Table>,
    contributions: f64,
) -> (Vec<FigureColumn>, Vec<ReadRow>) {
    let columns: Vec<FigureColumn> = if ratio {
        RATIOS.to_vec()
    } else {
        TOTALS.to_vec()
    };
    let active_rows: HashMap<Vec<String>, &Row> = active
        .map(|a| a.rows.iter().map(|r| (labels_of(r, &t.dims), r)).collect())
        .unwrap_or_default();
    let rows = t
        .rows
        .iter()
        .map(|r| {
            let labels = labels_of(r, &t.dims);
            let figures = columns
                .iter()
                .map(|c| match (ratio, c.column) {
                    (false, "members_noisy") => {
                        // The table's own (clamped) count, judged by the
                        // active estimate it comes from, whose range is
                        // clamped the same way.
                        let a = figure(active?, active_rows.get(&labels)?, "estimate")?;
                        let clamp = |x: f64| x.clamp(0.0, contributions);
                        Some(Figure {
                            value: r.get("members_noisy"),
                            range: a.range.map(|(l, h)| (clamp(l), clamp(h))),
                            verdict: a.verdict,
                        })
                    }
                    _ => figure(t, r, c.column),
                })
                .collect();
            ReadRow {
                labels,
                suppressed: r.suppressed,
                figures,
            }
        })
        .collect();
    (columns, rows)
}

/// The round id to read from `out`: `--round`, or the only one there.
fn pick_id(out: &Path, round: Option<&str>) -> Result<String, String> {
    let ids = manifest::round_ids(out)?;
    let id = match round {
        Some(r) => path_id("round id", r)?.to_string(),
        None => match ids.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(format!(
                    "{} holds no published round (no manifests/*.json)",
                    text::path(&out)
                ))
            }
            many => {
                return Err(format!(
                    "{} holds several rounds: {}; choose one with --round ID",
                    text::path(&out),
                    many.join(", ")
                ))
            }
        },
    };
    if !ids.contains(&id) {
        return Err(format!(
            "{}: no such round (rounds in {}: {})",
            text::path(&out.join(manifest_path(&id)?)),
            text::path(&out),
            if ids.is_empty() {
                "none".into()
            } else {
                ids.join(", ")
            }
        ));
    }
    Ok(id)
}

/// Reads round `round` (or the only one) of the benchmark directory `out`:
/// its manifest and every table it lists, each from where `merge` writes it
/// (never a path the unsigned manifest names).
pub fn read(out: &Path, round: Option<&str>) -> Result<Round, String> {
    let id = pick_id(out, round)?;
    let mpath = out.join(manifest_path(&id)?);
    let man = manifest::read(&mpath)?;
    let mut raw = Vec::new();
    for tf in &man.tables {
        let rel = table_file(&tf.name, &id)
            .map_err(|e| format!("{}: {}", text::path(&mpath), text::shown(&e)))?;
        let table = table::read(&out.join(&rel))?;
        raw.push((tf.clone(), rel, table));
    }
    let same_dims = |a: &Table, b: &Table| {
        let (mut x, mut y) = (a.dims.clone(), b.dims.clone());
        x.sort();
        y.sort();
        x == y
    };
    let tables = raw
        .iter()
        .map(|(tf, rel, table)| {
            let active = raw
                .iter()
                .find(|(f, _, t)| f.kind == "active" && same_dims(t, table))
                .map(|(_, _, t)| t);
            let n = man.contributions.accepted as f64;
            let (columns, rows) = read_rows(table, tf.kind == "ratio", active, n);
            Published {
                fact: tf.clone(),
                rel: rel.clone(),
                table: table.clone(),
                columns,
                rows,
            }
        })
        .collect();
    Ok(Round {
        manifest: man,
        manifest_path: mpath,
        tables,
    })
}

/// How many figures carry each verdict (readable, rough, too noisy,
/// suppressed), over every figure of `rows`.
pub fn verdict_counts<'a>(rows: impl IntoIterator<Item = &'a ReadRow>) -> [usize; 4] {
    let mut out = [0; 4];
    for r in rows {
        for f in r.figures.iter().flatten() {
            out[f.verdict as usize] += 1;
        }
    }
    out
}
