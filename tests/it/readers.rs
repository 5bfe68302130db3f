//! Real readers: two small whole rounds through both CLIs, merged into one
//! folder with different grids (`revenue` and `active` by month × category in
//! the first, by category alone in the second), then polars, pyarrow, pandas
//! and duckdb (pinned in tests/python/requirements.txt, installed into a venv
//! in the target directory, never in the repository) read the benchmarks,
//! and every python snippet of docs/analysts.md runs against them, verbatim
//! (tests/python/readers.py): every row the files hold, no column dropped,
//! `month` a date, money decimal(38,2), `round` a string.
//!
//! The venv is created here when it is missing or was made from other
//! requirements (pip from the package registry; the first run takes a
//! minute), under a file lock so that concurrent test runs never build it
//! twice. Without a working Python or registry this test fails: it never
//! skips.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

const MEMBER: &str = env!("CARGO_BIN_EXE_coopbench");
const GENERATOR: &str = env!("CARGO_BIN_EXE_coopbench-examples");
/// The example round asks for at least 10 contributions (min_members_total).
const MEMBERS: usize = 12;
const TODAY: &str = "2026-11-23";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn show(what: &str, out: &Output) -> String {
    format!(
        "{what}: exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a project binary with today's date pinned; panics unless it exits 0.
fn run(bin: &Path, args: &[&str]) -> String {
    let out = Command::new(bin)
        .args(args)
        .env("COOPBENCH_TODAY", TODAY)
        .env_remove("COOPBENCH_STATE_DIR")
        .env_remove("COOPBENCH_CRASH_AT")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "{}",
        show(&format!("{} {args:?}", bin.display()), &out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// The second round: the example's next quarter, with `revenue` and `active`
/// by category alone (a coarser grid, as a small pool would choose).
fn coarser_round(template: &str) -> String {
    let out = template
        .replace("id = \"2025q4\"", "id = \"2026q1\"")
        .replace("opens = \"2026-04-01\"", "opens = \"2026-07-01\"")
        .replace("start = \"2025-10-01\"", "start = \"2026-01-01\"")
        .replace("end = \"2025-12-31\"", "end = \"2026-03-31\"")
        .replace("dims = [\"month\", \"category\"]", "dims = [\"category\"]");
    assert_eq!(
        out.matches("dims = [\"category\"]").count(),
        2,
        "the example round changed: revenue and active are no longer by month and category"
    );
    assert!(out.contains("2026q1") && out.contains("2026-07-01") && out.contains("2026-03-31"));
    out
}

/// Two rounds of the example for `MEMBERS` generated bakeries, merged into
/// `bench`: 2025q4 as in the example, 2026q1 with the coarser grid.
fn two_rounds(dir: &Path, bench: &Path) {
    let agg = crate::common::aggregator_bin();
    let member = Path::new(MEMBER);
    let data = dir.join("data");
    let assoc = dir.join("association");
    let inbox = dir.join("inbox");
    fs::create_dir_all(&inbox).unwrap();
    run(
        Path::new(GENERATOR),
        &[
            "generate",
            "--members",
            &MEMBERS.to_string(),
            "--months",
            "6",
            "--start",
            "2025-10",
            "--seed",
            "5",
            "--out",
            s(&data),
        ],
    );
    run(
        &agg,
        &[
            "pool",
            "init",
            "--dir",
            s(&assoc),
            "--id",
            "bakeries",
            "--name",
            "Independent Bakeries (test)",
            "--purpose",
            "Benchmarks that help independent bakeries understand their market and costs.",
            "--sunset",
            "2029-12-31",
        ],
    );
    let states: Vec<(String, PathBuf)> = (1..=MEMBERS)
        .map(|m| {
            let name = format!("member-{m:02}");
            let state = dir.join("states").join(&name);
            (name, state)
        })
        .collect();
    for (name, state) in &states {
        run(member, &["keygen", "--state-dir", s(state)]);
        let public = fs::read_to_string(state.join("member.pub")).unwrap();
        run(
            &agg,
            &[
                "pool",
                "add-member",
                "--dir",
                s(&assoc),
                name,
                public.trim(),
            ],
        );
    }
    run(&agg, &["pool", "sign", "--dir", s(&assoc)]);
    let pool = assoc.join("pool.sig.json");
    for (_, state) in &states {
        run(
            member,
            &["join", "--yes", s(&pool), "--state-dir", s(state)],
        );
    }
    let example = fs::read_to_string(repo().join("examples/rounds/2025q4.toml")).unwrap();
    for (id, text) in [
        ("2025q4", example.clone()),
        ("2026q1", coarser_round(&example)),
    ] {
        let template = dir.join(format!("{id}.toml"));
        fs::write(&template, text).unwrap();
        run(
            &agg,
            &["round", "new", "--dir", s(&assoc), "--from", s(&template)],
        );
        run(&agg, &["round", "sign", "--dir", s(&assoc), id]);
        let round = assoc.join(format!("rounds/{id}.sig.json"));
        let inbox = inbox.join(id);
        fs::create_dir_all(&inbox).unwrap();
        for (name, state) in &states {
            let files = data.join(name);
            run(
                member,
                &[
                    "export",
                    "--round",
                    s(&round),
                    s(&files.join("sales.csv")),
                    s(&files.join("costs.csv")),
                    "-o",
                    s(&inbox.join(format!("{name}.json"))),
                    "--state-dir",
                    s(state),
                ],
            );
        }
        let merged = run(
            &agg,
            &[
                "merge",
                "--pool",
                s(&pool),
                "--round",
                s(&round),
                s(&inbox),
                "--out",
                s(bench),
            ],
        );
        assert!(
            merged.contains(&format!("{MEMBERS} accepted")),
            "merge did not accept all {MEMBERS} contributions:\n{merged}"
        );
        assert!(
            bench.join(format!("revenue/{id}.parquet")).is_file(),
            "merge wrote no revenue table:\n{merged}"
        );
    }
}

/// `<target>/tmp/readers-venv` with the pinned readers, created or refreshed
/// if needed. Returns its python.
pub(crate) fn venv() -> PathBuf {
    let root = repo();
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let venv = scratch.join("readers-venv");
    let python = venv.join("bin/python");
    let requirements_path = root.join("tests/python/requirements.txt");
    let requirements =
        fs::read_to_string(&requirements_path).expect("read tests/python/requirements.txt");
    // The requirements a venv was last completed with: a venv made from
    // other pins is brought up to date rather than trusted.
    let stamp = venv.join("coopbench-requirements.txt");

    let lock_path = scratch.join("readers-venv.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("{}: {e}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));

    let imports = || {
        Command::new(&python)
            .args(["-c", "import pyarrow, polars, duckdb, pandas"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let current = fs::read_to_string(&stamp).is_ok_and(|s| s == requirements);
    if current && imports() {
        return python;
    }
    let started = Instant::now();
    if !python.exists() {
        if venv.exists() {
            // A venv without its interpreter (moved, or a failed creation).
            fs::remove_dir_all(&venv)
                .unwrap_or_else(|e| panic!("cannot remove the broken {}: {e}", venv.display()));
        }
        let out = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run python3 to create {} (CPython 3 with venv is needed): {e}",
                    venv.display()
                )
            });
        assert!(
            out.status.success(),
            "{}",
            show("python3 -m venv .venv", &out)
        );
    }
    let _ = fs::remove_file(&stamp);
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "-q",
            "-r",
        ])
        .arg(&requirements_path)
        .env("PIP_NO_INPUT", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{}",
        show(
            ".venv/bin/python -m pip install -r tests/python/requirements.txt",
            &out
        )
    );
    assert!(
        imports(),
        "the readers do not import from {} after pip install",
        venv.display()
    );
    fs::write(&stamp, &requirements).unwrap();
    eprintln!(
        "readers: set up {} from tests/python/requirements.txt in {:.1} s",
        venv.display(),
        started.elapsed().as_secs_f64()
    );
    python
}

#[test]
fn python_readers_read_two_rounds_with_different_grids_as_one_dataset() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let bench = dir.path().join("benchmarks");
    two_rounds(dir.path(), &bench);
    let round_done = started.elapsed();
    let python = venv();
    let venv_done = started.elapsed();
    let out = Command::new(&python)
        .arg(repo().join("tests/python/readers.py"))
        .arg(&bench)
        .arg(repo().join("docs/analysts.md"))
        .current_dir(repo())
        .env("PYTHONNOUSERSITE", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PYTHONPATH")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{}",
        show("tests/python/readers.py (a real reader could not read the benchmarks, or a snippet of docs/analysts.md failed)", &out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("readers: all checks passed"),
        "{}",
        show("tests/python/readers.py", &out)
    );
    println!("{stdout}");
    println!(
        "readers: round {:.1} s, venv {:.1} s, readers {:.1} s",
        round_done.as_secs_f64(),
        (venv_done - round_done).as_secs_f64(),
        (started.elapsed() - venv_done).as_secs_f64()
    );
}
