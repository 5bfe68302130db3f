//! `coopbench compare` driven as a member would, against a fixed benchmark
//! fixture written with the aggregator's own Parquet writer and manifest
//! types (chosen market figures: published, suppressed, too noisy), and the
//! fixture member's files. The expected shares, growth and positions are
//! computed here from the member's CSV files and the fixture's figures,
//! independently of the member crate.

use crate::common::fixture::Member;
use crate::common::round::read_rows;
use coopbench_aggregator::manifest;
use coopbench_aggregator::publish;
use coopbench_aggregator::tables::{Figures, RatioFigures, Row, Table, TotalFigures};
use coopbench_benchmark::layout::table_file;
use coopbench_benchmark::manifest::{Counts, Manifest, Privacy, RoundFacts, FORMAT};
use coopbench_privacy::estimate::{Estimate, Interval, RatioEstimate, Z_95};
use coopbench_protocol::round::Kind;
use coopbench_protocol::{signed, Envelope, Round};
use coopbench_testkit::snapshot;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Revenue cells the fixture suppresses.
const SUPPRESSED: [(&str, &str); 2] = [("2025-10", "drinks"), ("2025-11", "cakes")];
/// Revenue cells the fixture makes too noisy (interval wider than the
/// estimate): the whole savoury series, so that one series has no month
/// that can be read.
const NOISY: [(&str, &str); 3] = [
    ("2025-10", "savoury"),
    ("2025-11", "savoury"),
    ("2025-12", "savoury"),
];
/// The gross-margin percentiles of the fixture.
const MARGIN_P: [f64; 5] = [0.30, 0.45, 0.55, 0.70, 0.80];

/// The fixture's market estimate of a revenue cell (whole EUR).
fn revenue_estimate(i: usize) -> f64 {
    60_000.0 + 2_500.0 * i as f64
}

fn estimate(e: f64, sd: f64) -> Estimate {
    Estimate {
        estimate: e,
        noise_sd: sd,
        ci95_low: e - Z_95 * sd,
        ci95_high: e + Z_95 * sd,
    }
}

fn cells_of(dims: &[coopbench_protocol::Dimension]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    for d in dims {
        out = out
            .into_iter()
            .flat_map(|p| {
                d.labels.iter().map(move |l| {
                    let mut q = p.clone();
                    q.push(l.clone());
                    q
                })
            })
            .collect();
    }
    out
}

/// The verified round of the member's `round.sig.json` and its hash.
fn member_round(m: &Member) -> (Round, String) {
    let env = Envelope::from_json(&m.read("round.sig.json")).unwrap();
    let v = signed::verify::<Round>(&env, &m.association.public()).unwrap();
    (v.doc, v.hash)
}

/// Writes the fixture benchmark for `round` into `dir`, as round `id` over
/// `period_end`, with `extra` fields merged into the manifest.
fn write_benchmark(dir: &Path, round: &Round, hash: &str, extra: Value) {
    let mut tables = Vec::new();
    for m in &round.metrics {
        let grid = round.grid(m);
        let (dims, rows): (Vec<_>, Vec<Row>) = match (m.kind, m.name.as_str()) {
            (Kind::Sum, "revenue") | (Kind::Active, _) => {
                let rows = cells_of(&grid)
                    .into_iter()
                    .enumerate()
                    .map(|(i, labels)| {
                        let key = (labels[0].as_str(), labels[1].as_str());
                        let figures = if SUPPRESSED.contains(&key) {
                            None
                        } else if m.kind == Kind::Active {
                            Some(TotalFigures {
                                estimate: estimate(30.0, 1.0),
                                members_noisy: Some(30.0),
                                mean: None,
                            })
                        } else {
                            let e = revenue_estimate(i);
                            let sd = if NOISY.contains(&key) { e } else { e / 100.0 };
                            Some(TotalFigures {
                                estimate: estimate(e, sd),
                                members_noisy: Some(30.0),
                                mean: None,
                            })
                        };
                        Row {
                            labels,
                            figures: Figures::Total(figures),
                        }
                    })
                    .collect();
                (grid.clone(), rows)
            }
            (Kind::Sum, _) => {
                // costs: energy too noisy, the rest precise.
                let rows = cells_of(&grid)
                    .into_iter()
                    .map(|labels| {
                        let sd = if labels[0] == "energy" {
                            50_000.0
                        } else {
                            500.0
                        };
                        Row {
                            labels,
                            figures: Figures::Total(Some(TotalFigures {
                                estimate: estimate(100_000.0, sd),
                                members_noisy: None,
                                mean: None,
                            })),
                        }
                    })
                    .collect();
                (grid.clone(), rows)
            }
            (Kind::Ratio, name) => {
                let b = m.bins.unwrap();
                let figures = match name {
                    "avg_ticket" => None,
                    "gross_margin" => Some(MARGIN_P),
                    _ => Some([0.02, 0.05, 0.08, 0.12, 0.2]),
                }
                .map(|p| {
                    // Rent share's intervals span the whole range: too noisy.
                    let (half, m_half) = if name == "rent_share" {
                        (b.hi - b.lo, Z_95 * 15.5 * 10f64.sqrt())
                    } else {
                        (b.width() / 2.0, 1.0)
                    };
                    let iv = |v: f64, h: f64| Interval {
                        value: v,
                        low: v - h,
                        high: v + h,
                    };
                    RatioFigures {
                        estimate: RatioEstimate {
                            percentiles: p.map(|v| iv(v, half)),
                            mean: iv(p[2], half),
                            members: iv(30.0, m_half),
                        },
                        bin_width: b.width(),
                        bins: b.count,
                    }
                });
                let rows = vec![Row {
                    labels: vec![],
                    figures: Figures::Ratio(figures),
                }];
                (grid[..grid.len() - 1].to_vec(), rows)
            }
            _ => unreachable!(),
        };
        // Bin noise: rent_share's is large enough to make it too noisy.
        let noise_sd = if m.name == "rent_share" { 15.5 } else { 0.5 };
        tables.push(Table {
            name: m.name.clone(),
            kind: m.kind,
            description: m.description.clone(),
            dims,
            rows,
            members_source: "fixture".into(),
            noise_sd,
        });
    }
    for t in &tables {
        let path = dir.join(table_file(&t.name, &round.id).unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let meta = manifest::parquet_metadata(round, hash, &[], 1.0, 0.1, 30, t);
        publish::write_parquet(round, t, &path, &meta).unwrap();
    }
    let man = Manifest {
        format: FORMAT.into(),
        round: RoundFacts {
            id: round.id.clone(),
            pool_id: round.pool_id.clone(),
            purpose: round.purpose.clone(),
            period_start: round.period.start.to_string(),
            period_end: round.period.end.to_string(),
            round_hash: hash.into(),
            mode: "local".into(),
            currency: round.currency.clone(),
            min_members: round.min_members,
            min_members_total: round.min_members_total,
            schemas: [
                ("sales".to_string(), round.schemas.sales.clone()),
                ("costs".to_string(), round.schemas.costs.clone()),
            ]
            .into(),
        },
        privacy: Privacy {
            unit: "member".into(),
            rho: round.rho,
            epsilon: 5.0,
            delta: round.delta,
            statement: "fixture".into(),
            two_server: None,
        },
        toolkit_version: "coopbench test".into(),
        merged_at: "2026-06-01T00:00:00Z".into(),
        contributions: Counts {
            files: 30,
            accepted: 30,
            rejected: BTreeMap::new(),
        },
        files: vec![],
        tables: vec![],
    };
    let mut v = serde_json::to_value(&man).unwrap();
    merge(&mut v, extra);
    std::fs::create_dir_all(dir.join("manifests")).unwrap();
    std::fs::write(
        dir.join("manifests").join(format!("{}.json", round.id)),
        serde_json::to_vec_pretty(&v).unwrap(),
    )
    .unwrap();
}

fn merge(into: &mut Value, extra: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, extra) {
        for (k, v) in b {
            match a.get_mut(&k) {
                Some(x @ Value::Object(_)) if v.is_object() => merge(x, v),
                _ => {
                    a.insert(k, v);
                }
            }
        }
    }
}

/// The member's true figures, from its CSV files (exact hundredths).
struct Truth {
    /// (month, category) → net sales, EUR.
    revenue: HashMap<(String, String), f64>,
    /// cost_type → amount, EUR.
    costs: HashMap<String, f64>,
    sales_total: f64,
    transactions: f64,
}

fn truth(m: &Member) -> Truth {
    let months = ["2025-10", "2025-11", "2025-12"];
    let sales = read_rows(
        &m.dir.path().join("sales.csv"),
        &["category"],
        &["net_amount", "transactions"],
    );
    let costs = read_rows(&m.dir.path().join("costs.csv"), &["cost_type"], &["amount"]);
    let mut t = Truth {
        revenue: HashMap::new(),
        costs: HashMap::new(),
        sales_total: 0.0,
        transactions: 0.0,
    };
    for r in sales.iter().filter(|r| months.contains(&r.month.as_str())) {
        let v = r.hundredths["net_amount"] as f64 / 100.0;
        *t.revenue
            .entry((r.month.clone(), r.text["category"].clone()))
            .or_default() += v;
        t.sales_total += v;
        t.transactions += r.hundredths["transactions"] as f64 / 100.0;
    }
    for r in costs.iter().filter(|r| months.contains(&r.month.as_str())) {
        *t.costs.entry(r.text["cost_type"].clone()).or_default() +=
            r.hundredths["amount"] as f64 / 100.0;
    }
    t
}

/// Every file under `dir` with its bytes.
/// A member with the fixture benchmark in `bench/`.
pub(crate) fn setup(extra: Value) -> Member {
    let m = Member::new();
    let (round, hash) = member_round(&m);
    write_benchmark(&m.dir.path().join("bench"), &round, &hash, extra);
    m
}

fn compare(m: &Member, extra: &[&str]) -> crate::common::Run {
    let mut args = vec!["compare", "--benchmarks", "bench"];
    args.extend_from_slice(extra);
    args.extend(["sales.csv", "costs.csv"]);
    m.run(&args)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn position_words(v: f64, p: &[f64; 5]) -> &'static str {
    if v < p[0] {
        "below the 10th percentile"
    } else if v < p[1] {
        "between the 10th percentile and the lower quartile"
    } else if v < p[2] {
        "between the lower quartile and the median"
    } else if v < p[3] {
        "between the median and the upper quartile"
    } else if v < p[4] {
        "between the upper quartile and the 90th percentile"
    } else {
        "above the 90th percentile"
    }
}

#[test]
fn shares_growth_positions_and_flags_are_the_expected_ones() {
    let m = setup(Value::Null);
    let t = truth(&m);
    let run = compare(&m, &["--round-file", "round.sig.json", "--format", "json"]);
    run.expect_code(0);
    let j = run.json();
    assert!(j["private_note"]
        .as_str()
        .unwrap()
        .contains("do not send it to the association"));
    assert_eq!(j["round"]["id"], "2025q4");
    assert_eq!(j["round"]["contributions"], 30);

    // Revenue: every cell, in grid order (month × category).
    let revenue = j["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "revenue")
        .expect("a revenue comparison");
    assert_eq!(revenue["dims"], serde_json::json!(["month", "category"]));
    let cells = revenue["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 18);
    let (mut seen_suppressed, mut seen_noisy, mut seen_clean) = (0, 0, 0);
    for (i, c) in cells.iter().enumerate() {
        let month = c["labels"][0].as_str().unwrap();
        let cat = c["labels"][1].as_str().unwrap();
        let truth = t.revenue[&(month.to_string(), cat.to_string())];
        let yours = c["yours"].as_f64().unwrap();
        // Whole EUR (scale 1), no clipping (far below 30,000).
        assert!(
            (yours - truth).abs() <= 0.5,
            "{month} {cat}: {yours} vs {truth}"
        );
        assert_eq!(c["clipped"], false);
        if SUPPRESSED.contains(&(month, cat)) {
            seen_suppressed += 1;
            assert_eq!(c["status"], "suppressed");
            assert!(c["market"].is_null() && c["share"].is_null(), "{c}");
            assert_eq!(c["text"], "not published: fewer than 5 members");
            continue;
        }
        let e = revenue_estimate(i);
        let noisy = NOISY.contains(&(month, cat));
        if noisy {
            // Too noisy: the figure never reads like data, not even in JSON.
            seen_noisy += 1;
            assert_eq!(c["status"], "too_noisy");
            assert_eq!(c["verdict"], "too noisy");
            assert!(c["market"].is_null() && c["share"].is_null(), "{c}");
            assert_eq!(c["text"], "too noisy to read");
            assert_eq!(c["too_noisy"], true);
            assert!(c["growth"].is_null() || c["growth"]["market"].is_null());
            continue;
        }
        assert_eq!(c["status"], "published");
        assert_eq!(c["market"]["estimate"].as_f64().unwrap(), e);
        let sd = e / 100.0;
        let (lo, hi) = (e - Z_95 * sd, e + Z_95 * sd);
        let share = &c["share"];
        assert!(close(share["value"].as_f64().unwrap(), yours / e));
        assert!(close(share["low"].as_f64().unwrap(), yours / hi));
        let expected_high = (yours / lo.max(yours)).min(1.0);
        assert!(close(share["high"].as_f64().unwrap(), expected_high), "{c}");
        assert_eq!(c["too_noisy"], false, "{c}");
        seen_clean += 1;
        // Growth against the previous month, same category.
        if month != "2025-10" {
            let prev_month = if month == "2025-11" {
                "2025-10"
            } else {
                "2025-11"
            };
            let g = &c["growth"];
            assert_eq!(g["from"], prev_month);
            let y0 = t.revenue[&(prev_month.to_string(), cat.to_string())];
            let yg = g["yours"].as_f64().unwrap();
            assert!((yg - (truth - y0) / y0).abs() < 1e-3, "{g}");
            if SUPPRESSED.contains(&(prev_month, cat)) {
                assert!(g["market"].is_null() && g["too_noisy"] == true, "{g}");
            } else if NOISY.contains(&(prev_month, cat)) {
                // A growth from a month too noisy to read is not shown.
                assert!(g["market"].is_null() && g["too_noisy"] == true, "{g}");
            } else {
                let e0 = revenue_estimate(i - 6);
                assert!(close(g["market"].as_f64().unwrap(), (e - e0) / e0), "{g}");
                assert_eq!(g["too_noisy"], false, "{g}");
            }
        } else {
            assert!(c["growth"].is_null());
        }
    }
    assert_eq!((seen_suppressed, seen_noisy), (2, 3));
    assert_eq!(seen_clean, 13);

    // Costs: energy is too noisy; shares of a 100,000 market.
    let costs = j["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "costs")
        .unwrap();
    for c in costs["cells"].as_array().unwrap() {
        let ty = c["labels"][0].as_str().unwrap();
        let truth = t.costs.get(ty).copied().unwrap_or(0.0);
        assert!((c["yours"].as_f64().unwrap() - truth).abs() <= 0.5);
        assert_eq!(c["too_noisy"], ty == "energy", "{c}");
        if ty == "energy" {
            // Too noisy: no market figure and no share built on it.
            assert!(c["market"].is_null() && c["share"].is_null(), "{c}");
            assert_eq!(c["verdict"], "too noisy");
            continue;
        }
        assert!(close(
            c["share"]["value"].as_f64().unwrap(),
            c["yours"].as_f64().unwrap() / 100_000.0
        ));
    }

    // Ratios: gross margin placed among the fixture's percentiles.
    let ratios = j["ratios"].as_array().unwrap();
    let get = |n: &str| ratios.iter().find(|x| x["name"] == n).unwrap();
    let cogs = t.costs["cogs"];
    let margin = (t.sales_total - cogs) / t.sales_total;
    let gm = &get("gross_margin")["groups"][0];
    assert!((gm["yours"].as_f64().unwrap() - margin).abs() < 1e-9);
    assert_eq!(gm["text"], position_words(margin, &MARGIN_P));
    assert_eq!(gm["too_noisy"], false);
    assert_eq!(gm["percentiles"]["p75"], MARGIN_P[3]);
    assert_eq!(get("gross_margin")["bins"]["width"], 0.05);
    // The margin lies in [0.5, 1): its bin is [floor(margin·20)/20, +0.05).
    let bin_lo = (margin * 20.0).floor() / 20.0;
    assert!((gm["your_bin"][0].as_f64().unwrap() - bin_lo).abs() < 1e-9);
    // Rent share: every percentile's interval spans the whole range, so
    // none is shown, nor the member count whose range is ±96 around 30.
    let rent = &get("rent_share")["groups"][0];
    assert_eq!(rent["too_noisy"], true);
    assert_eq!(rent["status"], "too_noisy");
    assert_eq!(rent["percentiles"], serde_json::json!({}));
    assert!(rent["members_noisy"].is_null() && rent["mean"].is_null());
    assert_eq!(rent["verdicts"]["p50"], "too noisy");
    assert!((rent["yours"].as_f64().unwrap() - t.costs["rent"] / t.sales_total).abs() < 1e-9);
    assert!(rent["text"]
        .as_str()
        .unwrap()
        .ends_with("too noisy to read"));
    // Average ticket: suppressed, shown as such, never as zero.
    let ticket = &get("avg_ticket")["groups"][0];
    assert_eq!(ticket["status"], "suppressed");
    assert!(ticket["percentiles"].is_null());
    assert_eq!(ticket["text"], "not published: fewer than 5 members");
    assert!((ticket["yours"].as_f64().unwrap() - t.sales_total / t.transactions).abs() < 1e-9);
    // Active metrics are not compared (they are the members' counts).
    assert!(j["totals"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["name"] != "active"));
}

#[test]
fn the_terminal_table_says_suppressed_noisy_and_positions_in_words_without_colour() {
    let m = setup(Value::Null);
    let run = compare(&m, &["--round-file", "round.sig.json"]);
    run.expect_code(0);
    let out = &run.stdout;
    assert!(out.contains("do not send it to the association"), "{out}");
    assert!(out.contains("not published: fewer than 5 members"));
    assert!(out.contains("too noisy to read"));
    let t = truth(&m);
    let margin = (t.sales_total - t.costs["cogs"]) / t.sales_total;
    assert!(out.contains(position_words(margin, &MARGIN_P)));
    assert!(out.contains("known to within one bin (5.0% wide)"), "{out}");
    assert!(
        !out.contains('\u{1b}'),
        "no colour codes when stdout is not a terminal"
    );
}

#[test]
fn the_html_report_is_self_contained_with_one_svg_per_chart_and_its_table() {
    let m = setup(Value::Null);
    let run = compare(
        &m,
        &["--round-file", "round.sig.json", "--html", "report.html"],
    );
    run.expect_code(0);
    let html = String::from_utf8(m.read("report.html")).unwrap();
    let doc = scraper::Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "HTML parse errors: {:?}", doc.errors);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    // Nothing outside the file: no script, no link, no external src/href or fonts.
    assert_eq!(
        doc.select(&sel("script, link, iframe, img, object"))
            .count(),
        0
    );
    for el in doc.select(&sel("*")) {
        for (name, value) in el.value().attrs() {
            if matches!(name, "src" | "href" | "xlink:href") {
                assert!(
                    value.starts_with('#'),
                    "{name}={value} points outside the report"
                );
            }
        }
    }
    for needle in ["http://", "https://", "@import", "@font-face", "url("] {
        assert!(!html.contains(needle), "the report contains {needle}");
    }
    // The header warns that the member's own figures are inside.
    let header: String = doc.select(&sel("header")).next().unwrap().text().collect();
    assert!(header.contains("contains your own figures"));
    assert!(header.contains("do not send it to the association"));
    // One chart per ratio metric that has a percentile to read (gross
    // margin; rent share is too noisy, the average ticket not published) and
    // one per revenue category; each with a caption and the table of its
    // numbers.
    let charts: Vec<_> = doc.select(&sel("figure.chart")).collect();
    assert_eq!(charts.len(), 1 + 6);
    for f in &charts {
        assert_eq!(f.select(&sel("figcaption")).count(), 1);
        assert_eq!(f.select(&sel("table")).count(), 1);
    }
    // Ratios nobody can read get words, not a chart.
    for id in ["ratio-rent_share", "ratio-avg_ticket"] {
        let f = doc
            .select(&sel(&format!("figure#{id}")))
            .next()
            .unwrap_or_else(|| panic!("no figure {id}"));
        assert_eq!(f.select(&sel("svg")).count(), 0, "{id} is charted");
        let words: String = f.select(&sel(".nochart")).flat_map(|e| e.text()).collect();
        assert!(
            words.contains("no percentile of the members can be read"),
            "{id}: {words}"
        );
    }
    // No chart has a second y axis: one rotated axis title per SVG, and no
    // SVG holds both the market's and the member's figures.
    for svg in doc.select(&sel("svg")) {
        let html = svg.html();
        assert!(
            html.matches("rotate(").count() <= 1,
            "a chart with two y axes: {html}"
        );
        assert!(
            !(html.contains("market") && html.contains("yours")),
            "the member's figures and the market's on one chart"
        );
    }
    // Every revenue series: the member's own chart; the market's chart only
    // where a month can be read. Savoury has none: no market path at all,
    // and the words say why.
    for f in charts.iter().filter(|f| {
        f.select(&sel("figcaption"))
            .any(|c| c.text().collect::<String>().starts_with("revenue by month"))
    }) {
        let caption: String = f
            .select(&sel("figcaption"))
            .flat_map(|c| c.text())
            .collect();
        assert_eq!(f.select(&sel(".series.yours svg")).count(), 1, "{caption}");
        let market = f.select(&sel(".series.market svg")).count();
        if caption.contains("savoury") {
            assert_eq!(market, 0, "a chart drawn for a series nobody can read");
            assert_eq!(f.select(&sel(".series.market")).count(), 0);
            let words: String = f.select(&sel(".nochart")).flat_map(|e| e.text()).collect();
            assert!(
                words.contains("no month of this series can be read")
                    && words.contains("3 too noisy to read"),
                "{words}"
            );
        } else {
            assert_eq!(market, 1, "{caption}");
            assert_eq!(f.select(&sel(".nochart")).count(), 0, "{caption}");
        }
    }
    // The suppressed cells' rows say so, and never show a zero market.
    let suppressed: Vec<String> = doc
        .select(&sel("tr.suppressed"))
        .map(|r| r.text().collect())
        .collect();
    assert_eq!(suppressed.len(), 2 + 1, "{suppressed:?}");
    assert!(suppressed
        .iter()
        .all(|r| r.contains("not published: fewer than 5 members")));
    assert!(html.contains("too noisy to read"));
}

#[test]
fn compare_spends_nothing_and_writes_nothing_but_the_report() {
    let m = setup(Value::Null);
    // Without a stored round, compare says where to get one.
    let run = compare(&m, &[]);
    run.expect_code(1);
    assert!(run.stderr.contains("--round-file"), "{}", run.stderr);
    // After an export, the state directory holds the round.
    m.export(&[]).expect_code(0);
    assert!(m.state().join("rounds/bakeries/2025q4.sig.json").exists());
    let state = snapshot(&m.state());
    let ledger = std::fs::read(m.state().join("ledger.jsonl")).unwrap();
    let before = snapshot(m.dir.path());
    compare(&m, &["--html", "report.html"]).expect_code(0);
    compare(&m, &["--format", "json"]).expect_code(0);
    assert_eq!(
        snapshot(&m.state()),
        state,
        "the state directory is unchanged"
    );
    assert_eq!(
        std::fs::read(m.state().join("ledger.jsonl")).unwrap(),
        ledger
    );
    let mut after = snapshot(m.dir.path());
    assert!(after.remove(&m.dir.path().join("report.html")).is_some());
    assert_eq!(after, before, "no other file was written");
}

#[test]
fn a_report_that_cannot_be_written_leaves_no_file() {
    let m = setup(Value::Null);
    // The report's path is a directory: an I/O error, and nothing half-written beside it.
    std::fs::create_dir(m.dir.path().join("report.html")).unwrap();
    let before = snapshot(m.dir.path());
    let run = compare(
        &m,
        &["--round-file", "round.sig.json", "--html", "report.html"],
    );
    run.expect_code(2);
    assert!(run.stderr.contains("report.html"), "{}", run.stderr);
    assert_eq!(snapshot(m.dir.path()), before);
}

#[test]
fn several_rounds_extra_manifest_fields_and_round_choice() {
    let m = setup(serde_json::json!({
        "mode": "two-server", "n_min": 10, "t": 2, "slack": 0.25,
        "round": { "n_min": 10, "t": 2, "slack": 0.25, "helper": { "key": "x" } }
    }));
    // An older round beside it, whose round file the member does not have.
    let (mut older, _) = member_round(&m);
    older.id = "2025q3".into();
    older.period.start = coopbench_protocol::Date::parse("2025-07-01").unwrap();
    older.period.end = coopbench_protocol::Date::parse("2025-09-30").unwrap();
    write_benchmark(&m.dir.path().join("bench"), &older, "00", Value::Null);
    let run = compare(&m, &["--round-file", "round.sig.json", "--format", "json"]);
    run.expect_code(0);
    assert_eq!(
        run.json()["round"]["id"],
        "2025q4",
        "the latest round by default"
    );
    let run = compare(&m, &["--round-file", "round.sig.json", "--round", "2025q3"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("round '2025q4'") && run.stderr.contains("'2025q3'"),
        "{}",
        run.stderr
    );
    let run = compare(&m, &["--round-file", "round.sig.json", "--round", "2024q1"]);
    run.expect_code(2);
    assert!(run.stderr.contains("2025q3, 2025q4"), "{}", run.stderr);
}

#[test]
fn files_that_do_not_match_the_round_are_refused_with_the_reason() {
    // Another currency.
    let m = setup(Value::Null);
    let sales = String::from_utf8(m.read("sales.csv"))
        .unwrap()
        .replace(",EUR,", ",USD,");
    m.dir.write("sales.csv", sales);
    let run = compare(
        &m,
        &["--round-file", "round.sig.json", "--html", "report.html"],
    );
    run.expect_code(1);
    assert!(
        run.stderr.contains("USD") && run.stderr.contains("EUR"),
        "{}",
        run.stderr
    );
    assert!(
        !m.dir.path().join("report.html").exists(),
        "no report from refused files"
    );
    // Another period: every row a year earlier.
    let m = setup(Value::Null);
    for f in ["sales.csv", "costs.csv"] {
        let text = String::from_utf8(m.read(f))
            .unwrap()
            .replace("\n2025-", "\n2024-");
        m.dir.write(f, text);
    }
    let run = compare(&m, &["--round-file", "round.sig.json"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("no rows in round '2025q4''s period"),
        "{}",
        run.stderr
    );
    // Another schema: a costs file where the sales file should be.
    let m = setup(Value::Null);
    m.dir.write("sales.csv", m.read("costs.csv"));
    let run = compare(&m, &["--round-file", "round.sig.json"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("do not fit round '2025q4'"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("sales.v1"), "{}", run.stderr);
    // A benchmark merged from another version of the round.
    let m = Member::new();
    let (round, _) = member_round(&m);
    write_benchmark(&m.dir.path().join("bench"), &round, "ab12", Value::Null);
    let run = compare(&m, &["--round-file", "round.sig.json"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("another version of round '2025q4'"),
        "{}",
        run.stderr
    );
}

#[test]
fn compare_works_after_the_round_has_closed() {
    let m = setup(Value::Null);
    let after = [("COOPBENCH_TODAY", "2027-03-01")];
    // The round closed on 2026-12-31: export is refused that day ...
    let export = m.run_env(
        &[
            "export",
            "--round",
            "round.sig.json",
            "sales.csv",
            "costs.csv",
            "-o",
            "late.json",
        ],
        &after,
    );
    export.expect_code(1);
    assert!(export.stderr.contains("closed"), "{}", export.stderr);
    // ... but comparing with the published round still works.
    let mut args = vec!["compare", "--benchmarks", "bench", "--round-file"];
    args.extend([
        "round.sig.json",
        "--format",
        "json",
        "sales.csv",
        "costs.csv",
    ]);
    let run = m.run_env(&args, &after);
    run.expect_code(0);
    assert_eq!(run.json()["round"]["id"], "2025q4", "{}", run.stdout);
}

#[test]
fn a_round_file_not_signed_by_the_pinned_association_is_refused() {
    let m = setup(Value::Null);
    // The same round, signed by a key the member never pinned (a stranger, or
    // an association that changed its key behind the members' backs).
    let (round, _) = member_round(&m);
    let stranger = coopbench_protocol::SigningKey::generate().unwrap();
    m.dir
        .write("forged.sig.json", signed::sign(&round, &stranger).to_json());
    let before = snapshot(m.dir.path());
    let run = compare(&m, &["--round-file", "forged.sig.json"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("the round is refused"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing compared: {}", run.stdout);
    assert_eq!(snapshot(m.dir.path()), before, "nothing written");
}
