// sched/deadlock.hpp — "all goroutines are asleep": see deadlock.cpp.
#pragma once

#include <atomic>
#include <cstdint>

namespace gmp::detail {

// A plain (non-M) thread blocked in a runtime wait (a channel operation,
// a join, gmp::run waiting for main): it cannot wake a goroutine until the
// wait ends. Scoped; REQUIRES: on a plain thread.
class PlainWait {
 public:
  PlainWait() noexcept;
  ~PlainWait();
  PlainWait(const PlainWait&) = delete;
  PlainWait& operator=(const PlainWait&) = delete;
};

// sysmon's tick: reports a deadlock and ends the process when nothing can
// run or wake anything (Note [Deadlock] in deadlock.cpp).
void check_deadlock(std::int64_t now_ns) noexcept;
// At gmp::start.
void deadlock_reset() noexcept;

}  // namespace gmp::detail
