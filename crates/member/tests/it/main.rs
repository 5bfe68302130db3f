//! Integration tests of coopbench-member, in one test binary.

mod sensitivity;
