// sched/dump.hpp — goroutine dumps (Go's traceback on SIGQUIT, in spirit).
#pragma once

#include <string>

namespace gmp::detail {

// Writes one block per goroutine (id, state, wait reason, time in that state,
// P/M, creation site) to fd. Uses no heap and no pool memory: callable from
// fatal paths. `all`: include goroutines that are idle in caches (no).
// Returns the number of goroutines written, or -1 if the registry was busy
// (fatal paths give up rather than deadlock).
int dump_goroutines(int fd, bool all) noexcept;
// Writes the scheduler's state (Go's schedtrace/scheddetail, in spirit): one
// SCHED line (Ps, idle Ps, Ms, spinning Ms, global queue) and one line per P
// (status, M, current G, queue length). No heap. Racy unless the world is
// stopped.
void dump_sched(int fd) noexcept;

}  // namespace gmp::detail
