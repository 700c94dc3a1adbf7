#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root): install what gmprt
# needs, build it, and pass the tests:
#   0. source checks: Note citations resolve (check-notes.py), the include
#      graph keeps docs/MODULES.md (check-modules.py), the lines changed
#      since the merge base with main follow .clang-format (check-format.sh),
#      clang's thread-safety analysis passes on the runtime library;
#   1. the normal build and every ctest test (unit, integration, stress),
#      a 2-minute soak (scripts/soak.sh: everything at once, then exact
#      accounting and resource levels; docs/SOAK.md),
#      then the libFuzzer targets (tests/fuzz/): the stored inputs, then a
#      fixed number of runs from a fixed seed (the same result on every run;
#      exploring with new seeds is scripts/fuzz.sh SECONDS, by hand);
#   2. an AddressSanitizer + UBSan build running every unit test binary
#      (scheduler, pool, sync, timer, I/O, stop-the-world, the tools'
#      command line);
#   3. a ThreadSanitizer build running the same (GMP_TSAN=0 skips it);
#   4. the orders wire decoder under libFuzzer, the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

echo "== source checks"
python3 scripts/check-notes.py
python3 scripts/check-modules.py
bash scripts/check-format.sh

echo "== clang thread-safety analysis: the runtime library, compile only"
# GMP_GUARDED_BY / GMP_REQUIRES (gmp/detail/thread_annotations.hpp) are
# checked by clang only; -O0 without debug info keeps this step short.
cmake -S . -B build-clang -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Debug -DGMP_BUILD_BENCH=OFF -DGMP_BUILD_BPF=OFF \
  "-DCMAKE_CXX_FLAGS=-g0 -Wthread-safety -Werror=thread-safety" >/dev/null
cmake --build build-clang --target gmp_runtime -j"$(nproc)"

echo "== build (RelWithDebInfo)"
bash scripts/build.sh build
echo "== tests"
ctest --test-dir build --output-on-failure -j2 --timeout 300
echo "== soak: 2 minutes of everything at once (docs/SOAK.md)"
bash scripts/soak.sh --minutes 2

echo "== fuzz: replay the stored inputs, then 300k runs per target from a fixed seed (clang, ASan + UBSan)"
bash scripts/fuzz.sh --ci

echo "== AddressSanitizer + UBSan: every unit test binary"
bash scripts/build.sh build-asan -DGMP_SANITIZE=address,undefined -DGMP_BUILD_BENCH=OFF -DGMP_BUILD_BPF=OFF
# The runtime reports goroutine stack overflows itself; ASan must let it.
# detect_leaks=0: goroutines discarded by stop() leak their closures' heap
# state by design (docs/SCHEDULER.md); LeakSanitizer would flag those.
export ASAN_OPTIONS="detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# unit_tools (the command line's unit parsers) here only: single-threaded.
for t in unit_base unit_sched unit_mem unit_sync unit_timer unit_io unit_stw unit_orders unit_metrics unit_tools; do
  echo "-- $t (asan+ubsan)"
  build-asan/bin/$t --gtest_brief=1
done

if [ "${GMP_TSAN:-1}" != 0 ]; then
  echo "== ThreadSanitizer: every unit test binary"
  bash scripts/build.sh build-tsan -DGMP_SANITIZE=thread -DGMP_BUILD_BENCH=OFF -DGMP_BUILD_BPF=OFF
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
  for t in unit_base unit_sched unit_mem unit_sync unit_timer unit_io unit_stw unit_orders unit_metrics; do
    echo "-- $t (tsan)"
    build-tsan/bin/$t --gtest_brief=1
  done
fi

echo "== libFuzzer: the orders wire decoder"
bash scripts/fuzz-orders.sh --ci
