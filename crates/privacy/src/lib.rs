//! Everything a member does to its own figures before they leave its machine.
//!
//! This crate owns one job: turning a member's exact per-cell figures into a
//! differentially private vector, and keeping account of the privacy spent.
//! The steps, in order, each in its own module:
//!
//! 1. [`fixed`]: measures become integers at the round's fixed-point scale
//!    ([`to_fixed`]).
//! 2. [`clip`]: every cell is clipped to the round's per-cell [`Bounds`]
//!    ([`clip_cells`]); ratios become one-hot histograms ([`one_hot_bin`]).
//!    The member alone sees how much was clipped ([`ClipStats`]).
//! 3. [`sensitivity`]: the member-level L2 sensitivity of the clipped vector
//!    ([`l2_sensitivity`], [`histogram_sensitivity`]), rounded up.
//! 4. [`budget`]: the round's ρ split over its metrics ([`split_rho`]), the σ
//!    each metric needs ([`sigma_for`]), and the (ε, δ) a ρ amounts to
//!    ([`epsilon_for`]), all through OpenDP's own privacy maps.
//! 5. [`noise`]: OpenDP's exact discrete Gaussian, added to the integer cells
//!    ([`add_discrete_gaussian`]); it refuses any σ that does not meet the ρ.
//! 6. [`accuracy`]: the noise sd and 95 % half-width in the measure's units,
//!    in both modes, and the one readability rule ([`Verdict`]) every
//!    published figure is judged by.
//! 6a. [`estimate`]: every published figure from the noised sums
//!    (post-processing only): totals and means with intervals, ratio
//!    histograms projected onto {h ≥ 0, Σ h = n} and their percentiles with
//!    bootstrap intervals.
//! 7. [`distributed`]: two-server mode's accounting, where each member adds
//!    a share of the noise (the distributed discrete Gaussian bound), and
//!    [`add_noise_share`], which samples it.
//! 8. [`ledger`] and [`policy`]: the member's append-only, fsync'd record of
//!    ρ spent and the cap it enforces over a rolling window.
//!
//! Privacy unit: the member (see docs/architecture.md, "The privacy model"). No error of this
//! crate ever contains a member's value; they name a cell or metric index.

#![warn(missing_docs)]

pub mod accuracy;
pub mod budget;
pub mod clip;
pub mod distributed;
pub mod estimate;
pub mod fixed;
pub mod ledger;
mod mech;
pub mod noise;
pub mod plan;
pub mod policy;
pub mod sensitivity;

pub use accuracy::{merged_local, per_member, Accuracy, Verdict, Z_95};
pub use budget::{epsilon_for, rho_of, sigma_for, split_rho, BudgetError};
pub use clip::{
    clip_cells, one_hot_bin, Bounds, BoundsError, ClipStats, ClippedVector, BOUND_LIMIT,
};
pub use fixed::{from_fixed, to_fixed, FixedError, FIXED_LIMIT};
pub use ledger::{rfc3339, Ledger, LedgerEntry, LedgerError};
pub use noise::{add_discrete_gaussian, add_noise_share, NoiseError, NOISE_HEADROOM_SIGMAS};
pub use policy::{Policy, PolicyError, Remaining};
pub use sensitivity::{
    histogram_sensitivity, histogram_sensitivity_scaled, l2_distance, l2_sensitivity,
};
