// base/futex.cpp — Note::sleep.
#include "base/futex.hpp"

#include "base/clock.hpp"

namespace gmp::detail {

bool Note::sleep(std::int64_t deadline_ns) noexcept {
  while (key_.load(std::memory_order_acquire) == 0) {
    if (deadline_ns >= 0 && nanotime() >= deadline_ns) return false;
    futex_wait(&key_, 0, deadline_ns);
  }
  return true;
}

}  // namespace gmp::detail
