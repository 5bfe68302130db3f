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

/// The bundled real-world exports (examples/files) validate with their own
/// mapping files, passed together as docs/member.md shows, and have rows in
/// both quarters the example rounds read (growth reads the previous quarter).
#[test]
fn bundled_real_world_exports_validate_with_their_mapping_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/files");
    for (sales, sales_map) in [
        ("kasse_export.csv", "kasse.toml"),
        ("ventes.csv", "ventes.toml"),
    ] {
        let out = Command::new(BIN)
            .current_dir(&root)
            .args([
                "validate",
                "--map",
                sales_map,
                "--map",
                "expenses.toml",
                sales,
                "expenses.csv",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains(&format!("{sales}: OK (")), "{text}");
        assert!(text.contains("expenses.csv: OK ("), "{text}");
    }
    // The shapes the mapping files describe: Windows-1252 with ';' and
    // decimal commas; a UTF-8 BOM with CRLF; narrow no-break spaces.
    let kasse = std::fs::read(root.join("kasse_export.csv")).unwrap();
    assert!(
        std::str::from_utf8(&kasse).is_err(),
        "Windows-1252, not UTF-8"
    );
    assert!(kasse.windows(2).any(|w| w == b"\r\n"));
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&kasse);
    assert!(
        text.contains(".10.2025;") && text.contains(".07.2025;") && text.contains("Großhandel")
    );
    let expenses = std::fs::read(root.join("expenses.csv")).unwrap();
    assert!(expenses.starts_with("\u{feff}".as_bytes()) && expenses.ends_with(b"\r\n"));
    let ventes = std::fs::read_to_string(root.join("ventes.csv")).unwrap();
    assert!(
        ventes.contains('\u{202f}') && ventes.contains("/10/2025;") && ventes.contains("/07/2025;")
    );
}
