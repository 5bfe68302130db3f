//! The association's benchmark report for all members (`report --html`):
//! one self-contained HTML file (inline CSS and inline SVG charts drawn by
//! `coopbench-charts`; no script, no font, no reference to anything outside
//! the file) with the round's purpose, the privacy guarantee in plain words,
//! and per published table a chart and the table of its figures, their 95 %
//! ranges and verdicts, and what was not published and why.
//!
//! It is rendered from [`readback`](crate::readback) alone, so it holds
//! nothing the manifest and the Parquet files do not: a figure too noisy to
//! read is shown by its verdict only, a suppressed cell by why. Every string
//! from those (unsigned) files is HTML-escaped.

use crate::readback::{self, Figure, Published, Round};
use coopbench_charts::{BandRow, Point, RangeRow, MARKET};
use coopbench_cli::format::{fmt_num, fmt_rho};
use coopbench_privacy::accuracy::Verdict;
use coopbench_text::html as esc;
use std::fmt::Write as _;

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1180px; padding: 16px 24px 48px; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 32px 0 8px; border-bottom: 2px solid #1f5ea0; padding-bottom: 4px; }
.purpose { font-size: 16px; }
.facts, .meta { color: #444; }
.privacy { background: #eef4fb; border: 1px solid #b9d0ea; border-radius: 6px; padding: 8px 14px; }
figure { background: #fff; border: 1px solid #ddd; border-radius: 6px; margin: 12px 0; padding: 10px 12px; }
figure svg { width: 100%; max-width: 760px; height: auto; display: block; }
figcaption { font-size: 14px; margin: 6px 0 8px; color: #333; }
table { border-collapse: collapse; font-size: 13px; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 6px; text-align: right; white-space: nowrap; }
th.dim, td.dim { text-align: left; }
th { background: #f0f3f7; }
td .range { color: #666; font-size: 12px; }
.rough { color: #7a5a00; }
.noisy { color: #a8460a; }
tr.suppressed td { color: #888; }
td.why { text-align: left; white-space: normal; }
.key { font-size: 13px; color: #444; }
"#;

/// How many cells and figures a table holds by verdict, in words.
fn table_summary(t: &Published, min_members: u32) -> String {
    let c = readback::verdict_counts(&t.rows);
    let suppressed = t.rows.iter().filter(|r| r.suppressed).count();
    format!(
        "{} row{}; {suppressed} not published (fewer than {min_members} members). Figures: {} readable, {} rough, {} too noisy to read, {} suppressed.",
        t.rows.len(),
        if t.rows.len() == 1 { "" } else { "s" },
        c[0],
        c[1],
        c[2],
        c[3]
    )
}

/// A row's labels for people.
fn row_label(labels: &[String]) -> String {
    if labels.is_empty() {
        "whole period".into()
    } else {
        labels.join(" · ")
    }
}

/// Why a figure is not shown, in words.
fn why(f: &Figure) -> &'static str {
    match f.verdict {
        Verdict::Suppressed => "not published",
        _ => "too noisy",
    }
}

/// One figure's table cell: the value (`data-value` holds it exactly as
/// published) and its 95 % range, marked rough; or only the verdict.
fn figure_cell(out: &mut String, f: Option<&Figure>) {
    let Some(f) = f else {
        out.push_str("<td>—</td>");
        return;
    };
    match f.shown() {
        Some(v) => {
            let range = f
                .shown_range()
                .map(|(l, h)| {
                    format!(
                        "<br><span class=\"range\">{} to {}</span>",
                        fmt_num(l),
                        fmt_num(h)
                    )
                })
                .unwrap_or_default();
            let (class, mark) = if f.verdict == Verdict::Rough {
                (" class=\"rough\"", "~")
            } else {
                ("", "")
            };
            let _ = write!(
                out,
                "<td{class} data-value=\"{v}\" data-verdict=\"{}\">{mark}{}{}{range}</td>",
                f.verdict.as_str(),
                fmt_num(v),
                if f.verdict == Verdict::Rough {
                    " (rough)"
                } else {
                    ""
                }
            );
        }
        None => {
            let _ = write!(
                out,
                "<td class=\"noisy\" data-verdict=\"{}\">{}</td>",
                f.verdict.as_str(),
                f.verdict.as_str()
            );
        }
    }
}

/// The table of a published table's figures.
fn figures_table(out: &mut String, t: &Published, min_members: u32) {
    out.push_str("<table class=\"figures\"><thead><tr>");
    for d in &t.table.dims {
        let _ = write!(out, "<th class=\"dim\">{}</th>", esc(d));
    }
    if t.table.dims.is_empty() {
        out.push_str("<th class=\"dim\">cells</th>");
    }
    for c in &t.columns {
        let _ = write!(out, "<th>{} (95% range)</th>", esc(c.header));
    }
    out.push_str("</tr></thead><tbody>");
    for r in &t.rows {
        let _ = write!(
            out,
            "<tr{}>",
            if r.suppressed {
                " class=\"suppressed\""
            } else {
                ""
            }
        );
        for l in &r.labels {
            let _ = write!(out, "<td class=\"dim\">{}</td>", esc(l));
        }
        if r.labels.is_empty() {
            out.push_str("<td class=\"dim\">whole period</td>");
        }
        if r.suppressed {
            let _ = write!(
                out,
                "<td class=\"why\" colspan=\"{}\">not published: fewer than {min_members} members (every figure of this cell is withheld)</td>",
                t.columns.len()
            );
        } else {
            for f in &r.figures {
                figure_cell(out, f.as_ref());
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

/// The chart of a published table: a ratio's percentile bands per group, a
/// total's estimates with their 95 % ranges per cell. A figure that cannot
/// be read gets its verdict in words where it would be drawn.
fn chart(t: &Published, unit: &str) -> Result<String, String> {
    if t.fact.kind == "ratio" {
        let rows: Vec<BandRow> = t
            .rows
            .iter()
            .map(|r| {
                let percentiles: [Option<f64>; 5] =
                    std::array::from_fn(|k| r.figures[k].and_then(|f| f.shown()));
                let missing = percentiles.iter().filter(|p| p.is_none()).count();
                let note = match (r.suppressed, missing) {
                    (true, _) => Some("not published".to_string()),
                    (_, 0) => None,
                    (_, 5) => Some("too noisy to read".to_string()),
                    _ => Some("some percentiles too noisy to read".to_string()),
                };
                BandRow {
                    label: row_label(&r.labels),
                    percentiles,
                    note,
                    marker: None,
                }
            })
            .collect();
        let meta = |k: &str| t.table.meta_f64(k);
        let (lo, hi) = match (meta("bins_lo"), meta("bins_hi")) {
            (Some(lo), Some(hi)) if hi > lo => (lo, hi),
            _ => (0.0, 1.0),
        };
        return coopbench_charts::percentile_bands(
            &rows,
            (lo, hi),
            &|v| fmt_num(v),
            &format!("value ({unit})"),
            (MARKET, MARKET),
        );
    }
    let rows: Vec<RangeRow> = t
        .rows
        .iter()
        .map(|r| {
            let f = r.figures[0];
            RangeRow {
                label: row_label(&r.labels),
                point: f.and_then(|f| {
                    let (low, high) = f.shown_range()?;
                    Some(Point {
                        value: f.shown()?,
                        low,
                        high,
                    })
                }),
                note: if r.suppressed {
                    "not published".into()
                } else {
                    f.map_or("no figure", |f| why(&f)).into()
                },
            }
        })
        .collect();
    coopbench_charts::ranges(
        &rows,
        &|v| {
            if v.abs() < 1e-9 {
                "0".into()
            } else {
                fmt_num(v)
            }
        },
        &format!("estimate with its 95% range ({unit})"),
        MARKET,
    )
}

/// The privacy guarantee in plain words, from the manifest's facts.
fn privacy_words(round: &Round) -> String {
    let m = &round.manifest;
    let r = &m.round;
    let p = &m.privacy;
    let how = match &p.two_server {
        Some(t) => format!(
            "In this round each member added a share of the noise on its own machine and split its noised figures into two \
             random-looking shares, one for the association and one sealed to an independent helper ({}); only the sums over all \
             members were ever put together, so neither the association nor the helper saw any member's figures, as long as the two \
             do not work together.",
            esc(&t.helper_name)
        ),
        None => "In this round each member added random noise to its own figures on its own machine before sending them: \
                 the association never saw a member's true figures."
            .to_string(),
    };
    format!(
        "<p>No member's own figures can be read from this report. {how} Every number here is a sum over many members with that \
         noise in it, which is why each one comes with a 95% range, and a cell with fewer than {} members (by the noisy count) \
         is not published at all.</p><p>How much any one member's figures can change what is published is bounded: \
         rho = {} (zero-concentrated differential privacy) per member for the whole round, that is epsilon = {:.3} at delta = {:e}. \
         What is not hidden: which members took part and how many.</p>\
         <details><summary>The full statement from the round's manifest</summary><p>{}</p></details>",
        r.min_members,
        fmt_rho(p.rho),
        p.epsilon,
        p.delta,
        esc(&p.statement)
    )
}

/// Renders the report of `round`.
pub fn render(round: &Round) -> Result<String, String> {
    let m = &round.manifest;
    let r = &m.round;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Benchmarks of pool {}: round {}</title><style>{STYLE}</style></head><body>",
        esc(&r.pool_id),
        esc(&r.id)
    );
    let c = &m.contributions;
    let _ = write!(
        out,
        "<header><h1>Benchmarks of pool {}: round {}</h1>\
         <p class=\"purpose\"><b>Purpose of the round:</b> {}</p>\
         <p class=\"facts\">Period {} to {} · {} mode · {} contributions used of {} files · merged {} · amounts in {}.</p></header>",
        esc(&r.pool_id),
        esc(&r.id),
        esc(&r.purpose),
        esc(&r.period_start),
        esc(&r.period_end),
        esc(&r.mode),
        c.accepted,
        c.files,
        esc(m.merged_at.get(..10).unwrap_or(&m.merged_at)),
        esc(&r.currency)
    );
    let _ = write!(
        out,
        "<section class=\"privacy\"><h2>Your privacy</h2>{}</section>",
        privacy_words(round)
    );
    out.push_str(
        "<p class=\"key\">How to read the figures: each comes with its 95% range (the true figure lies in it 19 times out of 20). \
         <b>Readable</b>: the range is within &#177;25% of a total, count or mean, or a percentile's within 5 bins. \
         <span class=\"rough\"><b>~rough</b></span>: twice as loose; read the range, not the digits. \
         <span class=\"noisy\"><b>too noisy</b></span>: the figure is mostly noise and is not shown. \
         <b>Not published</b>: too few members in the cell; nothing is shown, never a zero.</p>",
    );
    let all = readback::verdict_counts(round.tables.iter().flat_map(|t| &t.rows));
    let _ = write!(
        out,
        "<p class=\"meta\">All tables: {} figures readable, {} rough, {} too noisy to read, {} not published.</p>",
        all[0], all[1], all[2], all[3]
    );
    for t in &round.tables {
        let unit = Some(t.table.column(t.columns[0].column).unit)
            .filter(|u| !u.is_empty())
            .or_else(|| t.table.metadata.get("unit").cloned())
            .unwrap_or_else(|| t.fact.kind.clone());
        let svg = chart(t, &unit)?;
        let _ = write!(
            out,
            "<section class=\"metric\" id=\"metric-{}\"><h2>{}: {}</h2><p class=\"meta\">{} table, in {}. {}</p>",
            esc(&t.fact.name),
            esc(&t.fact.name),
            esc(&t.fact.description),
            esc(&t.fact.kind),
            esc(&unit),
            esc(&table_summary(t, r.min_members))
        );
        if t.fact.kind != "ratio" {
            let _ = write!(
                out,
                "<p class=\"meta\">Members per cell: {}</p>",
                esc(&t.fact.members_noisy)
            );
        }
        let caption = if t.fact.kind == "ratio" {
            "Light band: p10 to p90 of the members; dark band: p25 to p75; line: the median. Percentiles that cannot be read are not drawn."
        } else {
            "Each dot is the published estimate and its line the 95% range; a cell that cannot be read says why instead."
        };
        let _ = write!(
            out,
            "<figure class=\"chart\">{svg}<figcaption>{caption}</figcaption></figure>"
        );
        figures_table(&mut out, t, r.min_members);
        out.push_str("</section>");
    }
    out.push_str("</body></html>\n");
    Ok(out)
}
