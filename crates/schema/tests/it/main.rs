//! Integration tests of coopbench-schema, in one test binary.

mod fuzz_csv_mapping;
mod library;
