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

/// The figure columns of ratio tables, after the dimensions.
pub const RATIO_COLUMNS: [&str; 8] = [
    "p10",
    "p25",
    "p50",
    "p75",
    "p90",
    "mean",
    "bin_width",
    "members_noisy",
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
