//! The member's side of coopbench: everything the `coopbench` command does on a
//! firm's own machine. The binary in the root package is a thin `main` over
//! [`cli::main`]; each command lives in its own module (`*_cmd`), over shared
//! pieces: the state directory, pinned pools, round loading, the member's
//! figures (polars group-bys) and their clipped cells, and the published
//! benchmarks `compare` reads (arrow-rs, never the aggregator's code).

pub mod benchmarks;
pub mod cells;
pub mod cli;
pub mod clock;
pub mod compare;
mod compare_charts;
mod compare_cmd;
mod compare_html;
mod compare_text;
pub mod compute;
mod export_cmd;
pub mod inputs;
mod join_cmd;
mod keygen_cmd;
mod ledger_cmd;
pub mod pins;
mod plan_cmd;
pub mod protect;
pub mod round_load;
pub mod state;
mod validate_cmd;

pub use export_cmd::ExportRecord;
