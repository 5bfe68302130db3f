//! Integration tests of coopbench-schema, in one test binary.

mod library;
