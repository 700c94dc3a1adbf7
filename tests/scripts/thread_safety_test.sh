#!/usr/bin/env bash
# The thread-safety annotations are real under clang: a read of a
# GMP_GUARDED_BY field without its lock fails to compile with the analysis's
# message, and the same read under LockGuard compiles. (CI's clang build of
# the runtime checks the annotated code itself; this checks the check.)
#   thread_safety_test.sh REPO_ROOT [CLANGXX]
set -euo pipefail
root="$1"
cxx="${2:-clang++}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
flags=(-std=c++20 -fsyntax-only -Wthread-safety -Werror=thread-safety -I"$root/runtime/include" -I"$root/runtime/src")

cat >"$tmp/locked.cpp" <<'CPP'
#include "sched/sched.hpp"
bool idle_p() {
  gmp::detail::LockGuard lk(gmp::detail::sched.lock);
  return gmp::detail::sched.pidle != nullptr;
}
CPP
cat >"$tmp/unlocked.cpp" <<'CPP'
#include "sched/sched.hpp"
bool idle_p() { return gmp::detail::sched.pidle != nullptr; }
CPP
cat >"$tmp/requires.cpp" <<'CPP'
#include "sched/sched.hpp"
void f(gmp::detail::G* gp) { gmp::detail::globrunq_put_locked(gp); }
CPP

"$cxx" "${flags[@]}" "$tmp/locked.cpp" || { echo "FAIL: the locked read did not compile"; exit 1; }
for t in unlocked requires; do
  if "$cxx" "${flags[@]}" "$tmp/$t.cpp" 2>"$tmp/$t.err"; then
    echo "FAIL: $t.cpp compiled; the analysis should have refused it"
    exit 1
  fi
done
grep -q "reading variable 'pidle' requires holding mutex 'sched.lock'" "$tmp/unlocked.err" ||
  { echo "FAIL: unexpected diagnostic:"; cat "$tmp/unlocked.err"; exit 1; }
grep -q "calling function 'globrunq_put_locked' requires holding mutex 'sched.lock'" "$tmp/requires.err" ||
  { echo "FAIL: unexpected diagnostic:"; cat "$tmp/requires.err"; exit 1; }
echo "ok: unlocked read and call refused, locked read accepted"
