#!/usr/bin/env bash
# Builds the libFuzzer target of the orders wire decoder
# (tests/fuzz/orders_proto_fuzz.cpp) with clang, ASan and UBSan, seeds a
# corpus with valid frames of every type, and fuzzes for a bounded time.
#   scripts/fuzz-orders.sh            # 20 s (what scripts/test.sh runs)
#   scripts/fuzz-orders.sh 600        # longer
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
out=build-fuzz
mkdir -p "$out/corpus"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I tools/gmprun/workloads tests/fuzz/orders_proto_fuzz.cpp tools/gmprun/workloads/orders/proto.cpp \
  -o "$out/orders_proto_fuzz"
# Seeds: a new order, a cancel, a report, and all three back to back.
python3 - "$out/corpus" <<'PY'
import struct, sys, os
d = sys.argv[1]
new = struct.pack('<HBBBBIIIqQQ', 40, 1, 1, 1, 0, 3, 5, 10, 10000, 42, 123)
cancel = struct.pack('<HBBBBIIIQQ', 32, 2, 0, 0, 0, 3, 5, 0, 42, 124)
report = struct.pack('<HBBBBIIIQQQ', 40, 3, 1, 0, 0, 4, 6, 1, 42, 123, 900)
for name, b in [('new', new), ('cancel', cancel), ('report', report), ('stream', new + cancel + report)]:
    open(os.path.join(d, name), 'wb').write(b)
PY
"$out/orders_proto_fuzz" -max_total_time="$secs" -max_len=512 -print_final_stats=1 "$out/corpus" 2>&1 | tail -12
