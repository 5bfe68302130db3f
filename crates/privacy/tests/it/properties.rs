//! Property tests: clipping stays in bounds, one-hot bins have exactly one 1,
//! and no two clipped vectors are further apart than the sensitivity says.

use coopbench_privacy::{
    clip_cells, histogram_sensitivity, l2_distance, l2_sensitivity, one_hot_bin, Bounds,
    BOUND_LIMIT,
};
use proptest::prelude::*;

fn bounds() -> impl Strategy<Value = Bounds> {
    prop_oneof![
        (-1000i64..1000, 0i64..1000).prop_map(|(lo, w)| Bounds::new(lo, lo + w).unwrap()),
        (-BOUND_LIMIT..=BOUND_LIMIT, -BOUND_LIMIT..=BOUND_LIMIT).prop_map(|(a, b)| Bounds::new(
            a.min(b),
            a.max(b)
        )
        .unwrap()),
        Just(Bounds::new(-BOUND_LIMIT, BOUND_LIMIT).unwrap()),
        Just(Bounds::new(0, 0).unwrap()),
        (0i64..=BOUND_LIMIT).prop_map(|hi| Bounds::new(0, hi).unwrap()),
    ]
}

fn raw() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -2000i64..2000,
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0i64),
        i64::MIN..0,
        Just(BOUND_LIMIT + 1),
    ]
}

/// How a member's raw vector is drawn: anything, all zero, all negative, or
/// all at one extreme.
#[derive(Clone, Copy, Debug)]
enum Shape {
    Any,
    Zero,
    Negative,
    Min,
    Max,
}

fn shaped(shape: Shape, v: i64) -> i64 {
    match shape {
        Shape::Any => v,
        Shape::Zero => 0,
        Shape::Negative => -(v.unsigned_abs().max(1) as i128).min(i64::MAX as i128) as i64,
        Shape::Min => i64::MIN,
        Shape::Max => i64::MAX,
    }
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        4 => Just(Shape::Any),
        1 => Just(Shape::Zero),
        1 => Just(Shape::Negative),
        1 => Just(Shape::Min),
        1 => Just(Shape::Max),
    ]
}

fn ratio() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        Just(Some(f64::NAN)),
        Just(Some(f64::INFINITY)),
        Just(Some(f64::NEG_INFINITY)),
        (-2.0f64..3.0).prop_map(Some),
        any::<f64>().prop_map(Some),
        Just(Some(0.0)),
        Just(Some(1.0)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn clipped_values_stay_in_bounds(cells in prop::collection::vec((bounds(), raw()), 0..16)) {
        let (bs, raws): (Vec<Bounds>, Vec<i64>) = cells.into_iter().unzip();
        let clipped = clip_cells(&raws, &bs);
        prop_assert_eq!(clipped.values.len(), raws.len());
        prop_assert_eq!(clipped.stats.cells, raws.len());
        let mut outside = 0;
        for ((&v, &c), b) in raws.iter().zip(&clipped.values).zip(&bs) {
            prop_assert!(b.lo <= c && c <= b.hi);
            if b.lo <= v && v <= b.hi {
                prop_assert_eq!(c, v);
            } else {
                outside += 1;
                prop_assert!(c == b.lo || c == b.hi);
            }
        }
        prop_assert_eq!(clipped.stats.cells_clipped, outside);
        let share = clipped.stats.mass_removed_share;
        prop_assert!(share.is_finite() && share >= 0.0);
        if outside == 0 {
            prop_assert_eq!(share, 0.0);
        }
    }

    #[test]
    fn one_hot_has_exactly_one_one_for_finite_ratios(
        r in ratio(),
        lo in -5.0f64..5.0,
        width in 1e-6f64..10.0,
        bins in 1usize..40,
    ) {
        let hi = lo + width;
        let v = one_hot_bin(r, lo, hi, bins);
        prop_assert_eq!(v.len(), bins + 1);
        prop_assert!(v.iter().all(|&x| x == 0 || x == 1));
        let ones = v.iter().sum::<i64>();
        // Every member puts exactly one unit in every group.
        prop_assert_eq!(ones, 1);
        match r {
            Some(x) if x.is_finite() => {
                let idx = v.iter().position(|&x| x == 1).unwrap();
                prop_assert!(idx < bins, "a finite ratio never lands in the no-value bin");
                if x <= lo {
                    prop_assert_eq!(idx, 0);
                }
                if x >= hi {
                    prop_assert_eq!(idx, bins - 1);
                }
            }
            _ => prop_assert_eq!(v[bins], 1),
        }
    }

    #[test]
    fn clipped_vectors_are_within_sensitivity(
        cells in prop::collection::vec((bounds(), raw(), raw()), 0..12),
        sa in shape(),
        sb in shape(),
    ) {
        let bs: Vec<Bounds> = cells.iter().map(|c| c.0).collect();
        let a: Vec<i64> = cells.iter().map(|c| shaped(sa, c.1)).collect();
        let b: Vec<i64> = cells.iter().map(|c| shaped(sb, c.2)).collect();
        let ca = clip_cells(&a, &bs).values;
        let cb = clip_cells(&b, &bs).values;
        let d = l2_distance(&ca, &cb);
        let s = l2_sensitivity(&bs);
        prop_assert!(d <= s, "distance {} > sensitivity {}", d, s);
    }

    #[test]
    fn sensitivity_is_reached_and_tight(cells in prop::collection::vec(bounds(), 0..8)) {
        // The two extreme members, all-lo and all-hi, are exactly Δ₂ apart, so
        // Δ₂ must be at least their distance and (when finite) not more than
        // a rounding step above it.
        let lo: Vec<i64> = cells.iter().map(|b| b.lo).collect();
        let hi: Vec<i64> = cells.iter().map(|b| b.hi).collect();
        let d = l2_distance(&lo, &hi);
        let s = l2_sensitivity(&cells);
        prop_assert!(d <= s);
        if s.is_finite() {
            prop_assert!(s <= d.next_up().next_up(), "sensitivity {} is loose against {}", s, d);
        }
    }

    #[test]
    fn histograms_are_within_sensitivity(
        groups in prop::collection::vec((ratio(), ratio()), 1..8),
        bins in 1usize..12,
    ) {
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (ra, rb) in &groups {
            a.extend(one_hot_bin(*ra, 0.0, 1.0, bins));
            b.extend(one_hot_bin(*rb, 0.0, 1.0, bins));
        }
        let d = l2_distance(&a, &b);
        let s = histogram_sensitivity(groups.len());
        prop_assert!(d <= s, "distance {} > sensitivity {}", d, s);
    }
}

#[test]
fn histogram_sensitivity_is_reached() {
    // Every group's 1 moves to another bin: distance exactly sqrt(2·groups).
    for groups in 1..50usize {
        let a: Vec<i64> = (0..groups)
            .flat_map(|_| one_hot_bin(Some(0.1), 0.0, 1.0, 4))
            .collect();
        let b: Vec<i64> = (0..groups)
            .flat_map(|_| one_hot_bin(Some(0.9), 0.0, 1.0, 4))
            .collect();
        let d = l2_distance(&a, &b);
        let s = histogram_sensitivity(groups);
        assert!(d <= s && s * s >= 2.0 * groups as f64, "groups {groups}");
        assert!(
            s <= d.next_up().next_up(),
            "groups {groups}: {s} loose against {d}"
        );
    }
}

#[test]
fn clip_stats_report_removed_mass() {
    let bs = [Bounds::new(0, 100).unwrap(); 4];
    let c = clip_cells(&[50, 300, -100, 0], &bs);
    assert_eq!(c.values, vec![50, 100, 0, 0]);
    assert_eq!(c.stats.cells, 4);
    assert_eq!(c.stats.cells_clipped, 2);
    // removed 200 + 100 of a total absolute mass of 450.
    assert!((c.stats.mass_removed_share - 300.0 / 450.0).abs() < 1e-12);
    assert_eq!(clip_cells(&[0, 0], &bs[..2]).stats.mass_removed_share, 0.0);
}

#[test]
fn one_hot_edges() {
    assert_eq!(one_hot_bin(Some(1.0), 0.0, 1.0, 4), vec![0, 0, 0, 1, 0]);
    assert_eq!(one_hot_bin(Some(0.0), 0.0, 1.0, 4), vec![1, 0, 0, 0, 0]);
    assert_eq!(one_hot_bin(Some(0.25), 0.0, 1.0, 4), vec![0, 1, 0, 0, 0]);
    assert_eq!(one_hot_bin(Some(0.2499), 0.0, 1.0, 4), vec![1, 0, 0, 0, 0]);
    assert_eq!(one_hot_bin(Some(-7.0), -1.0, 1.0, 2), vec![1, 0, 0]);
    assert_eq!(one_hot_bin(Some(7.0), -1.0, 1.0, 2), vec![0, 1, 0]);
    // No ratio: the one unit goes to the last, "no value" bin.
    assert_eq!(one_hot_bin(None, 0.0, 1.0, 3), vec![0, 0, 0, 1]);
    assert_eq!(one_hot_bin(Some(f64::NAN), 0.0, 1.0, 3), vec![0, 0, 0, 1]);
}

#[test]
fn bounds_are_validated_when_deserialized() {
    let ok: Bounds = serde_json::from_str(r#"{"lo":-5,"hi":5}"#).unwrap();
    assert_eq!(ok, Bounds { lo: -5, hi: 5 });
    let err = serde_json::from_str::<Bounds>(r#"{"lo":5,"hi":-5}"#).unwrap_err();
    assert!(err.to_string().contains("inverted"), "{err}");
    assert!(serde_json::from_str::<Bounds>(r#"{"lo":0,"hi":9223372036854775807}"#).is_err());
    assert!(Bounds::new(-BOUND_LIMIT, BOUND_LIMIT).is_ok());
    assert!(Bounds::new(-BOUND_LIMIT - 1, 0).is_err());
}

#[test]
#[should_panic(expected = "invalid bounds for cell 1")]
fn clip_rejects_inverted_literal_bounds() {
    clip_cells(&[0, 0], &[Bounds { lo: 0, hi: 1 }, Bounds { lo: 1, hi: 0 }]);
}
