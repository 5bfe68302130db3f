//! The terminal rendering of a comparison: one table per metric (comfy-table),
//! coloured only when standard output is a terminal and `NO_COLOR` is unset.

use crate::compare::{Comparison, RatioMetric, Status, TotalMetric};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Color, ContentArrangement, Table};
use coopbench_cli::format::fmt_num;
use coopbench_text::shown;
use std::io::IsTerminal;

/// A fraction as a signed or plain percentage.
pub fn pct(x: f64) -> String {
    let p = 100.0 * x;
    if p.abs() < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// A signed percentage (growth).
pub fn signed_pct(x: f64) -> String {
    let s = pct(x);
    if x > 0.0 {
        format!("+{s}")
    } else {
        s
    }
}

/// A ratio value in its metric's unit.
pub fn ratio_value(m: &RatioMetric, v: f64) -> String {
    if m.percent {
        pct(v)
    } else {
        format!("{v:.2}")
    }
}

fn new_table(colour: bool, header: Vec<&str>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    if colour {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

fn note_cell(text: &str, suppressed: bool, noisy: bool, colour: bool) -> Cell {
    let c = Cell::new(text);
    if !colour {
        return c;
    }
    if suppressed {
        c.fg(Color::DarkGrey)
    } else if noisy {
        c.fg(Color::Yellow)
    } else {
        c.fg(Color::Green)
    }
}

fn totals_table(m: &TotalMetric, colour: bool) -> Table {
    let dims: Vec<String> = m.dims.iter().map(|d| shown(d).to_string()).collect();
    let mut header: Vec<&str> = dims.iter().map(String::as_str).collect();
    let with_growth = m.dims.iter().any(|d| d == "month");
    header.extend(["yours", "market (95% range)", "your share (range)"]);
    if with_growth {
        header.push("growth: yours / market");
    }
    header.push("note");
    let mut t = new_table(colour, header);
    for c in &m.cells {
        let mut row: Vec<Cell> = c.labels.iter().map(|l| Cell::new(shown(l))).collect();
        let mut yours = fmt_num(c.yours);
        if c.clipped {
            yours.push_str(" (clipped)");
        }
        row.push(Cell::new(yours).set_alignment(CellAlignment::Right));
        let (market, share) = match (&c.market, &c.share) {
            (None, _) => ("—".to_string(), "—".to_string()),
            (Some(mk), s) => (
                format!(
                    "{} ({} to {})",
                    fmt_num(mk.estimate),
                    fmt_num(mk.ci95_low),
                    fmt_num(mk.ci95_high)
                ),
                s.map_or("—".into(), |s| {
                    format!("{} ({} to {})", pct(s.value), pct(s.low), pct(s.high))
                }),
            ),
        };
        row.push(Cell::new(market).set_alignment(CellAlignment::Right));
        row.push(Cell::new(share).set_alignment(CellAlignment::Right));
        let growth = c.growth.as_ref().map_or(String::new(), |g| {
            let y = g.yours.map_or("—".into(), signed_pct);
            let mk = match g.market {
                Some(v) if !g.too_noisy => signed_pct(v),
                Some(v) => format!("{} (too noisy)", signed_pct(v)),
                None => "—".into(),
            };
            format!("{y} / {mk}")
        });
        if with_growth {
            row.push(Cell::new(growth).set_alignment(CellAlignment::Right));
        }
        let text = if c.text.is_empty() { "ok" } else { &c.text };
        row.push(note_cell(
            &shown(text).to_string(),
            c.status == Status::Suppressed,
            c.too_noisy,
            colour,
        ));
        t.add_row(row);
    }
    t
}

fn ratio_table(m: &RatioMetric, colour: bool) -> Table {
    let dims: Vec<String> = m.dims.iter().map(|d| shown(d).to_string()).collect();
    let mut header: Vec<&str> = if dims.is_empty() {
        vec!["cells"]
    } else {
        dims.iter().map(String::as_str).collect()
    };
    header.extend([
        "yours",
        "p10",
        "p25",
        "p50",
        "p75",
        "p90",
        "where you stand",
    ]);
    let mut t = new_table(colour, header);
    for g in &m.groups {
        let mut row: Vec<Cell> = if g.labels.is_empty() {
            vec![Cell::new("whole period")]
        } else {
            g.labels.iter().map(|l| Cell::new(shown(l))).collect()
        };
        row.push(
            Cell::new(g.yours.map_or("—".into(), |v| ratio_value(m, v)))
                .set_alignment(CellAlignment::Right),
        );
        for k in crate::compare::PERCENTILES {
            let v = g
                .percentiles
                .as_ref()
                .and_then(|p| p.get(k))
                .map_or("—".into(), |v| ratio_value(m, *v));
            row.push(Cell::new(v).set_alignment(CellAlignment::Right));
        }
        row.push(note_cell(
            &shown(&g.text).to_string(),
            g.status == Status::Suppressed,
            g.too_noisy,
            colour,
        ));
        t.add_row(row);
    }
    t
}

/// Renders the comparison for the terminal.
pub fn render(c: &Comparison) -> String {
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let r = &c.round;
    let mut out = String::new();
    out.push_str(&format!("{}\n\n", c.private_note));
    out.push_str(&format!(
        "Round '{}' of pool '{}' ({} mode), period {} to {}, {} contributions merged. Amounts in {}.\n",
        shown(&r.id),
        shown(&r.pool_id),
        shown(&r.mode),
        shown(&r.period_start),
        shown(&r.period_end),
        r.contributions.map_or("?".into(), |n| n.to_string()),
        shown(&r.currency)
    ));
    out.push_str(
        "Every published figure carries privacy noise; its 95% range is shown. Each carries the benchmark's verdict: readable (range within +/-25%, a percentile's within 5 bins), rough (read the range, not the digits) or \"too noisy to read\", which is never shown as a number.\n",
    );
    for n in &c.notes {
        out.push_str(&format!("Note: {}\n", shown(n)));
    }
    for m in &c.totals {
        let unit = if m.description.contains(&m.unit) {
            String::new()
        } else {
            format!(" ({})", shown(&m.unit))
        };
        out.push_str(&format!(
            "\n{} — {}{unit}: your figure, the market total, your share of it\n",
            shown(&m.name),
            shown(&m.description)
        ));
        out.push_str(&format!("{}\n", totals_table(m, colour)));
    }
    for m in &c.ratios {
        out.push_str(&format!(
            "\n{} — {}: percentiles of the members' values, known to within one bin ({} wide)\n",
            shown(&m.name),
            shown(&m.description),
            ratio_value(m, m.bins.width)
        ));
        out.push_str(&format!("{}\n", ratio_table(m, colour)));
    }
    out
}
