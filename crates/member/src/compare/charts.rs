//! SVG charts of the `compare` report, drawn in Rust with plotters' SVG
//! backend (no fonts loaded: text is left to the browser's sans-serif):
//! a band chart of each ratio's p10–p90 with the member's marker, and a
//! market total by month with its 95 % band beside the member's own series
//! on a second axis.

use crate::compare::text::ratio_value;
use crate::compare::{RatioMetric, Status, TotalCell};
use coopbench_cli::format::fmt_num;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The market's colour (band and line).
const MARKET: RGBColor = RGBColor(31, 94, 160);
/// The member's colour (marker and line).
const YOURS: RGBColor = RGBColor(214, 96, 20);
/// Greys for text and suppressed cells.
const GREY: RGBColor = RGBColor(110, 110, 110);

/// An axis label: thousands separated, and a plain "0".
fn axis_num(v: f64) -> String {
    if v.abs() < 1e-9 {
        "0".into()
    } else {
        fmt_num(v)
    }
}

fn err(e: impl std::fmt::Display) -> String {
    format!("drawing a chart failed: {e}")
}

/// Draws into an SVG string of `w`×`h` pixels.
fn svg(
    w: u32,
    h: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    // Inline SVG in HTML needs no namespace declaration: dropping it leaves
    // the report without a single URL, not even a namespace name.
    Ok(out.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1))
}

/// The p10–p90 band chart of one ratio metric, one row per group, with the
/// member's value as a marker.
pub fn ratio_band(m: &RatioMetric) -> Result<String, String> {
    let rows = m.groups.len().max(1);
    let h = 90 + 70 * rows as u32;
    let (lo, hi) = (m.bins.lo, m.bins.hi);
    let pad = (hi - lo) * 0.02;
    svg(760, h, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(28)
            .x_label_area_size(34)
            .y_label_area_size(if m.groups.iter().all(|g| g.labels.is_empty()) {
                10
            } else {
                90
            })
            .build_cartesian_2d((lo - pad)..(hi + pad), 0f64..rows as f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(11)
            .x_label_formatter(&|v| ratio_value(m, *v))
            .x_desc(if m.percent { "value (%)" } else { "value" })
            .axis_desc_style(("sans-serif", 13))
            .label_style(("sans-serif", 13))
            .light_line_style(RGBColor(247, 247, 247))
            .draw()
            .map_err(err)?;
        for (i, g) in m.groups.iter().enumerate() {
            let y = (rows - 1 - i) as f64;
            let (y0, y1, ym) = (y + 0.25, y + 0.75, y + 0.5);
            if !g.labels.is_empty() {
                chart
                    .draw_series(std::iter::once(Text::new(
                        g.labels.join(" · "),
                        (lo - pad, ym),
                        ("sans-serif", 12).into_font().color(&BLACK),
                    )))
                    .map_err(err)?;
            }
            match (&g.percentiles, g.status) {
                (Some(p), Status::Published) => {
                    let q = |k: &str| p.get(k).copied().unwrap_or(f64::NAN);
                    let band = [
                        Rectangle::new([(q("p10"), y0), (q("p90"), y1)], MARKET.mix(0.18).filled()),
                        Rectangle::new([(q("p25"), y0), (q("p75"), y1)], MARKET.mix(0.45).filled()),
                    ];
                    chart.draw_series(band).map_err(err)?;
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(q("p50"), y0 - 0.05), (q("p50"), y1 + 0.05)],
                            MARKET.stroke_width(3),
                        )))
                        .map_err(err)?;
                    let labels = [("p10", y1 + 0.3), ("p50", y1 + 0.3), ("p90", y1 + 0.3)];
                    chart
                        .draw_series(labels.iter().map(|(k, yy)| {
                            Text::new(
                                format!("{k} {}", ratio_value(m, q(k))),
                                (q(k), *yy),
                                ("sans-serif", 13).into_font().color(&GREY),
                            )
                        }))
                        .map_err(err)?;
                    if g.too_noisy {
                        chart
                            .draw_series(std::iter::once(Text::new(
                                "too noisy to read",
                                (lo + pad, y0 - 0.02),
                                ("sans-serif", 14).into_font().color(&RGBColor(170, 60, 0)),
                            )))
                            .map_err(err)?;
                    }
                }
                _ => {
                    // On the side of the chart away from the member's marker.
                    let left = g.yours.is_none_or(|v| v > lo + (hi - lo) * 0.5);
                    let x = if left {
                        lo + pad
                    } else {
                        lo + (hi - lo) * 0.55
                    };
                    chart
                        .draw_series(std::iter::once(Text::new(
                            g.text.clone(),
                            (x, ym),
                            ("sans-serif", 15).into_font().color(&GREY),
                        )))
                        .map_err(err)?;
                }
            }
            if let Some(v) = g.yours {
                let shown = v.clamp(lo, hi);
                let mut label = format!("you: {}", ratio_value(m, v));
                if v > hi || v < lo {
                    label.push_str(" (off the scale)");
                }
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        vec![
                            (shown, ym - 0.2),
                            (shown + (hi - lo) * 0.008, ym),
                            (shown, ym + 0.2),
                            (shown - (hi - lo) * 0.008, ym),
                        ],
                        YOURS.filled(),
                    )))
                    .map_err(err)?;
                // Keep the label inside the plot: to the left of markers near the right edge.
                let right = shown > lo + (hi - lo) * 0.7;
                let x = if right {
                    shown - (hi - lo) * 0.16
                } else {
                    shown + (hi - lo) * 0.012
                };
                chart
                    .draw_series(std::iter::once(Text::new(
                        label,
                        (x, y0 - 0.02),
                        ("sans-serif", 14).into_font().color(&YOURS),
                    )))
                    .map_err(err)?;
            }
        }
        Ok(())
    })
}

/// One month series of a total: the market (estimate and 95 % band, gaps
/// where suppressed) on the left axis, the member's own figures on the right.
pub fn market_by_month(
    months: &[String],
    cells: &[&TotalCell],
    unit: &str,
) -> Result<String, String> {
    let n = months.len();
    let xr = -0.5..(n as f64 - 0.5);
    let (mut y0, mut y1) = (0f64, 1f64);
    for c in cells {
        if let Some(mk) = &c.market {
            y0 = y0.min(mk.ci95_low);
            y1 = y1.max(mk.ci95_high);
        }
    }
    let span = y1 - y0;
    let (y0, y1) = (y0 - span * 0.04, y1 + span * 0.08);
    let s1 = cells.iter().map(|c| c.yours).fold(1f64, f64::max) * 1.15;
    svg(620, 320, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(78)
            .right_y_label_area_size(70)
            .build_cartesian_2d(xr.clone(), y0..y1)
            .map_err(err)?
            .set_secondary_coord(xr.clone(), 0f64..s1);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n.max(2))
            .x_label_formatter(&|x| {
                let k = x.round();
                if (x - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < n {
                    months[k as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| axis_num(*v))
            .y_desc(format!("market, {unit}"))
            .axis_desc_style(("sans-serif", 13))
            .label_style(("sans-serif", 13))
            .light_line_style(RGBColor(247, 247, 247))
            .draw()
            .map_err(err)?;
        chart
            .configure_secondary_axes()
            .y_label_formatter(&|v| axis_num(*v))
            .y_desc(format!("yours, {unit}"))
            .axis_desc_style(("sans-serif", 13).into_font().color(&YOURS))
            .label_style(("sans-serif", 12).into_font().color(&YOURS))
            .draw()
            .map_err(err)?;
        // Zero line of the market axis when the band crosses it.
        if y0 < 0.0 {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(xr.start, 0.0), (xr.end, 0.0)],
                    BLACK.mix(0.4).stroke_width(1),
                )))
                .map_err(err)?;
        }
        // Runs of consecutive published months.
        let mut runs: Vec<Vec<(f64, f64, f64, f64)>> = vec![Vec::new()];
        for (i, c) in cells.iter().enumerate() {
            match &c.market {
                Some(mk) => runs.last_mut().expect("one run").push((
                    i as f64,
                    mk.estimate,
                    mk.ci95_low,
                    mk.ci95_high,
                )),
                None => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| !r.is_empty()) {
            if run.len() > 1 {
                let mut band: Vec<(f64, f64)> = run.iter().map(|p| (p.0, p.3)).collect();
                band.extend(run.iter().rev().map(|p| (p.0, p.2)));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        band,
                        MARKET.mix(0.18).filled(),
                    )))
                    .map_err(err)?;
            }
            for p in run {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(p.0, p.2), (p.0, p.3)],
                        MARKET.mix(0.5).stroke_width(2),
                    )))
                    .map_err(err)?;
            }
            chart
                .draw_series(std::iter::once(PathElement::new(
                    run.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
                    MARKET.stroke_width(2),
                )))
                .map_err(err)?;
            chart
                .draw_series(
                    run.iter()
                        .map(|p| Circle::new((p.0, p.1), 4, MARKET.filled())),
                )
                .map_err(err)?;
        }
        for (i, c) in cells.iter().enumerate() {
            if c.market.is_none() {
                chart
                    .draw_series(std::iter::once(Text::new(
                        "not published",
                        (i as f64 - 0.3, y0 + (y1 - y0) * 0.5),
                        ("sans-serif", 12).into_font().color(&GREY),
                    )))
                    .map_err(err)?;
            }
        }
        chart
            .draw_secondary_series(std::iter::once(PathElement::new(
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (i as f64, c.yours))
                    .collect::<Vec<_>>(),
                YOURS.stroke_width(2),
            )))
            .map_err(err)?;
        chart
            .draw_secondary_series(
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Circle::new((i as f64, c.yours), 4, YOURS.filled())),
            )
            .map_err(err)?;
        Ok(())
    })
}
