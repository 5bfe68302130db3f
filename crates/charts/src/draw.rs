//! The three charts: percentile bands, figures with their ranges, and a
//! series by period.

use plotters::coord::Shift;
use plotters::prelude::*;

/// Greys for text and notes.
const GREY: RGBColor = RGBColor(110, 110, 110);
/// The colour of a note saying a figure cannot be read.
const NOTE: RGBColor = RGBColor(150, 70, 10);

fn rgb(c: (u8, u8, u8)) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

fn err(e: impl std::fmt::Display) -> String {
    format!("drawing a chart failed: {e}")
}

/// A figure with its 95 % range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// The figure.
    pub value: f64,
    /// Low end of its 95 % range.
    pub low: f64,
    /// High end of its 95 % range.
    pub high: f64,
}

/// One row of a percentile band chart.
#[derive(Clone, Debug, Default)]
pub struct BandRow {
    /// The group's labels, shown at the left (empty: none).
    pub label: String,
    /// p10, p25, p50, p75, p90; `None` for one that cannot be read.
    pub percentiles: [Option<f64>; 5],
    /// Said in the row: why nothing or only part is drawn.
    pub note: Option<String>,
    /// A marked value (the member's own) with its label.
    pub marker: Option<(f64, String)>,
}

/// One row of a ranges chart.
#[derive(Clone, Debug)]
pub struct RangeRow {
    /// The row's labels, shown at the left.
    pub label: String,
    /// The figure and its range; `None`: the note is written instead.
    pub point: Option<Point>,
    /// Why there is no point (`too noisy`, `not published`).
    pub note: String,
}

/// How a series is drawn.
#[derive(Clone, Debug)]
pub struct SeriesStyle {
    /// Its colour.
    pub colour: (u8, u8, u8),
    /// The y axis's description (what and the unit).
    pub y_desc: String,
    /// Draw each point's 95 % range (a band between consecutive points).
    pub ranges: bool,
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

/// The extent of the points' ranges, with 0 and some margin.
fn extent(points: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    let (mut lo, mut hi) = (0f64, 0f64);
    for (a, b) in points {
        if a.is_finite() && b.is_finite() {
            lo = lo.min(a);
            hi = hi.max(b);
        }
    }
    if hi - lo <= 0.0 {
        hi = lo + 1.0;
    }
    let span = hi - lo;
    (lo - span * 0.04, hi + span * 0.08)
}

/// The p10–p90 band chart, one row per group over `[lo, hi]`: the light
/// band p10–p90, the dark band p25–p75, the median as a line, each where
/// both its ends can be read; the marker as a diamond.
pub fn percentile_bands(
    rows: &[BandRow],
    (lo, hi): (f64, f64),
    fmt: &dyn Fn(f64) -> String,
    x_desc: &str,
    colours: ((u8, u8, u8), (u8, u8, u8)),
) -> Result<String, String> {
    let (band, mark) = (rgb(colours.0), rgb(colours.1));
    let n = rows.len().max(1);
    let h = 90 + 70 * n as u32;
    let pad = (hi - lo) * 0.02;
    svg(760, h, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(28)
            .x_label_area_size(34)
            .y_label_area_size(if rows.iter().all(|r| r.label.is_empty()) {
                10
            } else {
                90
            })
            .build_cartesian_2d((lo - pad)..(hi + pad), 0f64..n as f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(11)
            .x_label_formatter(&|v| fmt(*v))
            .x_desc(x_desc)
            .axis_desc_style(("sans-serif", 13))
            .label_style(("sans-serif", 13))
            .light_line_style(RGBColor(247, 247, 247))
            .draw()
            .map_err(err)?;
        for (i, r) in rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let (y0, y1, ym) = (y + 0.25, y + 0.75, y + 0.5);
            if !r.label.is_empty() {
                chart
                    .draw_series(std::iter::once(Text::new(
                        r.label.clone(),
                        (lo - pad, ym),
                        ("sans-serif", 12).into_font().color(&BLACK),
                    )))
                    .map_err(err)?;
            }
            let p = r.percentiles;
            for (a, b, alpha) in [(0, 4, 0.18), (1, 3, 0.45)] {
                if let (Some(x0), Some(x1)) = (p[a], p[b]) {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x0, y0), (x1, y1)],
                            band.mix(alpha).filled(),
                        )))
                        .map_err(err)?;
                }
            }
            if let Some(m) = p[2] {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(m, y0 - 0.05), (m, y1 + 0.05)],
                        band.stroke_width(3),
                    )))
                    .map_err(err)?;
            }
            let labels = [(0, "p10"), (2, "p50"), (4, "p90")];
            chart
                .draw_series(labels.iter().filter_map(|(k, name)| {
                    p[*k].map(|v| {
                        Text::new(
                            format!("{name} {}", fmt(v)),
                            (v, y1 + 0.3),
                            ("sans-serif", 13).into_font().color(&GREY),
                        )
                    })
                }))
                .map_err(err)?;
            if let Some(note) = &r.note {
                // On the side of the chart away from the marker.
                let left = r
                    .marker
                    .as_ref()
                    .is_none_or(|(v, _)| *v > lo + (hi - lo) * 0.5);
                let x = if left {
                    lo + pad
                } else {
                    lo + (hi - lo) * 0.55
                };
                let y = if p.iter().all(Option::is_none) {
                    ym
                } else {
                    y0 - 0.02
                };
                chart
                    .draw_series(std::iter::once(Text::new(
                        note.clone(),
                        (x, y),
                        ("sans-serif", 14).into_font().color(&NOTE),
                    )))
                    .map_err(err)?;
            }
            if let Some((v, label)) = &r.marker {
                let shown = v.clamp(lo, hi);
                let mut label = label.clone();
                if *v > hi || *v < lo {
                    label.push_str(" (off the scale)");
                }
                let d = (hi - lo) * 0.008;
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        vec![
                            (shown, ym - 0.2),
                            (shown + d, ym),
                            (shown, ym + 0.2),
                            (shown - d, ym),
                        ],
                        mark.filled(),
                    )))
                    .map_err(err)?;
                // Keep the label inside the plot: to the left of markers near the right edge.
                let x = if shown > lo + (hi - lo) * 0.7 {
                    shown - (hi - lo) * 0.16
                } else {
                    shown + (hi - lo) * 0.012
                };
                chart
                    .draw_series(std::iter::once(Text::new(
                        label,
                        (x, y0 - 0.02),
                        ("sans-serif", 14).into_font().color(&mark),
                    )))
                    .map_err(err)?;
            }
        }
        Ok(())
    })
}

/// Figures with their 95 % ranges, one row each (a dot and a whisker on
/// one horizontal axis described by `x_desc`); a row without a point shows
/// its note instead.
pub fn ranges(
    rows: &[RangeRow],
    fmt: &dyn Fn(f64) -> String,
    x_desc: &str,
    colour: (u8, u8, u8),
) -> Result<String, String> {
    let c = rgb(colour);
    let n = rows.len().max(1);
    let (x0, x1) = extent(rows.iter().filter_map(|r| r.point).map(|p| (p.low, p.high)));
    let h = 70 + 34 * n as u32;
    svg(760, h, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(28)
            .x_label_area_size(34)
            .y_label_area_size(10)
            .build_cartesian_2d(x0..x1, 0f64..n as f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(8)
            .x_label_formatter(&|v| fmt(*v))
            .x_desc(x_desc)
            .axis_desc_style(("sans-serif", 13))
            .label_style(("sans-serif", 12))
            .light_line_style(RGBColor(247, 247, 247))
            .draw()
            .map_err(err)?;
        if x0 < 0.0 {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, 0.0), (0.0, n as f64)],
                    BLACK.mix(0.4).stroke_width(1),
                )))
                .map_err(err)?;
        }
        for (i, r) in rows.iter().enumerate() {
            let y = n as f64 - 0.5 - i as f64;
            chart
                .draw_series(std::iter::once(Text::new(
                    r.label.clone(),
                    (x0 + (x1 - x0) * 0.01, y + 0.42),
                    ("sans-serif", 11).into_font().color(&GREY),
                )))
                .map_err(err)?;
            match r.point {
                Some(p) => {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(p.low, y), (p.high, y)],
                            c.mix(0.6).stroke_width(3),
                        )))
                        .map_err(err)?;
                    chart
                        .draw_series(std::iter::once(Circle::new((p.value, y), 4, c.filled())))
                        .map_err(err)?;
                }
                None => {
                    chart
                        .draw_series(std::iter::once(Text::new(
                            r.note.clone(),
                            (x0 + (x1 - x0) * 0.3, y + 0.2),
                            ("sans-serif", 12).into_font().color(&NOTE),
                        )))
                        .map_err(err)?;
                }
            }
        }
        Ok(())
    })
}

/// One series by period (`x_labels`) on one y axis: a line through runs of
/// consecutive points (with their 95 % band when `style.ranges`), each
/// missing point's note written where it would be.
pub fn series(
    x_labels: &[String],
    points: &[Option<Point>],
    notes: &[String],
    fmt: &dyn Fn(f64) -> String,
    style: &SeriesStyle,
) -> Result<String, String> {
    let c = rgb(style.colour);
    let n = x_labels.len();
    let xr = -0.5..(n as f64 - 0.5);
    let (y0, y1) = extent(points.iter().flatten().map(|p| {
        if style.ranges {
            (p.low, p.high)
        } else {
            (p.value, p.value)
        }
    }));
    svg(560, 300, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(78)
            .build_cartesian_2d(xr.clone(), y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n.max(2))
            .x_label_formatter(&|x| {
                let k = x.round();
                if (x - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < n {
                    x_labels[k as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| fmt(*v))
            .y_desc(style.y_desc.clone())
            .axis_desc_style(("sans-serif", 13))
            .label_style(("sans-serif", 13))
            .light_line_style(RGBColor(247, 247, 247))
            .draw()
            .map_err(err)?;
        if y0 < 0.0 {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(xr.start, 0.0), (xr.end, 0.0)],
                    BLACK.mix(0.4).stroke_width(1),
                )))
                .map_err(err)?;
        }
        let mut runs: Vec<Vec<(f64, Point)>> = vec![Vec::new()];
        for (i, p) in points.iter().enumerate() {
            match p {
                Some(p) => runs.last_mut().expect("one run").push((i as f64, *p)),
                None => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| !r.is_empty()) {
            if style.ranges {
                if run.len() > 1 {
                    let mut band: Vec<(f64, f64)> = run.iter().map(|(x, p)| (*x, p.high)).collect();
                    band.extend(run.iter().rev().map(|(x, p)| (*x, p.low)));
                    chart
                        .draw_series(std::iter::once(Polygon::new(band, c.mix(0.18).filled())))
                        .map_err(err)?;
                }
                chart
                    .draw_series(run.iter().map(|(x, p)| {
                        PathElement::new(
                            vec![(*x, p.low), (*x, p.high)],
                            c.mix(0.5).stroke_width(2),
                        )
                    }))
                    .map_err(err)?;
            }
            if run.len() > 1 {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        run.iter().map(|(x, p)| (*x, p.value)).collect::<Vec<_>>(),
                        c.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
            chart
                .draw_series(
                    run.iter()
                        .map(|(x, p)| Circle::new((*x, p.value), 4, c.filled())),
                )
                .map_err(err)?;
        }
        for (i, p) in points.iter().enumerate() {
            if p.is_none() {
                chart
                    .draw_series(std::iter::once(Text::new(
                        notes.get(i).cloned().unwrap_or_default(),
                        (i as f64 - 0.3, y0 + (y1 - y0) * 0.5),
                        ("sans-serif", 12).into_font().color(&NOTE),
                    )))
                    .map_err(err)?;
            }
        }
        Ok(())
    })
}
