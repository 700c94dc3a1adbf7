#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root): install what gmprt
# needs, build it, and run the main job — gmprun on the built-in skynet
# workload (1M goroutines), printing the banner and the summary line.
#   scripts/run.sh                 # skynet on every CPU
#   scripts/run.sh --procs 1 spawn # any gmprun arguments
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
if [ $# -eq 0 ]; then
  set -- skynet
fi
exec build/bin/gmprun "$@"
