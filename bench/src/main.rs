//! `coopbench-bench`: measures coopbench against bare polars baselines in one
//! run, on one machine, and prints each ratio with its target and PASS/FAIL.
//!
//! Every measured command runs as a child process, several times; the table
//! shows min and median wall time and the child's peak RSS (from `wait4`).
//! `--smoke` runs tiny inputs once so the benchmark cannot rot; it asserts
//! nothing about time.

mod baseline;
mod export;
mod measure;
mod merge;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use measure::{loglog_slope, measure, Measure};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(about = "Benchmark coopbench against bare polars baselines (ratios, not absolute times)")]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// Rows of the generated sales file.
    #[arg(long, default_value_t = 10_000_000)]
    rows: u64,
    /// Rows of the large sales file for the flat-memory check (default 4 × --rows).
    #[arg(long)]
    large_rows: Option<u64>,
    /// Runs per timed measurement (memory at --large-rows: one run).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Tiny inputs, one run, no verdicts: checks that the benchmark still works.
    #[arg(long)]
    smoke: bool,
    /// Directory holding the `coopbench` and `coopbench-aggregator` binaries to measure.
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Where generated inputs are cached.
    #[arg(long, default_value = "target/bench-data")]
    data: PathBuf,
}

#[derive(Subcommand)]
enum Cmd {
    /// Baseline of validate: a bare polars streaming scan that reads every column and counts rows.
    Scan { file: PathBuf },
    /// Baseline of export: a bare polars streaming group-by, Σ net_amount by month and category.
    Groupby { file: PathBuf },
}

/// Contribution counts of the merge measurement.
const MERGE_COUNTS: [usize; 3] = [1_000, 3_000, 10_000];
const SMOKE_MERGE_COUNTS: [usize; 3] = [20, 40, 60];

fn verdict(smoke: bool, ok: bool) -> &'static str {
    match (smoke, ok) {
        (true, _) => "smoke",
        (false, true) => "PASS",
        (false, false) => "FAIL",
    }
}

/// 10000000 → "10M", 20000 → "20k", 1234 → "1234" (whole millions and thousands only).
fn count(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

/// 10000 → "10,000".
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The big sales file of `rows` rows (ten years from 2016-01), generated once.
fn sales_file(data: &Path, rows: u64) -> Result<PathBuf> {
    let file = data.join(format!("sales-{rows}.csv"));
    if !file.exists() {
        eprintln!("generating {} rows into {} ...", rows, file.display());
        let start = chrono::NaiveDate::from_ymd_opt(2016, 1, 1).expect("date");
        coopbench_datagen::write_big_sales(rows, 1, start, &file)?;
    }
    Ok(file)
}

/// Peak RSS in MiB, or "-" for what was timed in-process.
fn mib(m: &Measure) -> String {
    if m.rss_kib > 0 {
        format!("{:.0}", m.mib())
    } else {
        "-".into()
    }
}

fn binary(dir: &Path, name: &str) -> Result<PathBuf> {
    let p = dir.join(name);
    if !p.exists() {
        bail!(
            "{} not found: build it first (bench/run.sh does)",
            p.display()
        );
    }
    Ok(p)
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not UTF-8", p.display()))
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match &cli.cmd {
        Some(Cmd::Scan { file }) => return baseline::scan(file),
        Some(Cmd::Groupby { file }) => return baseline::groupby(file),
        None => {}
    }
    let (rows, large_rows, runs, merge_counts) = if cli.smoke {
        (20_000, 80_000, 1, SMOKE_MERGE_COUNTS)
    } else {
        (
            cli.rows,
            cli.large_rows.unwrap_or(4 * cli.rows),
            cli.runs.max(1),
            MERGE_COUNTS,
        )
    };
    let me = std::env::current_exe()?;
    let bin_dir = cli
        .bin_dir
        .clone()
        .unwrap_or_else(|| me.parent().expect("exe dir").to_path_buf());
    let coopbench = binary(&bin_dir, "coopbench")?;
    let aggregator = binary(&bin_dir, "coopbench-aggregator")?;
    std::fs::create_dir_all(&cli.data)?;

    // Inputs, generated once per data directory (not timed).
    let file = sales_file(&cli.data, rows)?;
    let large = sales_file(&cli.data, large_rows)?;
    let member = export::setup(&coopbench, &cli.data)?;
    let sets = merge_counts
        .iter()
        .map(|&n| merge::prepare(&cli.data, n))
        .collect::<Result<Vec<_>>>()?;

    let size_mb = |f: &Path| std::fs::metadata(f).map(|m| m.len() as f64 / 1e6);
    let (me_s, cb, file_s, large_s) = (
        path_str(&me)?,
        path_str(&coopbench)?,
        path_str(&file)?,
        path_str(&large)?,
    );
    println!(
        "input: {file_s} ({} rows, {:.0} MB) and {large_s} ({} rows, {:.0} MB); {runs} run(s) each; {} cores",
        count(rows),
        size_mb(&file)?,
        count(large_rows),
        size_mb(&large)?,
        num_cores()
    );

    let (r, l) = (count(rows), count(large_rows));
    let mut table: Vec<(String, Measure)> = Vec::new();
    let mut step = |name: String, m: Result<Measure>| -> Result<usize> {
        let m = m.with_context(|| format!("measuring {name}"))?;
        eprintln!("  {name}: min {:.2} s, peak MiB {}", m.min(), mib(&m));
        table.push((name, m));
        Ok(table.len() - 1)
    };
    eprintln!("measuring ...");
    let scan = step(
        format!("baseline: polars scan + count, {r}"),
        measure(&[me_s, "scan", file_s], runs),
    )?;
    let validate = step(
        format!("coopbench validate, {r}"),
        measure(&[cb, "validate", "--kind", "sales", file_s], runs),
    )?;
    let groupby = step(
        format!("baseline: polars group-by, {r}"),
        measure(&[me_s, "groupby", file_s], runs),
    )?;
    let exp = step(
        format!("coopbench export 2025q4, {r}"),
        export::measure_export(&coopbench, &member, &file, runs),
    )?;
    let validate_l = step(
        format!("coopbench validate, {l} (1 run)"),
        measure(&[cb, "validate", "--kind", "sales", large_s], 1),
    )?;
    let exp_l = step(
        format!("coopbench export 2025q4, {l} (1 run)"),
        export::measure_export(&coopbench, &member, &large, 1),
    )?;
    let mut merges = Vec::new();
    for set in &sets {
        merges.push(step(
            format!(
                "coopbench-aggregator merge {} × {}",
                thousands(set.n),
                set.cells
            ),
            merge::measure_merge(&aggregator, set, runs),
        )?);
    }
    let last = sets.last().expect("merge sets");
    let fe = merge::front_end(last).context("timing read + parse + verify")?;
    let front = step(
        format!("  in-process read+parse+verify {}", thousands(last.n)),
        Ok(Measure::in_process(fe.total())),
    )?;

    // The table.
    println!();
    println!(
        "{:<48} {:>9} {:>9} {:>9}",
        "measurement", "min s", "median s", "peak MiB"
    );
    for (name, m) in &table {
        println!(
            "{name:<48} {:>9.2} {:>9.2} {:>9}",
            m.min(),
            m.median(),
            mib(m)
        );
    }

    // Ratios and targets.
    let t = |i: usize| &table[i].1;
    let line = |what: &str, value: String, target: &str, ok: bool| {
        println!(
            "{what:<40} {value:>9}   {target:<18} {}",
            verdict(cli.smoke, ok)
        );
    };
    let ratio = |what: &str, x: f64, target: f64| {
        line(
            what,
            format!("{x:.2}x"),
            &format!("target <= {target:.2}x"),
            x <= target,
        )
    };
    let rss = |what: &str, m: &Measure| {
        line(
            what,
            format!("{:.0} MiB", m.mib()),
            "target < 1024 MiB",
            m.mib() < 1024.0,
        )
    };
    println!();
    ratio(
        "validate / scan time",
        t(validate).min() / t(scan).min(),
        2.0,
    );
    ratio(
        "export / group-by time",
        t(exp).min() / t(groupby).min(),
        1.5,
    );
    rss(&format!("validate peak RSS, {r}"), t(validate));
    rss(&format!("validate peak RSS, {l}"), t(validate_l));
    ratio(
        &format!("validate peak RSS {l} / {r}"),
        t(validate_l).mib() / t(validate).mib(),
        1.2,
    );
    rss(&format!("export peak RSS, {r}"), t(exp));
    rss(&format!("export peak RSS, {l}"), t(exp_l));
    ratio(
        &format!("export peak RSS {l} / {r}"),
        t(exp_l).mib() / t(exp).mib(),
        1.2,
    );
    let points: Vec<(f64, f64)> = sets
        .iter()
        .zip(&merges)
        .map(|(s, &i)| (s.n as f64, t(i).min()))
        .collect();
    let k = loglog_slope(&points);
    let counts: Vec<String> = sets.iter().map(|s| thousands(s.n)).collect();
    line(
        &format!("merge time ~ N^k, N = {}", counts.join(" / ")),
        format!("k = {k:.2}"),
        "target <= 1.10",
        k <= 1.1,
    );
    let big = t(*merges.last().expect("merges"));
    line(
        &format!("merge {} contributions", thousands(last.n)),
        format!("{:.2} s", big.min()),
        "target < 10 s",
        big.min() < 10.0,
    );
    let whole = big.median();
    println!(
        "{:<40} {:>9}   of the merge of {} (median {whole:.2} s; no target):",
        "read + parse + verify share",
        format!("{:.0} %", 100.0 * t(front).min() / whole),
        thousands(last.n),
    );
    println!(
        "{:<40} {:>9}   read {:.2} s, envelope JSON {:.2} s, verify (base64, Ed25519, payload JSON, SHA-256) {:.2} s",
        "", "", fe.read, fe.envelope, fe.verify
    );
    println!(
        "{:<40} {:>9}   at {}; {:.0} MiB at {} (no target)",
        "merge peak RSS",
        format!("{:.0} MiB", t(merges[0]).mib()),
        thousands(sets[0].n),
        big.mib(),
        thousands(last.n)
    );
    Ok(())
}

fn num_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
