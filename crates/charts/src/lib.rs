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

    #[test]
    fn a_series_without_points_is_all_missing() {
        assert!(all_missing::<u8>(&[None, None]) && !all_missing(&[None, Some(1)]));
    }
}
