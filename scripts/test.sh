#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root): install what gmprt
# needs, build it, and pass the tests:
#   1. the normal build and every ctest test (unit, integration, stress);
#   2. an AddressSanitizer + UBSan build running the unit and stress tests;
#   3. a ThreadSanitizer build running the scheduler unit tests
#      (GMP_TSAN=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

echo "== build (RelWithDebInfo)"
bash scripts/build.sh build
echo "== tests"
ctest --test-dir build --output-on-failure -j2 --timeout 300

echo "== AddressSanitizer + UBSan: unit and stress tests"
bash scripts/build.sh build-asan -DGMP_SANITIZE=address,undefined -DGMP_BUILD_BENCH=OFF -DGMP_BUILD_BPF=OFF
# The runtime reports goroutine stack overflows itself; ASan must let it.
export ASAN_OPTIONS="detect_leaks=1:handle_segv=0:allow_user_segv_handler=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir build-asan --output-on-failure -j2 --timeout 600 -L 'unit|stress'

if [ "${GMP_TSAN:-1}" != 0 ]; then
  echo "== ThreadSanitizer: scheduler unit tests"
  bash scripts/build.sh build-tsan -DGMP_SANITIZE=thread -DGMP_BUILD_BENCH=OFF -DGMP_BUILD_BPF=OFF
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
  ctest --test-dir build-tsan --output-on-failure -j2 --timeout 600 -R '^(RunQueue|Procs/WithProcs|Scheduler)\.'
fi
