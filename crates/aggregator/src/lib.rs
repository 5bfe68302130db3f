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

pub mod cli;
pub mod files;
pub mod guard;
mod helper_cmd;
mod inspect_cmd;
pub mod leader;
pub mod manifest;
pub mod merge;
mod merge_cmd;
mod pool_cmd;
pub mod pool_dir;
pub mod publish;
mod round_cmd;
pub mod schemas;
pub mod tables;
