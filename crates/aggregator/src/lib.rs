//! The association's side of coopbench: it manages the pool agreement and its
//! rounds, verifies and merges the members' signed, already-noised
//! contributions, and publishes benchmarks as Parquet for analysts. It never
//! sees a firm's unnoised figure, and it reads and writes Parquet with
//! arrow-rs (no polars).
//!
//! The flow of a round, as the modules follow it: [`pool_dir`] (the pool and
//! its rounds on disk), [`schemas`] and [`guard`] (what a round may ask),
//! [`verify`] (one contribution against its round), [`merge`] (summing the
//! verified contributions one file at a time, exact `i128` sums), [`leader`]
//! (two-server mode's batch for the helper and its answer), [`stats`] and
//! [`tables`] (estimates, intervals, suppression, percentiles), [`columns`]
//! (the published columns' types, units and descriptions), [`manifest`]
//! and [`publish`] (the published files, staged and renamed into place). The
//! published round is read back for people by [`readback`] and rendered by
//! `inspect` (terminal, [`export`] CSV/JSON) and [`report`] (HTML). The
//! commands ([`cmd`]) sit on top; no other module imports them.

pub mod cmd;
pub mod columns;
pub mod export;
pub mod files;
pub mod guard;
pub mod leader;
pub mod manifest;
pub mod merge;
pub mod pool_dir;
pub mod publish;
pub mod readback;
pub mod report;
pub mod schemas;
pub mod tables;
pub mod verify;
