// mem/current_p.hpp — the scheduler's calls into the pool when an M takes or
// gives up a P (sched/idle.cpp acquirep/releasep), so that the inline fast
// path finds the current P's cache in one thread-local read (Note [Inline
// path and migrating goroutines] in gmp/pool.hpp).
#pragma once

namespace gmp::detail::mem {

// REQUIRES: on the M that now holds P `pid` (after mp->p = pp).
void on_acquirep(int pid) noexcept;
// REQUIRES: on the M giving up its P (before mp->p = nullptr).
void on_releasep() noexcept;

}  // namespace gmp::detail::mem
