//! Integration tests of coopbench-privacy, in one test binary.

mod budget;
mod distributed_noise;
mod fixed;
mod ledger;
mod noise_stats;
mod percentile_accuracy;
mod properties;
