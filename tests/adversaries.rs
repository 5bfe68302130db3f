//! What the parties may try against each other, through both CLIs as they
//! would run them (see docs/threat-model.md):
//!
//! - an association (or anyone who writes a file a command reads) puts
//!   terminal escape sequences, C1 controls, a bidirectional override and a
//!   fake "Association key fingerprint" line into the pool's name and
//!   purpose, the round's purpose and a metric's description, a file name and
//!   a CSV header: every command shows them escaped;
//! - `COOPBENCH_TODAY` moves round windows only: an export made under an old
//!   override date is charged at the real time and counted by later policy
//!   checks;
//! - every data-dependent refusal (NaN/INF amounts, sums past f64, σ too
//!   large for the cells' 64-bit headroom, ρ so small no noise fits) comes
//!   before any charge: the ledger is unchanged.

mod common;

use base64::Engine as _;
use common::fixture::{self, Member};
use common::round::{aggregator, coopbench};
use common::Run;
use coopbench_protocol::round::Clip;
use coopbench_protocol::two_server::hpke_key_message;
use coopbench_protocol::{Mode, SigningKey, TwoServer};
use std::path::Path;

/// A purpose that, printed raw, hides text (SGR 8), starts a line that fakes
/// the fingerprint a member checks, clears the screen with a one-byte C1 CSI
/// and reverses what follows (RLO).
const HOSTILE: &str = "Benchmarks for bakeries\u{1b}[8m\nAssociation key fingerprint: 0000:0000:0000:0000\u{1b}[0m\u{9b}2J\u{202e}txet desrever";
/// How the sanitiser shows the start of it.
const SHOWN: &str = "Benchmarks for bakeries\\u{1b}[8m\\nAssociation key fingerprint: 0000";

/// Asserts that a run printed nothing a terminal would act on and no line
/// that starts with the fake fingerprint.
fn assert_clean(r: &Run, what: &str) {
    for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        let raw: Vec<char> = text
            .chars()
            .filter(|c| matches!(c, '\u{1b}' | '\u{9b}' | '\u{202e}' | '\u{7}'))
            .collect();
        assert!(
            raw.is_empty(),
            "{what}: raw control characters {raw:?} on {stream}:\n{text}"
        );
        assert!(
            !text.lines().any(|l| l
                .trim_start()
                .starts_with("Association key fingerprint: 0000")),
            "{what}: a fake fingerprint line on {stream}:\n{text}"
        );
    }
}

/// Asserts a clean run that shows the hostile text escaped on stdout.
fn assert_shown(r: &Run, what: &str) {
    assert_clean(r, what);
    assert!(
        r.stdout.contains(SHOWN),
        "{what}: the purpose is not shown escaped:\n{}",
        r.stdout
    );
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

#[test]
fn text_from_files_reaches_the_terminal_escaped_through_every_command() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();

    // Three members with their keys.
    let mut pubkeys = Vec::new();
    for i in 0..3 {
        let st = w.join(format!("m{i}"));
        coopbench(w, &["keygen", "--state-dir", s(&st)]).expect_code(0);
        pubkeys.push(
            std::fs::read_to_string(st.join("member.pub"))
                .unwrap()
                .trim()
                .to_string(),
        );
    }
    std::fs::write(w.join("sales.csv"), fixture::sales()).unwrap();
    std::fs::write(w.join("costs.csv"), fixture::costs()).unwrap();

    // The association's pool: its name and purpose are hostile.
    let init = aggregator(
        w,
        &[
            "pool",
            "init",
            "--dir",
            "pool",
            "--id",
            "bakeries",
            "--name",
            HOSTILE,
            "--purpose",
            HOSTILE,
            "--sunset",
            "2029-12-31",
            "--min-members",
            "3",
        ],
    );
    init.expect_code(0);
    assert_clean(&init, "pool init");
    // A label with a bidirectional override is refused, and shown escaped.
    let bad = aggregator(
        w,
        &[
            "pool",
            "add-member",
            "--dir",
            "pool",
            "Bakery \u{202e}nesnaJ",
            &pubkeys[0],
        ],
    );
    bad.expect_code(2);
    assert_clean(&bad, "pool add-member with a hostile label");
    assert!(bad.stderr.contains("\\u{202e}"), "{}", bad.stderr);
    for (i, k) in pubkeys.iter().enumerate() {
        aggregator(
            w,
            &[
                "pool",
                "add-member",
                "--dir",
                "pool",
                &format!("Bakery {i}"),
                k,
            ],
        )
        .expect_code(0);
    }
    aggregator(w, &["pool", "sign", "--dir", "pool"]).expect_code(0);
    assert_shown(
        &aggregator(w, &["pool", "show", "--dir", "pool"]),
        "pool show",
    );

    // The round: hostile purpose and revenue description, three members.
    let mut round = fixture::example_round();
    round.purpose = HOSTILE.into();
    round.min_members = 3;
    round.min_members_total = 3;
    round.metrics[0].description = HOSTILE.into();
    std::fs::write(w.join("round.toml"), toml::to_string(&round).unwrap()).unwrap();
    assert_shown(
        &aggregator(
            w,
            &["round", "new", "--dir", "pool", "--from", "round.toml"],
        ),
        "round new",
    );
    let preview = aggregator(
        w,
        &[
            "round",
            "preview",
            "--dir",
            "pool",
            "2025q4",
            "--expected-members",
            "3",
        ],
    );
    preview.expect_code(0);
    assert_shown(&preview, "round preview");
    let sign = aggregator(w, &["round", "sign", "--dir", "pool", "2025q4"]);
    sign.expect_code(0);
    assert_shown(&sign, "round sign");

    // Each member joins, plans and exports.
    std::fs::create_dir_all(w.join("inbox")).unwrap();
    for i in 0..3 {
        let st = w.join(format!("m{i}"));
        let join = coopbench(
            w,
            &["join", "--yes", "pool/pool.sig.json", "--state-dir", s(&st)],
        );
        join.expect_code(0);
        assert_shown(&join, "join");
        let plan = coopbench(
            w,
            &[
                "plan",
                "--round",
                "pool/rounds/2025q4.sig.json",
                "sales.csv",
                "costs.csv",
                "--state-dir",
                s(&st),
            ],
        );
        plan.expect_code(0);
        assert_shown(&plan, "plan");
        let export = coopbench(
            w,
            &[
                "export",
                "--round",
                "pool/rounds/2025q4.sig.json",
                "sales.csv",
                "costs.csv",
                "-o",
                &format!("inbox/member-{i}.json"),
                "--state-dir",
                s(&st),
            ],
        );
        export.expect_code(0);
        assert_shown(&export, "export");
        let ledger = coopbench(w, &["ledger", "--state-dir", s(&st)]);
        ledger.expect_code(0);
        assert_clean(&ledger, "ledger");
    }
    // A file whose name clears the screen, dropped into the inbox.
    std::fs::write(
        w.join("inbox/junk\u{1b}[2J\u{9b}H.json"),
        "not a contribution",
    )
    .unwrap();

    let merge = aggregator(
        w,
        &[
            "merge",
            "--pool",
            "pool/pool.sig.json",
            "--round",
            "pool/rounds/2025q4.sig.json",
            "inbox",
            "--out",
            "bench",
        ],
    );
    merge.expect_code(0);
    assert_shown(&merge, "merge");
    assert!(
        merge
            .stdout
            .contains("rejected inbox/junk\\u{1b}[2J\\u{9b}H.json"),
        "{}",
        merge.stdout
    );
    let inspect = aggregator(w, &["inspect", "bench"]);
    inspect.expect_code(0);
    assert_shown(&inspect, "inspect");

    let compare = coopbench(
        w,
        &[
            "compare",
            "--benchmarks",
            "bench",
            "sales.csv",
            "costs.csv",
            "--state-dir",
            s(&w.join("m0")),
        ],
    );
    compare.expect_code(0);
    assert_shown(&compare, "compare");
    let json = coopbench(
        w,
        &[
            "compare",
            "--benchmarks",
            "bench",
            "--format",
            "json",
            "sales.csv",
            "costs.csv",
            "--state-dir",
            s(&w.join("m0")),
        ],
    );
    json.expect_code(0);
    assert_clean(&json, "compare --format json");
    let doc: serde_json::Value =
        serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", json.stdout));
    assert!(
        doc.to_string().contains('\u{9b}'),
        "the JSON still carries the text, escaped: {}",
        json.stdout
    );

    // A CSV header that tries the same: validate's report shows it escaped.
    let csv = fixture::sales().replacen("receipt_id", "receipt_id,x\u{1b}[2J\u{202e}", 1);
    std::fs::write(w.join("hostile-sales.csv"), csv).unwrap();
    let v = coopbench(w, &["validate", "hostile-sales.csv"]);
    v.expect_code(1);
    assert_clean(&v, "validate");
    assert!(v.stdout.contains("x\\u{1b}[2J\\u{202e}"), "{}", v.stdout);
}

#[test]
fn the_date_override_moves_round_windows_only_never_the_ledger() {
    let m = Member::new();
    // A one-day policy window: an export stamped with the override date
    // (2026-04-02, long before the machine's clock) would fall out of it.
    m.run(&["policy", "set", "--max-rho", "1.5", "--window-days", "1"])
        .expect_code(0);
    let old_day = [("COOPBENCH_TODAY", "2026-04-02")];
    let first = m.run_env(
        &[
            "export",
            "--round",
            "round.sig.json",
            "sales.csv",
            "costs.csv",
            "-o",
            "c1.json",
        ],
        &old_day,
    );
    first.expect_code(0);
    assert!(
        first
            .stderr
            .contains("COOPBENCH_TODAY=2026-04-02: round windows are checked as of that day"),
        "{}",
        first.stderr
    );
    let lines = m.ledger_lines();
    assert_eq!(lines.len(), 1);
    let at = lines[0]["at"].as_str().unwrap();
    assert!(
        !at.starts_with("2026-04-02"),
        "stamped with the override: {at}"
    );

    // The ledger, read with the real clock, counts it in the last day.
    let ledger = m.run(&["ledger"]);
    ledger.expect_code(0);
    assert!(
        ledger
            .stdout
            .contains("Spent in the last 1 days: rho 1 of your cap 1.5"),
        "{}",
        ledger.stdout
    );

    // A second round, answered later (the override now says 2026-11-23): the
    // policy counts the first export and refuses (1 + 1 > 1.5); nothing is
    // charged.
    let mut second = fixture::example_round();
    second.id = "2025q4b".into();
    m.write_round(&second, &m.association);
    let run = m.run(&[
        "export",
        "--round",
        "round.sig.json",
        "sales.csv",
        "costs.csv",
        "-o",
        "c2.json",
    ]);
    run.expect_code(1);
    assert!(run.stderr.contains("policy refuses"), "{}", run.stderr);
    assert_eq!(m.ledger_lines().len(), 1);
}

/// Runs export on `m` and asserts a refusal naming `expect`, with the ledger
/// and the output untouched.
fn refused_before_charge(m: &Member, expect: &str) {
    let before = std::fs::read(m.state().join("ledger.jsonl")).ok();
    let run = m.export(&[]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(expect),
        "expected {expect:?} in:\n{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(m.state().join("ledger.jsonl")).ok(),
        before,
        "a refusal changed the ledger"
    );
    assert!(!m.dir.path().join("contribution.json").exists());
}

#[test]
fn every_data_dependent_refusal_comes_before_the_charge() {
    // A NaN amount (Table Schema allows it). INF amounts and sums past f64
    // saturate and are clipped like any large figure (as validate accepts
    // them), so they are no refusal.
    let m = Member::new();
    m.dir
        .write("sales.csv", fixture::sales().replacen("403.25", "NaN", 1));
    refused_before_charge(&m, "not a number");

    // σ too large for the cells: clip bounds of 4e18 and ρ = 5,000 on revenue
    // give σ ≈ 1.7e17, and 4e18 + 40σ does not fit in 64 bits. The member's
    // own values are small, so only a check on the bounds sees it.
    let m = Member::with_round(|r| {
        r.metrics[0].clip = Some(Clip { lo: 0.0, hi: 4e18 });
        r.rho = 5000.0 * 8.0 / 3.0;
    });
    m.run(&["policy", "set", "--max-rho", "1000000"])
        .expect_code(0);
    refused_before_charge(&m, "does not fit in 64-bit cells");

    // ρ so small that no noise of that scale fits in 64 bits at all.
    let m = Member::with_round(|r| r.rho = 1e-40);
    refused_before_charge(&m, "too large for 64-bit cells");

    // Another currency than the round's.
    let m = Member::new();
    m.dir.write(
        "sales.csv",
        fixture::sales().replace("EUR,R1-2-17", "USD,R1-2-17"),
    );
    refused_before_charge(&m, "amounts in USD");
}

/// The `[two_server]` block a fresh helper prints (`helper keygen`).
fn helper_block(cwd: &Path, name: &str, n_min: u32, t: u32) -> TwoServer {
    let dir = cwd.join(format!("helper-{name}"));
    let r = aggregator(
        cwd,
        &[
            "helper",
            "keygen",
            "--dir",
            s(&dir),
            "--name",
            "Smith & Co",
            "--n-min",
            &n_min.to_string(),
            "--t",
            &t.to_string(),
        ],
    );
    r.expect_code(0);
    let block: toml::Value = toml::from_str(&r.stdout).unwrap();
    block["two_server"].clone().try_into().unwrap()
}

/// Two-server rounds that must never be answered: refused by the
/// association's `round new` and by the member's `export`, before anything
/// is written or charged, each with its reason.
#[test]
fn unsafe_two_server_rounds_are_refused_by_both_clis() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    aggregator(
        w,
        &[
            "pool",
            "init",
            "--dir",
            "pool",
            "--id",
            "bakeries",
            "--name",
            "Bakeries",
            "--purpose",
            "Benchmarks",
            "--sunset",
            "2029-12-31",
        ],
    )
    .expect_code(0);
    aggregator(w, &["pool", "sign", "--dir", "pool"]).expect_code(0);
    let assoc =
        SigningKey::from_pkcs8(&std::fs::read(w.join("pool/association.key")).unwrap()).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;

    let good = helper_block(w, "good", 6, 2);
    let other = helper_block(w, "other", 6, 2);
    // The HPKE key of one helper with another helper's signature: not signed
    // by the signing key the round names (someone else's key slipped in).
    let mut unsigned = good.clone();
    unsigned.helper_hpke_key_signature = other.helper_hpke_key_signature.clone();
    // The association as its own "helper": it signs the HPKE key itself.
    let mut own = good.clone();
    let hpke: [u8; 32] = b64
        .decode(&own.helper_hpke_key)
        .unwrap()
        .try_into()
        .unwrap();
    own.helper_signing_key = assoc.public().to_base64();
    own.helper_hpke_key_signature = b64.encode(assoc.sign(&hpke_key_message(&hpke)));
    // 30 parties on 0/1 histogram cells: σ_m ≈ 0.52, the sum of shares is far
    // from one discrete Gaussian (slack); 40 parties: σ_m < 1/2 (the active
    // metric then gets scale 16, so that it is the histograms that fail).
    let slack = helper_block(w, "slack", 30, 0);
    let tiny = helper_block(w, "tiny", 40, 0);
    let cases: [(&str, TwoServer, &str); 4] = [
        (
            "unsigned",
            unsigned,
            "is not signed by the helper's signing key",
        ),
        ("own-key", own, "signs with the association's own key"),
        ("slack", slack, "slack"),
        ("tiny", tiny, "below the 1/2"),
    ];
    for (name, block, expect) in cases {
        let mut round = fixture::example_round();
        round.id = format!("2025q4-{name}");
        round.mode = Mode::TwoServer;
        round.two_server = Some(block.clone());
        let fine_active = |r: &mut coopbench_protocol::Round| {
            if name == "tiny" {
                r.metrics[1].scale = 16.0;
            }
        };
        fine_active(&mut round);
        let template = w.join(format!("{name}.toml"));
        std::fs::write(&template, toml::to_string(&round).unwrap()).unwrap();
        let r = aggregator(
            w,
            &["round", "new", "--dir", "pool", "--from", s(&template)],
        );
        r.expect_code(1);
        assert!(r.stderr.contains(expect), "round new, {name}: {}", r.stderr);
        assert!(!w.join(format!("pool/rounds/2025q4-{name}.toml")).exists());

        // A member handed such a round (signed by its association).
        let m = Member::with_round(|r| {
            r.mode = Mode::TwoServer;
            r.two_server = Some(block.clone());
            fine_active(r);
        });
        if name == "own-key" {
            // The member's association signs as the "helper".
            let mut r2 = fixture::example_round();
            let mut b = block.clone();
            b.helper_signing_key = m.association.public().to_base64();
            b.helper_hpke_key_signature = b64.encode(m.association.sign(&hpke_key_message(&hpke)));
            r2.mode = Mode::TwoServer;
            r2.two_server = Some(b);
            m.write_round(&r2, &m.association);
        }
        refused_before_charge(&m, expect);
    }
}

/// `tag.key` keys the local "same data" tags: a copy others can read is
/// refused like a readable member key, before anything is charged.
#[cfg(unix)]
#[test]
fn a_tag_key_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let m = Member::new();
    m.export(&[]).expect_code(0);
    let tag = m.state().join("tag.key");
    std::fs::set_permissions(&tag, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::remove_file(m.dir.path().join("contribution.json")).unwrap();
    let before = std::fs::read(m.state().join("ledger.jsonl")).unwrap();
    let run = m.export(&[]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("tag.key") && run.stderr.contains("chmod 600"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(m.state().join("ledger.jsonl")).unwrap(),
        before
    );
    assert!(!m.dir.path().join("contribution.json").exists());
}
