//! The HTML report of `compare`: one self-contained file (inline CSS, inline
//! SVG charts, no script, no font or other resource from anywhere). Every
//! chart is a `<figure>` with its caption and the table of its numbers.

use crate::compare::charts;
use crate::compare::text::{pct, ratio_value, signed_pct};
use crate::compare::{Comparison, RatioMetric, Status, TotalCell, TotalMetric, PERCENTILES};
use coopbench_cli::format::fmt_num;
use std::fmt::Write as _;

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1180px; padding: 16px 24px 48px; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 32px 0 8px; border-bottom: 2px solid #1f5ea0; padding-bottom: 4px; }
.private { background: #fff4e5; border: 2px solid #d66014; border-radius: 6px; padding: 10px 14px; font-weight: 600; }
.facts { color: #444; }
.notes li { margin: 2px 0; }
.grid { display: block; }
figure { background: #fff; border: 1px solid #ddd; border-radius: 6px; margin: 12px 0; padding: 10px 12px; }
figure svg { width: 100%; max-width: 760px; height: auto; display: block; }
.pair { display: flex; flex-wrap: wrap; gap: 8px; }
.pair .series { flex: 1 1 360px; }
.pair svg { max-width: 560px; }
.nochart { color: #a8460a; font-size: 14px; }
figcaption { font-size: 14px; margin: 6px 0 8px; color: #333; }
figcaption b { color: #000; }
table { border-collapse: collapse; font-size: 13px; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 6px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f3f7; }
th.note { text-align: left; }
.summary li { margin: 3px 0; }
td.note { text-align: left; white-space: normal; }
.suppressed td { color: #888; }
.noisy { color: #a8460a; }
.ok { color: #1f7a3a; }
.key { font-size: 13px; color: #444; }
.swatch { display: inline-block; width: 14px; height: 10px; vertical-align: middle; margin: 0 4px 0 10px; }
"#;

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    coopbench_text::html(s)
}

fn note_class(suppressed: bool, noisy: bool) -> &'static str {
    if suppressed {
        ""
    } else if noisy {
        "noisy"
    } else {
        "ok"
    }
}

fn ratio_figure(out: &mut String, m: &RatioMetric) -> Result<(), String> {
    match charts::ratio_band(m)? {
        Some(svg) => {
            let _ = write!(
                out,
                "<figure class=\"chart\" id=\"ratio-{}\">{svg}<figcaption><b>{}</b>: {}. \
                 Light band: p10 to p90 of the members; dark band: p25 to p75; line: the median; \
                 <span style=\"color:#d66014\">&#9670;</span> your value. The percentiles are interpolated in bins \
                 {} wide: nothing finer than one bin can be read from them.</figcaption>",
                esc(&m.name),
                esc(&m.name),
                esc(&m.description),
                esc(&ratio_value(m, m.bins.width))
            );
        }
        None => {
            let why: Vec<String> = m
                .groups
                .iter()
                .map(|g| g.text.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let _ = write!(
                out,
                "<figure class=\"table\" id=\"ratio-{}\"><figcaption><b>{}</b>: {}.</figcaption>\
                 <p class=\"nochart\">No chart: no percentile of the members can be read ({}).</p>",
                esc(&m.name),
                esc(&m.name),
                esc(&m.description),
                esc(&why.join("; "))
            );
        }
    }
    out.push_str("<table><thead><tr><th>cells</th><th>yours</th><th>your bin</th>");
    for k in PERCENTILES {
        let _ = write!(out, "<th>{k}</th>");
    }
    out.push_str(
        "<th>members (95% range)</th><th class=\"note\">where you stand</th></tr></thead><tbody>",
    );
    for g in &m.groups {
        let sup = g.status == Status::Suppressed;
        let _ = write!(
            out,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td>",
            if sup { " class=\"suppressed\"" } else { "" },
            esc(&if g.labels.is_empty() {
                "whole period".to_string()
            } else {
                g.labels.join(" · ")
            }),
            esc(&g.yours.map_or("—".into(), |v| ratio_value(m, v))),
            esc(&g.your_bin.map_or("—".into(), |[a, b]| {
                format!("{} to {}", ratio_value(m, a), ratio_value(m, b))
            }))
        );
        for k in PERCENTILES {
            let v = g.percentiles.as_ref().and_then(|p| p.get(k));
            let _ = write!(
                out,
                "<td>{}</td>",
                esc(&v.map_or("—".into(), |v| ratio_value(m, *v)))
            );
        }
        let members = match (g.members_noisy, g.members_ci95) {
            (Some(n), Some([lo, hi])) => {
                format!("{} ({} to {})", fmt_num(n), fmt_num(lo), fmt_num(hi))
            }
            (Some(n), None) => fmt_num(n),
            _ => "—".into(),
        };
        let _ = write!(
            out,
            "<td>{}</td><td class=\"note {}\">{}</td></tr>",
            esc(&members),
            note_class(sup, g.too_noisy),
            esc(&g.text)
        );
    }
    out.push_str("</tbody></table></figure>");
    Ok(())
}

/// The table rows of total cells (dimension columns first).
fn totals_rows(out: &mut String, m: &TotalMetric, cells: &[&TotalCell], dims: &[usize]) {
    out.push_str("<table><thead><tr>");
    for d in dims {
        let _ = write!(out, "<th>{}</th>", esc(&m.dims[*d]));
    }
    // Growth only where there are months to grow between.
    let growth = m.dims.iter().any(|d| d == "month");
    let _ = write!(
        out,
        "<th>yours ({u})</th><th>market ({u})</th><th>95% range</th><th>your share (range)</th>{g}\
         <th class=\"note\">note</th></tr></thead><tbody>",
        u = esc(&m.unit),
        g = if growth {
            "<th>your growth</th><th>market growth (range)</th>"
        } else {
            ""
        }
    );
    for c in cells {
        let sup = c.status == Status::Suppressed;
        let _ = write!(
            out,
            "<tr{}>",
            if sup { " class=\"suppressed\"" } else { "" }
        );
        for d in dims {
            let _ = write!(out, "<td>{}</td>", esc(&c.labels[*d]));
        }
        let mut yours = fmt_num(c.yours);
        if c.clipped {
            yours.push_str(" (clipped)");
        }
        let (market, range, share) = match &c.market {
            None => ("—".into(), "—".into(), "—".into()),
            Some(mk) => (
                fmt_num(mk.estimate),
                format!("{} to {}", fmt_num(mk.ci95_low), fmt_num(mk.ci95_high)),
                c.share.map_or("—".into(), |s| {
                    format!("{} ({} to {})", pct(s.value), pct(s.low), pct(s.high))
                }),
            ),
        };
        let (gy, gm) = match &c.growth {
            None => (String::new(), String::new()),
            Some(g) => (
                g.yours.map_or("—".into(), signed_pct),
                match (g.market, g.market_low, g.market_high) {
                    (Some(v), Some(lo), Some(hi)) => {
                        format!(
                            "{} ({} to {})",
                            signed_pct(v),
                            signed_pct(lo),
                            signed_pct(hi)
                        )
                    }
                    (Some(v), _, _) => format!("{} (range unbounded)", signed_pct(v)),
                    _ => "—".into(),
                },
            ),
        };
        let text = if c.text.is_empty() {
            "ok"
        } else {
            c.text.as_str()
        };
        let _ = write!(
            out,
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            esc(&yours),
            esc(&market),
            esc(&range),
            esc(&share)
        );
        if growth {
            let _ = write!(out, "<td>{}</td><td>{}</td>", esc(&gy), esc(&gm));
        }
        let _ = write!(
            out,
            "<td class=\"note {}\">{}</td></tr>",
            note_class(sup, c.too_noisy),
            esc(text)
        );
    }
    out.push_str("</tbody></table>");
}

fn totals_section(out: &mut String, m: &TotalMetric, min_members: u32) -> Result<(), String> {
    let _ = write!(out, "<h2>{}: {}</h2>", esc(&m.name), esc(&m.description));
    let clip = m.clip_hi.map_or(String::new(), |hi| {
        format!(
            " Each member counts at most {} {} per cell (the round's clip bound), and so do your figures here.",
            fmt_num(hi),
            m.unit
        )
    });
    let _ = write!(
        out,
        "<p class=\"key\">Your share is your figure divided by the market estimate; its range uses the market's 95% interval \
         and the fact that the market holds at least your own figure.{}</p>",
        esc(&clip)
    );
    let Some(mi) = m.dims.iter().position(|d| d == "month") else {
        let all: Vec<&TotalCell> = m.cells.iter().collect();
        let dims: Vec<usize> = (0..m.dims.len()).collect();
        out.push_str("<figure class=\"table\">");
        let _ = write!(
            out,
            "<figcaption><b>{}</b> over the whole period: your figure, the market total and your share.</figcaption>",
            esc(&m.name)
        );
        totals_rows(out, m, &all, &dims);
        out.push_str("</figure>");
        return Ok(());
    };
    // One chart per combination of the other dimensions' labels.
    let other: Vec<usize> = (0..m.dims.len()).filter(|d| *d != mi).collect();
    let mut series: Vec<(Vec<String>, Vec<&TotalCell>)> = Vec::new();
    for c in &m.cells {
        let key: Vec<String> = other.iter().map(|d| c.labels[*d].clone()).collect();
        match series.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(c),
            None => series.push((key, vec![c])),
        }
    }
    let _ = write!(
        out,
        "<p class=\"key\">Each series is two small charts, each on its own scale: \
         <span class=\"swatch\" style=\"background:#1f5ea0\"></span>the market total with its 95% band, and \
         <span class=\"swatch\" style=\"background:#d66014\"></span>your own figures. \
         Compare them through your share in the table, not by the height of the lines.</p><div class=\"grid\">"
    );
    for (key, cells) in &series {
        let months: Vec<String> = cells.iter().map(|c| c.labels[mi].clone()).collect();
        let name = if key.is_empty() {
            "all cells".to_string()
        } else {
            key.join(" · ")
        };
        let published = cells
            .iter()
            .filter(|c| c.status == Status::Published)
            .count();
        let noisy = cells.iter().filter(|c| c.too_noisy).count();
        let suppressed = cells
            .iter()
            .filter(|c| c.status == Status::Suppressed)
            .count();
        let market = match charts::market_by_month(&months, cells, &m.unit)? {
            Some(svg) => format!("<div class=\"series market\">{svg}</div>"),
            None => format!(
                "<p class=\"nochart\">No chart of the market: no month of this series can be read \
                 ({suppressed} not published, fewer than {} members; {noisy} too noisy to read).</p>",
                min_members
            ),
        };
        let yours = charts::yours_by_month(&months, cells, &m.unit)?;
        let _ = write!(
            out,
            "<figure class=\"chart\"><figcaption><b>{} by month: {}</b>. The market total ({}) with its 95% band, \
             and your own figure on its own scale. {} of {} months published; {} too noisy to read.</figcaption>\
             <div class=\"pair\">{market}<div class=\"series yours\">{yours}</div></div>",
            esc(&m.name),
            esc(&name),
            esc(&m.unit),
            published,
            cells.len(),
            noisy
        );
        totals_rows(out, m, cells, &[mi]);
        out.push_str("</figure>");
    }
    out.push_str("</div>");
    Ok(())
}

/// The report at a glance: each ratio's position, each total's readability.
fn summary(out: &mut String, c: &Comparison) {
    out.push_str("<h2>At a glance</h2><ul class=\"summary\">");
    for m in &c.ratios {
        for g in &m.groups {
            let who = if g.labels.is_empty() {
                String::new()
            } else {
                format!(" ({})", g.labels.join(" · "))
            };
            let yours = g.yours.map_or("—".into(), |v| ratio_value(m, v));
            let _ = write!(
                out,
                "<li><b>{}</b>{}: yours {} — <span class=\"{}\">{}</span></li>",
                esc(&m.name),
                esc(&who),
                esc(&yours),
                note_class(g.status == Status::Suppressed, g.too_noisy),
                esc(&g.text)
            );
        }
    }
    for m in &c.totals {
        let n = m.cells.len();
        let published = m
            .cells
            .iter()
            .filter(|x| x.status == Status::Published)
            .count();
        let readable = m
            .cells
            .iter()
            .filter(|x| x.status == Status::Published && !x.too_noisy)
            .count();
        let _ = write!(
            out,
            "<li><b>{}</b>: {published} of {n} cells published, {readable} precise enough to read your share from.</li>",
            esc(&m.name)
        );
    }
    out.push_str("</ul>");
}

/// Renders the whole report.
pub fn render(c: &Comparison) -> Result<String, String> {
    let r = &c.round;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Where you stand: round {} of pool {}</title><style>{STYLE}</style></head><body>",
        esc(&r.id),
        esc(&r.pool_id)
    );
    let _ = write!(
        out,
        "<header><h1>Where you stand: round {} of pool {}</h1>\
         <p class=\"private\">{}</p>\
         <p class=\"facts\">Period {} to {} · {} mode · {} contributions merged on {} · amounts in {} · \
         cells with fewer than {} members are not published.</p>\
         <p class=\"facts\">Purpose of the round: {}</p></header>",
        esc(&r.id),
        esc(&r.pool_id),
        esc(&c.private_note),
        esc(&r.period_start),
        esc(&r.period_end),
        esc(&r.mode),
        r.contributions.map_or("?".into(), |n| n.to_string()),
        esc(r.merged_at.get(..10).unwrap_or(&r.merged_at)),
        esc(&r.currency),
        r.min_members,
        esc(&r.purpose)
    );
    out.push_str(
        "<p class=\"key\">Every published figure carries privacy noise, and its 95% range is shown. \
         Each figure carries the benchmark's verdict: readable (95% range within &#177;25%, or a percentile's within 5 bins), \
         rough (twice as loose: read the range, not the digits), or <span class=\"noisy\">too noisy to read</span>, \
         which is never shown as a number. Cells with too few members are <i>not published</i> (never zero).</p>",
    );
    summary(&mut out, c);
    if !c.notes.is_empty() {
        out.push_str("<ul class=\"notes\">");
        for n in &c.notes {
            let _ = write!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul>");
    }
    if !c.ratios.is_empty() {
        out.push_str("<h2>Your ratios among the members</h2>");
        for m in &c.ratios {
            ratio_figure(&mut out, m)?;
        }
    }
    for m in &c.totals {
        totals_section(&mut out, m, r.min_members)?;
    }
    out.push_str("</body></html>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<b a=\"x\">Café & 'co'</b>"),
            "&lt;b a=&quot;x&quot;&gt;Café &amp; &#39;co&#39;&lt;/b&gt;"
        );
    }
}
