//! The default quick start (`examples/quickstart.sh`, two-server mode) run as
//! a new association would, in a scratch copy of `examples/` (the binaries
//! this test run built stand in for its `cargo build`): every figure it
//! publishes carries a verdict, each verdict follows the published rule (a
//! readable total within ±25 %, a readable percentile's interval at most 5
//! bins), `inspect` never prints a number for a figure too noisy to read,
//! and the share of readable figures is reported.

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Float64Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "data" {
                copy_dir(&e.path(), &to.join(e.file_name()));
            }
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn the_default_quick_start_publishes_figures_judged_by_the_rule() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo.join("examples"), &tmp.path().join("examples"));
    // A `cargo` that does nothing: the binaries are already built.
    let shim = tmp.path().join("shim");
    std::fs::create_dir_all(&shim).unwrap();
    std::fs::write(shim.join("cargo"), "#!/bin/sh\nexit 0\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(shim.join("cargo"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let _ = crate::common::aggregator_bin();
    let bin = Path::new(env!("CARGO_BIN_EXE_coopbench")).parent().unwrap();
    let target = bin.parent().unwrap();
    let path = format!(
        "{}:{}",
        shim.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg(tmp.path().join("examples/quickstart.sh"))
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("two-server mode"), "{stdout}");

    let bench = tmp.path().join("examples/data/benchmarks");
    let (mut readable, mut total) = (0usize, 0usize);
    for t in [
        "revenue",
        "gross_margin",
        "rent_share",
        "wage_share",
        "avg_ticket",
        "growth",
    ] {
        let file = bench.join(t).join("2025q4.parquet");
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&file).unwrap()).unwrap();
        let meta = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .cloned()
            .unwrap();
        let width: Option<f64> = meta.iter().find(|k| k.key == "bins_lo").map(|_| {
            let get = |n: &str| -> f64 {
                meta.iter()
                    .find(|k| k.key == n)
                    .unwrap()
                    .value
                    .clone()
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            (get("bins_hi") - get("bins_lo")) / get("bins_count")
        });
        for batch in builder.build().unwrap() {
            let b = batch.unwrap();
            // Figures are Float64, Int64 or Decimal128 (money in cents).
            let num = |c: &str| {
                let col = b.column_by_name(c).unwrap();
                if let Some(a) = col.as_primitive_opt::<Float64Type>() {
                    a.value(0)
                } else if let Some(a) = col.as_primitive_opt::<Int64Type>() {
                    a.value(0) as f64
                } else {
                    let a = col.as_primitive::<Decimal128Type>();
                    a.value(0) as f64 / 10f64.powi(i32::from(a.scale()))
                }
            };
            let figures: Vec<(&str, String, String, String)> = match width {
                None => vec![(
                    "estimate",
                    "estimate".into(),
                    "ci95_low".into(),
                    "ci95_high".into(),
                )],
                Some(_) => ["p10", "p25", "p50", "p75", "p90", "mean", "members_noisy"]
                    .iter()
                    .map(|p| {
                        let base = if *p == "members_noisy" { "members" } else { p };
                        (
                            *p,
                            p.to_string(),
                            format!("{base}_ci95_low"),
                            format!("{base}_ci95_high"),
                        )
                    })
                    .collect(),
            };
            for (name, v, lo, hi) in figures {
                let vcol = coopbench_privacy::accuracy::verdict_column(name);
                let verdict = b
                    .column_by_name(&vcol)
                    .unwrap_or_else(|| panic!("{t}: {vcol}"));
                let verdict = verdict.as_string::<i32>().value(0).to_string();
                let (v, lo, hi) = (num(&v), num(&lo), num(&hi));
                total += 1;
                if verdict == "readable" {
                    readable += 1;
                    // The rule, at least this strict.
                    match (name, width) {
                        ("p10" | "p25" | "p50" | "p75" | "p90", Some(w)) => {
                            assert!(
                                hi - lo <= 5.0 * w + 1e-9,
                                "{t} {name}: [{lo}, {hi}] readable"
                            )
                        }
                        _ => assert!(
                            (v - lo).max(hi - v) <= 0.25 * v.abs() + 1e-9,
                            "{t} {name}: {v} in [{lo}, {hi}] readable"
                        ),
                    }
                } else {
                    assert!(
                        ["rough", "too noisy", "suppressed"].contains(&verdict.as_str()),
                        "{t} {name}: {verdict}"
                    );
                }
            }
        }
    }
    assert_eq!(total, 36, "every figure carries a verdict");
    println!(
        "readable: {readable} of {total} ({:.0}%)",
        100.0 * readable as f64 / total as f64
    );
    // inspect prints the same count, and no number where it says too noisy.
    let line = stdout.lines().find(|l| l.contains("All figures:")).unwrap();
    assert!(line.contains(&format!("{readable} readable")), "{line}");
    let inspect = stdout
        .lines()
        .skip_while(|l| !l.contains("Contributions:"))
        .take_while(|l| !l.contains("All figures:"));
    for l in inspect.filter(|l| {
        l.contains("too noisy")
            && !l.contains("figures:")
            && !l.contains('[')
            && !l.contains("Every number")
    }) {
        for cell in l.split("  ").filter(|c| c.contains("too noisy")) {
            assert_eq!(cell.trim(), "too noisy", "{l}");
        }
    }
}
