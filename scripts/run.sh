#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root): install what gmprt
# needs, build it, and run the main job — the order-matching pipeline
# (`gmprun orders`: open-loop orders through parse, risk, matching and fill
# subscribers; docs/ORDERS.md) — then say in plain words what happened.
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
gmprun_opts=()

# ---- Observability --------------------------------------------------------
# The live metrics page and the eBPF tracer attach here: start_observers
# adds gmprun options (gmprun_opts) and starts the tracer against the run,
# stop_observers stops it and names its report. Until this gmprun has a
# metrics endpoint and gmptrace is built, each says why it is not running.
start_observers() {
  if [ -x build/bin/gmptrace ]; then
    echo "run.sh: gmptrace is built but not wired into run.sh yet" >&2
  else
    echo "run.sh: no tracer: gmptrace is not part of this build" >&2
  fi
  echo "run.sh: no live page: this gmprun has no metrics endpoint" >&2
}
stop_observers() { :; }
# ---------------------------------------------------------------------------

start_observers
echo "run.sh: gmprun orders at ${rate}/s for ${duration}; output and summary in ${log}" >&2
set +e
build/bin/gmprun "${gmprun_opts[@]}" orders --rate "$rate" --duration "$duration" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
stop_observers
echo
python3 scripts/orders_reading.py "$log" || true
exit "$rc"
