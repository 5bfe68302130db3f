//! Fuzz harnesses for every document parser on the association's side, as
//! proptest properties with a fixed number of cases so that `cargo test`
//! (and so CI) runs them in bounded time: the round TOML, DSSE envelopes
//! (signed rounds and pools), contributions as `merge` verifies them, and
//! manifests. Each starts from a valid document and mutates its bytes
//! (deletions, insertions of bytes that matter to the format, replacements,
//! truncation), or builds rounds with hostile dimension lists. Besides
//! "never panics", each checks what must hold of whatever is accepted.

use crate::common::association::Setup;
use coopbench_aggregator::pool_dir::read_signed_pool;
use coopbench_aggregator::verify::{verify, Context};
use coopbench_benchmark::manifest::Manifest;
use coopbench_protocol::round::{MAX_CELLS, MAX_ROUND_CELLS};
use coopbench_protocol::{limits, signed, Envelope, Round};
use coopbench_testkit::mutate::{self, apply, Mutation};
use proptest::prelude::*;

/// Cases per target: enough to exercise each parser's error paths, bounded
/// so that all targets together take seconds.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bytes that matter to JSON, TOML and base64.
fn interesting() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\"".to_vec()),
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(b",".to_vec()),
        Just(b"=".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\\u0000".to_vec()),
        Just(b"\\ud800".to_vec()),
        Just(b"1e999".to_vec()),
        Just(b"-0".to_vec()),
        Just(b"18446744073709551616".to_vec()),
        Just(b"\"category\", ".to_vec()),
        Just("\u{202e}".as_bytes().to_vec()),
        Just(vec![0xFF]),
        prop::collection::vec(any::<u8>(), 1..6),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    mutate::mutations(interesting(), 40, 1..6)
}

/// What must hold of any round the checks accept: bounded cells.
fn check_round(round: &Round) -> Result<(), TestCaseError> {
    let problems = round.problems();
    let cells: Vec<usize> = round
        .metrics
        .iter()
        .map(|m| round.metric_cells(m))
        .collect();
    if problems.is_empty() {
        prop_assert!(cells.iter().all(|c| *c <= MAX_CELLS), "{cells:?}");
        prop_assert!(cells.iter().sum::<usize>() <= MAX_ROUND_CELLS);
        // Only then may a tool build the grids.
        for m in &round.metrics {
            prop_assert_eq!(
                coopbench_protocol::round::cell_count(&round.grid(m)),
                round.metric_cells(m)
            );
        }
        prop_assert!(limits::contribution_max_bytes(round) > 0);
    } else if cells.iter().any(|c| *c > MAX_CELLS) {
        prop_assert!(problems.iter().any(|p| p.contains("cells")), "{problems:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(1500))]

    /// Round TOML (as `round new` reads it), mutated byte by byte.
    #[test]
    fn round_toml(m in mutations()) {
        let text = apply(coopbench_testkit::EXAMPLE_ROUND_TOML.as_bytes().to_vec(), &m);
        if let Ok(text) = std::str::from_utf8(&text) {
            if let Ok(round) = toml::from_str::<Round>(text) {
                check_round(&round)?;
            }
        }
    }

    /// Signed rounds and pools: a mutated envelope never verifies as a
    /// document other than the one that was signed.
    #[test]
    fn dsse_envelopes(m in mutations()) {
        let s = setup();
        for (name, is_pool) in [("round.sig.json", false), ("pool.sig.json", true)] {
            let bytes = apply(std::fs::read(s.path(name)).unwrap(), &m);
            if is_pool {
                if let Ok(v) = read_signed_pool(&bytes) {
                    prop_assert_eq!(&v.doc, &s.pool);
                }
            } else if let Ok(env) = Envelope::from_json(&bytes) {
                if let Ok(v) = signed::verify::<Round>(&env, &s.association.public()) {
                    prop_assert_eq!(&v.doc, &s.round);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(config(400))]

    /// Rounds with any list of dimensions, repeated or not: the cell count
    /// never overflows, and past the limits the round is refused.
    #[test]
    fn round_dimension_lists(dims in prop::collection::vec(
        prop::sample::select(vec!["month", "category", "cost_type"]), 0..40),
        metric in 0usize..6, unknown in prop::option::weighted(0.1, any::<prop::sample::Index>()))
    {
        let mut round = coopbench_testkit::example_round();
        let mut dims: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
        if let Some(at) = unknown {
            // A dimension the round does not list (no labels).
            dims.insert(at.index(dims.len() + 1), "nope".into());
        }
        round.metrics[metric].dims = dims;
        check_round(&round)?;
    }
}

proptest! {
    #![proptest_config(config(600))]

    /// Contributions as `merge` verifies them: a mutated file is either
    /// refused with a reason, or verifies as exactly the signed contribution.
    #[test]
    fn contributions(m in mutations()) {
        let s = setup();
        let env = signed::sign(&s.contribution(0, 1, values()), &s.members[0]);
        // The document as signed (its JSON numbers as read back), not the
        // struct before signing: a float need not round-trip to the last bit,
        // and a mutation can leave the bytes that count unchanged.
        let signed_doc: coopbench_protocol::Contribution = signed::peek(&env).unwrap();
        let bytes = apply(env.to_json(), &m);
        let ctx = Context::new(&s.pool, &s.round, &s.round_hash, &s.plans);
        if let Ok(v) = verify(&ctx, &bytes) {
            prop_assert_eq!(&v.doc, &signed_doc);
        }
    }

    /// Manifests as `inspect` reads them: parse, and whatever parses
    /// serialises back to the same document.
    #[test]
    fn manifests(m in mutations()) {
        let bytes = apply(manifest_bytes().to_vec(), &m);
        if let Ok(man) = serde_json::from_slice::<Manifest>(&bytes) {
            let again: Manifest = serde_json::from_slice(&serde_json::to_vec(&man).unwrap()).unwrap();
            prop_assert_eq!(again, man);
        }
    }
}

/// One setup for every case (keys and signatures are the slow part).
fn setup() -> &'static Setup {
    static S: std::sync::OnceLock<Setup> = std::sync::OnceLock::new();
    S.get_or_init(|| Setup::new(10, |_| {}))
}

/// Valid values for every metric of the example round.
fn values() -> Vec<Vec<i64>> {
    let mut margin = vec![0; 21];
    margin[9] = 1;
    let mut rent = vec![0; 11];
    rent[3] = 1;
    let mut ticket = vec![0; 21];
    ticket[4] = 1;
    vec![
        vec![1000; 18],
        vec![1; 18],
        vec![500; 6],
        margin,
        rent,
        ticket,
    ]
}

/// A real manifest: the example round merged once.
fn manifest_bytes() -> &'static [u8] {
    static M: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    M.get_or_init(|| {
        let s = setup();
        let files: Vec<std::path::PathBuf> = (0..10)
            .map(|i| {
                let c = s.contribution(i, 1, values());
                s.write_signed(&format!("m/{i}.json"), &c, &s.members[i])
            })
            .collect();
        let refs: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
        let out = s.path("manifest-out");
        s.merge(&refs, &out).expect(0);
        std::fs::read(out.join("manifests/2025q4.json")).unwrap()
    })
}
