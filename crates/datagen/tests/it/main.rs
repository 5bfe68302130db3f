//! Integration tests of coopbench-datagen, in one test binary.

mod generate;
