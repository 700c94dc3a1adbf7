#!/usr/bin/env bash
# Checks that the C and C++ lines changed since the merge base with the main
# branch follow .clang-format (git clang-format --diff: changed lines only,
# so older code is never reformatted wholesale). Skips, with a line saying
# why, where there is nothing to compare with: no git history, no main
# branch, or HEAD is the merge base itself.
#   scripts/check-format.sh [REF]   # compare with REF (default: origin/main, else main)
# Exit 0: formatted or skipped; 1: the diff that would format them is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
skip() { echo "check-format: skipped: $1"; exit 0; }
command -v git-clang-format >/dev/null || { echo "check-format: git-clang-format not found (scripts/install-deps.sh installs clang-format)" >&2; exit 2; }
git rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
ref=""
for r in "${1:-}" origin/main main; do
  if [ -n "$r" ] && git rev-parse -q --verify "$r^{commit}" >/dev/null; then ref="$r"; break; fi
done
if [ -n "${1:-}" ] && [ "$ref" != "$1" ]; then
  echo "check-format: '$1' is not a commit; give a branch or commit to compare with, e.g. main" >&2
  exit 2
fi
[ -n "$ref" ] || skip "no main branch to compare with"
base="$(git merge-base HEAD "$ref")" || skip "HEAD and $ref have no merge base"
[ "$base" != "$(git rev-parse HEAD)" ] || skip "HEAD is the merge base with $ref (no changes of its own)"
out="$(git clang-format --diff "$base" -- '*.c' '*.h' '*.cpp' '*.hpp')"
case "$out" in
  "" | "no modified files to format" | "clang-format did not modify any files")
    echo "check-format: lines changed since $(git rev-parse --short "$base") ($ref) are formatted"
    exit 0 ;;
esac
printf '%s\n' "$out"
echo "check-format: the lines above changed since $(git rev-parse --short "$base") are not formatted; run: git clang-format $(git rev-parse --short "$base")" >&2
exit 1
