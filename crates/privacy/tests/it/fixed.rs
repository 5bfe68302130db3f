//! Fixed-point conversion: rounding, range and refusals.

use coopbench_privacy::{from_fixed, to_fixed, FixedError, FIXED_LIMIT};

#[test]
fn rounds_half_away_from_zero() {
    assert_eq!(to_fixed(1.5, 1.0), Ok(2));
    assert_eq!(to_fixed(2.5, 1.0), Ok(3)); // not banker's rounding
    assert_eq!(to_fixed(-1.5, 1.0), Ok(-2));
    assert_eq!(to_fixed(-2.5, 1.0), Ok(-3));
    assert_eq!(to_fixed(0.125, 100.0), Ok(13));
    assert_eq!(to_fixed(-0.125, 100.0), Ok(-13));
    assert_eq!(to_fixed(0.49999999999999994, 1.0), Ok(0));
    assert_eq!(to_fixed(12.34, 100.0), Ok(1234));
    assert_eq!(to_fixed(-0.0, 1.0), Ok(0));
    assert_eq!(to_fixed(1234.5678, 1.0), Ok(1235));
    assert_eq!(to_fixed(0.004, 100.0), Ok(0));
    assert_eq!(to_fixed(0.006, 100.0), Ok(1));
}

#[test]
fn range_is_two_to_the_62() {
    let limit = FIXED_LIMIT as f64;
    assert_eq!(to_fixed(limit, 1.0), Ok(FIXED_LIMIT));
    assert_eq!(to_fixed(-limit, 1.0), Ok(-FIXED_LIMIT));
    assert_eq!(to_fixed(limit.next_up(), 1.0), Err(FixedError::Overflow));
    assert_eq!(to_fixed(-limit.next_up(), 1.0), Err(FixedError::Overflow));
    assert_eq!(
        to_fixed(limit / 100.0 * 2.0, 100.0),
        Err(FixedError::Overflow)
    );
    assert_eq!(to_fixed(1e300, 1e300), Err(FixedError::Overflow)); // product is infinite
    assert_eq!(to_fixed(f64::MAX, 1.0), Err(FixedError::Overflow));
}

#[test]
fn refuses_non_finite_input_and_bad_scales() {
    assert_eq!(to_fixed(f64::NAN, 1.0), Err(FixedError::NonFinite));
    assert_eq!(to_fixed(f64::INFINITY, 1.0), Err(FixedError::NonFinite));
    assert_eq!(
        to_fixed(f64::NEG_INFINITY, 100.0),
        Err(FixedError::NonFinite)
    );
    for scale in [0.0, -1.0, f64::NAN, f64::INFINITY, -0.0] {
        assert!(
            matches!(to_fixed(1.0, scale), Err(FixedError::InvalidScale { .. })),
            "{scale}"
        );
    }
}

#[test]
fn errors_never_quote_the_value() {
    let err = to_fixed(987654321987654321987.0, 100.0).unwrap_err();
    let msg = err.to_string();
    assert!(!msg.contains("98765"), "{msg}");
    assert!(!to_fixed(f64::NAN, 1.0)
        .unwrap_err()
        .to_string()
        .contains("NaN"));
}

#[test]
fn from_fixed_divides_by_scale() {
    assert_eq!(from_fixed(1234, 100.0), 12.34);
    assert_eq!(from_fixed(-5, 2.0), -2.5);
    // Sums of many cells exceed i64 but not i128.
    let big = i128::from(i64::MAX) * 4;
    assert_eq!(from_fixed(big, 1.0), 36_893_488_147_419_103_228.0);
    for v in [-3i64, 0, 17, 123_456_789] {
        assert_eq!(to_fixed(from_fixed(i128::from(v), 100.0), 100.0), Ok(v));
    }
}
