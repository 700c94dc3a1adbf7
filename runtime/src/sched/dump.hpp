// sched/dump.hpp — goroutine dumps (Go's traceback on SIGQUIT, in spirit).
#pragma once

#include <string>

#include "sched/p.hpp"

namespace gmp::detail {

// Writes one block per goroutine (id, state, wait reason, time in that state,
// P/M, creation site, and where a goroutine that is not running waits: its
// symbolized stack, Note [Walking a goroutine's stack] in traceback.cpp) to
// fd. Uses no pool memory; the symbolizer (libdw) uses the C heap. `all`: include goroutines that are idle in caches (no).
// Returns the number of goroutines written, or -1 if the registry was busy
// (fatal paths give up rather than deadlock).
// skip: a goroutine already shown (a crash report's own).
int dump_goroutines(int fd, bool all, const G* skip = nullptr) noexcept;
const char* pstatus_name(PStatus s) noexcept;
// Writes the scheduler's state (Go's schedtrace/scheddetail, in spirit): one
// SCHED line (Ps, idle Ps, Ms, spinning Ms, global queue) and one line per P
// (status, M, current G, queue length). No heap. Racy unless the world is
// stopped.
void dump_sched(int fd) noexcept;

}  // namespace gmp::detail
