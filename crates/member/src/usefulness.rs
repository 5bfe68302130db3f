//! Inputs that would make a contribution useless, found before anything is
//! charged: `export` refuses on a [`Severity::Refuse`] finding and `plan`
//! prints every finding as a warning.
//!
//! What is checked, on the member's aggregated rows (counts only, never a
//! figure):
//! - a file the round reads has no row in the round's period (the file is for
//!   another period, or its dates were read in the wrong format): refused;
//! - a `sum`, `count` or `active` metric has no row in the period at all
//!   (after the metric's filter): refused unless the member confirms with
//!   `--allow-empty` that the true figure is zero;
//! - a ratio has no value in any cell (no positive denominator): a warning,
//!   since a firm too new for a growth figure still contributes honestly to
//!   the "no value" count;
//! - months of the period with no row in a file: a warning (the totals would
//!   be low).

use crate::cells::{self, Aggregates, RawFigures};
use coopbench_protocol::round::{Kind, SourceKind};
use coopbench_protocol::Round;
use coopbench_text::shown;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// `export` refuses (before the charge); `plan` warns.
    Refuse,
    /// `export` refuses unless `--allow-empty` says the true figure is zero.
    RefuseUnlessAllowed,
    /// Both commands only warn.
    Warn,
}

/// One reason the contribution would be useless or weak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong and how to fix it (file names are already escaped).
    pub message: String,
}

impl Finding {
    /// Whether `export` stops on it, given `--allow-empty`.
    pub fn blocks(&self, allow_empty: bool) -> bool {
        match self.severity {
            Severity::Refuse => true,
            Severity::RefuseUnlessAllowed => !allow_empty,
            Severity::Warn => false,
        }
    }
}

/// What is wrong with the member's aggregated files for `round`; `files`
/// names the member's file of each kind (as read, escaped here).
pub fn check(round: &Round, aggs: &Aggregates, files: &[(SourceKind, String)]) -> Vec<Finding> {
    let mut out = Vec::new();
    let period = round.months();
    let mut empty_files = Vec::new();
    for (kind, file) in files {
        let Some(agg) = aggs.get(kind) else { continue };
        let mut missing = Vec::new();
        let mut rows_in_period = 0u64;
        for month in &period {
            let rows: u64 = agg
                .groups
                .iter()
                .filter(|((m, _), _)| m == month)
                .map(|(_, (_, n))| *n)
                .sum();
            rows_in_period += rows;
            if rows == 0 {
                missing.push(month.clone());
            }
        }
        if rows_in_period == 0 {
            empty_files.push(*kind);
            out.push(Finding {
                severity: Severity::Refuse,
                message: format!(
                    "{}: no row is dated inside the round's period {} to {} ({} rows of the months the round reads lie outside it): \
                     a contribution from it would add nothing. Export the round's period from your till or accounting program, \
                     or check how the file writes dates (date_format in a --map file)",
                    shown(file), round.period.start, round.period.end, agg.rows_outside
                ),
            });
        } else if !missing.is_empty() {
            out.push(Finding {
                severity: Severity::Warn,
                message: format!(
                    "{}: no row in {} of the period's months ({}): the round's totals for you would be too low if you traded then",
                    shown(file),
                    missing.len(),
                    missing.join(", ")
                ),
            });
        }
    }
    for m in &round.metrics {
        let sources: Vec<SourceKind> = match m.kind {
            Kind::Ratio => m
                .numerator
                .iter()
                .chain(&m.denominator)
                .map(|t| t.source)
                .collect(),
            _ => m.source.into_iter().collect(),
        };
        if sources.iter().any(|s| empty_files.contains(s)) {
            continue; // already said, for the whole file
        }
        if m.kind == Kind::Ratio {
            let no_value = matches!(
                cells::raw_figures(round, m, aggs),
                Ok(RawFigures::Ratios(r)) if r.iter().all(Option::is_none)
            );
            if no_value {
                out.push(Finding {
                    severity: Severity::Warn,
                    message: format!(
                        "metric '{}': your files give it no value (its denominator is zero or missing in every cell); \
                         you will be counted among the members without a value",
                        m.name
                    ),
                });
            }
            continue;
        }
        if cells::rows_behind(round, m, aggs) == 0 {
            let filter: Vec<String> = m
                .filter
                .iter()
                .map(|f| format!("{} in [{}]", f.field, f.values.join(", ")))
                .collect();
            out.push(Finding {
                severity: Severity::RefuseUnlessAllowed,
                message: format!(
                    "metric '{}': no row of your {} file in the period{}: the round would receive zero from you. \
                     If your true figure is zero, pass --allow-empty; otherwise check the file's values (a [values] \
                     mapping may be missing)",
                    m.name,
                    sources.first().map(|s| s.as_str()).unwrap_or("input"),
                    if filter.is_empty() {
                        String::new()
                    } else {
                        format!(" matches {}", filter.join(" and "))
                    }
                ),
            });
        }
    }
    out
}
