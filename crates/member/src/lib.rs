//! The member's side of coopbench: everything the `coopbench` command does on a
//! firm's own machine. The binary in the root package is a thin `main` over
//! [`cli::main`]; each command lives in its own module.

pub mod cli;
mod validate_cmd;
