//! Problems and reports: the compiler-style lines, the summary, and JSON.

use coopbench_text::shown;
use serde::Serialize;
use std::fmt::Write as _;

/// One problem in one file, located as a spreadsheet shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// The file as the member named it.
    pub file: String,
    /// The spreadsheet row: the header is row 1, the first data row is row 2.
    /// For encoding problems, the line of the file.
    pub row: u64,
    /// The schema field (or header label); `None` for whole-row or whole-file problems.
    pub column: Option<String>,
    /// The rule broken: a Table Schema constraint (`minimum`, `enum`, …), `type`,
    /// a header rule (`missing-label`, …), a row rule (`extra-cell`, …) or a file rule.
    pub rule: String,
    /// What is wrong and, where we can tell, how to fix it.
    pub message: String,
}

impl Problem {
    /// A problem about the whole file or a line of it, with no column.
    pub(crate) fn file_level(file: &str, row: u64, rule: &str, message: String) -> Self {
        Self {
            file: file.to_string(),
            row,
            column: None,
            rule: rule.to_string(),
            message,
        }
    }

    /// The compiler-style line: `FILE:ROW:COLUMN: RULE: message` (or
    /// `FILE:ROW: RULE: message`), every part from a file (its name, a
    /// header label, a quoted cell) shown through the terminal sanitiser.
    pub fn line(&self) -> String {
        let (file, message) = (shown(&self.file), shown(&self.message));
        match &self.column {
            Some(c) => format!("{file}:{}:{}: {}: {message}", self.row, shown(c), self.rule),
            None => format!("{file}:{}: {}: {message}", self.row, self.rule),
        }
    }
}

/// How many problems one rule found in one column.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RuleCount {
    /// The rule.
    pub rule: String,
    /// The column, if the rule is about one.
    pub column: Option<String>,
    /// How many problems, including those past the display limit.
    pub count: u64,
}

/// The validation of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The file as the member named it.
    pub file: String,
    /// The schema it was checked against (e.g. `sales.v1`).
    pub schema: String,
    /// Data rows read (not counting the header); `None` if the file could not be scanned.
    pub rows: Option<u64>,
    /// True when the file has no problem.
    pub valid: bool,
    /// The problems shown (at most the display limit), in file order.
    pub problems: Vec<Problem>,
    /// All problems found, shown or not.
    pub problems_total: u64,
    /// Problems per rule and column, including those past the display limit.
    pub counts: Vec<RuleCount>,
}

impl FileReport {
    /// A report that holds one problem and could not go further.
    pub fn single(file: &str, schema: &str, problem: Problem) -> Self {
        let counts = vec![RuleCount {
            rule: problem.rule.clone(),
            column: problem.column.clone(),
            count: 1,
        }];
        Self {
            file: file.to_string(),
            schema: schema.to_string(),
            rows: None,
            valid: false,
            problems: vec![problem],
            problems_total: 1,
            counts,
        }
    }
}

/// The validation of several files.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// True when every file is valid.
    pub valid: bool,
    /// One report per file, in the order given.
    pub files: Vec<FileReport>,
}

impl Report {
    /// Collects file reports.
    pub fn new(files: Vec<FileReport>) -> Self {
        Self {
            valid: files.iter().all(|f| f.valid),
            files,
        }
    }

    /// The human report: one line per shown problem, then a summary per file.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in &self.files {
            for p in &f.problems {
                let _ = writeln!(out, "{}", p.line());
            }
        }
        for f in &self.files {
            let rows = f
                .rows
                .map(|r| format!("{r} row{}, ", if r == 1 { "" } else { "s" }))
                .unwrap_or_default();
            if f.valid {
                let _ = writeln!(out, "{}: OK ({rows}schema {})", shown(&f.file), f.schema);
                continue;
            }
            let hidden = f.problems_total - f.problems.len() as u64;
            let more = if hidden > 0 {
                format!(", {hidden} not shown (raise --max-errors to see them)")
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "{}: INVALID ({rows}schema {}): {} problem{}{more}",
                shown(&f.file),
                f.schema,
                f.problems_total,
                if f.problems_total == 1 { "" } else { "s" }
            );
            for c in &f.counts {
                let col = c.column.as_deref().unwrap_or("-");
                let _ = writeln!(out, "  {:>8}  {:<16} {}", c.count, c.rule, shown(col));
            }
        }
        out
    }
}
