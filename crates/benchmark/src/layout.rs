//! Where a round's files lie in a benchmark directory, which columns a
//! table has, and what each standard column means.
//!
//! ```text
//! OUT/<table>/<round id>.parquet   one file per table and round
//! OUT/manifests/<round id>.json    the round's manifest, written last
//! ```
//!
//! No directory is named `key=value`, so no reader infers a hive partition
//! column: the `round` column is in every file, a string whatever the id.

use coopbench_protocol::pool::path_id;
use std::path::{Path, PathBuf};

/// The extension of every table file.
pub const TABLE_EXTENSION: &str = "parquet";

/// The file name inside each partition directory of the earlier
/// `<table>/round=<id>/data.parquet` layout (no longer written).
pub const DATA_FILE: &str = "data.parquet";

/// The first column of every table: the round's id (Utf8).
pub const ROUND: &str = "round";

/// The month dimension: a Date32, the first day of the month.
pub const MONTH: &str = "month";

/// The Arrow field metadata key of a column's unit.
pub const UNIT_KEY: &str = "unit";

/// The Arrow field metadata key of a column's description.
pub const DESCRIPTION_KEY: &str = "description";

/// The directory of the manifests, one `<round id>.json` per round.
pub const MANIFESTS_DIR: &str = "manifests";

/// The figure columns of sum, count and active tables, after the dimensions.
pub const TOTAL_COLUMNS: [&str; 7] = [
    "estimate",
    "noise_sd",
    "ci95_low",
    "ci95_high",
    "members_noisy",
    "mean_per_member",
    "mean_sd",
];

/// The verdict columns of sum, count and active tables (Utf8, after the
/// figures): the estimate's and the mean's (null without a mean).
pub const TOTAL_VERDICTS: [&str; 2] = ["verdict", "mean_verdict"];

/// The figure columns of ratio tables, after the dimensions: each percentile
/// and the mean with its 95 % interval, the bins' width and the members with
/// a value with its 95 % interval.
pub const RATIO_COLUMNS: [&str; 22] = [
    "p10",
    "p10_ci95_low",
    "p10_ci95_high",
    "p25",
    "p25_ci95_low",
    "p25_ci95_high",
    "p50",
    "p50_ci95_low",
    "p50_ci95_high",
    "p75",
    "p75_ci95_low",
    "p75_ci95_high",
    "p90",
    "p90_ci95_low",
    "p90_ci95_high",
    "mean",
    "mean_ci95_low",
    "mean_ci95_high",
    "bin_width",
    "members_noisy",
    "members_ci95_low",
    "members_ci95_high",
];

/// The verdict columns of ratio tables (Utf8, after the figures).
pub const RATIO_VERDICTS: [&str; 7] = [
    "p10_verdict",
    "p25_verdict",
    "p50_verdict",
    "p75_verdict",
    "p90_verdict",
    "mean_verdict",
    "members_verdict",
];

/// Whether a text column holds verdicts (`verdict`, `<figure>_verdict`)
/// rather than a dimension's labels.
pub fn is_verdict_column(name: &str) -> bool {
    name == "verdict" || name.ends_with("_verdict")
}

/// The Boolean column every table ends with: true where every figure is null.
pub const SUPPRESSED: &str = "suppressed";

/// The directory of a table (every round's file of it), relative to the
/// output root.
pub fn table_dir(table: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(path_id("table name", table)?))
}

/// The directory holding a table's file for a round, relative to the output
/// root (both ids checked): the table's directory.
pub fn partition(table: &str, round_id: &str) -> Result<PathBuf, String> {
    path_id("round id", round_id)?;
    table_dir(table)
}

/// A table's data file for a round, relative to the output root:
/// `<table>/<round id>.parquet`.
pub fn table_file(table: &str, round_id: &str) -> Result<PathBuf, String> {
    let round_id = path_id("round id", round_id)?;
    Ok(table_dir(table)?.join(format!("{round_id}.{TABLE_EXTENSION}")))
}

/// What a standard column holds, in words (empty for a name this format
/// does not define: dimensions are described by their schema field).
pub fn describe(column: &str) -> &'static str {
    let ci = |c: &str| c.ends_with("_ci95_low") || c.ends_with("_ci95_high");
    match column {
        ROUND => "the round's id",
        MONTH => "the month of the cell, as its first day; null: all months of the round's period",
        "estimate" => "the noisy total of the cell: unbiased, not clamped, so a small total can come out negative",
        "noise_sd" => "standard deviation of the privacy noise in estimate",
        "ci95_low" => "lower end of the 95 % interval for the cell's true total (estimate - 1.96 noise_sd, within the round's bounds)",
        "ci95_high" => "upper end of the 95 % interval for the cell's true total (estimate + 1.96 noise_sd, within the round's bounds)",
        "members_noisy" => "noisy number of active members in the cell (ratio tables: members with a value), clamped to [0, contributions]; null without an active metric over the same dimensions",
        "mean_per_member" => "estimate / members_noisy: the mean per active member",
        "mean_sd" => "standard deviation of mean_per_member (delta method, noise of both)",
        "p10" => "10th percentile of the members' values, interpolated inside a histogram bin (never a member's own value)",
        "p25" => "25th percentile of the members' values, interpolated inside a histogram bin",
        "p50" => "median of the members' values, interpolated inside a histogram bin",
        "p75" => "75th percentile of the members' values, interpolated inside a histogram bin",
        "p90" => "90th percentile of the members' values, interpolated inside a histogram bin",
        "mean" => "mean of the members' values (histogram bin midpoints)",
        "bin_width" => "width of one histogram bin: the resolution of the percentiles",
        "members_ci95_low" => "lower end of the 95 % interval for the members with a value",
        "members_ci95_high" => "upper end of the 95 % interval for the members with a value",
        c if ci(c) && c.ends_with("_low") => "lower end of the figure's 95 % interval (from the noise model)",
        c if ci(c) => "upper end of the figure's 95 % interval (from the noise model)",
        "verdict" => "whether estimate can be read: readable, rough, too noisy (read it as noise, not data) or suppressed, by the rule in the footer's verdict_rule",
        c if is_verdict_column(c) => "whether the figure named before _verdict can be read: readable, rough, too noisy (read it as noise, not data) or suppressed, by the rule in the footer's verdict_rule; null where the figure does not exist",
        SUPPRESSED => "true where the cell has fewer noisy members than the round's min_members: every figure is null",
        _ => "",
    }
}

/// The manifest's path relative to the output root.
pub fn manifest_path(round_id: &str) -> Result<PathBuf, String> {
    let round_id = path_id("round id", round_id)?;
    Ok(Path::new(MANIFESTS_DIR).join(format!("{round_id}.json")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_ids_are_refused() {
        for bad in [
            "",
            "..",
            ".",
            "../x",
            "a/b",
            "a\\b",
            "/etc",
            "x\ny",
            "x\0",
            ".hidden",
            "Round",
            "a b",
            "2025q4/../../x",
            "é",
        ] {
            assert!(path_id("round id", bad).is_err(), "{bad:?} accepted");
            assert!(partition("t", bad).is_err(), "{bad:?} accepted as a round");
            assert!(partition(bad, "r1").is_err(), "{bad:?} accepted as a table");
            assert!(
                manifest_path(bad).is_err(),
                "{bad:?} accepted for a manifest"
            );
        }
        let long = "a".repeat(65);
        assert!(path_id("round id", &long).is_err());
        for good in ["2025q4", "r-1", "a.b_c", "0"] {
            assert_eq!(path_id("round id", good), Ok(good));
        }
        let e = path_id("round id", "../x").unwrap_err();
        assert!(e.contains("round id \"../x\""), "{e}");
    }

    #[test]
    fn paths_are_one_file_per_table_and_round() {
        assert_eq!(
            table_file("revenue", "2025q4").unwrap(),
            Path::new("revenue").join("2025q4.parquet")
        );
        assert!(!table_file("revenue", "2025q4")
            .unwrap()
            .to_string_lossy()
            .contains('='));
        assert_eq!(
            manifest_path("2025q4").unwrap(),
            Path::new("manifests").join("2025q4.json")
        );
    }
}
