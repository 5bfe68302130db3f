//! Integration tests of coopbench-protocol, in one test binary.

mod documents;
mod two_server_round;
