#!/usr/bin/env bash
# Side-by-side scheduler benchmarks (issue 2): gmprt vs Go 1.19 vs Boost.Fiber
# in one run, printed as ONE table of medians with ratios Go/ours and
# Boost/ours (> 1: we are faster or smaller).
#
#   scripts/bench.sh                 # 5 repetitions, 1 s per repetition
#   REPS=3 MIN_TIME=0.5 scripts/bench.sh
#   BUILD_DIR=build-rel scripts/bench.sh
#
# What runs (definitions: tools/gmpbench/bench_sched.cpp and
# tests/bench/go/sched/sched_test.go, docs/BENCH-DEFINITIONS.md):
#   gmpbench (ours + Boost.Fiber, Google Benchmark, --benchmark_repetitions),
#   go test -bench (tests/bench/go/sched, -count), and the 1M-parked-goroutine
#   RSS programs (gmp_parked_rss and tests/bench/go/parked_rss), RSS_REPS times.
# Exits non-zero only when something fails to build or run; missed goals are
# reported in the table, never as a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

REPS="${REPS:-5}"
MIN_TIME="${MIN_TIME:-1}"     # seconds per repetition, ours and Go alike
RSS_REPS="${RSS_REPS:-3}"
RSS_N="${RSS_N:-1000000}"
BUILD_DIR="${BUILD_DIR:-build}"

die() { echo "bench.sh: $*" >&2; exit 1; }
command -v go >/dev/null || die "go not found (install golang-go: scripts/install-deps.sh)"
command -v python3 >/dev/null || die "python3 not found"

gen=()
command -v ninja >/dev/null && [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && gen=(-G Ninja)
cmake -S . -B "$BUILD_DIR" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGMP_BUILD_BENCH=ON >/dev/null ||
  die "cmake configure failed"
cmake --build "$BUILD_DIR" -j"$(nproc)" --target gmpbench gmp_parked_rss >/dev/null || die "build of gmpbench failed"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# The Go peers work offline: a go.mod per folder, standard library only.
export GOFLAGS=-mod=mod GO111MODULE=on GOPROXY=off

echo "bench.sh: gmpbench (ours + Boost.Fiber), $REPS x ${MIN_TIME}s" >&2
"$BUILD_DIR/bin/gmpbench" --benchmark_filter='^BM_(Gmp|Boost)(YieldPair|SpawnJoin|SpawnWaitGroup|Skynet|WakeCrossP)' \
  --benchmark_repetitions="$REPS" --benchmark_min_time="$MIN_TIME" \
  --benchmark_out="$out/gmpbench.json" --benchmark_out_format=json >"$out/gmpbench.txt" 2>&1 ||
  { cat "$out/gmpbench.txt" >&2; die "gmpbench failed"; }

echo "bench.sh: go test -bench (Go $(go env GOVERSION)), $REPS x ${MIN_TIME}s" >&2
(cd tests/bench/go/sched && go test -run '^$' -bench . -benchtime "${MIN_TIME}s" -count "$REPS") >"$out/go.txt" 2>&1 ||
  { cat "$out/go.txt" >&2; die "go test -bench failed"; }

echo "bench.sh: parked RSS, $RSS_N goroutines, $RSS_REPS runs each" >&2
(cd tests/bench/go/parked_rss && go build -o "$out/go_parked_rss" .) || die "go build of parked_rss failed"
for _ in $(seq "$RSS_REPS"); do
  "$BUILD_DIR/bin/gmp_parked_rss" "$RSS_N" >>"$out/rss.txt" || die "gmp_parked_rss failed"
  "$out/go_parked_rss" -n "$RSS_N" >>"$out/rss.txt" || die "go parked_rss failed"
done

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "machine: $cpu, $(nproc) CPUs, kernel $(uname -r); $(go version | cut -d' ' -f3); Boost $(dpkg-query -W -f='${Version}' libboost-fiber-dev 2>/dev/null || echo '?')"
echo "command: REPS=$REPS MIN_TIME=$MIN_TIME RSS_REPS=$RSS_REPS scripts/bench.sh"
echo

python3 - "$out" <<'EOF' || die "could not build the table"
import json, re, statistics, sys
out = sys.argv[1]

# Ours and Boost: per-repetition values of a counter, median over repetitions.
gb = {}
for b in json.load(open(f"{out}/gmpbench.json"))["benchmarks"]:
    if b.get("run_type") != "iteration":
        continue
    if b.get("error_occurred"):
        sys.exit(f"gmpbench: {b['name']}: {b.get('error_message')}")
    name = b["run_name"].replace("/manual_time", "")
    gb.setdefault(name, []).append(b)

def ours(name, counter="ns_per_op"):
    runs = gb.get(name)
    return statistics.median(r[counter] for r in runs) if runs else None

# Go: "BenchmarkX/sub-2  N  v unit  v unit ..."; median per (name, unit).
go = {}
for line in open(f"{out}/go.txt"):
    m = re.match(r"^(Benchmark\S+?)(-\d+)?\s+\d+\s+(.*)$", line)
    if not m:
        continue
    f = m.group(3).split()
    for v, unit in zip(f[0::2], f[1::2]):
        go.setdefault((m.group(1), unit), []).append(float(v))

def gov(name, unit):
    v = go.get((name, unit))
    return statistics.median(v) if v else None

rss = {"gmp": [], "go": []}
for line in open(f"{out}/rss.txt"):
    kv = dict(p.split("=", 1) for p in line.split()[1:])
    rss[kv["runtime"]].append(float(kv["bytes_per_goroutine"]))

rows = [
    # label, unit, ours, Go, Boost, goal (text)
    ("yield G<->G, 1 P", "ns/switch", ours("BM_GmpYieldPair"), gov("BenchmarkYieldPair", "ns/op"),
     ours("BM_BoostYieldPair"), "Go/ours >= 3"),
    ("spawn+join (JoinHandle), 2 Ps", "ns/op", ours("BM_GmpSpawnJoin"), gov("BenchmarkSpawnJoin", "ns/op"),
     ours("BM_BoostSpawnJoin"), "Go/ours >= 3"),
    ("spawn+WaitGroup, 2 Ps", "ns/op", ours("BM_GmpSpawnWaitGroup"), gov("BenchmarkSpawnJoin", "ns/op"),
     None, "Go/ours >= 3"),
    ("skynet 1M (Go: channels; Boost: 100k tree), 2 Ps", "ns/goroutine", ours("BM_GmpSkynet"),
     gov("BenchmarkSkynet1M", "ns/goroutine"), ours("BM_BoostSkynet"), "Go/ours >= 3"),
    ("skynet 1M (Go: WaitGroup), 2 Ps", "ns/goroutine", ours("BM_GmpSkynet"),
     gov("BenchmarkSkynet1MWaitGroup", "ns/goroutine"), None, "(same tree as ours)"),
    ("cross-P wake p50, target spinning", "ns", ours("BM_GmpWakeCrossP/spinning", "p50_ns"),
     gov("BenchmarkWakeCrossP/spinning", "p50_ns"), None, "ours <= 5000"),
    ("cross-P wake p99, target spinning", "ns", ours("BM_GmpWakeCrossP/spinning", "p99_ns"),
     gov("BenchmarkWakeCrossP/spinning", "p99_ns"), None, ""),
    ("cross-P wake p50, target parked", "ns", ours("BM_GmpWakeCrossP/parked", "p50_ns"),
     gov("BenchmarkWakeCrossP/parked", "p50_ns"), None, ""),
    ("cross-P wake p99, target parked", "ns", ours("BM_GmpWakeCrossP/parked", "p99_ns"),
     gov("BenchmarkWakeCrossP/parked", "p99_ns"), None, ""),
    ("RSS per parked goroutine, 1M", "bytes", statistics.median(rss["gmp"]) if rss["gmp"] else None,
     statistics.median(rss["go"]) if rss["go"] else None, None, "Go/ours >= 0.5"),
]

def fmt(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"

def ratio(peer, o):
    return "-" if peer is None or o is None or o == 0 else f"{peer / o:.2f}x"

def verdict(goal, o, g):
    if o is None:
        return "-"
    m = re.match(r"(Go/ours|ours) (>=|<=) ([\d.]+)", goal)
    if not m:
        return ""
    val = (g / o if g else None) if m.group(1) == "Go/ours" else o
    if val is None:
        return "-"
    ok = val >= float(m.group(3)) if m.group(2) == ">=" else val <= float(m.group(3))
    return "met" if ok else "missed"

hdr = ("benchmark", "unit", "ours", "Go 1.19", "Boost.Fiber", "Go/ours", "Boost/ours", "goal", "")
table = [hdr] + [(l, u, fmt(o), fmt(g), fmt(b), ratio(g, o), ratio(b, o), goal, verdict(goal, o, g))
                 for l, u, o, g, b, goal in rows]
w = [max(len(r[i]) for r in table) for i in range(len(hdr))]
print("Medians of the repetitions; ratios are peer/ours, so > 1 means ours is faster (or smaller).")
print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(hdr)) + " |")
print("|" + "|".join("-" * (x + 2) for x in w) + "|")
for r in table[1:]:
    print("| " + " | ".join(c.ljust(w[i]) if i < 2 or i >= 7 else c.rjust(w[i]) for i, c in enumerate(r)) + " |")
wrong = [r["ran_on_waker_p"] for n in ("BM_GmpWakeCrossP/spinning", "BM_GmpWakeCrossP/parked") for r in gb.get(n, [])]
if any(wrong):
    print(f"note: {int(sum(wrong))} wake samples ran on the waker's P (not cross-P)")
EOF
