//! `coopbench-aggregator merge` end to end on contributions with chosen
//! values: every rejection reason, duplicates, superseded and conflicting
//! files in one run; exact estimates; suppression; percentiles; Parquet
//! footer metadata and statistics; refusals.

#![allow(clippy::needless_range_loop)] // cells are indexed in several columns at once

use crate::common::association::{cell_counts, Setup};
use crate::common::round::{numbers_in_json, numbers_in_text};
use arrow_array::{
    Array, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array, RecordBatch,
    StringArray,
};
use arrow_schema::DataType;
use base64::Engine as _;
use coopbench_aggregator::merge::{Merger, Status};
use coopbench_aggregator::verify::Context;
use coopbench_privacy::estimate::Z_95;
use coopbench_protocol::{signed, Envelope, SigningKey, CONTRIBUTION_TYPE};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::statistics::Statistics;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The revenue/active cell that only two members are active in.
const SPARSE: usize = 17;
/// The revenue each member reports in the sparse cell: if it leaked, it would
/// stand out in any statistic (and it is within the round's clip bound plus
/// 12σ of noise, so the range check accepts it).
const SECRET: i64 = 777_777;

/// Member `i`'s values (the "noise" is part of them) for sequence `seq`.
fn values(i: usize, seq: u32) -> Vec<Vec<i64>> {
    let (i64i, s) = (i as i64, i64::from(seq));
    let revenue = (0..18)
        .map(|c| {
            if c == SPARSE {
                SECRET
            } else {
                1000 + 10 * i64i + c as i64 + 100 * s
            }
        })
        .collect();
    let active = (0..18)
        .map(|c| {
            if c == SPARSE {
                i64::from(i == 2 || i == 3)
            } else {
                1
            }
        })
        .collect();
    let costs = (0..6).map(|c| 500 * i64i + c + 50 * s).collect();
    // Ratio histograms: the value bins, then the no-value bin.
    let mut margin = vec![0; 21];
    margin[8 + i % 4] = 1;
    if i == 0 {
        // Noise that leaves the bin negative: the projection sets it to 0.
        margin[0] = -3;
    }
    let mut rent = vec![0; 11];
    rent[3] = 1;
    let mut ticket = vec![0; 21];
    ticket[i % 20] = 1;
    vec![revenue, active, costs, margin, rent, ticket]
}

/// The accepted (member, sequence) pairs of the big scenario.
const ACCEPTED: [(usize, u32); 10] = [
    (0, 2),
    (2, 1),
    (3, 1),
    (4, 1),
    (5, 1),
    (6, 1),
    (7, 2),
    (9, 1),
    (10, 1),
    (11, 1),
];

fn expected_sums() -> Vec<Vec<i128>> {
    let mut out: Vec<Vec<i128>> = values(0, 1).iter().map(|m| vec![0; m.len()]).collect();
    for (i, s) in ACCEPTED {
        for (acc, m) in out.iter_mut().zip(values(i, s)) {
            for (a, v) in acc.iter_mut().zip(m) {
                *a += i128::from(v);
            }
        }
    }
    out
}

/// Writes the scenario's files into `dir/contributions`; returns the
/// directory and the expected reason code per file name.
fn scenario(s: &Setup) -> (PathBuf, BTreeMap<String, &'static str>) {
    let mut want = BTreeMap::new();
    let mut put = |name: &str, code: &'static str, bytes: Vec<u8>| {
        let p = s.path(&format!("contributions/{name}"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        want.insert(name.to_string(), code);
    };
    let signed_json =
        |c: &coopbench_protocol::Contribution, k: &SigningKey| signed::sign(c, k).to_json();
    let member =
        |i: usize, seq: u32| signed_json(&s.contribution(i, seq, values(i, seq)), &s.members[i]);

    // Member 0: sequence 2 read first, then its older sequence 1.
    put("a-m0-s2.json", "accepted", member(0, 2));
    put("b-m0-s1.json", "superseded", member(0, 1));
    // Member 1: two different files with sequence 1.
    put("c-m1-s1-x.json", "conflict", member(1, 1));
    let mut other = values(1, 1);
    other[0][0] += 1;
    put(
        "c-m1-s1-y.json",
        "conflict",
        signed_json(&s.contribution(1, 1, other), &s.members[1]),
    );
    // Member 2 and copies of its contribution: identical bytes, and the same
    // signed content in other bytes (CRLF line ends, compact JSON, a
    // stranger's signature added first, another roster member's signature
    // added first). Each is counted once; member 2 is kept.
    put("d-m2-a.json", "accepted", member(2, 1));
    put("d-m2-b-copy.json", "duplicate", member(2, 1));
    let m2 = member(2, 1);
    let crlf = String::from_utf8(m2.clone()).unwrap().replace('\n', "\r\n");
    put("d-m2-c-crlf.json", "duplicate", crlf.into_bytes());
    let env2 = Envelope::from_json(&m2).unwrap();
    put(
        "d-m2-d-compact.json",
        "duplicate",
        serde_json::to_vec(&env2).unwrap(),
    );
    let stranger_sig = Envelope::sign(
        "x",
        &serde_json::json!({}),
        &SigningKey::generate().unwrap(),
    )
    .unwrap()
    .signatures[0]
        .clone();
    let mut extra = env2.clone();
    extra.signatures.insert(0, stranger_sig);
    put("d-m2-e-extra-sig.json", "duplicate", extra.to_json());
    let payload = base64::engine::general_purpose::STANDARD
        .decode(&env2.payload)
        .unwrap();
    let c2: coopbench_protocol::Contribution = serde_json::from_slice(&payload).unwrap();
    let mut cosigned = env2.clone();
    cosigned
        .signatures
        .insert(0, signed::sign(&c2, &s.members[5]).signatures[0].clone());
    put("d-m2-f-cosigned.json", "duplicate", cosigned.to_json());
    // Member 3 and a copy altered after signing.
    let good = member(3, 1);
    put("e-m3.json", "accepted", good.clone());
    let mut env = Envelope::from_json(&good).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut c: serde_json::Value =
        serde_json::from_slice(&b64.decode(&env.payload).unwrap()).unwrap();
    c["metrics"][0]["values"][0] = serde_json::json!(999_999);
    env.payload = b64.encode(coopbench_protocol::canonical_json(&c).unwrap());
    put("e-m3-tampered.json", "bad_signature", env.to_json());
    // Member 4, and files of it for another round and another round version.
    put("f-m4.json", "accepted", member(4, 1));
    let mut wrong = s.contribution(4, 1, values(4, 1));
    wrong.round_id = "2026q1".into();
    put(
        "f-m4-wrong-round.json",
        "wrong_round",
        signed_json(&wrong, &s.members[4]),
    );
    let mut old = s.contribution(4, 1, values(4, 1));
    old.round_hash = "0".repeat(64);
    put(
        "f-m4-old-round.json",
        "wrong_round",
        signed_json(&old, &s.members[4]),
    );
    // Member 5, and a file it signed claiming to be member 6.
    put("g-m5.json", "accepted", member(5, 1));
    let mut claim = s.contribution(6, 1, values(6, 1));
    claim.metrics[0].values[0] += 5;
    put(
        "g-m5-as-m6.json",
        "signer_mismatch",
        signed_json(&claim, &s.members[5]),
    );
    put("h-m6.json", "accepted", member(6, 1));
    // Member 7: sequence 1 first, then 2 (the first is read again and subtracted).
    put("i-m7-s1.json", "superseded", member(7, 1));
    put("z-m7-s2.json", "accepted", member(7, 2));
    // Member 8: sequence 1, then two different sequence 2 files: nothing of it counts.
    put("j-m8-s1.json", "superseded", member(8, 1));
    put("j-m8-s2-x.json", "conflict", member(8, 2));
    let mut other = values(8, 2);
    other[2][0] += 1;
    put(
        "j-m8-s2-y.json",
        "conflict",
        signed_json(&s.contribution(8, 2, other), &s.members[8]),
    );
    put("k-m9.json", "accepted", member(9, 1));
    put("k-m10.json", "accepted", member(10, 1));
    put("k-m11.json", "accepted", member(11, 1));
    // A stranger's key.
    let stranger = SigningKey::generate().unwrap();
    let mut foreign = s.contribution(9, 1, values(9, 1));
    foreign.member_key_id = stranger.public().key_id();
    put(
        "l-foreign.json",
        "unknown_signer",
        signed_json(&foreign, &stranger),
    );
    // Not made by coopbench.
    let mut tk = s.contribution(9, 1, values(9, 1));
    tk.toolkit_version = "evil-tool 1.0".into();
    put(
        "m-toolkit.json",
        "toolkit_version",
        signed_json(&tk, &s.members[9]),
    );
    // A metric with one value missing.
    let mut short = values(10, 1);
    short[0].pop();
    put(
        "n-grid.json",
        "grid",
        signed_json(&s.contribution(10, 1, short), &s.members[10]),
    );
    // A value no clipped, noised figure can reach.
    let mut huge = values(10, 1);
    huge[2][3] = 1 << 62;
    put(
        "o-range.json",
        "value_range",
        signed_json(&s.contribution(10, 1, huge), &s.members[10]),
    );
    // One member poisoning the round: 2^62 − 1 in every cell (every estimate
    // would be ~4.6e18 and every suppressed cell published).
    let poison: Vec<Vec<i64>> = values(10, 1)
        .iter()
        .map(|m| vec![(1 << 62) - 1; m.len()])
        .collect();
    put(
        "o-range-poison.json",
        "value_range",
        signed_json(&s.contribution(10, 1, poison), &s.members[10]),
    );
    // Just past the round's bound: the revenue clip bound plus 12σ, plus one.
    let mut edge = values(10, 1);
    let tail = (12.0 * s.plans[0].sigma).ceil() as i64;
    edge[0][4] = 30_000 + tail + 1;
    put(
        "o-range-edge.json",
        "value_range",
        signed_json(&s.contribution(10, 1, edge), &s.members[10]),
    );
    let mut neg = values(10, 1);
    neg[2][3] = i64::MIN;
    put(
        "o-range-min.json",
        "value_range",
        signed_json(&s.contribution(10, 1, neg), &s.members[10]),
    );
    // Less noise than the round requires.
    let mut thin = s.contribution(11, 1, values(11, 1));
    thin.metrics[0].noise.sigma /= 2.0;
    put(
        "p-noise.json",
        "noise_parameters",
        signed_json(&thin, &s.members[11]),
    );
    put(
        "q-not-json.json",
        "malformed",
        b"hello, association".to_vec(),
    );
    put(
        "r-wrong-type.json",
        "wrong_type",
        signed::sign(&s.round, &s.members[2]).to_json(),
    );
    let mut zero = s.contribution(11, 1, values(11, 1));
    zero.sequence = 0;
    put(
        "s-seq0.json",
        "bad_sequence",
        signed_json(&zero, &s.members[11]),
    );
    let junk = Envelope::sign(
        CONTRIBUTION_TYPE,
        &serde_json::json!({"x": 1}),
        &s.members[11],
    )
    .unwrap();
    put("t-bad-payload.json", "bad_payload", junk.to_json());
    // Not a *.json file: not read at all.
    std::fs::write(s.path("contributions/readme.txt"), "not a contribution").unwrap();
    (s.path("contributions"), want)
}

fn read_batch(path: &Path) -> RecordBatch {
    let f = std::fs::File::open(path).unwrap();
    let mut r = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap();
    let b = r.next().unwrap().unwrap();
    assert!(r.next().is_none(), "one batch");
    b
}

/// A figure column as numbers, whatever its published type (Float64,
/// Int64, or Decimal128 money in cents).
fn f64_col(b: &RecordBatch, name: &str) -> Float64Array {
    let c = b.column(b.schema().index_of(name).unwrap());
    if let Some(a) = c.as_any().downcast_ref::<Float64Array>() {
        return a.clone();
    }
    if let Some(a) = c.as_any().downcast_ref::<Int64Array>() {
        return a.iter().map(|v| v.map(|v| v as f64)).collect();
    }
    let a = c
        .as_any()
        .downcast_ref::<Decimal128Array>()
        .unwrap_or_else(|| panic!("{name} is {}", c.data_type()));
    let d = 10f64.powi(i32::from(a.scale()));
    a.iter().map(|v| v.map(|v| v as f64 / d)).collect()
}

/// A 16-byte big-endian decimal statistic (money in cents) as a number.
fn stat_cents(bytes: &[u8]) -> f64 {
    i128::from_be_bytes(bytes.try_into().expect("16 bytes")) as f64
}

/// Money is published in cents: equal to the cent.
fn close_cents(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.005 + 1e-9 * a.abs().max(b.abs())
}

fn str_col<'a>(b: &'a RecordBatch, name: &str) -> &'a StringArray {
    b.column(b.schema().index_of(name).unwrap())
        .as_any()
        .downcast_ref()
        .unwrap()
}

fn bool_col<'a>(b: &'a RecordBatch, name: &str) -> &'a BooleanArray {
    b.column(b.schema().index_of(name).unwrap())
        .as_any()
        .downcast_ref()
        .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn one_merge_handles_every_kind_of_file_as_specified() {
    let s = Setup::new(12, |_| {});
    let (dir, want) = scenario(&s);
    let out = s.path("benchmarks");
    let run = s.merge(&[&dir], &out);
    run.expect(0);

    // One line per file not used, naming it and its reason.
    for (name, code) in &want {
        let lines: Vec<&str> = run
            .stdout
            .lines()
            .filter(|l| l.contains(name.as_str()))
            .collect();
        if *code == "accepted" {
            assert!(
                !lines
                    .iter()
                    .any(|l| l.starts_with(&format!("rejected {}", dir.join(name).display()))),
                "{name} was accepted but reported: {lines:?}"
            );
        } else {
            let prefix = format!("rejected {}:", dir.join(name).display());
            let mine: Vec<&&str> = lines.iter().filter(|l| l.starts_with(&prefix)).collect();
            assert_eq!(mine.len(), 1, "{name}: {lines:?}\n{}", run.stdout);
            assert!(
                mine[0].ends_with(&format!("[{code}]")),
                "{name}: {}",
                mine[0]
            );
        }
    }
    assert!(!run.stdout.contains("readme.txt"));
    assert!(
        run.stdout
            .contains(&format!("{} files: 10 accepted", want.len())),
        "{}",
        run.stdout
    );

    // The manifest: counts by reason, files by SHA-256 only.
    let man: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifests/2025q4.json")).unwrap()).unwrap();
    assert_eq!(man["contributions"]["accepted"], 10);
    assert_eq!(man["contributions"]["files"], want.len());
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for code in want.values().filter(|c| **c != "accepted") {
        *counts.entry(code).or_default() += 1;
    }
    let rejected = man["contributions"]["rejected"].as_object().unwrap();
    assert_eq!(rejected.len(), counts.len(), "{rejected:?}");
    for (code, n) in &counts {
        assert_eq!(rejected[*code], *n, "{code}");
    }
    assert_eq!(counts["conflict"], 4);
    assert_eq!(counts["superseded"], 3);
    let files = man["files"].as_array().unwrap();
    assert_eq!(files.len(), want.len());
    let text =
        String::from_utf8(std::fs::read(out.join("manifests/2025q4.json")).unwrap()).unwrap();
    for (name, code) in &want {
        let sha = coopbench_protocol::sha256_hex(&std::fs::read(dir.join(name)).unwrap());
        let f = files
            .iter()
            .find(|f| f["sha256"] == sha.as_str() && f["status"] == *code);
        assert!(f.is_some(), "{name}: no manifest entry with status {code}");
        assert!(
            !text.contains(name.as_str()),
            "file names stay out of the manifest"
        );
    }
    for m in &s.members {
        assert!(
            !text.contains(&m.public().key_id()),
            "no member key id in the manifest"
        );
    }
    assert!(!text.contains("Bakery "), "no roster label in the manifest");
    assert!(man["privacy"]["statement"]
        .as_str()
        .unwrap()
        .contains("rho = 1"));

    // Revenue: exact sums, noise sd, interval, members, mean, suppression.
    let sums = expected_sums();
    let n = 10f64;
    let sd = |m: usize| s.plans[m].sigma * n.sqrt() / s.plans[m].scale;
    let b = read_batch(&out.join("revenue/2025q4.parquet"));
    let names: Vec<String> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "round",
            "month",
            "category",
            "channel",
            "cost_type",
            "estimate",
            "noise_sd",
            "ci95_low",
            "ci95_high",
            "members_noisy",
            "mean_per_member",
            "mean_sd",
            "verdict",
            "mean_verdict",
            "suppressed"
        ]
    );
    let ty = |name: &str| {
        b.schema()
            .field_with_name(name)
            .unwrap()
            .data_type()
            .clone()
    };
    assert_eq!(ty("round"), DataType::Utf8);
    assert_eq!(ty("month"), DataType::Date32);
    assert_eq!(ty("category"), DataType::Utf8);
    assert_eq!(ty("estimate"), DataType::Decimal128(38, 2));
    assert_eq!(ty("noise_sd"), DataType::Decimal128(38, 2));
    assert_eq!(ty("members_noisy"), DataType::Int64);
    assert_eq!(ty("verdict"), DataType::Utf8);
    assert_eq!(ty("suppressed"), DataType::Boolean);
    assert_eq!(b.num_rows(), 18);
    assert_eq!(str_col(&b, "round").value(17), "2025q4");
    let month = b.column_by_name("month").unwrap();
    let month = month.as_any().downcast_ref::<Date32Array>().unwrap();
    // 2025-10-01 is day 20362 of the Unix epoch; 2025-11-01 is 31 days on.
    assert_eq!(month.value(0), 20_362);
    assert_eq!(month.value(6), 20_362 + 31);
    assert_eq!(str_col(&b, "category").value(1), "pastry");
    for unsplit in ["channel", "cost_type"] {
        assert_eq!(
            b.column_by_name(unsplit).unwrap().null_count(),
            18,
            "{unsplit}"
        );
    }
    let est = f64_col(&b, "estimate");
    let members = f64_col(&b, "members_noisy");
    for c in 0..18 {
        if c == SPARSE {
            continue;
        }
        let e = sums[0][c] as f64;
        assert_eq!(est.value(c), e, "cell {c}");
        assert!(close_cents(f64_col(&b, "noise_sd").value(c), sd(0)));
        assert!(close_cents(
            f64_col(&b, "ci95_low").value(c),
            e - Z_95 * sd(0)
        ));
        assert!(close_cents(
            f64_col(&b, "ci95_high").value(c),
            e + Z_95 * sd(0)
        ));
        assert_eq!(members.value(c), 10.0);
        let mean = e / 10.0;
        assert!(close_cents(f64_col(&b, "mean_per_member").value(c), mean));
        let msd = (sd(0).powi(2) + mean * mean * sd(1).powi(2)).sqrt() / 10.0;
        assert!(close_cents(f64_col(&b, "mean_sd").value(c), msd));
        assert!(!bool_col(&b, "suppressed").value(c));
    }
    // The sparse cell: 2 active members < 5: suppressed, every figure null.
    assert!(bool_col(&b, "suppressed").value(SPARSE));
    for col in [
        "estimate",
        "noise_sd",
        "ci95_low",
        "ci95_high",
        "members_noisy",
        "mean_per_member",
        "mean_sd",
    ] {
        assert!(f64_col(&b, col).is_null(SPARSE), "{col}");
        assert_eq!(f64_col(&b, col).null_count(), 1, "{col}");
    }

    // Active: its own count, suppressed in the same cell.
    let a = read_batch(&out.join("active/2025q4.parquet"));
    assert_eq!(f64_col(&a, "estimate").value(0), 10.0);
    assert_eq!(f64_col(&a, "members_noisy").value(0), 10.0);
    assert!(f64_col(&a, "mean_per_member").is_null(0));
    assert!(bool_col(&a, "suppressed").value(SPARSE));
    assert!(f64_col(&a, "estimate").is_null(SPARSE));

    // Costs: no active metric over cost_type: members_noisy null, never suppressed.
    let c = read_batch(&out.join("costs/2025q4.parquet"));
    assert_eq!(c.num_rows(), 6);
    assert_eq!(str_col(&c, "cost_type").value(1), "rent");
    for r in 0..6 {
        assert_eq!(f64_col(&c, "estimate").value(r), sums[2][r] as f64);
        assert!(f64_col(&c, "members_noisy").is_null(r));
        assert!(f64_col(&c, "mean_per_member").is_null(r));
        assert!(!bool_col(&c, "suppressed").value(r));
    }
    let costs_fact = man["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "costs")
        .unwrap();
    assert!(
        costs_fact["members_noisy"]
            .as_str()
            .unwrap()
            .starts_with("none"),
        "{costs_fact}"
    );

    // Gross margin: bins 8..11 hold 2, 2, 3, 3 members; bin 0's -3 goes to 0
    // in the projection onto {h >= 0, sum h = 10} (10 contributions), which
    // leaves the other bins as they are: 10 members with a value.
    let g = read_batch(&out.join("gross_margin/2025q4.parquet"));
    let gnames: Vec<String> = g
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        gnames,
        [
            "round",
            "month",
            "category",
            "channel",
            "cost_type",
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
            "p10_verdict",
            "p25_verdict",
            "p50_verdict",
            "p75_verdict",
            "p90_verdict",
            "mean_verdict",
            "members_verdict",
            "suppressed"
        ]
    );
    // Every interval holds its figure.
    for p in ["p10", "p25", "p50", "p75", "p90", "mean", "members"] {
        let v = f64_col(&g, if p == "members" { "members_noisy" } else { p }).value(0);
        assert!(f64_col(&g, &format!("{p}_ci95_low")).value(0) <= v);
        assert!(f64_col(&g, &format!("{p}_ci95_high")).value(0) >= v);
    }
    assert_eq!(g.num_rows(), 1);
    let expect = [
        ("p10", 0.425),
        ("p25", 0.4625),
        ("p50", 0.50 + 0.05 / 3.0),
        ("p75", 0.55 + 0.05 * 0.5 / 3.0),
        ("p90", 0.55 + 0.05 * 2.0 / 3.0),
        ("mean", 0.51),
        ("bin_width", 0.05),
        ("members_noisy", 10.0),
    ];
    for (col, v) in expect {
        assert!(
            close(f64_col(&g, col).value(0), v),
            "{col}: {} vs {v}",
            f64_col(&g, col).value(0)
        );
    }
    // Rent share: every member in bin 3 of [0, 0.25) by 0.025.
    let r = read_batch(&out.join("rent_share/2025q4.parquet"));
    assert!(close(f64_col(&r, "p10").value(0), 0.0775));
    assert!(close(f64_col(&r, "p50").value(0), 0.0875));
    assert!(close(f64_col(&r, "p90").value(0), 0.0975));
    assert!(close(f64_col(&r, "mean").value(0), 0.0875));

    // No staging left behind; only the tables, the manifests and the lock file.
    let mut top: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(
        top,
        [
            ".coopbench-publish.lock",
            "active",
            "avg_ticket",
            "costs",
            "gross_margin",
            "manifests",
            "rent_share",
            "revenue"
        ]
    );
}

#[test]
fn footer_metadata_and_statistics_never_show_a_suppressed_value() {
    let s = Setup::new(10, |_| {});
    let files: Vec<PathBuf> = (0..10)
        .map(|i| s.write_member(&format!("c/{i}.json"), i, 1, &values))
        .collect();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = s.path("out");
    s.merge(&refs, &out).expect(0);
    let path = out.join("revenue/2025q4.parquet");
    let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let meta = reader.metadata();
    let kv: BTreeMap<String, String> = meta
        .file_metadata()
        .key_value_metadata()
        .expect("footer key-value metadata")
        .iter()
        .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
        .collect();
    assert_eq!(kv["round_id"], "2025q4");
    assert!(kv["purpose"].starts_with("Quarterly benchmark for independent bakeries"));
    assert_eq!(kv["mode"], "local");
    assert_eq!(kv["rho"], "1");
    assert_eq!(kv["delta"], "0.000001");
    let eps: f64 = kv["epsilon"].parse().unwrap();
    assert!(eps > 1.0 && eps < 20.0, "{eps}");
    assert_eq!(kv["contributions"], "10");
    assert_eq!(kv["toolkit_version"], coopbench_protocol::TOOLKIT_VERSION);
    assert_eq!(kv["schema_sales"], "sales.v1");
    assert_eq!(kv["schema_costs"], "costs.v1");
    assert_eq!(kv["metric"], "revenue");
    // No footer value of any key, and no number anywhere in the manifest, is
    // (or is near) the suppressed cell's sum or a member's value in it.
    let sparse_sum = expected_sums_all(10)[SPARSE] as f64;
    let mut numbers = Vec::new();
    for v in kv.values() {
        numbers_in_text(v, &mut numbers);
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifests/2025q4.json")).unwrap()).unwrap();
    numbers_in_json(&manifest, &mut numbers);
    assert!(numbers.len() > 20, "{numbers:?}");
    for x in &numbers {
        assert!(
            (x - sparse_sum).abs() > 1e5 && (x - SECRET as f64).abs() > 1e5,
            "{x} in the footer or the manifest is the suppressed cell's figure"
        );
    }
    // The round is a column of the file (no hive directory supplies it).
    assert_eq!(
        reader
            .metadata()
            .file_metadata()
            .schema_descr()
            .column(0)
            .name(),
        "round"
    );
    assert_eq!(
        meta.row_group(0).column(0).compression(),
        parquet::basic::Compression::ZSTD(Default::default())
    );

    // Statistics of every figure column: the suppressed cell is a null, so no
    // min or max can be (or be derived from) its value.
    let sums = expected_sums_all(10);
    let visible_max = (0..18)
        .filter(|c| *c != SPARSE)
        .map(|c| sums[c])
        .max()
        .unwrap() as f64;
    let schema = meta.file_metadata().schema_descr();
    let mut checked = 0;
    for (i, col) in schema.columns().iter().enumerate() {
        let stats = meta
            .row_group(0)
            .column(i)
            .statistics()
            .expect("statistics written");
        // Figures: Decimal128 money (16-byte cents) and Int64 counts.
        if !coopbench_benchmark::layout::TOTAL_COLUMNS.contains(&col.name()) {
            continue;
        }
        let (lo, hi) = match stats {
            Statistics::Int64(v) => (*v.min_opt().unwrap() as f64, *v.max_opt().unwrap() as f64),
            Statistics::FixedLenByteArray(v) => (
                stat_cents(v.min_opt().unwrap().data()) / 100.0,
                stat_cents(v.max_opt().unwrap().data()) / 100.0,
            ),
            other => panic!("{}: statistics {other:?}", col.name()),
        };
        checked += 1;
        assert_eq!(stats.null_count_opt(), Some(1), "{}", col.name());
        for x in [lo, hi] {
            assert!(
                x.abs() < 1.0e6,
                "{}: {x} looks like the suppressed cell",
                col.name()
            );
        }
        if col.name() == "estimate" {
            assert_eq!(hi, visible_max);
        }
    }
    assert_eq!(checked, 7);
    // The page index too: per-page min/max of every figure column.
    let file = std::fs::File::open(&path).unwrap();
    let opts = parquet::arrow::arrow_reader::ArrowReaderOptions::new()
        .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Required);
    let b = ParquetRecordBatchReaderBuilder::try_new_with_options(file, opts).unwrap();
    let pi = b.metadata().page_index_for_row_group(0);
    let mut pages = 0;
    for i in 0..schema.num_columns() {
        let col = schema.column(i);
        if !coopbench_benchmark::layout::TOTAL_COLUMNS.contains(&col.name()) {
            continue;
        }
        let values: Vec<f64> = match pi.column_index(i) {
            Some(ColumnIndexMetaData::INT64(ci)) => ci
                .min_values_iter()
                .chain(ci.max_values_iter())
                .flatten()
                .map(|v| *v as f64)
                .collect(),
            Some(ColumnIndexMetaData::FIXED_LEN_BYTE_ARRAY(ci)) => ci
                .min_values_iter()
                .chain(ci.max_values_iter())
                .flatten()
                .map(|v| stat_cents(v) / 100.0)
                .collect(),
            other => panic!("page index of column {i}: {other:?}"),
        };
        pages += 1;
        for v in values {
            assert!(v.abs() < 1.0e6, "page index of column {i} holds {v}");
        }
    }
    assert_eq!(pages, 7, "a page index for every figure column");
    // And the suppressed cell's total appears in no figure of any row.
    let batch = read_batch(&path);
    let secret_total = 10.0 * SECRET as f64;
    for col in ["estimate", "ci95_low", "ci95_high", "mean_per_member"] {
        let a = f64_col(&batch, col);
        for r in 0..a.len() {
            if a.is_valid(r) {
                assert!(
                    (a.value(r) - secret_total).abs() > 1e6
                        && (a.value(r) - SECRET as f64).abs() > 1e5
                );
            }
        }
    }
}

/// Revenue sums over members 0..n at sequence 1.
fn expected_sums_all(n: usize) -> Vec<i128> {
    let mut out = vec![0i128; 18];
    for i in 0..n {
        for (a, v) in out.iter_mut().zip(&values(i, 1)[0]) {
            *a += i128::from(*v);
        }
    }
    out
}

#[test]
fn too_few_contributions_are_refused_and_nothing_is_written() {
    let s = Setup::new(12, |_| {});
    let mut files: Vec<PathBuf> = (0..9)
        .map(|i| s.write_member(&format!("c/{i}.json"), i, 1, &values))
        .collect();
    // A tenth file that does not count: a copy.
    let copy = s.path("c/copy.json");
    std::fs::copy(&files[0], &copy).unwrap();
    files.push(copy);
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = s.path("out");
    let run = s.merge(&refs, &out);
    run.expect(1);
    assert!(
        run.stderr.contains("9 contributions accepted"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("at least 10"), "{}", run.stderr);
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
}

#[test]
fn an_existing_round_is_never_overwritten_or_half_replaced() {
    let s = Setup::new(10, |_| {});
    let files: Vec<PathBuf> = (0..10)
        .map(|i| s.write_member(&format!("c/{i}.json"), i, 1, &values))
        .collect();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = s.path("out");
    s.merge(&refs, &out).expect(0);
    let data = out.join("revenue/2025q4.parquet");
    let before = std::fs::read(&data).unwrap();
    let manifest_before = std::fs::read(out.join("manifests/2025q4.json")).unwrap();
    let again = s.merge(&refs, &out);
    again.expect(1);
    assert!(
        again.stderr.contains("never overwritten"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read(&data).unwrap(), before);
    assert_eq!(
        std::fs::read(out.join("manifests/2025q4.json")).unwrap(),
        manifest_before
    );

    // One table's file alone exists: nothing else is written either.
    let out2 = s.path("out2");
    std::fs::create_dir_all(out2.join("costs")).unwrap();
    std::fs::write(out2.join("costs/2025q4.parquet"), b"").unwrap();
    let run = s.merge(&refs, &out2);
    run.expect(1);
    assert!(
        run.stderr.contains("costs/2025q4.parquet"),
        "{}",
        run.stderr
    );
    assert!(!out2.join("revenue").exists());
    assert!(!out2.join("manifests").exists());
}

#[test]
fn a_round_whose_metric_changed_kind_is_refused_before_anything_is_written() {
    let s = Setup::new(10, |_| {});
    let files: Vec<PathBuf> = (0..10)
        .map(|i| s.write_member(&format!("c/{i}.json"), i, 1, &values))
        .collect();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = s.path("out");
    s.merge(&refs, &out).expect(0);
    // The next round counts rows under the name `revenue`: its estimate
    // would be whole rows (int64), not EUR (decimal).
    let next = Setup::new(10, |r| {
        r.id = "2026q1".into();
        r.metrics[0].kind = coopbench_protocol::round::Kind::Count;
        r.metrics[0].measure = None;
    });
    let files: Vec<PathBuf> = (0..10)
        .map(|i| next.write_member(&format!("c/{i}.json"), i, 1, &values))
        .collect();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let before: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    let run = next.merge(&refs, &out);
    run.expect(1);
    assert!(
        run.stderr
            .contains("table 'revenue' would not read as one dataset")
            && run
                .stderr
                .contains("estimate is decimal(38,2) there, int64 in this round")
            && run.stderr.contains("Nothing was written"),
        "{}",
        run.stderr
    );
    assert!(!out.join("revenue/2026q1.parquet").exists());
    assert!(!out.join("costs/2026q1.parquet").exists());
    assert!(!out.join("manifests/2026q1.json").exists());
    let after: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(before.len(), after.len());
    // Into a folder of its own, the same round is published.
    next.merge(&refs, &next.path("out")).expect(0);
}

#[test]
fn hostile_round_and_metric_ids_are_refused_before_any_path_is_built() {
    for (round_id, metric) in [
        ("../evil", "revenue"),
        ("2025q4", "../../evil"),
        ("a/b", "revenue"),
        ("x\ny", "revenue"),
    ] {
        let s = Setup::new(10, |r| {
            r.id = round_id.into();
            r.metrics[0].name = metric.into();
        });
        let c = s.contribution(0, 1, values(0, 1));
        let f = s.write_signed("c/0.json", &c, &s.members[0]);
        let out = s.path("out/inner");
        let run = s.merge(&[&f], &out);
        run.expect(1);
        assert!(
            run.stderr.contains("must be 1-64 characters"),
            "{}",
            run.stderr
        );
        assert!(
            !s.path("out").exists(),
            "nothing created for {round_id:?}/{metric:?}"
        );
        assert!(!s.path("evil").exists());
    }
    assert!(coopbench_benchmark::layout::partition("../x", "r1").is_err());
    assert!(coopbench_benchmark::layout::partition("t", "..").is_err());
    assert!(coopbench_benchmark::layout::manifest_path("a/b").is_err());
    assert_eq!(
        coopbench_benchmark::layout::table_file("t", "r1").unwrap(),
        Path::new("t").join("r1.parquet")
    );
}

#[test]
fn usage_errors_exit_2() {
    let s = Setup::new(10, |_| {});
    let out = s.path("out");
    s.merge(&[&s.path("missing.json")], &out).expect(2);
    // The round given as the pool.
    let run = crate::common::association::run_str(
        s.dir.path(),
        &[
            "merge",
            "--pool",
            "round.sig.json",
            "--round",
            "round.sig.json",
            "round.sig.json",
            "--out",
            "o",
        ],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("round.sig.json: not a pool file"),
        "{}",
        run.stderr
    );
    let run = crate::common::association::run_str(
        s.dir.path(),
        &["merge", "--pool", "pool.sig.json"],
        &[],
    );
    run.expect(2);
    // A round signed by someone else.
    let other = SigningKey::generate().unwrap();
    std::fs::write(
        s.path("round2.sig.json"),
        signed::sign(&s.round, &other).to_json(),
    )
    .unwrap();
    let run = crate::common::association::run_str(
        s.dir.path(),
        &[
            "merge",
            "--pool",
            "pool.sig.json",
            "--round",
            "round2.sig.json",
            "pool.sig.json",
            "--out",
            "o",
        ],
        &[],
    );
    run.expect(1);
    assert!(
        run.stderr.contains("not a round signed by pool 'bakeries'"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_outcome_does_not_depend_on_file_order() {
    let s = Setup::new(12, |_| {});
    let (dir, want) = scenario(&s);
    let mut paths: Vec<PathBuf> = want.keys().map(|n| dir.join(n)).collect();
    let ctx_plans = s.plans.clone();
    let mut results = Vec::new();
    for rot in [0usize, 3, 7, 11, 19] {
        let len = paths.len();
        paths.rotate_left(rot % len);
        if rot == 11 {
            paths.reverse();
        }
        let mut m = Merger::new(Context::new(&s.pool, &s.round, &s.round_hash, &ctx_plans));
        for p in &paths {
            m.add_file(p).unwrap();
        }
        let o = m.finish();
        assert_eq!(o.accepted, 10);
        let mut fates: BTreeMap<String, String> = BTreeMap::new();
        for f in &o.files {
            let name = f.path.file_name().unwrap().to_string_lossy().into_owned();
            let code = match &f.status {
                Status::Accepted => "accepted".to_string(),
                Status::NotUsed { reason, .. } => reason.code().to_string(),
            };
            fates.insert(name, code);
        }
        // Copies of one contribution: whichever comes first counts, once.
        let copies: Vec<String> = fates
            .keys()
            .filter(|n| n.starts_with("d-m2-"))
            .cloned()
            .collect();
        assert_eq!(copies.len(), 6);
        let fate: Vec<String> = copies.iter().map(|n| fates[n].clone()).collect();
        assert_eq!(
            fate.iter().filter(|c| *c == "accepted").count(),
            1,
            "{fate:?}"
        );
        assert_eq!(
            fate.iter().filter(|c| *c == "duplicate").count(),
            5,
            "{fate:?}"
        );
        for n in copies {
            fates.remove(&n);
        }
        for (name, code) in &fates {
            assert_eq!(code, want[name], "{name} in order rotated by {rot}");
        }
        assert_eq!(
            o.sums.cells,
            expected_sums(),
            "sums in order rotated by {rot}"
        );
        results.push(o.sigma_sq.clone());
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]));
    let n = cell_counts(&s.round);
    assert_eq!(n, [18, 18, 6, 21, 11, 21]);
}

#[test]
fn a_file_that_cannot_be_read_is_rejected_and_the_merge_goes_on() {
    let s = Setup::new(10, |_| {});
    let good = s.write_member("c/0.json", 0, 1, &values);
    let mut m = Merger::new(Context::new(&s.pool, &s.round, &s.round_hash, &s.plans));
    m.add_file(&s.path("c/gone.json")).unwrap();
    m.add_file(&good).unwrap();
    let o = m.finish();
    assert!(matches!(
        &o.files[0].status,
        Status::NotUsed {
            reason: coopbench_aggregator::verify::Reason::Unreadable,
            ..
        }
    ));
    assert_eq!(o.files[0].sha256, None);
    assert_eq!(o.files[1].status, Status::Accepted);
    assert_eq!(o.accepted, 1);
    assert_eq!(o.sums.cells[0][0], i128::from(values(0, 1)[0][0]));
}
