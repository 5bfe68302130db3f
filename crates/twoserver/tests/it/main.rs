//! Integration tests of coopbench-twoserver, in one test binary.

mod uniform_shares;
