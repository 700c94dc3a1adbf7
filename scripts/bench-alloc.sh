#!/usr/bin/env bash
# scripts/bench-alloc.sh — the memory pool side by side with glibc malloc,
# tcmalloc (gperftools, minimal), jemalloc and mimalloc, one process per
# allocator (tests/bench/alloc_peer.cpp), in one run; prints ONE table of
# medians of REPS runs and the pool's ratio to the fastest peer.
# Usage: scripts/bench-alloc.sh [BUILD_DIR] [REPS] [SECONDS]   (defaults: build 3 0.5)
# Build first: cmake --build BUILD_DIR --target alloc_peer_pool alloc_peer_glibc \
#   alloc_peer_tcmalloc alloc_peer_jemalloc alloc_peer_mimalloc
set -euo pipefail
build=${1:-build}
reps=${2:-3}
secs=${3:-0.5}
if ! [[ "$reps" =~ ^[0-9]+$ ]] || (( reps < 1 )); then
  echo "bench-alloc.sh: REPS '$reps' must be a positive integer (e.g. 3)" >&2; exit 2
fi
peers=(glibc tcmalloc jemalloc mimalloc)
workloads=(pair64 pairmix batch64 batchmix xthread64 larson xmalloc)
[[ -x "$build/bin/alloc_peer_pool" ]] || { echo "bench-alloc.sh: $build/bin/alloc_peer_pool not found; build the alloc_peer_* targets in $build first" >&2; exit 2; }
have=()
for p in "${peers[@]}"; do [[ -x "$build/bin/alloc_peer_$p" ]] && have+=("$p") || echo "bench-alloc.sh: no alloc_peer_$p, skipped" >&2; done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A med unit
for w in "${workloads[@]}"; do
  for a in pool "${have[@]}"; do
    vals=()
    for ((r = 0; r < reps; r++)); do
      line=$("$build/bin/alloc_peer_$a" "$w" "$secs")
      vals+=("$(awk '{print $2}' <<<"$line")")
      unit[$w]=$(awk '{print $3}' <<<"$line")
    done
    med[$w,$a]=$(printf '%s\n' "${vals[@]}" | median)
  done
done

printf '%-10s %-9s %9s' workload unit pool
for a in "${have[@]}"; do printf ' %9s' "$a"; done
printf '  %s\n' "pool vs fastest peer"
for w in "${workloads[@]}"; do
  u=${unit[$w]}
  printf '%-10s %-9s %9.2f' "$w" "$u" "${med[$w,pool]}"
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
