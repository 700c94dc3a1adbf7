#!/usr/bin/env bash
# Installs every Debian 12 package gmprt needs to build, test and benchmark.
# Idempotent: safe to run again; installs only what is missing.
set -euo pipefail

pkgs=(
  # build
  build-essential cmake ninja-build pkg-config git
  libcli11-dev  # the tools' command lines (header-only)
  # runtime
  liburing-dev libjemalloc-dev systemtap-sdt-dev libtomlplusplus-dev
  libdw-dev  # symbolized stacks in crash reports and goroutine dumps
  # observability
  libbpf-dev bpftool clang llvm libelf-dev zlib1g-dev prometheus-cpp-dev bpftrace
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3
  # peers for side-by-side runs
  golang-go libboost-fiber-dev libboost-context-dev libgoogle-perftools-dev libmimalloc-dev wrk
  # tools used by tests (prometheus: server + promtool; chromium: the live page)
  procps strace curl prometheus chromium
  # scripts/soak.sh --stress-vm (memory pressure beside the soak)
  stress-ng
  # fuzzing (scripts/fuzz.sh): libFuzzer and the sanitizer runtimes for clang
  libclang-rt-14-dev
  # scripts/check-format.sh (git clang-format)
  clang-format
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root to install them" >&2
  exit 2
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
