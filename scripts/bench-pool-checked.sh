#!/usr/bin/env bash
# bench-pool-checked.sh — what the pool's checked mode costs (docs/POOL.md,
# "Checked mode"): gmpbench's pool rows unchecked and checked, side by side.
# Checked mode is fixed per process, so each round runs gmpbench twice,
# unchecked then checked (GMP_POOL_CHECKED=0/1; the checked rows are named
# *-checked), in alternating order across rounds; the table gives each row's
# median over the rounds for both modes and their ratio.
#
# usage: scripts/bench-pool-checked.sh [BUILD_DIR] [ROUNDS] [MIN_TIME_S]
set -euo pipefail
BUILD=${1:-build}
ROUNDS=${2:-3}
MIN_TIME=${3:-0.1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/$BUILD/bin/gmpbench"
[ -x "$BENCH" ] || { echo "bench-pool-checked: $BENCH not found (build first: cmake --build $BUILD --target gmpbench)" >&2; exit 2; }
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "bench-pool-checked: ROUNDS '$ROUNDS' is not a count; give 1 or more" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

FILTER='^alloc/(pair|batch1024)/(16|64|256|mixed)/(pool|pool-inline|pool-p)(-checked)?$|^alloc/xthread/64/(pool|pool-inline)(-checked)?(/real_time)?$'
run() {  # run MODE ROUND
  GMP_POOL_CHECKED=$1 "$BENCH" --benchmark_filter="$FILTER" --benchmark_min_time="$MIN_TIME" \
    --benchmark_format=json --benchmark_out_format=json --benchmark_out="$TMP/$1-$2.json" >/dev/null 2>"$TMP/err" ||
    { cat "$TMP/err" >&2; exit 1; }
}
for r in $(seq "$ROUNDS"); do
  if (( r % 2 )); then run 0 "$r"; run 1 "$r"; else run 1 "$r"; run 0 "$r"; fi
  echo "bench-pool-checked: round $r of $ROUNDS done" >&2
done

echo "# gmpbench pool rows, ns per iteration as gmpbench reports it (median of $ROUNDS rounds, min_time ${MIN_TIME}s); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$TMP" <<'PY'
import json, pathlib, statistics, sys
rows = {}
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    checked = f.name.startswith("1-")
    for b in json.load(open(f))["benchmarks"]:
        name = b["name"].replace("/real_time", "").removesuffix("-checked")
        rows.setdefault(name, ([], []))[checked].append(b["real_time"] if "xthread" in name else b["cpu_time"])
print(f"{'row':36} {'unchecked':>10} {'checked':>10} {'ratio':>7}")
for name, (off, on) in rows.items():
    if not off or not on:
        continue
    a, b = statistics.median(off), statistics.median(on)
    print(f"{name:36} {a:10.1f} {b:10.1f} {b / a:6.2f}x")
PY
