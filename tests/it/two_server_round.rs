//! A two-server round end to end through both CLIs, with three separate state
//! directories as three parties would keep them:
//!
//! - the helper (`coopbench-aggregator helper keygen`, later `helper sum`) in
//!   its own directory, given only copies of the pool, round and batch files;
//! - the association, the leader (`pool init`, `add-member`, `sign`; `round
//!   new`/`sign` from `examples/rounds/2025q4.toml` edited to mode =
//!   "two-server" with the helper's printed `[two_server]` block; `merge` step
//!   1 with `--batch`, step 2 with `--helper-sum`);
//! - eight member bakeries (`coopbench keygen`, `join`, `plan`, `export`, each
//!   with its own `--state-dir`) on data from the project's seeded generator.
//!
//! Each member also answers a local-mode round (the same example round) so
//! that the two contribution files can be compared. Checked: the round
//! publishes and its manifest says two-server with n_min, t and the slack;
//! `plan` shows local and two-server accuracy side by side (and the
//! two-server error is 1/√(n_min − t) of the local one); the two-server file
//! differs from the local one by the sealed seed only (same metrics, grids
//! and cell counts; the values are masked words, so they print wider), sizes
//! reported per member; each member's ledger charges the two-server round
//! once, at ρ plus the slack the manifest states; every published total lies
//! within 6 of its stated noise sd of the members' exact sum (each member's
//! clipped figures as `compare` computes them), and is not that exact sum.
//!
//! n_min = 6 and t = 2: the example round's ratio histograms (cells of 0/1,
//! Δ = √2) keep a negligible slack for up to 4 parties at ρ = 0.5.

use crate::common::round::{aggregator, coopbench};
use coopbench_datagen::GenConfig;
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{Contribution, Envelope, PublicKey};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const MEMBERS: usize = 8;
const N_MIN: u32 = 6;
const T: u32 = 2;
const LOCAL_ID: &str = "2025q4";
const TWO_ID: &str = "2025q4-ts";
const RHO: f64 = 0.5;

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

/// The example round with ρ = 0.5, min_members_total = 6, and for the
/// two-server round another id, mode = "two-server" and the helper's block.
fn round_template(id: &str, helper_block: Option<&str>) -> String {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/rounds/2025q4.toml"),
    )
    .unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let l = match line {
            l if l.starts_with("id = ") => format!("id = \"{id}\""),
            l if l.starts_with("rho = ") => format!("rho = {RHO:?}"),
            l if l.starts_with("min_members_total = ") => "min_members_total = 6".into(),
            l if l.starts_with("mode = ") && helper_block.is_some() => {
                "mode = \"two-server\"".into()
            }
            l => l.to_string(),
        };
        out.push_str(&l);
        out.push('\n');
    }
    for key in ["id = ", "rho = ", "min_members_total = ", "mode = "] {
        assert_eq!(
            text.lines().filter(|l| l.starts_with(key)).count(),
            1,
            "the example round has one {key:?} line"
        );
    }
    if let Some(b) = helper_block {
        out.push('\n');
        out.push_str(b);
    }
    out
}

/// The first number after `marker` in `line` (thousands separators dropped).
fn number_after(line: &str, marker: &str) -> f64 {
    let rest = &line[line
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in {line}"))
        + marker.len()..];
    let tok: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '.')
        .filter(|c| *c != ',')
        .collect();
    tok.parse()
        .unwrap_or_else(|_| panic!("no number after {marker:?} in {line}"))
}

fn contribution(path: &Path, key: &PublicKey) -> (Contribution, serde_json::Value) {
    let bytes = std::fs::read(path).unwrap();
    let env = Envelope::from_json(&bytes).unwrap();
    let c: Verified<Contribution> = signed::verify(&env, key).unwrap();
    let json = serde_json::to_value(&c.doc).unwrap();
    (c.doc, json)
}

#[test]
fn a_two_server_round_with_members_leader_and_helper_in_separate_state_dirs() {
    let started = Instant::now();
    let work = tempfile::TempDir::new().unwrap();
    let work = work.path();
    let helper = work.join("helper");
    let leader = work.join("leader");
    let assoc = leader.join("pool");
    std::fs::create_dir_all(&helper).unwrap();
    std::fs::create_dir_all(&leader).unwrap();

    // The helper creates its keys and sends the association its block.
    let hk = aggregator(
        &helper,
        &[
            "helper",
            "keygen",
            "--dir",
            s(&helper.join("state")),
            "--name",
            "University of Testing, statistics dept.",
            "--n-min",
            &N_MIN.to_string(),
            "--t",
            &T.to_string(),
        ],
    );
    hk.expect_code(0);
    let block = hk.stdout.clone();
    assert!(
        block.contains("[two_server]") && block.contains("n_min = 6"),
        "{block}"
    );

    // The members' data and keys.
    let data = work.join("data");
    let cfg = GenConfig {
        members: MEMBERS,
        seed: 4242,
        ..GenConfig::default()
    };
    let summaries = coopbench_datagen::generate_members(&cfg, &data).unwrap();
    assert_eq!(summaries.len(), MEMBERS);
    let members: Vec<PathBuf> = (1..=MEMBERS)
        .map(|k| work.join(format!("member-{k:02}")))
        .collect();

    // The association: pool, roster, two rounds.
    aggregator(
        &leader,
        &[
            "pool",
            "init",
            "--dir",
            s(&assoc),
            "--id",
            "bakeries",
            "--name",
            "Independent Bakeries (two-server test)",
            "--purpose",
            "Benchmarks that help independent bakeries understand their market and costs, without exposing any bakery's figures.",
            "--sunset",
            "2029-12-31",
        ],
    )
    .expect_code(0);
    let mut publics = Vec::new();
    for (k, m) in members.iter().enumerate() {
        std::fs::create_dir_all(m).unwrap();
        coopbench(m, &["keygen", "--state-dir", s(&m.join("state"))]).expect_code(0);
        let public = std::fs::read_to_string(m.join("state/member.pub")).unwrap();
        publics.push(PublicKey::from_base64(public.trim()).unwrap());
        aggregator(
            &leader,
            &[
                "pool",
                "add-member",
                "--dir",
                s(&assoc),
                &format!("Bakery {:02}", k + 1),
                public.trim(),
            ],
        )
        .expect_code(0);
    }
    aggregator(&leader, &["pool", "sign", "--dir", s(&assoc)]).expect_code(0);
    for (id, b) in [(LOCAL_ID, None), (TWO_ID, Some(block.as_str()))] {
        let template = leader.join(format!("{id}.toml"));
        std::fs::write(&template, round_template(id, b)).unwrap();
        aggregator(
            &leader,
            &["round", "new", "--dir", s(&assoc), "--from", s(&template)],
        )
        .expect_code(0);
        aggregator(&leader, &["round", "sign", "--dir", s(&assoc), id]).expect_code(0);
    }
    let pool_sig = assoc.join("pool.sig.json");
    let round_sig = |id: &str| assoc.join("rounds").join(format!("{id}.sig.json"));
    let set_up = started.elapsed();

    // Each member joins, plans and exports both rounds (two at a time).
    let next = AtomicUsize::new(0);
    let plan_out = std::sync::Mutex::new(String::new());
    std::thread::scope(|sc| {
        for _ in 0..2 {
            sc.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                if k >= MEMBERS {
                    break;
                }
                let m = &members[k];
                let state = m.join("state");
                // The member got the pool and round files from the association.
                for (from, to) in [
                    (pool_sig.clone(), "pool.sig.json"),
                    (round_sig(LOCAL_ID), "local.sig.json"),
                    (round_sig(TWO_ID), "two.sig.json"),
                ] {
                    std::fs::copy(from, m.join(to)).unwrap();
                }
                coopbench(
                    m,
                    &["join", "--yes", "pool.sig.json", "--state-dir", s(&state)],
                )
                .expect_code(0);
                let sales = summaries[k].dir.join("sales.csv");
                let costs = summaries[k].dir.join("costs.csv");
                if k == 0 {
                    let p = coopbench(
                        m,
                        &["plan", "--round", "two.sig.json", "--state-dir", s(&state)],
                    );
                    p.expect_code(0);
                    *plan_out.lock().unwrap() = p.stdout.clone();
                }
                for (round, out) in [
                    ("local.sig.json", "local.json"),
                    ("two.sig.json", "two.json"),
                ] {
                    coopbench(
                        m,
                        &[
                            "export",
                            "--round",
                            round,
                            s(&sales),
                            s(&costs),
                            "-o",
                            out,
                            "--state-dir",
                            s(&state),
                        ],
                    )
                    .expect_code(0);
                }
            });
        }
    });
    let exported = started.elapsed();

    // plan: both modes side by side; two-server error = local / √(n_min − t).
    let plan = plan_out.into_inner().unwrap();
    let lines: Vec<&str> = plan.lines().filter(|l| l.contains("merged,")).collect();
    // Totals: one line per size (n, 2n, 4n) with both modes; ratios: one
    // line per mode with the expected error of each percentile.
    assert_eq!(
        lines.len(),
        3 * 3 + 3 * 2,
        "'merged' lines per metric:\n{plan}"
    );
    for l in lines.iter().filter(|l| l.contains("| two-server")) {
        let local = number_after(l, "local +/- ");
        let two = number_after(l, "| two-server +/- ");
        let want = f64::from(N_MIN - T).sqrt();
        assert!(
            (local / two / want - 1.0).abs() < 0.03,
            "local {local} / two-server {two} is not √{} in: {l}",
            N_MIN - T
        );
    }
    assert!(plan.contains("two-server"), "{plan}");

    // The leader collects the files, sums its shares and writes the batch.
    let inbox = leader.join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    for (k, m) in members.iter().enumerate() {
        std::fs::copy(
            m.join("two.json"),
            inbox.join(format!("bakery-{:02}.json", k + 1)),
        )
        .unwrap();
    }
    let out = leader.join("benchmarks");
    let batch = leader.join("batch.sig.json");
    let two_sig = round_sig(TWO_ID);
    let merge = |extra: &[&str]| {
        let mut args = vec![
            "merge",
            "--pool",
            s(&pool_sig),
            "--round",
            s(&two_sig),
            s(&inbox),
            "--out",
            s(&out),
        ];
        args.extend_from_slice(extra);
        aggregator(&leader, &args)
    };
    merge(&["--dir", s(&assoc), "--batch", s(&batch)]).expect_code(0);
    assert!(!out.join("manifests").exists(), "step 1 publishes nothing");

    // The helper, given only the pool, round and batch files.
    for (from, to) in [
        (pool_sig.clone(), "pool.sig.json"),
        (round_sig(TWO_ID), "round.sig.json"),
        (batch.clone(), "batch.sig.json"),
    ] {
        std::fs::copy(from, helper.join(to)).unwrap();
    }
    let hs = aggregator(
        &helper,
        &[
            "helper",
            "sum",
            "--dir",
            "state",
            "--pool",
            "pool.sig.json",
            "--round",
            "round.sig.json",
            "--batch",
            "batch.sig.json",
            "-o",
            "helper-sum.sig.json",
        ],
    );
    hs.expect_code(0);
    let sum = leader.join("helper-sum.sig.json");
    std::fs::copy(helper.join("helper-sum.sig.json"), &sum).unwrap();
    // The leader publishes.
    merge(&["--helper-sum", s(&sum)]).expect_code(0);
    let merged = started.elapsed();

    let man: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("manifests").join(format!("{TWO_ID}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(man["round"]["mode"], "two-server");
    assert_eq!(man["contributions"]["accepted"], MEMBERS);
    let ts = &man["privacy"]["two_server"];
    assert_eq!((ts["n_min"].as_u64(), ts["t"].as_u64()), (Some(6), Some(2)));
    let slack = ts["slack"].as_f64().unwrap();
    let rho = man["privacy"]["rho"].as_f64().unwrap();
    assert!((0.0..=1e-6 * RHO).contains(&slack), "slack {slack}");
    assert!((rho - (RHO + slack)).abs() <= 1e-15, "manifest rho {rho}");
    for t in man["tables"].as_array().unwrap() {
        let path = out.join(t["path"].as_str().unwrap());
        assert!(path.is_file(), "{}", path.display());
    }
    aggregator(&leader, &["inspect", s(&out), "--round", TWO_ID]).expect_code(0);

    // The published totals against the truth: each member's own clipped
    // figures, as `compare` computes them on the member's machine, summed over
    // the members. A PRG or share mismatch publishes garbage far outside 6 sd;
    // an export that added no noise share publishes the exact sums.
    let mut exact_sums: std::collections::BTreeMap<(String, String), f64> = Default::default();
    let mut published: std::collections::BTreeMap<(String, String), (f64, f64)> =
        Default::default();
    for (k, m) in members.iter().enumerate() {
        let dir = &summaries[k].dir;
        let run = coopbench(
            m,
            &[
                "compare",
                "--benchmarks",
                s(&out),
                "--round",
                TWO_ID,
                "--round-file",
                "two.sig.json",
                "--format",
                "json",
                s(&dir.join("sales.csv")),
                s(&dir.join("costs.csv")),
                "--state-dir",
                s(&m.join("state")),
            ],
        );
        run.expect_code(0);
        let v = run.json();
        for t in v["totals"].as_array().unwrap() {
            for c in t["cells"].as_array().unwrap() {
                let key = (
                    t["name"].as_str().unwrap().to_string(),
                    c["labels"].to_string(),
                );
                *exact_sums.entry(key).or_default() += c["yours"].as_f64().unwrap();
            }
        }
    }
    // Every published total, read from the tables themselves.
    for name in ["revenue", "costs"] {
        let path = out.join(name).join(format!("{TWO_ID}.parquet"));
        let t = coopbench_benchmark::table::read(&path).unwrap();
        for row in t.rows.iter().filter(|r| !r.suppressed) {
            let labels: Vec<&str> = t.dims.iter().map(|d| row.labels[d].as_str()).collect();
            let key = (name.to_string(), serde_json::json!(labels).to_string());
            published.insert(
                key,
                (row.get("estimate").unwrap(), row.get("noise_sd").unwrap()),
            );
        }
    }
    assert!(published.len() >= 10, "published totals: {published:?}");
    let mut noiseless = 0;
    for (key, (estimate, sd)) in &published {
        let truth = exact_sums[key];
        assert!(
            (estimate - truth).abs() <= 6.0 * sd,
            "{key:?}: published {estimate} with noise sd {sd}, the members' exact sum is {truth}"
        );
        if *estimate == truth {
            noiseless += 1;
        }
    }
    assert!(
        noiseless * 2 < published.len(),
        "{noiseless} of {} published totals are the members' exact sums: no noise was added",
        published.len()
    );

    // Files: the two-server contribution is the local one plus a sealed seed.
    let mut report = Vec::new();
    for (k, m) in members.iter().enumerate() {
        let (local, lj) = contribution(&m.join("local.json"), &publics[k]);
        let (two, tj) = contribution(&m.join("two.json"), &publics[k]);
        let mut lkeys: Vec<&String> = lj.as_object().unwrap().keys().collect();
        let mut tkeys: Vec<&String> = tj.as_object().unwrap().keys().collect();
        tkeys.retain(|k| *k != "sealed_seed");
        lkeys.sort();
        tkeys.sort();
        assert_eq!(
            lkeys, tkeys,
            "member {k}: other fields than the sealed seed differ"
        );
        assert!(local.sealed_seed.is_none());
        let seed = two.sealed_seed.as_ref().expect("a sealed seed");
        assert_eq!(local.metrics.len(), two.metrics.len());
        for (a, b) in local.metrics.iter().zip(&two.metrics) {
            assert_eq!(
                (&a.name, &a.grid, a.values.len()),
                (&b.name, &b.grid, b.values.len())
            );
            assert_eq!(a.noise.l2_sensitivity, b.noise.l2_sensitivity);
            assert!(
                b.noise.sigma < a.noise.sigma,
                "{}: a share of the noise",
                a.name
            );
        }
        let size = |p: &Path| std::fs::metadata(p).unwrap().len();
        let (ls, tsz) = (size(&m.join("local.json")), size(&m.join("two.json")));
        let seed_len = seed.to_json().len();
        let values_len = |c: &Contribution| -> usize {
            c.metrics
                .iter()
                .map(|m| serde_json::to_string(&m.values).unwrap().len())
                .sum()
        };
        report.push(format!(
            "member {:02}: local {ls} B, two-server {tsz} B (+{} B): sealed seed envelope {seed_len} B; values as JSON {} B local vs {} B masked (in the base64 payload ×4/3)",
            k + 1,
            tsz as i64 - ls as i64,
            values_len(&local),
            values_len(&two)
        ));
        assert!(tsz > ls);
        // Nothing else grows: the excess is the seed plus the wider masked
        // values, both inside the base64 payload.
        let explained = (seed_len + values_len(&two).saturating_sub(values_len(&local))) as f64;
        let excess = (tsz - ls) as f64;
        assert!(
            excess <= explained * 4.0 / 3.0 + 200.0,
            "member {k}: {excess} B more, only {explained} B explained"
        );

        // The ledger charges the two-server round once, at ρ + slack.
        let l = coopbench(m, &["ledger", "--json", "--state-dir", s(&m.join("state"))]);
        l.expect_code(0);
        let entries: Vec<serde_json::Value> = l
            .stdout
            .lines()
            .filter(|x| !x.trim().is_empty())
            .map(|x| serde_json::from_str(x).unwrap())
            .collect();
        let two_entries: Vec<&serde_json::Value> =
            entries.iter().filter(|e| e["round_id"] == TWO_ID).collect();
        assert_eq!(two_entries.len(), 1, "member {k}: {entries:?}");
        let charged = two_entries[0]["rho"].as_f64().unwrap();
        assert!(
            (charged - rho).abs() <= 1e-15 && charged >= RHO,
            "member {k}: charged {charged}, manifest rho {rho}"
        );
        let local_entries: Vec<&serde_json::Value> = entries
            .iter()
            .filter(|e| e["round_id"] == LOCAL_ID)
            .collect();
        assert_eq!(local_entries.len(), 1);
        assert_eq!(local_entries[0]["rho"].as_f64(), Some(RHO));
    }
    eprintln!("{}", report.join("\n"));
    eprintln!(
        "set up {set_up:.1?}, exports {exported:.1?}, merged and published {merged:.1?}, total {:.1?}",
        started.elapsed()
    );
}
