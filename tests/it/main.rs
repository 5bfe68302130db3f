//! The end-to-end tests of coopbench: both binaries driven as members, the association and its helper would run them, in one test binary.

mod common;

mod adversaries;
mod association_fuzz_documents;
mod association_merge;
mod association_outputs;
mod association_pool_round;
mod association_publish;
mod association_two_server;
mod closed_pipe;
mod compare;
mod docs;
mod examples;
mod member_crash;
mod member_round;
mod quickstart;
mod readers;
mod real_files;
mod robustness;
mod round_end_to_end;
mod two_server_round;
mod useless_inputs;
mod validate_cli;
mod validate_props;
