//! `coopbench … | head -1`: a closed pipe on stdout ends the printing, never
//! the command. Every command of both binaries that prints is run here with
//! its stdout already closed (so its very first write fails with EPIPE, a
//! deterministic `| head -0`) through a whole local round; each must exit as
//! it would have (0), print no panic, and still do its work: keys written,
//! contributions exported and charged once, benchmarks published.
//!
//! And the rule behind it, checked on the sources: commands print through
//! `coopbench_cli::outln!`/`out!`, never `println!`/`print!`, which panic on
//! a closed pipe.

use crate::common::aggregator_bin;
use crate::common::round::TODAY;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs `bin ARGS` in `cwd` with stdout a pipe whose reader is already gone;
/// returns the exit code and stderr.
fn closed(bin: &Path, cwd: &Path, args: &[&str]) -> (i32, String) {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let child = Command::new(bin)
        .args(args)
        .current_dir(cwd)
        .env_remove("COOPBENCH_STATE_DIR")
        .env_remove("COOPBENCH_CRASH_AT")
        .env_remove("RUST_BACKTRACE")
        .env("COOPBENCH_TODAY", TODAY)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the command with stdout closed and asserts it succeeded without a
/// word about the pipe.
fn ok(bin: &Path, cwd: &Path, args: &[&str]) {
    let (code, stderr) = closed(bin, cwd, args);
    let name = bin.file_name().unwrap().to_string_lossy();
    assert_eq!(code, 0, "{name} {args:?} exited {code}: {stderr}");
    for bad in ["panicked", "Broken pipe", "failed printing", "os error 32"] {
        assert!(!stderr.contains(bad), "{name} {args:?}: {stderr}");
    }
}

fn member_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_coopbench"))
}

fn examples_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_coopbench-examples"))
}

#[test]
fn every_command_survives_a_closed_stdout_and_still_does_its_work() {
    let d = tempfile::tempdir().unwrap();
    let cwd = d.path();
    let (agg, member) = (aggregator_bin(), member_bin());
    let members = 10; // the example round's min_members_total
    ok(
        &examples_bin(),
        cwd,
        &[
            "generate",
            "--members",
            "10",
            "--months",
            "3",
            "--seed",
            "7",
            "--start",
            "2025-10",
            "--out",
            "data",
        ],
    );
    ok(&agg, cwd, &["--help"]);
    ok(&member, cwd, &["--help"]);
    ok(
        &agg,
        cwd,
        &[
            "pool",
            "init",
            "--dir",
            "pool",
            "--id",
            "bakeries",
            "--name",
            "Bakeries",
            "--purpose",
            "Benchmarks for independent bakeries.",
            "--sunset",
            "2029-12-31",
        ],
    );
    let dirs: Vec<String> = (1..=members)
        .map(|i| format!("data/member-{i:02}"))
        .collect();
    for (i, m) in dirs.iter().enumerate() {
        let state = format!("{m}/state");
        ok(&member, cwd, &["keygen", "--state-dir", &state]);
        let public = std::fs::read_to_string(cwd.join(&state).join("member.pub")).unwrap();
        ok(
            &agg,
            cwd,
            &[
                "pool",
                "add-member",
                "--dir",
                "pool",
                &format!("Bakery {i}"),
                public.trim(),
            ],
        );
    }
    ok(&agg, cwd, &["pool", "sign", "--dir", "pool"]);
    ok(&agg, cwd, &["pool", "show", "--dir", "pool"]);
    let template = cwd.join("round.toml");
    std::fs::write(&template, coopbench_testkit::EXAMPLE_ROUND_TOML).unwrap();
    ok(
        &agg,
        cwd,
        &["round", "new", "--dir", "pool", "--from", "round.toml"],
    );
    ok(
        &agg,
        cwd,
        &[
            "round",
            "preview",
            "--dir",
            "pool",
            "2025q4",
            "--expected-members",
            "10",
        ],
    );
    ok(&agg, cwd, &["round", "sign", "--dir", "pool", "2025q4"]);
    ok(
        &agg,
        cwd,
        &[
            "helper", "keygen", "--dir", "helper", "--name", "Helper", "--n-min", "10",
        ],
    );
    std::fs::create_dir(cwd.join("inbox")).unwrap();
    for (i, m) in dirs.iter().enumerate() {
        let state = format!("{m}/state");
        let (sales, costs) = (format!("{m}/sales.csv"), format!("{m}/costs.csv"));
        ok(
            &member,
            cwd,
            &["join", "--yes", "pool/pool.sig.json", "--state-dir", &state],
        );
        ok(&member, cwd, &["validate", &sales, &costs]);
        let round = "pool/rounds/2025q4.sig.json";
        ok(
            &member,
            cwd,
            &[
                "plan",
                "--round",
                round,
                &sales,
                &costs,
                "--state-dir",
                &state,
            ],
        );
        let out = format!("inbox/{i}.json");
        ok(
            &member,
            cwd,
            &[
                "export",
                "--round",
                round,
                &sales,
                &costs,
                "-o",
                &out,
                "--state-dir",
                &state,
            ],
        );
        assert!(
            cwd.join(&out).is_file(),
            "export {i} wrote its contribution"
        );
        ok(&member, cwd, &["ledger", "--state-dir", &state]);
        ok(&member, cwd, &["policy", "--state-dir", &state]);
        let ledger = std::fs::read_to_string(cwd.join(&state).join("ledger.jsonl")).unwrap();
        assert_eq!(ledger.lines().count(), 1, "member {i} charged once");
    }
    ok(
        &agg,
        cwd,
        &[
            "merge",
            "--pool",
            "pool/pool.sig.json",
            "--round",
            "pool/rounds/2025q4.sig.json",
            "inbox",
            "--out",
            "benchmarks",
        ],
    );
    assert!(
        cwd.join("benchmarks/manifests/2025q4.json").is_file(),
        "merge published"
    );
    ok(&agg, cwd, &["inspect", "benchmarks"]);
    let m = &dirs[0];
    ok(
        &member,
        cwd,
        &[
            "compare",
            "--benchmarks",
            "benchmarks",
            &format!("{m}/sales.csv"),
            &format!("{m}/costs.csv"),
            "--state-dir",
            &format!("{m}/state"),
        ],
    );
}

/// `println!`/`print!` in a command's source: each panics on a closed pipe.
fn raw_prints(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            raw_prints(&p, found);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                let raw = ["println!(", "print!("].iter().any(|m| {
                    code.match_indices(m).any(|(i, _)| {
                        // `eprintln!`, `outln!` and friends are other macros.
                        !code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                    })
                });
                if raw {
                    found.push(format!("{}:{}: {code}", p.display(), n + 1));
                }
            }
        }
    }
}

#[test]
fn commands_print_through_the_one_stdout_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for dir in ["src", "crates"] {
        raw_prints(&root.join(dir), &mut found);
    }
    // Tests and benches may print; a binary's commands may not.
    found.retain(|f| !f.contains("/tests/") && !f.contains("/benches/"));
    assert!(
        found.is_empty(),
        "use coopbench_cli::outln!/out! instead:\n{}",
        found.join("\n")
    );
}
