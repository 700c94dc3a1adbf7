// io/file.cpp — gmp::io file and generic-fd operations (gmp/io.hpp).
//
// Each call takes one of three paths:
//   - a goroutine on a P with a ring: the io_uring operation (ring_run);
//   - a goroutine with the blocking backend: the system call inside
//     gmp::blocking (sysmon may hand the P to another M meanwhile);
//   - a plain thread: the system call.
// Deadlines and cancel tokens apply to the io_uring path and to poll() on
// every path; a plain file read cannot be interrupted in the blocking path.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/clock.hpp"
#include "io/blocking.hpp"
#include "io/ring.hpp"

namespace gmp::io {

using detail::current_ring;
using detail::ring_run;
using detail::Ring;

namespace {

template <class T>
Result<T> as_result(long r, Op op) {
  if (r < 0) return Error{static_cast<int>(-r), op};
  return static_cast<T>(r);
}

Result<void> as_void(long r, Op op) {
  if (r < 0) return Error{static_cast<int>(-r), op};
  return {};
}

struct RwCtx {
  int fd;
  void* buf;
  const iovec* iov;
  unsigned n;
  off_t off;
};

}  // namespace

Result<std::size_t> read(int fd, void* buf, std::size_t n, OpOptions o) noexcept {
  if (Ring* r = current_ring()) {
    RwCtx c{fd, buf, nullptr, static_cast<unsigned>(n), -1};
    int res = ring_run(r, Op::kRead, o, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<RwCtx*>(a);
      io_uring_prep_read(s, c->fd, c->buf, c->n, static_cast<__u64>(-1));
    }, &c);
    return as_result<std::size_t>(res, Op::kRead);
  }
  return as_result<std::size_t>(detail::sys_read(fd, buf, n, o), Op::kRead);
}

Result<std::size_t> write(int fd, const void* buf, std::size_t n, OpOptions o) noexcept {
  if (Ring* r = current_ring()) {
    RwCtx c{fd, const_cast<void*>(buf), nullptr, static_cast<unsigned>(n), -1};
    int res = ring_run(r, Op::kWrite, o, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<RwCtx*>(a);
      io_uring_prep_write(s, c->fd, c->buf, c->n, static_cast<__u64>(-1));
    }, &c);
    return as_result<std::size_t>(res, Op::kWrite);
  }
  return as_result<std::size_t>(detail::sys_write(fd, buf, n, o), Op::kWrite);
}

Result<std::size_t> readv(int fd, const iovec* iov, int iovcnt, OpOptions o) noexcept {
  if (Ring* r = current_ring()) {
    RwCtx c{fd, nullptr, iov, static_cast<unsigned>(iovcnt), -1};
    int res = ring_run(r, Op::kReadv, o, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<RwCtx*>(a);
      io_uring_prep_readv(s, c->fd, c->iov, c->n, static_cast<__u64>(-1));
    }, &c);
    return as_result<std::size_t>(res, Op::kReadv);
  }
  return as_result<std::size_t>(detail::run_blocking([&] { return ::readv(fd, iov, iovcnt); }), Op::kReadv);
}

Result<std::size_t> writev(int fd, const iovec* iov, int iovcnt, OpOptions o) noexcept {
  if (Ring* r = current_ring()) {
    RwCtx c{fd, nullptr, iov, static_cast<unsigned>(iovcnt), -1};
    int res = ring_run(r, Op::kWritev, o, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<RwCtx*>(a);
      io_uring_prep_writev(s, c->fd, c->iov, c->n, static_cast<__u64>(-1));
    }, &c);
    return as_result<std::size_t>(res, Op::kWritev);
  }
  return as_result<std::size_t>(detail::run_blocking([&] { return ::writev(fd, iov, iovcnt); }), Op::kWritev);
}

Result<std::size_t> pread(int fd, void* buf, std::size_t n, off_t off, OpOptions o) noexcept {
  if (Ring* r = current_ring()) {
    RwCtx c{fd, buf, nullptr, static_cast<unsigned>(n), off};
    int res = ring_run(r, Op::kPread, o, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<RwCtx*>(a);
      io_uring_prep_read(s, c->fd, c->buf, c->n, static_cast<__u64>(c->off));
    }, &c);
    return as_result<std::size_t>(res, Op::kPread);
  }
  return as_result<std::size_t>(detail::run_blocking([&] { return ::pread(fd, buf, n, off); }), Op::kPread);
}

Result<std::size_t> pwrite(int fd, const void* buf, std::size_t n, off_t off, OpOptions o) noexcept {
  if (Ring* r = current_ring()) {
    RwCtx c{fd, const_cast<void*>(buf), nullptr, static_cast<unsigned>(n), off};
    int res = ring_run(r, Op::kPwrite, o, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<RwCtx*>(a);
      io_uring_prep_write(s, c->fd, c->buf, c->n, static_cast<__u64>(c->off));
    }, &c);
    return as_result<std::size_t>(res, Op::kPwrite);
  }
  return as_result<std::size_t>(detail::run_blocking([&] { return ::pwrite(fd, buf, n, off); }), Op::kPwrite);
}

Result<std::size_t> write_all(int fd, const void* buf, std::size_t n, OpOptions o) noexcept {
  std::size_t done = 0;
  const char* p = static_cast<const char*>(buf);
  while (done < n) {
    auto r = write(fd, p + done, n - done, o);
    if (!r) return r.error();
    if (r.value() == 0) return Error{EIO, Op::kWrite};
    done += r.value();
  }
  return done;
}

Result<int> openat(int dirfd, const char* path, int flags, mode_t mode, OpOptions o) noexcept {
  flags |= O_CLOEXEC;
  if (Ring* r = current_ring()) {
    struct C {
      int dirfd;
      const char* path;
      int flags;
      mode_t mode;
    } c{dirfd, path, flags, mode};
    int res = ring_run(r, Op::kOpenat, o, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<C*>(a);
      io_uring_prep_openat(s, c->dirfd, c->path, c->flags, c->mode);
    }, &c);
    return as_result<int>(res, Op::kOpenat);
  }
  return as_result<int>(detail::run_blocking([&] { return ::openat(dirfd, path, flags, mode); }), Op::kOpenat);
}

Result<int> open(const char* path, int flags, mode_t mode, OpOptions o) noexcept {
  return openat(AT_FDCWD, path, flags, mode, o);
}

Result<void> close(int fd) noexcept {
  if (Ring* r = current_ring()) {
    int res = ring_run(r, Op::kClose, {}, [](io_uring_sqe* s, void* a) {
      io_uring_prep_close(s, *static_cast<int*>(a));
    }, &fd);
    return as_void(res, Op::kClose);
  }
  // close never blocks for long on sockets and files we open: no hand-off.
  return as_void(::close(fd) < 0 ? -errno : 0, Op::kClose);
}

Result<void> fsync(int fd, bool datasync, OpOptions o) noexcept {
  if (Ring* r = current_ring()) {
    struct C {
      int fd;
      bool datasync;
    } c{fd, datasync};
    int res = ring_run(r, Op::kFsync, o, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<C*>(a);
      io_uring_prep_fsync(s, c->fd, c->datasync ? IORING_FSYNC_DATASYNC : 0);
    }, &c);
    return as_void(res, Op::kFsync);
  }
  return as_void(detail::run_blocking([&] { return datasync ? ::fdatasync(fd) : ::fsync(fd); }), Op::kFsync);
}

Result<void> statx(int dirfd, const char* path, int flags, unsigned mask, struct ::statx* out, OpOptions o) noexcept {
  if (Ring* r = current_ring()) {
    struct C {
      int dirfd;
      const char* path;
      int flags;
      unsigned mask;
      struct ::statx* out;
    } c{dirfd, path, flags, mask, out};
    int res = ring_run(r, Op::kStatx, o, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<C*>(a);
      io_uring_prep_statx(s, c->dirfd, c->path, c->flags, c->mask, c->out);
    }, &c);
    return as_void(res, Op::kStatx);
  }
  return as_void(detail::run_blocking([&] { return ::statx(dirfd, path, flags, mask, out); }), Op::kStatx);
}

Result<int> poll(int fd, short events, OpOptions o) noexcept {
  if (Ring* r = current_ring()) {
    struct C {
      int fd;
      short events;
    } c{fd, events};
    int res = ring_run(r, Op::kPoll, o, [](io_uring_sqe* s, void* a) {
      auto* c = static_cast<C*>(a);
      io_uring_prep_poll_add(s, c->fd, static_cast<unsigned>(c->events));
    }, &c);
    return as_result<int>(res, Op::kPoll);
  }
  return as_result<int>(detail::sys_wait_fd(fd, events, o), Op::kPoll);
}

Result<void> sleep_until(Deadline d, CancelToken* cancel) noexcept {
  if (Ring* r = current_ring()) {
    __kernel_timespec ts{};
    std::int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d.time_since_epoch()).count();
    if (ns <= detail::nanotime()) return {};
    ts.tv_sec = ns / 1'000'000'000;
    ts.tv_nsec = ns % 1'000'000'000;
    OpOptions o;
    o.cancel = cancel;
    int res = ring_run(r, Op::kTimeout, o, [](io_uring_sqe* s, void* a) {
      io_uring_prep_timeout(s, static_cast<__kernel_timespec*>(a), 0, IORING_TIMEOUT_ABS);
    }, &ts);
    if (res == -ETIME) return {};
    return as_void(res, Op::kTimeout);
  }
  OpOptions o;
  o.deadline = d;
  o.cancel = cancel;
  long res = detail::sys_wait_fd(-1, 0, o);
  if (res == -ETIMEDOUT) return {};
  return as_void(res, Op::kTimeout);
}

}  // namespace gmp::io
