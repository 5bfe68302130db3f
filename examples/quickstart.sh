#!/usr/bin/env bash
# coopbench quick start: one whole round on the bundled example, end to end.
#  1. generate a year of sales and cost files for 30 example bakeries (seeded);
#  2. the association creates the pool, each bakery creates its key, the
#     association adds the keys to the roster, signs the pool and the example
#     round (examples/rounds/2025q4.toml), and previews its accuracy;
#  3. each bakery joins, validates, plans and exports its noised contribution;
#  4. the association merges the 30 contributions into benchmark Parquet files
#     (examples/data/benchmarks/<table>/round=2025q4/data.parquet) and prints them;
#  5. a dirty export and what `validate` says about it;
#  6. one bakery compares its own figures with the benchmarks (coopbench
#     compare), on its own machine, and writes its HTML report
#     (examples/data/compare-member-01.html).
# Debug build on purpose: a cold build takes ~11 minutes on 2 cores (release: 30+).
# The example round is dated (period Q4 2025, open until 2026-12-31): the script
# pins "today" to 2026-11-23 with COOPBENCH_TODAY so it replays the same way in
# any year. Re-running starts the round afresh (examples/data is scratch space).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
export COOPBENCH_TODAY=2026-11-23
echo "== building coopbench and coopbench-aggregator (debug) =="
cargo build -q --bin coopbench --bin coopbench-examples
cargo build -q -p coopbench-aggregator
bin="$target/debug"
member="$bin/coopbench"
agg="$bin/coopbench-aggregator"
data=examples/data
round=examples/data/round
rm -rf "$round" "$data/benchmarks"
mkdir -p "$round/inbox"

echo "== 1. generating 30 example bakeries into $data =="
"$bin/coopbench-examples" generate --members 30 --months 12 --seed 1 --start 2025-01 --out "$data" | tail -n 1

echo "== 2. the association sets up the pool and the round =="
assoc="$round/association"
"$agg" pool init --dir "$assoc" --id bakeries --name "Independent Bakeries (example)" \
  --purpose "Benchmarks that help independent bakeries understand their market and costs, without exposing any bakery's figures." \
  --sunset 2029-12-31 | sed 's/^/  /'
for m in "$data"/member-*; do
  name=$(basename "$m")
  "$member" keygen --state-dir "$round/$name/state" > /dev/null
  "$agg" pool add-member --dir "$assoc" "Bakery ${name#member-}" "$(cat "$round/$name/state/member.pub")" > /dev/null
done
echo "  30 members created their keys; the association added them to the roster"
"$agg" pool sign --dir "$assoc" | sed 's/^/  /'
"$agg" round new --dir "$assoc" --from examples/rounds/2025q4.toml | sed 's/^/  /'
"$agg" round preview --dir "$assoc" 2025q4 --expected-members 30 | sed 's/^/  /'
"$agg" round sign --dir "$assoc" 2025q4 | sed 's/^/  /'

echo "== 3. each bakery joins, validates, and exports its contribution =="
first=1
for m in "$data"/member-*; do
  name=$(basename "$m")
  state="$round/$name/state"
  "$member" join --yes "$assoc/pool.sig.json" --state-dir "$state" > /dev/null
  "$member" validate --max-errors 5 "$m/sales.csv" "$m/costs.csv" > /dev/null
  if [ "$first" = 1 ]; then
    echo "  -- what $name sees before exporting (coopbench plan):"
    "$member" plan --round "$assoc/rounds/2025q4.sig.json" "$m/sales.csv" "$m/costs.csv" --state-dir "$state" | sed 's/^/     /'
    first=0
  fi
  "$member" export --round "$assoc/rounds/2025q4.sig.json" "$m/sales.csv" "$m/costs.csv" \
    -o "$round/inbox/$name.json" --state-dir "$state" | tail -n 3 | head -n 1 | sed "s/^/  $name: /"
done

echo "== 4. the association merges them into benchmarks =="
"$agg" merge --pool "$assoc/pool.sig.json" --round "$assoc/rounds/2025q4.sig.json" "$round/inbox" --out "$data/benchmarks" | sed 's/^/  /'
"$agg" inspect "$data/benchmarks" | sed 's/^/  /'
find "$data/benchmarks" -name '*.parquet' | sort | sed 's/^/  wrote /'

echo "== 5. a dirty export and what validate says about it =="
set +e
"$member" validate examples/dirty/sales.csv
code=$?
set -e
echo "(exit code $code: 0 valid, 1 invalid data, 2 usage or I/O error)"
[ "$code" -eq 1 ]

echo "== 6. member-01 sees where it stands (coopbench compare: local only, nothing sent or spent) =="
"$member" compare --benchmarks "$data/benchmarks" "$data/member-01/sales.csv" "$data/member-01/costs.csv" \
  --html "$data/compare-member-01.html" --state-dir "$round/member-01/state" | sed 's/^/  /'

