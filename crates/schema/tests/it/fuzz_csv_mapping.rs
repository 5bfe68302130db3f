//! Fuzz harness for a member's CSV read with a column-mapping file, in
//! process (the CLI harness is tests/validate_props.rs): proptest with a
//! fixed number of cases, so `cargo test` and CI run it in bounded time.
//! Mapping files and CSVs are mutated from valid ones; whatever the bytes,
//! the mapping is accepted or refused with a message naming the file, and
//! validation returns a report (or a file-level error) whose every problem
//! names the file and a row inside it.

use coopbench_schema::{builtin, validate, Mapping, ReadOptions};
use coopbench_testkit::mutate::{self, apply, Mutation};
use proptest::prelude::*;

const MAPPING: &str = "date_format = \"%d.%m.%Y\"\nignore = [\"Kasse\"]\n[columns]\n\"Datum\" = \"date\"\n\"Warengruppe\" = \"category\"\n";
const CSV: &str =
    "Datum;Warengruppe;channel;net_amount;units;transactions;currency;receipt_id;Kasse\n\
05.01.2025;bread;store;12,50;3;1;EUR;R1;K1\n\
06.01.2025;cakes;online;\"1.234,5\";1;1;EUR;R2;K2\n\
07.01.2025;drinks;store;-2,5;0;1;EUR;;K1\n";

fn interesting() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\"".to_vec()),
        Just(b";".to_vec()),
        Just(b",".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"%".to_vec()),
        Just(b"%H".to_vec()),
        Just(b"%Q".to_vec()),
        Just(b"=".to_vec()),
        Just(b"[".to_vec()),
        Just(vec![0xEF, 0xBB, 0xBF]),
        Just(vec![0xFF]),
        Just(vec![0xC3]),
        Just(b"NaN".to_vec()),
        Just(b"1e308".to_vec()),
        prop::collection::vec(any::<u8>(), 1..6),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    mutate::mutations(interesting(), 30, 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn csv_with_a_mapping(map_m in mutations(), csv_m in mutations()) {
        let dir = tempfile::tempdir().unwrap();
        let map_path = dir.path().join("map.toml");
        let csv_path = dir.path().join("sales.csv");
        std::fs::write(&map_path, apply(MAPPING.as_bytes().to_vec(), &map_m)).unwrap();
        let csv = apply(CSV.as_bytes().to_vec(), &csv_m);
        std::fs::write(&csv_path, &csv).unwrap();
        let mapping = match Mapping::from_path(&map_path) {
            Ok(m) => m,
            Err(e) => {
                prop_assert!(e.contains("map.toml"), "{e}");
                return Ok(());
            }
        };
        let options = ReadOptions {
            delimiter: b';',
            decimal_comma: true,
            mapping,
            progress: false,
            ..ReadOptions::default()
        };
        let schema = builtin("sales").unwrap();
        match validate(&csv_path, &schema, &options, 50) {
            Ok(report) => {
                let lines = 1 + csv.iter().filter(|b| **b == b'\n').count() as u64;
                for p in &report.problems {
                    prop_assert!(p.file.ends_with("sales.csv"));
                    prop_assert!(p.row >= 1 && p.row <= lines + 1, "row {} of {lines}: {p:?}", p.row);
                }
                prop_assert_eq!(report.valid, report.problems_total == 0);
            }
            Err(e) => prop_assert!(e.to_string().contains("sales.csv"), "{e}"),
        }
    }
}
