// stw/stw.hpp — stop-the-world internals shared by stw/*.cpp and the
// scheduler (runtime.cpp resets them at start).
#pragma once

#include <cstdint>

#include "gmp/stw.hpp"

namespace gmp::detail {

struct P;

// At gmp::start: generation and histograms back to zero, and no state of
// the last run (syscall tokens, spinning Ms) left over.
void stw_reset() noexcept;

// stats.cpp: one finished stop. REQUIRES: the caller holds the world
// (stoppers are serialized, so records never race each other).
void stw_record(gmp::stw::Reason r, std::uint64_t gen, std::uint64_t stopping_ns, std::uint64_t total_ns) noexcept;
void stw_stats_reset() noexcept;

// stop.cpp: the P the stopping goroutine runs on (null for a plain thread),
// and a new one when set_procs removes it. REQUIRES: the world is stopped
// by the caller.
P* stw_caller_p() noexcept;
// stop.cpp: Ps handed straight back to an M that spun for the restart
// (Note [Stopped Ms spin for the restart]) since start; for tests.
std::uint64_t stw_spin_handoffs() noexcept;
void stw_set_caller_p(P* pp) noexcept;

}  // namespace gmp::detail
