//! The member's round, driven through the `coopbench` binary as a member
//! would: keygen, join, plan, export, ledger, policy, and every refusal.

mod common;

use common::fixture::{self, Member};
use common::Dir;
use coopbench_protocol::signed;
use coopbench_protocol::{Contribution, Envelope, SigningKey};

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
    let pool = fixture::pool(&other, &[m.public]);
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
    let round = fixture::example_round();
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
    m.write_round(&fixture::example_round(), &stranger);
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
    m.write_pool(&fixture::pool(&m.association, &others));
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
fn number_tokens(text: &str) -> std::collections::HashSet<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|t| t.trim_matches('.').to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

#[test]
fn no_member_figure_reaches_the_contribution_the_terminal_or_the_ledger() {
    let m = Member::new();
    // Distinctive amounts: every raw value and every unnoised cell is recognisable.
    let mut sales = String::from(common::SALES_HEADER);
    sales.push('\n');
    let mut secrets: Vec<String> = vec![
        "7013.17".into(),
        "3001.29".into(),
        "811".into(),
        "419".into(),
        "523".into(),
        "307".into(),
    ];
    for (i, month) in ["2025-10", "2025-11", "2025-12"].iter().enumerate() {
        for (j, cat) in ["bread", "pastry", "cakes", "savoury", "drinks", "other"]
            .iter()
            .enumerate()
        {
            let a = 7_013.17 + 1_009.0 * i as f64 + 113.0 * j as f64;
            let b = 3_001.29 + 7.0 * j as f64;
            sales.push_str(&format!("{month}-05,{cat},store,{a:.2},811,419,EUR,\n{month}-19,{cat},online,{b:.2},523,307,EUR,\n"));
            // The unnoised cell at scale 1, and the raw values.
            secrets.push(format!("{}", (a + b).round() as i64));
            secrets.push(format!("{a:.2}"));
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
    let texts = [
        plan.stdout,
        plan.stderr,
        export.stdout,
        export.stderr,
        std::fs::read_to_string(m.state().join("ledger.jsonl")).unwrap(),
        // The decoded payload (the envelope's base64 and signature are not numbers).
        serde_json::to_string(&c).unwrap(),
    ];
    for text in &texts {
        let tokens = number_tokens(text);
        for s in &secrets {
            assert!(
                !tokens.contains(s),
                "member figure {s} leaked into:\n{text}"
            );
        }
    }
    // The contribution's values are not the unnoised cells.
    let unnoised: Vec<i64> = secrets[6..]
        .iter()
        .step_by(3)
        .map(|s| s.parse().unwrap())
        .collect();
    assert_ne!(c.metrics[0].values, unnoised);
    assert_eq!(m.ledger_lines().len(), 1);
}
