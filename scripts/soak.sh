#!/usr/bin/env bash
# soak.sh — the runtime under everything at once for N minutes, then checks
# that nothing was lost and nothing grew.
#
# One `gmprun soak` process (tools/gmprun/workloads/soak.cpp: the http
# server, exact channel traffic of pool objects, stop-the-world stops,
# set_procs stepping up and down) with its metrics endpoint, while this
# script runs beside it:
#   - wrk against the http server, in rounds (connections open and close);
#   - a SIGHUP config reload every 5 s, alternating two valid pool configs;
#   - a SIGQUIT goroutine dump every 20 s;
#   - a /metrics scrape every 2 s (each must succeed);
#   - as root with gmptrace built: gmptrace attached for 3 s every 30 s;
#   - with --stress-vm SIZE: memory pressure, `stress-ng --vm 1 --vm-bytes
#     SIZE` (a worker that keeps SIZE mapped and dirties it) for the whole run.
# The first half (warm-up) brings every part to its steady level; after it
# and at the end, with wrk stopped, the script samples the process's RSS, open
# fds and threads. It fails (exit 1, one line per finding) when:
#   - the soak's own accounting fails (a message lost, duplicated or torn, a
#     pool object not freed), or set_procs never went both up and down;
#   - a wrk round saw socket errors or non-2xx answers, or a scrape failed,
#     or a reload or dump was not answered;
#   - open fds at the end exceed the steady level (not counting the
#     /proc/.../schedstat handle each M keeps for the STW explainer); threads
#     exceed the most seen during the warm-up by more than --procs + 2 (Ms
#     are kept once made, as Go keeps them: the count climbs to what the mix
#     needs, then stays; one more M per P is scheduling noise, a count still
#     climbing beyond that in the second half is a finding); RSS grew by more
#     than 20 % + 16 MiB over the steady level.
#
# usage: scripts/soak.sh [--minutes N] [--build DIR] [--procs N] [--stress-vm SIZE]
#   --minutes N       how long (default 10; fractions allowed, e.g. 0.5)
#   --build DIR       the build directory with bin/gmprun (default build)
#   --procs N         starting Ps (default 2; set_procs walks 1 .. N+2)
#   --stress-vm SIZE  memory pressure beside the soak: stress-ng's --vm-bytes,
#                     like 4g or 50% (of the machine's memory); off by default
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=10
BUILD=build
PROCS=2
STRESS_VM=""
die() { echo "soak: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) [ $# -ge 2 ] || die "--minutes needs a value, like --minutes 10"; MINUTES=$2; shift 2 ;;
    --build) [ $# -ge 2 ] || die "--build needs a directory"; BUILD=$2; shift 2 ;;
    --procs) [ $# -ge 2 ] || die "--procs needs a count"; PROCS=$2; shift 2 ;;
    --stress-vm) [ $# -ge 2 ] || die "--stress-vm needs a size, like 4g or 50%"; STRESS_VM=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'; usage: scripts/soak.sh [--minutes N] [--build DIR] [--procs N] [--stress-vm SIZE]" ;;
  esac
done
[[ "$MINUTES" =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v m="$MINUTES" 'BEGIN{exit !(m > 0)}' ||
  die "--minutes '$MINUTES' is not a positive number of minutes, like 10 or 0.5"
[[ "$PROCS" =~ ^[1-9][0-9]*$ ]] || die "--procs '$PROCS' is not a count of Ps, like 2"
if [ -n "$STRESS_VM" ]; then
  [[ "$STRESS_VM" =~ ^[1-9][0-9]*[bkmgBKMG]?$|^[1-9][0-9]?%$ ]] ||
    die "--stress-vm '$STRESS_VM' is not a size; use bytes with k, m or g (like 4g) or a percentage below 100 (like 50%)"
  command -v stress-ng >/dev/null || die "stress-ng not installed (scripts/install-deps.sh installs it)"
fi
GMPRUN="$ROOT/$BUILD/bin/gmprun"
GMPTRACE="$ROOT/$BUILD/bin/gmptrace"
[ -x "$GMPRUN" ] || die "$GMPRUN not found (build first: scripts/build.sh $BUILD)"
for t in wrk curl python3; do
  command -v $t >/dev/null || die "$t not installed (scripts/install-deps.sh installs it)"
done

TOTAL=$(awk -v m="$MINUTES" 'BEGIN{printf "%d", m * 60}')
[ "$TOTAL" -ge 20 ] || die "--minutes $MINUTES is under 20 s; a soak needs at least --minutes 0.34"
WARM=$(( TOTAL / 2 ))
TMP=$(mktemp -d)
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  kill $(jobs -p) 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 400); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }
HP=$(free_port)
MP=$(free_port)
printf '[txn]\nttl_ms = 50\n' > "$TMP/a.toml"
printf '[txn]\nttl_ms = 60\n[fast]\nbatch = 16\n' > "$TMP/b.toml"
cp "$TMP/a.toml" "$TMP/live.toml"

"$GMPRUN" --procs "$PROCS" --pool-config "$TMP/live.toml" --metrics-addr "$MP" soak --port "$HP" \
  >"$TMP/out" 2>"$TMP/err" &
PID=$!
wait_port "$HP" || { cat "$TMP/err" >&2; die "gmprun soak did not start listening"; }
wait_port "$MP" || die "the metrics endpoint did not start"
echo "soak: gmprun pid $PID, http :$HP, metrics :$MP, $TOTAL s (warm-up $WARM s), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$STRESS_VM" ]; then
  stress-ng --vm 1 --vm-bytes "$STRESS_VM" --vm-keep --timeout "$(( TOTAL * 3 + 60 ))s" --metrics-brief >"$TMP/stress" 2>&1 &
  STRESS_PID=$!
  echo "soak: stress-ng --vm 1 --vm-bytes $STRESS_VM beside it (pid $STRESS_PID)"
fi

fails=()
fail() { fails+=("$*"); echo "soak: FAIL: $*" >&2; }
# sample: "rss_kib fds threads ms" of the soak process (ms: the runtime's
# own count of Ms, from /metrics).
sample() {
  local rss thr fds
  rss=$(awk '/^VmRSS:/ {print $2}' /proc/$PID/status)
  thr=$(awk '/^Threads:/ {print $2}' /proc/$PID/status)
  fds=$(ls -l /proc/$PID/fd | grep -vc 'schedstat$' || true)
  echo "$rss $fds $thr $(metric gmp_threads)"
}
alive() { kill -0 "$PID" 2>/dev/null || { cat "$TMP/err" >&2; fail "gmprun soak exited early"; exit 1; }; }

# wrk in rounds of up to 20 s; each round's result is checked.
wrk_round() {  # wrk_round SECONDS N
  wrk -t1 -c32 -d"${1}s" --timeout 5s "http://127.0.0.1:$HP/" >"$TMP/wrk.$2" 2>&1 || true
}
check_wrk() {  # check_wrk N
  local f="$TMP/wrk.$1"
  grep -q "Requests/sec" "$f" || { fail "wrk round $1 did not finish: $(tr '\n' ' ' <"$f")"; return; }
  if grep -qE "Socket errors|Non-2xx" "$f"; then fail "wrk round $1: $(grep -E 'Socket errors|Non-2xx' "$f" | tr '\n' ' ')"; fi
  awk '/requests in/ {s += $1} END {printf "%d\n", s}' "$f" >> "$TMP/wrk_requests"
}

scrapes=0 reloads=0 dumps=0 traces=0 round=0 t=0 phase=warm THRMAX=0
# chaos_for SECONDS: the periodic signals, scrapes and traces, one tick a second.
chaos_for() {
  local end=$(( t + $1 ))
  while [ $t -lt $end ]; do
    sleep 1; t=$(( t + 1 )); alive
    if [ $phase = warm ]; then
      local thr; thr=$(awk '/^Threads:/ {print $2}' /proc/$PID/status)
      [ "$thr" -gt "$THRMAX" ] && THRMAX=$thr
    fi
    if (( t % 2 == 0 )); then
      if curl -sf -o "$TMP/metrics" "http://127.0.0.1:$MP/metrics" && grep -q '^gmp_' "$TMP/metrics"; then
        scrapes=$(( scrapes + 1 ))
      else
        fail "metrics scrape at ${t}s failed"
      fi
    fi
    if (( t % 5 == 0 )); then
      # The next config replaces the file whole (rename), so a reload never reads half of one.
      if (( (t / 5) % 2 )); then cp "$TMP/b.toml" "$TMP/next.toml"; else cp "$TMP/a.toml" "$TMP/next.toml"; fi
      mv "$TMP/next.toml" "$TMP/live.toml"
      kill -HUP "$PID"; reloads=$(( reloads + 1 ))
    fi
    if (( t % 20 == 0 )); then kill -QUIT "$PID"; dumps=$(( dumps + 1 )); fi
    if (( t % 30 == 15 )) && [ "$(id -u)" = 0 ] && [ -x "$GMPTRACE" ]; then
      if "$GMPTRACE" -p "$PID" -d 3 >"$TMP/trace.$t" 2>&1; then traces=$(( traces + 1 )); else fail "gmptrace at ${t}s: $(tail -1 "$TMP/trace.$t")"; fi
    fi
  done
}
# A load phase: wrk rounds beside the chaos ticks.
load_for() {
  local left=$1 d
  while [ "$left" -gt 0 ]; do
    d=$(( left < 20 ? left : 20 )); round=$(( round + 1 ))
    wrk_round "$d" "$round" & local w=$!
    chaos_for "$d"
    wait "$w"; check_wrk "$round"
    left=$(( left - d ))
  done
}
metric() { curl -sf "http://127.0.0.1:$MP/metrics" | awk -v m="$1" '$1 == m {printf "%d\n", $2}'; }
# settle: wrk has stopped; let its connections close, then sample into RSS
# FDS THR MS. (The io rings are made at start for every P the run may have,
# so the open fds do not follow the P count.) Runs in this shell, so that
# fail and alive count.
settle() {
  sleep 2
  alive
  read -r RSS FDS THR MS < <(sample)
}

load_for "$WARM"
settle; RSS0=$RSS FDS0=$FDS THR0=$THR MS0=$MS
[ "$THR0" -gt "$THRMAX" ] && THRMAX=$THR0
phase=run
echo "soak: steady after warm-up: rss ${RSS0} KiB, fds $FDS0, threads $THR0 ($MS0 Ms; at most $THRMAX threads during the warm-up)"
[ -z "$STRESS_VM" ] || echo "soak: memory available to the machine after the warm-up: $(awk '/^MemAvailable:/ {printf "%d MiB", $2 / 1024}' /proc/meminfo) of $(awk '/^MemTotal:/ {printf "%d MiB", $2 / 1024}' /proc/meminfo)"
load_for $(( TOTAL - WARM ))
settle; RSS1=$RSS FDS1=$FDS THR1=$THR MS1=$MS
echo "soak: at the end:           rss ${RSS1} KiB, fds $FDS1, threads $THR1 ($MS1 Ms)"
[ "$FDS1" -le "$FDS0" ] || fail "open fds grew from $FDS0 to $FDS1"
[ "$THR1" -le $(( THRMAX + PROCS + 2 )) ] ||
  fail "threads grew to $THR1 ($MS1 Ms; $MS0 after the warm-up), over the warm-up's most of $THRMAX + $(( PROCS + 2 ))"
[ "$RSS1" -le $(( RSS0 * 12 / 10 + 16384 )) ] || fail "RSS grew from $RSS0 KiB to $RSS1 KiB (over 20 % + 16 MiB)"

if [ -n "$STRESS_VM" ]; then
  # The pressure must have lasted the whole run (the OOM killer picks the
  # biggest process: stress-ng's worker, or the soak).
  kill -0 "$STRESS_PID" 2>/dev/null || fail "stress-ng --vm ended before the soak: $(tail -2 "$TMP/stress" | tr '\n' ' ')"
  kill -INT "$STRESS_PID" 2>/dev/null || true
fi
kill -TERM "$PID"
rc=0; wait "$PID" || rc=$?
PID=""
sum=$(grep '^summary ' "$TMP/out" || true)
[ "$rc" = 0 ] || fail "gmprun soak exited $rc: $(grep -v '^  ' "$TMP/err" | tail -3 | tr '\n' ' ')"
[ -n "$sum" ] || fail "no summary line"
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$sum"; }
[ "$(kv check)" = true ] || fail "soak accounting: $(grep '^soak: accounting' "$TMP/err" || echo "$sum")"
[ "$(kv procs_up)" -gt 0 ] && [ "$(kv procs_down)" -gt 0 ] || fail "set_procs did not go both ways (up $(kv procs_up), down $(kv procs_down), refused $(kv procs_refused))"
server_requests=$(kv requests)
wrk_requests=$(awk '{s += $1} END {print s + 0}' "$TMP/wrk_requests" 2>/dev/null || echo 0)
# wrk counts the answers it read before its deadline; the server may have
# answered a few more (in flight when wrk stopped), never fewer.
[ "${server_requests:-0}" -ge "$wrk_requests" ] || fail "server answered $server_requests requests, wrk got $wrk_requests"
got_reloads=$(grep -c 'SIGHUP: reloaded' "$TMP/err" || true)
got_dumps=$(grep -c 'SIGQUIT: goroutine dump' "$TMP/err" || true)
[ "$got_reloads" = "$reloads" ] || fail "$reloads SIGHUPs sent, $got_reloads reloads reported ($(grep -m1 'SIGHUP: kept' "$TMP/err" || true))"
[ "$got_dumps" = "$dumps" ] || fail "$dumps SIGQUITs sent, $got_dumps dumps reported"

echo "soak: wrk requests $wrk_requests (server answered $server_requests), channel messages $(kv chan_sent) sent / $(kv chan_received) received, stw stops $(kv stw_stops), pool sweeps $(kv pool_sweeps), set_procs up $(kv procs_up) down $(kv procs_down) refused $(kv procs_refused) (io moved off removed Ps $(kv io_migrated)), reloads $got_reloads, dumps $got_dumps, scrapes $scrapes, gmptrace attaches $traces"
if [ ${#fails[@]} -ne 0 ]; then
  echo "soak: ${#fails[@]} finding(s)" >&2
  exit 1
fi
echo "soak: ok"
