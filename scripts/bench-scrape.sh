#!/usr/bin/env bash
# bench-scrape.sh — what scraping /metrics every second costs a workload,
# side by side: runs alternate between the workload without a metrics
# endpoint (off) and with --metrics-addr and a curl of /metrics every
# second (scraped), and medians and ranges of each are compared.
#   - http: gmprun http on CPU 0 (one P), wrk on CPU 1: requests/s
#   - pingpong: gmprun pingpong on CPU 0 (one P): ns per round trip
# Also prints what one scrape costs (collect time from the server's own
# gmp_metrics_scrape_seconds_total, and the response size).
#
# usage: scripts/bench-scrape.sh [BUILD_DIR] [RUNS] [SECONDS]
set -euo pipefail
BUILD=${1:-build}
RUNS=${2:-5}
DUR=${3:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GMPRUN="$ROOT/$BUILD/bin/gmprun"
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
[ -x "$GMPRUN" ] || { echo "bench-scrape: $GMPRUN not found (build first)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench-scrape: wrk not installed" >&2; exit 2; }
command -v curl >/dev/null || { echo "bench-scrape: curl not installed" >&2; exit 2; }

stats() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f %.1f %.1f\n", m, a[1], a[NR]}'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }
# cpu_ns PID PATTERN: CPU time (ns, schedstat) of PID's threads whose name matches.
cpu_ns() { local t n=0; for t in /proc/$1/task/*; do grep -qE "$2" "$t/comm" 2>/dev/null && n=$((n + $(cut -d' ' -f1 "$t/schedstat"))); done; echo $n; }
# scrape PORT: GET /metrics once a second until killed (on CPU 1, beside the load).
scrape() { while :; do taskset -c 1 curl -sf -o /dev/null "http://127.0.0.1:$1/metrics" || true; sleep 1; done; }

# Free loopback ports, chosen per run (other servers may hold fixed ones).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
for r in $(seq "$RUNS"); do
  HP=$(free_port); MP=$(free_port)
  for mode in off scraped; do
    extra=(); [ "$mode" = scraped ] && extra=(--metrics-addr "$MP")
    taskset -c 0 "$GMPRUN" --quiet --procs 1 --cpus 0 "${extra[@]}" http --port "$HP" >/dev/null 2>&1 & p=$!
    wait_port "$HP"
    s=""; if [ "$mode" = scraped ]; then wait_port "$MP"; scrape "$MP" & s=$!; fi
    taskset -c 1 wrk -t1 -c64 -d"${DUR}s" "http://127.0.0.1:$HP/" | awk '/Requests\/sec/ {print $2}' >> "$TMP/http_$mode"
    if [ -n "$s" ]; then
      # The server's threads' CPU over the run: what the scrapes cost the
      # process, against what its Ms used.
      echo "$(cpu_ns "$p" '^civetweb') $(cpu_ns "$p" '^gmp-m')" >> "$TMP/cpu"
      curl -sf "http://127.0.0.1:$MP/metrics" > "$TMP/last.txt"
      kill "$s"; wait "$s" 2>/dev/null || true
    fi
    kill -INT "$p" 2>/dev/null || { echo "bench-scrape: gmprun http exited early" >&2; exit 1; }
    wait "$p" || true
  done
  # pingpong: one run of ~DUR seconds (about 700 ns a round trip here).
  n=$(( DUR * 1400000 ))
  for mode in off scraped; do
    extra=(); [ "$mode" = scraped ] && extra=(--metrics-addr "$MP")
    taskset -c 0 "$GMPRUN" --quiet --procs 1 --cpus 0 "${extra[@]}" pingpong --count "$n" > "$TMP/pp.out" 2>&1 & p=$!
    s=""; if [ "$mode" = scraped ]; then wait_port "$MP"; scrape "$MP" & s=$!; fi
    wait "$p" || true
    [ -n "$s" ] && { kill "$s"; wait "$s" 2>/dev/null || true; }
    grep -o 'ns_per_roundtrip=[0-9.]*' "$TMP/pp.out" | cut -d= -f2 >> "$TMP/pp_$mode"
  done
done

read -r HO HOL HOH < <(stats < "$TMP/http_off")
read -r HS HSL HSH < <(stats < "$TMP/http_scraped")
read -r PO POL POH < <(stats < "$TMP/pp_off")
read -r PS PSL PSH < <(stats < "$TMP/pp_scraped")
N=$(awk '$1=="gmp_metrics_scrapes_total" {print $2}' "$TMP/last.txt")
T=$(awk '$1=="gmp_metrics_scrape_seconds_total" {print $2}' "$TMP/last.txt")
B=$(wc -c < "$TMP/last.txt"); L=$(grep -vc '^#' "$TMP/last.txt")

echo "scrape cost, $RUNS alternating runs of ${DUR}s each (median [min, max]); server on CPU 0, load and curl on CPU 1"
printf '%-26s %26s %26s %9s\n' "" "off" "scraped every 1 s" "change"
printf '%-26s %10.0f [%6.0f, %6.0f] %10.0f [%6.0f, %6.0f] %+8.2f%%\n' "http requests/s" "$HO" "$HOL" "$HOH" "$HS" "$HSL" "$HSH" \
  "$(awk -v a="$HO" -v b="$HS" 'BEGIN {print (b-a)/a*100}')"
printf '%-26s %10.1f [%6.1f, %6.1f] %10.1f [%6.1f, %6.1f] %+8.2f%%\n' "pingpong ns/round trip" "$PO" "$POL" "$POH" "$PS" "$PSL" "$PSH" \
  "$(awk -v a="$PO" -v b="$PS" 'BEGIN {print (b-a)/a*100}')"
awk -v n="$N" -v t="$T" -v b="$B" -v l="$L" 'BEGIN {
  printf "one scrape: %.2f ms to collect (mean of %d), %d bytes, %d samples\n", (n ? t/n*1000 : 0), n, b, l }'
awk -v d="$DUR" '{c += $1; m += $2; n++} END {
  printf "scrape CPU (civetweb threads, http runs): %.2f ms per second of run = %.3f %% of one core, %.3f %% of the Ms\x27 CPU\n",
    c/n/d/1e6, c/n/d/1e9*100, (m ? c/m*100 : 0) }' "$TMP/cpu"
echo "goals: http within 2 %, pingpong within 1 %"
