#!/usr/bin/env bash
# Side by side: `gmprun orders` and its Go twin (tests/bench/go/orders), same
# rate, same duration, same Ps, runs alternated (gmprt, Go, gmprt, Go, …) so
# that the machine's load falls on both alike. Prints one markdown table per
# rate (median and range over the runs of each figure, and the ratio of the
# medians) and, with --sweep, the highest rate each sustained: every run at
# that rate held it (rate_held=true) with p99 <= --p99-limit.
#
#   scripts/bench-orders.sh                          # 127000/s, 5 x 3 s each
#   scripts/bench-orders.sh --rate 500000 --reps 3
#   scripts/bench-orders.sh --sweep "250000 500000 750000 1000000" --reps 3
#
# Options: --rate N, --reps N, --duration DUR (3s), --procs N (2),
# --sweep "R1 R2 …", --p99-limit US (100), --out DIR (raw summary lines are
# kept there; default a temporary directory), --build DIR (build).
# For a suite: exits 0 when every run passed its own checks, 1 if one did
# not, 2 for bad usage; the tables go to stdout, progress to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

rate=127000 reps=5 duration=3s procs=2 sweep="" limit=100 out="" build=build
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --procs) procs="$2"; shift 2 ;;
    --sweep) sweep="$2"; shift 2 ;;
    --p99-limit) limit="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    *) echo "bench-orders.sh: unknown option '$1' (see the header of this script)" >&2; exit 2 ;;
  esac
done
[ -x "$build/bin/gmprun" ] || { echo "bench-orders.sh: $build/bin/gmprun not built (scripts/build.sh)" >&2; exit 2; }
if [ -z "$out" ]; then out="$(mktemp -d)"; fi
mkdir -p "$out"
(cd tests/bench/go/orders && go build -o "$out/orders-go" .)
go_dur="$duration"

failed=0
# run_pair RATE I: one run of each, appending their summary lines.
run_pair() {
  local r="$1" i="$2" line
  echo "bench-orders.sh: rate $r run $i/$reps: gmprt" >&2
  line=$("$build/bin/gmprun" --quiet --procs "$procs" orders --rate "$r" --duration "$duration" 2>"$out/gmprt-$r-$i.err" | grep '^summary') || true
  [ -n "$line" ] || { line="summary workload=orders ok=false"; failed=1; cat "$out/gmprt-$r-$i.err" >&2; }
  echo "$line" >>"$out/gmprt-$r.txt"
  echo "bench-orders.sh: rate $r run $i/$reps: go" >&2
  line=$("$out/orders-go" -procs "$procs" -rate "$r" -duration "$go_dur" 2>"$out/go-$r-$i.err" | grep '^summary') || true
  [ -n "$line" ] || { line="summary workload=orders-go ok=false"; failed=1; cat "$out/go-$r-$i.err" >&2; }
  echo "$line" >>"$out/go-$r.txt"
}

# table RATE: medians, ranges and ratios from the kept lines.
table() {
  python3 - "$out/gmprt-$1.txt" "$out/go-$1.txt" "$1" "$limit" <<'PY'
import sys, statistics
def load(p):
    rows = []
    for line in open(p):
        d = dict(t.split("=", 1) for t in line.split()[1:] if "=" in t)
        rows.append(d)
    return rows
a, b, rate, limit = load(sys.argv[1]), load(sys.argv[2]), sys.argv[3], float(sys.argv[4])
def vals(rows, k):
    out = []
    for r in rows:
        try: out.append(float(r[k]))
        except (KeyError, ValueError): pass
    return out
def cell(v):
    if not v: return "–"
    m = statistics.median(v)
    return "%s (%s–%s)" % (fmt(m), fmt(min(v)), fmt(max(v)))
def fmt(x):
    return "%.0f" % x if x >= 100 else "%.3g" % x
print("\n### orders at %s/s: gmprt vs Go (%d + %d runs, alternated)\n" % (rate, len(a), len(b)))
print("| figure | gmprt median (range) | Go median (range) | gmprt ÷ Go |")
print("|---|---|---|---|")
for k, name in [("rate_achieved", "orders/s achieved"), ("lat_p50_us", "p50 µs"), ("lat_p99_us", "p99 µs"),
                ("lat_p999_us", "p99.9 µs"), ("lat_max_us", "max µs"), ("stage_gen_p99_us", "generator lateness p99 µs")]:
    va, vb = vals(a, k), vals(b, k)
    ratio = "%.2f×" % (statistics.median(va) / statistics.median(vb)) if va and vb and statistics.median(vb) > 0 else "–"
    print("| %s | %s | %s | %s |" % (name, cell(va), cell(vb), ratio))
held = lambda rows: sum(1 for r in rows if r.get("rate_held") == "true" and float(r.get("lat_p99_us", "inf")) <= limit)
ok = lambda rows: sum(1 for r in rows if r.get("check") == "true")
print("| runs that held the rate with p99 ≤ %g µs | %d of %d | %d of %d | |" % (limit, held(a), len(a), held(b), len(b)))
print("| runs whose checks passed | %d of %d | %d of %d | |" % (ok(a), len(a), ok(b), len(b)))
PY
}

sustained() {  # the highest rate each held over the sweep, with and without the latency bound
  python3 - "$out" "$limit" $sweep <<'PY'
import sys, os
out, limit, rates = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
def rows(who, r):
    return [dict(t.split("=", 1) for t in l.split()[1:] if "=" in t) for l in open(os.path.join(out, "%s-%s.txt" % (who, r)))]
def best(who, latency_too):
    b = "none"
    for r in rates:
        rs = rows(who, r)
        if rs and all(x.get("rate_held") == "true" and (not latency_too or float(x.get("lat_p99_us", "inf")) <= limit) for x in rs):
            b = r
    return b
print("\nHighest rate sustained (every run held it, p99 ≤ %g µs): gmprt %s/s, Go %s/s (of %s)" %
      (limit, best("gmprt", True), best("go", True), ", ".join(rates)))
print("Highest rate held whatever the latency (every run): gmprt %s/s, Go %s/s" % (best("gmprt", False), best("go", False)))
PY
}

rates="${sweep:-$rate}"
load0=$(cut -d' ' -f1 /proc/loadavg)
for r in $rates; do
  rm -f "$out/gmprt-$r.txt" "$out/go-$r.txt"
  for i in $(seq 1 "$reps"); do run_pair "$r" "$i"; done
done
load1=$(cut -d' ' -f1 /proc/loadavg)
echo "Machine: $(nproc) CPUs, $(uname -r); load average $load0 at the start, $load1 at the end; $(date -u '+%Y-%m-%d %H:%M UTC')."
if [ -n "$sweep" ]; then what="--sweep \"$sweep\""; else what="--rate $rate"; fi
echo "Command: scripts/bench-orders.sh --reps $reps --duration $duration --procs $procs $what"
for r in $rates; do table "$r"; done
if [ -n "$sweep" ]; then sustained; fi
grep -q "check=false" "$out"/gmprt-*.txt "$out"/go-*.txt 2>/dev/null && failed=1
exit "$failed"
