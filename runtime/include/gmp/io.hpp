// gmp/io.hpp — blocking-looking file and syscall I/O for goroutines.
//
// Every call here parks the calling goroutine (never its M): the operation is
// queued on the io_uring of the goroutine's P, and its completion makes the
// goroutine runnable again on that P (docs/IO.md). Where io_uring is missing
// or switched off (GMP_IO=blocking, gmprun --io blocking, io_uring_disabled
// sysctl, ENOSYS/EPERM), the same calls run the plain system call inside
// gmp::blocking(), which lets sysmon hand the P to another M while the call
// blocks. Called from a plain thread (not a goroutine) they are plain system
// calls.
//
// Errors are values: Result<T> holds a T or an Error {errno, operation}.
// Deadlines are absolute steady_clock times (CLOCK_MONOTONIC); an operation
// still running at its deadline is cancelled and fails with ETIMEDOUT.
// A CancelToken lets another goroutine (or thread) cancel an operation in
// flight; it fails with ECANCELED. Either way the buffer and fd are released
// by the kernel before the call returns.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "gmp/status.hpp"

struct statx;

namespace gmp {

namespace io {

// Every operation of the I/O layer (the op table in runtime/src/io/ops.cpp is
// checked against this list at compile time). Add at the end only: the values
// are the `op` argument of the io_submit/io_complete probes.
enum class Op : std::uint8_t {
  kRead, kWrite, kReadv, kWritev, kPread, kPwrite, kOpenat, kClose, kFsync, kStatx,
  kAccept, kConnect, kRecv, kSend, kRecvmsg, kSendmsg, kShutdown, kPoll, kTimeout, kCancel,
  kCount
};
const char* op_name(Op op) noexcept;

struct Error {
  int err = 0;  // errno value (positive)
  Op op = Op::kCount;
  // A step that is not an io::Op ("socket", "bind", "listen", "parse
  // address"): named instead of op, so a busy port reads "bind: Address
  // already in use", not "accept: …". Static strings.
  const char* step = nullptr;
  const char* hint = nullptr;  // appended in parentheses when set
  // "recv: Connection reset by peer"
  std::string message() const;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::move(v)) {}  // NOLINT: implicit on purpose
  Result(Error e) : e_(e), ok_(false) {}  // NOLINT
  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  T& value() & noexcept { return v_; }
  T&& value() && noexcept { return std::move(v_); }
  const T& value() const& noexcept { return v_; }
  T* operator->() noexcept { return &v_; }
  T& operator*() noexcept { return v_; }
  const Error& error() const noexcept { return e_; }
  int err() const noexcept { return ok_ ? 0 : e_.err; }

 private:
  T v_{};
  Error e_{};
  bool ok_ = true;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : e_(e), ok_(false) {}  // NOLINT
  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const noexcept { return e_; }
  int err() const noexcept { return ok_ ? 0 : e_.err; }

 private:
  Error e_{};
  bool ok_ = true;
};

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;
inline constexpr Deadline kNoDeadline = Deadline::max();
inline Deadline after(std::chrono::nanoseconds d) noexcept { return Clock::now() + d; }

// Cancels at most one operation at a time: the one that names this token.
// cancel() may be called from any goroutine or thread; it is sticky (an
// operation started after it fails at once with ECANCELED) until reset().
class CancelToken {
 public:
  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }
  // REQUIRES: no operation in flight with this token.
  void reset() noexcept { cancelled_.store(false, std::memory_order_relaxed); }

  // Internal: the operation in flight (registered by the I/O layer).
  std::atomic<std::uint32_t> lock_{0};
  void* op_ = nullptr;      // guarded by lock_
  int ring_ = -1;           // guarded by lock_
  std::uint64_t seq_ = 0;   // guarded by lock_

 private:
  std::atomic<bool> cancelled_{false};
};

// Options every operation takes.
struct OpOptions {
  Deadline deadline = kNoDeadline;
  CancelToken* cancel = nullptr;
};

Result<std::size_t> read(int fd, void* buf, std::size_t n, OpOptions o = {}) noexcept;
Result<std::size_t> write(int fd, const void* buf, std::size_t n, OpOptions o = {}) noexcept;
Result<std::size_t> readv(int fd, const iovec* iov, int iovcnt, OpOptions o = {}) noexcept;
Result<std::size_t> writev(int fd, const iovec* iov, int iovcnt, OpOptions o = {}) noexcept;
Result<std::size_t> pread(int fd, void* buf, std::size_t n, off_t off, OpOptions o = {}) noexcept;
Result<std::size_t> pwrite(int fd, const void* buf, std::size_t n, off_t off, OpOptions o = {}) noexcept;
// Writes all n bytes (looping over short writes).
Result<std::size_t> write_all(int fd, const void* buf, std::size_t n, OpOptions o = {}) noexcept;
Result<int> openat(int dirfd, const char* path, int flags, mode_t mode = 0644, OpOptions o = {}) noexcept;
Result<int> open(const char* path, int flags, mode_t mode = 0644, OpOptions o = {}) noexcept;
Result<void> close(int fd) noexcept;
Result<void> fsync(int fd, bool datasync = false, OpOptions o = {}) noexcept;
Result<void> statx(int dirfd, const char* path, int flags, unsigned mask, struct ::statx* out,
                   OpOptions o = {}) noexcept;
// Waits until fd has one of `events` (POLLIN…); returns the revents.
Result<int> poll(int fd, short events, OpOptions o = {}) noexcept;
// Sleeps on the ring until the deadline (a timeout operation). Fails with
// ECANCELED if cancelled first.
Result<void> sleep_until(Deadline d, CancelToken* cancel = nullptr) noexcept;

// How the runtime does I/O: "io_uring" or "blocking", with the reason and the
// detected kernel features, for banners ("io_uring, one ring per P (1024 SQ /
// 8192 CQ); kernel: single-issuer defer-taskrun …; using: coop-taskrun …").
std::string backend_description();
// True when operations go through io_uring (false: the blocking fallback).
bool uring_enabled() noexcept;
// Chooses the backend for the next gmp::start: "io_uring" (the default; falls
// back when unavailable) or "blocking". Ok, or what is wrong.
// The environment variable GMP_IO=blocking does the same.
Status set_backend(const std::string& name);

// Counters since start (relaxed).
struct IoStats {
  std::uint64_t submitted = 0;     // SQEs handed to the kernel
  std::uint64_t completed = 0;     // operations completed
  std::uint64_t enters = 0;        // io_uring_enter calls to submit or reap
  std::uint64_t ring_waits = 0;    // idle Ms that waited in a ring
  std::uint64_t blocking_calls = 0;
  std::uint64_t handoffs = 0;      // Ps handed off by sysmon during gmp::blocking
  std::uint64_t fallbacks = 0;     // I/O operations run as blocking system calls (no ring)
  std::uint64_t migrated = 0;      // operations moved off a P that set_procs removed (run again on another)
  std::uint64_t in_flight = 0;     // operations submitted to a ring and not completed (now)
  // Reaps that found more completions than a ring's CQ holds (8192): the
  // kernel kept the rest on its overflow list (IORING_FEAT_NODROP), and they
  // were delivered from there. Back-pressure, not loss.
  std::uint64_t cq_overflows = 0;
};
IoStats io_stats() noexcept;

}  // namespace io

namespace detail {
// gmp::blocking's halves (sched/syscall.cpp). Return an opaque token.
std::uint64_t entersyscall() noexcept;
// For calls known to block (a poll wait): hands the P off at once if it has
// other work (Go's entersyscallblock).
std::uint64_t entersyscallblock() noexcept;
void exitsyscall(std::uint64_t token) noexcept;
template <class F>
decltype(auto) blocking_known(F&& fn) {
  struct Exit {
    std::uint64_t tok;
    ~Exit() { exitsyscall(tok); }
  } exit{entersyscallblock()};
  return std::forward<F>(fn)();
}
}  // namespace detail

// Runs fn, which may block in the kernel (a call io_uring cannot do), while
// letting the P run other goroutines: the P is marked "in syscall", and if fn
// lasts longer than a sysmon tick (~20 µs) while there is other work, sysmon
// hands the P to another M (Go's entersyscall/handoffp). On return the
// goroutine takes its P back if nobody took it, else any idle P, else waits
// for one. From a plain thread it just calls fn.
template <class F>
decltype(auto) blocking(F&& fn) {
  struct Exit {
    std::uint64_t tok;
    ~Exit() { detail::exitsyscall(tok); }
  } exit{detail::entersyscall()};
  return std::forward<F>(fn)();
}

}  // namespace gmp
