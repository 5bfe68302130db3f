//! `coopbench-bench`: measures coopbench against bare polars baselines in one
//! run, on one machine, and prints each ratio with its target and PASS/FAIL.
//!
//! Every measured command runs as a child process, several times; the table
//! shows min and median wall time and the child's peak RSS (from `wait4`).
//! `--smoke` runs tiny inputs once so the benchmark cannot rot; it asserts
//! nothing about time.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Benchmark coopbench against bare polars baselines (ratios, not absolute times)")]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// Rows of the generated sales file.
    #[arg(long, default_value_t = 10_000_000)]
    rows: u64,
    /// Runs per measurement.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Tiny inputs, one run, no verdicts: checks that the benchmark still works.
    #[arg(long)]
    smoke: bool,
    /// Directory holding the `coopbench` binary to measure.
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Where generated inputs are cached.
    #[arg(long, default_value = "target/bench-data")]
    data: PathBuf,
}

#[derive(Subcommand)]
enum Cmd {
    /// Baseline: a bare polars streaming scan that reads every column and counts rows.
    Scan { file: PathBuf },
}

/// One measured command: wall times and the largest peak RSS over its runs.
struct Measure {
    times: Vec<f64>,
    rss_kib: i64,
}

impl Measure {
    fn min(&self) -> f64 {
        self.times.iter().cloned().fold(f64::INFINITY, f64::min)
    }
    fn median(&self) -> f64 {
        let mut t = self.times.clone();
        t.sort_by(|a, b| a.total_cmp(b));
        t[t.len() / 2]
    }
}

/// Runs a child to completion `runs` times; fails if it exits with another code than `ok_codes`.
fn measure(cmd: &[&str], runs: usize, ok_codes: &[i32]) -> Result<Measure> {
    let mut m = Measure {
        times: vec![],
        rss_kib: 0,
    };
    for _ in 0..runs {
        let start = Instant::now();
        let child = Command::new(cmd[0])
            .args(&cmd[1..])
            .stdout(std::process::Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", cmd[0]))?;
        let (code, rss) = wait_rusage(child.id() as i32)?;
        m.times.push(start.elapsed().as_secs_f64());
        m.rss_kib = m.rss_kib.max(rss);
        if !ok_codes.contains(&code) {
            bail!("{} exited with {code}", cmd.join(" "));
        }
    }
    Ok(m)
}

/// Waits for a child and returns its exit code and peak RSS in KiB.
fn wait_rusage(pid: i32) -> Result<(i32, i64)> {
    let mut status = 0;
    // SAFETY: rusage is plain old data, fully written by wait4 on success.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child; the pointers are valid for the call.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r < 0 {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((code, usage.ru_maxrss))
}

/// The baseline: polars reads every column of the file (types inferred as a
/// user would get them) in the streaming engine and counts rows.
fn bare_scan(file: &Path) -> Result<()> {
    let lf = LazyCsvReader::new(PlRefPath::try_from_path(file)?)
        .with_has_header(true)
        .finish()?;
    let out = lf
        .select([all().as_expr().count()])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    println!("{out}");
    Ok(())
}

fn verdict(smoke: bool, ok: bool) -> &'static str {
    match (smoke, ok) {
        (true, _) => "smoke",
        (false, true) => "PASS",
        (false, false) => "FAIL",
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Some(Cmd::Scan { file }) = &cli.cmd {
        return bare_scan(file);
    }
    let (rows, runs) = if cli.smoke {
        (20_000, 1)
    } else {
        (cli.rows, cli.runs)
    };
    let me = std::env::current_exe()?;
    let bin_dir = cli
        .bin_dir
        .clone()
        .unwrap_or_else(|| me.parent().expect("exe dir").to_path_buf());
    let coopbench = bin_dir.join("coopbench");
    if !coopbench.exists() {
        bail!(
            "{} not found: build it first (bench/run.sh does)",
            coopbench.display()
        );
    }
    std::fs::create_dir_all(&cli.data)?;
    let file = cli.data.join(format!("sales-{rows}.csv"));
    if !file.exists() {
        eprintln!("generating {} rows into {} ...", rows, file.display());
        let start = chrono::NaiveDate::from_ymd_opt(2016, 1, 1).expect("date");
        coopbench_datagen::write_big_sales(rows, 1, start, &file)?;
    }
    let size_mb = std::fs::metadata(&file)?.len() as f64 / 1e6;
    let file_s = file.to_str().context("path")?;
    let me_s = me.to_str().context("path")?;
    let cb = coopbench.to_str().context("path")?;
    println!(
        "input: {file_s} ({rows} rows, {size_mb:.0} MB); {runs} run(s) each; {} cores",
        num_cores()
    );

    let scan = measure(&[me_s, "scan", file_s], runs, &[0])?;
    let validate = measure(&[cb, "validate", "--kind", "sales", file_s], runs, &[0])?;
    let ratio = validate.min() / scan.min();
    let mib = |k: i64| k as f64 / 1024.0;
    println!();
    println!(
        "{:<34} {:>9} {:>9} {:>10}",
        "measurement", "min s", "median s", "peak MiB"
    );
    for (name, m) in [
        ("baseline: polars scan + count", &scan),
        ("coopbench validate", &validate),
    ] {
        println!(
            "{name:<34} {:>9.2} {:>9.2} {:>10.0}",
            m.min(),
            m.median(),
            mib(m.rss_kib)
        );
    }
    println!();
    println!(
        "validate / scan time   {ratio:>6.2}x   target <= 2.00x   {}",
        verdict(cli.smoke, ratio <= 2.0)
    );
    println!(
        "validate peak RSS      {:>6.0} MiB  target < 1024 MiB  {}",
        mib(validate.rss_kib),
        verdict(cli.smoke, mib(validate.rss_kib) < 1024.0)
    );
    Ok(())
}

fn num_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
