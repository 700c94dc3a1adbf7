// io/blocking.cpp — waits of the blocking backend (see blocking.hpp).
// Deadlines and cancellation are honoured by poll() in slices of at most
// kSliceMs, so a cancel from another goroutine is seen within one slice.
#include "io/blocking.hpp"

#include <poll.h>
#include <unistd.h>

#include "base/clock.hpp"

namespace gmp::detail {

namespace {
constexpr int kSliceMs = 10;

std::int64_t deadline_ns(const io::OpOptions& o) noexcept {
  if (o.deadline == io::kNoDeadline) return -1;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(o.deadline.time_since_epoch()).count();
}
}  // namespace

long sys_wait_fd(int fd, short events, const io::OpOptions& o) noexcept {
  const std::int64_t dl = deadline_ns(o);
  auto body = [&]() -> long {
    for (;;) {
      if (o.cancel != nullptr && o.cancel->cancelled()) return -ECANCELED;
      int slice = o.cancel != nullptr ? kSliceMs : -1;
      if (dl >= 0) {
        std::int64_t left = dl - nanotime();
        if (left <= 0) return -ETIMEDOUT;
        int ms = static_cast<int>((left + 999'999) / 1'000'000);
        if (slice < 0 || ms < slice) slice = ms;
      }
      if (fd < 0 && slice < 0) slice = kSliceMs;  // sleep with neither: wait for cancel
      pollfd p{fd, events, 0};
      int r = ::poll(fd >= 0 ? &p : nullptr, fd >= 0 ? 1 : 0, slice);
      if (r < 0 && errno != EINTR) return -errno;
      if (r > 0) return p.revents;
    }
  };
  if (getg() != nullptr) return blocking_known(body);
  return body();
}

long sys_read(int fd, void* buf, std::size_t n, const io::OpOptions& o) noexcept {
  if (o.deadline != io::kNoDeadline || o.cancel != nullptr) {
    long w = sys_wait_fd(fd, POLLIN, o);
    if (w < 0) return w;
  }
  return run_blocking([&] { return ::read(fd, buf, n); });
}

long sys_write(int fd, const void* buf, std::size_t n, const io::OpOptions& o) noexcept {
  if (o.deadline != io::kNoDeadline || o.cancel != nullptr) {
    long w = sys_wait_fd(fd, POLLOUT, o);
    if (w < 0) return w;
  }
  return run_blocking([&] { return ::write(fd, buf, n); });
}

}  // namespace gmp::detail
