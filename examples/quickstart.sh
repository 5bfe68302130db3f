#!/usr/bin/env bash
# coopbench quick start: what a member does with its books, on the bundled example.
#  1. generate sales and cost files for 30 example bakeries (seeded, realistic);
#  2. validate every member's files against the published schemas;
#  3. show what a dirty export looks like: examples/dirty/sales.csv and its report.
# Debug build on purpose: a cold build takes ~11 minutes on 2 cores (release: 30+).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
echo "== building coopbench (debug) =="
cargo build -q --bin coopbench --bin coopbench-examples
bin="$target/debug"
data=examples/data
echo "== generating 30 example bakeries into $data =="
"$bin/coopbench-examples" generate --members 30 --months 12 --seed 1 --start 2025-01 --out "$data" | tail -n 2
echo "== validating every member's files =="
for m in "$data"/member-*; do
  "$bin/coopbench" validate --max-errors 5 "$m/sales.csv" "$m/costs.csv" | tail -n 2 | sed 's/^/  /' | paste -sd ' ' -
done
echo "== a dirty export and what validate says about it =="
set +e
"$bin/coopbench" validate examples/dirty/sales.csv
code=$?
set -e
echo "(exit code $code: 0 valid, 1 invalid data, 2 usage or I/O error)"
[ "$code" -eq 1 ]
