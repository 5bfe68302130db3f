//! Helpers for the end-to-end round tests: both CLIs run as the association
//! and the members run them, the true figures of generated member files
//! computed independently of the crates (own CSV parsing, own cell sums), and
//! the published Parquet files read back with their column statistics.

use super::{aggregator_bin, Run};
use arrow_array::Array;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::reader::FileReader;
use parquet::file::serialized_reader::{ReadOptionsBuilder, SerializedFileReader};
use parquet::file::statistics::Statistics;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

/// "Today" for every command of these tests: the rounds are dated.
pub const TODAY: &str = "2026-11-23";

/// Runs `bin ARGS...` in `cwd` with `COOPBENCH_TODAY` pinned and none of the
/// caller's coopbench settings.
pub fn run_bin(bin: &Path, cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(bin)
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .env_remove("COOPBENCH_STATE_DIR")
        .env_remove("COOPBENCH_CRASH_AT")
        .env("COOPBENCH_TODAY", TODAY)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    let mut all = vec![bin
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()];
    all.extend(args.iter().map(|s| s.to_string()));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: all,
    }
}

/// Runs `coopbench-aggregator ARGS...` in `cwd` (the association's side).
pub fn aggregator(cwd: &Path, args: &[&str]) -> Run {
    run_bin(&aggregator_bin(), cwd, args)
}

/// Runs `coopbench ARGS...` in `cwd` (a member's side).
pub fn coopbench(cwd: &Path, args: &[&str]) -> Run {
    run_bin(Path::new(env!("CARGO_BIN_EXE_coopbench")), cwd, args)
}

/// One data row of a member's file, as the round sees it: the month
/// (`YYYY-MM`), the text fields by name, and the numeric fields by name as
/// exact integers in hundredths (amounts in cents, counts times 100).
#[derive(Debug, Clone)]
pub struct Row {
    /// `YYYY-MM` of the row's date.
    pub month: String,
    /// Text fields (category, channel, cost_type, ...).
    pub text: HashMap<String, String>,
    /// Numeric fields in hundredths of their unit, exactly.
    pub hundredths: HashMap<String, i64>,
}

/// A decimal such as `-12.05`, `7` or `0.5` as an exact count of hundredths.
pub fn hundredths(s: &str) -> i64 {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    assert!(
        frac.len() <= 2 && frac.bytes().all(|b| b.is_ascii_digit()),
        "not a decimal with at most two decimals: {s:?}"
    );
    let int: i64 = int
        .parse()
        .unwrap_or_else(|_| panic!("not a decimal: {s:?}"));
    let frac: i64 = format!("{frac:0<2}").parse().expect("two digits");
    let v = int * 100 + frac;
    if neg {
        -v
    } else {
        v
    }
}

/// Reads a generated CSV file (header first): `text` fields kept as text,
/// `numbers` as exact hundredths, the month from `date`.
pub fn read_rows(path: &Path, text: &[&str], numbers: &[&str]) -> Vec<Row> {
    let mut r =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let header = r.headers().expect("a header").clone();
    let pos = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{} has no column {name}", path.display()))
    };
    let date = pos("date");
    let text: Vec<(String, usize)> = text.iter().map(|t| (t.to_string(), pos(t))).collect();
    let numbers: Vec<(String, usize)> = numbers.iter().map(|n| (n.to_string(), pos(n))).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let d = &rec[date];
            assert!(d.len() == 10 && d.as_bytes()[7] == b'-', "a date: {d:?}");
            Row {
                month: d[..7].to_string(),
                text: text
                    .iter()
                    .map(|(n, i)| (n.clone(), rec[*i].to_string()))
                    .collect(),
                hundredths: numbers
                    .iter()
                    .map(|(n, i)| (n.clone(), hundredths(&rec[*i])))
                    .collect(),
            }
        })
        .collect()
}

/// One published table, read back with the Arrow reader.
#[derive(Debug)]
pub struct Published {
    /// The file.
    pub path: PathBuf,
    /// The dimension (Utf8) columns, in file order.
    pub dims: Vec<String>,
    /// The figure (Float64) columns, in file order.
    pub figures: Vec<String>,
    /// The rows.
    pub rows: Vec<PublishedRow>,
    /// The footer's key-value metadata.
    pub metadata: BTreeMap<String, String>,
}

/// One row of a published table.
#[derive(Debug, Clone)]
pub struct PublishedRow {
    /// One label per dimension column.
    pub labels: Vec<String>,
    /// Figure column → value (None: null).
    pub figures: BTreeMap<String, Option<f64>>,
    /// Verdict column → verdict (None: null).
    pub verdicts: BTreeMap<String, Option<String>>,
    /// The `suppressed` column.
    pub suppressed: bool,
}

impl PublishedRow {
    /// A figure that must be present.
    pub fn get(&self, column: &str) -> f64 {
        self.figures
            .get(column)
            .copied()
            .flatten()
            .unwrap_or_else(|| panic!("no {column} in {self:?}"))
    }
}

impl Published {
    /// The values of a figure column that are not null.
    pub fn values(&self, column: &str) -> Vec<f64> {
        self.rows
            .iter()
            .filter_map(|r| r.figures.get(column).copied().flatten())
            .collect()
    }
}

/// Reads a benchmark Parquet file through the format's own reader: the
/// dimensions the round splits by (the other dimension columns are null in
/// every row), every figure as a number (money from its cents), the verdicts
/// and the `suppressed` flag, which is never null.
pub fn read_published(path: &Path) -> Published {
    let t = coopbench_benchmark::table::read(path).unwrap_or_else(|e| panic!("{e}"));
    let raw = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    for batch in raw {
        let batch = batch.unwrap();
        let sup = batch
            .column_by_name("suppressed")
            .expect("a suppressed column");
        assert_eq!(sup.null_count(), 0, "suppressed is never null");
        for d in t.all_dims.iter().filter(|d| !t.dims.contains(d)) {
            let c = batch.column_by_name(d).unwrap();
            assert_eq!(
                c.null_count(),
                c.len(),
                "{d}: the round does not split by it, yet it has labels"
            );
        }
    }
    let rows = t
        .rows
        .iter()
        .map(|r| PublishedRow {
            labels: t
                .dims
                .iter()
                .map(|d| r.labels.get(d).cloned().unwrap_or_default())
                .collect(),
            figures: r.figures.clone(),
            verdicts: r.verdicts.clone(),
            suppressed: r.suppressed,
        })
        .collect();
    Published {
        path: path.to_path_buf(),
        dims: t.dims.clone(),
        figures: t.columns.clone(),
        rows,
        metadata: t.metadata.clone(),
    }
}

/// Checks that the statistics a reader can see without decoding a page — the
/// column chunk statistics in the footer and the page index (column index) —
/// hold for every Float64 column exactly what the published, non-null values
/// allow: the chunk's min/max are the min/max over published values, its null
/// count is the number of nulls, and every page's min/max is a published value
/// (null pages have none). A suppressed cell's figure therefore appears in no
/// statistic. Returns how many (column chunk statistics, page index pages)
/// were found and checked, so that a caller can tell the check was not vacuous.
pub fn check_statistics(table: &Published) -> (usize, usize) {
    let path = &table.path;
    let file = std::fs::File::open(path).expect("open the Parquet file");
    let reader = SerializedFileReader::new_with_options(
        file,
        ReadOptionsBuilder::new().with_page_index().build(),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let meta = reader.metadata();
    let (mut chunks, mut pages) = (0, 0);
    let mut offset = 0usize;
    for (rg, group) in meta.row_groups().iter().enumerate() {
        let n = group.num_rows() as usize;
        let rows = &table.rows[offset..offset + n];
        offset += n;
        let page_index = meta.page_index_for_row_group(rg);
        for (ci, col) in group.columns().iter().enumerate() {
            let name = col.column_descr().name().to_string();
            if !table.figures.contains(&name) {
                continue;
            }
            // Money is stored as cents (16-byte decimals), counts as INT64:
            // the published values in the stored unit.
            let scale = 10f64.powi(col.column_descr().type_scale().max(0));
            let values: Vec<f64> = rows.iter().filter_map(|r| r.figures[&name]).collect();
            let nulls = (n - values.len()) as u64;
            let stored: Vec<i128> = values.iter().map(|v| (v * scale).round() as i128).collect();
            let published: BTreeSet<u64> = values.iter().map(|v| v.to_bits()).collect();
            let published_int: BTreeSet<i128> = stored.iter().copied().collect();
            let decimal = |b: &[u8]| i128::from_be_bytes(b.try_into().expect("16-byte decimals"));
            let what = format!("{} column {name} (row group {rg})", path.display());
            match col.statistics() {
                Some(Statistics::Double(s)) => {
                    chunks += 1;
                    let lo = values.iter().copied().reduce(f64::min);
                    let hi = values.iter().copied().reduce(f64::max);
                    assert_eq!(s.min_opt().copied(), lo, "{what}: chunk min");
                    assert_eq!(s.max_opt().copied(), hi, "{what}: chunk max");
                    if let Some(nc) = s.null_count_opt() {
                        assert_eq!(nc, nulls, "{what}: chunk null count");
                    }
                }
                Some(Statistics::Int64(s)) => {
                    chunks += 1;
                    let lo = s.min_opt().map(|v| i128::from(*v));
                    let hi = s.max_opt().map(|v| i128::from(*v));
                    assert_eq!(lo, stored.iter().copied().min(), "{what}: chunk min");
                    assert_eq!(hi, stored.iter().copied().max(), "{what}: chunk max");
                    if let Some(nc) = s.null_count_opt() {
                        assert_eq!(nc, nulls, "{what}: chunk null count");
                    }
                }
                Some(Statistics::FixedLenByteArray(s)) => {
                    chunks += 1;
                    let lo = s.min_opt().map(|v| decimal(v.data()));
                    let hi = s.max_opt().map(|v| decimal(v.data()));
                    assert_eq!(lo, stored.iter().copied().min(), "{what}: chunk min");
                    assert_eq!(hi, stored.iter().copied().max(), "{what}: chunk max");
                    if let Some(nc) = s.null_count_opt() {
                        assert_eq!(nc, nulls, "{what}: chunk null count");
                    }
                }
                None => {}
                Some(other) => panic!("{what}: statistics of another type: {other:?}"),
            }
            match page_index.column_index(ci) {
                Some(ColumnIndexMetaData::DOUBLE(idx)) => {
                    for p in 0..idx.num_pages() as usize {
                        pages += 1;
                        for v in [idx.min_value(p), idx.max_value(p)].into_iter().flatten() {
                            assert!(
                                published.contains(&v.to_bits()),
                                "{what}: page {p} has min/max {v}, which is no published value"
                            );
                        }
                    }
                }
                Some(ColumnIndexMetaData::INT64(idx)) => {
                    for p in 0..idx.num_pages() as usize {
                        pages += 1;
                        for v in [idx.min_value(p), idx.max_value(p)].into_iter().flatten() {
                            assert!(
                                published_int.contains(&i128::from(*v)),
                                "{what}: page {p} has min/max {v}, which is no published value"
                            );
                        }
                    }
                }
                Some(ColumnIndexMetaData::FIXED_LEN_BYTE_ARRAY(idx)) => {
                    for p in 0..idx.num_pages() as usize {
                        pages += 1;
                        for v in [idx.min_value(p), idx.max_value(p)].into_iter().flatten() {
                            let v = decimal(v);
                            assert!(
                                published_int.contains(&v),
                                "{what}: page {p} has min/max {v}, which is no published value"
                            );
                        }
                    }
                }
                None => {}
                Some(_) => panic!("{what}: page index of another type"),
            }
        }
    }
    assert_eq!(offset, table.rows.len(), "row groups cover every row");
    (chunks, pages)
}

/// Every number a text holds: JSON numbers, and the numeric tokens inside
/// its strings (hex digests excluded, they are not figures).
pub fn numbers_in_json(v: &serde_json::Value, out: &mut Vec<f64>) {
    match v {
        serde_json::Value::Number(n) => out.extend(n.as_f64()),
        serde_json::Value::String(s) => numbers_in_text(s, out),
        serde_json::Value::Array(a) => a.iter().for_each(|x| numbers_in_json(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                if !(k == "sha256" || k == "related" || k == "round_hash") {
                    numbers_in_json(x, out);
                }
            }
        }
        _ => {}
    }
}

/// The numeric tokens of a text (`1.5e-6`, `-3`, `123456.78`).
pub fn numbers_in_text(s: &str, out: &mut Vec<f64>) {
    for tok in s.split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E' | '+')))
    {
        let tok = tok.trim_matches(|c: char| matches!(c, '.' | '-' | 'e' | 'E' | '+'));
        if let Ok(v) = tok.parse::<f64>() {
            out.push(v);
        }
    }
}
