//! Where a round's files lie in a benchmark directory, and which columns a
//! table has.

use coopbench_protocol::pool::path_id;
use std::path::{Path, PathBuf};

/// The file name inside each partition directory.
pub const DATA_FILE: &str = "data.parquet";

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

/// The partition directory of a table's round, relative to the output root.
pub fn partition(table: &str, round_id: &str) -> Result<PathBuf, String> {
    let table = path_id("table name", table)?;
    let round_id = path_id("round id", round_id)?;
    Ok(Path::new(table).join(format!("round={round_id}")))
}

/// A table's data file, relative to the output root.
pub fn table_file(table: &str, round_id: &str) -> Result<PathBuf, String> {
    Ok(partition(table, round_id)?.join(DATA_FILE))
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
    fn paths_follow_hive_partitioning() {
        assert_eq!(
            table_file("revenue", "2025q4").unwrap(),
            Path::new("revenue")
                .join("round=2025q4")
                .join("data.parquet")
        );
        assert_eq!(
            manifest_path("2025q4").unwrap(),
            Path::new("manifests").join("2025q4.json")
        );
    }
}
