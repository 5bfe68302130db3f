//! Fixed-point conversion: a measure in its own units becomes an `i64` count of
//! `1 / scale` units, so that clipping, sensitivity and noise are exact integer
//! arithmetic.

use thiserror::Error;

/// The largest magnitude [`to_fixed`] returns: 2^62, leaving headroom in `i64`
/// for noise and for sums of a few cells.
pub const FIXED_LIMIT: i64 = 1 << 62;

/// Why a value could not be converted to fixed point. Never carries the value.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum FixedError {
    /// The value was NaN or infinite.
    #[error("the value is not a finite number")]
    NonFinite,
    /// The scale was not a finite number greater than zero.
    #[error("the fixed-point scale must be a finite number greater than zero (got {scale})")]
    InvalidScale {
        /// The offending scale (a public round parameter, not a member value).
        scale: f64,
    },
    /// `value * scale` is beyond ±2^62.
    #[error(
        "the value is too large for the fixed-point range (more than 2^62 units at this scale)"
    )]
    Overflow,
}

/// Converts `value` to fixed point: `value * scale` rounded half away from zero.
///
/// The product is computed in `f64` and then rounded, so a decimal that `f64`
/// cannot represent exactly rounds as its nearest `f64` does (`1.005 * 100`
/// gives 100). Errors if `value` is not finite, `scale` is not finite and
/// positive, or the result would exceed ±2^62 ([`FIXED_LIMIT`]).
pub fn to_fixed(value: f64, scale: f64) -> Result<i64, FixedError> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(FixedError::InvalidScale { scale });
    }
    if !value.is_finite() {
        return Err(FixedError::NonFinite);
    }
    let rounded = (value * scale).round();
    // 2^62 is exact in f64; the comparison also rejects an infinite product
    // (a product of two finite numbers is never NaN).
    if rounded.abs() > FIXED_LIMIT as f64 {
        return Err(FixedError::Overflow);
    }
    Ok(rounded as i64)
}

/// Converts a fixed-point value (or a sum of them, hence `i128`) back to the
/// measure's units: `v / scale`, rounded to the nearest `f64`.
pub fn from_fixed(v: i128, scale: f64) -> f64 {
    v as f64 / scale
}
