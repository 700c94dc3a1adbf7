// base/clock.hpp — the monotonic clock used throughout the runtime.
#pragma once

#include <time.h>

#include <cstdint>

namespace gmp::detail {

// Nanoseconds of CLOCK_MONOTONIC (vDSO, no syscall).
inline std::int64_t nanotime() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// A cheap pause for spin loops.
inline void cpu_relax() noexcept {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace gmp::detail
