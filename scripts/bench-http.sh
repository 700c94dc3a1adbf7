#!/usr/bin/env bash
# bench-http.sh — one side-by-side run: `gmprun http` vs the Go 1.19 net/http
# hello server vs a minimal C epoll loop (wrk), and `gmprun echo` vs a Go echo
# server (512-byte messages, tests/bench/go/echo as the client). Server
# pinned to CPU 0 with one P / GOMAXPROCS=1, load on CPU 1. Then syscalls per
# request of gmprun's threads (strace -c -f, a separate short run: strace
# slows the server, so only the counts are used).
#
# usage: scripts/bench-http.sh [BUILD_DIR] [RUNS] [SECONDS] [CONNS]
set -euo pipefail
BUILD=${1:-build}
RUNS=${2:-3}
DUR=${3:-5}
CONNS=${4:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GMPRUN="$ROOT/$BUILD/bin/gmprun"
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
[ -x "$GMPRUN" ] || { echo "bench-http: $GMPRUN not found (build first)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench-http: wrk not installed" >&2; exit 2; }
(cd "$ROOT/tests/bench/go/http_hello" && go build -o "$TMP/go_http" .)
(cd "$ROOT/tests/bench/go/echo" && go build -o "$TMP/go_echo" .)
cc -O2 -o "$TMP/epoll_hello" "$ROOT/tests/bench/epoll_hello.c"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); print v} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s/,"",v); print v*1e6} }'; }

# run_wrk NAME PORT: appends "rps p99_us" per run to $TMP/NAME
run_wrk() {
  local out
  out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "http://127.0.0.1:$2/")
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}' | to_us)
  echo "$rps $p99" >> "$TMP/$1"
}

wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }

for r in $(seq "$RUNS"); do
  taskset -c 0 "$GMPRUN" --quiet --procs 1 --cpus 0 http --port 18080 >/dev/null 2>&1 & p=$!
  wait_port 18080; run_wrk gmp 18080; kill -INT $p; wait $p || true
  GOMAXPROCS=1 taskset -c 0 "$TMP/go_http" -addr 127.0.0.1:18081 >/dev/null 2>&1 & p=$!
  wait_port 18081; run_wrk go 18081; kill $p; wait $p 2>/dev/null || true
  taskset -c 0 "$TMP/epoll_hello" 18082 >/dev/null 2>&1 & p=$!
  wait_port 18082; run_wrk epoll 18082; kill $p; wait $p 2>/dev/null || true
  # echo, 512-byte messages
  taskset -c 0 "$GMPRUN" --quiet --procs 1 --cpus 0 echo --port 17007 >/dev/null 2>&1 & p=$!
  wait_port 17007
  taskset -c 1 "$TMP/go_echo" -client -addr 127.0.0.1:17007 -c "$CONNS" -size 512 -d "${DUR}s" | awk '{print $2}' >> "$TMP/gmp_echo"
  kill -INT $p; wait $p || true
  GOMAXPROCS=1 taskset -c 0 "$TMP/go_echo" -addr 127.0.0.1:17008 >/dev/null 2>&1 & p=$!
  wait_port 17008
  GOMAXPROCS=1 taskset -c 1 "$TMP/go_echo" -client -addr 127.0.0.1:17008 -c "$CONNS" -size 512 -d "${DUR}s" | awk '{print $2}' >> "$TMP/go_echo_r"
  kill $p; wait $p 2>/dev/null || true
done

m() { awk "{print \$$2}" "$TMP/$1" | median; }
G_RPS=$(m gmp 1); G_P99=$(m gmp 2); O_RPS=$(m go 1); O_P99=$(m go 2); E_RPS=$(m epoll 1); E_P99=$(m epoll 2)
GE=$(median < "$TMP/gmp_echo"); OE=$(median < "$TMP/go_echo_r")

# Syscalls per request of gmprun's threads (a separate, shorter run).
SYSC="n/a"
if command -v strace >/dev/null; then
  taskset -c 0 strace -f -c -o "$TMP/strace" "$GMPRUN" --quiet --procs 1 --cpus 0 http --port 18083 --duration 4s > "$TMP/sum" 2>/dev/null & p=$!
  wait_port 18083
  taskset -c 1 wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:18083/" >/dev/null
  wait $p || true
  REQ=$(grep -o 'requests=[0-9]*' "$TMP/sum" | cut -d= -f2)
  ENTERS=$(awk '$NF=="io_uring_enter" {print $4}' "$TMP/strace")
  TOTAL=$(awk '$NF=="total" {print $4}' "$TMP/strace")
  SYSC=$(awk -v e="${ENTERS:-0}" -v t="${TOTAL:-0}" -v r="${REQ:-1}" 'BEGIN {printf "%.3f io_uring_enter, %.3f all (incl. sysmon and startup)", e/r, t/r}')
  echo "strace -c -f of gmprun http ($REQ requests):"; head -15 "$TMP/strace"
fi

printf '\n%-28s %14s %12s\n' "server (1 core, wrk -c$CONNS)" "requests/s" "p99 (us)"
printf '%-28s %14.0f %12.0f\n' "gmprun http" "$G_RPS" "$G_P99" "go 1.19 net/http" "$O_RPS" "$O_P99" "C epoll loop" "$E_RPS" "$E_P99"
awk -v g="$G_RPS" -v o="$O_RPS" -v e="$E_RPS" -v gp="$G_P99" -v op="$O_P99" 'BEGIN {
  printf "ratios: gmprun/go rps %.2fx (goal >= 1.5), p99 %.2fx (goal <= 0.5), gmprun/epoll rps %.2fx (goal >= 1)\n", g/o, gp/op, g/e }'
printf '\n%-28s %14s\n' "echo 512 B (c=$CONNS)" "msgs/s"
printf '%-28s %14.0f\n%-28s %14.0f\n' "gmprun echo" "$GE" "go 1.19 echo" "$OE"
awk -v g="$GE" -v o="$OE" 'BEGIN {printf "ratio gmprun/go %.2fx\n", g/o}'
echo "syscalls per request (gmprun http): $SYSC"
echo "medians of $RUNS runs of ${DUR}s"
