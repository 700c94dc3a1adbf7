// stw/stw.hpp — stop-the-world internals shared by stw/*.cpp and the
// scheduler (runtime.cpp resets them at start).
#pragma once

#include <cstdint>

#include "gmp/stw.hpp"

namespace gmp::detail {

struct P;

// At gmp::start: generation and histograms back to zero.
void stw_reset() noexcept;

// stats.cpp: one finished stop. REQUIRES: the caller holds the world
// (stoppers are serialized, so records never race each other).
void stw_record(gmp::stw::Reason r, std::uint64_t gen, std::uint64_t stopping_ns, std::uint64_t total_ns) noexcept;
void stw_stats_reset() noexcept;

// stop.cpp: the P the stopping goroutine runs on (null for a plain thread),
// and a new one when set_procs removes it. REQUIRES: the world is stopped
// by the caller.
P* stw_caller_p() noexcept;
void stw_set_caller_p(P* pp) noexcept;

}  // namespace gmp::detail
