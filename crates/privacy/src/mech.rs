//! The one OpenDP mechanism this crate uses: the discrete Gaussian on
//! `Vec<i64>` under the L2 distance, with a ρ-zCDP privacy map.

use opendp::{
    core::Measurement,
    domains::{AtomDomain, VectorDomain},
    measurements::make_gaussian,
    measures::ZeroConcentratedDivergence,
    metrics::L2Distance,
};

/// OpenDP's discrete-Gaussian measurement on integer vectors: `invoke` adds
/// noise (saturating at the `i64` range), `map(&l2)` gives ρ.
pub(crate) type Gaussian = Measurement<
    VectorDomain<AtomDomain<i64>>,
    L2Distance<f64>,
    ZeroConcentratedDivergence,
    Vec<i64>,
>;

/// Builds the measurement with noise scale `sigma` (the standard deviation of
/// the continuous Gaussian it discretises).
pub(crate) fn gaussian(sigma: f64) -> opendp::error::Fallible<Gaussian> {
    make_gaussian::<_, _, ZeroConcentratedDivergence>(
        VectorDomain::new(AtomDomain::<i64>::default()),
        L2Distance::<f64>::default(),
        sigma,
        None,
    )
}

/// An OpenDP error as text, for errors about public parameters only (σ, ρ,
/// sensitivity, δ): OpenDP messages quote the arguments they reject.
pub(crate) fn describe(e: &opendp::error::Error) -> String {
    match &e.message {
        Some(m) => format!("{}: {m}", e.variant),
        None => e.variant.to_string(),
    }
}
