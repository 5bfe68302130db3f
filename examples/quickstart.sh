#!/usr/bin/env bash
# coopbench quick start: one whole round on the bundled example, end to end.
#   examples/quickstart.sh               two-server mode (the default): an independent
#     helper (its own keys and state in examples/data/round/helper) holds one share
#     of every bakery's figures; each bakery adds 1/25 of the noise variance (n_min 25)
#   examples/quickstart.sh --mode local  local mode: each bakery adds the full noise
#     (at 30 members most figures are then too noisy to read; docs/accuracy.md)
#  1. generate a year of sales and cost files for 30 example bakeries (seeded);
#  2. the association creates the pool, each bakery creates its key, the
#     association adds the keys to the roster, signs the pool and the example
#     round (examples/rounds/2025q4-30-members.toml), and previews its accuracy
#     in both modes;
#  3. each bakery joins, validates, plans and exports its noised contribution;
#  4. the association merges the 30 contributions into benchmark Parquet files
#     (examples/data/benchmarks/<table>/2025q4.parquet), prints them,
#     and writes the report it sends every member (examples/data/benchmark-report.html);
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
mode=two-server
case "${1:-} ${2:-}" in
  "--mode two-server"|"--mode=two-server "*|" ") mode=two-server ;;
  "--mode local"|"--mode=local "*) mode=local ;;
  *) echo "usage: $0 [--mode local|two-server]" >&2; exit 2 ;;
esac
target="${CARGO_TARGET_DIR:-target}"
export COOPBENCH_TODAY=2026-11-23
echo "== building coopbench and coopbench-aggregator (debug) =="
cargo build -q --bin coopbench --bin coopbench-aggregator --bin coopbench-examples
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
template="$round/2025q4.toml"
if [ "$mode" = two-server ]; then
  helper="$round/helper"
  echo "  -- two-server: the helper (an independent party) creates its keys in $helper"
  "$agg" helper keygen --dir "$helper" --name "Example helper (an independent accounting firm)" \
    --n-min 25 --t 0 > "$round/helper-block.toml"
  cp examples/rounds/2025q4-30-members.toml "$template"
  grep -v '^#' "$round/helper-block.toml" >> "$template"
  echo "  the association pasted the helper's [two_server] block into $template"
else
  sed -e 's/^mode = "two-server"$/mode = "local"/' examples/rounds/2025q4-30-members.toml > "$template"
fi
for m in "$data"/member-*; do
  name=$(basename "$m")
  "$member" keygen --state-dir "$round/$name/state" > /dev/null
  "$agg" pool add-member --dir "$assoc" "Bakery ${name#member-}" "$(cat "$round/$name/state/member.pub")" > /dev/null
done
echo "  30 members created their keys; the association added them to the roster"
"$agg" pool sign --dir "$assoc" | sed 's/^/  /'
"$agg" round new --dir "$assoc" --from "$template" | sed 's/^/  /'
"$agg" round preview --dir "$assoc" 2025q4 --expected-members 30 --typical revenue=120000 \
  --typical gross_margin=0.68 --typical rent_share=0.07 --typical wage_share=0.33 \
  --typical avg_ticket=6 --typical growth=0.1 | sed 's/^/  /'
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
merge=("$agg" merge --pool "$assoc/pool.sig.json" --round "$assoc/rounds/2025q4.sig.json" "$round/inbox" --out "$data/benchmarks")
if [ "$mode" = two-server ]; then
  "${merge[@]}" --dir "$assoc" --batch "$round/helper-batch.sig.json" | sed 's/^/  /'
  echo "  -- the helper answers the batch (it holds only its own keys and state):"
  "$agg" helper sum --dir "$helper" --pool "$assoc/pool.sig.json" --round "$assoc/rounds/2025q4.sig.json" \
    --batch "$round/helper-batch.sig.json" -o "$round/helper-sum.sig.json" | sed 's/^/     /'
  "${merge[@]}" --helper-sum "$round/helper-sum.sig.json" | sed 's/^/  /'
else
  "${merge[@]}" | sed 's/^/  /'
fi
"$agg" inspect "$data/benchmarks" | sed 's/^/  /'
find "$data/benchmarks" -name '*.parquet' | sort | sed 's/^/  wrote /'
echo "  -- the association's report for every member (one self-contained HTML file):"
"$agg" report "$data/benchmarks" --html "$data/benchmark-report.html" --force | sed 's/^/  /'

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

