//! The stated L2 sensitivity holds for the vectors `export` actually noises:
//! for random pairs of member datasets, adversarial ones included (one
//! enormous value, millions of rows, only refunds, nothing at all), the L2
//! distance between their clipped vectors never exceeds Δ₂, for every metric
//! of the bundled example round.

use coopbench_member::aggregate::{needs, SourceAgg};
use coopbench_member::cells::{prepare, Aggregates};
use coopbench_protocol::round::SourceKind;
use coopbench_protocol::Round;
use proptest::prelude::*;

fn round() -> Round {
    coopbench_testkit::example_round()
}

/// A value a measure sum can take: ordinary, huge, negative (refunds), zero.
fn amount() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0..50_000.0f64,
        -50_000.0..0.0f64,
        Just(0.0),
        Just(1e15),
        Just(-1e15),
        Just(f64::MAX / 4.0),
        (1e6..1e12f64),
    ]
}

/// One member's aggregated figures for `kind`: groups over the round's months
/// (and one month outside it) and dimension labels, possibly none.
fn dataset(r: &Round, kind: SourceKind) -> impl Strategy<Value = SourceAgg> {
    let (keys, measures) = needs(r, kind);
    let mut months = r.months();
    months.push("2025-01".into());
    let labels: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            r.dimensions
                .get(k)
                .cloned()
                .unwrap_or_else(|| vec!["x".into()])
        })
        .collect();
    let n_measures = measures.len();
    let group = (
        proptest::sample::select(months),
        labels
            .into_iter()
            .map(proptest::sample::select)
            .collect::<Vec<_>>(),
        proptest::collection::vec(amount(), n_measures),
        prop_oneof![1u64..50, Just(5_000_000u64)],
    );
    proptest::collection::vec(group, 0..40).prop_map(move |groups| {
        let mut agg = SourceAgg {
            keys: keys.clone(),
            measures: measures.clone(),
            ..Default::default()
        };
        for (month, key, sums, count) in groups {
            let e = agg
                .groups
                .entry((month, key))
                .or_insert((vec![0.0; n_measures], 0));
            for (a, b) in e.0.iter_mut().zip(sums) {
                *a += b;
            }
            e.1 += count;
        }
        agg
    })
}

fn aggregates(r: &Round) -> impl Strategy<Value = Aggregates> {
    (dataset(r, SourceKind::Sales), dataset(r, SourceKind::Costs)).prop_map(|(s, c)| {
        let mut a = Aggregates::new();
        a.insert(SourceKind::Sales, s);
        a.insert(SourceKind::Costs, c);
        a
    })
}

fn l2(a: &[i64], b: &[i64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let d = (*x as i128 - *y as i128) as f64;
            d * d
        })
        .sum::<f64>()
        .sqrt()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn clipped_vectors_of_any_two_members_are_within_the_stated_sensitivity(
        (a, b) in { let r = round(); (aggregates(&r), aggregates(&r)) }
    ) {
        let r = round();
        // A NaN-free dataset always prepares; f64::MAX/4 sums may overflow to inf: refused, not leaked.
        let (Ok(pa), Ok(pb)) = (prepare(&r, &a), prepare(&r, &b)) else { return Ok(()); };
        for (x, y) in pa.iter().zip(&pb) {
            prop_assert_eq!(x.clipped.len(), y.clipped.len());
            let d = l2(&x.clipped, &y.clipped);
            prop_assert!(d <= x.params.l2, "metric {}: distance {} > sensitivity {}", x.name, d, x.params.l2);
            if let Some(m) = r.metric(&x.name) {
                if let Some(c) = m.clip {
                    for v in &x.clipped {
                        prop_assert!((*v as f64) >= c.lo * m.scale && (*v as f64) <= c.hi * m.scale);
                    }
                }
            }
        }
    }
}

#[test]
fn the_extreme_pair_reaches_but_never_exceeds_the_sensitivity() {
    // Member A at every upper bound, member B at every lower bound: the
    // distance of `revenue` is exactly Δ₂.
    let r = round();
    let (keys, measures) = needs(&r, SourceKind::Sales);
    let mut hi = SourceAgg {
        keys: keys.clone(),
        measures: measures.clone(),
        ..Default::default()
    };
    let lo = SourceAgg {
        keys: keys.clone(),
        measures: measures.clone(),
        ..Default::default()
    };
    for month in r.months() {
        for cat in &r.dimensions["category"] {
            hi.groups.insert(
                (month.clone(), vec![cat.clone()]),
                (vec![1e9; measures.len()], 1),
            );
        }
    }
    let mut a = Aggregates::new();
    a.insert(SourceKind::Sales, hi);
    let mut b = Aggregates::new();
    b.insert(SourceKind::Sales, lo);
    let pa = prepare(&r, &a).unwrap();
    let pb = prepare(&r, &b).unwrap();
    let d = l2(&pa[0].clipped, &pb[0].clipped);
    assert!(
        (d - pa[0].params.l2).abs() <= 1e-6 * d,
        "{d} vs {}",
        pa[0].params.l2
    );
    assert!(d <= pa[0].params.l2);
}
