// io/blocking.hpp — the blocking backend: each operation is its plain system
// call, run inside gmp::blocking() on a goroutine (so sysmon can hand the P
// to another M) and directly on a plain thread. Results are -errno.
#pragma once

#include <cerrno>
#include <cstddef>

#include "gmp/io.hpp"
#include "io/ring.hpp"
#include "sched/sched.hpp"

namespace gmp::detail {

// Runs fn (a system call returning -1/errno on failure) and returns its
// result or -errno.
template <class F>
long run_blocking(F&& fn) noexcept {
  long r;
  if (getg() != nullptr) {
    io_counters.fallbacks.fetch_add(1, std::memory_order_relaxed);
    r = gmp::blocking([&]() -> long {
      long x = static_cast<long>(fn());
      return x < 0 ? -errno : x;
    });
  } else {
    r = static_cast<long>(fn());
    if (r < 0) r = -errno;
  }
  return r;
}

// Waits until fd has `events` (fd < 0: just until the deadline), honouring
// o.deadline (-ETIMEDOUT) and o.cancel (-ECANCELED, noticed within 10 ms).
// Returns the revents.
long sys_wait_fd(int fd, short events, const io::OpOptions& o) noexcept;
long sys_read(int fd, void* buf, std::size_t n, const io::OpOptions& o) noexcept;
long sys_write(int fd, const void* buf, std::size_t n, const io::OpOptions& o) noexcept;

}  // namespace gmp::detail
