//! The association's side of coopbench: it manages the pool agreement and its
//! rounds, verifies and merges the members' signed, already-noised
//! contributions, and publishes benchmarks as Parquet for analysts. It never
//! sees a firm's unnoised figure, and it reads and writes Parquet with
//! arrow-rs (no polars).
//!
//! Layers, bottom up: [`files`] (atomic writes, safe path ids), [`schemas`]
//! and [`guard`] (what a round may ask), [`merge`] (verifying and summing
//! contributions one file at a time, exact `i128` sums), [`stats`] and
//! [`tables`] (estimates, intervals, suppression, percentiles), [`publish`]
//! (Parquet with footer metadata, the manifest, staged and renamed into
//! place), and the CLI commands over them ([`cli`]).

pub mod cmd;
pub mod files;
pub mod guard;
pub mod leader;
pub mod manifest;
pub mod merge;
pub mod pool_dir;
pub mod publish;
pub mod schemas;
pub mod stats;
pub mod tables;
