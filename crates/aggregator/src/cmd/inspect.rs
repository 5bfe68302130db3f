//! `coopbench-aggregator inspect`: a published round's tables on the
//! terminal, read back from the Parquet files, and the manifest's facts.

use clap::Args;
use coopbench_benchmark::layout::{manifest_path, table_file};
use coopbench_benchmark::manifest;
use coopbench_benchmark::table::{self, Table};
use coopbench_cli::format::{fmt_num, fmt_pm};
use coopbench_cli::Stop;
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

/// One table as text rows: the header, then per row either its cells or its
/// dimension labels and a suppression note.
fn render(t: &Table, ratio: bool, min_members: u32) -> Result<Vec<String>, String> {
    if t.rows.is_empty() {
        return Ok(vec!["(no rows)".into()]);
    }
    let shown: Vec<(&str, Vec<&str>)> = if ratio {
        vec![
            ("p10", vec!["p10"]),
            ("p25", vec!["p25"]),
            ("median", vec!["p50"]),
            ("p75", vec!["p75"]),
            ("p90", vec!["p90"]),
            ("mean", vec!["mean"]),
            ("members", vec!["members_noisy"]),
            ("bin width", vec!["bin_width"]),
        ]
    } else {
        vec![
            ("estimate", vec!["estimate"]),
            ("95% interval", vec!["ci95_low", "ci95_high"]),
            ("noise sd", vec!["noise_sd"]),
            ("members", vec!["members_noisy"]),
            ("mean per member", vec!["mean_per_member", "mean_sd"]),
        ]
    };
    if let Some(c) = shown
        .iter()
        .flat_map(|(_, cols)| cols)
        .find(|c| !t.columns.iter().any(|have| have == *c))
    {
        return Err(format!("the table has no column {c}"));
    }
    let dims = &t.dims;
    let mut header: Vec<String> = dims.iter().map(|d| text::escape(d).into_owned()).collect();
    header.extend(shown.iter().map(|(n, _)| n.to_string()));
    let mut rows: Vec<(Vec<String>, bool)> = Vec::new();
    for r in &t.rows {
        let num = |c: &str| r.get(c).map_or_else(|| "-".to_string(), fmt_num);
        let mut cells: Vec<String> = dims
            .iter()
            .map(|d| text::escape(r.labels.get(d).map_or("", String::as_str)).into_owned())
            .collect();
        if r.suppressed {
            cells.push(format!("suppressed (< {min_members} members)"));
        } else {
            for (name, cols) in &shown {
                cells.push(match (cols.as_slice(), *name) {
                    ([lo, hi], "95% interval") => format!("{} .. {}", num(lo), num(hi)),
                    ([m, sd], _) => match (r.get(m), r.get(sd)) {
                        (Some(m), Some(sd)) => fmt_pm(m, sd),
                        (Some(m), None) => fmt_num(m),
                        _ => "-".into(),
                    },
                    ([c], _) => num(c),
                    _ => unreachable!("one or two columns"),
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
    for tf in &man.tables {
        // The table's file is where merge writes it, never a path the
        // (unsigned) manifest names.
        let rel = table_file(&tf.name, &id)
            .map_err(|e| Stop::usage(format!("{}: {}", text::path(&mpath), t(&e))))?;
        let path = a.out.join(&rel);
        let table = table::read(&path).map_err(Stop::usage)?;
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
        for l in render(&table, tf.kind == "ratio", r.min_members)
            .map_err(|e| Stop::usage(format!("{}: {e}", text::path(&path))))?
        {
            println!("{l}");
        }
    }
    Ok(())
}
