//! `coopbench-aggregator inspect`: a published round's tables on the
//! terminal, read back from the Parquet files with every figure's verdict
//! (`readback`), and the manifest's facts; or, with `--format csv|json`,
//! the same tables as files for spreadsheets (`export`).

use crate::export;
use crate::readback::{self, Figure, Published, ReadRow};
use clap::{Args, ValueEnum};
use coopbench_cli::format::fmt_num;
use coopbench_cli::Stop;
use coopbench_privacy::accuracy::Verdict;
use coopbench_text as text;
use std::path::{Path, PathBuf};

/// Show a published round: its tables, every figure with its 95% range and
/// verdict, and the manifest's facts; or write its tables as CSV or JSON.
///
/// Reads OUTDIR/manifests/<id>.json and every table's Parquet file of that round.
/// A figure is shown as its value and 95% range when readable, marked
/// "~... (rough)" when rough, and only as "too noisy" when it is noise: a
/// figure too noisy to read never reads like data. Suppressed cells are shown
/// as "suppressed (< N members)". With several rounds in OUTDIR, name one with
/// --round (the rounds present are listed otherwise).
///
/// --format csv|json --output DIR writes one file per table into the new
/// directory DIR (whole or not at all; an existing DIR is replaced only with
/// --force): a header row, ISO dates, "." decimals, no thousands separators,
/// UTF-8 (--bom adds the byte-order mark Excel needs), and per figure its
/// value, 95% range and verdict (a figure too noisy to read is left empty).
///
/// Example:
///   coopbench-aggregator inspect benchmarks --round 2025q4
///   coopbench-aggregator inspect benchmarks --format csv --output benchmarks-csv --bom
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InspectArgs {
    /// The benchmark directory `merge --out` wrote.
    #[arg(value_name = "OUTDIR")]
    out: PathBuf,
    /// The round to show (default: the only one).
    #[arg(long, value_name = "ID")]
    round: Option<String>,
    /// text: tables on the terminal; csv or json: one file per table into --output.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The new directory the CSV or JSON files are written to.
    #[arg(long, short = 'o', value_name = "DIR")]
    output: Option<PathBuf>,
    /// Start each CSV file with a UTF-8 byte-order mark (for Excel).
    #[arg(long)]
    bom: bool,
    /// Replace --output if it exists (a directory of files an earlier run wrote).
    #[arg(long)]
    force: bool,
}

/// The output of `inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Tables on the terminal.
    Text,
    /// One CSV file per table.
    Csv,
    /// One JSON file per table.
    Json,
}

/// A figure as people read it: the number and its 95 % range when readable,
/// prefixed by `~` and suffixed `(rough)` when rough, and only the verdict
/// when too noisy or suppressed: a figure that is noise never reads like data.
fn figure_text(f: Option<&Figure>) -> String {
    let Some(f) = f else {
        return "-".into();
    };
    let Some(v) = f.shown() else {
        return match f.verdict {
            Verdict::Suppressed => "suppressed".into(),
            Verdict::TooNoisy => "too noisy".into(),
            _ => "-".into(),
        };
    };
    let range = f
        .shown_range()
        .map(|(l, h)| format!(" ({} .. {})", fmt_num(l), fmt_num(h)))
        .unwrap_or_default();
    match f.verdict {
        Verdict::Rough => format!("~{}{range} (rough)", fmt_num(v)),
        _ => format!("{}{range}", fmt_num(v)),
    }
}

/// One table as text rows: the header, then per row either its cells or its
/// dimension labels and a suppression note.
fn render(t: &Published, min_members: u32) -> Vec<String> {
    if t.rows.is_empty() {
        return vec!["(no rows)".into()];
    }
    let ratio = t.fact.kind == "ratio";
    let dims = &t.table.dims;
    let mut header: Vec<String> = dims.iter().map(|d| text::escape(d).into_owned()).collect();
    header.extend(t.columns.iter().map(|c| c.header.to_string()));
    header.push(if ratio { "bin width" } else { "verdict" }.into());
    let cells = |r: &ReadRow, raw: &coopbench_benchmark::table::Row| -> Vec<String> {
        let mut out: Vec<String> = r
            .labels
            .iter()
            .map(|l| text::escape(l).into_owned())
            .collect();
        if r.suppressed {
            out.push(format!("suppressed (< {min_members} members)"));
            return out;
        }
        out.extend(r.figures.iter().map(|f| figure_text(f.as_ref())));
        out.push(if ratio {
            raw.get("bin_width").map_or("-".into(), fmt_num)
        } else {
            r.figures[0].map_or("-".into(), |f| f.verdict.as_str().to_string())
        });
        out
    };
    let rows: Vec<(Vec<String>, bool)> = t
        .rows
        .iter()
        .zip(&t.table.rows)
        .map(|(r, raw)| (cells(r, raw), r.suppressed))
        .collect();
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
            } else if sup {
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
    out
}

/// "N readable, N rough, N too noisy, N suppressed".
fn counts_text(c: [usize; 4]) -> String {
    format!(
        "{} readable, {} rough, {} too noisy, {} suppressed",
        c[0], c[1], c[2], c[3]
    )
}

/// Writes the round's tables as CSV or JSON files into `dir`.
fn write_files(a: &InspectArgs, dir: &Path, round: &readback::Round) -> Result<(), Stop> {
    let ext = if a.format == Format::Csv {
        "csv"
    } else {
        "json"
    };
    let mut files = Vec::new();
    for t in &round.tables {
        let bytes = match a.format {
            Format::Csv => export::csv(round, t, a.bom)
                .map_err(|e| Stop::usage(format!("{}: {e}", text::path(&a.out.join(&t.rel)))))?,
            _ => export::json(round, t),
        };
        // Table names are checked ids (they are path pieces of the Parquet files).
        files.push((format!("{}.{ext}", t.fact.name), bytes, t.rows.len()));
    }
    let named: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(n, b, _)| (n.clone(), b.clone()))
        .collect();
    coopbench_fsio::write_dir_atomic(dir, &named, a.force)
        .map_err(|e| Stop::usage(format!("cannot write {}: {e}", text::path(dir))))?;
    coopbench_cli::outln!(
        "Wrote {} {} file{} of round '{}' to {}:",
        files.len(),
        ext.to_uppercase(),
        if files.len() == 1 { "" } else { "s" },
        text::shown(&round.manifest.round.id),
        text::path(dir)
    );
    for (name, _, rows) in &files {
        coopbench_cli::outln!(
            "  {}  {rows} row{}",
            text::shown(name),
            if *rows == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// Runs `inspect`.
pub fn run(a: &InspectArgs) -> Result<(), Stop> {
    let files_to = match (a.format, &a.output) {
        (Format::Text, None) if !(a.bom || a.force) => None,
        (Format::Text, _) => {
            return Err(Stop::usage(
                "--output, --bom and --force go with --format csv or --format json",
            ))
        }
        (_, None) => return Err(Stop::usage(
            "--format csv and --format json write files: give the new directory with --output DIR",
        )),
        (_, Some(dir)) => {
            // Before anything is read: the output can be written there.
            coopbench_fsio::check_output_dir(dir, a.force).map_err(Stop::usage)?;
            Some(dir)
        }
    };
    let round = readback::read(&a.out, a.round.as_deref()).map_err(Stop::usage)?;
    if let Some(dir) = files_to {
        return write_files(a, dir, &round);
    }
    let man = &round.manifest;
    let r = &man.round;
    // The manifest is not signed: every string in it is shown escaped.
    let t = text::shown;
    coopbench_cli::outln!("Purpose: {}", t(&r.purpose));
    coopbench_cli::outln!(
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
    coopbench_cli::outln!(
        "Contributions: {} accepted of {} files{}.",
        c.accepted,
        c.files,
        if rejected.is_empty() {
            String::new()
        } else {
            format!(" (not used: {})", rejected.join(", "))
        }
    );
    coopbench_cli::outln!(
        "Privacy: rho = {} per member, epsilon = {:.3} at delta = {:e}; a cell needs at least {} noisy active members.",
        man.privacy.rho, man.privacy.epsilon, man.privacy.delta, r.min_members
    );
    coopbench_cli::outln!("{}", t(&man.privacy.statement));
    coopbench_cli::outln!(
        "Every number: its value (95% range) when readable, ~value (rough) when rough, \"too noisy\" when it is noise."
    );
    let mut all = [0usize; 4];
    for tb in &round.tables {
        let tf = &tb.fact;
        let counts = readback::verdict_counts(&tb.rows);
        all.iter_mut().zip(counts).for_each(|(a, c)| *a += c);
        coopbench_cli::outln!();
        coopbench_cli::outln!(
            "{} [{}] {}: {} row{}, {} suppressed ({})",
            t(&tf.name),
            t(&tf.kind),
            t(&tf.description),
            tf.rows,
            if tf.rows == 1 { "" } else { "s" },
            tf.suppressed,
            text::path(&tb.rel)
        );
        if tf.kind != "ratio" {
            coopbench_cli::outln!("  members: {}", t(&tf.members_noisy));
        }
        for l in render(tb, r.min_members) {
            coopbench_cli::outln!("{l}");
        }
        coopbench_cli::outln!("  figures: {}", counts_text(counts));
    }
    let total: usize = all.iter().sum();
    coopbench_cli::outln!();
    coopbench_cli::outln!(
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
