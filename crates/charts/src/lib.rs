//! The SVG charts of coopbench's HTML reports, drawn with plotters' SVG
//! backend (no fonts loaded: text is left to the browser's sans-serif) and
//! returned as inline `<svg>` without a namespace URL, so a report holds no
//! reference to anything outside itself.
//!
//! Every chart has one axis per direction, in one unit: two quantities of
//! different size are two charts, never one chart with a second y-axis.
//! Nothing is drawn for a figure that cannot be read (too noisy or not
//! published): the caller passes no point for it and a note saying why,
//! which is written where the figure would be. A chart whose every point is
//! missing is not drawn at all ([`all_missing`]): say so in words instead.

mod draw;

pub use draw::{percentile_bands, ranges, series, BandRow, Point, RangeRow, SeriesStyle};

/// The market's (the members') colour.
pub const MARKET: (u8, u8, u8) = (31, 94, 160);
/// The member's own colour.
pub const YOURS: (u8, u8, u8) = (214, 96, 20);

/// Whether no point of a series can be drawn (every figure not published
/// or unreadable): such a series gets words, not a chart.
pub fn all_missing<T>(points: &[Option<T>]) -> bool {
    points.iter().all(Option::is_none)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(v: f64) -> String {
        format!("{v:.0}")
    }

    #[test]
    fn a_series_without_points_is_all_missing() {
        assert!(all_missing::<u8>(&[None, None]) && !all_missing(&[None, Some(1)]));
    }

    #[test]
    fn a_series_has_one_y_axis_no_url_and_notes_where_points_are_missing() {
        let months: Vec<String> = ["2025-10", "2025-11", "2025-12"].map(String::from).to_vec();
        let p = Point {
            value: 100.0,
            low: 80.0,
            high: 120.0,
        };
        let style = SeriesStyle {
            colour: MARKET,
            y_desc: "market total, EUR".into(),
            ranges: true,
        };
        let notes = vec![String::new(), "too noisy".into(), String::new()];
        let svg = series(&months, &[Some(p), None, Some(p)], &notes, &fmt, &style).unwrap();
        assert!(svg.starts_with("<svg") && !svg.contains("http"), "{svg}");
        // One rotated axis title: the y axis's; no second one.
        assert_eq!(svg.matches("rotate(").count(), 1, "{svg}");
        assert!(svg.contains("too noisy"), "the missing point says why");
        // Two runs of one point each: no line or band joins them across
        // the gap (against the same series without the gap: its line and
        // middle whisker, and its band).
        let full = series(&months, &[Some(p); 3], &[], &fmt, &style).unwrap();
        let count = |s: &str, tag: &str| s.matches(tag).count();
        assert_eq!(count(&full, "<polyline") - count(&svg, "<polyline"), 2);
        assert_eq!(count(&full, "<polygon") - count(&svg, "<polygon"), 1);
    }

    #[test]
    fn a_band_row_draws_only_the_percentiles_it_has() {
        let row = |p: [Option<f64>; 5]| BandRow {
            label: "bread".into(),
            percentiles: p,
            note: Some("some percentiles too noisy to read".into()),
            marker: None,
        };
        let full = [Some(0.2), Some(0.3), Some(0.4), Some(0.5), Some(0.6)];
        let draw =
            |p| percentile_bands(&[row(p)], (0.0, 1.0), &fmt, "value", (MARKET, YOURS)).unwrap();
        let rects = |s: &str| s.matches("<rect").count();
        let all = draw(full);
        let inner = draw([None, Some(0.3), Some(0.4), Some(0.5), None]);
        let none = draw([None; 5]);
        assert_eq!(rects(&all) - rects(&none), 2, "p10-p90 and p25-p75");
        assert_eq!(rects(&inner) - rects(&none), 1, "p25-p75 only");
        assert!(!all.contains("NaN") && !inner.contains("NaN"));
        assert!(none.contains("some percentiles too noisy to read"));
    }
}
