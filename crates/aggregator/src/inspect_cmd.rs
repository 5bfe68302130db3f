//! `coopbench-aggregator inspect`: a published round's tables on the
//! terminal, read back from the Parquet files, and the manifest's facts.

use crate::cli::Stop;
use crate::files::path_id;
use crate::manifest::Manifest;
use crate::publish::{manifest_path, partition, DATA_FILE};
use crate::round_cmd::{fmt_num, fmt_pm};
use arrow_array::{Array, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use clap::Args;
use coopbench_privacy::accuracy::{is_verdict_column, Verdict};
use coopbench_text as text;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};

/// Show a published round: its tables and the manifest's facts.
///
/// Reads OUTDIR/manifests/<id>.json and every table's Parquet file of that round
/// and prints them as terminal tables; suppressed cells are shown as
/// "suppressed (< N members)". With several rounds in OUTDIR, name one with
/// --round (the rounds present are listed otherwise).
///
/// Example:
///   coopbench-aggregator inspect benchmarks --round 2025q4
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InspectArgs {
    /// The benchmark directory `merge --out` wrote.
    #[arg(value_name = "OUTDIR")]
    out: PathBuf,
    /// The round to show (default: the only one).
    #[arg(long, value_name = "ID")]
    round: Option<String>,
}

/// Round ids with a manifest in `out`, sorted.
pub fn rounds_in(out: &Path) -> Result<Vec<String>, Stop> {
    let dir = out.join("manifests");
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        Stop::usage(format!(
            "{}: {e} (is {} a directory written by `merge --out`?)",
            text::path(&dir),
            text::path(&out)
        ))
    })?;
    let mut ids: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .map(str::to_string)
        })
        .filter(|id| path_id("round id", id).is_ok())
        .collect();
    ids.sort();
    Ok(ids)
}

/// Reads a Parquet file into record batches.
pub fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", text::path(&path)))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| format!("{}: not a readable Parquet file: {e}", text::path(&path)))?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", text::path(&path)))
}

/// How one shown column is read from the table's columns.
enum Shown {
    /// A figure with its 95 % interval and verdict columns.
    Interval(usize, usize, usize, usize),
    /// A figure `value +/- sd` with its verdict column.
    PlusMinus(usize, usize, usize),
    /// A plain number.
    Plain(usize),
}

/// A figure as people read it: the number (with its interval) when readable,
/// prefixed by `~` and suffixed `(rough)` when rough, and only the verdict
/// when too noisy: a figure that is noise never reads like data.
fn figure_text(value: Option<f64>, range: Option<String>, verdict: Option<&str>) -> String {
    let shown = value.map(|v| format!("{}{}", fmt_num(v), range.unwrap_or_default()));
    verdict_text(shown, verdict)
}

/// A figure's text (number and range, already formatted) under its verdict.
fn verdict_text(shown: Option<String>, verdict: Option<&str>) -> String {
    let Some(shown) = shown else {
        return "-".into();
    };
    match verdict.and_then(Verdict::parse) {
        Some(Verdict::TooNoisy) => "too noisy".into(),
        Some(Verdict::Suppressed) => "suppressed".into(),
        Some(Verdict::Rough) => format!("~{shown} (rough)"),
        _ => shown,
    }
}

/// One table as text rows: the header, then per row either its cells or its
/// dimension labels and a suppression note.
fn render(batches: &[RecordBatch], ratio: bool, min_members: u32) -> Result<Vec<String>, String> {
    let Some(first) = batches.first() else {
        return Ok(vec!["(no rows)".into()]);
    };
    let schema = first.schema();
    let dims: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.data_type() == &DataType::Utf8 && !is_verdict_column(f.name()))
        .map(|(i, _)| i)
        .collect();
    let col = |name: &str| schema.index_of(name).map_err(|e| e.to_string());
    let shown: Vec<(&str, Shown)> = if ratio {
        let mut v = Vec::new();
        for (head, p) in [
            ("p10", "p10"),
            ("p25", "p25"),
            ("median", "p50"),
            ("p75", "p75"),
            ("p90", "p90"),
            ("mean", "mean"),
        ] {
            v.push((
                head,
                Shown::Interval(
                    col(p)?,
                    col(&format!("{p}_ci95_low"))?,
                    col(&format!("{p}_ci95_high"))?,
                    col(&format!("{p}_verdict"))?,
                ),
            ));
        }
        v.push(("members", Shown::Plain(col("members_noisy")?)));
        v.push(("bin width", Shown::Plain(col("bin_width")?)));
        v
    } else {
        vec![
            (
                "estimate (95% interval)",
                Shown::Interval(
                    col("estimate")?,
                    col("ci95_low")?,
                    col("ci95_high")?,
                    col("verdict")?,
                ),
            ),
            ("members", Shown::Plain(col("members_noisy")?)),
            (
                "mean per member",
                Shown::PlusMinus(
                    col("mean_per_member")?,
                    col("mean_sd")?,
                    col("mean_verdict")?,
                ),
            ),
            ("verdict", Shown::Plain(col("verdict")?)),
        ]
    };
    let sup = col("suppressed")?;
    let mut header: Vec<String> = dims
        .iter()
        .map(|&i| text::escape(schema.field(i).name()).into_owned())
        .collect();
    header.extend(shown.iter().map(|(n, _)| n.to_string()));
    let mut rows: Vec<(Vec<String>, bool)> = Vec::new();
    for b in batches {
        let num = |i: usize, r: usize| -> Option<f64> {
            let f = b.column(i).as_any().downcast_ref::<Float64Array>()?;
            f.is_valid(r).then(|| f.value(r))
        };
        let text = |i: usize, r: usize| -> Option<String> {
            let s = b.column(i).as_any().downcast_ref::<StringArray>()?;
            s.is_valid(r).then(|| text::escape(s.value(r)).into_owned())
        };
        let suppressed = b
            .column(sup)
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or("the suppressed column is not Boolean")?;
        for r in 0..b.num_rows() {
            let mut cells: Vec<String> = dims
                .iter()
                .map(|&i| text(i, r).unwrap_or_default())
                .collect();
            let is_sup = suppressed.value(r);
            if is_sup {
                cells.push(format!("suppressed (< {min_members} members)"));
            } else {
                for (_, how) in &shown {
                    cells.push(match *how {
                        Shown::Interval(v, lo, hi, verdict) => {
                            let range = num(lo, r)
                                .zip(num(hi, r))
                                .map(|(l, h)| format!(" ({} .. {})", fmt_num(l), fmt_num(h)));
                            figure_text(num(v, r), range, text(verdict, r).as_deref())
                        }
                        Shown::PlusMinus(v, sd, verdict) => {
                            let shown = match (num(v, r), num(sd, r)) {
                                (Some(m), Some(sd)) => Some(fmt_pm(m, sd)),
                                (m, _) => m.map(fmt_num),
                            };
                            verdict_text(shown, text(verdict, r).as_deref())
                        }
                        Shown::Plain(i) => match num(i, r) {
                            Some(x) => fmt_num(x),
                            None => text(i, r).unwrap_or_else(|| "-".into()),
                        },
                    });
                }
            }
            rows.push((cells, is_sup));
        }
    }
    let ncols = header.len();
    let mut width = vec![0usize; ncols];
    for (cells, sup) in std::iter::once((&header, &false)).chain(rows.iter().map(|(c, s)| (c, s))) {
        let n = if *sup { dims.len() } else { ncols };
        for (w, c) in width.iter_mut().zip(cells.iter().take(n)) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String], sup: bool| -> String {
        let mut out = String::from("  ");
        for (i, c) in cells.iter().enumerate() {
            let last = i + 1 == cells.len();
            let pad = width.get(i).copied().unwrap_or(0);
            if i < dims.len() {
                out.push_str(&format!("{c:<pad$}"));
            } else if sup || last && c.starts_with("suppressed") {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:>pad$}"));
            }
            if !last {
                out.push_str("  ");
            }
        }
        out.trim_end().to_string()
    };
    let mut out = vec![line(&header, false)];
    out.extend(rows.iter().map(|(c, s)| line(c, *s)));
    Ok(out)
}

/// How many figures of a table carry each verdict (readable, rough, too
/// noisy, suppressed), over every verdict column.
pub fn verdict_counts(batches: &[RecordBatch]) -> [usize; 4] {
    let mut out = [0; 4];
    for b in batches {
        for (f, c) in b.schema().fields().iter().zip(b.columns()) {
            if !is_verdict_column(f.name()) {
                continue;
            }
            let Some(s) = c.as_any().downcast_ref::<StringArray>() else {
                continue;
            };
            for v in s.iter().flatten().filter_map(Verdict::parse) {
                out[v as usize] += 1;
            }
        }
    }
    out
}

/// "N readable, N rough, N too noisy, N suppressed".
fn counts_text(c: [usize; 4]) -> String {
    format!(
        "{} readable, {} rough, {} too noisy, {} suppressed",
        c[0], c[1], c[2], c[3]
    )
}

/// Runs `inspect`.
pub fn run(a: &InspectArgs) -> Result<(), Stop> {
    let ids = rounds_in(&a.out)?;
    let id = match &a.round {
        Some(r) => path_id("round id", r).map_err(Stop::usage)?.to_string(),
        None => match ids.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(Stop::usage(format!(
                    "{} holds no published round (no manifests/*.json)",
                    text::path(&a.out)
                )))
            }
            many => {
                return Err(Stop::usage(format!(
                    "{} holds several rounds: {}; choose one with --round ID",
                    text::path(&a.out),
                    many.join(", ")
                )))
            }
        },
    };
    let mpath = a.out.join(manifest_path(&id).map_err(Stop::usage)?);
    let text = crate::files::read_bounded(
        &mpath,
        coopbench_protocol::limits::MANIFEST_MAX_BYTES,
        "a manifest",
    )
    .map_err(|e| {
        Stop::usage(format!(
            "{}: {e} (rounds in {}: {})",
            text::path(&mpath),
            text::path(&a.out),
            if ids.is_empty() {
                "none".into()
            } else {
                ids.join(", ")
            }
        ))
    })?;
    let man: Manifest = serde_json::from_slice(&text).map_err(|e| {
        Stop::usage(format!(
            "{} is not a coopbench manifest: {e}",
            text::path(&mpath)
        ))
    })?;
    let r = &man.round;
    // The manifest is not signed: every string in it is shown escaped.
    let t = text::shown;
    println!("Purpose: {}", t(&r.purpose));
    println!(
        "Round '{}' of pool '{}': {} to {}, {} mode, merged {} by {}.",
        t(&r.id),
        t(&r.pool_id),
        t(&r.period_start),
        t(&r.period_end),
        t(&r.mode),
        t(&man.merged_at),
        t(&man.toolkit_version)
    );
    let c = &man.contributions;
    let rejected: Vec<String> = c
        .rejected
        .iter()
        .map(|(k, v)| format!("{v} {}", t(k)))
        .collect();
    println!(
        "Contributions: {} accepted of {} files{}.",
        c.accepted,
        c.files,
        if rejected.is_empty() {
            String::new()
        } else {
            format!(" (not used: {})", rejected.join(", "))
        }
    );
    println!(
        "Privacy: rho = {} per member, epsilon = {:.3} at delta = {:e}; a cell needs at least {} noisy active members.",
        man.privacy.rho, man.privacy.epsilon, man.privacy.delta, r.min_members
    );
    println!("{}", t(&man.privacy.statement));
    let mut all = [0usize; 4];
    for tf in &man.tables {
        // The table's file is where merge writes it, never a path the
        // (unsigned) manifest names.
        let rel = partition(&tf.name, &id)
            .map_err(|e| Stop::usage(format!("{}: {}", text::path(&mpath), t(&e))))?
            .join(DATA_FILE);
        let path = a.out.join(&rel);
        let batches = read_parquet(&path).map_err(Stop::usage)?;
        let counts = verdict_counts(&batches);
        all.iter_mut().zip(counts).for_each(|(a, c)| *a += c);
        println!();
        println!(
            "{} [{}] {}: {} row{}, {} suppressed ({})",
            t(&tf.name),
            t(&tf.kind),
            t(&tf.description),
            tf.rows,
            if tf.rows == 1 { "" } else { "s" },
            tf.suppressed,
            text::path(&rel)
        );
        if tf.kind != "ratio" {
            println!("  members: {}", t(&tf.members_noisy));
        }
        for l in render(&batches, tf.kind == "ratio", r.min_members)
            .map_err(|e| Stop::usage(format!("{}: {e}", text::path(&path))))?
        {
            println!("{l}");
        }
        println!("  figures: {}", counts_text(counts));
    }
    let total: usize = all.iter().sum();
    println!();
    println!(
        "All figures: {} ({:.0}% readable; see docs/accuracy.md for the rule).",
        counts_text(all),
        if total > 0 {
            100.0 * all[0] as f64 / total as f64
        } else {
            0.0
        }
    );
    Ok(())
}
