#!/usr/bin/env bash
# Side-by-side channel/select/mutex/timer benchmarks (issue 3): gmprt vs Go
# 1.19 vs Boost.Fiber in one run, printed as one table of medians with ratios
# (Go/ours, Boost/ours: > 1 means we are faster).
#   scripts/bench-chan.sh            # 5 repetitions, 0.5 s each
#   REPS=3 MIN_TIME=0.3 BUILD_DIR=build-rel scripts/bench-chan.sh
# Definitions: tools/gmpbench/bench_chan.cpp, tests/bench/go/chan/chan_test.go.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS="${REPS:-5}"
MIN_TIME="${MIN_TIME:-0.5}"
BUILD_DIR="${BUILD_DIR:-build}"
die() { echo "bench-chan.sh: $*" >&2; exit 1; }
command -v go >/dev/null || die "go not found (scripts/install-deps.sh)"
gen=()
command -v ninja >/dev/null && [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && gen=(-G Ninja)
cmake -S . -B "$BUILD_DIR" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGMP_BUILD_BENCH=ON >/dev/null || die "configure failed"
cmake --build "$BUILD_DIR" -j"$(nproc)" --target gmpbench >/dev/null || die "build of gmpbench failed"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
export GOFLAGS=-mod=mod GO111MODULE=on GOPROXY=off
"$BUILD_DIR/bin/gmpbench" --benchmark_filter='^BM_((Gmp|Boost)(ChanPingPong|ChanProdCons|Select|MutexContended|Sleep1ms|Sleep1msNoLead)|ThreadSleep1ms)' \
  --benchmark_repetitions="$REPS" --benchmark_min_time="$MIN_TIME" \
  --benchmark_out="$out/ours.json" --benchmark_out_format=json >"$out/ours.txt" 2>&1 || { cat "$out/ours.txt" >&2; die "gmpbench failed"; }
(cd tests/bench/go/chan && go test -run '^$' -bench . -benchtime "${MIN_TIME}s" -count "$REPS") >"$out/go.txt" 2>&1 ||
  { cat "$out/go.txt" >&2; die "go test -bench failed"; }
python3 - "$out/ours.json" "$out/go.txt" <<'PY'
import json, re, statistics, sys
ours, boost, go, floor = {}, {}, {}, {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") != "iteration": continue
    name = b["run_name"].replace("/manual_time", "").replace("/iterations:2000", "")
    for key in ("ns_per_op", "p50_overshoot_ns", "p99_overshoot_ns"):
        if key in b:
            if name.startswith("BM_Thread"):  # the OS floor: its own row
                floor.setdefault(key, []).append(b[key]); continue
            tgt = ours if name.startswith("BM_Gmp") else boost
            tgt.setdefault((name.replace("BM_Gmp", "").replace("BM_Boost", ""), key), []).append(b[key])
for line in open(sys.argv[2]):
    m = re.match(r"Benchmark(\S+?)-\d+\s+\d+\s+([\d.]+) ns/op(.*)", line)
    if not m: continue
    go.setdefault((m.group(1), "ns_per_op"), []).append(float(m.group(2)))
    for v, k in re.findall(r"([\d.]+) (p\d+_overshoot_ns)", m.group(3)):
        go.setdefault((m.group(1), k), []).append(float(v))
gomap = {"ChanPingPong/1": "ChanPingPong1P", "ChanPingPong/2": "ChanPingPong2P", "ChanProdCons/0": "ChanProdCons0",
         "ChanProdCons/10": "ChanProdCons10", "ChanProdCons/100": "ChanProdCons100", "Select/2": "Select2",
         "Select/4": "Select4", "MutexContended": "MutexContended", "Sleep1ms": "Sleep1ms",
         "Sleep1msNoLead": "Sleep1ms"}
bmap = {"ChanPingPong/1": "ChanPingPong", "ChanProdCons/0": "ChanProdCons/0", "ChanProdCons/10": "ChanProdCons/10",
        "ChanProdCons/100": "ChanProdCons/100"}
med = lambda d, k: statistics.median(d[k]) if k in d else None
fmt = lambda v: "-" if v is None else f"{v:,.1f}"
ratio = lambda a, b: "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"
print(f"{'benchmark':<22}{'metric':<18}{'ours':>12}{'Go 1.19':>12}{'Boost':>12}{'Go/ours':>9}{'Boost/ours':>11}")
for (name, key) in sorted(ours):
    o = med(ours, (name, key)); g = med(go, (gomap.get(name, "?"), key)); b = med(boost, (bmap.get(name, "?"), key))
    print(f"{name:<22}{key:<18}{fmt(o):>12}{fmt(g):>12}{fmt(b):>12}{ratio(g, o):>9}{ratio(b, o):>11}")
for key in sorted(floor):  # plain-thread clock_nanosleep(1ms), slack 1 ns
    print(f"{'OsFloorSleep1ms':<22}{key:<18}{fmt(statistics.median(floor[key])):>12}")
PY
