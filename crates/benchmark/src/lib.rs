//! The published benchmark format, in one crate that both sides share: the
//! association's `merge` writes through it, the member's `compare`, the
//! association's `inspect` and the tests read through it. It knows files,
//! paths and columns, not statistics: what the figures mean is decided where
//! they are computed (the aggregator) and where they are read (`compare`).
//!
//! A benchmark directory holds, per round:
//!
//! ```text
//! OUT/<metric>/<id>.parquet    one table per metric, with a `round` column
//! OUT/manifests/<id>.json      the round's manifest and data dictionary, written last
//! ```

pub mod layout;
pub mod manifest;
pub mod table;
