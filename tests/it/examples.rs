//! The bundled examples stay true: the dirty export's report is the committed
//! one, and generated member data validates.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_coopbench");
const GEN: &str = env!("CARGO_BIN_EXE_coopbench-examples");

#[test]
fn dirty_example_report_is_the_committed_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(BIN)
        .current_dir(root)
        .args(["validate", "examples/dirty/sales.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let expected =
        std::fs::read_to_string(root.join("examples/dirty/expected-report.txt")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}

#[test]
fn generated_members_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(GEN)
        .args([
            "generate",
            "--members",
            "3",
            "--months",
            "4",
            "--seed",
            "7",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for m in 1..=3 {
        let member = dir.path().join(format!("member-{m:02}"));
        let out = Command::new(BIN)
            .arg("validate")
            .arg(member.join("sales.csv"))
            .arg(member.join("costs.csv"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{text}");
        assert_eq!(text.matches(": OK (").count(), 2, "{text}");
    }
}
