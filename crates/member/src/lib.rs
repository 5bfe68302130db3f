//! The member's side of coopbench: everything the `coopbench` command does on a
//! firm's own machine. The binary in the root package is a thin `main` over
//! [`cmd::main`]; each command lives in its own module under [`cmd`], over the
//! library modules here, which never import the command layer: the state
//! directory, pinned pools, round loading, the member's inputs and their
//! aggregation (polars group-bys), the clipped cells, the protection (noise,
//! masks, seals), and `compare`'s reading of the published benchmarks.

pub mod aggregate;
pub mod cells;
pub mod cmd;
pub mod compare;
pub mod inputs;
pub mod pins;
pub mod protect;
pub mod read_args;
pub mod round_load;
pub mod state;
pub mod usefulness;
