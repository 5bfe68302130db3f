//! The member's round, driven through the `coopbench` binary as a member
//! would: keygen, join, plan, export, ledger, policy, and every refusal.

use crate::common::fixture::{self, Member};
use crate::common::Dir;
use coopbench_protocol::signed;
use coopbench_protocol::{Contribution, Envelope, SigningKey};
use coopbench_testkit::snapshot;

fn contribution(m: &Member, name: &str) -> Contribution {
    let env = Envelope::from_json(&m.read(name)).expect("an envelope");
    signed::verify::<Contribution>(&env, &m.public)
        .expect("signed by the member")
        .doc
}

#[test]
fn keygen_writes_a_private_key_only_the_member_can_read_and_never_prints_it() {
    let m = Member::new();
    let key = std::fs::read(m.state().join("member.key")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(m.state().join("member.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = m.run(&["keygen"]);
    again.expect_code(1);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(
        std::fs::read(m.state().join("member.key")).unwrap(),
        key,
        "key unchanged"
    );
    // A fresh keygen prints the public key and fingerprint, never the private bytes.
    let d = Dir::new();
    let run = d.coopbench(&["keygen", "--state-dir", "s"]);
    run.expect_code(0);
    let secret = std::fs::read(d.path().join("s/member.key")).unwrap();
    let public = std::fs::read_to_string(d.path().join("s/member.pub")).unwrap();
    assert!(run.stdout.contains(public.trim()));
    let k = SigningKey::from_pkcs8(&secret).unwrap();
    assert!(run.stdout.contains(&k.public().fingerprint()));
    use base64::Engine as _;
    for enc in [
        base64::engine::general_purpose::STANDARD.encode(&secret),
        secret
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    ] {
        assert!(!run.stdout.contains(&enc) && !run.stderr.contains(&enc));
    }
}

#[test]
fn join_shows_the_pool_and_refuses_tampered_or_re_keyed_pools() {
    let m = Member::new();
    let run = m.run(&["join", "--yes", "pool.sig.json"]);
    run.expect_code(0);
    assert!(run
        .stdout
        .contains("Purpose: Benchmarks for independent bakeries."));
    assert!(run.stdout.contains("Sunset: 2029-12-31"));
    assert!(run.stdout.contains(&m.association.public().fingerprint()));
    // Not a terminal and no --yes: refuses to pin silently (fresh state).
    let fresh = m
        .dir
        .coopbench(&["join", "pool.sig.json", "--state-dir", "other"]);
    fresh.expect_code(2);
    assert!(fresh.stderr.contains("--yes"));
    // One flipped byte in the payload.
    let mut env = Envelope::from_json(&m.read("pool.sig.json")).unwrap();
    let mut p = env.payload.into_bytes();
    p[10] = if p[10] == b'A' { b'B' } else { b'A' };
    env.payload = String::from_utf8(p).unwrap();
    m.dir.write("tampered.sig.json", env.to_json());
    let run = m.run(&["join", "--yes", "tampered.sig.json"]);
    run.expect_code(1);
    // The same pool id under another association key.
    let other = SigningKey::generate().unwrap();
    let pool = coopbench_testkit::pool(&other, &[m.public]);
    m.dir
        .write("rekeyed.sig.json", signed::sign(&pool, &other).to_json());
    let run = m.run(&["join", "--yes", "rekeyed.sig.json"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("pinned to another association key"),
        "{}",
        run.stderr
    );
}

#[test]
fn plan_states_purpose_cost_accuracy_and_clipping_without_spending() {
    let m = Member::new();
    let run = m.run(&[
        "plan",
        "--round",
        "round.sig.json",
        "sales.csv",
        "costs.csv",
    ]);
    run.expect_code(0);
    assert!(
        run.stdout.starts_with("Purpose: Quarterly benchmark"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("rho = 1 (zCDP)"));
    assert!(run.stdout.contains("epsilon = "));
    assert!(run
        .stdout
        .contains("0 of 2 spent in the last 365 days; 1 after this round"));
    for metric in [
        "revenue",
        "active",
        "costs",
        "gross_margin",
        "rent_share",
        "avg_ticket",
    ] {
        assert!(
            run.stdout.contains(&format!("  {metric} [")),
            "metric {metric} listed"
        );
    }
    assert!(run.stdout.contains("merged,   10 members"));
    assert!(run.stdout.contains("merged,   40 members"));
    assert!(run
        .stdout
        .contains("sales.csv: 36 rows in the period, 1 outside it"));
    assert!(run.stdout.contains("revenue: 0 of 18 cells clipped"));
    assert!(m.ledger_lines().is_empty(), "plan charges nothing");
}

#[test]
fn export_writes_a_signed_noised_contribution_and_charges_the_ledger_once() {
    let m = Member::new();
    let run = m.export(&[]);
    run.expect_code(0);
    let c = contribution(&m, "contribution.json");
    assert_eq!(c.round_id, "2025q4");
    assert_eq!(c.sequence, 1);
    assert_eq!(c.member_key_id, m.public.key_id());
    let round = coopbench_testkit::example_round();
    let env = Envelope::from_json(&m.read("round.sig.json")).unwrap();
    let hash = signed::verify::<coopbench_protocol::Round>(&env, &m.association.public())
        .unwrap()
        .hash;
    assert_eq!(c.problems_against(&round, &hash), Vec::<String>::new());
    assert_eq!(c.metrics[0].values.len(), 18);
    // 20 value bins and the no-value bin.
    assert_eq!(c.metrics[3].values.len(), 21);
    let ledger = m.ledger_lines();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0]["round_id"], "2025q4");
    assert_eq!(ledger[0]["rho"], 1.0);
    // Same data again: byte-identical, nothing charged.
    let first = m.read("contribution.json");
    std::fs::remove_file(m.dir.path().join("contribution.json")).unwrap();
    let again = m.export(&[]);
    again.expect_code(0);
    assert!(again.stdout.contains("Nothing was charged"));
    assert_eq!(m.read("contribution.json"), first);
    assert_eq!(m.ledger_lines().len(), 1);
    // Rows reordered and a row outside the period changed: same cells, same file.
    let mut lines: Vec<String> = fixture::sales().lines().map(String::from).collect();
    lines[1..].reverse();
    m.dir.write(
        "sales.csv",
        lines.join("\n").replace("100.00,20,10", "999.00,20,10") + "\n",
    );
    m.export(&[]).expect_code(0);
    assert_eq!(m.read("contribution.json"), first);
    assert_eq!(m.ledger_lines().len(), 1);
}

#[test]
fn changed_data_is_refused_unless_superseded_which_charges_again() {
    let m = Member::new();
    m.export(&[]).expect_code(0);
    let first = m.read("contribution.json");
    let changed = fixture::sales().replace(
        "2025-10-03,bread,store,403.25",
        "2025-10-03,bread,store,503.25",
    );
    assert_ne!(changed, fixture::sales());
    m.dir.write("sales.csv", changed);
    let run = m.export(&[]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("your data has changed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--supersede"));
    assert_eq!(
        m.read("contribution.json"),
        first,
        "the delivered file is untouched"
    );
    assert_eq!(m.ledger_lines().len(), 1);
    let run = m.export(&["--supersede"]);
    run.expect_code(0);
    let c = contribution(&m, "contribution.json");
    assert_eq!(c.sequence, 2);
    let ledger = m.ledger_lines();
    assert_eq!(ledger.len(), 2);
    assert_eq!(ledger[1]["reason"], "supersede");
    assert_eq!(ledger[1]["sequence"], 2);
    // The ledger command shows both charges and the window total.
    let l = m.run(&["ledger"]);
    l.expect_code(0);
    assert!(
        l.stdout
            .contains("Spent in the last 365 days: rho 2 of your cap 2"),
        "{}",
        l.stdout
    );
}

#[test]
fn the_policy_cap_refuses_a_round_that_would_exceed_it() {
    let m = Member::new();
    m.run(&["policy", "set", "--max-rho", "0.5"]).expect_code(0);
    let shown = m.run(&["policy"]);
    assert!(shown.stdout.contains("At most rho = 0.5 in any 365 days."));
    let run = m.export(&[]);
    run.expect_code(1);
    assert!(run.stderr.contains("policy refuses"), "{}", run.stderr);
    assert!(m.ledger_lines().is_empty());
    assert!(!m.dir.path().join("contribution.json").exists());
}

#[test]
fn invalid_files_are_refused_with_validates_report_and_nothing_is_charged() {
    let m = Member::new();
    let bad = fixture::sales().replace(
        "2025-10-03,bread,store,403.25,100",
        "2025-10-03,bread,store,403.25,-3",
    );
    assert_ne!(bad, fixture::sales());
    m.dir.write("sales.csv", bad);
    let run = m.export(&[]);
    run.expect_code(1);
    assert!(
        run.stdout.contains("sales.csv:2:units: minimum:"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("nothing was computed or charged"));
    assert!(m.ledger_lines().is_empty());
    assert!(!m.dir.path().join("contribution.json").exists());
}

fn refused(edit: impl FnOnce(&mut coopbench_protocol::Round), env: &[(&str, &str)], expect: &str) {
    let m = Member::with_round(edit);
    let mut args = vec![
        "export",
        "--round",
        "round.sig.json",
        "sales.csv",
        "costs.csv",
        "-o",
        "c.json",
    ];
    args.extend(["--state-dir", "state"]);
    let run = m.dir.coopbench_env(&args, env);
    run.expect_code(1);
    assert!(
        run.stderr.contains(expect),
        "expected {expect:?} in:\n{}",
        run.stderr
    );
    assert!(m.ledger_lines().is_empty(), "a refusal charges nothing");
    assert!(!m.dir.path().join("c.json").exists());
}

#[test]
fn rounds_outside_the_guardrails_are_refused_each_with_its_reason() {
    use coopbench_protocol::Date;
    let d = |s: &str| Date::parse(s).unwrap();
    refused(
        |_| {},
        &[("COOPBENCH_TODAY", "2026-03-01")],
        "the round opens on 2026-04-01",
    );
    refused(
        |_| {},
        &[("COOPBENCH_TODAY", "2027-01-02")],
        "the round closed on 2026-12-31",
    );
    refused(
        |_| {},
        &[("COOPBENCH_TODAY", "2030-02-01")],
        "sunset 2029-12-31 has passed",
    );
    refused(
        |r| r.opens = d("2030-01-02"),
        &[],
        "after the pool's sunset",
    );
    refused(
        |r| {
            r.period.start = d("2026-10-01");
            r.period.end = d("2026-12-31");
        },
        &[],
        "which is not in the past",
    );
    refused(
        |r| {
            r.period.start = d("2026-08-01");
            r.period.end = d("2026-10-31");
            r.opens = d("2026-11-01");
        },
        &[],
        "data must be at least 90 days old",
    );
    refused(
        |r| r.min_members = 2,
        &[],
        "min_members is 2; the floor is 3",
    );
    refused(
        |r| {
            r.metrics[0].filter = vec![coopbench_protocol::round::Filter {
                field: "supplier".into(),
                values: vec!["Mill".into()],
            }]
        },
        &[],
        "which schema sales.v1 does not have",
    );
    refused(
        |r| {
            r.metrics[2].filter = vec![coopbench_protocol::round::Filter {
                field: "supplier".into(),
                values: vec!["Mill".into()],
            }]
        },
        &[],
        "marks not shareable",
    );
    refused(|r| r.purpose = " ".into(), &[], "no purpose");
}

#[test]
fn a_round_signed_by_anyone_but_the_pinned_association_is_refused() {
    let m = Member::new();
    let stranger = SigningKey::generate().unwrap();
    m.write_round(&coopbench_testkit::example_round(), &stranger);
    let run = m.export(&[]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("not a round signed by the association you trusted"),
        "{}",
        run.stderr
    );
    assert!(m.ledger_lines().is_empty());
}

#[test]
fn mixed_currencies_are_refused() {
    let m = Member::new();
    let sales = fixture::sales().replace("EUR,R1-2-17", "USD,R1-2-17");
    assert!(sales.contains("USD"));
    m.dir.write("sales.csv", sales);
    let run = m.export(&[]);
    run.expect_code(1);
    assert!(run.stderr.contains("amounts in USD"), "{}", run.stderr);
    assert!(m.ledger_lines().is_empty());
}

#[test]
fn a_member_missing_from_the_roster_is_refused_before_spending() {
    let m = Member::new();
    let others: Vec<_> = (0..3)
        .map(|_| SigningKey::generate().unwrap().public())
        .collect();
    m.write_pool(&coopbench_testkit::pool(&m.association, &others));
    m.run(&["join", "--yes", "pool.sig.json"]).expect_code(0);
    let run = m.export(&[]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("not on pool 'bakeries''s roster"),
        "{}",
        run.stderr
    );
    assert!(m.ledger_lines().is_empty());
}

/// Numbers in a text, as whole tokens (a number inside a longer one does not count).
/// The decimal numbers written in `text`: maximal runs of digits, `.` and the
/// thousands separator `,`, bounded by anything but a letter or digit (so the
/// digit runs inside hex ids and base64 are not numbers), with the separators
/// removed.
fn number_tokens(text: &str) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == ',')) {
        // A word with a letter in it (a hex id, base64, "2025q4") is not a number.
        if word.chars().any(|c| c.is_ascii_alphabetic()) {
            continue;
        }
        let t = word.trim_matches(|c| c == '.' || c == ',').replace(',', "");
        if !t.is_empty() {
            out.insert(t);
        }
    }
    out
}

/// Every number in a JSON document, as decimal text (strings are not read).
fn json_numbers(v: &serde_json::Value, out: &mut std::collections::HashSet<String>) {
    match v {
        serde_json::Value::Number(n) => {
            out.insert(n.to_string());
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_numbers(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| json_numbers(x, out)),
        _ => {}
    }
}

/// Canaries of seven or more distinctive digits: raw amounts, counts and the
/// unnoised cells of a member whose revenue cells lie below a wide clip bound
/// (so the unnoised cell is the member's own figure, not the bound). They
/// are matched against whole decoded numbers only: a noised cell has sd
/// above 10^8, so it equals one of the 18 eight-digit cells with probability
/// below 10^-8 per pair, and digit runs inside hex ids are never read.
#[test]
fn no_member_figure_reaches_the_contribution_the_terminal_or_the_ledger() {
    let m = Member::with_round(|r| {
        let revenue = r.metrics.iter_mut().find(|m| m.name == "revenue").unwrap();
        revenue.clip = Some(coopbench_protocol::round::Clip {
            lo: 0.0,
            hi: 90_000_000.0,
        });
    });
    // Distinctive amounts: every raw value and every unnoised cell is recognisable.
    let mut sales = String::from(crate::common::SALES_HEADER);
    sales.push('\n');
    let mut secrets: Vec<String> = vec![
        "7013417.17".into(),
        "3001289.29".into(),
        "8114373".into(),
        "4193071".into(),
        "5236081".into(),
        "3071929".into(),
    ];
    let mut unnoised = Vec::new();
    for (i, month) in ["2025-10", "2025-11", "2025-12"].iter().enumerate() {
        for (j, cat) in ["bread", "pastry", "cakes", "savoury", "drinks", "other"]
            .iter()
            .enumerate()
        {
            let a = 7_013_417.17 + 1_009.0 * i as f64 + 113.0 * j as f64;
            let b = 3_001_289.29 + 7.0 * j as f64;
            sales.push_str(&format!("{month}-05,{cat},store,{a:.2},8114373,4193071,EUR,\n{month}-19,{cat},online,{b:.2},5236081,3071929,EUR,\n"));
            // The unnoised cell at scale 1, and the raw values.
            let cell = (a + b).round() as i64;
            assert!(cell > 10_000_000, "eight digits: {cell}");
            unnoised.push(cell);
            secrets.push(cell.to_string());
            secrets.push(format!("{a:.2}"));
            secrets.push(format!("{b:.2}"));
            secrets.push(format!("{:.2}", a + b));
        }
    }
    m.dir.write("sales.csv", &sales);
    let plan = m.run(&[
        "plan",
        "--round",
        "round.sig.json",
        "sales.csv",
        "costs.csv",
    ]);
    plan.expect_code(0);
    let export = m.export(&[]);
    export.expect_code(0);
    let c = contribution(&m, "contribution.json");
    let ledger = std::fs::read_to_string(m.state().join("ledger.jsonl")).unwrap();
    let mut places: Vec<(&str, std::collections::HashSet<String>)> = vec![
        ("plan's stdout", number_tokens(&plan.stdout)),
        ("plan's stderr", number_tokens(&plan.stderr)),
        ("export's stdout", number_tokens(&export.stdout)),
        ("export's stderr", number_tokens(&export.stderr)),
    ];
    let mut decoded = std::collections::HashSet::new();
    json_numbers(&serde_json::to_value(&c).unwrap(), &mut decoded);
    places.push(("the decoded contribution", decoded));
    let mut in_ledger = std::collections::HashSet::new();
    for line in ledger.lines() {
        json_numbers(&serde_json::from_str(line).unwrap(), &mut in_ledger);
    }
    places.push(("the ledger", in_ledger));
    for (place, numbers) in &places {
        for s in &secrets {
            assert!(
                !numbers.contains(s),
                "member figure {s} leaked into {place}"
            );
        }
    }
    // The contribution's revenue values are the cells plus noise, not the cells.
    let revenue = c.metrics.iter().find(|m| m.name == "revenue").unwrap();
    assert_eq!(revenue.values.len(), unnoised.len());
    assert_ne!(revenue.values, unnoised);
    assert_eq!(m.ledger_lines().len(), 1);
}

#[test]
fn the_canary_check_reads_numbers_not_digit_runs_and_would_see_a_leak() {
    let tokens = number_tokens("key a3f8114373b, cell 10,014,706 and 7013417.17; round 2025q4.");
    assert!(tokens.contains("10014706"), "{tokens:?}");
    assert!(tokens.contains("7013417.17"), "{tokens:?}");
    assert!(
        !tokens.contains("8114373"),
        "a digit run in a hex id is no number: {tokens:?}"
    );
    let mut decoded = std::collections::HashSet::new();
    json_numbers(
        &serde_json::json!({"id": "5236081", "values": [10014706, -3]}),
        &mut decoded,
    );
    assert!(decoded.contains("10014706") && decoded.contains("-3"));
    assert!(
        !decoded.contains("5236081"),
        "strings are not read: {decoded:?}"
    );
}

#[test]
fn plan_writes_nothing_and_charges_nothing() {
    let m = Member::new();
    let before = snapshot(m.dir.path());
    let run = m.run(&[
        "plan",
        "--round",
        "round.sig.json",
        "sales.csv",
        "costs.csv",
    ]);
    run.expect_code(0);
    assert!(run.stdout.contains("Privacy cost: rho"), "{}", run.stdout);
    assert_eq!(
        snapshot(m.dir.path()),
        before,
        "plan wrote or changed a file"
    );
    assert!(m.ledger_lines().is_empty());
}

#[test]
fn a_policy_cap_that_is_not_a_positive_number_is_a_usage_error() {
    let m = Member::new();
    for bad in ["0", "-1", "NaN", "inf"] {
        let run = m.run(&["policy", "set", "--max-rho", bad]);
        run.expect_code(2);
        assert!(run.stderr.contains("--max-rho"), "{bad}: {}", run.stderr);
    }
    let run = m.run(&["policy", "set", "--max-rho", "1", "--window-days", "0"]);
    run.expect_code(2);
    assert!(!m.state().join("policy.json").exists(), "nothing saved");
}

/// A round whose revenue bound (1,000 EUR per cell) the fixture member's
/// larger cells exceed: plan and export say exactly which share is clipped,
/// computed here from the member's rows, and the contribution's σ is the one
/// the bound implies, σ = (hi − lo)·√cells / √(2ρ_revenue).
#[test]
fn clipping_at_the_bound_and_the_noise_it_implies_are_the_stated_ones() {
    const HI: f64 = 1_000.0;
    let m = Member::with_round(|r| {
        let revenue = r.metrics.iter_mut().find(|m| m.name == "revenue").unwrap();
        revenue.clip = Some(coopbench_protocol::round::Clip { lo: 0.0, hi: HI });
    });
    // The member's revenue cells (month, category) in the round's period, in EUR.
    let rows = crate::common::round::read_rows(
        &m.dir.path().join("sales.csv"),
        &["category"],
        &["net_amount"],
    );
    let mut cells: std::collections::BTreeMap<(String, String), f64> = Default::default();
    for r in rows.iter().filter(|r| r.month.as_str() >= "2025-10") {
        *cells
            .entry((r.month.clone(), r.text["category"].clone()))
            .or_default() += r.hundredths["net_amount"] as f64 / 100.0;
    }
    assert_eq!(cells.len(), 18);
    // Fixed point at scale 1 rounds each cell to whole EUR before clipping.
    let whole: Vec<f64> = cells.values().map(|v| v.round()).collect();
    let clipped = whole.iter().filter(|v| **v > HI).count();
    let removed: f64 = whole.iter().map(|v| (v - HI).max(0.0)).sum();
    let total: f64 = whole.iter().sum();
    assert!(
        clipped > 0 && clipped < 18,
        "{clipped} of 18 cells above the bound"
    );
    let line = format!(
        "  revenue: {clipped} of 18 cells clipped to the round's bounds ({:.1}% of the metric's total removed)",
        100.0 * removed / total
    );
    let plan = m.run(&[
        "plan",
        "--round",
        "round.sig.json",
        "sales.csv",
        "costs.csv",
    ]);
    plan.expect_code(0);
    assert!(
        plan.stdout.lines().any(|l| l == line),
        "no {line:?} in:\n{}",
        plan.stdout
    );
    let export = m.export(&[]);
    export.expect_code(0);
    assert!(
        export.stdout.lines().any(|l| l == line),
        "no {line:?} in:\n{}",
        export.stdout
    );

    let round = coopbench_testkit::example_round();
    let weights: f64 = round.metrics.iter().map(|m| m.weight).sum();
    let revenue = round.metrics.iter().find(|m| m.name == "revenue").unwrap();
    let rho = round.rho * revenue.weight / weights;
    let l2 = HI * 18f64.sqrt();
    let sigma = l2 / (2.0 * rho).sqrt();
    let c = contribution(&m, "contribution.json");
    let p = &c
        .metrics
        .iter()
        .find(|m| m.name == "revenue")
        .unwrap()
        .noise;
    assert!(
        (p.l2_sensitivity - l2).abs() <= 1e-9 * l2,
        "Δ₂ {} vs {l2}",
        p.l2_sensitivity
    );
    assert!((p.rho - rho).abs() <= 1e-9 * rho, "ρ {} vs {rho}", p.rho);
    assert!(
        p.sigma >= sigma && p.sigma <= sigma * (1.0 + 1e-9),
        "σ {} vs {sigma}",
        p.sigma
    );
}

#[test]
fn join_says_last_whether_the_key_is_on_the_roster() {
    let m = Member::new();
    let on = m.run(&["join", "--yes", "pool.sig.json"]);
    on.expect_code(0);
    assert!(
        on.stdout.trim_end().ends_with("Your key is on its roster."),
        "{}",
        on.stdout
    );
    // The association's next pool file leaves this member out.
    let stranger = coopbench_protocol::SigningKey::generate().unwrap().public();
    m.write_pool(&coopbench_testkit::pool(&m.association, &[stranger]));
    let off = m.run(&["join", "--yes", "pool.sig.json"]);
    off.expect_code(0);
    let last = off.stdout.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.contains("is not on this pool's roster") && last.contains("member.pub"),
        "{}",
        off.stdout
    );
    assert!(last.contains(&m.public.fingerprint()), "{last}");
    // A state directory with no key yet is told to make one.
    let keyless = m
        .dir
        .coopbench(&["join", "--yes", "pool.sig.json", "--state-dir", "fresh"]);
    keyless.expect_code(0);
    assert!(
        keyless.stdout.contains("run `coopbench keygen`"),
        "{}",
        keyless.stdout
    );
}
