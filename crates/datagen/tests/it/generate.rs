//! End-to-end checks of the generated files: determinism, schema rules and realism.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::Path;

use chrono::{Datelike, Months, NaiveDate};
use coopbench_datagen::{
    generate, generate_members, write_big_sales, GenConfig, CATEGORIES, CHANNELS, COSTS_HEADER,
    COST_TYPES, SALES_HEADER,
};

fn cfg(members: usize, seed: u64) -> GenConfig {
    GenConfig {
        members,
        months: 12,
        start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        seed,
    }
}

/// Header and data rows of a CSV file.
fn read(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = fs::read_to_string(path).unwrap();
    assert!(!text.contains('\r'), "{}: CR line ends", path.display());
    assert!(text.ends_with('\n'), "{}: no final newline", path.display());
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().unwrap().iter().map(String::from).collect();
    let rows = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// Parses an amount with exactly two decimals into cents.
fn cents(text: &str) -> i64 {
    let (int, frac) = text
        .split_once('.')
        .unwrap_or_else(|| panic!("no '.': {text}"));
    assert_eq!(frac.len(), 2, "not two decimals: {text}");
    assert!(
        frac.bytes().all(|b| b.is_ascii_digit()),
        "bad amount {text}"
    );
    let neg = int.starts_with('-');
    let digits = int.trim_start_matches('-');
    assert!(
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
        "bad amount {text}"
    );
    let v = digits.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap();
    if neg {
        -v
    } else {
        v
    }
}

fn date(text: &str) -> NaiveDate {
    assert_eq!(text.len(), 10, "not ISO: {text}");
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn all_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for member in fs::read_dir(dir).unwrap() {
        let member = member.unwrap().path();
        for file in fs::read_dir(&member).unwrap() {
            let file = file.unwrap().path();
            let key = file.strip_prefix(dir).unwrap().display().to_string();
            out.insert(key, fs::read(&file).unwrap());
        }
    }
    out
}

#[test]
fn same_seed_gives_identical_files_and_other_seed_differs() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let dirs = generate(&cfg(3, 7), a.path()).unwrap();
    generate(&cfg(3, 7), b.path()).unwrap();
    generate(&cfg(3, 8), c.path()).unwrap();
    let names: Vec<_> = dirs
        .iter()
        .map(|d| d.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["member-01", "member-02", "member-03"]);
    let (fa, fb, fc) = (
        all_files(a.path()),
        all_files(b.path()),
        all_files(c.path()),
    );
    assert_eq!(fa.len(), 6);
    assert!(
        fa.keys()
            .all(|k| k.ends_with("sales.csv") || k.ends_with("costs.csv")),
        "{:?}",
        fa.keys()
    );
    assert_eq!(fa, fb);
    for (name, bytes) in &fa {
        assert_ne!(
            Some(bytes),
            fc.get(name),
            "{name} unchanged by a different seed"
        );
    }
}

#[test]
fn member_files_do_not_change_when_members_grow() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate(&cfg(3, 1), a.path()).unwrap();
    generate(&cfg(5, 1), b.path()).unwrap();
    let (fa, fb) = (all_files(a.path()), all_files(b.path()));
    assert_eq!(fb.len(), 10);
    for (name, bytes) in &fa {
        assert_eq!(Some(bytes), fb.get(name), "{name} changed");
    }
}

#[test]
fn files_follow_the_schema_and_look_realistic() {
    let out = tempfile::tempdir().unwrap();
    let config = cfg(30, 1);
    let summaries = generate_members(&config, out.path()).unwrap();
    assert_eq!(summaries.len(), 30);
    let end = config.start + Months::new(12);
    let mut firm_revenue = Vec::new();
    let mut by_month = [0i64; 12];
    let (mut sales_rows, mut refunds) = (0usize, 0usize);

    for summary in &summaries {
        // sales.csv
        let (header, rows) = read(&summary.dir.join("sales.csv"));
        assert_eq!(header, SALES_HEADER);
        assert_eq!(rows.len(), summary.sales_rows);
        let mut receipts = HashSet::new();
        let mut monthly = [0i64; 12];
        let mut previous = config.start;
        for r in &rows {
            assert_eq!(r.len(), 8);
            let d = date(&r[0]);
            assert!(d >= config.start && d < end, "date {d} outside the period");
            assert!(d >= previous, "dates out of order");
            previous = d;
            assert!(CATEGORIES.contains(&r[1].as_str()), "category {}", r[1]);
            assert!(CHANNELS.contains(&r[2].as_str()), "channel {}", r[2]);
            let net = cents(&r[3]);
            let units: u64 = r[4].parse().unwrap();
            let txns: u64 = r[5].parse().unwrap();
            assert_eq!(r[6], "EUR");
            if !r[7].is_empty() {
                assert!(receipts.insert(r[7].clone()), "duplicate receipt {}", r[7]);
            }
            assert_ne!(net, 0);
            if net < 0 {
                refunds += 1;
                assert!(units <= 3 && txns <= 1, "refund row {r:?}");
            } else {
                assert!(units >= 1 && txns >= 1 && txns <= units, "sale row {r:?}");
            }
            monthly[d.month0() as usize] += net;
        }
        assert_eq!(monthly.to_vec(), summary.monthly_net_sales_cents);
        sales_rows += rows.len();
        firm_revenue.push(monthly.iter().sum::<i64>());
        for (total, m) in by_month.iter_mut().zip(monthly) {
            *total += m;
        }

        // costs.csv
        let (header, rows) = read(&summary.dir.join("costs.csv"));
        assert_eq!(header, COSTS_HEADER);
        let mut invoices = HashSet::new();
        let mut counts = [[0usize; 6]; 12];
        let mut cogs = [0i64; 12];
        let mut rent = HashSet::new();
        for r in &rows {
            assert_eq!(r.len(), 6);
            let d = date(&r[0]);
            assert!(d >= config.start && d < end, "date {d} outside the period");
            let t = COST_TYPES
                .iter()
                .position(|t| *t == r[1])
                .unwrap_or_else(|| panic!("cost_type {}", r[1]));
            let amount = cents(&r[2]);
            assert!(amount > 0, "amount {}", r[2]);
            assert_eq!(r[3], "EUR");
            if !r[5].is_empty() {
                assert!(invoices.insert(r[5].clone()), "duplicate invoice {}", r[5]);
            }
            counts[d.month0() as usize][t] += 1;
            match r[1].as_str() {
                "cogs" => cogs[d.month0() as usize] += amount,
                "rent" => {
                    rent.insert(amount);
                }
                _ => {}
            }
        }
        assert_eq!(rent.len(), 1, "rent not fixed");
        for m in 0..12 {
            let [n_cogs, n_rent, n_wages, n_energy, n_marketing, n_other] = counts[m];
            assert!(n_cogs >= 3, "month {m}: {n_cogs} cogs rows");
            assert_eq!((n_rent, n_energy), (1, 1));
            assert!((1..=2).contains(&n_wages));
            assert!(n_marketing <= 2 && n_other <= 2);
            let share = cogs[m] as f64 / monthly[m] as f64;
            assert!(
                (0.175..=0.485).contains(&share),
                "month {m}: cogs share {share}"
            );
        }
    }

    // Refunds: present, about 0.5–1% of rows.
    let rate = refunds as f64 / sales_rows as f64;
    assert!((0.004..=0.012).contains(&rate), "refund rate {rate}");
    // Firms of very different sizes.
    let (min, max) = (
        *firm_revenue.iter().min().unwrap(),
        *firm_revenue.iter().max().unwrap(),
    );
    assert!(
        min > 0 && max as f64 / min as f64 > 5.0,
        "revenue {min}..{max}"
    );
    // December peak, August dip.
    assert!(
        by_month[11] > by_month[7],
        "December {} vs August {}",
        by_month[11],
        by_month[7]
    );
    let mean = by_month.iter().sum::<i64>() / 12;
    assert!(by_month[11] > mean && by_month[7] < mean);
    // Atomic writes leave no temporary files behind.
    for summary in &summaries {
        for f in fs::read_dir(&summary.dir).unwrap() {
            let name = f.unwrap().file_name();
            assert!(
                !name.to_string_lossy().ends_with(".tmp"),
                "{name:?} left behind"
            );
        }
    }
}

#[test]
fn big_sales_has_exactly_the_requested_rows() {
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("big.csv");
    let start = NaiveDate::from_ymd_opt(2016, 1, 1).unwrap();
    write_big_sales(12_345, 1, start, &path).unwrap();
    let (header, rows) = read(&path);
    assert_eq!(header, SALES_HEADER);
    assert_eq!(rows.len(), 12_345);
    let mut receipts = HashSet::new();
    let mut previous = start;
    let mut refunds = 0;
    for r in &rows {
        let d = date(&r[0]);
        assert!(d >= previous && d < start + Months::new(120));
        previous = d;
        assert!(CATEGORIES.contains(&r[1].as_str()) && CHANNELS.contains(&r[2].as_str()));
        let net = cents(&r[3]);
        refunds += usize::from(net < 0);
        r[4].parse::<u64>().unwrap();
        r[5].parse::<u64>().unwrap();
        assert_eq!(r[6], "EUR");
        assert!(
            !r[7].is_empty() && receipts.insert(r[7].clone()),
            "receipt {}",
            r[7]
        );
    }
    assert!(refunds > 0);
    assert!(
        previous.year() >= 2025,
        "dates do not span ten years: last {previous}"
    );
    // Same seed, same bytes.
    let again = out.path().join("again.csv");
    write_big_sales(12_345, 1, start, &again).unwrap();
    assert_eq!(fs::read(&path).unwrap(), fs::read(&again).unwrap());
    // Zero rows: header only.
    let empty = out.path().join("empty.csv");
    write_big_sales(0, 1, start, &empty).unwrap();
    assert_eq!(
        fs::read_to_string(&empty).unwrap(),
        SALES_HEADER.join(",") + "\n"
    );
}

#[test]
fn invalid_configs_are_rejected() {
    let out = tempfile::tempdir().unwrap();
    let mut bad = cfg(3, 1);
    bad.start = NaiveDate::from_ymd_opt(2025, 1, 15).unwrap();
    assert!(generate(&bad, out.path()).is_err());
    assert!(generate(&cfg(0, 1), out.path()).is_err());
    let mut bad = cfg(3, 1);
    bad.months = 0;
    assert!(generate(&bad, out.path()).is_err());
}
