//! Property tests: whatever bytes a member's file holds, `coopbench validate`
//! answers with exit code 0 (valid) or 1 (problems listed) and never panics:
//! the file exists and the options are valid, so exit 2 (a usage or I/O
//! error) would misreport a data problem.

use crate::common::{sales_csv, Dir};
use coopbench_testkit::mutate::{self, apply};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        // Failing inputs are printed in the failure message; do not write
        // regression files into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Option sets a member might pass, all valid on the command line.
const OPTION_SETS: &[&[&str]] = &[
    &[],
    &["--format", "json"],
    &["--max-errors", "1"],
    &["--encoding", "windows-1252"],
    &["--delimiter", ";", "--decimal-comma"],
    &["--delimiter", "tab", "--format", "json"],
];

/// Runs the binary on `bytes` saved as `sales.csv` and checks it did not crash
/// and that its output agrees with its exit code.
fn check_no_crash(bytes: &[u8], options: &[&str]) -> Result<(), TestCaseError> {
    let d = Dir::new();
    d.write("sales.csv", bytes);
    let mut args: Vec<&str> = options.to_vec();
    args.push("sales.csv");
    let run = d.validate(&args);
    prop_assert!(
        matches!(run.code, 0 | 1),
        "exit code {} for {:?}\nstdout:\n{}\nstderr:\n{}",
        run.code,
        args,
        run.stdout,
        run.stderr
    );
    prop_assert!(
        !run.stderr.contains("panicked"),
        "panic for {:?}:\n{}",
        args,
        run.stderr
    );
    prop_assert!(
        !run.stdout.contains("panicked"),
        "panic for {:?}:\n{}",
        args,
        run.stdout
    );
    {
        let valid = run.code == 0;
        if options.contains(&"json") {
            let v: serde_json::Value = serde_json::from_str(&run.stdout).map_err(|e| {
                TestCaseError::fail(format!("stdout is not JSON ({e}):\n{}", run.stdout))
            })?;
            prop_assert_eq!(v["valid"].as_bool(), Some(valid), "{}", run.stdout);
            let f = &v["files"][0];
            let shown = f["problems"].as_array().map_or(0, Vec::len) as u64;
            let total = f["problems_total"].as_u64().unwrap_or(0);
            prop_assert!(shown <= total, "{}", run.stdout);
            prop_assert_eq!(total == 0, valid, "{}", run.stdout);
        } else {
            let summary = if valid {
                "sales.csv: OK ("
            } else {
                "sales.csv: INVALID ("
            };
            prop_assert!(
                run.stdout.lines().any(|l| l.starts_with(summary)),
                "exit {} without a {:?} summary:\n{}",
                run.code,
                summary,
                run.stdout
            );
            let limit = if options.contains(&"--max-errors") {
                1
            } else {
                100
            };
            prop_assert!(run.problems("sales.csv").len() <= limit, "{}", run.stdout);
        }
    }
    Ok(())
}

/// A valid sales file of a few rows, with some variety in its values.
fn valid_sales() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            1u32..=28,
            prop::sample::select(vec![
                "bread", "pastry", "cakes", "savoury", "drinks", "other",
            ]),
            prop::sample::select(vec!["store", "online", "wholesale"]),
            -5000i64..5000,
            0u32..100,
            prop::sample::select(vec!["EUR", "CHF", "\"EUR\""]),
        ),
        1..8,
    )
    .prop_map(|rows| {
        let rows: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(i, (day, cat, ch, cents, units, cur))| {
                format!(
                    "2025-03-{day:02},{cat},{ch},{}.{:02},{units},{},{cur},R{i}",
                    cents / 100,
                    (cents % 100).abs(),
                    units / 3
                )
            })
            .collect();
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        sales_csv(&rows)
    })
}

/// Bytes that matter to a CSV reader and a UTF-8 decoder.
fn interesting_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\"".to_vec()),
        Just(b",".to_vec()),
        Just(b";".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\"\"".to_vec()),
        Just(vec![0xFF]),
        Just(vec![0xC3]),
        Just(vec![0x80]),
        Just(vec![0xE9]),
        Just(vec![0xEF, 0xBB, 0xBF]),
        Just(vec![0xF0, 0x9F, 0x8D]),
        Just(vec![0]),
        Just("ü".as_bytes().to_vec()),
        Just(b"NaN".to_vec()),
        Just(b"-INF".to_vec()),
        Just(b"99999999999999999999".to_vec()),
        Just(b"-".to_vec()),
        Just(b"+".to_vec()),
        prop::collection::vec(any::<u8>(), 1..4),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// (a) Arbitrary bytes in `sales.csv`.
    #[test]
    fn arbitrary_bytes_never_crash(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        options in prop::sample::select(OPTION_SETS.to_vec()),
    ) {
        check_no_crash(&bytes, options)?;
    }

    /// (b) A valid sales file with random edits: deleted, inserted and replaced
    /// bytes, quotes, delimiters, newlines and invalid UTF-8.
    #[test]
    fn mutated_valid_files_never_crash(
        file in valid_sales(),
        mutations in mutate::mutations(interesting_bytes(), 20, 1..8),
        options in prop::sample::select(OPTION_SETS.to_vec()),
    ) {
        let bytes = apply(file.into_bytes(), &mutations);
        check_no_crash(&bytes, options)?;
    }
}

/// The unmutated generator output is valid, so the mutations are what the
/// property exercises (a guard against a generator that is invalid anyway).
#[test]
fn the_generated_sales_files_are_valid() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    for _ in 0..3 {
        let file = valid_sales().new_tree(&mut runner).unwrap().current();
        let d = Dir::new();
        d.write("sales.csv", &file);
        d.validate(&["sales.csv"]).expect_code(0);
    }
}
