//! Clipping to the round's per-cell bounds, and one-hot binning of ratios.
//!
//! Clipping is what bounds a member's influence: after it, any two members'
//! vectors differ by at most [`crate::l2_sensitivity`] of the bounds.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The largest magnitude a bound may have: 2^62, so that `hi - lo` fits in
/// `u64` and noised values keep headroom in `i64`.
pub const BOUND_LIMIT: i64 = 1 << 62;

/// Inclusive clipping bounds `[lo, hi]` of one cell, in fixed-point units.
///
/// Deserializing validates (`lo <= hi`, both within ±2^62); so does
/// [`Bounds::new`]. A value built with a struct literal is checked when used
/// by [`clip_cells`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawBounds")]
pub struct Bounds {
    /// Lowest value a cell may take after clipping.
    pub lo: i64,
    /// Highest value a cell may take after clipping.
    pub hi: i64,
}

#[derive(Deserialize)]
struct RawBounds {
    lo: i64,
    hi: i64,
}

impl TryFrom<RawBounds> for Bounds {
    type Error = BoundsError;
    fn try_from(raw: RawBounds) -> Result<Self, BoundsError> {
        Bounds::new(raw.lo, raw.hi)
    }
}

/// Why bounds are invalid. Bounds are public round parameters, so they are shown.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum BoundsError {
    /// `lo > hi`.
    #[error("clip bounds are inverted: lo ({lo}) is greater than hi ({hi})")]
    Inverted {
        /// The lower bound.
        lo: i64,
        /// The upper bound.
        hi: i64,
    },
    /// A bound is beyond ±2^62.
    #[error("clip bounds [{lo}, {hi}] exceed the allowed range of ±2^62")]
    OutOfRange {
        /// The lower bound.
        lo: i64,
        /// The upper bound.
        hi: i64,
    },
}

impl Bounds {
    /// Validated bounds: `lo <= hi` and both within ±2^62 ([`BOUND_LIMIT`]).
    pub fn new(lo: i64, hi: i64) -> Result<Self, BoundsError> {
        let b = Bounds { lo, hi };
        b.validate()?;
        Ok(b)
    }

    /// Checks `lo <= hi` and `|lo|, |hi| <= 2^62`.
    pub fn validate(&self) -> Result<(), BoundsError> {
        let (lo, hi) = (self.lo, self.hi);
        if lo.unsigned_abs() > BOUND_LIMIT as u64 || hi.unsigned_abs() > BOUND_LIMIT as u64 {
            return Err(BoundsError::OutOfRange { lo, hi });
        }
        if lo > hi {
            return Err(BoundsError::Inverted { lo, hi });
        }
        Ok(())
    }

    /// `hi - lo`, exactly (at most 2^63 for valid bounds). Inverted bounds give
    /// `|hi - lo|`.
    pub fn width(&self) -> u64 {
        (i128::from(self.hi) - i128::from(self.lo)).unsigned_abs() as u64
    }

    /// `v` clipped to `[lo, hi]`.
    ///
    /// # Panics
    /// If `lo > hi`.
    pub fn clip(&self, v: i64) -> i64 {
        v.clamp(self.lo, self.hi)
    }
}

/// A clipped vector and what clipping did to it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClippedVector {
    /// The clipped cells, in the order of the input.
    pub values: Vec<i64>,
    /// Local-only diagnostics: never export these.
    pub stats: ClipStats,
}

/// How much clipping changed a member's vector. Local-only diagnostics: they
/// describe the member's raw data and must never leave its machine.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ClipStats {
    /// Number of cells.
    pub cells: usize,
    /// Number of cells whose value clipping changed.
    pub cells_clipped: usize,
    /// `Σ|raw − clipped| / Σ|raw|`: the share of the member's total absolute
    /// mass that clipping removed; 0 when `Σ|raw|` is 0. It can exceed 1 only
    /// when a cell's bounds exclude zero and small values were raised to `lo`.
    pub mass_removed_share: f64,
}

/// Clips each value to its cell's bounds (`values[i]` to `bounds[i]`).
///
/// # Panics
/// If the slices differ in length or a bound is invalid (see
/// [`Bounds::validate`]): both are programming errors, since the round fixes
/// the grid and deserialized bounds are already validated.
pub fn clip_cells(values: &[i64], bounds: &[Bounds]) -> ClippedVector {
    assert_eq!(
        values.len(),
        bounds.len(),
        "clip_cells: {} values but {} bounds",
        values.len(),
        bounds.len()
    );
    let mut out = Vec::with_capacity(values.len());
    let mut cells_clipped = 0usize;
    let mut raw_mass: u128 = 0;
    let mut removed: u128 = 0;
    for (i, (&v, b)) in values.iter().zip(bounds).enumerate() {
        if let Err(e) = b.validate() {
            panic!("clip_cells: invalid bounds for cell {i}: {e}");
        }
        let c = b.clip(v);
        if c != v {
            cells_clipped += 1;
        }
        raw_mass += u128::from(v.unsigned_abs());
        removed += (i128::from(v) - i128::from(c)).unsigned_abs();
        out.push(c);
    }
    let mass_removed_share = if raw_mass == 0 {
        0.0
    } else {
        removed as f64 / raw_mass as f64
    };
    ClippedVector {
        values: out,
        stats: ClipStats {
            cells: values.len(),
            cells_clipped,
            mass_removed_share,
        },
    }
}

/// One-hot histogram of a ratio over `bins` equal-width bins of `[lo, hi]`
/// and one last "no value" bin: `bins + 1` cells holding exactly one 1.
///
/// `None` or a non-finite ratio (no revenue, say) lands in the "no value"
/// bin, so that every member adds exactly one unit to every group and each
/// group's total is the public number of contributions (the L2 sensitivity
/// stays √2 per group: one member still moves one unit from one bin to
/// another). Otherwise the ratio is clipped to `[lo, hi]` and lands in bin
/// `floor((r − lo) / (hi − lo) · bins)`, with `r == hi` in the last value bin.
///
/// # Panics
/// If `bins` is 0, or `lo`, `hi` are not finite with `lo < hi` and a finite
/// `hi − lo` (round parameters, validated when the round is read).
pub fn one_hot_bin(ratio: Option<f64>, lo: f64, hi: f64, bins: usize) -> Vec<i64> {
    assert!(bins > 0, "one_hot_bin: bins must be at least 1");
    assert!(
        lo.is_finite() && hi.is_finite() && lo < hi && (hi - lo).is_finite(),
        "one_hot_bin: the bin range [{lo}, {hi}] must be finite with lo < hi"
    );
    let mut out = vec![0i64; bins + 1];
    let Some(r) = ratio.filter(|r| r.is_finite()) else {
        out[bins] = 1;
        return out;
    };
    let r = r.clamp(lo, hi);
    // r - lo <= hi - lo in floating point too (subtraction is monotone), so the
    // position is in [0, 1] and the index in [0, bins].
    let pos = (r - lo) / (hi - lo) * bins as f64;
    let idx = (pos.floor() as usize).min(bins - 1);
    out[idx] = 1;
    out
}
