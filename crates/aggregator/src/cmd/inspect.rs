//! `coopbench-aggregator inspect`: a published round's tables on the
//! terminal, read back from the Parquet files, and the manifest's facts.

use clap::Args;
use coopbench_benchmark::layout::{manifest_path, table_file};
use coopbench_benchmark::manifest;
use coopbench_benchmark::table::{self, Table};
use coopbench_cli::format::{fmt_num, fmt_pm};
use coopbench_cli::Stop;
use coopbench_privacy::accuracy::Verdict;
use coopbench_protocol::pool::path_id;
use coopbench_text as text;
use std::path::PathBuf;

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

/// How one shown column is read from the table's columns.
enum Shown {
    /// A figure with its 95 % interval and verdict columns.
    Interval(String, String, String, String),
    /// A figure `value +/- sd` with its verdict column.
    PlusMinus(&'static str, &'static str, &'static str),
    /// A plain number (or word).
    Plain(&'static str),
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
fn render(t: &Table, ratio: bool, min_members: u32) -> Result<Vec<String>, String> {
    if t.rows.is_empty() {
        return Ok(vec!["(no rows)".into()]);
    }
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
                    p.into(),
                    format!("{p}_ci95_low"),
                    format!("{p}_ci95_high"),
                    format!("{p}_verdict"),
                ),
            ));
        }
        v.push(("members", Shown::Plain("members_noisy")));
        v.push(("bin width", Shown::Plain("bin_width")));
        v
    } else {
        vec![
            (
                "estimate (95% interval)",
                Shown::Interval(
                    "estimate".into(),
                    "ci95_low".into(),
                    "ci95_high".into(),
                    "verdict".into(),
                ),
            ),
            ("members", Shown::Plain("members_noisy")),
            (
                "mean per member",
                Shown::PlusMinus("mean_per_member", "mean_sd", "mean_verdict"),
            ),
            ("verdict", Shown::Plain("verdict")),
        ]
    };
    let has = |c: &str| t.columns.iter().chain(&t.verdict_columns).any(|x| x == c);
    for (_, how) in &shown {
        let needed: Vec<&str> = match how {
            Shown::Interval(a, b, c, d) => vec![a, b, c, d],
            Shown::PlusMinus(a, b, c) => vec![a, b, c],
            Shown::Plain(a) => vec![a],
        };
        if let Some(c) = needed.into_iter().find(|c| !has(c)) {
            return Err(format!("the table has no column {c}"));
        }
    }
    let dims = &t.dims;
    let mut header: Vec<String> = dims.iter().map(|d| text::escape(d).into_owned()).collect();
    header.extend(shown.iter().map(|(n, _)| n.to_string()));
    let mut rows: Vec<(Vec<String>, bool)> = Vec::new();
    for r in &t.rows {
        let num = |c: &str| r.get(c);
        let word = |c: &str| -> Option<String> {
            r.verdicts
                .get(c)
                .and_then(|v| v.as_deref())
                .map(|v| text::escape(v).into_owned())
        };
        let mut cells: Vec<String> = dims
            .iter()
            .map(|d| text::escape(r.labels.get(d).map_or("", String::as_str)).into_owned())
            .collect();
        if r.suppressed {
            cells.push(format!("suppressed (< {min_members} members)"));
        } else {
            for (_, how) in &shown {
                cells.push(match how {
                    Shown::Interval(v, lo, hi, verdict) => {
                        let range = num(lo)
                            .zip(num(hi))
                            .map(|(l, h)| format!(" ({} .. {})", fmt_num(l), fmt_num(h)));
                        figure_text(num(v), range, word(verdict).as_deref())
                    }
                    Shown::PlusMinus(v, sd, verdict) => {
                        let shown = match (num(v), num(sd)) {
                            (Some(m), Some(sd)) => Some(fmt_pm(m, sd)),
                            (m, _) => m.map(fmt_num),
                        };
                        verdict_text(shown, word(verdict).as_deref())
                    }
                    Shown::Plain(c) => match num(c) {
                        Some(x) => fmt_num(x),
                        None => word(c).unwrap_or_else(|| "-".into()),
                    },
                });
            }
        }
        rows.push((cells, r.suppressed));
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
pub fn verdict_counts(t: &Table) -> [usize; 4] {
    let mut out = [0; 4];
    for r in &t.rows {
        for v in r.verdicts.values().flatten() {
            if let Some(v) = Verdict::parse(v) {
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
    let ids = manifest::round_ids(&a.out).map_err(Stop::usage)?;
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
    if !ids.contains(&id) {
        return Err(Stop::usage(format!(
            "{}: no such round (rounds in {}: {})",
            text::path(&mpath),
            text::path(&a.out),
            if ids.is_empty() {
                "none".into()
            } else {
                ids.join(", ")
            }
        )));
    }
    let man = manifest::read(&mpath).map_err(Stop::usage)?;
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
    let mut all = [0usize; 4];
    for tf in &man.tables {
        // The table's file is where merge writes it, never a path the
        // (unsigned) manifest names.
        let rel = table_file(&tf.name, &id)
            .map_err(|e| Stop::usage(format!("{}: {}", text::path(&mpath), t(&e))))?;
        let path = a.out.join(&rel);
        let table = table::read(&path).map_err(Stop::usage)?;
        let counts = verdict_counts(&table);
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
            text::path(&rel)
        );
        if tf.kind != "ratio" {
            coopbench_cli::outln!("  members: {}", t(&tf.members_noisy));
        }
        for l in render(&table, tf.kind == "ratio", r.min_members)
            .map_err(|e| Stop::usage(format!("{}: {e}", text::path(&path))))?
        {
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
