//! What the association reads and sends, driven through
//! `coopbench-aggregator` on a merged round whose figures the test chose
//! (revenue readable, costs too noisy, one revenue cell suppressed):
//! `inspect` shows every figure's verdict and range and never a number that
//! is noise; `inspect --format csv|json` writes spreadsheet files that
//! Python's `csv` module and duckdb read with the Parquet's row counts;
//! `report --html` is one self-contained page with a chart and a table per
//! metric, every published figure in it, and file text escaped.

use crate::common::association::{run_str, Run, Setup};
use coopbench_benchmark::layout::table_file;
use coopbench_benchmark::table::{self, Table};
use coopbench_privacy::accuracy::{published_verdict, verdict_column, Verdict};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The tables of the example round, in the manifest's order.
const TABLES: [&str; 6] = [
    "revenue",
    "active",
    "costs",
    "gross_margin",
    "rent_share",
    "avg_ticket",
];

/// The revenue cell only two members are active in: suppressed.
const SUPPRESSED_CELL: usize = 17;

/// Member `i`'s values: revenue of 1,500,000 EUR per cell (within the clip
/// bound plus 12σ; 10 members against local noise of sd ~470,000:
/// readable), costs of a few hundred
/// (too noisy), one member per ratio in a middle bin.
fn values(i: usize, _seq: u32) -> Vec<Vec<i64>> {
    let revenue = (0..18).map(|c| 1_500_000 + 1000 * c).collect();
    let mut active = vec![1; 18];
    active[SUPPRESSED_CELL] = i64::from(i < 2);
    let costs = (0..6).map(|c| 500 * i as i64 + c).collect();
    let mut margin = vec![0; 21];
    margin[8 + i % 4] = 1;
    let mut rent = vec![0; 11];
    rent[3] = 1;
    let mut ticket = vec![0; 21];
    ticket[i % 20] = 1;
    vec![revenue, active, costs, margin, rent, ticket]
}

/// Ten members' contributions merged into `bench/`, the round's purpose
/// set to `purpose`.
fn merged(purpose: &str) -> (Setup, PathBuf) {
    let purpose = purpose.to_string();
    let s = Setup::new(10, move |r| r.purpose = purpose);
    let files: Vec<PathBuf> = (0..10)
        .map(|i| s.write_member(&format!("c/{i}.json"), i, 1, &values))
        .collect();
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = s.path("bench");
    s.merge(&inputs, &out).expect(0);
    (s, out)
}

fn agg(s: &Setup, args: &[&str]) -> Run {
    run_str(s.dir.path(), args, &[])
}

/// Every published table, read through the format's crate.
fn tables(bench: &Path) -> BTreeMap<&'static str, Table> {
    TABLES
        .iter()
        .map(|t| {
            let p = bench.join(table_file(t, "2025q4").unwrap());
            (*t, table::read(&p).unwrap())
        })
        .collect()
}

/// The verdict of `figure` in `row`, by the one rule.
fn verdict(row: &table::Row, figure: &str) -> Verdict {
    published_verdict(
        row.suppressed,
        row.verdicts
            .get(&verdict_column(figure))
            .and_then(|v| v.as_deref()),
    )
}

#[test]
fn inspect_shows_every_figure_with_its_range_and_verdict_and_no_noise_as_data() {
    let (s, bench) = merged("Benchmarks for independent bakeries.");
    let t = tables(&bench);
    // The fixture gives what the test is about: readable, too noisy, suppressed.
    let rev = &t["revenue"];
    assert!(rev.rows[SUPPRESSED_CELL].suppressed);
    assert!(rev.rows[..SUPPRESSED_CELL]
        .iter()
        .all(|r| verdict(r, "estimate") == Verdict::Readable));
    assert!(t["costs"]
        .rows
        .iter()
        .all(|r| verdict(r, "estimate") == Verdict::TooNoisy));

    let run = agg(&s, &["inspect", "bench"]);
    run.expect(0);
    let block = |name: &str| -> Vec<String> {
        run.stdout
            .lines()
            .skip_while(|l| !l.starts_with(&format!("{name} [")))
            .skip(1)
            .take_while(|l| !l.contains("figures:"))
            .map(str::to_string)
            .collect()
    };
    // Revenue: each published row shows the estimate, the members and the
    // mean per member, each as a value with its 95 % range or as "too noisy"
    // (never a bare number: the members count carries its uncertainty).
    let revenue = block("revenue");
    let header = revenue.iter().find(|l| l.contains("estimate")).unwrap();
    assert!(header.contains("members") && header.contains("mean per member"));
    let rows: Vec<&String> = revenue
        .iter()
        .filter(|l| l.starts_with("  2025-"))
        .collect();
    assert_eq!(rows.len(), 18, "{revenue:#?}");
    for (i, l) in rows.iter().enumerate() {
        if i == SUPPRESSED_CELL {
            assert!(l.contains("suppressed (< 5 members)"), "{l}");
            assert!(!l.contains(".."), "a suppressed row shows no figure: {l}");
            continue;
        }
        let ranges = l.matches(" .. ").count();
        let noisy = l.matches("too noisy").count();
        assert!(ranges >= 1, "the readable estimate has its range: {l}");
        assert!(
            ranges + noisy >= 3,
            "estimate, members and mean each with a range or a verdict: {l}"
        );
        assert!(
            l.trim_end().ends_with("readable") || l.contains("rough"),
            "{l}"
        );
    }
    // Costs: every estimate is too noisy; no digit is printed for it.
    let costs = block("costs");
    let cost_rows: Vec<&String> = costs.iter().skip(2).collect();
    assert_eq!(cost_rows.len(), 6, "{costs:#?}");
    for l in cost_rows {
        assert!(l.contains("too noisy"), "{l}");
        assert!(
            !l.chars().any(|c| c.is_ascii_digit()),
            "a figure too noisy to read never reads like data: {l}"
        );
    }
}

#[test]
fn inspect_csv_and_json_hold_the_parquet_rows_with_their_verdicts_and_never_overwrite() {
    let (s, bench) = merged("Benchmarks for independent bakeries.");
    let t = tables(&bench);
    let run = agg(
        &s,
        &[
            "inspect", "bench", "--format", "csv", "--output", "csv", "--bom",
        ],
    );
    run.expect(0);
    assert!(run.stdout.contains("Wrote 6 CSV files"), "{}", run.stdout);
    let dir = s.path("csv");
    for (name, table) in &t {
        let bytes = std::fs::read(dir.join(format!("{name}.csv"))).unwrap();
        assert!(bytes.starts_with("\u{feff}".as_bytes()), "{name}: no BOM");
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        for d in &table.dims {
            assert!(header.contains(d), "{name}: no column {d}");
        }
        let records: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), table.rows.len(), "{name}: row count");
        let col = |n: &str| header.iter().position(|h| h == n);
        let figures: &[&str] =
            if name.ends_with("share") || *name == "gross_margin" || *name == "avg_ticket" {
                &["p10", "p25", "p50", "p75", "p90", "mean", "members_noisy"]
            } else {
                &["estimate"]
            };
        for (rec, row) in records.iter().zip(&table.rows) {
            assert_eq!(&rec[col("round").unwrap()], "2025q4");
            for d in &table.dims {
                // Months as ISO dates, the first day of the month.
                let want = if d == "month" {
                    format!("{}-01", row.labels[d])
                } else {
                    row.labels[d].clone()
                };
                assert_eq!(rec[col(d).unwrap()], want, "{name} {d}");
            }
            assert_eq!(&rec[col("suppressed").unwrap()], row.suppressed.to_string());
            for f in figures {
                let v = verdict(row, f);
                let shown = &rec[col(f).unwrap_or_else(|| panic!("{name}: no {f}"))];
                assert_eq!(
                    &rec[col(&verdict_column(f)).unwrap()],
                    v.as_str(),
                    "{name} {f}"
                );
                if v.shows_figure() {
                    // `.` decimals, no separators: parses back to the Parquet's value exactly.
                    assert_eq!(shown.parse::<f64>().ok(), row.get(f), "{name} {f}: {shown}");
                } else {
                    assert_eq!(
                        shown,
                        "",
                        "{name} {f}: a {} figure is left empty",
                        v.as_str()
                    );
                }
            }
        }
    }
    // Written again: refused without --force, the directory untouched.
    let before = std::fs::read(dir.join("revenue.csv")).unwrap();
    let again = agg(
        &s,
        &["inspect", "bench", "--format", "csv", "--output", "csv"],
    );
    again.expect(2);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(std::fs::read(dir.join("revenue.csv")).unwrap(), before);
    agg(
        &s,
        &[
            "inspect", "bench", "--format", "csv", "--output", "csv", "--force",
        ],
    )
    .expect(0);
    assert!(!std::fs::read(dir.join("revenue.csv"))
        .unwrap()
        .starts_with("\u{feff}".as_bytes()));
    // A symbolic link is not written through; nothing is left beside it.
    #[cfg(unix)]
    {
        std::fs::create_dir(s.path("elsewhere")).unwrap();
        std::os::unix::fs::symlink(s.path("elsewhere"), s.path("link")).unwrap();
        let l = agg(
            &s,
            &[
                "inspect", "bench", "--format", "csv", "--output", "link", "--force",
            ],
        );
        l.expect(2);
        assert!(l.stderr.contains("symbolic link"), "{}", l.stderr);
        assert_eq!(std::fs::read_dir(s.path("elsewhere")).unwrap().count(), 0);
    }
    // Without --output: a usage error, nothing written.
    agg(&s, &["inspect", "bench", "--format", "json"]).expect(2);
    // JSON: the same rows and verdicts.
    agg(
        &s,
        &["inspect", "bench", "--format", "json", "--output", "json"],
    )
    .expect(0);
    for (name, table) in &t {
        let v: serde_json::Value = serde_json::from_slice(
            &std::fs::read(s.path("json").join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), table.rows.len(), "{name}");
        for (j, row) in rows.iter().zip(&table.rows) {
            let f = if table.columns.iter().any(|c| c == "estimate") {
                "estimate"
            } else {
                "p50"
            };
            assert_eq!(j["figures"][f]["verdict"], verdict(row, f).as_str());
            let shown = j["figures"][f]["value"].as_f64();
            assert_eq!(shown, row.get(f).filter(|_| verdict(row, f).shows_figure()));
        }
    }
    let left: Vec<String> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".coopbench"))
        .collect();
    assert!(left.is_empty(), "staging left behind: {left:?}");

    // Python's csv module and duckdb read the files with the Parquet's row counts.
    let python = crate::readers::venv();
    let script = r#"
import csv, sys, duckdb
for d in sys.argv[1].split(","):
    for name, want in zip(sys.argv[2::2], sys.argv[3::2]):
        path = f"{d}/{name}.csv"
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        got = duckdb.sql(f"SELECT count(*) FROM read_csv('{path}', header=true)").fetchall()[0][0]
        cols = [c[0] for c in duckdb.sql(f"DESCRIBE SELECT * FROM read_csv('{path}', header=true)").fetchall()]
        assert len(rows) == int(want) == got, (path, len(rows), got, want)
        assert list(rows[0].keys()) == cols, (path, list(rows[0].keys()), cols)
        assert "suppressed" in cols, cols
print("csv readers: ok")
"#;
    agg(
        &s,
        &[
            "inspect", "bench", "--format", "csv", "--output", "bom", "--bom",
        ],
    )
    .expect(0);
    let dirs = format!("{},{}", dir.display(), s.path("bom").display());
    let mut cmd = std::process::Command::new(python);
    cmd.arg("-c").arg(script).arg(dirs);
    for (name, table) in &t {
        cmd.arg(name).arg(table.rows.len().to_string());
    }
    let out = cmd.env("PYTHONNOUSERSITE", "1").output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("csv readers: ok"),
        "python csv/duckdb:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_report_is_one_self_contained_page_with_a_chart_and_a_table_per_metric() {
    let (s, bench) = merged("Benchmarks <script>alert('x')</script> & <b>more</b>");
    let t = tables(&bench);
    let run = agg(&s, &["report", "bench", "--html", "report.html"]);
    run.expect(0);
    let html = std::fs::read_to_string(s.path("report.html")).unwrap();
    let doc = scraper::Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "HTML parse errors: {:?}", doc.errors);
    let sel = |q: &str| scraper::Selector::parse(q).unwrap();
    // Nothing runs and nothing is fetched.
    assert_eq!(
        doc.select(&sel("script, link, iframe, img, object, embed"))
            .count(),
        0
    );
    assert!(
        !html.to_lowercase().contains("<script"),
        "a script in the report"
    );
    for el in doc.select(&sel("*")) {
        for (name, value) in el.value().attrs() {
            if matches!(name, "src" | "href" | "xlink:href" | "action") {
                assert!(
                    !value.contains("//") && !value.contains(':'),
                    "{name}={value} points outside the report"
                );
            }
        }
    }
    for needle in ["http://", "https://", "@import", "url("] {
        assert!(!html.contains(needle), "the report contains {needle}");
    }
    // The purpose from the (unsigned) manifest comes out as text.
    let header: String = doc.select(&sel("header")).next().unwrap().text().collect();
    assert!(
        header.contains("Benchmarks <script>alert('x')</script> & <b>more</b>"),
        "{header}"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert_eq!(
        doc.select(&sel("header b")).count(),
        1,
        "only the report's own <b>"
    );
    // The privacy statement in plain words.
    let privacy: String = doc
        .select(&sel("section.privacy"))
        .next()
        .unwrap()
        .text()
        .collect();
    assert!(privacy.contains("No member's own figures can be read from this report"));
    assert!(privacy.contains("fewer than 5 members"));
    // One section per metric, each with one chart and one table.
    let sections: Vec<_> = doc.select(&sel("section.metric")).collect();
    let ids: Vec<&str> = sections.iter().map(|s| s.value().id().unwrap()).collect();
    assert_eq!(
        ids,
        TABLES
            .map(|t| format!("metric-{t}"))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    for sec in &sections {
        assert_eq!(sec.select(&sel("svg")).count(), 1, "{:?}", sec.value().id());
        assert_eq!(
            sec.select(&sel("table")).count(),
            1,
            "{:?}",
            sec.value().id()
        );
    }
    // Every published figure's value is in its table, exactly as published;
    // no value the verdict calls noise is.
    let values: Vec<f64> = doc
        .select(&sel("td[data-value]"))
        .map(|td| td.value().attr("data-value").unwrap().parse().unwrap())
        .collect();
    let mut shown = 0;
    for (name, table) in &t {
        let figures: Vec<&str> = if table.columns.iter().any(|c| c == "estimate") {
            vec!["estimate"]
        } else {
            vec!["p10", "p25", "p50", "p75", "p90", "mean", "members_noisy"]
        };
        for row in &table.rows {
            for f in &figures {
                let Some(v) = row.get(f) else { continue };
                if verdict(row, f).shows_figure() {
                    shown += 1;
                    assert!(values.contains(&v), "{name} {f} = {v} is not in the report");
                } else {
                    assert!(
                        !values.contains(&v),
                        "{name} {f} = {v} is noise, shown as data"
                    );
                }
            }
        }
    }
    assert!(shown >= 17, "the fixture publishes the revenue estimates");
    // The suppressed cell says why.
    let sup: Vec<String> = doc
        .select(&sel("#metric-revenue tr.suppressed"))
        .map(|r| r.text().collect())
        .collect();
    assert_eq!(sup.len(), 1);
    assert!(
        sup[0].contains("not published: fewer than 5 members"),
        "{sup:?}"
    );
    // Never overwritten without --force.
    let before = std::fs::read(s.path("report.html")).unwrap();
    let again = agg(&s, &["report", "bench", "--html", "report.html"]);
    again.expect(2);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(std::fs::read(s.path("report.html")).unwrap(), before);
    agg(&s, &["report", "bench", "--html", "report.html", "--force"]).expect(0);
    // Not written through a symbolic link, even with --force.
    #[cfg(unix)]
    {
        std::fs::write(s.path("target.txt"), "keep").unwrap();
        std::os::unix::fs::symlink(s.path("target.txt"), s.path("link.html")).unwrap();
        let l = agg(&s, &["report", "bench", "--html", "link.html", "--force"]);
        l.expect(2);
        assert!(l.stderr.contains("symbolic link"), "{}", l.stderr);
        assert_eq!(
            std::fs::read_to_string(s.path("target.txt")).unwrap(),
            "keep"
        );
    }
}
