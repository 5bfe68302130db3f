//! Budget splitting, σ for a budget, ε for a ρ, accuracy, and the noise
//! function's refusals.

use coopbench_privacy::{
    add_discrete_gaussian, epsilon_for, merged_local, per_member, rho_of, sigma_for, split_rho,
    BudgetError, NoiseError, Z_95,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn split_never_exceeds_total(
        total in prop_oneof![1e-9f64..10.0, Just(0.3), Just(1.0), Just(2.0)],
        weights in prop::collection::vec(prop_oneof![1e-6f64..1e6, Just(1.0), Just(3.0)], 1..12),
    ) {
        let parts = split_rho(total, &weights).unwrap();
        prop_assert_eq!(parts.len(), weights.len());
        prop_assert!(parts.iter().sum::<f64>() <= total);
        prop_assert!(parts.iter().rev().sum::<f64>() <= total);
        let mut sorted = parts.clone();
        sorted.sort_by(f64::total_cmp);
        prop_assert!(sorted.iter().sum::<f64>() <= total);
        prop_assert!(sorted.iter().rev().sum::<f64>() <= total);
        // Pairwise, as a ledger or a report might add them.
        let pairwise: f64 = parts.chunks(2).map(|c| c.iter().sum::<f64>()).sum();
        prop_assert!(pairwise <= total);
        let wsum: f64 = weights.iter().sum();
        for (p, w) in parts.iter().zip(&weights) {
            prop_assert!(*p > 0.0);
            let want = total * w / wsum;
            prop_assert!((p - want).abs() <= want * 1e-12, "part {} vs {}", p, want);
        }
    }

    #[test]
    fn sigma_for_meets_rho(
        l2 in prop_oneof![1e-3f64..1e12, Just(1.0), Just(std::f64::consts::SQRT_2)],
        rho in prop_oneof![1e-6f64..10.0, Just(0.5), Just(0.1)],
    ) {
        let sigma = sigma_for(l2, rho).unwrap();
        let spent = rho_of(l2, sigma).unwrap();
        prop_assert!(spent <= rho, "rho_of({}, {}) = {} > {}", l2, sigma, spent, rho);
        // Not more than a rounding step or two above the textbook σ.
        let textbook = l2 / (2.0 * rho).sqrt();
        prop_assert!(sigma >= textbook * (1.0 - 1e-15) && sigma <= textbook * (1.0 + 1e-12));
        // And it is exactly what the noise function accepts.
        prop_assert!(add_discrete_gaussian(&[0], sigma, l2, rho).is_ok());
    }
}

#[test]
fn split_by_weights() {
    let parts = split_rho(1.0, &[1.0, 1.0, 2.0]).unwrap();
    for (p, want) in parts.iter().zip([0.25, 0.25, 0.5]) {
        assert!(*p <= want && *p >= want * (1.0 - 1e-14), "{p} vs {want}");
    }
    // One metric gets the whole budget, exactly.
    assert_eq!(split_rho(0.7, &[3.0]).unwrap(), vec![0.7]);
    let parts = split_rho(0.3, &[1.0, 1.0, 1.0]).unwrap();
    assert!(parts.iter().sum::<f64>() <= 0.3);
    assert!(matches!(
        split_rho(0.0, &[1.0]),
        Err(BudgetError::InvalidTotal { .. })
    ));
    assert!(matches!(
        split_rho(f64::NAN, &[1.0]),
        Err(BudgetError::InvalidTotal { .. })
    ));
    match split_rho(1.0, &[1.0, -1.0]) {
        Err(e @ BudgetError::InvalidWeight { index: 1, .. }) => {
            assert!(e.to_string().contains("metric 1"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        split_rho(1.0, &[f64::INFINITY]),
        Err(BudgetError::InvalidWeight { .. })
    ));
    assert!(matches!(
        split_rho(1.0, &[f64::MAX, f64::MAX]),
        Err(BudgetError::WeightsOverflow)
    ));
    assert_eq!(split_rho(1.0, &[]).unwrap(), Vec::<f64>::new());
}

#[test]
fn rho_of_matches_closed_form() {
    // (Δ/σ)² / 2
    assert_eq!(rho_of(1.0, 1.0).unwrap(), 0.5);
    assert_eq!(rho_of(2.0, 4.0).unwrap(), 0.125);
    assert_eq!(rho_of(0.0, 3.0).unwrap(), 0.0);
    let sigma = sigma_for(1.0, 0.5).unwrap();
    assert_eq!(sigma, 1.0);
    assert!(matches!(
        rho_of(1.0, 0.0),
        Err(BudgetError::InvalidSigma { .. })
    ));
    assert!(matches!(
        sigma_for(0.0, 1.0),
        Err(BudgetError::InvalidSensitivity { .. })
    ));
    assert!(matches!(
        sigma_for(f64::INFINITY, 1.0),
        Err(BudgetError::InvalidSensitivity { .. })
    ));
    assert!(matches!(
        sigma_for(1.0, 0.0),
        Err(BudgetError::InvalidRho { .. })
    ));
}

#[test]
fn epsilon_is_below_the_closed_form_bound() {
    let (rho, delta) = (0.5f64, 1e-6f64);
    let eps = epsilon_for(rho, delta).unwrap();
    let bound = rho + 2.0 * (rho * (1.0 / delta).ln()).sqrt();
    eprintln!("epsilon_for({rho}, {delta}) = {eps}; closed-form bound {bound}");
    assert!(eps > rho, "{eps}");
    assert!(eps <= bound, "{eps} > {bound}");
    // OpenDP's conversion is tighter than the closed form, but not by much.
    assert!(eps >= 0.8 * bound, "{eps} is implausibly small");
    // Monotone: more ρ or less δ cost more ε.
    assert!(epsilon_for(1.0, delta).unwrap() > eps);
    assert!(epsilon_for(rho, 1e-9).unwrap() > eps);
    assert_eq!(epsilon_for(0.0, delta).unwrap(), 0.0);
    assert!(matches!(
        epsilon_for(rho, 0.0),
        Err(BudgetError::InvalidDelta { .. })
    ));
    assert!(matches!(
        epsilon_for(rho, 1.0),
        Err(BudgetError::InvalidDelta { .. })
    ));
    assert!(matches!(
        epsilon_for(-1.0, delta),
        Err(BudgetError::InvalidRho { .. })
    ));
}

#[test]
fn noise_refuses_sigma_that_overspends() {
    let (l2, sigma) = (10.0, 7.0);
    let rho = rho_of(l2, sigma).unwrap();
    assert!(add_discrete_gaussian(&[1, 2, 3], sigma, l2, rho).is_ok());
    match add_discrete_gaussian(&[1, 2, 3], sigma, l2, rho.next_down()) {
        Err(NoiseError::BudgetExceeded { needed, .. }) => assert_eq!(needed, rho),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        add_discrete_gaussian(&[1], sigma.next_down(), l2, rho),
        Err(NoiseError::BudgetExceeded { .. })
    ));
    assert!(matches!(
        add_discrete_gaussian(&[1], 0.0, l2, rho),
        Err(NoiseError::InvalidSigma { .. })
    ));
    assert!(matches!(
        add_discrete_gaussian(&[1], f64::NAN, l2, rho),
        Err(NoiseError::InvalidSigma { .. })
    ));
    assert!(matches!(
        add_discrete_gaussian(&[1], 1e300, l2, rho),
        Err(NoiseError::NoiseTooLarge { .. })
    ));
    assert_eq!(
        add_discrete_gaussian(&[], sigma, l2, rho).unwrap(),
        Vec::<i64>::new()
    );
}

#[test]
fn noise_refuses_values_near_the_limit_without_quoting_them() {
    let secret = i64::MAX - 150; // 40σ = 200 of headroom is needed at σ = 5
    let err = add_discrete_gaussian(&[0, secret, 3], 5.0, 1.0, 1.0).unwrap_err();
    assert!(
        matches!(err, NoiseError::ValueTooLarge { cell: 1 }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("cell 1"), "{msg}");
    assert!(
        !msg.contains(&secret.to_string()) && !msg.contains("9223"),
        "{msg}"
    );
    assert!(add_discrete_gaussian(&[i64::MIN + 250, i64::MAX - 250], 5.0, 1.0, 1.0).is_ok());
    assert!(add_discrete_gaussian(&[i64::MIN], 5.0, 1.0, 1.0).is_err());
}

#[test]
fn accuracy_in_measure_units() {
    let a = per_member(1000.0, 100.0);
    assert_eq!(a.sd, 10.0);
    assert_eq!(a.half_width_95, 10.0 * Z_95);
    let m = merged_local(1000.0, 100.0, 25);
    assert_eq!(m.sd, 50.0);
    let json = serde_json::to_value(m).unwrap();
    assert_eq!(json["sd"], 50.0);
    assert!(json.get("half_width_95").is_some());
}
