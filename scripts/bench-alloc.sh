#!/usr/bin/env bash
# scripts/bench-alloc.sh — the memory pool side by side with glibc malloc,
# tcmalloc (gperftools, minimal), jemalloc and mimalloc, one process per
# allocator (tests/bench/alloc_peer.cpp), in one run; prints ONE table of
# medians of REPS runs and the pool's ratio to the fastest peer.
# Usage: scripts/bench-alloc.sh [BUILD_DIR] [REPS] [SECONDS] [BASE_BUILD_DIR]   (defaults: build 3 0.5)
# BASE_BUILD_DIR: another build (e.g. of the previous commit) whose
# alloc_peer_pool runs as an extra column "pool@base", for before/after.
# Repetitions are interleaved (rep 1 of every allocator, then rep 2, ...), so
# a change in machine load between reps hits every column alike.
# Build first: cmake --build BUILD_DIR --target alloc_peer_pool alloc_peer_glibc \
#   alloc_peer_tcmalloc alloc_peer_jemalloc alloc_peer_mimalloc
set -euo pipefail
build=${1:-build}
reps=${2:-3}
secs=${3:-0.5}
base=${4:-}
if ! [[ "$reps" =~ ^[0-9]+$ ]] || (( reps < 1 )); then
  echo "bench-alloc.sh: REPS '$reps' must be a positive integer (e.g. 3)" >&2; exit 2
fi
peers=(glibc tcmalloc jemalloc mimalloc)
workloads=(pair64 pairmix batch64 batchmix xthread64 larson xmalloc)
[[ -x "$build/bin/alloc_peer_pool" ]] || { echo "bench-alloc.sh: $build/bin/alloc_peer_pool not found; build the alloc_peer_* targets in $build first" >&2; exit 2; }
have=()
for p in "${peers[@]}"; do [[ -x "$build/bin/alloc_peer_$p" ]] && have+=("$p") || echo "bench-alloc.sh: no alloc_peer_$p, skipped" >&2; done

if [[ -n "$base" && ! -x "$base/bin/alloc_peer_pool" ]]; then
  echo "bench-alloc.sh: $base/bin/alloc_peer_pool not found; build alloc_peer_pool in $base first" >&2; exit 2
fi
bin_of() { if [[ "$1" == pool@base ]]; then echo "$base/bin/alloc_peer_pool"; else echo "$build/bin/alloc_peer_$1"; fi; }
cols=(pool)
[[ -n "$base" ]] && cols+=(pool@base)

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A med unit vals
for w in "${workloads[@]}"; do
  for ((r = 0; r < reps; r++)); do
    for a in "${cols[@]}" "${have[@]}"; do
      line=$("$(bin_of "$a")" "$w" "$secs")
      vals[$w,$a]+="$(awk '{print $2}' <<<"$line") "
      unit[$w]=$(awk '{print $3}' <<<"$line")
    done
  done
  for a in "${cols[@]}" "${have[@]}"; do
    med[$w,$a]=$(printf '%s\n' ${vals[$w,$a]} | median)
  done
done

printf '%-10s %-9s' workload unit
for a in "${cols[@]}" "${have[@]}"; do printf ' %9s' "$a"; done
printf '  %s\n' "pool vs fastest peer"
for w in "${workloads[@]}"; do
  u=${unit[$w]}
  printf '%-10s %-9s' "$w" "$u"
  for a in "${cols[@]}"; do printf ' %9.2f' "${med[$w,$a]}"; done
  best=""
  for a in "${have[@]}"; do
    v=${med[$w,$a]}
    printf ' %9.2f' "$v"
    if [[ -z "$best" ]]; then best=$v
    elif [[ "$u" == ns/op ]]; then best=$(awk -v a="$best" -v b="$v" 'BEGIN{print (b<a)?b:a}')
    else best=$(awk -v a="$best" -v b="$v" 'BEGIN{print (b>a)?b:a}'); fi
  done
  if [[ "$u" == ns/op ]]; then r=$(awk -v b="$best" -v p="${med[$w,pool]}" 'BEGIN{printf "%.2f", b/p}')
  else r=$(awk -v b="$best" -v p="${med[$w,pool]}" 'BEGIN{printf "%.2f", p/b}'); fi
  printf '  %sx %s\n' "$r" "$(awk -v r="$r" 'BEGIN{print (r>=1)?"faster":"(slower)"}')"
done
echo "(medians of $reps runs of ${secs}s; ns/op lower is better, Mops/s and Mfrees/s higher; ratio >1 = pool faster)"
