#!/usr/bin/env bash
# bench-stw-runs.sh — our `stw` workload and its Go 1.19 peer as RUNS
# interleaved pairs (ours, then Go, same load shape and duration), so that
# both see the same moment of a shared machine; prints every pair, the
# slow stops our runtime explained (docs/STW.md, "Slow stops explained"),
# and the medians with the p99 ratio. scripts/bench-stw.sh is one pair.
#   scripts/bench-stw-runs.sh [BUILD_DIR] [RUNS] [RATE] [DURATION]
# Defaults: build 5 200 5s. Figures: docs/notes/benchmarks-history.md, "Stop-the-world".
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${2:-5}
rate=${3:-200}
dur=${4:-5s}
die() { echo "bench-stw-runs.sh: $*" >&2; exit 1; }
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$runs'"
[[ "$rate" =~ ^[1-9][0-9]*$ ]] || die "RATE must be a positive integer (stops a second), not '$rate'"
[[ "$dur" =~ ^[0-9]+(ms|s)$ ]] || die "DURATION must look like 5s or 500ms, not '$dur'"
command -v go >/dev/null || die "go not found (scripts/install-deps.sh)"
command -v python3 >/dev/null || die "python3 not found"
[ -x "$build/bin/gmprun" ] || die "$build/bin/gmprun not found (scripts/build.sh $build)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd tests/bench/go/stw && go build -o "$tmp/go-stw" .) || die "cannot build the Go peer"
for i in $(seq 1 "$runs"); do
  "$build/bin/gmprun" --procs 2 --quiet stw --rate "$rate" --duration "$dur" > "$tmp/ours.$i" 2>&1 ||
    die "run $i: gmprun failed: $(tail -1 "$tmp/ours.$i")"
  GOMAXPROCS=2 "$tmp/go-stw" -rate "$rate" -duration "$dur" > "$tmp/go.$i" 2>&1 ||
    die "run $i: the Go peer failed: $(tail -1 "$tmp/go.$i")"
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "$i $load $tmp/ours.$i $tmp/go.$i"
done | python3 -c "$(cat <<'PY'
import statistics, sys

def summary(path):
    for line in open(path):
        if line.startswith("summary "):
            return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    sys.exit(f"bench-stw-runs.sh: no summary line in {path}")

rows = []
for line in sys.stdin:
    i, load, ours_path, go_path = line.split()
    o, g = summary(ours_path), summary(go_path)
    slow = [l.strip() for l in open(ours_path) if l.startswith("  stop-the-world")]
    causes = ", ".join(f"{k[5:]} {v}" for k, v in o.items()
                       if k.startswith("slow_") and k not in ("slow_stops", "slow_threshold_us") and v != "0") or "none"
    r = dict(load=float(load), sp99=float(o["user_stopping_p99_us"]), tp99=float(o["user_total_p99_us"]),
             tmax=float(o["user_total_max_us"]), over=int(o["user_total_over_200us"]),
             gp99=float(g["pause_p99_us"]), gmax=float(g["pause_max_us"]))
    rows.append(r)
    print(f"run {i} (load {r['load']:.2f}): ours stopping p99 {r['sp99']:.1f}  total p99 {r['tp99']:.1f}  "
          f"max {r['tmax']:.1f} us  over 200 us {r['over']} ({causes})  |  Go pause p99 {r['gp99']:.1f}  "
          f"max {r['gmax']:.1f} us  |  Go/ours p99 {r['gp99'] / r['tp99']:.0f}x")
    for s in slow:
        print(f"    {s}")
med = lambda k: statistics.median(r[k] for r in rows)
print(f"median of {len(rows)}: ours stopping p99 {med('sp99'):.1f}  total p99 {med('tp99'):.1f}  "
      f"max {med('tmax'):.1f} us  |  Go pause p99 {med('gp99'):.1f}  max {med('gmax'):.1f} us  |  "
      f"Go/ours p99 {statistics.median(r['gp99'] / r['tp99'] for r in rows):.0f}x  |  "
      f"runs with max <= 200 us: {sum(r['tmax'] <= 200 for r in rows)} of {len(rows)}")
PY
)"
