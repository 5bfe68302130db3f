//! The association's pool and round commands, driven through the binary as
//! an association would, then a merge of contributions to the round they
//! signed and `inspect` of the result.

use crate::common::association::{run_str, Run};
use base64::Engine as _;
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{Envelope, Pool, Round, SigningKey};
use coopbench_testkit::EXAMPLE_ROUND_TOML;
use std::path::Path;

fn agg(cwd: &Path, args: &[&str]) -> Run {
    run_str(cwd, args, &[])
}

fn init(cwd: &Path) -> Run {
    agg(
        cwd,
        &[
            "pool",
            "init",
            "--dir",
            "pool",
            "--id",
            "bakeries",
            "--name",
            "Independent Bakeries",
            "--purpose",
            "Benchmarks for independent bakeries.",
            "--sunset",
            "2029-12-31",
        ],
    )
}

#[test]
fn pool_init_add_remove_sign_show() {
    let d = tempfile::tempdir().unwrap();
    let cwd = d.path();
    let run = init(cwd);
    run.expect(0);
    assert!(
        run.stdout.contains("association key fingerprint"),
        "{}",
        run.stdout
    );
    let key = cwd.join("pool/association.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let secret = std::fs::read(&key).unwrap();
    let association = SigningKey::from_pkcs8(&secret).unwrap();
    let text = std::fs::read_to_string(cwd.join("pool/pool.toml")).unwrap();
    let first = text
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .unwrap();
    assert!(first.starts_with("purpose = "), "purpose first: {text}");
    let pool: Pool = toml::from_str(&text).unwrap();
    assert_eq!(pool.association_key, association.public().to_base64());
    assert_eq!(pool.policy.min_members, 5);
    assert_eq!(pool.policy.min_data_age_days, 90);

    // Never overwritten.
    let again = init(cwd);
    again.expect(1);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(std::fs::read(&key).unwrap(), secret);

    // Floors and ids are checked.
    let bad = agg(
        cwd,
        &[
            "pool",
            "init",
            "--dir",
            "pool2",
            "--id",
            "../x",
            "--name",
            "N",
            "--purpose",
            "P",
            "--sunset",
            "2029-12-31",
            "--min-members",
            "2",
        ],
    );
    bad.expect(1);
    assert!(
        bad.stderr.contains("pool id '../x'") && bad.stderr.contains("floor is 3"),
        "{}",
        bad.stderr
    );
    assert!(!cwd.join("pool2/association.key").exists());

    // Members.
    let m1 = SigningKey::generate().unwrap().public();
    let m2 = SigningKey::generate().unwrap().public();
    agg(
        cwd,
        &[
            "pool",
            "add-member",
            "--dir",
            "pool",
            "Bakery Jansen",
            &m1.to_base64(),
        ],
    )
    .expect(0);
    let run = agg(
        cwd,
        &[
            "pool",
            "add-member",
            "--dir",
            "pool",
            "Bakker Bart",
            &m2.to_base64(),
        ],
    );
    run.expect(0);
    assert!(run.stdout.contains(&m2.fingerprint()), "{}", run.stdout);
    let dup = agg(
        cwd,
        &[
            "pool",
            "add-member",
            "--dir",
            "pool",
            "Someone else",
            &m1.to_base64(),
        ],
    );
    dup.expect(1);
    assert!(
        dup.stderr
            .contains("already on the roster as 'Bakery Jansen'"),
        "{}",
        dup.stderr
    );
    let dup = agg(
        cwd,
        &[
            "pool",
            "add-member",
            "--dir",
            "pool",
            "Bakery Jansen",
            &SigningKey::generate().unwrap().public().to_base64(),
        ],
    );
    dup.expect(1);
    agg(
        cwd,
        &["pool", "add-member", "--dir", "pool", "X", "not-a-key"],
    )
    .expect(2);

    // Show before signing.
    let show = agg(cwd, &["pool", "show", "--dir", "pool"]);
    show.expect(0);
    assert!(
        show.stdout
            .starts_with("Purpose: Benchmarks for independent bakeries."),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("Sunset: 2029-12-31"));
    assert!(show.stdout.contains("not yet: run `pool sign`"));
    assert!(show.stdout.contains("Bakery Jansen") && show.stdout.contains(&m1.fingerprint()));
    assert!(show.stdout.contains(&association.public().fingerprint()));

    // Sign: verifies with the association key.
    agg(cwd, &["pool", "sign", "--dir", "pool"]).expect(0);
    let env = Envelope::from_json(&std::fs::read(cwd.join("pool/pool.sig.json")).unwrap()).unwrap();
    let v: Verified<Pool> = signed::verify(&env, &association.public()).unwrap();
    assert_eq!(v.doc.roster.len(), 2);
    // Labels stay in pool.toml: members (competitors) and the helper get keys only.
    assert!(v.doc.roster.iter().all(|m| m.label.is_empty()));
    let signed_text = std::fs::read_to_string(cwd.join("pool/pool.sig.json")).unwrap();
    assert!(
        !String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(&env.payload)
                .unwrap()
        )
        .unwrap()
        .contains("Bakery Jansen")
            && !signed_text.contains("label"),
        "a label reached pool.sig.json"
    );
    let toml_text = std::fs::read_to_string(cwd.join("pool/pool.toml")).unwrap();
    assert!(toml_text.contains("Bakery Jansen"), "{toml_text}");
    assert!(agg(cwd, &["pool", "show", "--dir", "pool"])
        .stdout
        .contains("pool.sig.json is current"));

    // Remove by fingerprint, then by label; the signature is stale until re-signed.
    agg(
        cwd,
        &["pool", "remove-member", "--dir", "pool", &m2.fingerprint()],
    )
    .expect(0);
    assert!(agg(cwd, &["pool", "show", "--dir", "pool"])
        .stdout
        .contains("OUT OF DATE"));
    agg(cwd, &["pool", "remove-member", "--dir", "pool", "nobody"]).expect(1);
    agg(
        cwd,
        &["pool", "remove-member", "--dir", "pool", "Bakery Jansen"],
    )
    .expect(0);
    let pool: Pool =
        toml::from_str(&std::fs::read_to_string(cwd.join("pool/pool.toml")).unwrap()).unwrap();
    assert!(pool.roster.is_empty());

    // A key others can read is refused for signing: a usage/configuration
    // error (exit 2), as in the member's tool.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let run = agg(cwd, &["pool", "sign", "--dir", "pool"]);
        run.expect(2);
        assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
    }
}

/// A pool directory with the example round's pool id, 12 members, signed.
fn signed_pool(cwd: &Path, members: &[SigningKey]) {
    init(cwd).expect(0);
    for (i, k) in members.iter().enumerate() {
        agg(
            cwd,
            &[
                "pool",
                "add-member",
                "--dir",
                "pool",
                &format!("Bakery {i}"),
                &k.public().to_base64(),
            ],
        )
        .expect(0);
    }
    agg(cwd, &["pool", "sign", "--dir", "pool"]).expect(0);
}

fn template(cwd: &Path, name: &str, edit: impl Fn(String) -> String) -> String {
    let p = cwd.join(name);
    std::fs::write(&p, edit(EXAMPLE_ROUND_TOML.to_string())).unwrap();
    p.display().to_string()
}

#[test]
fn round_new_refuses_what_the_guardrails_forbid() {
    let d = tempfile::tempdir().unwrap();
    let cwd = d.path();
    signed_pool(cwd, &[]);
    type Case = (
        &'static str,
        Box<dyn Fn(String) -> String>,
        Vec<(&'static str, &'static str)>,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "future",
            Box::new(|t| t),
            vec![("COOPBENCH_TODAY", "2025-12-01")],
            "which is not in the past",
        ),
        (
            "sunset",
            Box::new(|t| {
                t.replace("opens = \"2026-04-01\"", "opens = \"2030-01-02\"")
                    .replace("closes = \"2026-12-31\"", "closes = \"2030-12-31\"")
            }),
            vec![],
            "after the pool's sunset",
        ),
        (
            "young",
            Box::new(|t| t.replace("opens = \"2026-04-01\"", "opens = \"2026-01-15\"")),
            vec![],
            "data must be at least 90 days old",
        ),
        (
            "floor",
            Box::new(|t| t.replace("min_members = 5", "min_members = 2")),
            vec![],
            "the floor is 3",
        ),
        (
            "purpose",
            Box::new(|t| {
                let start = t.find("purpose = ").unwrap();
                let end = start + t[start..].find('\n').unwrap();
                format!("{}purpose = \"  \"{}", &t[..start], &t[end..])
            }),
            vec![],
            "no purpose",
        ),
        (
            "shareable",
            Box::new(|t| {
                t.replace(
                    "filter = [{ field = \"cost_type\", values = [\"rent\"] }]",
                    "filter = [{ field = \"supplier\", values = [\"Landlord\"] }]",
                )
            }),
            vec![],
            "marks not shareable",
        ),
        (
            "window-closed",
            Box::new(|t| t),
            vec![("COOPBENCH_TODAY", "2027-01-02")],
            "its export window closed on 2026-12-31",
        ),
        (
            "window-closing",
            Box::new(|t| t),
            vec![("COOPBENCH_TODAY", "2026-12-27")],
            "5 day(s) from today counted inclusively: members need at least 7 days",
        ),
        (
            "above-default-cap",
            Box::new(|t| t.replace("rho = 1.0", "rho = 2.5")),
            vec![],
            "above the default member cap of rho = 2 per 365 days",
        ),
        (
            "hostile",
            Box::new(|t| t.replace("id = \"2025q4\"", "id = \"../evil\"")),
            vec![],
            "round id '../evil'",
        ),
        (
            // Repeated dims: 6^30 cells pass 2^64; refused, not an overflow panic.
            "repeated-dims",
            Box::new(|t| {
                t.replacen(
                    "dims = [\"month\", \"category\"]",
                    &format!("dims = [{}]", vec!["\"category\""; 30].join(", ")),
                    1,
                )
            }),
            vec![],
            "more than 2^64 cells",
        ),
    ];
    for (name, edit, env, needle) in cases {
        let t = template(cwd, &format!("{name}.toml"), edit);
        let run = run_str(cwd, &["round", "new", "--dir", "pool", "--from", &t], &env);
        assert_eq!(run.code, 1, "{name}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(needle), "{name}: {}", run.stderr);
        assert!(
            !cwd.join("pool/rounds").exists()
                || std::fs::read_dir(cwd.join("pool/rounds"))
                    .unwrap()
                    .next()
                    .is_none(),
            "{name} wrote a round"
        );
    }
    assert!(!cwd.join("evil.toml").exists() && !cwd.join("pool/evil.toml").exists());
    // A template that is not a round.
    let t = template(cwd, "garbage.toml", |_| "this is = not [a round".into());
    agg(cwd, &["round", "new", "--dir", "pool", "--from", &t]).expect(2);
}

#[test]
fn round_new_preview_sign_then_merge_and_inspect() {
    let d = tempfile::tempdir().unwrap();
    let cwd = d.path();
    let members: Vec<SigningKey> = (0..12).map(|_| SigningKey::generate().unwrap()).collect();
    signed_pool(cwd, &members);
    let t = template(cwd, "2025q4.toml", |t| t);
    let run = agg(cwd, &["round", "new", "--dir", "pool", "--from", &t]);
    run.expect(0);
    assert!(
        run.stdout.contains("metric 'costs' has no active metric"),
        "{}",
        run.stdout
    );
    let stored = std::fs::read_to_string(cwd.join("pool/rounds/2025q4.toml")).unwrap();
    assert_eq!(
        stored, EXAMPLE_ROUND_TOML,
        "the template is kept as written, comments included"
    );
    let again = agg(cwd, &["round", "new", "--dir", "pool", "--from", &t]);
    again.expect(1);
    assert!(
        again.stderr.contains("never overwrites"),
        "{}",
        again.stderr
    );

    // Preview: accuracy and suppression per metric.
    let pv = agg(
        cwd,
        &[
            "round",
            "preview",
            "--dir",
            "pool",
            "2025q4",
            "--expected-members",
            "30",
        ],
    );
    pv.expect(0);
    for needle in [
        "Preview with 30 contributions",
        "revenue [sum]",
        "each cell's noise (95%): local",
        "Recommended mode:",
        "gross_margin [ratio]",
        "costs [sum]",
        "no active metric over the same dimensions",
    ] {
        assert!(pv.stdout.contains(needle), "{needle}:\n{}", pv.stdout);
    }
    // The suppression share of revenue: P(30 + noise < 5) with the active
    // metric's merged sd (normal approximation, continuity-corrected).
    let round_doc: Round = toml::from_str(EXAMPLE_ROUND_TOML).unwrap();
    let plans = coopbench_privacy::plan::noise_plans(&round_doc).unwrap();
    let share = |run: &Run| -> f64 {
        let line = run
            .stdout
            .lines()
            .skip_while(|l| !l.starts_with("revenue [sum]"))
            .find(|l| l.contains("cells likely suppressed"))
            .unwrap()
            .to_string();
        line.split(": ")
            .nth(1)
            .unwrap()
            .split('%')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let sd = plans[1].sigma * 30f64.sqrt();
    let want = 100.0 * coopbench_privacy::accuracy::normal_cdf((5.0 - 0.5 - 30.0) / sd);
    assert!((share(&pv) - want).abs() < 0.06, "{} vs {want}", share(&pv));
    // Fewer active members per cell: more suppression.
    let sparse = agg(
        cwd,
        &[
            "round",
            "preview",
            "--dir",
            "pool",
            "2025q4",
            "--expected-members",
            "30",
            "--active-share",
            "0.15",
        ],
    );
    sparse.expect(0);
    assert!(share(&sparse) > share(&pv) + 5.0, "{}", sparse.stdout);
    // Many members: nearly nothing suppressed.
    let many = agg(
        cwd,
        &[
            "round",
            "preview",
            "--dir",
            "pool",
            "2025q4",
            "--expected-members",
            "5000",
        ],
    );
    assert!(share(&many) < share(&pv), "{}", many.stdout);
    agg(
        cwd,
        &[
            "round",
            "preview",
            "--dir",
            "pool",
            "../x",
            "--expected-members",
            "3",
        ],
    )
    .expect(1);
    agg(
        cwd,
        &[
            "round",
            "preview",
            "--dir",
            "pool",
            "nope",
            "--expected-members",
            "3",
        ],
    )
    .expect(2);

    // Sign needs a current signed pool.
    let late = SigningKey::generate().unwrap();
    agg(
        cwd,
        &[
            "pool",
            "add-member",
            "--dir",
            "pool",
            "Late",
            &late.public().to_base64(),
        ],
    )
    .expect(0);
    let run = agg(cwd, &["round", "sign", "--dir", "pool", "2025q4"]);
    run.expect(1);
    assert!(run.stderr.contains("run `pool sign"), "{}", run.stderr);
    agg(cwd, &["pool", "remove-member", "--dir", "pool", "Late"]).expect(0);
    agg(cwd, &["round", "sign", "--dir", "pool", "2025q4"]).expect(0);
    let bytes = std::fs::read(cwd.join("pool/rounds/2025q4.sig.json")).unwrap();
    let association =
        SigningKey::from_pkcs8(&std::fs::read(cwd.join("pool/association.key")).unwrap()).unwrap();
    let round: Verified<Round> =
        signed::verify(&Envelope::from_json(&bytes).unwrap(), &association.public()).unwrap();
    assert_eq!(round.doc.id, "2025q4");
    // Signing again is a no-op; a changed round under the same id is refused.
    agg(cwd, &["round", "sign", "--dir", "pool", "2025q4"]).expect(0);
    std::fs::write(
        cwd.join("pool/rounds/2025q4.toml"),
        EXAMPLE_ROUND_TOML.replace("rho = 1.0", "rho = 0.5"),
    )
    .unwrap();
    let run = agg(cwd, &["round", "sign", "--dir", "pool", "2025q4"]);
    run.expect(1);
    assert!(
        run.stderr.contains("different signed version"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(cwd.join("pool/rounds/2025q4.sig.json")).unwrap(),
        bytes
    );
    // Re-checked at signing: a period that is not over yet.
    std::fs::write(cwd.join("pool/rounds/2025q4.toml"), EXAMPLE_ROUND_TOML).unwrap();
    let run = run_str(
        cwd,
        &["round", "sign", "--dir", "pool", "2025q4"],
        &[("COOPBENCH_TODAY", "2025-12-30")],
    );
    run.expect(1);

    // Members answer; the association merges and inspects.
    let plans = coopbench_privacy::plan::noise_plans(&round.doc).unwrap();
    std::fs::create_dir_all(cwd.join("in")).unwrap();
    for (i, k) in members.iter().enumerate() {
        let mut values: Vec<Vec<i64>> = round
            .doc
            .metrics
            .iter()
            .map(|m| {
                vec![
                    if m.kind == coopbench_protocol::round::Kind::Ratio {
                        0
                    } else {
                        1
                    };
                    coopbench_protocol::round::cell_count(&round.doc.grid(m))
                ]
            })
            .collect();
        // Revenue: 100 per cell; the last cell has 2 active members only.
        values[0] = vec![100; 18];
        values[1][17] = i64::from(i < 2);
        values[3][10] = 1;
        values[4][2] = 1;
        values[5][5] = 1;
        let c = coopbench_protocol::Contribution {
            round_id: round.doc.id.clone(),
            round_hash: round.hash.clone(),
            pool_id: round.doc.pool_id.clone(),
            member_key_id: k.public().key_id(),
            toolkit_version: coopbench_protocol::TOOLKIT_VERSION.into(),
            sequence: 1,
            mode: round.doc.mode,
            metrics: round
                .doc
                .metrics
                .iter()
                .zip(&plans)
                .zip(values)
                .map(|((m, p), values)| coopbench_protocol::MetricValues {
                    name: m.name.clone(),
                    grid: round.doc.grid(m),
                    values,
                    noise: coopbench_protocol::NoiseParams {
                        mechanism: "discrete_gaussian".into(),
                        sigma: p.sigma,
                        rho: p.rho,
                        l2_sensitivity: p.l2,
                        scale: p.scale,
                    },
                })
                .collect(),
            sealed_seed: None,
        };
        std::fs::write(
            cwd.join(format!("in/member-{i}.json")),
            signed::sign(&c, k).to_json(),
        )
        .unwrap();
    }
    let run = agg(
        cwd,
        &[
            "merge",
            "--pool",
            "pool/pool.sig.json",
            "--round",
            "pool/rounds/2025q4.sig.json",
            "in",
            "--out",
            "bench",
        ],
    );
    run.expect(0);
    assert!(
        run.stdout.contains("12 files: 12 accepted"),
        "{}",
        run.stdout
    );
    assert!(cwd.join("bench/revenue/round=2025q4/data.parquet").exists());

    let ins = agg(cwd, &["inspect", "bench"]);
    ins.expect(0);
    for needle in [
        "Purpose: Quarterly benchmark for independent bakeries",
        "Contributions: 12 accepted of 12 files.",
        "rho = 1 per member",
        "revenue [sum] net sales, EUR: 18 rows, 1 suppressed",
        "suppressed (< 5 members)",
        "2025-10  bread",
        // 12 members' 100 per cell, against local noise of sd ~800,000 EUR:
        // the estimate is never shown as a number.
        "too noisy",
        "gross_margin [ratio]",
        "median",
    ] {
        assert!(ins.stdout.contains(needle), "{needle}:\n{}", ins.stdout);
    }
    let sup = ins
        .stdout
        .lines()
        .find(|l| l.contains("suppressed (< 5 members)"))
        .unwrap();
    assert!(sup.contains("2025-12") && sup.contains("other"), "{sup}");
    // Table columns line up: every revenue row has the estimate at the same offset.
    let rows: Vec<&str> = ins
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("revenue [sum]"))
        .skip(3)
        .take(17)
        .collect();
    let col = rows[0].find("too noisy").unwrap();
    assert!(
        rows.iter().all(|r| r.find("too noisy") == Some(col)),
        "{rows:#?}"
    );
    assert!(
        !rows.iter().any(|r| r.contains("1,200")),
        "a figure too noisy to read never reads like data: {rows:#?}"
    );
    agg(cwd, &["inspect", "bench", "--round", "../x"]).expect(2);
    agg(cwd, &["inspect", "bench", "--round", "2024q1"]).expect(2);
    agg(cwd, &["inspect", "nowhere"]).expect(2);
}

#[test]
fn help_teaches_with_examples() {
    let d = tempfile::tempdir().unwrap();
    let top = agg(d.path(), &["--help"]);
    top.expect(0);
    assert!(
        top.stdout.contains("pool init") && top.stdout.contains("merge --pool"),
        "{}",
        top.stdout
    );
    for cmd in [
        vec!["pool", "init"],
        vec!["pool", "add-member"],
        vec!["pool", "remove-member"],
        vec!["pool", "sign"],
        vec!["pool", "show"],
        vec!["round", "new"],
        vec!["round", "preview"],
        vec!["round", "sign"],
        vec!["merge"],
        vec!["inspect"],
        vec!["helper", "keygen"],
        vec!["helper", "sum"],
    ] {
        let mut args = cmd.clone();
        args.push("--help");
        let h = agg(d.path(), &args);
        h.expect(0);
        assert!(h.stdout.contains("Example:"), "{cmd:?}:\n{}", h.stdout);
        assert!(
            h.stdout
                .contains(&format!("coopbench-aggregator {}", cmd.join(" "))),
            "{cmd:?}:\n{}",
            h.stdout
        );
    }
    agg(d.path(), &["frobnicate"]).expect(2);
}

#[test]
fn a_round_above_the_members_default_cap_needs_the_flag_at_new_and_at_sign() {
    let d = tempfile::tempdir().unwrap();
    let cwd = d.path();
    signed_pool(cwd, &[]);
    let t = template(cwd, "greedy.toml", |t| t.replace("rho = 1.0", "rho = 2.5"));
    let new = ["round", "new", "--dir", "pool", "--from", &t];
    agg(cwd, &new).expect(1);
    let mut allowed = new.to_vec();
    allowed.push("--allow-above-default-cap");
    agg(cwd, &allowed).expect(0);
    // Signing checks again: the flag is needed there too.
    let sign = agg(cwd, &["round", "sign", "--dir", "pool", "2025q4"]);
    sign.expect(1);
    assert!(
        sign.stderr.contains("above the default member cap"),
        "{}",
        sign.stderr
    );
    assert!(!cwd.join("pool/rounds/2025q4.sig.json").exists());
    agg(
        cwd,
        &[
            "round",
            "sign",
            "--dir",
            "pool",
            "2025q4",
            "--allow-above-default-cap",
        ],
    )
    .expect(0);
    assert!(cwd.join("pool/rounds/2025q4.sig.json").exists());
}

#[test]
fn a_round_whose_window_closed_since_it_was_created_is_not_signed() {
    let d = tempfile::tempdir().unwrap();
    let cwd = d.path();
    signed_pool(cwd, &[]);
    let t = template(cwd, "late.toml", |t| t);
    let on = |day: &'static str| vec![("COOPBENCH_TODAY", day)];
    run_str(
        cwd,
        &["round", "new", "--dir", "pool", "--from", &t],
        &on("2026-11-23"),
    )
    .expect(0);
    let sign = run_str(
        cwd,
        &["round", "sign", "--dir", "pool", "2025q4"],
        &on("2027-01-05"),
    );
    sign.expect(1);
    assert!(
        sign.stderr.contains("closed on 2026-12-31"),
        "{}",
        sign.stderr
    );
    assert!(!cwd.join("pool/rounds/2025q4.sig.json").exists());
}
