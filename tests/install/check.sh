#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, builds tests/install (the
# README example as an outside project: find_package(gmprt), gmp::runtime,
# -Wall -Wextra -Werror, no C++ standard set) against it, and runs it.
#   tests/install/check.sh BUILD_DIR
set -euo pipefail
build="$1"
src="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S "$src" -B "$tmp/build" "${gen[@]}" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/build"
"$tmp/build/consumer"
echo "install_consumer: built against the installed package and ran: ok"
