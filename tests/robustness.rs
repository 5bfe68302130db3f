//! Crash-proof and bounded, driven through `coopbench` as a member (or a
//! hostile file) would: a CSV that shrinks while it is validated, output
//! targets that are not regular files, inputs past their limits, sums past
//! the range of f64. See docs/robustness.md.

mod common;

use common::fixture::Member;
use common::{sales_csv, sales_row, Dir, SALES_HEADER};
use std::path::Path;
use std::process::{Command, Stdio};

/// The read position of the descriptor `pid` holds on `file`, if it holds one.
fn read_position(pid: u32, file: &Path) -> Option<u64> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    for fd in fds.flatten() {
        if std::fs::read_link(fd.path()).ok().as_deref() == Some(file) {
            let info = std::fs::read_to_string(format!(
                "/proc/{pid}/fdinfo/{}",
                fd.file_name().to_string_lossy()
            ))
            .ok()?;
            let pos = info.lines().find_map(|l| l.strip_prefix("pos:"))?;
            return pos.trim().parse().ok();
        }
    }
    None
}

/// A valid sales file of about `mb` MiB.
fn big_sales(mb: usize) -> String {
    let mut s = String::from(SALES_HEADER);
    s.push('\n');
    let mut i = 0;
    while s.len() < mb << 20 {
        s.push_str(&sales_row(&format!("R{i}")));
        s.push('\n');
        i += 1;
    }
    s
}

#[test]
#[cfg(target_os = "linux")]
fn a_csv_cut_short_while_it_is_validated_is_an_error_naming_it_never_a_signal() {
    let d = Dir::new();
    let text = big_sales(48);
    for (cut, how) in [
        (0u64, "cut to 0 bytes"),
        (text.len() as u64 / 4, "cut to a quarter"),
    ] {
        let path = d.write("sales.csv", &text).canonicalize().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_coopbench"))
            .args(["validate", "sales.csv"])
            .current_dir(d.path())
            .env_remove("COOPBENCH_CRASH_AT")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the batched read is under way but far from the end (the
        // reader runs at most a few 2 MiB batches ahead of the parsers), then cut.
        let pid = child.id();
        let started = std::time::Instant::now();
        loop {
            match read_position(pid, &path) {
                Some(pos) if pos > 4 << 20 && pos < text.len() as u64 / 2 => break,
                _ => {}
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "{how}: validate ended before the test could cut the file"
            );
            assert!(
                started.elapsed().as_secs() < 120,
                "{how}: the read never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(cut)
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{how}: not exit 2 (a signal shows as None): {:?}\nstderr: {stderr}",
            out.status
        );
        assert!(
            stderr.contains("sales.csv") && stderr.contains("changed"),
            "{how}: stderr: {stderr}"
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("OK"),
            "{how}"
        );
    }
}

#[test]
fn a_header_wider_than_the_schema_allows_is_refused_before_the_rows_are_read() {
    let d = Dir::new();
    let mut header = String::from(SALES_HEADER);
    for i in 0..100 {
        header.push_str(&format!(",extra{i}"));
    }
    let mut text = header;
    text.push('\n');
    for i in 0..10 {
        text.push_str(&sales_row(&format!("R{i}")));
        text.push('\n');
    }
    d.write("sales.csv", &text);
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let problems = run.problems("sales.csv");
    assert_eq!(problems.len(), 1, "{}", run.stdout);
    assert!(
        problems[0].contains("header-too-wide") && problems[0].contains("108 columns"),
        "{}",
        problems[0]
    );
    assert!(problems[0].contains("at most 64 more"), "{}", problems[0]);
}

#[test]
fn a_header_longer_than_64_kib_is_refused_with_its_limit() {
    let d = Dir::new();
    let mut text = format!("{SALES_HEADER},\"");
    text.push_str(&"x".repeat(70 << 10));
    text.push_str("\"\n");
    text.push_str(&sales_row("R1"));
    d.write("sales.csv", &text);
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let p = run.problems("sales.csv");
    assert!(
        p.len() == 1 && p[0].contains("header-too-long") && p[0].contains("65536 bytes"),
        "{}",
        run.stdout
    );
}

#[test]
fn blank_lines_past_the_limit_stop_the_read_with_the_reason() {
    let d = Dir::new();
    let mut text = sales_csv(&[&sales_row("R1")]);
    text.push_str(&"\n".repeat(200_000));
    d.write("sales.csv", &text);
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let p = run.problems("sales.csv");
    assert_eq!(p.len(), 1, "{}", run.stdout);
    assert!(
        p[0].starts_with("sales.csv:3:") && p[0].contains("too-many-bad-rows"),
        "{}",
        p[0]
    );
    assert!(p[0].contains("more than 10000 rows"), "{}", p[0]);
    // Up to the limit, every blank row is still reported and counted.
    let mut text = sales_csv(&[&sales_row("R1")]);
    text.push_str(&"\n".repeat(50));
    text.push_str(&sales_row("R2"));
    text.push('\n');
    d.write("sales.csv", &text);
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.count_of("sales.csv", "blank-row", ""),
        Some(50),
        "{}",
        run.stdout
    );
}

#[test]
fn an_unclosed_quote_swallowing_the_file_is_refused_at_the_record_limit() {
    let d = Dir::new();
    let mut text = sales_csv(&[&sales_row("R1")]);
    text.push_str("2025-01-05,\"bread");
    let row = format!("\n{}", sales_row("Rx"));
    while text.len() < 3 << 20 {
        text.push_str(&row);
    }
    text.push('\n');
    d.write("sales.csv", &text);
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let p = run.problems("sales.csv");
    assert!(
        p.len() == 1 && p[0].contains("record-too-long") && p[0].starts_with("sales.csv:3:"),
        "{}",
        run.stdout
    );
}

/// The ledger's bytes, or nothing.
fn ledger(m: &Member) -> Vec<u8> {
    std::fs::read(m.state().join("ledger.jsonl")).unwrap_or_default()
}

#[test]
#[cfg(unix)]
fn export_and_compare_refuse_outputs_that_are_not_regular_files_and_charge_nothing() {
    let m = Member::new();
    let dir = m.dir.path();
    // A FIFO: renaming over it would replace it; writing to it would block.
    let fifo = dir.join("pipe.json");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    // A symbolic link to a regular file, and one to a file in another directory.
    std::fs::write(dir.join("real.json"), b"keep").unwrap();
    std::os::unix::fs::symlink(dir.join("real.json"), dir.join("link.json")).unwrap();
    for (out, says) in [
        ("pipe.json", "not a regular file"),
        ("/dev/null", "not a regular file"),
        ("/dev/stdout", "symbolic link"),
        ("link.json", "symbolic link"),
        ("no-such-dir/c.json", "does not take a new file"),
        (".", "is a directory"),
    ] {
        let run = m.run(&[
            "export",
            "--round",
            "round.sig.json",
            "sales.csv",
            "costs.csv",
            "-o",
            out,
        ]);
        run.expect_code(2);
        assert!(run.stderr.contains(says), "{out}: {}", run.stderr);
        assert!(ledger(&m).is_empty(), "{out}: the ledger was charged");
        assert!(
            !m.state().join("exports").exists()
                || std::fs::read_dir(m.state().join("exports"))
                    .unwrap()
                    .next()
                    .is_none(),
            "{out}: an export record was written"
        );
    }
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo_like());
    assert!(std::fs::symlink_metadata(dir.join("link.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(dir.join("real.json")).unwrap(), b"keep");
    // A regular file is still replaced, whole.
    let run = m.export(&[]);
    run.expect_code(0);
    assert!(!ledger(&m).is_empty());
    // compare --html: the same rule, checked before anything is read.
    for (out, says) in [
        ("pipe.json", "not a regular file"),
        ("link.json", "symbolic link"),
    ] {
        let run = m.run(&[
            "compare",
            "--benchmarks",
            "nowhere",
            "--html",
            out,
            "sales.csv",
        ]);
        run.expect_code(2);
        assert!(run.stderr.contains(says), "{out}: {}", run.stderr);
    }
}

/// `is_fifo` without importing the unix extension trait at every call.
trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for std::fs::FileType {
    fn is_fifo_like(&self) -> bool {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileTypeExt::is_fifo(self)
        }
        #[cfg(not(unix))]
        {
            false
        }
    }
}

#[test]
fn amounts_whose_sum_passes_f64_are_accepted_by_validate_and_export_alike() {
    let m = Member::new();
    // Two finite amounts whose sum overflows f64 in one cell: validate says
    // OK, and export agrees (the sum saturates, then is clipped).
    let mut sales = std::fs::read_to_string(m.dir.path().join("sales.csv")).unwrap();
    let month = sales.lines().nth(1).unwrap()[..7].to_string();
    for r in ["X1", "X2"] {
        sales.push_str(&format!("{month}-11,bread,store,1.5e308,1,1,EUR,{r}\n"));
    }
    m.dir.write("sales.csv", &sales);
    m.dir.validate(&["sales.csv"]).expect_code(0);
    let run = m.export(&[]);
    run.expect_code(0);
    assert!(!run.stderr.contains("NaN"), "{}", run.stderr);
    // A NaN amount is valid Table Schema, but a sum that is NaN has no value
    // to clip: export refuses it and says so, charging nothing.
    let m = Member::new();
    let mut sales = std::fs::read_to_string(m.dir.path().join("sales.csv")).unwrap();
    sales.push_str(&format!("{month}-11,bread,store,NaN,1,1,EUR,X3\n"));
    m.dir.write("sales.csv", &sales);
    m.dir.validate(&["sales.csv"]).expect_code(0);
    let run = m.export(&[]);
    run.expect_code(1);
    assert!(run.stderr.contains("NaN amount"), "{}", run.stderr);
    assert!(ledger(&m).is_empty());
}

#[test]
fn plan_refuses_a_round_whose_cells_pass_2_to_the_64_with_a_message() {
    // Dims repeated until the product of their label counts passes 2^64:
    // this used to panic ("attempt to multiply with overflow"), exit 101.
    let m = Member::with_round(|r| r.metrics[0].dims = vec!["category".into(); 30]);
    let run = m.run(&["plan", "--round", "round.sig.json"]);
    assert_ne!(run.code, 101, "{}", run.stderr);
    run.expect_code(1);
    assert!(
        run.stderr.contains("more than 2^64 cells"),
        "{}",
        run.stderr
    );
}
