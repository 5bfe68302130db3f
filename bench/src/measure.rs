//! Wall time and peak RSS of child processes, and the small statistics the
//! report needs (min, median, a log-log slope).

use anyhow::{bail, Context, Result};
use std::ffi::OsStr;
use std::process::{Command, Stdio};
use std::time::Instant;

/// "Today" for every child: the example round (Q4 2025, open 2026-04-01 to
/// 2026-12-31) can then be answered in any year, as in the quick start.
pub const TODAY: &str = "2026-11-23";

/// One measured command: its wall times and the largest peak RSS over its runs.
pub struct Measure {
    /// Seconds per run.
    pub times: Vec<f64>,
    /// Largest peak resident set over the runs, KiB.
    pub rss_kib: i64,
}

impl Measure {
    /// A measurement of something timed in-process (no RSS).
    pub fn in_process(secs: f64) -> Self {
        Self {
            times: vec![secs],
            rss_kib: 0,
        }
    }
    /// Fastest run, seconds.
    pub fn min(&self) -> f64 {
        self.times.iter().cloned().fold(f64::INFINITY, f64::min)
    }
    /// Median run, seconds.
    pub fn median(&self) -> f64 {
        let mut t = self.times.clone();
        t.sort_by(|a, b| a.total_cmp(b));
        t[t.len() / 2]
    }
    /// Peak RSS, MiB.
    pub fn mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }
}

/// A child command for `argv`: stdout discarded, stderr shown, "today" pinned.
pub fn command<S: AsRef<OsStr>>(argv: &[S]) -> Command {
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..])
        .stdout(Stdio::null())
        .env("COOPBENCH_TODAY", TODAY);
    c
}

/// Runs a setup step (not measured) and fails with its output unless it exits 0.
pub fn run_ok(mut cmd: Command) -> Result<()> {
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("starting {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Runs a child `runs` times. Before each run `prepare` (not timed) resets
/// what the run needs and returns the command; the clock runs from spawn to
/// the child's exit; the child must exit 0; then `check` (not timed) looks at
/// what it did.
pub fn measure_with(
    runs: usize,
    mut prepare: impl FnMut() -> Result<Command>,
    mut check: impl FnMut() -> Result<()>,
) -> Result<Measure> {
    let mut m = Measure {
        times: vec![],
        rss_kib: 0,
    };
    for _ in 0..runs {
        let mut cmd = prepare()?;
        let start = Instant::now();
        let child = cmd.spawn().with_context(|| format!("starting {cmd:?}"))?;
        let (code, rss) = wait_rusage(child.id() as i32)?;
        m.times.push(start.elapsed().as_secs_f64());
        m.rss_kib = m.rss_kib.max(rss);
        if code != 0 {
            bail!("{cmd:?} exited with {code}");
        }
        check()?;
    }
    Ok(m)
}

/// [`measure_with`] for a command that needs no reset between runs.
pub fn measure(argv: &[&str], runs: usize) -> Result<Measure> {
    measure_with(runs, || Ok(command(argv)), || Ok(()))
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

/// Least-squares slope of ln(y) against ln(x): the exponent k of y ∝ x^k.
pub fn loglog_slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let xs: Vec<f64> = points.iter().map(|p| p.0.ln()).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.1.ln()).collect();
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    sxy / sxx
}

#[cfg(test)]
mod tests {
    #[test]
    fn slope_of_a_power_law() {
        let pts: Vec<(f64, f64)> = [1e3, 3e3, 1e4].iter().map(|&x| (x, 2e-4 * x)).collect();
        assert!((super::loglog_slope(&pts) - 1.0).abs() < 1e-12);
    }
}
