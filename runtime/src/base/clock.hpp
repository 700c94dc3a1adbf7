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

// CPU time (ns) of thread tid of this process, or -1: its CPU-time clock,
// exact even while the thread runs on another CPU (a system call, ~1-3 µs
// in a VM). The clock id is derived from the tid as the kernel numbers it
// (the ABI pthread_getcpuclockid encodes: ~tid << 3 | CPUCLOCK_PERTHREAD |
// CPUCLOCK_SCHED), so a caller needs no pthread_t, which an M's creator
// writes and the M's own first reads may not see yet.
inline std::int64_t thread_cpu_ns(int tid) noexcept {
  timespec ts;
  if (tid <= 0 || clock_gettime(static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 6), &ts) != 0) return -1;
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
