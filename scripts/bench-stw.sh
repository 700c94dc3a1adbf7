#!/usr/bin/env bash
# bench-stw.sh — our `stw` workload and its Go 1.19 peer, same load shape,
# same duration, one run each (docs/notes/benchmarks-history.md, "Stop-the-world").
#   scripts/bench-stw.sh [BUILD_DIR] [RATE] [DURATION] [DRIVER]
# DRIVER: goroutine (default; like Go's runtime.GC caller) or thread.
# The machine is shared: serialise it with other benchmarks (flock) and keep
# the median of several runs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
rate=${2:-200}
dur=${3:-5s}
driver=${4:-goroutine}
procs=2
echo "== gmprun stw (procs $procs, rate $rate/s, $dur, driver $driver)"
"$build/bin/gmprun" --procs "$procs" --quiet stw --rate "$rate" --duration "$dur" --driver "$driver"
echo "== go 1.19 peer (GOMAXPROCS $procs, runtime.GC $rate/s, $dur)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$here/tests/bench/go/stw" && go build -o "$tmp/go-stw" .)
GOMAXPROCS=$procs "$tmp/go-stw" -rate "$rate" -duration "$dur"
