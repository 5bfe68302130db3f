//! The member's side of coopbench: everything the `coopbench` command does on a
//! firm's own machine. The binary in the root package is a thin `main` over
//! [`cli::main`]; each command lives in its own module (`*_cmd`), over shared
//! pieces: the state directory, pinned pools, round loading, the member's
//! figures (polars group-bys) and their clipped cells, and the published
//! benchmarks `compare` reads (arrow-rs, never the aggregator's code).

pub mod aggregate;
pub mod benchmarks;
pub mod cells;
pub mod clock;
pub mod cmd;
pub mod compare;
pub mod inputs;
pub mod pins;
pub mod protect;
pub mod round_load;
pub mod state;

pub use cmd::export::ExportRecord;
