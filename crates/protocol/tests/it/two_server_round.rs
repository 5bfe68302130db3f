//! A two-server round's `[two_server]` section as a member checks it: the
//! helper's HPKE key must be signed by the helper's signing key, at least two
//! members' noise must count (n_min − t ≥ 2), the section must match the mode,
//! and the helper may not sign with the association's own key.

use base64::Engine as _;
use coopbench_protocol::round::Mode;
use coopbench_protocol::two_server::hpke_key_message;
use coopbench_protocol::{guardrails, Date, Pool, PoolPolicy, Round, SigningKey, TwoServer};

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn round() -> Round {
    coopbench_testkit::example_round()
}

/// A section signed by `helper` for the HPKE key `hpke`.
fn section(helper: &SigningKey, hpke: [u8; 32], n_min: u32, t: u32) -> TwoServer {
    TwoServer {
        n_min,
        t,
        helper_name: "Smith & Co".into(),
        helper_signing_key: helper.public().to_base64(),
        helper_hpke_key: b64(&hpke),
        helper_hpke_key_signature: b64(&helper.sign(&hpke_key_message(&hpke))),
    }
}

fn two_server(ts: TwoServer) -> Round {
    let mut r = round();
    r.mode = Mode::TwoServer;
    r.two_server = Some(ts);
    r
}

#[test]
fn a_signed_helper_key_with_enough_parties_is_accepted() {
    let helper = SigningKey::generate().unwrap();
    let r = two_server(section(&helper, [7; 32], 10, 8));
    assert_eq!(r.problems(), Vec::<String>::new());
    let ts = r.two_server.as_ref().unwrap();
    assert_eq!(ts.parties(), 2);
    assert_eq!(ts.verified_hpke_key().unwrap(), [7; 32]);
    // The TOML the association writes round-trips through the signed JSON.
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<Round>(&json).unwrap(), r);
}

#[test]
fn unsigned_swapped_or_missing_helper_keys_are_refused() {
    let helper = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    // The HPKE key replaced after the helper signed it.
    let mut swapped = section(&helper, [7; 32], 10, 0);
    swapped.helper_hpke_key = b64(&[8; 32]);
    // Signed by someone else than the named helper.
    let mut forged = section(&other, [7; 32], 10, 0);
    forged.helper_signing_key = helper.public().to_base64();
    // No signature at all.
    let mut unsigned = section(&helper, [7; 32], 10, 0);
    unsigned.helper_hpke_key_signature = String::new();
    for ts in [swapped, forged, unsigned] {
        let p = two_server(ts).problems().join("\n");
        assert!(
            p.contains("is not signed by the helper's signing key"),
            "{p}"
        );
    }
    let mut missing = round();
    missing.mode = Mode::TwoServer;
    let p = missing.problems().join("\n");
    assert!(p.contains("needs a [two_server] section"), "{p}");
    let mut local_with_section = round();
    local_with_section.two_server = Some(section(&helper, [7; 32], 10, 0));
    let p = local_with_section.problems().join("\n");
    assert!(p.contains("only for mode = 'two-server'"), "{p}");
}

#[test]
fn fewer_than_two_counted_parties_are_refused() {
    let helper = SigningKey::generate().unwrap();
    for (n_min, t) in [(1, 0), (5, 4), (5, 5), (3, 9)] {
        let p = two_server(section(&helper, [7; 32], n_min, t))
            .problems()
            .join("\n");
        assert!(p.contains("is below 2"), "n_min {n_min}, t {t}: {p}");
    }
}

#[test]
fn the_helper_may_not_be_the_association() {
    let association = SigningKey::generate().unwrap();
    let pool = Pool {
        purpose: "Benchmarks.".into(),
        id: "bakeries".into(),
        name: "Bakeries".into(),
        association_key: association.public().to_base64(),
        sunset: Date::parse("2029-12-31").unwrap(),
        policy: PoolPolicy::default(),
        roster: vec![],
    };
    let r = two_server(section(&association, [7; 32], 10, 0));
    assert!(r.problems().is_empty(), "{:?}", r.problems());
    let p = guardrails::against_pool(&pool, &r).join("\n");
    assert!(p.contains("must be an independent party"), "{p}");
    let independent = two_server(section(&SigningKey::generate().unwrap(), [7; 32], 10, 0));
    assert!(guardrails::against_pool(&pool, &independent).is_empty());
}
