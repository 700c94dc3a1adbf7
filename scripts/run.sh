#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root): install what gmprt
# needs, build it, and run the main job — the order-matching pipeline
# (`gmprun orders`: open-loop orders through parse, risk, matching and fill
# subscribers; docs/ORDERS.md) — with its live page and metrics served and,
# as root, gmptrace attached — then say in plain words what happened.
#   scripts/run.sh                     # orders at 127000/s for 5 s
#   GMP_ORDERS_RATE=500000 GMP_ORDERS_DURATION=10s scripts/run.sh
#   scripts/run.sh --procs 1 skynet    # any gmprun arguments instead
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
if [ $# -gt 0 ]; then
  exec build/bin/gmprun "$@"
fi

rate="${GMP_ORDERS_RATE:-127000}"
duration="${GMP_ORDERS_DURATION:-5s}"
out_dir="${GMP_RUN_DIR:-build/run}"
mkdir -p "$out_dir"
log="$out_dir/orders.txt"
# ---- Observability --------------------------------------------------------
# While the pipeline runs, gmprun serves its metrics and the live page
# (docs/METRICS.md) on loopback, and gmptrace (docs/TRACING.md) traces it
# with eBPF when this is root and the kernel allows BPF; otherwise run.sh
# says why and runs without it. GMP_METRICS_ADDR picks the address.
metrics_addr="${GMP_METRICS_ADDR:-}"
if [ -z "$metrics_addr" ]; then
  # A free loopback port, taken just before gmprun binds it.
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  metrics_addr="127.0.0.1:$port"
fi
gmprun_opts=(--metrics-addr "$metrics_addr")
trace_log="$out_dir/trace.txt"
tracer_why=""
if [ "$(id -u)" -ne 0 ]; then
  tracer_why="not root (gmptrace needs root, or CAP_BPF and CAP_PERFMON)"
elif [ ! -x build/bin/gmptrace ]; then
  tracer_why="gmptrace is not part of this build (GMP_BUILD_BPF=OFF, or clang/bpftool missing)"
fi

echo "run.sh: gmprun orders at ${rate}/s for ${duration}; output and summary in ${log}" >&2
echo "run.sh: live page http://${metrics_addr}/ and Prometheus metrics at http://${metrics_addr}/metrics while it runs" >&2
set +e
build/bin/gmprun "${gmprun_opts[@]}" orders --rate "$rate" --duration "$duration" > >(tee "$log") 2>&1 &
pid=$!
tracer=""
if [ -z "$tracer_why" ]; then
  build/bin/gmptrace -p "$pid" > "$trace_log" 2> "$out_dir/trace.err" &
  tracer=$!
  echo "run.sh: gmptrace attached (default set); its report goes to ${trace_log}" >&2
else
  echo "run.sh: no tracer: $tracer_why" >&2
fi
wait "$pid"
rc=$?
if [ -n "$tracer" ]; then
  # gmptrace prints its totals and exits when the target does.
  wait "$tracer"
  trc=$?
  if [ "$trc" -ne 0 ]; then
    echo "run.sh: gmptrace exited $trc: $(tail -n 1 "$out_dir/trace.err" 2>/dev/null)" >&2
  fi
fi
set -e
sleep 0.2  # let tee drain
echo
python3 scripts/orders_reading.py "$log" || true
if [ -n "$tracer" ] && [ -s "$trace_log" ]; then
  echo "  - Traced with eBPF (gmptrace): stop-the-world pauses, allocation and run-queue latency,"
  echo "    off-CPU time per thread and cache/software counters are in ${trace_log}."
fi
exit "$rc"
