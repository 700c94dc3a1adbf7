#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz/ with clang (ASan + UBSan) into
# build-fuzz/, replays every stored input (seed corpus and regressions: a
# crash found once stays fixed), then fuzzes each target for a bounded time.
#   scripts/fuzz.sh            # 20 s per target (CI: about a minute in all)
#   scripts/fuzz.sh 600        # longer runs by hand
#   scripts/fuzz.sh --ci       # what CI runs: a fixed seed and a fixed number
#                              # of runs per target, so that a commit's result
#                              # is the same on every machine and every run
# A time-bounded run draws a new seed each time and explores further; it is
# how new inputs are found. The CI gate must not fail a commit on a finding
# that a re-run would not make: it runs the fixed sequence.
# New inputs found by a run go to build-fuzz/<target>/corpus (not the repo);
# a crash leaves build-fuzz/<target>/crash-* and fails the script: copy it
# into tests/fuzz/<target>/regressions/ with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
bound=(-max_total_time="$secs")
work=corpus
if [[ "$secs" == --ci ]]; then
  work=ci-corpus  # started empty each time: the same inputs, the same path
  # 300k runs: about 2 s (http_parser) to 12 s (pool_config) each here;
  # args about 45 s (a CLI11 parse per run, under ASan).
  bound=(-seed=1 -runs=300000)
elif ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: '$secs' is not a number of seconds; use e.g. scripts/fuzz.sh 60, or --ci" >&2
  exit 2
fi
out=build-fuzz
mkdir -p "$out"
cxx=(clang++)
command -v ccache >/dev/null && cxx=(ccache clang++)
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -Iruntime/src -Iruntime/include -Itools)
declare -A srcs=(
  [http_parser]="tests/fuzz/http_parser_fuzz.cpp tools/gmprun/workloads/http_parser.cpp"
  [pool_config]="tests/fuzz/pool_config_fuzz.cpp runtime/src/mem/config.cpp runtime/src/mem/arena.cpp
                 runtime/src/mem/page_source.cpp runtime/src/mem/slot_map.cpp runtime/src/base/check.cpp"
  [args]="tests/fuzz/args_fuzz.cpp tools/common/cli.cpp"  # CLI11: header-only
)
targets=(http_parser pool_config args)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for t in "${targets[@]}"; do
  echo "-- fuzz: build $t"
  # shellcheck disable=SC2086
  "${cxx[@]}" "${flags[@]}" ${srcs[$t]} -o "$out/${t}_fuzz"
done
for t in "${targets[@]}"; do
  dir="$out/$t"
  [[ "$work" == ci-corpus ]] && rm -rf "${dir:?}/$work"
  mkdir -p "$dir/$work"
  shopt -s nullglob
  stored=(tests/fuzz/$t/corpus/* tests/fuzz/$t/regressions/*)
  shopt -u nullglob
  echo "-- fuzz: replay $t (${#stored[@]} stored inputs)"
  "$out/${t}_fuzz" "${stored[@]}" >"$dir/replay.log" 2>&1 || { cat "$dir/replay.log"; exit 1; }
  echo "-- fuzz: run $t (${bound[*]})"
  (cd "$dir" && "../${t}_fuzz" "${bound[@]}" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 "$work" "../../tests/fuzz/$t/corpus" >run.log 2>&1) || {
    tail -60 "$dir/run.log"
    echo "fuzz: $t found a crash: $(ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* 2>/dev/null | head -3)"
    exit 1
  }
  grep -E "stat::number_of_executed_units|stat::new_units_added" "$dir/run.log" | tr '\n' ' '
  echo
done
