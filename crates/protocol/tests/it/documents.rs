//! Pool, round and contribution documents: the bundled round parses and is
//! well formed, hashes are over the signed bytes, and every kind of forgery
//! is rejected with its own error.

use coopbench_protocol::round::{Kind, Mode};
use coopbench_protocol::signed::{self, Verified};
use coopbench_protocol::{
    guardrails, Contribution, Date, Envelope, MetricValues, NoiseParams, Pool, PoolPolicy, Round,
    SigningKey, VerifyError,
};

fn round() -> Round {
    coopbench_testkit::example_round()
}

fn pool(key: &SigningKey) -> Pool {
    Pool {
        purpose: "Benchmarks.".into(),
        id: "bakeries".into(),
        name: "Bakeries".into(),
        association_key: key.public().to_base64(),
        sunset: Date::parse("2029-12-31").unwrap(),
        policy: PoolPolicy::default(),
        roster: vec![],
    }
}

fn contribution(r: &Round, hash: &str, member: &SigningKey) -> Contribution {
    Contribution {
        round_id: r.id.clone(),
        round_hash: hash.into(),
        pool_id: r.pool_id.clone(),
        member_key_id: member.public().key_id(),
        toolkit_version: coopbench_protocol::TOOLKIT_VERSION.into(),
        sequence: 1,
        mode: Mode::Local,
        metrics: r
            .metrics
            .iter()
            .map(|m| {
                let grid = r.grid(m);
                MetricValues {
                    name: m.name.clone(),
                    values: vec![0; coopbench_protocol::round::cell_count(&grid)],
                    grid,
                    noise: NoiseParams {
                        mechanism: "discrete_gaussian".into(),
                        sigma: 10.0,
                        rho: 0.1,
                        l2_sensitivity: 1.0,
                        scale: m.scale,
                    },
                }
            })
            .collect(),
        sealed_seed: None,
    }
}

#[test]
fn the_bundled_round_is_well_formed_and_inside_the_guardrails() {
    let r = round();
    assert_eq!(r.problems(), Vec::<String>::new());
    let key = SigningKey::generate().unwrap();
    assert_eq!(
        guardrails::against_pool(&pool(&key), &r),
        Vec::<String>::new()
    );
    assert_eq!(
        guardrails::on_day(&pool(&key), &r, Date::parse("2026-11-23").unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(r.months(), ["2025-10", "2025-11", "2025-12"]);
    let grid = r.grid(r.metric("revenue").unwrap());
    assert_eq!(grid.len(), 2);
    assert_eq!(coopbench_protocol::round::cell_count(&grid), 18);
    let gm = r.metric("gross_margin").unwrap();
    assert_eq!(gm.kind, Kind::Ratio);
    // 20 value bins and the no-value bin.
    assert_eq!(r.grid(gm)[0].labels.len(), 21);
    assert_eq!(r.grid(gm)[0].labels[20], "none");
    assert_eq!(r.grid(gm)[0].labels[1], "0.05");
    // Non-shareable fields are visible to the member-side check.
    assert!(r.fields_used().iter().all(|(_, f)| f != "supplier"));
}

#[test]
fn malformed_rounds_are_described() {
    let mut r = round();
    r.min_members = 2;
    r.rho = -1.0;
    r.period.end = Date::parse("2025-12-30").unwrap();
    r.metrics[0].clip = None;
    r.metrics[1].name = "revenue".into();
    r.mode = Mode::TwoServer;
    let p = r.problems().join("\n");
    for expect in [
        "min_members is 2; the floor is 3",
        "rho must be a positive number",
        "must cover whole months",
        "metric 'revenue': clip bounds (lo, hi) are missing",
        "metric name 'revenue' is used twice",
        "two-server",
    ] {
        assert!(p.contains(expect), "{expect:?} missing from:\n{p}");
    }
}

#[test]
fn the_round_hash_is_the_hash_of_the_signed_bytes_and_is_stable() {
    let key = SigningKey::generate().unwrap();
    let r = round();
    let env = signed::sign(&r, &key);
    let a: Verified<Round> = signed::verify(&env, &key.public()).unwrap();
    let b: Verified<Round> = signed::verify(&signed::sign(&r, &key), &key.public()).unwrap();
    assert_eq!(a.hash, b.hash);
    assert_eq!(a.doc, r);
    // Exactly SHA-256 of the signed payload bytes (the canonical JSON), hex:
    // computed here without the crate's own helper.
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD
        .decode(&env.payload)
        .unwrap();
    assert_eq!(body, coopbench_protocol::canonical_json(&r).unwrap());
    let digest = ring::digest::digest(&ring::digest::SHA256, &body);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(a.hash, hex);
    assert_eq!(a.hash.len(), 64);
    let mut r2 = r.clone();
    r2.rho = 0.9;
    let c: Verified<Round> = signed::verify(&signed::sign(&r2, &key), &key.public()).unwrap();
    assert_ne!(a.hash, c.hash);
}

#[test]
fn a_flipped_byte_is_a_bad_signature() {
    let key = SigningKey::generate().unwrap();
    let env = signed::sign(&round(), &key);
    let mut bytes = env.to_json();
    let at = bytes
        .windows(10)
        .position(|w| w == b"\"payload\":")
        .unwrap()
        + 20;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let tampered = Envelope::from_json(&bytes).unwrap();
    assert_ne!(tampered.payload, env.payload, "the payload was changed");
    // Still valid base64 and a well-formed envelope: only the signature can tell.
    assert_eq!(
        signed::verify::<Round>(&tampered, &key.public()).unwrap_err(),
        VerifyError::BadSignature(key.public().key_id())
    );
    // A flipped bit in the signature itself.
    let mut env2 = env.clone();
    let mut sig = env2.signatures[0].sig.clone().into_bytes();
    sig[5] = if sig[5] == b'A' { b'B' } else { b'A' };
    env2.signatures[0].sig = String::from_utf8(sig).unwrap();
    assert_eq!(
        signed::verify::<Round>(&env2, &key.public()).unwrap_err(),
        VerifyError::BadSignature(key.public().key_id())
    );
}

#[test]
fn a_foreign_key_is_not_the_signer() {
    let key = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    let env = signed::sign(&round(), &other);
    assert_eq!(
        signed::verify::<Round>(&env, &key.public()).unwrap_err(),
        VerifyError::NotSignedBy(key.public().key_id())
    );
    // Someone else's signature relabelled with the expected key id still fails.
    let mut relabelled = env.clone();
    relabelled.signatures[0].keyid = key.public().key_id();
    assert_eq!(
        signed::verify::<Round>(&relabelled, &key.public()).unwrap_err(),
        VerifyError::BadSignature(key.public().key_id())
    );
}

#[test]
fn a_document_of_another_type_is_refused() {
    let key = SigningKey::generate().unwrap();
    let env = signed::sign(&pool(&key), &key);
    assert!(matches!(
        signed::verify::<Round>(&env, &key.public()).unwrap_err(),
        VerifyError::WrongType { .. }
    ));
}

#[test]
fn a_contribution_for_another_round_is_rejected() {
    let assoc = SigningKey::generate().unwrap();
    let member = SigningKey::generate().unwrap();
    let r = round();
    let rv: Verified<Round> = signed::verify(&signed::sign(&r, &assoc), &assoc.public()).unwrap();
    let good = contribution(&r, &rv.hash, &member);
    assert_eq!(good.problems_against(&r, &rv.hash), Vec::<String>::new());
    let env = signed::sign(&good, &member);
    let back: Verified<Contribution> = signed::verify(&env, &member.public()).unwrap();
    assert_eq!(back.doc, good);

    let mut other_round = r.clone();
    other_round.id = "2026q1".into();
    let ov: Verified<Round> =
        signed::verify(&signed::sign(&other_round, &assoc), &assoc.public()).unwrap();
    let stray = contribution(&other_round, &ov.hash, &member);
    let p = stray.problems_against(&r, &rv.hash).join("\n");
    assert!(p.contains("for round '2026q1', not round '2025q4'"), "{p}");
    assert!(p.contains("round hash differs"), "{p}");

    let mut short = good.clone();
    short.metrics[0].values.pop();
    let p = short.problems_against(&r, &rv.hash).join("\n");
    assert!(p.contains("17 values for 18 cells"), "{p}");
}

#[test]
fn pools_check_their_roster_and_floors() {
    let key = SigningKey::generate().unwrap();
    let mut p = pool(&key);
    p.policy.min_members = 2;
    let m = SigningKey::generate().unwrap().public();
    p.roster.push(coopbench_protocol::RosterEntry {
        key_id: "00".repeat(32),
        public_key: m.to_base64(),
        label: "Baker".into(),
    });
    let problems = p.problems().join("\n");
    assert!(problems.contains("min_members is 2"));
    assert!(problems.contains("key_id does not match"));
}
