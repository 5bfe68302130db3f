//! Publishing a round is crash-proof and bounded, driven through
//! `coopbench-aggregator` as the association (or a crash, or a hostile
//! file) would: `merge` killed at every named step of a publish and at
//! random moments, then run again, leaves no round or a complete one and no
//! staging; concurrent merges publish once; symbolic links in `--out` are
//! refused; oversized inputs are refused with their limit; rounds whose cell
//! count passes 2^64 are refused, never a panic. See docs/robustness.md.

use crate::common::association::{run, Setup};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The tables of the example round.
const TABLES: [&str; 6] = [
    "revenue",
    "active",
    "costs",
    "gross_margin",
    "rent_share",
    "avg_ticket",
];

/// Member `i`'s values: plausible counts and sums in every cell.
fn values(i: usize, _seq: u32) -> Vec<Vec<i64>> {
    let revenue = (0..18).map(|c| 1000 + 10 * i as i64 + c).collect();
    let active = vec![1; 18];
    let costs = (0..6).map(|c| 500 * i as i64 + c).collect();
    let mut margin = vec![0; 21];
    margin[8 + i % 4] = 1;
    let mut rent = vec![0; 11];
    rent[3] = 1;
    let mut ticket = vec![0; 21];
    ticket[i % 20] = 1;
    vec![revenue, active, costs, margin, rent, ticket]
}

/// A setup with ten members' contributions in `c/`.
fn ten() -> (Setup, Vec<PathBuf>) {
    let s = Setup::new(10, |_| {});
    let files = (0..10)
        .map(|i| s.write_member(&format!("c/{i}.json"), i, 1, &values))
        .collect();
    (s, files)
}

fn merge_args(s: &Setup, out: &Path) -> Vec<String> {
    vec![
        "merge".into(),
        "--pool".into(),
        s.path("pool.sig.json").display().to_string(),
        "--round".into(),
        s.path("round.sig.json").display().to_string(),
        s.path("c").display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ]
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// What a reader globbing `*/**/*.parquet` sees, and whether the manifest exists.
fn visible(out: &Path) -> (Vec<String>, bool) {
    let parquet = tree(out)
        .into_iter()
        .filter(|p| p.ends_with(".parquet") && !p.starts_with('.'))
        .collect();
    (parquet, out.join("manifests/2025q4.json").exists())
}

/// Asserts the round is published whole and nothing of a publish is left over.
fn assert_complete(out: &Path, context: &str) {
    let (parquet, manifest) = visible(out);
    let want: Vec<String> = {
        let mut w: Vec<String> = TABLES
            .iter()
            .map(|t| format!("{t}/2025q4.parquet"))
            .collect();
        w.sort();
        w
    };
    assert_eq!(parquet, want, "{context}");
    assert!(manifest, "{context}: no manifest");
    let man: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifests/2025q4.json")).unwrap())
            .unwrap_or_else(|e| panic!("{context}: the manifest is not whole JSON: {e}"));
    assert_eq!(man["round"]["id"], "2025q4", "{context}");
    for p in &want {
        let f = std::fs::File::open(out.join(p)).unwrap();
        parquet::file::reader::SerializedFileReader::new(f)
            .unwrap_or_else(|e| panic!("{context}: {p} is not whole Parquet: {e}"));
    }
    assert_no_leftovers(out, context);
}

/// No staging directory and no staged file anywhere.
fn assert_no_leftovers(out: &Path, context: &str) {
    assert!(
        !out.join(".coopbench-staging").exists(),
        "{context}: staging left: {:?}",
        tree(out)
    );
    assert!(
        !tree(out).iter().any(|p| p.ends_with(".staged")),
        "{context}: staged files left: {:?}",
        tree(out)
    );
}

/// Asserts no round is visible at all (no table data, no manifest).
fn assert_absent(out: &Path, context: &str) {
    let (parquet, manifest) = visible(out);
    assert!(
        parquet.is_empty() && !manifest,
        "{context}: {parquet:?} {manifest}"
    );
}

#[test]
fn merge_killed_at_every_step_of_a_publish_then_run_again_leaves_the_round_whole() {
    let (s, _) = ten();
    // Before COMMITTED the round does not exist; from it on it must appear whole.
    let before_commit = ["publish-locked", "publish-staging", "publish-staged"];
    let after_commit = [
        "publish-committed",
        "publish-moved-1",
        "publish-moved-5",
        "publish-moved-6",
        "publish-manifest-moved",
    ];
    let mut log = Vec::new();
    for (k, point) in before_commit.iter().chain(&after_commit).enumerate() {
        let out = s.path(&format!("out-{k}"));
        let crashed = run(
            s.dir.path(),
            &merge_args(&s, &out),
            &[("COOPBENCH_CRASH_AT", point)],
        );
        assert_eq!(
            crashed.code, -1,
            "{point}: the hook did not abort the merge: {crashed:?}"
        );
        let (parquet, manifest) = visible(&out);
        log.push(format!(
            "{point}: {} tables visible, manifest {manifest}",
            parquet.len()
        ));
        if before_commit.contains(point) {
            assert_absent(&out, point);
        } else if manifest {
            // The manifest is moved last: with it, every table is there.
            assert_eq!(parquet.len(), TABLES.len(), "{point}");
        }
        let again = run(s.dir.path(), &merge_args(&s, &out), &[]);
        again.expect(0);
        if before_commit.contains(point) {
            // Killed with files staged: recovery deleted them first.
            assert_eq!(
                again.stdout.contains("removed the unfinished staging"),
                *point != "publish-locked",
                "{point}: {}",
                again.stdout
            );
            assert!(
                again.stdout.contains("Published round"),
                "{point}: {}",
                again.stdout
            );
        } else {
            assert!(
                again.stdout.contains("finished publishing it"),
                "{point}: {}",
                again.stdout
            );
        }
        assert_complete(&out, point);
        // And a third run refuses: the round is published, never overwritten.
        let third = run(s.dir.path(), &merge_args(&s, &out), &[]);
        third.expect(1);
        assert!(
            third.stderr.contains("never overwritten"),
            "{point}: {}",
            third.stderr
        );
    }
    println!("{}", log.join("\n"));
}

#[test]
fn merge_killed_at_random_moments_then_run_again_leaves_the_round_whole() {
    let (s, _) = ten();
    // A fixed schedule of kill delays, spread over a merge's whole run.
    let mut outcomes = (0, 0, 0);
    for k in 0..16u64 {
        let out = s.path(&format!("rand-{k}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_coopbench-aggregator"))
            .args(merge_args(&s, &out))
            .current_dir(s.dir.path())
            .env("COOPBENCH_TODAY", "2026-11-23")
            .env_remove("COOPBENCH_CRASH_AT")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5 + k * 23 % 300));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let (parquet, manifest) = visible(&out);
        match (status.code(), manifest) {
            (Some(0), _) => outcomes.2 += 1,
            (_, true) => outcomes.1 += 1,
            _ => outcomes.0 += 1,
        }
        if manifest {
            assert_eq!(
                parquet.len(),
                TABLES.len(),
                "kill {k}: a manifest without every table"
            );
        }
        // Complete already (the kill came after the last step)?
        let done_before = manifest
            && tree(&out)
                .iter()
                .all(|p| !p.starts_with(".coopbench-staging"));
        let again = run(s.dir.path(), &merge_args(&s, &out), &[]);
        match again.code {
            0 => {}
            1 if done_before => assert!(
                again.stderr.contains("never overwritten"),
                "{}",
                again.stderr
            ),
            _ => panic!("kill {k} ({status:?}, manifest {manifest}): re-run {again:?}"),
        }
        assert_complete(&out, &format!("kill {k} after {:?}", status));
    }
    println!(
        "killed before a manifest: {}, after: {}, finished first: {}",
        outcomes.0, outcomes.1, outcomes.2
    );
}

#[test]
fn concurrent_merges_into_one_directory_publish_exactly_once() {
    let (s, _) = ten();
    let out = s.path("out");
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_coopbench-aggregator"))
                .args(merge_args(&s, &out))
                .current_dir(s.dir.path())
                .env("COOPBENCH_TODAY", "2026-11-23")
                .env_remove("COOPBENCH_CRASH_AT")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let runs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let codes: Vec<Option<i32>> = runs.iter().map(|r| r.status.code()).collect();
    assert_eq!(
        codes.iter().filter(|c| **c == Some(0)).count(),
        1,
        "{codes:?}"
    );
    for r in runs.iter().filter(|r| r.status.code() != Some(0)) {
        assert_eq!(r.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(stderr.contains("never overwritten"), "{stderr}");
    }
    assert_complete(&out, "concurrent");
}

#[test]
#[cfg(unix)]
fn symbolic_links_inside_out_are_refused_and_nothing_is_written_through_them() {
    let (s, _) = ten();
    let elsewhere = s.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    for (link, target) in [
        ("revenue", elsewhere.clone()),
        ("manifests", elsewhere.clone()),
        (".coopbench-publish.lock", elsewhere.join("created-by-lock")),
        (".coopbench-staging", elsewhere.clone()),
    ] {
        let out = s.path(&format!("out-{}", link.trim_start_matches('.')));
        std::fs::create_dir_all(&out).unwrap();
        std::os::unix::fs::symlink(&target, out.join(link)).unwrap();
        let r = run(s.dir.path(), &merge_args(&s, &out), &[]);
        r.expect(1);
        assert!(r.stderr.contains("symbolic link"), "{link}: {}", r.stderr);
        assert_eq!(
            tree(&elsewhere),
            Vec::<String>::new(),
            "{link}: wrote through the link"
        );
        assert_absent(&out, link);
    }
}

#[test]
fn a_contribution_larger_than_its_round_allows_is_rejected_unread_and_the_merge_goes_on() {
    let (s, files) = ten();
    let limit = coopbench_protocol::limits::contribution_max_bytes(&s.round);
    // A validly signed contribution padded with whitespace past the limit.
    let mut bytes = std::fs::read(&files[0]).unwrap();
    bytes.truncate(bytes.len() - 1);
    bytes.extend(std::iter::repeat_n(b' ', limit as usize));
    bytes.push(b'}');
    std::fs::write(&files[0], &bytes).unwrap();
    let out = s.path("out");
    let r = run(s.dir.path(), &merge_args(&s, &out), &[]);
    assert!(r.stdout.contains("0.json"), "{}", r.stdout);
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("rejected") && l.contains("0.json"))
        .unwrap_or("");
    assert!(
        line.contains(&format!("at most {limit} bytes")) && line.contains("[unreadable]"),
        "{}",
        r.stdout
    );
    assert!(line.contains("cells"), "{line}");
}

#[test]
fn oversized_pool_and_round_files_are_refused_with_their_limit() {
    let (s, _) = ten();
    let out = s.path("out");
    for (name, limit) in [
        ("pool.sig.json", coopbench_protocol::limits::POOL_MAX_BYTES),
        (
            "round.sig.json",
            coopbench_protocol::limits::ROUND_MAX_BYTES,
        ),
    ] {
        let path = s.path(name);
        let good = std::fs::read(&path).unwrap();
        let mut big = good.clone();
        big.extend(std::iter::repeat_n(b' ', limit as usize));
        std::fs::write(&path, &big).unwrap();
        let r = run(s.dir.path(), &merge_args(&s, &out), &[]);
        r.expect(2);
        assert!(
            r.stderr.contains(name) && r.stderr.contains(&format!("at most {limit} bytes")),
            "{}",
            r.stderr
        );
        std::fs::write(&path, &good).unwrap();
    }
    assert!(!out.exists() || visible(&out).0.is_empty());
}

/// The example round with one metric's dims repeated until its cells pass 2^64.
fn overflowing(round: &mut coopbench_protocol::Round) {
    round.metrics[0].dims = vec!["category".into(); 30]; // 6^30 > 2^64
}

#[test]
fn rounds_whose_cells_pass_2_to_the_64_are_refused_with_a_message_not_a_panic() {
    // merge: a signed round with repeated dims.
    let s = Setup::new(10, overflowing);
    let out = s.path("out");
    let r = run(s.dir.path(), &merge_args(&s, &out), &[]);
    r.expect(1);
    assert!(r.stderr.contains("more than 2^64 cells"), "{}", r.stderr);
    assert!(r.stderr.contains("appears twice"), "{}", r.stderr);
    // The count itself saturates.
    assert_eq!(s.round.metric_cells(&s.round.metrics[0]), usize::MAX);
}

#[test]
fn toolkit_versions_that_are_not_coopbench_x_y_z_are_rejected() {
    use coopbench_protocol::contribution::is_toolkit_version;
    for good in [
        "coopbench 0.1.0",
        "coopbench 12.3.456",
        "coopbench 1.0.0-rc.1",
    ] {
        assert!(is_toolkit_version(good), "{good}");
    }
    for bad in [
        "coopbench \u{202e}\u{7}",
        "coopbench ",
        "coopbench 1.0",
        "coopbench 1.0.0\n",
        "coopbench 1.0.0-\u{202e}",
        "coopbench 1.0.0 (evil)",
        "other 1.0.0",
    ] {
        assert!(!is_toolkit_version(bad), "{bad:?}");
    }
    // Through merge: a validly signed contribution with a hostile version.
    let (s, files) = ten();
    let mut c = s.contribution(0, 1, values(0, 1));
    c.toolkit_version = "coopbench \u{202e}\u{7}".into();
    s.write_signed("c/0.json", &c, &s.members[0]);
    let out = s.path("out");
    let r = run(s.dir.path(), &merge_args(&s, &out), &[]);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("rejected") && l.contains("0.json"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(line.ends_with("[toolkit_version]"), "{line}");
    assert!(
        !r.stdout.contains('\u{202e}'),
        "the raw version was printed"
    );
    assert_eq!(files.len(), 10);
}
