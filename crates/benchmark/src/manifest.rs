//! The manifest beside each round's tables (`manifests/<id>.json`): the
//! round's public facts, its privacy parameters, the fate of every input file
//! by SHA-256, and the tables. Written by `merge`; read here, tolerantly, by
//! `compare`, `inspect` and the tests.
//!
//! It never names a member: files are listed by SHA-256 (a member can find
//! its own contribution; nobody else can tell whose a hash is), with their
//! fate as a reason code, and never by file name or key id.

use crate::layout::{manifest_path, MANIFESTS_DIR};
use coopbench_protocol::limits::MANIFEST_MAX_BYTES;
use coopbench_protocol::pool::path_id;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The manifest format tag.
pub const FORMAT: &str = "coopbench-manifest/1";

/// `manifests/<id>.json`.
///
/// Read tolerantly: fields this version does not know are ignored, and only
/// the round's identity, period, hash, currency and `min_members` are
/// required; everything else falls back to its default when absent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Always [`FORMAT`].
    #[serde(default)]
    pub format: String,
    /// The round merged.
    pub round: RoundFacts,
    /// The privacy parameters and what they mean.
    #[serde(default)]
    pub privacy: Privacy,
    /// The toolkit that merged.
    #[serde(default)]
    pub toolkit_version: String,
    /// When (RFC 3339, UTC).
    #[serde(default)]
    pub merged_at: String,
    /// Counts of files, accepted and not used by reason.
    #[serde(default)]
    pub contributions: Counts,
    /// Every input file by SHA-256, with its fate.
    #[serde(default)]
    pub files: Vec<FileFact>,
    /// The tables published.
    #[serde(default)]
    pub tables: Vec<TableFact>,
}

/// The round's public facts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RoundFacts {
    /// Round id.
    pub id: String,
    /// Pool id.
    pub pool_id: String,
    /// The round's purpose.
    #[serde(default)]
    pub purpose: String,
    /// First day of the period.
    pub period_start: String,
    /// Last day of the period.
    pub period_end: String,
    /// Hex SHA-256 of the signed round.
    pub round_hash: String,
    /// `local` or `two-server` (absent in old manifests: local).
    #[serde(default = "local")]
    pub mode: String,
    /// Currency of money figures.
    pub currency: String,
    /// Fewest noisy active members for a published cell.
    pub min_members: u32,
    /// Fewest accepted contributions for a merge.
    #[serde(default)]
    pub min_members_total: u32,
    /// Member schemas by source, e.g. `sales` → `sales.v1`.
    #[serde(default)]
    pub schemas: BTreeMap<String, String>,
}

/// The privacy parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Privacy {
    /// The privacy unit.
    pub unit: String,
    /// zCDP ρ each member spent on the round.
    pub rho: f64,
    /// The ε it amounts to at `delta`.
    pub epsilon: f64,
    /// δ.
    pub delta: f64,
    /// In words.
    pub statement: String,
    /// Two-server mode's parameters (absent in local mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_server: Option<TwoServerFacts>,
}

/// What a two-server round's guarantee rests on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TwoServerFacts {
    /// The fewest contributions the round could be merged with.
    pub n_min: u32,
    /// Colluding members tolerated.
    pub t: u32,
    /// The distributed discrete Gaussian's slack in ρ, summed over metrics
    /// (included in `rho`).
    pub slack: f64,
    /// Who ran the helper.
    pub helper_name: String,
    /// The helper's signing-key fingerprint.
    pub helper_key: String,
}

/// Counts of contributions.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Counts {
    /// Files given.
    pub files: usize,
    /// Accepted (one per member at most).
    pub accepted: usize,
    /// Files not used, by reason code (duplicates and superseded files
    /// included).
    pub rejected: BTreeMap<String, usize>,
}

/// One input file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileFact {
    /// Hex SHA-256 of its bytes (null when it could not be read).
    pub sha256: Option<String>,
    /// `accepted`, or the reason code it was not used.
    pub status: String,
    /// For duplicates, superseded and conflicting files: the other file's SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related: Option<String>,
}

/// One published table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableFact {
    /// Table (metric) name.
    pub name: String,
    /// `sum`, `count`, `active` or `ratio`.
    pub kind: String,
    /// The metric's description.
    pub description: String,
    /// The file, relative to the output directory.
    pub path: String,
    /// Rows (cells; for ratios, groups).
    pub rows: usize,
    /// Rows suppressed.
    pub suppressed: usize,
    /// Noise sd of one published cell (ratios: of one bin's count), in the
    /// measure's units.
    pub noise_sd: f64,
    /// Where members_noisy comes from.
    pub members_noisy: String,
    /// The unit of the metric's values (`EUR`, `rows`, `members`,
    /// `fraction`, `EUR per transaction`, …; absent in old manifests).
    #[serde(default)]
    pub unit: String,
    /// The data dictionary: every column of the table's file, in order
    /// (absent in old manifests).
    #[serde(default)]
    pub columns: Vec<ColumnFact>,
}

/// One column of a published table: an entry of the data dictionary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnFact {
    /// The column's name.
    pub name: String,
    /// `string`, `date`, `decimal(38,2)`, `int64`, `float64` or `boolean`.
    #[serde(rename = "type")]
    pub column_type: String,
    /// The unit of its values (empty for labels, verdicts and flags).
    #[serde(default)]
    pub unit: String,
    /// What it holds.
    pub description: String,
}

/// The data dictionary of a table in the published format.
pub fn dictionary(table: &crate::table::Table) -> Vec<ColumnFact> {
    table
        .dictionary()
        .into_iter()
        .map(|(name, info)| ColumnFact {
            name,
            column_type: info.ty.name().to_string(),
            unit: info.unit,
            description: info.description,
        })
        .collect()
}

fn local() -> String {
    "local".into()
}

/// One round found in a benchmark directory.
#[derive(Debug, Clone)]
pub struct PublishedRound {
    /// The manifest.
    pub manifest: Manifest,
    /// The manifest file.
    pub path: PathBuf,
}

/// Reads one manifest (tolerantly, see [`Manifest`]); a file larger than any
/// manifest can be is refused before it is read whole.
pub fn read(path: &Path) -> Result<Manifest, String> {
    let bytes = coopbench_fsio::read_bounded(path, MANIFEST_MAX_BYTES, "a manifest")
        .map_err(|e| format!("cannot read {}: {e}", coopbench_text::path(&path)))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{} is not a benchmark manifest: {e}",
            coopbench_text::path(&path)
        )
    })
}

/// The manifest's JSON as written: pretty, with a final newline.
pub fn to_json(manifest: &Manifest) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(manifest).expect("a manifest serialises");
    bytes.push(b'\n');
    bytes
}

/// The ids of the rounds with a manifest in `dir`, sorted (names that are
/// not valid round ids are skipped).
pub fn round_ids(dir: &Path) -> Result<Vec<String>, String> {
    let manifests = dir.join(MANIFESTS_DIR);
    let entries = std::fs::read_dir(&manifests).map_err(|e| {
        format!(
            "{} holds no benchmarks: cannot read {} ({e}); pass the folder `coopbench-aggregator merge --out` wrote",
            coopbench_text::path(&dir),
            coopbench_text::path(&manifests)
        )
    })?;
    let mut ids: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .map(str::to_string)
        })
        .filter(|id| path_id("round id", id).is_ok())
        .collect();
    ids.sort();
    Ok(ids)
}

/// Every round published in `dir`, oldest first (by period end, then merge
/// time, then id). A manifest that cannot be read is an error naming it.
pub fn rounds(dir: &Path) -> Result<Vec<PublishedRound>, String> {
    let mut out = Vec::new();
    for id in round_ids(dir)? {
        let path = dir.join(manifest_path(&id)?);
        out.push(PublishedRound {
            manifest: read(&path)?,
            path,
        });
    }
    if out.is_empty() {
        return Err(format!(
            "{} holds no published round (no manifests/<round>.json)",
            coopbench_text::path(&dir)
        ));
    }
    out.sort_by(|a, b| {
        let (x, y) = (&a.manifest, &b.manifest);
        (&x.round.period_end, &x.merged_at, &x.round.id).cmp(&(
            &y.round.period_end,
            &y.merged_at,
            &y.round.id,
        ))
    });
    Ok(out)
}

/// Picks the round `id` (or the latest) from `dir`.
pub fn pick(dir: &Path, id: Option<&str>) -> Result<PublishedRound, String> {
    let all = rounds(dir)?;
    match id {
        None => Ok(all
            .into_iter()
            .next_back()
            .expect("rounds() is never empty")),
        Some(id) => {
            let known: Vec<String> = all.iter().map(|r| r.manifest.round.id.clone()).collect();
            all.into_iter()
                .find(|r| r.manifest.round.id == id)
                .ok_or_else(|| {
                    format!(
                        "{} has no round '{}'; it has: {}",
                        coopbench_text::path(dir),
                        coopbench_text::shown(id),
                        coopbench_text::shown(&known.join(", "))
                    )
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_or_newer_manifest_reads_with_defaults() {
        let text = r#"{"round": {"id": "r1", "pool_id": "p", "period_start": "2025-01-01",
            "period_end": "2025-03-31", "round_hash": "ab", "currency": "EUR", "min_members": 5,
            "a_field_from_the_future": 1}, "another": [1, 2]}"#;
        let m: Manifest = serde_json::from_str(text).unwrap();
        assert_eq!(m.round.mode, "local");
        assert_eq!(m.round.min_members, 5);
        assert_eq!(m.contributions.accepted, 0);
        assert!(m.tables.is_empty());
        let missing_hash = text.replace(r#""round_hash": "ab","#, "");
        assert!(serde_json::from_str::<Manifest>(&missing_hash).is_err());
    }

    #[test]
    fn rounds_sort_by_period_and_skip_bad_names() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join(MANIFESTS_DIR);
        std::fs::create_dir_all(&m).unwrap();
        for (id, end) in [("b", "2025-06-30"), ("a", "2025-09-30")] {
            let text = format!(
                r#"{{"round": {{"id": "{id}", "pool_id": "p", "period_start": "2025-01-01",
                "period_end": "{end}", "round_hash": "ab", "currency": "EUR", "min_members": 5}}}}"#
            );
            std::fs::write(m.join(format!("{id}.json")), text).unwrap();
        }
        std::fs::write(m.join("Not An Id.json"), "{}").unwrap();
        let ids: Vec<String> = rounds(dir.path())
            .unwrap()
            .into_iter()
            .map(|r| r.manifest.round.id)
            .collect();
        assert_eq!(ids, ["b", "a"]);
        assert_eq!(pick(dir.path(), None).unwrap().manifest.round.id, "a");
        let e = pick(dir.path(), Some("zz")).unwrap_err();
        assert!(e.contains("has no round 'zz'; it has: b, a"), "{e}");
    }
}
