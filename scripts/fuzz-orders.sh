#!/usr/bin/env bash
# Builds the libFuzzer target of the orders wire decoder
# (tests/fuzz/orders_proto_fuzz.cpp) with clang, ASan and UBSan, seeds a
# corpus with valid frames of every type, and fuzzes for a bounded time.
#   scripts/fuzz-orders.sh            # 20 s (what scripts/test.sh runs)
#   scripts/fuzz-orders.sh 600        # longer
#   scripts/fuzz-orders.sh --ci       # CI: a fixed seed and 2M runs, from
#                                     # an empty corpus: the same on every run
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
out=build-fuzz
corpus="$out/corpus"
bound=(-max_total_time="$secs")
if [[ "$secs" == --ci ]]; then
  corpus="$out/orders-ci-corpus"
  rm -rf "$corpus"
  bound=(-seed=1 -runs=2000000)
elif ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz-orders.sh: '$secs' is not a number of seconds; use e.g. scripts/fuzz-orders.sh 60, or --ci" >&2
  exit 2
fi
mkdir -p "$corpus"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I tools/gmprun/workloads tests/fuzz/orders_proto_fuzz.cpp tools/gmprun/workloads/orders/proto.cpp \
  -o "$out/orders_proto_fuzz"
# Seeds: a new order, a cancel, a report, and all three back to back.
python3 - "$corpus" <<'PY'
import struct, sys, os
d = sys.argv[1]
new = struct.pack('<HBBBBIIIqQQ', 40, 1, 1, 1, 0, 3, 5, 10, 10000, 42, 123)
cancel = struct.pack('<HBBBBIIIQQ', 32, 2, 0, 0, 0, 3, 5, 0, 42, 124)
report = struct.pack('<HBBBBIIIQQQ', 40, 3, 1, 0, 0, 4, 6, 1, 42, 123, 900)
for name, b in [('new', new), ('cancel', cancel), ('report', report), ('stream', new + cancel + report)]:
    open(os.path.join(d, name), 'wb').write(b)
PY
set +e
"$out/orders_proto_fuzz" "${bound[@]}" -max_len=512 -print_final_stats=1 "$corpus" >"$out/orders.log" 2>&1
rc=$?
set -e
tail -12 "$out/orders.log"
[[ $rc == 0 ]] || { echo "fuzz-orders: the decoder failed (exit $rc); input in ./crash-* (see $out/orders.log)"; exit 1; }
