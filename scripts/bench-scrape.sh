#!/usr/bin/env bash
# bench-scrape.sh — what scraping /metrics every second costs a workload,
# side by side, as paired runs: this machine's speed drifts by more than the
# 1-2 % measured, so each round compares two runs next to each other (their
# order alternating between rounds) and the figure is the median of the
# rounds' ratios.
#   - http: one gmprun http with --metrics-addr on CPU 0 (one P), wrk on
#     CPU 1 twice a round, with the scraper running (scraped) and stopped
#     (off): requests/s.
#   - pingpong: gmprun pingpong on CPU 0 (one P), the same count twice a
#     round, once with --metrics-addr and the scraper running (scraped) and
#     once without any endpoint (off): ns per round trip.
# The scraper (scripts/scrape-every.py) is one long-lived process on CPU 1
# reading /metrics once a second, as Prometheus does; it is started once and
# paused (SIGSTOP) for the off runs, so its start-up lands in no run.
# Also prints what one scrape costs (collect time from the server's own
# gmp_metrics_scrape_seconds_total, the response size, and the CPU the
# server's civetweb threads used during the scraped runs).
#
# usage: scripts/bench-scrape.sh [BUILD_DIR] [ROUNDS] [SECONDS]
set -euo pipefail
BUILD=${1:-build}
RUNS=${2:-9}
DUR=${3:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GMPRUN="$ROOT/$BUILD/bin/gmprun"
SCRAPER="$ROOT/scripts/scrape-every.py"
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
case "$RUNS$DUR" in *[!0-9]*) echo "bench-scrape: ROUNDS and SECONDS are whole numbers (got '$RUNS' '$DUR')" >&2; exit 2 ;; esac
[ "$RUNS" -ge 1 ] && [ "$DUR" -ge 1 ] || { echo "bench-scrape: ROUNDS and SECONDS must be at least 1" >&2; exit 2; }
[ -x "$GMPRUN" ] || { echo "bench-scrape: $GMPRUN not found (build first)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench-scrape: wrk not installed" >&2; exit 2; }
command -v python3 >/dev/null || { echo "bench-scrape: python3 not installed" >&2; exit 2; }
command -v curl >/dev/null || { echo "bench-scrape: curl not installed" >&2; exit 2; }

stats() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.4f %.4f %.4f\n", m, a[1], a[NR]}'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }
# cpu_ns PID PATTERN: CPU time (ns, schedstat) of PID's threads whose name matches.
cpu_ns() { local t n=0; for t in /proc/$1/task/*; do grep -qE "$2" "$t/comm" 2>/dev/null && n=$((n + $(cut -d' ' -f1 "$t/schedstat"))); done; echo $n; }
# Free loopback ports, chosen when needed (other servers may hold fixed ones).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# The scraper, started once on CPU 1 and paused between scraped runs.
SCR=""
scraper_port() {  # restart it on port $1 (paused)
  [ -n "$SCR" ] && { kill -CONT "$SCR" 2>/dev/null; kill "$SCR" 2>/dev/null; wait "$SCR" 2>/dev/null || true; }
  taskset -c 1 python3 "$SCRAPER" "$1" & SCR=$!
  sleep 0.5; kill -STOP "$SCR"
}
# The modes of round $1 in the order they run (alternating between rounds).
round_order() { if [ $(($1 % 2)) -eq 0 ]; then echo "scraped off"; else echo "off scraped"; fi; }
# One wrk run against port $1 (on CPU 1): requests/s.
wrk_rps() { taskset -c 1 wrk -t1 -c64 -d"${DUR}s" "http://127.0.0.1:$1/" | awk '/Requests\/sec/ {print $2}'; }

n=$(( DUR * 12000000 ))  # pingpong round trips: ~DUR s at ~80 ns each, so that it sees DUR scrapes
HP=$(free_port); MP=$(free_port)
taskset -c 0 "$GMPRUN" --quiet --procs 1 --cpus 0 --metrics-addr "$MP" http --port "$HP" >/dev/null 2>&1 & SRV=$!
wait_port "$HP" && wait_port "$MP" || { echo "bench-scrape: gmprun http did not come up" >&2; exit 1; }
scraper_port "$MP"
for r in $(seq "$RUNS"); do
  for mode in $(round_order "$r"); do
    if [ "$mode" = scraped ]; then
      c0=$(cpu_ns "$SRV" '^civetweb'); kill -CONT "$SCR"
      wrk_rps "$HP" > "$TMP/h_scraped"
      kill -STOP "$SCR"; echo "$(( $(cpu_ns "$SRV" '^civetweb') - c0 ))" >> "$TMP/cpu"
    else
      wrk_rps "$HP" > "$TMP/h_off"
    fi
  done
  paste "$TMP/h_off" "$TMP/h_scraped" >> "$TMP/http"
  echo "bench-scrape: round $r/$RUNS: http $(tail -1 "$TMP/http" | tr '\t' ' ') req/s (off, scraped)" >&2
done
curl -sf "http://127.0.0.1:$MP/metrics" > "$TMP/last.txt"
kill -INT "$SRV" 2>/dev/null || { echo "bench-scrape: gmprun http exited early" >&2; exit 1; }
wait "$SRV" || true
MP=$(free_port); scraper_port "$MP"
for r in $(seq "$RUNS"); do
  for mode in $(round_order "$r"); do
    extra=(); [ "$mode" = scraped ] && { extra=(--metrics-addr "$MP"); kill -CONT "$SCR"; }
    taskset -c 0 "$GMPRUN" --quiet --procs 1 --cpus 0 "${extra[@]}" pingpong --count "$n" > "$TMP/pp.out" 2>&1 ||
      { echo "bench-scrape: gmprun pingpong failed: $(tail -1 "$TMP/pp.out")" >&2; exit 1; }
    [ "$mode" = scraped ] && kill -STOP "$SCR"
    grep -o 'ns_per_roundtrip=[0-9.]*' "$TMP/pp.out" | cut -d= -f2 > "$TMP/p_$mode"
  done
  paste "$TMP/p_off" "$TMP/p_scraped" >> "$TMP/pp"
  echo "bench-scrape: round $r/$RUNS: pingpong $(tail -1 "$TMP/pp" | tr '\t' ' ') ns (off, scraped)" >&2
done
kill -CONT "$SCR" 2>/dev/null; kill "$SCR" 2>/dev/null || true

read -r HO HOL HOH < <(cut -f1 "$TMP/http" | stats)
read -r HS HSL HSH < <(cut -f2 "$TMP/http" | stats)
read -r HR HRL HRH < <(awk '{print ($2 - $1) / $1 * 100}' "$TMP/http" | stats)
read -r PO POL POH < <(cut -f1 "$TMP/pp" | stats)
read -r PS PSL PSH < <(cut -f2 "$TMP/pp" | stats)
read -r PR PRL PRH < <(awk '{print ($2 - $1) / $1 * 100}' "$TMP/pp" | stats)
N=$(awk '$1=="gmp_metrics_scrapes_total" {print $2}' "$TMP/last.txt")
T=$(awk '$1=="gmp_metrics_scrape_seconds_total" {print $2}' "$TMP/last.txt")
B=$(wc -c < "$TMP/last.txt"); L=$(grep -vc '^#' "$TMP/last.txt")

echo "scrape cost, $RUNS rounds of paired ${DUR}s runs (median [min, max]); server on CPU 0, load and scraper on CPU 1"
printf '%-24s %24s %24s %26s\n' "" "off" "scraped every 1 s" "change, paired"
printf '%-24s %9.0f [%6.0f, %6.0f] %9.0f [%6.0f, %6.0f] %+8.2f%% [%+6.2f, %+6.2f]\n' "http requests/s" \
  "$HO" "$HOL" "$HOH" "$HS" "$HSL" "$HSH" "$HR" "$HRL" "$HRH"
printf '%-24s %9.1f [%6.1f, %6.1f] %9.1f [%6.1f, %6.1f] %+8.2f%% [%+6.2f, %+6.2f]\n' "pingpong ns/round trip" \
  "$PO" "$POL" "$POH" "$PS" "$PSL" "$PSH" "$PR" "$PRL" "$PRH"
awk -v n="$N" -v t="$T" -v b="$B" -v l="$L" 'BEGIN {
  printf "one scrape: %.2f ms to collect (mean of %d), %d bytes, %d samples\n", (n ? t/n*1000 : 0), n, b, l }'
awk -v d="$DUR" '{c += $1; n++} END {
  printf "scrape CPU (civetweb threads, scraped http runs): %.2f ms per second of run = %.3f %% of one core\n",
    c/n/d/1e6, c/n/d/1e9*100 }' "$TMP/cpu"
echo "goals: http within 2 %, pingpong within 1 % (a negative http change or a positive pingpong change is a loss)"
