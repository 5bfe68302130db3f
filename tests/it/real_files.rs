//! Members' real files as tills and accounting packages write them (the
//! bundled examples in examples/files: a German till, an Excel costs export,
//! a French till), passed together to `validate`, `plan`, `export` and
//! `compare`, each file read with its own mapping file. Every command must
//! get exactly the figures it gets from the same data written as the
//! schema's plain CSV (converted here, independently of coopbench); one
//! setting for both files must fail naming the file and the fix; and every
//! refusal is validate's report, before any other output, with nothing
//! charged or written.

use crate::common::fixture::Member;
use crate::common::{Run, COSTS_HEADER, SALES_HEADER};
use crate::compare::setup;
use std::path::Path;

/// The bundled example files and their mapping files.
const EXAMPLES: [&str; 6] = [
    "kasse_export.csv",
    "kasse.toml",
    "expenses.csv",
    "expenses.toml",
    "ventes.csv",
    "ventes.toml",
];

fn example(name: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::read(root.join("examples/files").join(name)).unwrap()
}

/// A member with the benchmark fixture and the example files in its directory.
fn member() -> Member {
    let m = setup(serde_json::Value::Null);
    for f in EXAMPLES {
        m.dir.write(f, example(f));
    }
    m
}

fn mapped<'a>(table: &'a [(&'a str, &'a str)], v: &str) -> &'a str {
    table
        .iter()
        .find(|(k, _)| *k == v)
        .map(|(_, x)| *x)
        .unwrap_or_else(|| panic!("no mapping for {v:?}"))
}

/// dd.mm.yyyy or dd/mm/yyyy -> yyyy-mm-dd.
fn iso(d: &str) -> String {
    let p: Vec<&str> = d.split(['.', '/']).collect();
    format!("{}-{}-{}", p[2], p[1], p[0])
}

/// The German till's sales as the schema's plain CSV.
fn plain_kasse() -> String {
    let cats = [
        ("Brot", "bread"),
        ("Brötchen", "bread"),
        ("Feingebäck", "pastry"),
        ("Kuchen & Torten", "cakes"),
        ("Snacks", "savoury"),
        ("Getränke", "drinks"),
    ];
    let channels = [
        ("Laden", "store"),
        ("Online", "online"),
        ("Großhandel", "wholesale"),
    ];
    let bytes = example("kasse_export.csv");
    let (text, _, bad) = encoding_rs::WINDOWS_1252.decode(&bytes);
    assert!(!bad);
    let mut out = format!("{SALES_HEADER}\n");
    for line in text.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        let c: Vec<&str> = line.split(';').collect();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},\n",
            iso(c[0]),
            mapped(&cats, c[1]),
            mapped(&channels, c[2]),
            c[3].replace(',', "."),
            c[4],
            c[5],
            c[6]
        ));
    }
    out
}

/// The French till's sales as the schema's plain CSV.
fn plain_ventes() -> String {
    let cats = [
        ("Pain", "bread"),
        ("Viennoiserie", "pastry"),
        ("Pâtisserie", "cakes"),
        ("Traiteur", "savoury"),
        ("Boissons", "drinks"),
    ];
    let channels = [("Boutique", "store"), ("En ligne", "online")];
    let text = String::from_utf8(example("ventes.csv")).unwrap();
    let bare = |s: &str| s.replace([' ', '\u{a0}', '\u{202f}'], "").replace(',', ".");
    let mut out = format!("{SALES_HEADER}\n");
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(';').collect();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            iso(c[0]),
            mapped(&cats, c[1]),
            mapped(&channels, c[2]),
            bare(c[3]),
            bare(c[4]),
            bare(c[5]),
            c[6],
            c[7]
        ));
    }
    out
}

/// The Excel costs export as the schema's plain CSV.
fn plain_expenses() -> String {
    let types = [
        ("Goods purchased", "cogs"),
        ("Rent", "rent"),
        ("Payroll", "wages"),
        ("Electricity", "energy"),
        ("Advertising", "marketing"),
    ];
    let bytes = example("expenses.csv");
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap();
    let mut rdr = csv::Reader::from_reader(body);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COSTS_HEADER.split(',')).unwrap();
    for r in rdr.records() {
        let r = r.unwrap();
        let amount = r[2].replace(',', "");
        w.write_record([&r[0], mapped(&types, &r[1]), &amount, &r[3], &r[4], ""])
            .unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// Asserts two outputs are equal, showing the first line that differs.
fn same_lines(real: &str, plain: &str) {
    for (i, (a, b)) in real.lines().zip(plain.lines()).enumerate() {
        assert_eq!(a, b, "line {} differs (real files, then plain ones)", i + 1);
    }
    assert_eq!(real.lines().count(), plain.lines().count());
}

/// Asserts two JSON documents are equal, numbers to 1e-9 relative: the
/// sums of a file's batches come in no fixed order, so their last bits may
/// differ between two reads of the same data.
fn same_json(at: &str, real: &serde_json::Value, plain: &serde_json::Value) {
    use serde_json::Value;
    match (real, plain) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{at}: {a} vs {b}");
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same_json(&format!("{at}[{i}]"), x, y);
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            assert_eq!(
                a.keys().collect::<Vec<_>>(),
                b.keys().collect::<Vec<_>>(),
                "{at}"
            );
            for (k, x) in a {
                same_json(&format!("{at}.{k}"), x, &b[k]);
            }
        }
        (a, b) => assert_eq!(a, b, "{at}"),
    }
}

fn args<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(tail).copied().collect()
}

/// The real files of one pair give every command exactly what the plain
/// files give.
fn same_as_plain(sales: &str, sales_map: &str, plain_sales: String) {
    let m = member();
    m.dir.write("sales.csv", plain_sales);
    m.dir.write("costs.csv", plain_expenses());
    let real = [
        "--map",
        sales_map,
        "--map",
        "expenses.toml",
        sales,
        "expenses.csv",
    ];
    let plain = ["sales.csv", "costs.csv"];
    let unname = |s: &str| {
        s.replace(sales, "sales.csv")
            .replace("expenses.csv", "costs.csv")
    };

    let v = m.dir.validate(&real);
    v.expect_code(0);
    assert!(v.summary(sales).contains(": OK ("), "{}", v.stdout);
    assert!(v.summary("expenses.csv").contains(": OK ("), "{}", v.stdout);
    let vp = m.dir.validate(&plain);
    vp.expect_code(0);
    same_lines(&unname(&v.stdout), &vp.stdout);

    let plan = |files: &[&str]| m.run(&args(&["plan", "--round", "round.sig.json"], files));
    let (pr, pp) = (plan(&real), plan(&plain));
    pr.expect_code(0);
    pp.expect_code(0);
    assert!(pr.stdout.contains("rows in the period"), "{}", pr.stdout);
    same_lines(&unname(&pr.stdout), &pp.stdout);

    let compare = |files: &[&str]| {
        m.run(&args(
            &[
                "compare",
                "--benchmarks",
                "bench",
                "--round-file",
                "round.sig.json",
                "--format",
                "json",
            ],
            files,
        ))
    };
    let (cr, cp) = (compare(&real), compare(&plain));
    cr.expect_code(0);
    cp.expect_code(0);
    // No cell of the example data sits on a rounding tie, where the last
    // bits of a sum (batches come in no fixed order) could round it either
    // way: the comparisons below are then exact on the rounded figures.
    let mut numbers = Vec::new();
    crate::common::round::numbers_in_json(&serde_json::from_str(&cp.stdout).unwrap(), &mut numbers);
    assert!(numbers.iter().all(|v| ((v.abs() % 1.0) - 0.5).abs() > 1e-6));
    same_json(
        "",
        &serde_json::from_str(&cr.stdout).unwrap(),
        &serde_json::from_str(&cp.stdout).unwrap(),
    );

    let export = |files: &[&str]| {
        m.run(&args(
            &[
                "export",
                "--round",
                "round.sig.json",
                "-o",
                "contribution.json",
            ],
            files,
        ))
    };
    export(&real).expect_code(0);
    assert_eq!(m.ledger_lines().len(), 1);
    // The plain files hold the same figures: export recognises its own
    // contribution (same clipped cells) and charges nothing.
    let again = export(&plain);
    again.expect_code(0);
    assert!(
        again.stdout.contains("Nothing was charged"),
        "{}",
        again.stdout
    );
    assert_eq!(m.ledger_lines().len(), 1);
}

#[test]
fn a_german_till_export_and_an_excel_costs_export_work_together_in_every_command() {
    same_as_plain("kasse_export.csv", "kasse.toml", plain_kasse());
}

#[test]
fn a_french_till_export_with_grouped_thousands_and_an_excel_costs_export_work_together() {
    same_as_plain("ventes.csv", "ventes.toml", plain_ventes());
}

/// Mapping files with the columns and values only: how the files are
/// written then comes from the command line, for both.
fn format_free_mappings(m: &Member) {
    let strip = |name: &str| -> String {
        String::from_utf8(example(name))
            .unwrap()
            .lines()
            .filter(|l| {
                ![
                    "kind",
                    "delimiter",
                    "encoding",
                    "decimal_comma",
                    "thousands",
                    "date_format",
                ]
                .iter()
                .any(|k| l.starts_with(k))
            })
            .map(|l| format!("{l}\n"))
            .collect()
    };
    m.dir.write("kasse-columns.toml", strip("kasse.toml"));
    m.dir.write("expenses-columns.toml", strip("expenses.toml"));
}

fn refused_untouched(
    m: &Member,
    run: &Run,
    before: &std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>,
) {
    assert_ne!(run.code, 0);
    assert!(m.ledger_lines().is_empty(), "nothing charged");
    assert!(!m.dir.path().join("contribution.json").exists());
    let after = coopbench_testkit::snapshot(m.dir.path());
    let changed: Vec<_> = after
        .iter()
        // export's lock file (empty) is no output
        .filter(|(p, b)| before.get(*p) != Some(*b) && !p.ends_with("state/state.lock"))
        .map(|(p, _)| p)
        .chain(before.keys().filter(|p| !after.contains_key(*p)))
        .collect();
    assert!(changed.is_empty(), "written or changed: {changed:?}");
    for text in [&run.stdout, &run.stderr] {
        for polars in [
            "polars",
            "Resolved plan",
            "unable to find column",
            "FAILED HERE",
        ] {
            assert!(!text.contains(polars), "{polars}: {text}");
        }
    }
}

#[test]
fn one_setting_for_both_files_fails_naming_the_file_and_the_fix() {
    let m = member();
    format_free_mappings(&m);
    m.dir.write(
        "expenses-utf8.toml",
        format!(
            "encoding = \"utf-8\"\n{}",
            String::from_utf8(m.read("expenses-columns.toml")).unwrap()
        ),
    );
    let before = coopbench_testkit::snapshot(m.dir.path());
    let global = [
        "--kind",
        "sales",
        "--kind",
        "costs",
        "--delimiter",
        ";",
        "--decimal-comma",
        "--encoding",
        "windows-1252",
        "--map",
        "sales=kasse-columns.toml",
        "--map",
        "costs=expenses-columns.toml",
        "kasse_export.csv",
        "expenses.csv",
    ];
    let fix = "the command line sets delimiter for every file whose mapping file does not: add delimiter = \",\" to its mapping file expenses-columns.toml";
    let v = m.dir.validate(&global);
    v.expect_code(1);
    let header = v.problems_with_rule("expenses.csv", "extra-label");
    assert!(header.len() == 1, "{}", v.stdout);
    // Its byte-order mark is read as Windows-1252 too: that is said first.
    assert!(
        header[0].contains("the file starts with a UTF-8 byte-order mark, but is read as windows-1252 (from the command line): the command line sets encoding for every file whose mapping file does not: add encoding = \"utf-8\" to its mapping file expenses-columns.toml"),
        "{}",
        header[0]
    );
    // With its encoding right, the separator is what is left to fix.
    let mut utf8 = global.to_vec();
    let at = utf8
        .iter()
        .position(|a| *a == "costs=expenses-columns.toml")
        .unwrap();
    utf8[at] = "costs=expenses-utf8.toml";
    let v = m.dir.validate(&utf8);
    let header = v.problems_with_rule("expenses.csv", "extra-label");
    assert!(
        header.len() == 1 && header[0].contains(&fix.replace("expenses-columns", "expenses-utf8")),
        "{}",
        v.stdout
    );
    // The till's dates are wrong too (no date format anywhere): said for that file.
    assert!(
        v.problems_with_rule("kasse_export.csv", "type")[0]
            .contains("add date_format = \"%d.%m.%Y\" to its mapping file kasse-columns.toml"),
        "{}",
        v.stdout
    );
    let plan = m.run(&args(&["plan", "--round", "round.sig.json"], &global));
    plan.expect_code(1);
    assert!(
        plan.stdout.starts_with("kasse_export.csv:2:date: type:"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("add encoding = \"utf-8\" to its mapping file"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("Purpose"), "{}", plan.stdout);
    let export = m.run(&args(
        &[
            "export",
            "--round",
            "round.sig.json",
            "-o",
            "contribution.json",
        ],
        &global,
    ));
    export.expect_code(1);
    assert!(
        export
            .stdout
            .contains("add encoding = \"utf-8\" to its mapping file"),
        "{}",
        export.stdout
    );
    refused_untouched(&m, &export, &before);
    let compare = m.run(&args(
        &[
            "compare",
            "--benchmarks",
            "bench",
            "--round-file",
            "round.sig.json",
        ],
        &global,
    ));
    compare.expect_code(1);
    assert!(
        compare
            .stderr
            .contains("add encoding = \"utf-8\" to its mapping file"),
        "{}",
        compare.stderr
    );
    refused_untouched(&m, &compare, &before);
}

#[test]
fn a_date_format_given_for_every_file_is_not_a_circular_hint() {
    let m = member();
    m.dir.write("every.toml", "date_format = \"%d.%m.%Y\"\n");
    let v = m.dir.validate(&["--map", "every.toml", "costs.csv"]);
    v.expect_code(1);
    let p = &v.problems_with_rule("costs.csv", "type")[0];
    assert!(
        p.contains("not a valid date in the format %d.%m.%Y, from mapping file every.toml, given for every file")
            && p.contains("give this file its own mapping file with date_format = \"%Y-%m-%d\" (--map costs=FILE)"),
        "{p}"
    );
}

#[test]
fn a_file_whose_kind_cannot_be_told_is_refused_before_any_output() {
    let m = member();
    let before = coopbench_testkit::snapshot(m.dir.path());
    let files = ["kasse_export.csv", "expenses.csv"];
    let v = m.dir.validate(&files);
    v.expect_code(2);
    assert_eq!(v.stdout, "");
    assert!(
        v.stderr.contains("cannot tell whether kasse_export.csv"),
        "{}",
        v.stderr
    );
    for cmd in [
        vec!["plan", "--round", "round.sig.json"],
        vec![
            "export",
            "--round",
            "round.sig.json",
            "-o",
            "contribution.json",
        ],
        vec![
            "compare",
            "--benchmarks",
            "bench",
            "--round-file",
            "round.sig.json",
        ],
    ] {
        let run = m.run(&args(&cmd, &files));
        run.expect_code(2);
        assert_eq!(run.stdout, "", "{cmd:?}");
        assert!(
            run.stderr
                .contains("cannot tell whether kasse_export.csv holds sales or costs")
                && run.stderr.contains("--kind sales"),
            "{}",
            run.stderr
        );
        refused_untouched(&m, &run, &before);
    }
    // --kind, one per file in order, tells it.
    m.run(&args(
        &[
            "plan",
            "--round",
            "round.sig.json",
            "--kind",
            "sales",
            "--kind",
            "costs",
            "--map",
            "sales=kasse.toml",
            "--map",
            "costs=expenses.toml",
        ],
        &files,
    ))
    .expect_code(0);
    // A mapping file given for one file by its name: its kind tells the file's.
    let v = m.dir.validate(&[
        "--map",
        "kasse_export.csv=kasse.toml",
        "--map",
        "expenses.csv=expenses.toml",
        "kasse_export.csv",
        "expenses.csv",
    ]);
    v.expect_code(0);
    assert!(
        v.summary("kasse_export.csv").contains("schema sales.v1"),
        "{}",
        v.stdout
    );
    assert!(
        v.summary("expenses.csv").contains("schema costs.v1"),
        "{}",
        v.stdout
    );
    // A --kind count that fits neither one for all nor one per file.
    let run = m.dir.validate(&[
        "--kind",
        "sales",
        "--kind",
        "costs",
        "--kind",
        "sales",
        "expenses.csv",
        "ventes.csv",
    ]);
    run.expect_code(2);
    assert!(run.stderr.contains("one --kind per file"), "{}", run.stderr);
    // A mapping file for sales given as the costs mapping.
    let run = m
        .dir
        .validate(&["--map", "costs=kasse.toml", "expenses.csv"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("says kind = \"sales\", not costs"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_column_the_round_needs_is_validates_report_naming_the_metric_in_every_command() {
    let m = member();
    // The till export without its Warengruppe (category) column.
    let bytes = example("kasse_export.csv");
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
    let cut: String = text
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut c: Vec<&str> = l.split(';').collect();
            c.remove(1);
            format!("{}\r\n", c.join(";"))
        })
        .collect();
    m.dir
        .write("kasse_export.csv", encoding_rs::WINDOWS_1252.encode(&cut).0);
    let before = coopbench_testkit::snapshot(m.dir.path());
    // Its kind said on the command line: the header no longer tells it.
    let files = [
        "--kind",
        "sales",
        "--kind",
        "costs",
        "--map",
        "kasse.toml",
        "--map",
        "expenses.toml",
        "kasse_export.csv",
        "expenses.csv",
    ];
    let line = "kasse_export.csv:1:category: missing-label: the header has no column for field \"category\" (the mapping expects it in a column labelled \"Warengruppe\"), which the round needs for metric \"revenue\", metric \"active\"";
    let plan = m.run(&args(&["plan", "--round", "round.sig.json"], &files));
    plan.expect_code(1);
    assert!(plan.stdout.starts_with(line), "{}", plan.stdout);
    refused_untouched(&m, &plan, &before);
    let export = m.run(&args(
        &[
            "export",
            "--round",
            "round.sig.json",
            "-o",
            "contribution.json",
        ],
        &files,
    ));
    export.expect_code(1);
    assert!(export.stdout.starts_with(line), "{}", export.stdout);
    refused_untouched(&m, &export, &before);
    let compare = m.run(&args(
        &[
            "compare",
            "--benchmarks",
            "bench",
            "--round-file",
            "round.sig.json",
        ],
        &files,
    ));
    compare.expect_code(1);
    assert!(compare.stderr.starts_with(line), "{}", compare.stderr);
    refused_untouched(&m, &compare, &before);
}

#[test]
fn wrongly_grouped_thousands_are_a_type_error_and_nothing_is_charged() {
    let m = member();
    let text = String::from_utf8(example("ventes.csv")).unwrap();
    let row3 = text.lines().nth(2).unwrap().to_string();
    let cells: Vec<&str> = row3.split(';').collect();
    let bad = row3.replacen(cells[3], "1\u{202f}23,4", 1);
    m.dir.write("ventes.csv", text.replacen(&row3, &bad, 1));
    let before = coopbench_testkit::snapshot(m.dir.path());
    let files = [
        "--map",
        "ventes.toml",
        "--map",
        "expenses.toml",
        "ventes.csv",
        "expenses.csv",
    ];
    let export = m.run(&args(
        &[
            "export",
            "--round",
            "round.sig.json",
            "-o",
            "contribution.json",
        ],
        &files,
    ));
    export.expect_code(1);
    let p = export.problems_with_rule("ventes.csv", "type");
    assert_eq!(p.len(), 1, "{}", export.stdout);
    assert!(
        // (the terminal sanitiser shows the narrow no-break space escaped)
        p[0].starts_with("ventes.csv:3:net_amount: type: \"1\\u{202f}23,4\" is not a number: the thousands separator \" \" (from mapping file ventes.toml) must group the digits before the decimal separator in threes, as in 1 204,50"),
        "{}",
        p[0]
    );
    refused_untouched(&m, &export, &before);
}
