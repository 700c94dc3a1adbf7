// gmp/detail/short_lock.hpp — the word of the runtime's short lock (the lock
// inside channels, WaitGroup and the sync primitives' wait queues). Internal:
// public classes embed it; the protocol is in src/sync/spin_lock.hpp.
#pragma once

#include <atomic>
#include <cstdint>

namespace gmp::detail {

struct ShortLockWord {
  std::atomic<std::uint32_t> locked{0};    // 0 free, 1 held; the futex word
  std::atomic<std::uint32_t> sleepers{0};  // threads asleep, or about to sleep, on `locked`
};

}  // namespace gmp::detail
