#!/usr/bin/env bash
# The whole side-by-side benchmark suite in one command: builds what it needs
# (Release-like RelWithDebInfo, gmpbench included), then runs every area
# against its peers and writes docs/BENCHMARKS.md and docs/bench/*.svg.
#
#   scripts/bench-suite.sh                   # everything, 3 runs a case (~12 min on 2 vCPUs)
#   scripts/bench-suite.sh --quick --reps 1  # a smoke test of the suite itself (~3 min)
#   scripts/bench-suite.sh --areas sched,alloc --out /tmp/page.md
#
# Areas: sched, chan, alloc, stw, net, observe, orders (scripts/bench_suite.py
# --help). Run it on a quiet machine: every figure is a ratio measured side by
# side in this one run, so other load skews ours and the peers alike but
# widens every range. The tracer row needs root; the network rows need wrk.
# The per-area scripts (bench.sh, bench-chan.sh, bench-http.sh, …) remain for
# longer, deeper runs of one area.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
for a in "$@"; do
  if [[ "$a" == -h || "$a" == --help ]]; then exec python3 scripts/bench_suite.py --help; fi
done
command -v go >/dev/null || { echo "bench-suite.sh: go not found (scripts/install-deps.sh)" >&2; exit 2; }
echo "bench-suite.sh: building in $build" >&2
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGMP_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target gmprun gmpbench gmptrace >/dev/null 2>&1 ||
  cmake --build "$build" -j"$(nproc)" --target gmprun gmpbench >/dev/null
exec python3 scripts/bench_suite.py --build "$build" "$@"
