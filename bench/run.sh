#!/usr/bin/env bash
# The coopbench benchmark, one command:  bench/run.sh [--rows N] [--large-rows N] [--runs K]
#   bench/run.sh --smoke   tiny inputs on the debug build (what CI runs): checks it works, asserts no times.
# It measures validate, export, their peak memory at N and 4N rows, and merge of
# 1,000 / 3,000 / 10,000 contributions, each against a baseline or a target.
# The full run builds the `bench` profile (release settings) into its own target
# directory, target/bench, so that it never blocks a debug build's lock; a cold
# build of it takes a long time (polars optimised): run it once, then it is warm.
# Generated inputs are cached in target/bench-data (several GB at the default sizes).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ " $* " == *" --smoke "* ]]; then
  cargo build -q --bin coopbench --bin coopbench-aggregator && cargo build -q -p coopbench-bench
  exec "${CARGO_TARGET_DIR:-target}/debug/coopbench-bench" "$@"
fi
export CARGO_TARGET_DIR=target/bench
cargo build -q --profile bench --bin coopbench --bin coopbench-aggregator
cargo build -q --profile bench -p coopbench-bench
exec target/bench/release/coopbench-bench "$@"  # the bench profile writes to release/
