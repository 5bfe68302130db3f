//! Helpers shared by the `coopbench validate` integration tests: a scratch
//! directory to write a member's files into, and a way to run the binary there
//! exactly as a member would (bare file names, current directory = the scratch dir).

#![allow(dead_code)]

pub mod association;
pub mod fixture;
pub mod round;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The header of the published sales schema, in schema order.
pub const SALES_HEADER: &str =
    "date,category,channel,net_amount,units,transactions,currency,receipt_id";

/// The header of the published costs schema, in schema order.
pub const COSTS_HEADER: &str = "date,cost_type,amount,currency,supplier,invoice_id";

/// A valid sales row with the given receipt id.
pub fn sales_row(receipt: &str) -> String {
    format!("2025-01-05,bread,store,12.50,3,1,EUR,{receipt}")
}

/// A sales file: the header, then `rows`, each line ended with `\n`.
pub fn sales_csv(rows: &[&str]) -> String {
    let mut s = String::from(SALES_HEADER);
    s.push('\n');
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

/// A scratch directory that holds one member's files.
pub struct Dir {
    dir: tempfile::TempDir,
}

impl Default for Dir {
    fn default() -> Self {
        Self::new()
    }
}

impl Dir {
    /// A new empty scratch directory.
    pub fn new() -> Self {
        Self {
            dir: tempfile::TempDir::new().expect("create a temp dir"),
        }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` (text or bytes) to `name` inside the directory.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    /// Runs `coopbench validate ARGS...` in the directory.
    pub fn validate(&self, args: &[&str]) -> Run {
        let mut all = vec!["validate"];
        all.extend_from_slice(args);
        self.coopbench(&all)
    }

    /// Runs `coopbench ARGS...` in the directory.
    pub fn coopbench(&self, args: &[&str]) -> Run {
        self.coopbench_env(args, &[])
    }

    /// Runs `coopbench ARGS...` in the directory with extra environment
    /// variables (today's date is pinned to 2026-11-23 unless given).
    pub fn coopbench_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_coopbench"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("RUST_BACKTRACE")
            .env_remove("COOPBENCH_STATE_DIR")
            .env_remove("COOPBENCH_CRASH_AT")
            .env("COOPBENCH_TODAY", "2026-11-23");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run the coopbench binary");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    /// The exit code (-1 if killed by a signal).
    pub code: i32,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
    /// The arguments it was run with (for failure messages).
    pub args: Vec<String>,
}

impl Run {
    /// Asserts the exit code, showing the whole run when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "coopbench {:?} exited {} (expected {code})\n--- stdout\n{}--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    /// The problem lines for `file`: `FILE:ROW:...` (the summary lines,
    /// `FILE: OK` / `FILE: INVALID`, are not problem lines).
    pub fn problems(&self, file: &str) -> Vec<String> {
        let prefix = format!("{file}:");
        self.stdout
            .lines()
            .filter(|l| {
                l.strip_prefix(&prefix)
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
            })
            .map(String::from)
            .collect()
    }

    /// The problem lines for `file` whose rule is `rule`.
    pub fn problems_with_rule(&self, file: &str, rule: &str) -> Vec<String> {
        self.problems(file)
            .into_iter()
            .filter(|l| rule_of(l) == Some(rule))
            .collect()
    }

    /// The one summary line of `file` (`FILE: OK (...)` or `FILE: INVALID (...)...`).
    pub fn summary(&self, file: &str) -> String {
        let prefix = format!("{file}: ");
        let found: Vec<&str> = self
            .stdout
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one summary line for {file} in:\n{}",
            self.stdout
        );
        found[0].to_string()
    }

    /// The per-rule counts printed under the summary of `file`:
    /// (count, rule, column) where column is empty for row and file rules
    /// (the text prints a placeholder there, such as `-`; any single token
    /// that is not a schema field name is taken as that placeholder).
    pub fn counts(&self, file: &str) -> Vec<(u64, String, String)> {
        let prefix = format!("{file}: ");
        let mut lines = self.stdout.lines().skip_while(|l| !l.starts_with(&prefix));
        lines.next();
        lines
            .take_while(|l| l.starts_with("  "))
            .map(|l| {
                let mut parts = l.split_whitespace();
                let n = parts.next().expect("count").parse().expect("numeric count");
                let rule = parts.next().expect("rule").to_string();
                let column = parts.collect::<Vec<_>>().join(" ");
                let column = if is_placeholder(&column) {
                    String::new()
                } else {
                    column
                };
                (n, rule, column)
            })
            .collect()
    }

    /// The count printed for (rule, column), if any; column "" for row and file rules.
    pub fn count_of(&self, file: &str, rule: &str, column: &str) -> Option<u64> {
        self.counts(file)
            .into_iter()
            .find(|(_, r, c)| r == rule && c == column)
            .map(|(n, _, _)| n)
    }

    /// stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Whether a column cell of the summary counts stands for "no column".
fn is_placeholder(column: &str) -> bool {
    matches!(column, "" | "-" | "(row)" | "(file)" | "(none)" | "—")
}

/// The rule of a problem line `FILE:ROW:COLUMN: RULE: message` or `FILE:ROW: RULE: message`.
pub fn rule_of(line: &str) -> Option<&str> {
    // The rule is the first ": "-separated part after the location, which
    // itself contains no ": " (file names in these tests have no ": ").
    let mut parts = line.splitn(3, ": ");
    parts.next()?;
    parts.next()
}

/// The row of a problem line.
pub fn row_of(line: &str) -> Option<u64> {
    line.split(':').nth(1)?.parse().ok()
}

/// The `coopbench-aggregator` binary this test build was made with.
pub fn aggregator_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_coopbench-aggregator"))
}
