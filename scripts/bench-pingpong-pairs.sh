#!/usr/bin/env bash
# bench-pingpong-pairs.sh — 1-P unbuffered ping-pong, ours against Go 1.19,
# as interleaved pairs: each pair runs gmpbench's BM_GmpChanPingPong/1 and
# Go's BenchmarkChanPingPong1P back to back, so both see the same moment of a
# shared machine; prints every pair and the medians (ours, Go, ratio).
# scripts/bench-chan.sh runs each side once for all benchmarks; on a VM whose
# load moves, pairing is what keeps the ping-pong ratio honest.
#   scripts/bench-pingpong-pairs.sh [BUILD_DIR] [PAIRS] [SECONDS_PER_RUN]
# Definitions: tools/gmpbench/bench_chan.cpp, tests/bench/go/chan/chan_test.go.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
pairs=${2:-9}
secs=${3:-0.3}
die() { echo "bench-pingpong-pairs.sh: $*" >&2; exit 1; }
[[ "$pairs" =~ ^[1-9][0-9]*$ ]] || die "PAIRS must be a positive integer, not '$pairs'"
command -v go >/dev/null || die "go not found (scripts/install-deps.sh)"
[ -x "$build/bin/gmpbench" ] || die "$build/bin/gmpbench not found (scripts/build.sh $build)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd tests/bench/go/chan && GOFLAGS=-mod=mod GO111MODULE=on GOPROXY=off go test -c -o "$tmp/chan.test" .) ||
  die "cannot build the Go benchmark"
for i in $(seq 1 "$pairs"); do
  ours=$("$build/bin/gmpbench" --benchmark_filter='^BM_GmpChanPingPong/1/' --benchmark_min_time="$secs" \
           --benchmark_format=json 2>/dev/null |
         python3 -c 'import json, sys; print(json.load(sys.stdin)["benchmarks"][0]["ns_per_op"])')
  go=$("$tmp/chan.test" -test.run '^$' -test.bench '^BenchmarkChanPingPong1P$' -test.benchtime "${secs}s" \
         -test.count 1 | awk '/ns\/op/ {print $3}')
  [ -n "$ours" ] && [ -n "$go" ] || die "pair $i: a benchmark printed no figure"
  echo "$ours $go"
done | python3 -c '
import statistics, sys
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
for i, (o, g) in enumerate(rows, 1):
    print(f"pair {i:2d}: ours {o:7.1f} ns  Go {g:7.1f} ns  Go/ours {g / o:5.2f}x")
med = statistics.median
print(f"median of {len(rows)}: ours {med(o for o, _ in rows):.1f} ns  Go {med(g for _, g in rows):.1f} ns  "
      f"Go/ours {med(g / o for o, g in rows):.2f}x")'
