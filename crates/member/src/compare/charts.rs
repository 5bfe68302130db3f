//! The `compare` report's charts, drawn by `coopbench-charts`: a band chart
//! of each ratio's p10–p90 with the member's marker, and per series of a
//! total by month two small charts, each on its own single axis: the market
//! total with its 95 % band, and the member's own figures. No chart is
//! drawn for a series none of whose points can be read (`None`: the report
//! says so in words).

use crate::compare::text::ratio_value;
use crate::compare::{RatioMetric, Status, TotalCell, PERCENTILES};
use coopbench_charts::{BandRow, Point, SeriesStyle, MARKET, YOURS};
use coopbench_cli::format::fmt_num;

/// An axis label: thousands separated, and a plain "0".
fn axis_num(v: f64) -> String {
    if v.abs() < 1e-9 {
        "0".into()
    } else {
        fmt_num(v)
    }
}

/// The p10–p90 band chart of one ratio metric, one row per group, with the
/// member's value as a marker; `None` when no group has a percentile that
/// can be read.
pub fn ratio_band(m: &RatioMetric) -> Result<Option<String>, String> {
    let rows: Vec<BandRow> = m
        .groups
        .iter()
        .map(|g| {
            let p = g.percentiles.as_ref();
            let percentiles = PERCENTILES.map(|k| p.and_then(|p| p.get(k).copied()));
            let partial = percentiles.iter().any(Option::is_none);
            BandRow {
                label: g.labels.join(" · "),
                percentiles,
                note: match g.status {
                    Status::Published if !partial => None,
                    Status::Published => Some("some percentiles too noisy to read".into()),
                    _ => Some(g.text.clone()),
                },
                marker: g.yours.map(|v| (v, format!("you: {}", ratio_value(m, v)))),
            }
        })
        .collect();
    if rows
        .iter()
        .all(|r| r.percentiles.iter().all(Option::is_none))
    {
        return Ok(None);
    }
    coopbench_charts::percentile_bands(
        &rows,
        (m.bins.lo, m.bins.hi),
        &|v| ratio_value(m, v),
        if m.percent { "value (%)" } else { "value" },
        (MARKET, YOURS),
    )
    .map(Some)
}

/// Why a cell has no market point.
fn missing(c: &TotalCell) -> String {
    match c.status {
        Status::Suppressed => "not published".into(),
        _ => "too noisy".into(),
    }
}

/// The market total by month with its 95 % band, gaps where a month is not
/// published or too noisy to read; `None` when no month can be read.
pub fn market_by_month(
    months: &[String],
    cells: &[&TotalCell],
    unit: &str,
) -> Result<Option<String>, String> {
    let points: Vec<Option<Point>> = cells
        .iter()
        .map(|c| {
            c.market.map(|m| Point {
                value: m.estimate,
                low: m.ci95_low,
                high: m.ci95_high,
            })
        })
        .collect();
    if coopbench_charts::all_missing(&points) {
        return Ok(None);
    }
    let notes: Vec<String> = cells.iter().map(|c| missing(c)).collect();
    let style = SeriesStyle {
        colour: MARKET,
        y_desc: format!("market total, {unit}"),
        ranges: true,
    };
    coopbench_charts::series(months, &points, &notes, &axis_num, &style).map(Some)
}

/// The member's own figures by month, on their own axis.
pub fn yours_by_month(
    months: &[String],
    cells: &[&TotalCell],
    unit: &str,
) -> Result<String, String> {
    let points: Vec<Option<Point>> = cells
        .iter()
        .map(|c| {
            Some(Point {
                value: c.yours,
                low: c.yours,
                high: c.yours,
            })
        })
        .collect();
    let style = SeriesStyle {
        colour: YOURS,
        y_desc: format!("yours, {unit}"),
        ranges: false,
    };
    coopbench_charts::series(months, &points, &[], &axis_num, &style)
}
