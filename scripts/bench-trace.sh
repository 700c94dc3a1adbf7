#!/usr/bin/env bash
# bench-trace.sh — what tracing costs, side by side in one run (as root):
#   1. ping-pong (gmprun --procs 1 pingpong --count 1000000 --repeat 3, ns per
#      round trip): probes present and unattached (BUILD) vs probes compiled
#      out (BUILD_NOPROBES, -DGMP_PROBES=OFF) vs no frame pointers
#      (BUILD_NOFP, -DGMP_FRAME_POINTERS=OFF), vs gmptrace attached with its
#      default set;
#   2. gmprun http under wrk (req/s): untraced vs gmptrace attached (default
#      set) vs probes compiled out, and each optional unit alone (syscalls,
#      io, alloc --malloc) to say what each costs.
# Runs alternate A/B/C… RUNS times; prints the median and the range of each.
#
# usage: scripts/bench-trace.sh [RUNS] [HTTP_SECONDS] [BUILD] [BUILD_NOPROBES] [BUILD_NOFP]
#   the two extra builds: scripts/build.sh build-noprobes -DGMP_PROBES=OFF
#                         scripts/build.sh build-nofp -DGMP_FRAME_POINTERS=OFF
#   (a missing one is left out of the table, with a note)
set -euo pipefail
RUNS=${1:-5}
DUR=${2:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/${3:-build}
BNP=$ROOT/${4:-build-noprobes}
BNF=$ROOT/${5:-build-nofp}
TRACE=$B/bin/gmptrace
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
[ "$(id -u)" -eq 0 ] || { echo "bench-trace: run as root (gmptrace loads BPF programs)" >&2; exit 2; }
[ -x "$B/bin/gmprun" ] && [ -x "$TRACE" ] || { echo "bench-trace: $B/bin/gmprun or gmptrace missing (build first)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench-trace: wrk not installed" >&2; exit 2; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
range() { sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s-%s", lo, hi}'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }
nsrt() { grep -o 'ns_per_roundtrip=[0-9.]*' | tail -1 | cut -d= -f2; }

PP="--procs 1 --quiet pingpong --count 1000000 --repeat 3"
variants_pp=(present)
[ -x "$BNP/bin/gmprun" ] && variants_pp+=(compiled_out) || echo "note: $BNP/bin/gmprun missing: no compiled-out row"
[ -x "$BNF/bin/gmprun" ] && variants_pp+=(no_frame_pointers) || echo "note: $BNF/bin/gmprun missing: no frame-pointer row"
variants_pp+=(traced_default)

for r in $(seq "$RUNS"); do
  for v in "${variants_pp[@]}"; do
    case $v in
      present) x=$(taskset -c 0 "$B/bin/gmprun" --cpus 0 $PP 2>&1 | nsrt) ;;
      compiled_out) x=$(taskset -c 0 "$BNP/bin/gmprun" --cpus 0 $PP 2>&1 | nsrt) ;;
      no_frame_pointers) x=$(taskset -c 0 "$BNF/bin/gmprun" --cpus 0 $PP 2>&1 | nsrt) ;;
      traced_default) x=$("$TRACE" -- "$B/bin/gmprun" --cpus 0 $PP 2>&1 | nsrt) ;;
    esac
    echo "$x" >> "$TMP/pp_$v"
  done
done

# http: server pinned to CPU 0 with one P, wrk on CPU 1, gmptrace wherever.
run_http() {  # run_http NAME BIN GMPTRACE_ARGS|-
  taskset -c 0 "$2/bin/gmprun" --quiet --procs 1 --cpus 0 http --port 18090 >/dev/null 2>&1 & local p=$!
  wait_port 18090
  local t=""
  if [ "$3" != "-" ]; then
    # shellcheck disable=SC2086
    "$TRACE" -p $p $3 > "$TMP/trace_$1.out" 2>&1 & t=$!
    sleep 1.5  # attached (the start line is printed once everything is)
  fi
  taskset -c 1 wrk -t1 -c64 -d"${DUR}s" "http://127.0.0.1:18090/" | awk '/Requests\/sec/ {print $2}' >> "$TMP/http_$1"
  [ -n "$t" ] && { kill -INT $t; wait $t || true; }
  kill -INT $p; wait $p || true
}
variants_http=(untraced traced_default)
[ -x "$BNP/bin/gmprun" ] && variants_http+=(compiled_out)
variants_http+=(syscalls_only io_only malloc_only)
for r in $(seq "$RUNS"); do
  for v in "${variants_http[@]}"; do
    case $v in
      untraced) run_http $v "$B" - ;;
      traced_default) run_http $v "$B" "" ;;
      compiled_out) run_http $v "$BNP" - ;;
      syscalls_only) run_http $v "$B" "syscalls" ;;
      io_only) run_http $v "$B" "io" ;;
      malloc_only) run_http $v "$B" "--malloc alloc" ;;
    esac
  done
done

echo
echo "ping-pong, ns per round trip ($RUNS runs each, alternating; median, range):"
base=$(median < "$TMP/pp_present")
for v in "${variants_pp[@]}"; do
  m=$(median < "$TMP/pp_$v")
  printf "  %-20s %8s  (%s)  %+.1f %% vs present\n" "$v" "$m" "$(range < "$TMP/pp_$v")" \
    "$(awk -v a="$m" -v b="$base" 'BEGIN{print (a-b)/b*100}')"
done
echo "gmprun http under wrk -c64 for ${DUR}s, req/s ($RUNS runs each, alternating; median, range):"
base=$(median < "$TMP/http_untraced")
for v in "${variants_http[@]}"; do
  m=$(median < "$TMP/http_$v")
  printf "  %-20s %10s  (%s)  %.1f %% of untraced\n" "$v" "$m" "$(range < "$TMP/http_$v")" \
    "$(awk -v a="$m" -v b="$base" 'BEGIN{print a/b*100}')"
done
